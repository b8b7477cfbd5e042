/**
 * `riskshare init` and `riskshare key …` as an operator runs them (the CLI's program, no chain needed):
 * keys written encrypted under a passphrase from a file, never from an argument; a key file left
 * readable by others refused; a wrong or missing passphrase told apart; a plaintext data dir migrated;
 * the passphrase changed; the API token rotated.
 */
import { expect } from "chai";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getBytes, hexlify, Wallet } from "ethers";
import { startChain, type LocalChain } from "../../scripts/devnet/chain.ts";
import { createMembers, deployFor } from "../../scripts/devnet/consortium.ts";
import { RiskshareNode } from "../../node/node.ts";
import { connectChain, connectContracts, connectSigner, createKeyRotation, readLedger, rotateMemberKey, rotateOprfKey, verifyLedger } from "../../node/chain/index.ts";
import { createVoprf } from "../../node/identity/index.ts";
import { KeyStore } from "../../node/config/index.ts";
import { Store } from "../../node/store/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { runCliCaptured } from "../../cli/index.ts";
import { renderStatus } from "../../cli/commands/node.ts";

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `riskshare --json …args` in this process (the program the binary runs, its exit status and
 * output) with only the variables given: no passphrase leaks in from the parent's environment, as
 * the CLI reads nothing of process.env behind its io. A process per command cost a second or more
 * of start-up each.
 */
async function riskshare(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const { status, stdout, stderr } = await runCliCaptured(["--json", ...args], { PATH: process.env.PATH, RISKSHARE_KDF: "light", ...env });
  return { status, stdout, stderr };
}

/** Expects success and returns the one JSON document. */
async function ok<T = any>(args: string[], env: NodeJS.ProcessEnv = {}): Promise<T> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const run = await riskshare(args, env);
  expect(run.status, `riskshare ${args.join(" ")}\n${run.stdout}\n${run.stderr}`).to.equal(0);
  return JSON.parse(run.stdout) as T;
}

/** Expects exit status 1 with `code`, and returns the error document. */
async function refused(args: string[], env: NodeJS.ProcessEnv, code: string): Promise<{ code: string; message: string; hint: string }> {
  const run = await riskshare(args, env);
  expect(run.status, `riskshare ${args.join(" ")}\n${run.stdout}\n${run.stderr}`).to.equal(1);
  const error = (JSON.parse(run.stdout) as { error: { code: string; message: string; hint: string } }).error;
  expect(error.code, error.message).to.equal(code);
  expect(error.hint.length, "every code says what to do").to.be.greaterThan(20);
  return error;
}

