/**
 * The `riskshare` CLI as its users run it: real ports on 127.0.0.1, a devnet started with one
 * command, governance, the regulator, and the compliance audit. Long-running commands (`devnet up`,
 * `node start`) and a sample of others run as child processes of the binary; the rest run the
 * program the binary runs (cli/index.ts's runCli: its exit status and output) in this process, as a
 * process per command cost a second or more of start-up each.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEMO_PHONE } from "../../scripts/devnet/options.ts";
import type { DevnetManifest } from "../../scripts/devnet/devnet.ts";
import { devAccount } from "../../scripts/devnet/consortium.ts";
import { startChain } from "../../scripts/devnet/chain.ts";
import { connectChain, connectContracts } from "../../node/chain/index.ts";
import { shippedWarninglists } from "../../node/identity/index.ts";
import { AUDIT_COLUMNS } from "../../cli/commands/audit.ts";
import { cli } from "./support/cli.ts";
import { runCliCaptured } from "../../cli/index.ts";
import { artifactPath, launchBrowser } from "./support/browser.ts";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "riskshare.js");

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `riskshare …args` in this process to completion: the binary's program, with this environment and `env`. */
async function riskshare(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const { status, stdout, stderr } = await runCliCaptured(args, { ...process.env, ...env });
  return { status, stdout, stderr };
}

/** Runs `riskshare …args` as a child process of the binary to completion. */
function binary(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
    child.once("exit", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Like {@link riskshare}, but expects success and parses its one JSON document. */
async function json<T = any>(args: string[], env: NodeJS.ProcessEnv = {}): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const run = await riskshare(["--json", ...args], env);
  expect(run.status, `riskshare ${args.join(" ")}\n${run.stdout}\n${run.stderr}`).to.equal(0);
  return JSON.parse(run.stdout) as T;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts a long-running `riskshare --json …` and resolves with its first JSON document. */
function startLongRunning<T>(args: string[]): Promise<{ child: ChildProcess; document: T; stderr: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, "--json", ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true" } });
    let stdout = "";
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      let document: T & { error?: unknown };
      try {
        document = JSON.parse(stdout) as T & { error?: unknown };
      } catch {
        return; // not complete yet
      }
      if (document.error !== undefined) reject(new Error(`riskshare ${args.join(" ")} failed: ${stdout}\n${stderr}`));
      else resolve({ child, document, stderr: () => stderr });
    });
    child.once("exit", (status) => reject(new Error(`riskshare ${args.join(" ")} exited with ${status}:\n${stderr}`)));
  });
}

