/**
 * `riskshare devnet up`: a whole local consortium in one command — a chain on 127.0.0.1, the
 * contracts, N member data directories with synthetic lists and published contributions, one node
 * process per member, and (with --demo) a scripted story told as it happens.
 *
 * @example
 *   const devnet = await devnetUp({ members: 3, dir: ".riskshare-devnet", chain: "hardhat", demo: true }, { io: { say, note }, cli: runCliCaptured });
 *   …  await devnet.stop();
 */
import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { CapturedCli, CapturedRun } from "../../cli/capture.ts";
import { renderCheck } from "../../cli/check-output.ts";
import type { CheckResponse } from "../../node/api/index.ts";
import { auditModulesOf, connectChain, connectContracts, readLedger, type ContractAddresses } from "../../node/chain/index.ts";
import { KeyStore, exists, writeFileAtomic } from "../../node/config/index.ts";
import { RiskshareError } from "../../node/errors.ts";
import { RowGenerator, CSV_HEADER } from "../bench/data.ts";
import { startChain, startIntervalMining, type ChainKind, type LocalChain } from "./chain.ts";
import { createMember, createMembers, deployFor, slug, writeContracts, type DevMember } from "./consortium.ts";
import { startNodeProcess, type NodeProcess } from "./processes.ts";
import { DEMO_PHONE, DEVNET_MANIFEST, MAX_DEVNET_MEMBERS } from "./options.ts";

export { DEMO_PHONE, MAX_DEVNET_MEMBERS };

/** Options of {@link devnetUp}. */
export interface DevnetOptions {
  members: number;
  dir: string;
  chain: ChainKind;
  demo: boolean;
  /** Synthetic entries each member imports. */
  rowsPerMember?: number;
  /** Whether the devnet keeps running after the demo (the story then ends with how to use it). */
  stayUp?: boolean;
}

/** Where the devnet tells what it does: `say` for the story (stdout), `note` for progress (stderr). */
export interface DevnetIo {
  say(line: string): void;
  note(line: string): void;
}

/** What the devnet works with: where it tells its story, and the CLI it runs commands with (as a user would). */
export interface DevnetModules {
  io: DevnetIo;
  /** The CLI in this process (cli/index.ts's runCliCaptured), handed in: importing it here would make a cycle. */
  cli: CapturedCli;
}

/** DIR/devnet.json: everything a user or a script needs to talk to the devnet. */
export interface DevnetManifest {
  rpc: string;
  chain: ChainKind;
  chainId: string;
  contracts: ContractAddresses;
  regulator: { address: string; dataDir: string };
  members: Array<{ name: string; address: string; peerId: string; dataDir: string; api: string; token: string; pid: number; multiaddrs: string[] }>;
}

/** A running devnet. */
export interface Devnet {
  manifest: DevnetManifest;
  /** Stops every node process and the chain (idempotent). */
  stop(): Promise<void>;
}

const MANIFEST = DEVNET_MANIFEST;
/** anvil's seconds per block once the devnet is deployed. */
const ANVIL_BLOCK_TIME_SECONDS = 1;
const REGULATOR_ACCOUNT = 9;

