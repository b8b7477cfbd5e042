/**
 * Spot-checks on a real chain with real nodes: a member challenges another's snapshot from the CLI;
 * an honest provider's node answers on chain by itself; a member that published a snapshot it cannot
 * back (a count and commitment of no filter it holds) cannot answer, its health says so, and once
 * the window passes and anyone expires the challenge, providers refuse its lookups (E_RECIPROCITY)
 * until it publishes a true snapshot.
 */
import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hexlify, JsonRpcProvider, randomBytes, Wallet } from "ethers";
import { startChain, type LocalChain } from "../../scripts/devnet/chain.ts";
import { createMembers, deployFor, type DevMember } from "../../scripts/devnet/consortium.ts";
import { connectContracts, type DeploymentResult } from "../../node/chain/index.ts";
import { RiskshareNode } from "../../node/node.ts";
import { KeyStore, updateConfig } from "../../node/config/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { cli } from "./support/cli.ts";

/** Snapshots stay fresh for 30 days: the test moves the chain a day ahead. */
const POLICY = { minEntries: 1n, maxSnapshotAgeSeconds: 30n * 86_400n, quotaBase: 1_000n, quotaRatioBps: 0n, quotaCeiling: 1_000n };
const FRAUD_CONFIRMED = 1;

describe("spot-checks of contribution snapshots, end to end", function () {
  this.timeout(180_000);
  let baseDir: string;
  let chain: LocalChain;
  let deployment: DeploymentResult;
  let honest: DevMember;
  let checker: DevMember;
  let cheater: DevMember;
  const nodes = new Map<DevMember, RiskshareNode>();
  const apis = new Map<DevMember, { url: string; token: string }>();

  async function start(member: DevMember): Promise<RiskshareNode> {
    const node = await RiskshareNode.open({ dataDir: member.dataDir }, { logger: silentLogger() });
    const info = await node.start();
    nodes.set(member, node);
    apis.set(member, { url: info.apiUrl, token: await new KeyStore({ dataDir: member.dataDir }).apiToken() });
    return node;
  }

  async function stop(member: DevMember): Promise<void> {
    await nodes.get(member)?.close();
    nodes.delete(member);
  }

  async function json(member: DevMember, ...args: string[]): Promise<{ status: number; body: Record<string, unknown> }> {
    const run = await cli("--data-dir", member.dataDir, "--json", ...args);
    return { status: run.status, body: JSON.parse(run.stdout || run.stderr) as Record<string, unknown> };
  }

  /** `from` asks `to` about one unlisted phone; the provider's verdict. */
  async function ask(from: DevMember, to: DevMember): Promise<{ status: string; code?: string }> {
    const api = apis.get(from)!;
    const response = await fetch(`${api.url}/v1/check`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${api.token}` },
      body: JSON.stringify({ items: [{ type: "phone", value: "13800138000" }], providers: [to.address], categories: ["fraud_confirmed"] }),
    });
    return ((await response.json()) as { providers: { status: string; code?: string }[] }).providers[0]!;
  }

  async function health(member: DevMember): Promise<{ status: string; reasons: string[] }> {
    const api = apis.get(member)!;
    return (await (await fetch(`${api.url}/v1/health`, { headers: { authorization: `Bearer ${api.token}` } })).json()) as { status: string; reasons: string[] };
  }

  async function until<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async function spotCheck(of: DevMember): Promise<{ challenge: string; unproven: boolean }> {
    const { body } = await json(checker, "contribution", "status", of.address, "--category", "fraud_confirmed");
    const [row] = body.snapshots as Array<{ challenge: string; unproven: boolean }>;
    return row!;
  }

  async function importAndPublish(member: DevMember, rows: string): Promise<void> {
    const file = join(baseDir, `${member.name}.csv`);
    await writeFile(file, `type,value,category,level,reason,reported_at\n${rows}`);
    for (const args of [["list", "import", file], ["list", "publish"]]) {
      const run = await cli("--data-dir", member.dataDir, "--json", ...args);
      expect(run.status, run.stderr + run.stdout).to.equal(0);
    }
  }

  before(async () => {
    baseDir = await mkdtemp(join(tmpdir(), "riskshare-challenge-"));
    chain = await startChain({ kind: "hardhat" });
    [honest, checker, cheater] = await createMembers({ baseDir, rpcUrl: chain.rpcUrl, names: ["Honest", "Checker", "Cheater"] }) as [DevMember, DevMember, DevMember];
    deployment = await deployFor([honest, checker, cheater], { rpcUrl: chain.rpcUrl, policy: POLICY });
    for (const member of [honest, checker, cheater]) await updateConfig(member.dataDir, (c) => ({ ...c, lookup: { ...c.lookup, coverFetchRate: 0 } }));
    await importAndPublish(honest, "device_id,d-1,fraud_confirmed,2,R1,2026-01-01\nphone,13900139000,fraud_confirmed,2,R1,2026-01-01\n");
    await importAndPublish(checker, "device_id,d-2,fraud_confirmed,2,R1,2026-01-01\n");
    // The cheater claims 50,000 entries under a commitment to no filter at all, straight to the contract.
    const provider = new JsonRpcProvider(chain.rpcUrl);
    const contracts = connectContracts(deployment.addresses, new Wallet(cheater.privateKey, provider));
    await (await contracts.contributions.publish(FRAUD_CONFIRMED, 1, 50_000, hexlify(randomBytes(32)))).wait();
    provider.destroy();
    for (const member of [honest, checker, cheater]) await start(member);
  });

  after(async () => {
    for (const node of nodes.values()) await node.close();
    await chain?.stop();
    await rm(baseDir, { recursive: true, force: true });
  });

  it("a challenged honest provider's node answers on chain by itself", async () => {
    const opened = await json(checker, "contribution", "challenge", honest.address, "--category", "fraud_confirmed");
    expect(opened.status, JSON.stringify(opened.body)).to.equal(0);
    expect(opened.body).to.include({ provider: honest.address, category: "fraud_confirmed", liveCount: "2" });
    const settled = await until("the honest provider's answer", () => spotCheck(honest), (s) => s.challenge !== "open");
    expect(settled).to.deep.equal({ ...settled, challenge: "answered", unproven: false });
    // One challenge per challenger, provider and category per cooldown.
    const again = await json(checker, "contribution", "challenge", honest.address, "--category", "fraud_confirmed");
    expect(again.status).to.not.equal(0);
    expect(JSON.stringify(again.body)).to.contain("ContributionRegistryChallengeTooSoon");
  });

  it("a snapshot its member cannot back: unanswerable (health says so), expired after the window, then its lookups are refused until it publishes a true one", async () => {
    expect(await ask(cheater, honest), "before any challenge").to.include({ status: "answered" });
    expect((await json(checker, "contribution", "challenge", cheater.address, "--category", "fraud_confirmed")).status).to.equal(0);
    const sick = await until("the cheater's health", () => health(cheater), (h) => h.reasons.some((r) => r.startsWith("E_CHALLENGE_UNANSWERABLE")));
    expect(sick.status).to.equal("degraded");
    expect((await spotCheck(cheater)).challenge).to.equal("open");

    const early = await json(checker, "contribution", "expire", cheater.address, "--category", "fraud_confirmed");
    expect(early.status).to.not.equal(0);
    expect(JSON.stringify(early.body)).to.contain("ContributionRegistryChallengeNotDue");

    const rpc = new JsonRpcProvider(chain.rpcUrl);
    await rpc.send("evm_increaseTime", [25 * 3600]);
    await rpc.send("evm_mine", []);
    rpc.destroy();
    const expired = await json(checker, "contribution", "expire", cheater.address, "--category", "fraud_confirmed");
    expect(expired.status, JSON.stringify(expired.body)).to.equal(0);
    expect(await spotCheck(cheater)).to.include({ challenge: "expired", unproven: true });
    const refused = await until("the honest provider refusing the cheater", () => ask(cheater, honest), (r) => r.status === "denied");
    expect(refused).to.include({ code: "E_RECIPROCITY" });
    expect(await ask(checker, honest), "others are still served").to.include({ status: "answered" });

    // A true snapshot supersedes the challenge and clears the mark.
    await stop(cheater);
    await importAndPublish(cheater, "device_id,d-3,fraud_confirmed,2,R1,2026-01-01\n");
    expect(await spotCheck(cheater)).to.include({ challenge: "superseded", unproven: false });
    await start(cheater);
    await until("the cheater served again", () => ask(cheater, honest), (r) => r.status === "answered");
  });
});