describe("the riskshare CLI, end to end", function () {
  this.timeout(300_000);
  let baseDir: string;
  /** The passphrase file `init --passphrase-file` records in each hand-made data dir's config (0600). */
  let passphraseFile: string;
  /** Hand-made data dirs: the dev-only scrypt cost, so each command unlocks in milliseconds. */
  const LIGHT_KDF = { RISKSHARE_KDF: "light" };

  before(async () => {
    baseDir = await mkdtemp(join(tmpdir(), "riskshare-cli-"));
    passphraseFile = join(baseDir, "passphrase");
    await writeFile(passphraseFile, "cli test passphrase\n", { mode: 0o600 });
  });
  after(async () => {
    await rm(baseDir, { recursive: true, force: true });
  });

  it("answers --help on every command with examples, and exits 2 on bad usage with a coded one-line error", async () => {
    const { buildProgram } = await import("../../cli/index.ts");
    interface Node { name(): string; commands: readonly Node[]; configureOutput(o: { writeOut: (s: string) => void; writeErr: (s: string) => void }): unknown; outputHelp(): void }
    const leaves: Array<{ path: string[]; command: Node }> = [];
    const walk = (command: Node, path: string[]) => {
      if (command.commands.length === 0 && path.length > 0) leaves.push({ path, command });
      for (const sub of command.commands) if (sub.name() !== "help") walk(sub, [...path, sub.name()]);
    };
    walk(buildProgram({ stdout: process.stdout, stderr: process.stderr, env: {}, isTTY: false }) as unknown as Node, []);
    expect(leaves.length).to.be.greaterThan(20);
    // Every leaf's help, examples included, from the program the binary runs (commander's own
    // outputHelp), and a few through the binary itself: a process per command would cost a minute
    // of CPU for what these prove.
    for (const { path, command } of leaves) {
      let text = "";
      command.configureOutput({ writeOut: (chunk) => void (text += chunk), writeErr: () => undefined });
      command.outputHelp();
      expect(text, path.join(" ")).to.match(new RegExp(`Usage: riskshare ${path.join(" ")}`));
      expect(text, path.join(" ")).to.match(/Examples?:/);
    }
    const sampled = [leaves[0]!.path, leaves[Math.floor(leaves.length / 2)]!.path, leaves[leaves.length - 1]!.path];
    const helps = await Promise.all(sampled.map((command) => binary([...command, "--help"])));
    sampled.forEach((command, i) => {
      expect(helps[i]!.status, command.join(" ")).to.equal(0);
      expect(helps[i]!.stdout, command.join(" ")).to.match(/Usage: riskshare/);
      expect(helps[i]!.stdout, command.join(" ")).to.match(/Examples?:/);
    });
    const bad = await binary(["member", "vote", "not-a-number", "--data-dir", baseDir]);
    expect(bad.status).to.equal(2);
    expect(bad.stderr.trim().split("\n")).to.have.length(1);
    expect(bad.stderr).to.match(/^error E_USAGE: /);
    const badJson = await binary(["--json", "query", "--type", "phone"]);
    expect(badJson.status).to.equal(2);
    expect(JSON.parse(badJson.stdout).error.code).to.equal("E_USAGE");
  });

  it("founds a consortium by hand: init prints each founder's OPRF public key, deploy seeds it on chain, and both founders are Active members", async () => {
    const chain = await startChain({ kind: "hardhat" });
    try {
      const [first, second] = [join(baseDir, "founder-1"), join(baseDir, "founder-2")];
      const one = await json(["--data-dir", first, "init", "--name", "Founder One", "--rpc", chain.rpcUrl, "--passphrase-file", passphraseFile], { RISKSHARE_IMPORT_KEY: devAccount(5).privateKey, ...LIGHT_KDF });
      const two = await json(["--data-dir", second, "init", "--name", "Founder Two", "--rpc", chain.rpcUrl, "--passphrase-file", passphraseFile], { RISKSHARE_IMPORT_KEY: devAccount(6).privateKey, ...LIGHT_KDF });
      expect(one.address).to.equal(devAccount(5).address);
      for (const founder of [one, two]) expect(founder.oprfKey, founder.name).to.match(/^0x[0-9a-f]{64}$/);
      expect(one.oprfKey).to.not.equal(two.oprfKey);
      const again = await riskshare(["--data-dir", first, "init", "--name", "x"]);
      expect(again.status).to.equal(1);
      expect(again.stderr).to.match(/^error E_CONFIG: .*already initialised/);
      for (const founder of ["nonsense", `${one.address}=Founder One,${one.peerId}`]) {
        const badFounder = await riskshare(["--data-dir", first, "deploy", "--founder", founder]);
        expect(badFounder.status, `--founder ${founder} (no OPRF key)`).to.equal(2);
        expect(badFounder.stderr, founder).to.match(/^error E_USAGE: --founder must look like 0xADDRESS=NAME,PEERID,OPRFKEY/);
      }
      const founders = ["--founder", `${one.address}=Founder One,${one.peerId},${one.oprfKey}`, "--founder", `${two.address}=Founder Two,${two.peerId},${two.oprfKey}`];
      for (const [flag, value, code] of [["--timelock-delay", "0s", "E_BAD_INPUT"], ["--seed-window", "a month", "E_USAGE"], ["--pool-percent", "101", "E_USAGE"]] as const) {
        const refused = await riskshare(["--data-dir", first, "deploy", ...founders, flag, value]);
        expect(refused.status, `${flag} ${value}`).to.equal(2);
        expect(refused.stderr, `${flag} ${value}`).to.match(new RegExp(`^error ${code}: ${flag}`));
      }
      const deployed = await json(["--data-dir", first, "deploy", ...founders, "--quorum", "2/3", "--timelock-delay", "36h", "--seed-window", "7d", "--starting-credits", "5000", "--pool-percent", "5"]);
      expect(deployed.addresses.registry).to.match(/^0x[0-9a-fA-F]{40}$/);
      expect(deployed.timelockDelaySeconds).to.equal("129600");
      expect(deployed.categories.map((c: { name: string }) => c.name)).to.include("fraud_confirmed");
      const members = await json(["--data-dir", second, "member", "list", "--registry", deployed.addresses.registry]);
      expect(members.members.map((m: { name: string; status: string }) => [m.name, m.status])).to.deep.equal([["Founder One", "Active"], ["Founder Two", "Active"]]);
      expect(members.members[1].peerId).to.equal(two.peerId);
      const connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
      try {
        const { registry, ledger } = connectContracts(deployed.addresses, connection.provider);
        expect(await ledger.creditParams(), "the credit flags given, the defaults for the rest").to.deep.equal([5000n, 100_000n, 5n, 20n, 10n]);
        for (const founder of [one, two]) expect(await registry.oprfKeyOf(founder.address, 1), `${founder.name}'s OPRF key of epoch 1 on chain`).to.equal(founder.oprfKey);
        expect(await registry.timelockDelay()).to.equal(36n * 3600n);
        expect(await registry.warninglistHash(), "deploy pins the warninglists this build ships").to.equal(shippedWarninglists().hash);
        const deployedAt = (await connection.provider.getBlock(deployed.deployBlock))!.timestamp;
        expect(await registry.seedingEndsAt(), "the seeding window as given").to.equal(BigInt(deployedAt) + 7n * 86_400n);
      } finally {
        connection.provider.destroy();
      }
    } finally {
      await chain.stop();
    }
  });

  describe("on a devnet (anvil: a plain JSON-RPC chain mining a block a second)", () => {
    let devnet: { child: ChildProcess; document: DevnetManifest; stderr: () => string };
    let manifest: DevnetManifest;
    const dir = () => join(baseDir, "devnet");
    const member = (name: string) => manifest.members.find((m) => m.name === name)!;

    before(async () => {
      devnet = await startLongRunning<DevnetManifest>(["devnet", "up", "--members", "3", "--dir", dir(), "--chain", "anvil", "--demo", "--rows", "100"]);
      manifest = devnet.document;
    });

    after(async () => {
      if (devnet?.child.exitCode === null) {
        const exited = new Promise((resolve) => devnet.child.once("exit", resolve));
        devnet.child.kill("SIGTERM");
        await exited;
      }
    });

    it("writes devnet.json with the chain, contracts and each member's node, API and token", () => {
      expect(manifest.rpc).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(manifest.members.map((m) => m.name)).to.deep.equal(["Bank A", "Bank B", "Bank C"]);
      for (const m of manifest.members) {
        expect(m.api, m.name).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(alive(m.pid), m.name).to.equal(true);
        expect(m.token.length, m.name).to.be.greaterThan(20);
      }
    });

    it("catches the demo's fraudster from another bank, with each provider's answer", async () => {
      const answer = await json(["--data-dir", member("Bank B").dataDir, "query", "--type", "phone", "--value", "138 0013 8000"]);
      expect(answer.verdict).to.equal("hit");
      expect(answer.items[0].hits[0]).to.include({ providerName: "Bank A", category: "fraud_confirmed", level: 5 });
    });

    it("shows how a running node is: its outbox, last batch, writer, chain lag, peers and key epochs; and says no node runs where none does", async () => {
      // In this process: the command is a thin client of the node's API, and a spawn costs seconds.
      const a = member("Bank A");
      const run = await cli("--data-dir", a.dataDir, "--json", "node", "status");
      expect(run.status, run.stderr).to.equal(0);
      const status = run.json();
      expect(status.status, status.reasons.join(" ")).to.not.equal("refusing");
      expect(status.ledger.writer).to.deep.equal({ state: "writing" });
      expect(status.keyEpoch).to.deep.equal({ answering: 1, onChain: 1 });
      expect(status.import).to.deep.equal({ inProgress: false });
      expect(status.chain.headBlock).to.be.at.least(status.chain.syncedBlock);
      expect(status.peers.connected).to.be.at.least(1);
      const text = await cli("--data-dir", a.dataDir, "node", "status");
      expect(text.status, text.stderr).to.equal(0);
      for (const label of ["outbox", "last batch", "writer     this node", "chain", "peers", "key epoch  answering under 1, on chain 1", "import     none in progress"]) expect(text.stdout, label).to.contain(label);
      const none = await cli("--data-dir", join(baseDir, "no-node-here"), "node", "status");
      expect(none.status).to.equal(1);
      expect(none.stderr).to.match(/^error E_NODE_NOT_READY: no node is running/);
    });

    it("shows the queries in the audit, lets the querier's officer open its commitment from the sealed journal, and verifies the ledger", async () => {
      const b = member("Bank B");
      const asked = await json(["--data-dir", b.dataDir, "query", "--type", "phone", "--value", DEMO_PHONE, "--provider", member("Bank A").address]);
      const queryId = asked.providers[0].queryId as string;
      let records: Array<{ queryId: string; querier: string; provider: string; outcomeName: string }> = [];
      for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
        records = (await json(["--data-dir", manifest.regulator.dataDir, "audit", "queries", "--querier", b.address])).records;
        if (records.some((r) => r.queryId === queryId)) break;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      const record = records.find((r) => r.queryId === queryId);
      expect(record, "the query is on chain").to.not.equal(undefined);
      expect(record).to.include({ querier: b.address, provider: member("Bank A").address, outcomeName: "Answered", kind: 0, keyEpoch: 1, itemCount: 1 });
      expect(record, "no hit count reaches the chain").to.not.have.property("hitCount");

      // The journal sealed the identifiers and blinds under keys/journal.key: the officer re-derives the
      // blinded elements and proves them against the on-chain commitment.
      const opened = await json(["--data-dir", b.dataDir, "audit", "open", queryId]);
      expect(opened.ok, JSON.stringify(opened)).to.equal(true);
      expect(opened.checks).to.deep.equal({ commitmentOpens: true, itemCountMatches: true, kindMatches: true, queryIdMatches: true });
      expect(opened).to.include({ kind: "Evaluate", provider: member("Bank A").address, padding: 0 });
      expect(opened.items).to.deep.equal([{ type: "phone", value: "+8613800138000" }]);

      const verified = await json(["--data-dir", manifest.regulator.dataDir, "audit", "verify"]);
      expect(verified).to.include({ ok: true });
      expect(verified.records).to.be.greaterThan(0);
      expect(verified.answers.compared, "a regulator holds no journal").to.equal(false);
      expect(verified.answers.reason).to.match(/no query journal/);
      const plain = await riskshare(["--data-dir", manifest.regulator.dataDir, "audit", "verify"]);
      expect(plain.stdout).to.match(/answers NOT compared with the ledger: this data dir holds no query journal/);
      // The querier's own data dir: its running node hands over the answers its providers signed, each held against its record.
      const byQuerier = await json(["--data-dir", b.dataDir, "audit", "verify"]);
      expect(byQuerier, JSON.stringify(byQuerier.failures)).to.include({ ok: true });
      expect(byQuerier.answers.compared).to.equal(true);
      expect(byQuerier.answers.held, "the Evaluate and the Fetch of each of Bank B's answered lookups").to.be.greaterThanOrEqual(2);

      const csv = await riskshare(["--data-dir", manifest.regulator.dataDir, "audit", "report", "--format", "csv"]);
      expect(csv.status).to.equal(0);
      const [header, ...rows] = csv.stdout.trim().split("\n");
      expect(header!.split(",").slice(0, 8)).to.deep.equal(["member", "address", "queries_made", "answered", "denied", "served", "items_evaluated", "fetches"]);
      expect(header, "no hit counts or hit rate").to.not.match(/hit/);
      const bankB = rows.find((row) => row.startsWith("Bank B,"))!.split(",");
      expect(Number(bankB[2])).to.be.greaterThanOrEqual(2);
      expect(Number(bankB[6]), "items of Bank B's answered Evaluates").to.be.greaterThanOrEqual(2);
      expect(Number(bankB[7]), "Bank B's answered fetches: one per hit at Bank A").to.be.greaterThanOrEqual(2);

      const queriesCsv = await riskshare(["--data-dir", manifest.regulator.dataDir, "audit", "queries", "--format", "csv", "--category", "fraud_confirmed"]);
      expect(queriesCsv.stdout.split("\n")[0]).to.equal("time,block,query_id,seq,querier,provider,categories,kind,items,key_epoch,outcome,deadline,items_commitment");
      expect(AUDIT_COLUMNS.join(",")).to.equal(queriesCsv.stdout.split("\n")[0]);
    });

    it("lets a regulator audit with only --rpc and the registry address, suspend a member for a while and propose its removal, but refuses its other writes", async () => {
      const outsiderDir = join(baseDir, "no-data-dir");
      const audit = await json(["--data-dir", outsiderDir, "audit", "queries", "--rpc", manifest.rpc, "--registry", manifest.contracts.registry]);
      expect(audit.records.length).to.be.greaterThan(0);

      const c = member("Bank C");
      const suspended = await json(["--data-dir", manifest.regulator.dataDir, "member", "suspend", c.address]);
      expect(suspended).to.include({ suspended: true, by: "regulator" });
      expect(suspended.until, "the registry's longest suspension by default").to.be.a("number");
      const members = await json(["--data-dir", manifest.regulator.dataDir, "member", "list"]);
      expect(members.members.find((m: { address: string }) => m.address === c.address).status).to.equal("Suspended");

      const removal = await json(["--data-dir", manifest.regulator.dataDir, "member", "remove", c.address]);
      expect(removal.proposalId, "a regulator may open a Remove proposal (without a vote)").to.be.a("string");
      const write = await riskshare(["--data-dir", manifest.regulator.dataDir, "member", "reinstate", c.address]);
      expect(write.status).to.equal(1);
      expect(write.stderr).to.match(/^error E_NOT_AUTHORIZED: .*RegulatorMayNotPropose/);
    });

    it("admits a fourth member by vote with no secret handed over: it joins with the registry address and its own OPRF key, shares and queries, and another member finds its entry", async () => {
      const d = join(baseDir, "bank-d");
      const key = devAccount(8).privateKey;
      const init = await json(["--data-dir", d, "init", "--name", "Bank D", "--rpc", manifest.rpc, "--registry", manifest.contracts.registry, "--listen", "/ip4/127.0.0.1/tcp/0", "--passphrase-file", passphraseFile], { RISKSHARE_IMPORT_KEY: key, ...LIGHT_KDF });
      const [a, b] = [member("Bank A"), member("Bank B")];
      expect(init.oprfKey).to.match(/^0x[0-9a-f]{64}$/);
      // Bank D signs its own admission request; Bank A proposes it, Bank B votes and executes.
      const requestFile = join(baseDir, "bank-d-request.json");
      const request = await json(["--data-dir", d, "member", "request", "--name", "Bank D", "--out", requestFile]);
      expect(request).to.include({ account: init.address, oprfKey: init.oprfKey, registry: manifest.contracts.registry });
      const proposal = await json(["--data-dir", a.dataDir, "member", "admit", "--request", requestFile]);
      await json(["--data-dir", b.dataDir, "member", "vote", String(proposal.proposalId)]);
      await json(["--data-dir", b.dataDir, "member", "execute", String(proposal.proposalId)]);
      const shown = await json(["--data-dir", a.dataDir, "proposal", "show", String(proposal.proposalId)]);
      expect(shown.state).to.equal("executed");
      expect(shown.voters).to.have.members([a.address, b.address]);
      expect(shown.args).to.include({ account: init.address, peerId: init.peerId, publicKey: request.publicKey, signature: request.signature });
      // In force after the devnet's admission delay, which the dev chain's clock skips; Bank D activates itself.
      const connection = await connectChain({ rpcUrl: manifest.rpc, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
      try {
        const delay = await connectContracts(manifest.contracts, connection.provider).registry.admissionDelay();
        await connection.provider.send("evm_increaseTime", [Number(delay)]);
        await connection.provider.send("evm_mine", []);
      } finally {
        connection.provider.destroy();
      }
      expect(await json(["--data-dir", d, "member", "activate", init.address])).to.include({ activated: true });

      // First start: nothing to fetch from anyone. The node answers under the OPRF key its own init made,
      // the one the registry admitted it with. It runs from here on: its lists change while it serves.
      // A standby copy of Bank D's data dir, made before its node runs: it falls behind once Bank D lands batches.
      const standby = join(baseDir, "bank-d-standby");
      await cp(d, standby, { recursive: true });
      let node = await startLongRunning<{ pid: number; apiUrl: string }>(["--data-dir", d, "node", "start", "--connect", ...a.multiaddrs]);
      const api = async (path: string, scope: "read" | "check" | "admin", init: RequestInit = {}) =>
        fetch(`${node.document.apiUrl}${path}`, { ...init, headers: { ...init.headers, authorization: `Bearer ${(await riskshareToken(d, scope)).trim()}` } });
      try {
        const health = await (await api("/v1/health", "read")).json() as { status: string; reasons: string[] };
        expect(health.reasons.join(" "), node.stderr()).to.not.contain("OPRF key");
        expect(health.status, health.reasons.join(" ")).to.not.equal("refusing");

        // Each list command is handed to the running node (the store has one writer: on the store itself they would fail).
        const list = join(baseDir, "bank-d.csv");
        await writeFile(list, `type,value,category,level,reason,reported_at\n${Array.from({ length: 10 }, (_, i) => `merchant_id,M-${i + 1},fraud_confirmed,2,R11,2026-05-01\n`).join("")}phone,not-a-phone,fraud_confirmed,2,R11,2026-05-01\n`);
        const imported = await json(["--data-dir", d, "list", "import", list]);
        expect(imported).to.include({ imported: 10, rejected: 1 });
        expect(imported.errors[0]).to.include({ line: 12, field: "value" });
        const published = await riskshare(["--data-dir", d, "list", "publish", "--category", "fraud_confirmed"]);
        expect(published.status, published.stderr).to.equal(0);
        expect(published.stdout.split("\n")[0]).to.match(/^CATEGORY\s+KEY EPOCH\s+LIVE ENTRIES\s+FILTER HASH\s+TX/);
        expect(published.stdout).to.match(/fraud_confirmed\s+1\s+10\s+0x[0-9a-f]{64}\s+0x[0-9a-f]{64}/);

        const answer = await json(["--data-dir", d, "query", "--type", "phone", "--value", DEMO_PHONE, "--category", "fraud_confirmed"]);
        expect(answer.verdict, JSON.stringify(answer.providers)).to.equal("hit");
        expect(answer.items[0].hits[0]).to.include({ providerName: "Bank A", category: "fraud_confirmed", level: 5 });
        const findM7 = ["--data-dir", a.dataDir, "query", "--type", "merchant_id", "--value", "M-7", "--provider", init.address, "--category", "fraud_confirmed"];
        const found = await json(findM7);
        expect(found.verdict, JSON.stringify(found.providers)).to.equal("hit");
        expect(found.items[0].hits[0]).to.include({ providerName: "Bank D", category: "fraud_confirmed", level: 2, reason: "R11" });

        // A long import: Bank A's lookups are answered between its batches; the read-only token may watch it, not send one.
        const rows = 20_000;
        const big = join(baseDir, "bank-d-big.csv");
        await writeFile(big, `type,value,category,level,reason,reported_at\n${Array.from({ length: rows }, (_, i) => `merchant_id,BIG-${i},fraud_confirmed,3,R12,2026-06-01\n`).join("")}`);
        const refused = await api("/v1/entries", "read", { method: "POST", headers: { "content-type": "text/csv" }, body: "type,value\n" });
        expect(refused.status).to.equal(403);
        expect((await refused.json() as { error: { code: string } }).error.code).to.equal("E_API_SCOPE");
        const importing = riskshare(["--json", "--data-dir", d, "list", "import", big]);
        const progress = async () => ((await (await api("/v1/imports", "read")).json()) as { current: { rows: number } | null }).current;
        let current = await progress();
        for (const until = Date.now() + 120_000; Date.now() < until && (current === null || current.rows < 5_000);) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          current = await progress();
        }
        expect(current?.rows ?? 0, "the node reports the import's progress").to.be.within(5_000, rows - 1);
        // (A miss: a fetch now would find buckets sized by the snapshot of 10 entries, refused as E_SNAPSHOT_STALE until the node publishes.)
        const during = await json(["--data-dir", a.dataDir, "query", "--type", "merchant_id", "--value", "NOT-LISTED", "--provider", init.address, "--category", "fraud_confirmed"]);
        expect(during.providers[0], `answered between batches: ${JSON.stringify(during.providers)}`).to.include({ name: "Bank D", status: "answered" });
        expect(during.verdict).to.equal("miss");
        expect(await progress(), "still importing after the lookup").to.not.equal(null);
        const status = await cli("--data-dir", d, "--json", "node", "status");
        expect(status.json().import, "node status shows the import").to.deep.include({ inProgress: true, source: "bank-d-big.csv" });

        // SIGKILL the node mid-import: the CLI says so; once it runs again, the same command resumes after the last committed batch.
        node.child.kill("SIGKILL");
        const cut = await importing;
        expect(cut.status).to.not.equal(0);
        expect(JSON.parse(cut.stdout).error.code).to.equal("E_NODE_NOT_READY");
        node = await startLongRunning<{ pid: number; apiUrl: string }>(["--data-dir", d, "node", "start", "--connect", ...a.multiaddrs]);
        const resumed = await json(["--data-dir", d, "list", "import", big]);
        expect(resumed.resumedAfterLine, "resumed after the committed batches").to.be.within(5_001, rows);
        expect(resumed).to.include({ rows, imported: rows, rejected: 0 });
        // What a clean import would leave: importing the file afresh finds every row already stored, identically.
        const again = await json(["--data-dir", d, "list", "import", big, "--no-resume"]);
        expect(again).to.include({ rows, imported: 0, updated: 0, unchanged: rows });
        const stats = await json(["--data-dir", d, "list", "stats"]);
        expect(stats.perCategory.find((c: { name: string }) => c.name === "fraud_confirmed").entries).to.equal(rows + 10);
        // The list outgrew the bucket size its snapshot set: the node published the new one by itself.
        const chain = await connectChain({ rpcUrl: manifest.rpc, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
        try {
          const { contributions } = connectContracts(manifest.contracts, chain.provider);
          let live = 0n;
          for (const until = Date.now() + 30_000; Date.now() < until && live !== BigInt(rows + 10); await new Promise((r) => setTimeout(r, 200))) {
            live = (await contributions.latest(init.address, 1)).liveCount;
          }
          expect(live, "the snapshot the node published after the import").to.equal(BigInt(rows + 10));
        } finally {
          chain.provider.destroy();
        }

        // Delisting through the node: audited, and gone from its own check at once.
        expect(await json(["--data-dir", d, "list", "check", "--type", "merchant_id", "--value", "M-7"])).to.include({ hit: true, reason: "R11" });
        expect(await json(["--data-dir", d, "list", "remove", "--type", "merchant_id", "--value", "M-7", "--reason", "appeal_upheld"])).to.include({ removed: true, category: "fraud_confirmed" });
        expect(await json(["--data-dir", d, "list", "check", "--type", "merchant_id", "--value", "M-7"])).to.deep.equal({ hit: false });
        const exported = await riskshare(["--data-dir", d, "list", "export"]);
        expect(exported.status, exported.stderr).to.equal(0);
        expect(exported.stdout.trim().split("\n"), "header + every live entry").to.have.length(1 + rows + 9);
      } finally {
        await stop(node.child);
      }
      // Bank D served lookups and landed them at its stop; the standby takes over from the chain's last batch (in this process: no node runs).
      const takeOver = await cli("--data-dir", standby, "--json", "node", "take-over");
      expect(takeOver.status, takeOver.stderr + takeOver.stdout).to.equal(0);
      expect(takeOver.json()).to.deep.include({ address: init.address, previousSeq: null, landedBatches: 0, requeuedRecords: 0, droppedRecords: 0, backlog: 0 });
      expect(Number(takeOver.json().chainSeq), "Bank D's batches").to.be.greaterThan(0);
    });

    it("serves the read-only console: its pages show the audit's numbers, filter, page and export the audit's CSV, verify the ledger, list the proposals, in regulator mode too; nothing without the token", async () => {
      // A few hundred queries through the members' own APIs (of Banks A and B: Bank C may be suspended by now, and its node would send none).
      for (const m of [member("Bank A"), member("Bank B")]) {
        await Promise.all(Array.from({ length: 4 }, async (_, lane) => {
          for (let i = lane; i < 110; i += 4) {
            await fetch(`${m.api}/v1/check`, {
              method: "POST", headers: { authorization: `Bearer ${m.token}`, "content-type": "application/json" },
              body: JSON.stringify({ items: [{ type: "phone", value: `13900${m.name.at(-1) === "A" ? 1 : 2}${String(i).padStart(5, "0")}` }] }),
            });
          }
        }));
      }
      const regulator = manifest.regulator.dataDir;
      const started = await startLongRunning<{ url: string; openUrl: string; tokenFile: string; index: string }>(["--data-dir", regulator, "console", "--port", "0"]);
      const regulatorDir = join(baseDir, "regulator-console");
      const tokenFile = join(baseDir, "regulator-console.token");
      const bare = await startLongRunning<{ url: string; openUrl: string; tokenFile: string }>(["--data-dir", regulatorDir, "console", "--port", "0", "--rpc", manifest.rpc, "--registry", manifest.contracts.registry, "--token-file", tokenFile]);
      const browser = await launchBrowser();
      try {
        const { url, openUrl } = started.document;
        expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(started.document.index.startsWith(join(regulator, "console"))).to.equal(true);
        // No token, no console: a stable code, for a browser and for a script.
        const refused = await fetch(`${url}/`);
        expect(refused.status).to.equal(401);
        expect(((await refused.json()) as { error: { code: string } }).error.code).to.equal("E_CONSOLE_TOKEN");
        expect(refused.headers.get("content-security-policy")).to.match(/^default-src 'none'; script-src 'self'; style-src 'self';/);
        const wrong = await fetch(`${url}/api/status`, { headers: { authorization: "Bearer not-the-token" } });
        expect(wrong.status).to.equal(401);
        const page = await (await browser.newContext()).newPage();
        const elsewhere: string[] = [];
        const blocked: string[] = [];
        page.on("request", (request) => { if (!request.url().startsWith(`${url}/`)) elsewhere.push(request.url()); });
        page.on("console", (message) => { if (message.type() === "error") blocked.push(message.text()); });
        const denied = await page.goto(`${url}/ledger`);
        expect(denied!.status()).to.equal(401);
        expect(await page.textContent("h1")).to.equal("E_CONSOLE_TOKEN");

        // The index follows the chain: wait until the overview shows what `audit report` prints.
        type ReportRow = { address: string; queriesMade: number; answered: number; denied: number; served: number; itemsEvaluated: number; fetches: number };
        const columns = ["queries made", "answered", "denied", "served", "items evaluated", "fetches"] as const;
        const fields = ["queriesMade", "answered", "denied", "served", "itemsEvaluated", "fetches"] as const;
        await page.goto(openUrl);
        expect(page.url(), "the token leaves the address bar once the cookie is set").to.equal(`${url}/`);
        let report: { members: ReportRow[] } = { members: [] };
        let shown: Record<string, number[]> = {};
        const expected = () => Object.fromEntries(report.members.map((r) => [r.address, fields.map((f) => r[f])]));
        for (const deadline = Date.now() + 60_000; ;) {
          report = await json(["--data-dir", regulator, "audit", "report"]);
          await page.goto(`${url}/`);
          shown = await page.$$eval("table[data-table=members] tbody tr", (rows, cols) => Object.fromEntries(rows.map((tr) => [
            tr.getAttribute("data-key")!, cols.map((c) => Number(tr.querySelector(`td[data-col="${c}"]`)!.textContent)),
          ])), columns as unknown as string[]);
          if (JSON.stringify(shown) === JSON.stringify(expected()) || Date.now() > deadline) break;
          await new Promise((resolve) => setTimeout(resolve, 500));
        }
        expect(shown, "the overview's members table is `audit report`").to.deep.equal(expected());
        const made = report.members.reduce((sum, r) => sum + r.queriesMade, 0);
        expect(made, "a few hundred queries").to.be.at.least(220);
        const days = await page.$$eval("table[data-table=days] tbody tr td[data-col='requests made']", (cells) => cells.reduce((sum, c) => sum + Number(c.textContent), 0));
        expect(days, "the per-day table adds up to the requests made").to.equal(made);
        await page.waitForSelector("#daily-chart canvas");
        expect(await page.textContent("#no-hits")).to.match(/No hit figures/);
        await page.screenshot({ path: artifactPath("console", "overview.png"), fullPage: true });
        const outliersCsv = await (await page.request.get(`${url}${await page.getAttribute("a[data-csv=outliers]", "href")}`)).text();
        expect(outliersCsv.split("\n")[0]).to.equal("day,querier,items,trailing median,history days");
        // Credits: every evaluated item moved one credit from its querier to its provider, as the records say.
        const flows = await page.$$eval("table[data-table=credit-flows] tbody tr td[data-col=credits]", (cells) => cells.reduce((sum, c) => sum + Number(c.textContent), 0));
        expect(flows, "credit flows = items evaluated").to.equal(report.members.reduce((sum, r) => sum + r.itemsEvaluated, 0));
        const balances = await page.$$eval("table[data-table=credits] tbody tr td[data-col=balance]", (cells) => cells.map((c) => c.textContent));
        expect(balances, "a balance per member").to.have.length(report.members.length);
        expect(await page.textContent("[data-table=feedback-reporters]")).to.match(/no feedback reported on chain in this range/);

        // Ledger: filters in the URL, pages of 50 newest first, the CSV is `audit queries --format csv` for the same filter.
        const b = member("Bank B");
        const queried = (await json(["--data-dir", regulator, "audit", "queries", "--querier", b.address])).records as unknown[];
        await page.goto(`${url}/ledger?querier=${b.address}&category=fraud_confirmed`);
        const pageOf = await page.textContent("#page-of");
        await page.screenshot({ path: artifactPath("console", "ledger.png"), fullPage: true });
        const filtered = (await json(["--data-dir", regulator, "audit", "queries", "--querier", b.address, "--category", "fraud_confirmed"])).records as unknown[];
        expect(pageOf).to.equal(`page 1 of ${Math.ceil(filtered.length / 50)}`);
        expect(await page.$$eval("table[data-table=records] tbody tr", (rows) => rows.length)).to.equal(Math.min(50, filtered.length));
        await page.click("a[rel=next]");
        expect(new URL(page.url()).searchParams.get("page")).to.equal("2");
        expect(new URL(page.url()).searchParams.get("querier")).to.equal(b.address);
        expect(await page.textContent("#page-of")).to.match(/^page 2 of /);
        const csv = await (await page.request.get(`${url}${await page.getAttribute("a[data-csv=records]", "href")}`)).text();
        const audited = await riskshare(["--data-dir", regulator, "audit", "queries", "--format", "csv", "--querier", b.address, "--category", "fraud_confirmed"]);
        expect(csv).to.equal(audited.stdout);
        const all = await riskshare(["--data-dir", regulator, "audit", "queries", "--format", "csv", "--querier", b.address]);
        expect(await (await page.request.get(`${url}/ledger.csv?querier=${b.address}`)).text()).to.equal(all.stdout);
        expect(all.stdout.trim().split("\n").length - 1).to.equal(queried.length);

        // A record: its batch, its transaction and the audit's signature check.
        await page.goto(`${url}/ledger?querier=${b.address}&outcome=Answered`);
        await page.click("table[data-table=records] tbody tr:first-child td[data-col=record] a");
        expect(await page.textContent("tr[data-key='signature check'] td[data-col=value]")).to.equal(`signature recovers the querier ${b.address}`);
        expect(await page.textContent("tr[data-key=batch] td[data-col=value]")).to.match(/^seq \d+ of Bank [ACD]: \d+ records, block \d+, transaction 0x[0-9a-f]{64}$/);
        await page.screenshot({ path: artifactPath("console", "record.png"), fullPage: true });

        // Verify runs in the background with progress and agrees with `audit verify`.
        const verified = await json(["--data-dir", regulator, "audit", "verify"]);
        await page.goto(`${url}/verify`);
        await page.click("#verify-run");
        await page.waitForSelector("#verify-state[data-state=done]", { timeout: 60_000 });
        const verifiedText = await page.textContent("#verify-state");
        expect(verifiedText).to.match(/^ledger verified: \d+ records in \d+ batches$/);
        expect(Number(/(\d+) records/.exec(verifiedText!)![1])).to.be.at.least(verified.records);
        expect(await page.textContent("[data-table=by-kind]")).to.match(/none: the ledger verifies/);
        await page.screenshot({ path: artifactPath("console", "verify.png"), fullPage: true });

        // Governance: every proposal, decoded, with votes and quorum.
        const proposals = (await json(["--data-dir", regulator, "proposal", "list", "--all"])).proposals as Array<{ id: string; kind: string; state: string; votes: number; quorum: number }>;
        await page.goto(`${url}/governance`);
        const listed = await page.$$eval("table tbody tr", (rows) => rows.map((tr) => [tr.getAttribute("data-key"), tr.querySelector("td[data-col=kind]")!.textContent, tr.querySelector("td[data-col=state]")!.textContent, Number(tr.querySelector("td[data-col=votes]")!.textContent), Number(tr.querySelector("td[data-col=quorum]")!.textContent)]));
        expect(listed.sort()).to.deep.equal(proposals.map((p) => [String(p.id), p.kind, p.state, p.votes, p.quorum]).sort());
        await page.screenshot({ path: artifactPath("console", "governance.png"), fullPage: true });

        // A member's history, as querier and as provider.
        await page.goto(`${url}/member/${b.address}`);
        const summary = await page.$$eval("table[data-table=summary] tbody td", (cells) => cells.map((c) => Number(c.textContent)));
        expect(summary).to.deep.equal(expected()[b.address]);
        expect(await page.textContent("#member-name")).to.equal("Bank B");
        await page.screenshot({ path: artifactPath("console", "member.png"), fullPage: true });

        expect(elsewhere, "the pages load nothing from elsewhere").to.deep.equal([]);
        expect(blocked.filter((text) => !/401/.test(text)), "no page error or blocked resource").to.deep.equal([]);

        // Regulator mode: only --rpc and --registry (and its token file); the same numbers.
        const token = (await readFile(tokenFile, "utf8")).trim();
        expect(bare.document.tokenFile).to.equal(tokenFile);
        for (const deadline = Date.now() + 60_000; ;) {
          const status = (await (await fetch(`${bare.document.url}/api/status`, { headers: { authorization: `Bearer ${token}` } })).json()) as { indexedBlock: number; headBlock: number };
          if (status.indexedBlock >= status.headBlock - 1 && status.headBlock > 0 || Date.now() > deadline) break;
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        const regulatorPage = await (await browser.newContext()).newPage();
        await regulatorPage.goto(bare.document.openUrl);
        const regulatorShown = await regulatorPage.$$eval("table[data-table=members] tbody tr", (rows, cols) => Object.fromEntries(rows.map((tr) => [
          tr.getAttribute("data-key")!, cols.map((c) => Number(tr.querySelector(`td[data-col="${c}"]`)!.textContent)),
        ])), columns as unknown as string[]);
        expect(regulatorShown).to.deep.equal(expected());
      } finally {
        await browser.close();
        await stop(started.child);
        await stop(bare.child);
      }
    });

    it("stops every process it started on SIGTERM", async () => {
      const pids = manifest.members.map((m) => m.pid);
      const exited = new Promise<number | null>((resolve) => devnet.child.once("exit", resolve));
      devnet.child.kill("SIGTERM");
      expect(await exited).to.equal(0);
      for (const pid of pids) expect(alive(pid), `pid ${pid}`).to.equal(false);
      const rpcDown = await fetch(manifest.rpc, { method: "POST", body: "{}" }).then(() => false, () => true);
      expect(rpcDown, "the chain is stopped").to.equal(true);
    });
  });

  it("runs the demo on Hardhat's node as on anvil", async () => {
    const run = await binary(["devnet", "up", "--members", "3", "--dir", join(baseDir, "hardhat"), "--demo", "--rows", "100", "--exit"]);
    expect(run.status, run.stderr).to.equal(0);
    expect(run.stdout).to.contain("verdict: HIT");
    expect(run.stdout).to.contain("E_RECIPROCITY");
    expect(run.stdout).to.match(/ledger verified: \d+ records/);
  });
});

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

async function riskshareToken(dataDir: string, scope: "read" | "check" | "admin" = "admin"): Promise<string> {
  const { readFile } = await import("node:fs/promises");
  return readFile(join(dataDir, "keys", scope === "admin" ? "api.token" : `api-${scope}.token`), "utf8");
}