/** Starts the devnet; on any failure stops what it started and rethrows. */
export async function devnetUp(opts: DevnetOptions, modules: DevnetModules): Promise<Devnet> {
  const { io } = modules;
  const cliOk = cliChecked(modules.cli);
  if (!Number.isInteger(opts.members) || opts.members < 2 || opts.members > MAX_DEVNET_MEMBERS) {
    throw new RiskshareError("E_USAGE", `--members must be 2 to ${MAX_DEVNET_MEMBERS}`);
  }
  const dir = resolve(opts.dir);
  await prepareDir(dir);
  const processes: NodeProcess[] = [];
  let chain: LocalChain | undefined;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await Promise.all(processes.map((p) => p.kill("SIGTERM")));
    await chain?.stop();
  };
  try {
    io.note(`starting a ${opts.chain} chain on 127.0.0.1 …`);
    const chainLog = join(dir, "chain.log");
    // anvil mines the deployment's two dozen transactions as they come, then a block a second (below).
    chain = await startChain({
      kind: opts.chain,
      onOutput: (line) => void writeFile(chainLog, `${line}\n`, { flag: "a" }).catch(() => undefined),
    });
    const names = Array.from({ length: opts.members }, (_, i) => `Bank ${String.fromCharCode(65 + i)}`);
    const members = await createMembers({ baseDir: dir, rpcUrl: chain.rpcUrl, names });
    const regulator = await createMember({ dataDir: join(dir, "regulator"), name: "Regulator", rpcUrl: chain.rpcUrl, accountIndex: REGULATOR_ACCOUNT });
    io.note(`deploying the consortium contracts with ${members.length} founding members …`);
    const deployment = await deployFor(members, { rpcUrl: chain.rpcUrl, regulators: [regulator.address] });
    await writeContracts(regulator.dataDir, deployment.addresses);
    // From the members' first publication on, anvil makes a block a second, as a BFT chain does: the
    // deployment alone would have waited ~20 s for its blocks.
    if (opts.chain === "anvil") await startIntervalMining(chain, ANVIL_BLOCK_TIME_SECONDS);
    // Each member imports and publishes from its own account, and runs its own process: side by side
    // (on anvil, their transactions share blocks).
    await settleAll(members.map(async (member, index) => {
      const file = join(dir, `${slug(member.name)}-list.csv`);
      await writeFile(file, syntheticList(index, members.length, opts.rowsPerMember ?? 200, opts.demo));
      await cliOk(["--data-dir", member.dataDir, "--json", "list", "import", file], `import ${member.name}'s list`);
      await cliOk(["--data-dir", member.dataDir, "--json", "list", "publish"], `publish ${member.name}'s contributions`);
      io.note(`${member.name}: list imported and contributions published`);
    }));
    const nodeProcesses = await settleAll(members.map(async (member) => {
      const started = await startNodeProcess(member.dataDir, { logFile: join(member.dataDir, "node.log") });
      processes.push(started); // stopped on failure, whichever others failed
      io.note(`${member.name}: node running`);
      return started;
    }));
    const connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
    const chainId = connection.chainId.toString();
    connection.provider.destroy();
    const manifest: DevnetManifest = {
      rpc: chain.rpcUrl,
      chain: opts.chain,
      chainId,
      contracts: deployment.addresses,
      regulator: { address: regulator.address, dataDir: regulator.dataDir },
      members: await Promise.all(members.map(async (member, i) => ({
        name: member.name, address: member.address, peerId: member.peerId, dataDir: member.dataDir,
        api: nodeProcesses[i]!.runtime.apiUrl, token: await new KeyStore({ dataDir: member.dataDir }).apiToken(),
        pid: nodeProcesses[i]!.pid, multiaddrs: nodeProcesses[i]!.runtime.multiaddrs,
      }))),
    };
    await writeFileAtomic(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, 0o600);
    io.note(`devnet up: ${join(dir, MANIFEST)}`);
    if (opts.demo) await runDemo(manifest, members, { io, cliOk }, opts.stayUp !== false);
    return { manifest, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The scripted story: a fraudster caught across banks, a free rider denied, the audit showing it all. */
async function runDemo(manifest: DevnetManifest, members: DevMember[], { io, cliOk }: { io: DevnetIo; cliOk: CheckedCli }, stayUp: boolean): Promise<void> {
  const [a, b] = members;
  const freeRider = members.at(-1)!;
  const say = io.say;
  say("");
  say("=== riskshare demo ===");
  say(`${members.map((m) => m.name).join(", ")} run their own nodes. Each imported a synthetic risk list under its own OPRF key`);
  say("(no secret is shared between members) and published a filter of its tags per category on chain.");
  say("The lists themselves never leave their owners, and no provider learns which identifiers a member checks.");
  say(`${a!.name}'s list includes a fraudster's phone, ${DEMO_PHONE} (fraud_confirmed, level 5).`);
  say(`${freeRider.name} shares only money_mule entries: it contributes nothing to fraud_confirmed.`);
  say("");
  say(`1. ${b!.name}'s risk engine checks "138-0013-8000" through its node (riskshare query):`);
  const caught = (await cliOk(["--data-dir", b!.dataDir, "--json", "query", "--type", "phone", "--value", "138-0013-8000"], "query as Bank B")).json<CheckResponse>();
  indent(renderCheck(caught), say);
  say(`   ${b!.name}'s node sent each provider only freshly blinded elements. ${a!.name}'s filter matched the result, so it fetched`);
  say("   the sealed entries of a tag prefix shared by many entries and opened the one only this phone's key opens.");
  say("");
  say(`2. ${freeRider.name} asks about the same phone in fraud_confirmed, a category it does not share:`);
  const denied = (await cliOk(["--data-dir", freeRider.dataDir, "--json", "query", "--type", "phone", "--value", DEMO_PHONE, "--category", "fraud_confirmed"], `query as ${freeRider.name}`)).json<CheckResponse>();
  indent(renderCheck(denied), say);
  say(`   Reciprocity: you may ask only for what you also share. ${freeRider.name}'s node sent nothing: every provider would refuse.`);
  say("");
  say("3. Every provider records each evaluation, fetch and refusal in the on-chain ledger, in batches: who asked whom,");
  say("   when, for which categories, how many items, under which key epoch. Never a hit: hits stay with the querier.");
  const queryIds = [...caught.providers, ...denied.providers].flatMap((p) => [
    ...(p.queryId === undefined ? [] : [p.queryId]), ...(p.fetchQueryIds ?? []), ...(p.coverFetchQueryId === undefined ? [] : [p.coverFetchQueryId]),
  ]);
  await waitForLedger(manifest, queryIds);
  say(`   riskshare audit queries (what a compliance officer or the regulator sees, from the chain alone):`);
  const audit = await cliOk(["--data-dir", manifest.regulator.dataDir, "audit", "queries"], "audit queries");
  indent(audit.stdout, say);
  say("");
  say("4. riskshare audit verify re-checks every signature, membership and batch sequence:");
  const verify = await cliOk(["--data-dir", manifest.regulator.dataDir, "audit", "verify"], "audit verify");
  indent(verify.stdout, say);
  say("");
  say("5. riskshare audit report, per member:");
  const report = await cliOk(["--data-dir", manifest.regulator.dataDir, "audit", "report"], "audit report");
  indent(report.stdout, say);
  if (!stayUp) return;
  say("");
  say(`The devnet stays up; its addresses and API tokens are in ${join(resolve(manifest.regulator.dataDir, ".."), MANIFEST)}.`);
  say(`Try: npx riskshare --data-dir ${b!.dataDir} query --type phone --value "${DEMO_PHONE}"`);
  say("Press Ctrl-C to stop every node and the chain.");
}

/** Waits (bounded) until every one of `queryIds` is on the ledger: providers flush every second. */
async function waitForLedger(manifest: DevnetManifest, queryIds: readonly string[]): Promise<void> {
  const connection = await connectChain({ rpcUrl: manifest.rpc, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
  try {
    const contracts = connectContracts(manifest.contracts, connection.provider);
    const modules = auditModulesOf(connection, contracts);
    const deadline = Date.now() + 120_000;
    const landed = async () => {
      const onChain = new Set((await readLedger(modules)).records.map((r) => r.queryId));
      return queryIds.every((id) => onChain.has(id));
    };
    while (!(await landed())) {
      if (Date.now() > deadline) throw new RiskshareError("E_TIMEOUT", "the providers did not record the demo's queries on chain in time");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    connection.provider.destroy();
  }
}

/**
 * A member's synthetic list: `rows` valid identifiers of every type over four categories. With the
 * demo, the first member also lists the fraudster's phone and the last shares money_mule only.
 */
export function syntheticList(memberIndex: number, memberCount: number, rows: number, demo: boolean): string {
  const generator = new RowGenerator(1_000 + memberIndex);
  const counters = new Map<string, number>();
  // Offsets make lists overlap in part, as real members' lists do.
  for (const [type] of [["phone"], ["bank_card"], ["national_id"], ["email"], ["device_id"], ["ip"], ["merchant_id"]] as const) counters.set(type, memberIndex * Math.floor(rows / 4));
  const lines = [CSV_HEADER];
  const freeRider = demo && memberIndex === memberCount - 1;
  for (let i = 0; i < rows; i++) {
    let line = generator.csvLine(i, counters);
    if (freeRider) line = line.replace(/^([^,]*,[^,]*),[^,]*,/, "$1,money_mule,");
    lines.push(line);
  }
  if (demo && memberIndex === 0) lines.push(`phone,${DEMO_PHONE},fraud_confirmed,5,R01,2026-11-01,,case-demo-1`);
  return `${lines.join("\n")}\n`;
}

/** The values of `work`, in order, once every one has settled (none left running); the first failure if any failed. */
async function settleAll<T>(work: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/** Runs one CLI command; its failure fails the devnet, naming `what` it was for. */
type CheckedCli = (args: string[], what: string) => Promise<CapturedRun>;

function cliChecked(cli: CapturedCli): CheckedCli {
  return async (args, what) => {
    const run = await cli(args);
    if (run.status !== 0) throw new RiskshareError("E_INTERNAL", `devnet: ${what} failed: ${(run.stderr || run.stdout).trim()}`);
    return run;
  };
}

/** Empties DIR if it holds an earlier devnet; refuses a non-empty folder that is not one. */
async function prepareDir(dir: string): Promise<void> {
  if (await exists(dir)) {
    const entries = await readdir(dir);
    if (entries.length > 0 && !entries.includes(MANIFEST) && !entries.includes("chain.log")) {
      throw new RiskshareError("E_CONFIG", `${dir} is not empty and holds no devnet; choose another --dir`);
    }
    await rm(dir, { recursive: true, force: true });
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

function indent(text: string, say: (line: string) => void): void {
  for (const line of text.trimEnd().split("\n")) say(`   ${line}`);
}