/** A test's members' nodes, in this process: started and stopped by name, and a check through one's API. */
function memberNodes() {
  const nodes = new Map<string, RiskshareNode>();
  const apiUrls = new Map<string, string>();
  return {
    /** The running node of `member`. */
    node: (member: { name: string }): RiskshareNode => nodes.get(member.name)!,
    async start(member: { name: string; dataDir: string }) {
      const node = await RiskshareNode.open({ dataDir: member.dataDir }, { logger: silentLogger() });
      nodes.set(member.name, node);
      const info = await node.start();
      apiUrls.set(member.name, info.apiUrl);
      return info;
    },
    /** Stops `member`'s node as an operator would: lookups settled, the ledger flushed. */
    async stop(member: { name: string }) {
      const node = nodes.get(member.name)!;
      await node.settleLookups();
      await node.flushLedger();
      await node.close();
      nodes.delete(member.name);
    },
    /** `from` checks `items` (with the `providers` given, if any) once every node synced the chain: each item's verdict and first hit's providerRef, and the providers' statuses. */
    async check(from: { name: string; dataDir: string }, items: { type: string; value: string }[], providers?: string[]) {
      for (const node of nodes.values()) await node.syncChain();
      await nodes.get(from.name)!.syncFilters();
      const response = await fetch(`${apiUrls.get(from.name)!}/v1/check`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${await new KeyStore({ dataDir: from.dataDir }).apiToken()}` },
        body: JSON.stringify({ items, ...(providers === undefined ? {} : { providers }) }),
      });
      const body = await response.json() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
      expect(response.status, JSON.stringify(body)).to.equal(200);
      return {
        verdicts: body.items.map((i: { verdict: string; hits: { providerRef: string }[] }) => `${i.verdict}${i.hits[0] ? ` ${i.hits[0].providerRef}` : ""}`) as string[],
        providers: body.providers as { address: string; name: string; status: string }[],
      };
    },
    /** POSTs a CSV list to `member`'s running node (`/v1/entries?name=`). */
    async importThrough(member: { name: string; dataDir: string }, name: string, csv: string) {
      const response = await fetch(`${apiUrls.get(member.name)!}/v1/entries?name=${name}`, {
        method: "POST", headers: { authorization: `Bearer ${await new KeyStore({ dataDir: member.dataDir }).apiToken()}`, "content-type": "text/csv" }, body: csv,
      });
      expect(response.status, await response.clone().text()).to.equal(200);
    },
    async closeAll() {
      for (const node of nodes.values()) await node.close();
    },
  };
}

describe("the riskshare CLI: keys at rest", function () {
  this.timeout(120_000);
  let baseDir: string;
  let passFile: string;
  let newPassFile: string;
  const PASSPHRASE = "operator passphrase one";
  const NEW_PASSPHRASE = "operator passphrase two";

  before(async () => {
    baseDir = await mkdtemp(join(tmpdir(), "riskshare-keys-cli-"));
    passFile = join(baseDir, "passphrase");
    newPassFile = join(baseDir, "new-passphrase");
    await writeFile(passFile, `${PASSPHRASE}\n`, { mode: 0o600 });
    await writeFile(newPassFile, `${NEW_PASSPHRASE}\n`, { mode: 0o600 });
  });
  /** One Hardhat node for the tests that need a chain, each deploying its own consortium on it: a node takes seconds to start. */
  let devChain: Promise<LocalChain> | undefined;
  const sharedChain = () => (devChain ??= startChain({ kind: "hardhat" }));
  after(async () => {
    await (await devChain)?.stop();
    await rm(baseDir, { recursive: true, force: true });
  });

  it("init refuses without a passphrase, writes encrypted keys with one; key show gives the public parts only; a 0644 key file or a wrong passphrase is refused with its own code", async () => {
    const dir = join(baseDir, "bank-a");
    const locked = await refused(["--data-dir", dir, "init", "--name", "Bank A"], {}, "E_KEY_LOCKED");
    expect(locked.message).to.contain("RISKSHARE_PASSPHRASE_FILE");

    const init = await ok(["--data-dir", dir, "init", "--name", "Bank A", "--passphrase-file", passFile]);
    expect(init.kdf).to.equal("light");
    expect(JSON.parse(await readFile(join(dir, "config.json"), "utf8")).keys).to.deep.equal({ passphraseFile: passFile });
    const memberKey = JSON.parse(await readFile(join(dir, "keys", "node.key"), "utf8"));
    expect(memberKey.version, "a keystore v3 document").to.equal(3);
    expect(memberKey.address.toLowerCase()).to.equal(init.address.slice(2).toLowerCase());

    // config.json names the passphrase file: no variable needed.
    const shown = await ok(["--data-dir", dir, "key", "show"]);
    expect(shown).to.deep.include({ address: init.address, peerId: init.peerId });
    expect(shown.oprfKeys).to.deep.equal([{ epoch: 1, publicKey: init.oprfKey }]);
    expect(shown.files.map((f: { file: string; encrypted: boolean }) => [f.file, f.encrypted])).to.deep.equal([["node.key", true], ["oprf-1.key", true], ["api-read.token", false], ["api-check.token", false], ["api.token", false]]);

    await chmod(join(dir, "keys", "oprf-1.key"), 0o644);
    const open = await refused(["--data-dir", dir, "key", "show"], {}, "E_KEY_PERMISSIONS");
    expect(open.message).to.contain(`chmod 600 ${join(dir, "keys", "oprf-1.key")}`);
    await chmod(join(dir, "keys", "oprf-1.key"), 0o600);

    const wrong = await refused(["--data-dir", dir, "key", "show"], { RISKSHARE_PASSPHRASE: "not the passphrase" }, "E_KEY_PASSPHRASE");
    expect(wrong.message).to.contain(join(dir, "keys", "node.key")).and.to.not.contain("not the passphrase");
  });

  it("changes the passphrase (old and new from files) and rotates the API token", async () => {
    const dir = join(baseDir, "bank-b");
    await ok(["--data-dir", dir, "init", "--name", "Bank B"], { RISKSHARE_PASSPHRASE_FILE: passFile });
    const tokenBefore = await readFile(join(dir, "keys", "api.token"), "utf8");
    const checkBefore = await readFile(join(dir, "keys", "api-check.token"), "utf8");

    const missing = await riskshare(["--data-dir", dir, "key", "passphrase"], { RISKSHARE_PASSPHRASE_FILE: passFile });
    expect(missing.status, "no new passphrase is a usage error").to.equal(2);
    expect(JSON.parse(missing.stdout).error.message).to.contain("RISKSHARE_NEW_PASSPHRASE_FILE");
    const changed = await ok(["--data-dir", dir, "key", "passphrase"], { RISKSHARE_PASSPHRASE_FILE: passFile, RISKSHARE_NEW_PASSPHRASE_FILE: newPassFile });
    expect(changed.changed).to.deep.equal(["keys/node.key", "keys/oprf-1.key"]);
    await refused(["--data-dir", dir, "key", "show"], { RISKSHARE_PASSPHRASE_FILE: passFile }, "E_KEY_PASSPHRASE");
    await ok(["--data-dir", dir, "key", "show"], { RISKSHARE_PASSPHRASE_FILE: newPassFile });

    const rotated = await ok(["--data-dir", dir, "key", "rotate-token"]);
    expect(rotated).to.deep.include({ scopes: ["admin"], runningPid: null });
    const tokenAfter = await readFile(join(dir, "keys", "api.token"), "utf8");
    expect(tokenAfter).to.not.equal(tokenBefore);
    expect(rotated.files).to.deep.equal([join(dir, "keys", "api.token")]);
    expect(JSON.stringify(rotated), "the token is not printed").to.not.contain(tokenAfter.trim());
    expect(await readFile(join(dir, "keys", "api-check.token"), "utf8"), "the other scopes' tokens stay").to.equal(checkBefore);
    const all = await ok(["--data-dir", dir, "key", "rotate-token", "--scope", "all"]);
    expect(all.scopes).to.deep.equal(["read", "check", "admin"]);
    expect(await readFile(join(dir, "keys", "api-check.token"), "utf8")).to.not.equal(checkBefore);
  });

  it("rotates the OPRF key of an encrypted data dir (the devnet's: config.json names its passphrase file): the new key is sealed too", async () => {
    const chain = await sharedChain();
    const [a, b] = await createMembers({ baseDir: join(baseDir, "devnet"), rpcUrl: chain.rpcUrl, names: ["Bank A", "Bank B"] });
    await deployFor([a!, b!], { rpcUrl: chain.rpcUrl });
    const list = join(baseDir, "list.csv");
    await writeFile(list, "type,value,category,level,reason,reported_at\nmerchant_id,M-1,fraud_confirmed,2,R11,2026-05-01\n");
    const rotated = await ok(["--data-dir", a!.dataDir, "key", "rotate-oprf", list], { RISKSHARE_KDF: "" });
    expect(rotated.keyEpoch).to.equal(2);
    const shown = await ok(["--data-dir", a!.dataDir, "key", "show"]);
    expect(shown.oprfKeys.map((k: { epoch: number }) => k.epoch)).to.deep.equal([1, 2]);
    expect(shown.oprfKeys[1].publicKey).to.equal(rotated.oprfKey);
    const sealed = shown.files.find((f: { file: string }) => f.file === "oprf-2.key");
    expect(sealed).to.deep.include({ encrypted: true, kdf: { N: 2 ** 18, r: 8, p: 1 } });
  });

  it("moves a membership to a new member key (rotate-member): the node starts under the new account and PeerId, and lookups between members work", async () => {
    const chain = await sharedChain();
    const nodes: RiskshareNode[] = [];
    const apiUrls: string[] = [];
    try {
      const [a, b] = await createMembers({ baseDir: join(baseDir, "devnet-move"), rpcUrl: chain.rpcUrl, names: ["Bank A", "Bank B"] });
      const deployment = await deployFor([a!, b!], { rpcUrl: chain.rpcUrl, policy: { minEntries: 1n, maxSnapshotAgeSeconds: 86_400n, quotaBase: 1_000n, quotaRatioBps: 0n, quotaCeiling: 1_000n } });
      const header = "type,value,category,level,reason,reported_at\n";
      const aList = join(baseDir, "a-list.csv");
      const bList = join(baseDir, "b-list.csv");
      await writeFile(aList, `${header}phone,13900139000,fraud_confirmed,3,R02,2026-01-01\n`);
      await writeFile(bList, `${header}phone,13800138000,fraud_confirmed,4,R01,2026-03-01\nemail,mule@mail.example.cn,fraud_confirmed,2,R07,2026-02-01\n`);
      for (const [member, list] of [[a!, aList], [b!, bList]] as const) {
        await ok(["--data-dir", member.dataDir, "list", "import", list]);
        await ok(["--data-dir", member.dataDir, "list", "publish"]);
      }

      // A key rotation prepared for the old account is discarded by the move.
      await ok(["--data-dir", b!.dataDir, "key", "rotate-oprf", "--prepare", bList]);
      const noFunds = await riskshare(["--data-dir", b!.dataDir, "key", "rotate-member", bList]);
      expect(noFunds.status, "an unfunded new account is a usage error, before anything is sent").to.equal(2);
      expect(JSON.parse(noFunds.stdout).error).to.deep.include({ code: "E_USAGE" });
      expect(JSON.parse(noFunds.stdout).error.message).to.contain("--fund");
      // A run whose import stops after its first file (the second is missing) sends nothing; run again with the same files, it resumes.
      const bMore = join(baseDir, "b-more.csv");
      const cut = await riskshare(["--data-dir", b!.dataDir, "key", "rotate-member", bList, bMore, "--fund", "1"]);
      expect(cut.status, cut.stdout).to.equal(1);
      expect(await ok(["--data-dir", a!.dataDir, "member", "show", b!.address]), "nothing sent on chain").to.deep.include({ status: "Active", keyEpoch: 1 });
      await writeFile(bMore, `${header}merchant_id,MULE-SHOP-1,money_mule,2,R09,2026-02-01\n`);
      const secondRunAt = Date.now();
      const moved = await ok(["--data-dir", b!.dataDir, "key", "rotate-member", bList, bMore, "--fund", "1"]);
      expect(moved).to.deep.include({ oldAccount: b!.address, keyEpoch: 2, resumed: false, retiredKey: `keys/node-${b!.address}.key` });
      expect(moved.newAccount).to.not.equal(b!.address);
      expect(moved.imported).to.deep.equal([{ file: bList, added: 2, rejected: 0, workers: 0 }, { file: bMore, added: 1, rejected: 0, workers: 0 }]);
      const movedStore = new Store({ location: join(b!.dataDir, "db"), categories: new Map([["fraud_confirmed", 1]]) }, { logger: silentLogger() });
      await movedStore.open();
      try {
        const imports: string[] = [];
        for await (const record of movedStore.auditTrail()) if (record.action === "import") imports.push(`${record.source} ${record.atMs < secondRunAt ? "first run" : "second run"}`);
        expect(imports, "each file imported once: the first one by the interrupted run").to.deep.equal(["b-list.csv first run", "b-more.csv second run"]);
      } finally {
        await movedStore.close();
      }
      await refused(["--data-dir", b!.dataDir, "key", "rotate-oprf", "--commit"], {}, "E_ROTATION_NOT_PREPARED");
      expect(await readFile(join(b!.dataDir, "db-next.json")).then(() => true, () => false), "db-next.json is gone").to.equal(false);
      expect(moved.published.map((p: { category: string; liveCount: string | number }) => [p.category, Number(p.liveCount)])).to.deep.include(["fraud_confirmed", 2]);
      const shown = await ok(["--data-dir", b!.dataDir, "key", "show"]);
      expect(shown).to.deep.include({ address: moved.newAccount, peerId: moved.peerId });
      // The retired key still opens under the passphrase: the old account's history stays provable.
      expect(JSON.parse(await readFile(join(b!.dataDir, "keys", `node-${b!.address}.key`), "utf8")).address.toLowerCase()).to.equal(b!.address.slice(2).toLowerCase());
      const listed = await ok(["--data-dir", a!.dataDir, "member", "show", b!.address]);
      expect(listed).to.deep.include({ status: "Rotated", successor: moved.newAccount });
      const next = await ok(["--data-dir", a!.dataDir, "member", "show", moved.newAccount]);
      expect(next).to.deep.include({ status: "Active", name: "Bank B", predecessor: b!.address });

      for (const member of [a!, b!]) {
        const node = await RiskshareNode.open({ dataDir: member.dataDir }, { logger: silentLogger() });
        nodes.push(node);
        const info = await node.start();
        apiUrls.push(info.apiUrl);
        if (member === b) expect(info.address).to.equal(moved.newAccount);
      }
      const check = async (index: number, items: { type: string; value: string }[]) => {
        const node = nodes[index]!;
        for (const n of nodes) await n.syncChain();
        await node.syncFilters();
        const dataDir = index === 0 ? a!.dataDir : b!.dataDir;
        const response = await fetch(`${apiUrls[index]!}/v1/check`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${await new KeyStore({ dataDir }).apiToken()}` },
          body: JSON.stringify({ items }),
        });
        return await response.json() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
      };
      // Bank B, under its new account, asks Bank A; Bank A asks Bank B at its new account.
      const fromB = await check(1, [{ type: "phone", value: "13900139000" }]);
      expect(fromB.verdict, JSON.stringify(fromB.providers)).to.equal("hit");
      const fromA = await check(0, [{ type: "phone", value: "13800138000" }]);
      expect(fromA.verdict, JSON.stringify(fromA.providers)).to.equal("hit");
      expect(fromA.providers.map((p: { address?: string; name: string }) => p.name)).to.deep.equal(["Bank B"]);
      // The ledger takes the new account's records as a provider, and an audit finds it Active when it served them.
      for (const node of nodes) await node.flushLedger();
      const connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
      try {
        const contracts = connectContracts(deployment.addresses, connection.provider);
        const modules = { provider: connection.provider, registry: contracts.registry, ledger: contracts.ledger, chainId: connection.chainId };
        const ledger = await readLedger(modules);
        expect(ledger.records.filter((r) => r.provider === moved.newAccount).length, "records served by the new account").to.be.greaterThan(0);
        expect(await verifyLedger(modules, ledger)).to.deep.equal([]);
      } finally {
        connection.provider.destroy();
      }
    } finally {
      for (const node of nodes) await node.close();
    }
  });

  it("rotate-member resumes a run interrupted after the on-chain move: it finishes with the key the chain names, sending nothing", async () => {
    const chain = await sharedChain();
    const [a, b] = await createMembers({ baseDir: join(baseDir, "devnet-resume"), rpcUrl: chain.rpcUrl, names: ["Bank A", "Bank B"] });
    const deployment = await deployFor([a!, b!], { rpcUrl: chain.rpcUrl });
    const list = join(baseDir, "resume-list.csv");
    await writeFile(list, "type,value,category,level,reason,reported_at\nmerchant_id,M-1,fraud_confirmed,2,R11,2026-05-01\n");
    // What an interrupted run leaves: the new keys in keys/, the move done on chain, nothing else.
    const keys = new KeyStore({ dataDir: b!.dataDir, passphrase: (await readFile(b!.passphraseFile, "utf8")).trim(), kdf: "light" });
    const next = await keys.nextNodeKey();
    const voprf = await createVoprf();
    const { secretKey, publicKey } = voprf.generateKeyPair();
    await keys.putOprfKey(2, hexlify(secretKey));
    const connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
    try {
      const { registry } = connectContracts(deployment.addresses, connectSigner(new Wallet(b!.privateKey), connection.provider));
      await (await connectSigner(new Wallet(b!.privateKey), connection.provider).sendTransaction({ to: next.address, value: 10n ** 18n })).wait();
      await rotateMemberKey(registry, createKeyRotation(getBytes(next.privateKey), { oldAccount: b!.address, oprfKey: hexlify(publicKey), chainId: connection.chainId, registry: deployment.addresses.registry }));
    } finally {
      connection.provider.destroy();
    }
    const resumed = await ok(["--data-dir", b!.dataDir, "key", "rotate-member", list]);
    expect(resumed).to.deep.include({ oldAccount: b!.address, newAccount: next.address, keyEpoch: 2, resumed: true, txHash: null });
    expect(resumed.published.length).to.be.greaterThan(0);
    expect((await ok(["--data-dir", b!.dataDir, "key", "show"])).address).to.equal(next.address);
  });

  it("moves a membership in two steps: the node serves under the old account while rotate-member --prepare builds the new store, and stops only for --commit", async () => {
    const chain = await sharedChain();
    const members = memberNodes();
    try {
      const [a, b] = await createMembers({ baseDir: join(baseDir, "devnet-move-two-step"), rpcUrl: chain.rpcUrl, names: ["Bank A", "Bank B"] });
      await deployFor([a!, b!], { rpcUrl: chain.rpcUrl, policy: { minEntries: 1n, maxSnapshotAgeSeconds: 86_400n, quotaBase: 1_000n, quotaRatioBps: 0n, quotaCeiling: 1_000n } });
      const header = "type,value,category,level,reason,reported_at,expires_at,ref\n";
      const aList = join(baseDir, "move-two-step-a.csv");
      const bList = join(baseDir, "move-two-step-b.csv");
      const lateList = join(baseDir, "move-two-step-late.csv");
      await writeFile(aList, `${header}phone,13900139000,fraud_confirmed,3,R02,2026-01-01,,A-1\n`);
      await writeFile(bList, `${header}phone,13800138000,fraud_confirmed,4,R01,2026-03-01,,B-1\nemail,mule@mail.example.cn,fraud_confirmed,2,R07,2026-02-01,,B-2\n`);
      const late = `${header}bank_card,6222020000000015,fraud_confirmed,4,R03,2026-04-01,,B-3\n`;
      await writeFile(lateList, late);
      for (const [member, list] of [[a!, aList], [b!, bList]] as const) {
        await ok(["--data-dir", member.dataDir, "list", "import", list]);
        await ok(["--data-dir", member.dataDir, "list", "publish"]);
      }
      /** Bank A checks `items` with Bank B: each item's verdict and Bank B's providerRef, and the account that answered. */
      const checkAtB = async (items: { type: string; value: string }[]) => {
        const { verdicts, providers } = await members.check(a!, items);
        expect(providers.map((p) => `${p.name} ${p.status}`), JSON.stringify(providers)).to.deep.equal(["Bank B answered"]);
        return { verdicts, provider: providers[0]!.address };
      };
      const items = [{ type: "phone", value: "13800138000" }, { type: "email", value: "mule@mail.example.cn" }, { type: "bank_card", value: "6222020000000015" }];
      await members.start(a!);
      await members.start(b!);
      expect(await checkAtB(items)).to.deep.equal({ verdicts: ["hit B-1", "hit B-2", "miss"], provider: b!.address });

      // Bad invocations are usage errors, before anything is read or sent.
      expect((await riskshare(["--data-dir", b!.dataDir, "key", "rotate-member", "--prepare"])).status, "no files").to.equal(2);
      expect((await riskshare(["--data-dir", b!.dataDir, "key", "rotate-member", "--prepare", "--commit", bList])).status, "both steps at once").to.equal(2);
      expect((await riskshare(["--data-dir", b!.dataDir, "key", "rotate-member", "--prepare", "--fund", "1", bList])).status, "funds go with the move").to.equal(2);
      await refused(["--data-dir", b!.dataDir, "key", "rotate-member", "--commit"], {}, "E_ROTATION_NOT_PREPARED");

      // Step 1 while Bank B serves: the new member key and its store, nothing on chain.
      const prepared = await ok(["--data-dir", b!.dataDir, "key", "rotate-member", "--prepare", "--workers", "1", bList]);
      expect(prepared).to.deep.include({ prepared: true, oldAccount: b!.address, keyEpoch: 2, preparedStore: join(b!.dataDir, "db-next") });
      expect(prepared.newAccount).to.not.equal(b!.address);
      expect(prepared.imported).to.deep.equal([{ file: bList, added: 2, rejected: 0, workers: 1 }]);
      expect(await ok(["--data-dir", a!.dataDir, "member", "show", b!.address]), "nothing sent on chain").to.deep.include({ status: "Active", keyEpoch: 1 });
      expect((await ok(["--data-dir", b!.dataDir, "key", "show"])).address, "the node's key is unchanged until the move").to.equal(b!.address);
      expect(members.node(b!).health().keyEpoch).to.deep.include({ answering: 1, onChain: 1 }).and.nested.include({ "prepared.keyEpoch": 2, "prepared.complete": true, "prepared.newAccount": prepared.newAccount });
      expect(renderStatus(members.node(b!).health()), "node status names the command that commits it").to.contain(`for the move to ${prepared.newAccount} is prepared`).and.contain("run riskshare key rotate-member --commit");
      expect(await checkAtB(items), "the old account answers until the move").to.deep.equal({ verdicts: ["hit B-1", "hit B-2", "miss"], provider: b!.address });
      // The OPRF rotation's commit does not take a move's store.
      await members.stop(b!);
      const wrongCommand = await refused(["--data-dir", b!.dataDir, "key", "rotate-oprf", "--commit"], {}, "E_ROTATION_STALE");
      expect(wrongCommand.message).to.contain("rotate-member --commit");
      await members.start(b!);

      // Meanwhile Bank B's operator imports a list through the running node: the prepared store does not hold it.
      await members.importThrough(b!, "late.csv", late);
      expect((await checkAtB(items)).verdicts).to.deep.equal(["hit B-1", "hit B-2", "hit B-3"]);

      // Step 2 needs the node stopped, and the lists imported meanwhile.
      const locked = await refused(["--data-dir", b!.dataDir, "key", "rotate-member", "--commit", "--fund", "1"], {}, "E_STORE_CLOSED");
      expect(locked.message).to.contain("in use: a node runs on this data dir").and.contain("rotate-member --commit");
      await members.stop(b!);
      const stale = await refused(["--data-dir", b!.dataDir, "key", "rotate-member", "--commit", "--fund", "1"], {}, "E_ROTATION_STALE");
      expect(stale.message).to.contain("late.csv").and.contain("1 rows");
      expect(await ok(["--data-dir", a!.dataDir, "member", "show", b!.address]), "a refused commit sends nothing").to.deep.include({ status: "Active", keyEpoch: 1 });
      const moved = await ok(["--data-dir", b!.dataDir, "key", "rotate-member", "--commit", "--fund", "1", lateList]);
      expect(moved).to.deep.include({
        oldAccount: b!.address, newAccount: prepared.newAccount, peerId: prepared.peerId, keyEpoch: 2, oprfKey: prepared.oprfKey, resumed: false,
        keptStore: join(b!.dataDir, `db-account-${b!.address}`), retiredKey: `keys/node-${b!.address}.key`, delistedMeanwhile: 0,
      });
      expect(moved.imported).to.deep.equal([{ file: bList, added: 2, rejected: 0, workers: 1 }, { file: lateList, added: 1, rejected: 0, workers: 0 }]);
      expect(moved.published.map((p: { category: string; liveCount: string | number }) => [p.category, Number(p.liveCount)])).to.deep.include(["fraud_confirmed", 3]);
      expect(await ok(["--data-dir", a!.dataDir, "member", "show", b!.address])).to.deep.include({ status: "Rotated", successor: prepared.newAccount });
      await refused(["--data-dir", b!.dataDir, "key", "rotate-member", "--commit"], {}, "E_ROTATION_NOT_PREPARED");

      const info = await members.start(b!);
      expect(info.address).to.equal(prepared.newAccount);
      expect(await checkAtB(items), "every hit answers from the new account").to.deep.equal({ verdicts: ["hit B-1", "hit B-2", "hit B-3"], provider: prepared.newAccount });
      expect(members.node(b!).health().keyEpoch, "no rotation waits any more").to.deep.equal({ answering: 2, onChain: 2 });
    } finally {
      await members.closeAll();
    }
  });

  it("rotates the OPRF key in two steps: the node answers under the old key while --prepare builds the new store, and stops only for --commit", async () => {
    const chain = await sharedChain();
    const members = memberNodes();
    try {
      const [a, b] = await createMembers({ baseDir: join(baseDir, "devnet-two-step"), rpcUrl: chain.rpcUrl, names: ["Bank A", "Bank B"] });
      await deployFor([a!, b!], { rpcUrl: chain.rpcUrl, policy: { minEntries: 1n, maxSnapshotAgeSeconds: 86_400n, quotaBase: 1_000n, quotaRatioBps: 0n, quotaCeiling: 1_000n } });
      const header = "type,value,category,level,reason,reported_at,expires_at,ref\n";
      const aList = join(baseDir, "two-step-a.csv");
      const bList = join(baseDir, "two-step-b.csv");
      const lateList = join(baseDir, "two-step-late.csv");
      await writeFile(aList, `${header}phone,13900139000,fraud_confirmed,3,R02,2026-01-01,,A-1\nemail,mule@mail.example.cn,fraud_confirmed,2,R07,2026-02-01,,A-2\n`);
      await writeFile(bList, `${header}phone,13800138000,fraud_confirmed,4,R01,2026-03-01,,B-1\n`);
      const late = `${header}bank_card,6222020000000015,fraud_confirmed,4,R03,2026-04-01,,A-3\n`;
      await writeFile(lateList, late);
      for (const [member, list] of [[a!, aList], [b!, bList]] as const) {
        await ok(["--data-dir", member.dataDir, "list", "import", list]);
        await ok(["--data-dir", member.dataDir, "list", "publish"]);
      }
      /** Bank B checks `items` with Bank A: each item's verdict and Bank A's providerRef, and the key epoch Bank A answers under. */
      const checkAtA = async (items: { type: string; value: string }[]) => {
        const { verdicts, providers } = await members.check(b!, items, [a!.address]);
        expect(providers.map((p) => p.status), JSON.stringify(providers)).to.deep.equal(["answered"]);
        return { verdicts, keyEpoch: members.node(a!).health().keyEpoch.answering };
      };
      const items = [{ type: "phone", value: "13900139000" }, { type: "email", value: "mule@mail.example.cn" }, { type: "bank_card", value: "6222020000000015" }];
      await members.start(a!);
      await members.start(b!);
      expect(await checkAtA(items)).to.deep.equal({ verdicts: ["hit A-1", "hit A-2", "miss"], keyEpoch: 1 });

      // Bad invocations are usage errors, before anything is read or sent.
      expect((await riskshare(["--data-dir", a!.dataDir, "key", "rotate-oprf", "--prepare"])).status, "no files").to.equal(2);
      expect((await riskshare(["--data-dir", a!.dataDir, "key", "rotate-oprf", "--prepare", "--commit", aList])).status, "both steps at once").to.equal(2);
      await refused(["--data-dir", a!.dataDir, "key", "rotate-oprf", "--commit"], {}, "E_ROTATION_NOT_PREPARED");

      // Step 1 while Bank A serves: the store of epoch 2 is built beside db/, nothing changes on chain.
      expect((await riskshare(["--data-dir", a!.dataDir, "key", "rotate-oprf", "--prepare", "--workers", "65", aList])).status, "too many threads").to.equal(2);
      // One evaluating thread, as a member leaves its serving node a core (a file this small gets none by default).
      const prepared = await ok(["--data-dir", a!.dataDir, "key", "rotate-oprf", "--prepare", "--workers", "1", aList]);
      expect(prepared).to.deep.include({ prepared: true, keyEpoch: 2, preparedStore: join(a!.dataDir, "db-next") });
      expect(prepared.imported).to.deep.equal([{ file: aList, added: 2, rejected: 0, workers: 1 }]);
      expect((await ok(["--data-dir", a!.dataDir, "member", "show", a!.address])).keyEpoch, "nothing sent on chain").to.equal(1);
      // The serving node's health says a rotation waits, and `node status` says what to do.
      expect(members.node(a!).health().keyEpoch).to.deep.include({ answering: 1, onChain: 1 }).and.nested.include({ "prepared.keyEpoch": 2, "prepared.complete": true });
      expect(await checkAtA(items), "the old key answers until the switch").to.deep.equal({ verdicts: ["hit A-1", "hit A-2", "miss"], keyEpoch: 1 });

      // Meanwhile Bank A's operator imports a list through the running node: the prepared store does not hold it.
      await members.importThrough(a!, "late.csv", late);
      expect((await checkAtA(items)).verdicts).to.deep.equal(["hit A-1", "hit A-2", "hit A-3"]);

      // Step 2 needs the node stopped: its store is locked while it serves.
      const locked = await refused(["--data-dir", a!.dataDir, "key", "rotate-oprf", "--commit"], {}, "E_STORE_CLOSED");
      expect(locked.message).to.contain("in use: a node runs on this data dir").and.contain("rotate-oprf --commit");
      await members.stop(a!);
      const stale = await refused(["--data-dir", a!.dataDir, "key", "rotate-oprf", "--commit"], {}, "E_ROTATION_STALE");
      expect(stale.message).to.contain("late.csv").and.contain("1 rows");
      expect((await ok(["--data-dir", a!.dataDir, "member", "show", a!.address])).keyEpoch, "a refused commit sends nothing").to.equal(1);
      const committed = await ok(["--data-dir", a!.dataDir, "key", "rotate-oprf", "--commit", lateList]);
      expect(committed).to.deep.include({ keyEpoch: 2, oprfKey: prepared.oprfKey, resumed: false, keptStore: join(a!.dataDir, "db-epoch-1"), delistedMeanwhile: 0 });
      expect(committed.imported).to.deep.equal([{ file: aList, added: 2, rejected: 0, workers: 1 }, { file: lateList, added: 1, rejected: 0, workers: 0 }]);
      expect(committed.published.map((p: { category: string; liveCount: string | number }) => [p.category, Number(p.liveCount)])).to.deep.include(["fraud_confirmed", 3]);
      expect((await ok(["--data-dir", a!.dataDir, "member", "show", a!.address])).keyEpoch).to.equal(2);
      await refused(["--data-dir", a!.dataDir, "key", "rotate-oprf", "--commit"], {}, "E_ROTATION_NOT_PREPARED");

      await members.start(a!);
      expect(await checkAtA(items), "every hit answers under the new key").to.deep.equal({ verdicts: ["hit A-1", "hit A-2", "hit A-3"], keyEpoch: 2 });
      expect(members.node(a!).health().keyEpoch, "no rotation waits any more").to.deep.equal({ answering: 2, onChain: 2 });
    } finally {
      await members.closeAll();
    }
  });

  it("rotate-oprf --prepare resumes an interrupted import; --commit resumes a commit interrupted after the on-chain rotation, and refuses a store prepared for another epoch", async () => {
    const chain = await sharedChain();
    const [a, b] = await createMembers({ baseDir: join(baseDir, "devnet-commit-resume"), rpcUrl: chain.rpcUrl, names: ["Bank A", "Bank B"] });
    const deployment = await deployFor([a!, b!], { rpcUrl: chain.rpcUrl });
    const list = join(baseDir, "commit-resume-list.csv");
    await writeFile(list, "type,value,category,level,reason,reported_at\nmerchant_id,M-1,fraud_confirmed,2,R11,2026-05-01\n");
    const rotateOnChain = async (oprfKey: string) => {
      const connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
      try {
        await rotateOprfKey(connectContracts(deployment.addresses, connectSigner(new Wallet(a!.privateKey), connection.provider)).registry, oprfKey);
      } finally {
        connection.provider.destroy();
      }
    };
    // A prepare interrupted after its first file (the second is missing) resumes with the same files: the first is not imported again.
    const second = join(baseDir, "commit-resume-second.csv");
    const cut = await riskshare(["--data-dir", a!.dataDir, "key", "rotate-oprf", "--prepare", list, second]);
    expect(cut.status, cut.stdout).to.equal(1);
    await refused(["--data-dir", a!.dataDir, "key", "rotate-oprf", "--commit"], {}, "E_ROTATION_NOT_PREPARED");
    // The second file also holds a test card the consortium's own warninglist (in the data dir) refuses, as `list import` would.
    await writeFile(second, "type,value,category,level,reason,reported_at\nmerchant_id,M-2,fraud_confirmed,2,R11,2026-05-02\nbank_card,4000000000009995,fraud_confirmed,2,R11,2026-05-02\n");
    await mkdir(join(a!.dataDir, "warninglists"), { recursive: true });
    await writeFile(join(a!.dataDir, "warninglists", "cards.json"), JSON.stringify({
      name: "more-test-cards", description: "Stripe test cards", type: "bank_card", match: "exact",
      entries: [{ value: "4000000000009995", note: "Visa, insufficient funds", source: "https://docs.stripe.com/testing#declined-payments" }],
    }));
    const prepared = await ok(["--data-dir", a!.dataDir, "key", "rotate-oprf", "--prepare", list, second]);
    expect(prepared).to.deep.include({ keyEpoch: 2, resumed: true });
    expect(prepared.imported).to.deep.equal([{ file: list, added: 1, rejected: 0, workers: 0 }, { file: second, added: 1, rejected: 1, workers: 0 }]);
    const nextStore = new Store({ location: join(a!.dataDir, "db-next"), categories: new Map([["fraud_confirmed", 1]]) }, { logger: silentLogger() });
    await nextStore.open();
    try {
      const imports: string[] = [];
      for await (const record of nextStore.auditTrail()) if (record.action === "import") imports.push(record.source);
      expect(imports, "each file imported once").to.deep.equal(["commit-resume-list.csv", "commit-resume-second.csv"]);
    } finally {
      await nextStore.close();
    }
    // What a commit interrupted after its transaction leaves: the prepared store, the chain at epoch 2.
    await rotateOnChain(prepared.oprfKey);
    const resumed = await ok(["--data-dir", a!.dataDir, "key", "rotate-oprf", "--commit"]);
    expect(resumed).to.deep.include({ keyEpoch: 2, oprfKey: prepared.oprfKey, resumed: true, txHash: null, keptStore: join(a!.dataDir, "db-epoch-1") });
    expect(resumed.published.length).to.be.greaterThan(0);

    // A store prepared for epoch 3 is stale once the chain has moved past epoch 2 some other way.
    const again = await ok(["--data-dir", a!.dataDir, "key", "rotate-oprf", "--prepare", list]);
    expect(again.keyEpoch).to.equal(3);
    await rotateOnChain(hexlify((await createVoprf()).generateKeyPair().publicKey));
    await rotateOnChain(hexlify((await createVoprf()).generateKeyPair().publicKey));
    const stale = await refused(["--data-dir", a!.dataDir, "key", "rotate-oprf", "--commit"], {}, "E_ROTATION_STALE");
    expect(stale.message).to.contain("key epoch 3").and.contain("epoch 4");
  });

  it("migrates a data dir of plaintext keys in one command, and a second run does nothing", async () => {
    const dir = join(baseDir, "legacy");
    const wallet = Wallet.createRandom();
    await mkdir(join(dir, "keys"), { recursive: true, mode: 0o700 });
    await writeFile(join(dir, "keys", "node.key"), `${wallet.privateKey}\n`, { mode: 0o600 });
    await writeFile(join(dir, "keys", "oprf-1.key"), `0x${"01".repeat(32)}\n`, { mode: 0o600 });
    const before = await ok(["--data-dir", dir, "key", "show"]);
    expect(before.address, "plaintext keys are read without a passphrase").to.equal(wallet.address);
    expect(before.files.map((f: { encrypted: boolean }) => f.encrypted)).to.deep.equal([false, false]);

    await refused(["--data-dir", dir, "key", "migrate"], {}, "E_KEY_LOCKED");
    const migrated = await ok(["--data-dir", dir, "key", "migrate"], { RISKSHARE_PASSPHRASE_FILE: passFile });
    expect(migrated.migrated).to.deep.equal(["keys/node.key", "keys/oprf-1.key"]);
    expect(await readFile(join(dir, "keys", "node.key"), "utf8")).to.not.contain(wallet.privateKey.slice(2));
    expect((await ok(["--data-dir", dir, "key", "migrate"], { RISKSHARE_PASSPHRASE_FILE: passFile })).migrated).to.deep.equal([]);
    const after = await ok(["--data-dir", dir, "key", "show"], { RISKSHARE_PASSPHRASE_FILE: passFile });
    expect(after.address).to.equal(wallet.address);
    expect(after.oprfKeys[0].publicKey).to.equal(before.oprfKeys[0].publicKey);
    await refused(["--data-dir", dir, "key", "show"], {}, "E_KEY_LOCKED");
  });
});
