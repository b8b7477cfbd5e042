/**
 * The daily quota per provider, counted per item (blinded element or fetched prefix): a request
 * whose items exceed what is left is refused with E_QUOTA, also after the provider restarts (usage
 * counters are kept in the provider's store).
 */
import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startChain, type LocalChain } from "../../scripts/devnet/chain.ts";
import { createMembers, deployFor, type DevMember } from "../../scripts/devnet/consortium.ts";
import { RiskshareNode } from "../../node/node.ts";
import { KeyStore, updateConfig } from "../../node/config/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { cli } from "./support/cli.ts";

/** Three items a day per provider and category. */
const POLICY = { minEntries: 1n, maxSnapshotAgeSeconds: 86_400n, quotaBase: 3n, quotaRatioBps: 0n, quotaCeiling: 3n };

describe("the daily quota per provider", function () {
  this.timeout(120_000);
  let baseDir: string;
  let chain: LocalChain;
  let querier: DevMember;
  let provider: DevMember;
  const nodes: RiskshareNode[] = [];
  let api: { url: string; token: string };

  async function start(member: DevMember): Promise<RiskshareNode> {
    const node = await RiskshareNode.open({ dataDir: member.dataDir }, { logger: silentLogger() });
    const info = await node.start();
    nodes.push(node);
    if (member === querier) api = { url: info.apiUrl, token: await new KeyStore({ dataDir: member.dataDir }).apiToken() };
    return node;
  }

  /** Asks the provider about `items` unlisted phones: an Evaluate of `items` blinded elements (a shape: 1 or 2), no fetch. */
  async function ask(items: number): Promise<{ status: string; code?: string }> {
    const response = await fetch(`${api.url}/v1/check`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${api.token}` },
      body: JSON.stringify({ items: Array.from({ length: items }, (_, i) => ({ type: "phone", value: `1380013800${i}` })), providers: [provider.address], categories: ["fraud_confirmed"] }),
    });
    return ((await response.json()) as { providers: { status: string; code?: string }[] }).providers[0]!;
  }

  before(async () => {
    baseDir = await mkdtemp(join(tmpdir(), "riskshare-quota-"));
    chain = await startChain({ kind: "hardhat" });
    [querier, provider] = await createMembers({ baseDir, rpcUrl: chain.rpcUrl, names: ["Querier", "Provider"] }) as [DevMember, DevMember];
    await deployFor([querier, provider], { rpcUrl: chain.rpcUrl, policy: POLICY });
    for (const member of [querier, provider]) {
      const file = join(baseDir, `${member.name}.csv`);
      await writeFile(file, "type,value,category,level,reason,reported_at\ndevice_id,d-1,fraud_confirmed,2,R1,2026-01-01\n");
      // No cover fetches: each would spend one item of the quota at random.
      await updateConfig(member.dataDir, (c) => ({ ...c, lookup: { ...c.lookup, coverFetchRate: 0 } }));
      for (const args of [["list", "import", file], ["list", "publish"]]) {
        const run = await cli("--data-dir", member.dataDir, "--json", ...args);
        expect(run.status, run.stderr + run.stdout).to.equal(0);
      }
    }
  });

  after(async () => {
    for (const node of nodes) await node.close();
    await chain?.stop();
    await rm(baseDir, { recursive: true, force: true });
  });

  it("counts every item against the quota: refuses a request whose items exceed what is left, answers one that fits, and still refuses after the provider restarts", async () => {
    await start(querier);
    const providerNode = await start(provider);
    expect(await ask(2), "2 items of 3").to.include({ status: "answered" });
    expect(await ask(2), "2 items with 1 left").to.include({ status: "denied", code: "E_QUOTA" });
    expect(await ask(1), "1 item with 1 left").to.include({ status: "answered" });
    expect(await ask(1), "1 item with none left").to.include({ status: "denied", code: "E_QUOTA" });
    await providerNode.close();
    await start(provider);
    expect(await ask(1)).to.include({ status: "denied", code: "E_QUOTA" });
  });
});
