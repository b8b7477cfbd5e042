/**
 * The ledger under faults, across processes: a provider node runs as its own process, its chain
 * RPC goes away for a while, and it is killed with SIGKILL after answering. Every query it served
 * lands on chain exactly once, with no gap in its batch sequence, and credits move exactly once per
 * evaluated item it answered.
 */
import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startChain, type LocalChain } from "../../scripts/devnet/chain.ts";
import { createMembers, deployFor, type DevMember } from "../../scripts/devnet/consortium.ts";
import { RiskshareNode } from "../../node/node.ts";
import { multiaddr } from "@multiformats/multiaddr";
import { getBytes, hexlify, randomBytes } from "ethers";
import {
  connectChain, connectContracts, DEFAULT_CATEGORIES, evaluateCommitment, lookupRequestDigestBytes, nonceToBytes32, QueryOutcome, readLedger, verifyLedger,
  type ContractAddresses, type LookupRequest,
} from "../../node/chain/index.ts";
import { DATA_DIR_LAYOUT, KeyStore, updateConfig } from "../../node/config/index.ts";
import { createVoprf } from "../../node/identity/index.ts";
import { createHost, digestSignerFromEvmKey, frameStream, LOOKUP_PROTOCOL, maskOfCategories, MAX_FRAME_BYTES, toWireRequest } from "../../node/p2p/index.ts";
import { Store } from "../../node/store/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { cli } from "./support/cli.ts";
import { startNodeProcess, type NodeProcess } from "../../scripts/devnet/processes.ts";
import { TcpProxy } from "./support/tcp-proxy.ts";
import type { HealthResponse } from "../../node/api/index.ts";

const POLICY = { minEntries: 1n, maxSnapshotAgeSeconds: 86_400n, quotaBase: 100_000n, quotaRatioBps: 0n, quotaCeiling: 100_000n };
/** The starting grant: the tests before the last evaluate 11 items, which leaves 29, and new members have no overdraft. */
const STARTING_CREDITS = 40n;
/** An Evaluate shape above what is left once the fault tests ran. */
const UNCOVERED_SHAPE = 32;

describe("the ledger under faults (provider in its own process)", function () {
  this.timeout(240_000);
  let baseDir: string;
  let chain: LocalChain;
  let proxy: TcpProxy;
  let querier: DevMember;
  let provider: DevMember;
  let addresses: ContractAddresses;
  let querierNode: RiskshareNode;
  let providerProcess: NodeProcess | undefined;
  let api: { url: string; token: string };
  const answered: string[] = [];
  /** Both members' credit balances before any lookup. */
  let startingBalances: { querier: bigint; provider: bigint };

  async function ask(value: string): Promise<void> {
    const response = await fetch(`${api.url}/v1/check`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${api.token}` },
      body: JSON.stringify({ items: [{ type: "phone", value }], providers: [provider.address] }),
    });
    const body = await response.json() as { providers: { status: string; queryId?: string; fetchQueryIds?: string[]; code?: string }[] };
    expect(body.providers[0], JSON.stringify(body)).to.include({ status: "answered" });
    // The Evaluate, and the Fetch that follows a filter hit: each is a record of its own.
    answered.push(body.providers[0]!.queryId!, ...(body.providers[0]!.fetchQueryIds ?? []));
  }

  async function ledger() {
    const connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
    try {
      const contracts = connectContracts(addresses, connection.provider);
      const modules = { provider: connection.provider, registry: contracts.registry, ledger: contracts.ledger, chainId: connection.chainId };
      const read = await readLedger(modules, { provider: provider.address });
      return { ...read, failures: await verifyLedger(modules, await readLedger(modules)), lastSeq: await contracts.ledger.lastSequence(provider.address) };
    } finally {
      connection.provider.destroy();
    }
  }

  /** Sends one request frame to the provider from a bare host with `member`'s key (its node stopped); the reply frame. */
  async function exchangeAs(member: DevMember, frame: object): Promise<unknown> {
    const host = await createHost({ privateKey: member.privateKey, listen: ["/ip4/127.0.0.1/tcp/0"] }, { logger: silentLogger(), membership: { isActivePeer: () => true } });
    await host.start();
    try {
      const signal = AbortSignal.timeout(10_000);
      const connection = await host.libp2p.dial(multiaddr(providerProcess!.runtime.multiaddrs[0]!), { signal });
      const stream = await connection.newStream(LOOKUP_PROTOCOL, { signal });
      const frames = frameStream(stream, MAX_FRAME_BYTES);
      await frames.write(new TextEncoder().encode(JSON.stringify(frame)), { signal });
      const reply: unknown = JSON.parse(new TextDecoder().decode((await frames.read({ signal })).subarray()));
      await stream.close().catch(() => undefined);
      return reply;
    } finally {
      await host.stop();
    }
  }

  /** `member`'s balance on the QueryLedger now. */
  async function balanceOf(member: DevMember): Promise<bigint> {
    const connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
    try {
      return (await connectContracts(addresses, connection.provider).ledger.creditsOf(member.address)).balance;
    } finally {
      connection.provider.destroy();
    }
  }

  /** Waits until the provider's batches carry `count` records (the batcher's own pace; bounded). */
  async function landed(count: number, timeoutMs = 60_000): Promise<Awaited<ReturnType<typeof ledger>>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const state = await ledger();
      if (state.records.length >= count || Date.now() > deadline) return state;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Polls the provider's own /v1/health until `ready` holds (bounded). */
  async function providerHealthWhen(ready: (h: HealthResponse) => boolean, timeoutMs = 30_000): Promise<HealthResponse> {
    const token = await new KeyStore({ dataDir: provider.dataDir }).apiToken();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const response = await fetch(`${providerProcess!.runtime.apiUrl}/v1/health`, { headers: { authorization: `Bearer ${token}` } });
      const health = await response.json() as HealthResponse;
      if (ready(health)) return health;
      if (Date.now() > deadline) throw new Error(`provider health never matched: ${JSON.stringify(health)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function setFlushInterval(ms: number): Promise<void> {
    await updateConfig(provider.dataDir, (c) => ({ ...c, ledger: { ...c.ledger, flushIntervalMs: ms } }));
  }

  async function importAndPublish(member: DevMember, csv: string): Promise<void> {
    const file = join(baseDir, `${member.name}.csv`);
    await writeFile(file, csv);
    for (const args of [["list", "import", file], ["list", "publish"]]) {
      const run = await cli("--data-dir", member.dataDir, "--json", ...args);
      expect(run.status, run.stdout + run.stderr).to.equal(0);
    }
  }

  before(async () => {
    baseDir = await mkdtemp(join(tmpdir(), "riskshare-faults-"));
    chain = await startChain({ kind: "hardhat" });
    proxy = await TcpProxy.start(Number(new URL(chain.rpcUrl).port));
    [querier, provider] = await createMembers({ baseDir, rpcUrl: chain.rpcUrl, names: ["Querier", "Provider"] }) as [DevMember, DevMember];
    addresses = (await deployFor([querier, provider], { rpcUrl: chain.rpcUrl, policy: POLICY, credits: { startingCredits: STARTING_CREDITS } })).addresses;
    startingBalances = { querier: await balanceOf(querier), provider: await balanceOf(provider) };
    await importAndPublish(querier, "type,value,category,level,reason,reported_at\nphone,13900139000,fraud_confirmed,3,R02,2026-01-01\n");
    await importAndPublish(provider, "type,value,category,level,reason,reported_at\nphone,13800138000,fraud_confirmed,4,R01,2026-01-01\n");
    // No cover fetches: each would add a record at random, and the backlog test counts records.
    await updateConfig(querier.dataDir, (c) => ({ ...c, lookup: { ...c.lookup, coverFetchRate: 0 } }));
    // The provider reaches the chain only through the proxy, which the tests cut.
    await updateConfig(provider.dataDir, (c) => ({ ...c, chain: { ...c.chain, rpcUrl: proxy.url } }));
    querierNode = await RiskshareNode.open({ dataDir: querier.dataDir }, { logger: silentLogger() });
    const info = await querierNode.start();
    api = { url: info.apiUrl, token: await new KeyStore({ dataDir: querier.dataDir }).apiToken() };
  });

  after(async () => {
    await providerProcess?.kill("SIGKILL");
    await querierNode?.close();
    await proxy?.stop();
    await chain?.stop();
    await rm(baseDir, { recursive: true, force: true });
  });

  it("keeps answering while the chain RPC is down, and lands every record once it is back", async () => {
    await setFlushInterval(300);
    providerProcess = await startNodeProcess(provider.dataDir);
    await querierNode.connect(providerProcess.runtime.multiaddrs);
    const before = (await ledger()).records.length;
    const answeredBefore = answered.length;
    await proxy.cut();
    // 13800138000 is on the provider's list: its Evaluate is followed by a Fetch.
    for (let i = 0; i < 5; i++) await ask(`1380013800${i}`);
    expect(answered.length - answeredBefore, "five Evaluates and one Fetch").to.equal(6);
    const health = await providerHealthWhen((h) => h.ledger.lastError !== undefined);
    expect(health.status, "answers go on while the outbox has room").to.equal("degraded");
    expect(health.reasons.join(" ")).to.contain("ledger flush failing");
    expect((await ledger()).records.length, "nothing can land while the RPC is down").to.equal(before);
    await proxy.restore();
    const state = await landed(before + 6);
    for (const queryId of answered) expect(state.records.filter((r) => r.queryId === queryId), queryId).to.have.length(1);
    expect(state.failures).to.deep.equal([]);
  });

  it("refuses new lookups with E_BACKLOG once the outbox is full (fail closed), and serves again when it drains", async () => {
    await providerProcess!.kill("SIGTERM");
    await updateConfig(provider.dataDir, (c) => ({ ...c, ledger: { ...c.ledger, flushIntervalMs: 300, maxBacklog: 2 } }));
    providerProcess = await startNodeProcess(provider.dataDir);
    await querierNode.connect(providerProcess.runtime.multiaddrs);
    await proxy.cut();
    await ask("13600136001");
    await ask("13600136002");
    const response = await fetch(`${api.url}/v1/check`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${api.token}` },
      body: JSON.stringify({ items: [{ type: "phone", value: "13600136003" }], providers: [provider.address] }),
    });
    const body = await response.json() as { providers: { status: string; code?: string }[] };
    expect(body.providers[0]).to.include({ status: "denied", code: "E_BACKLOG" });
    const refusing = await providerHealthWhen((h) => h.status === "refusing");
    expect(refusing.reasons.join(" ")).to.contain("outbox is full");
    await proxy.restore();
    await providerHealthWhen((h) => h.ledger.backlog === 0 && h.status === "ok");
    await ask("13600136004");
    await updateConfig(provider.dataDir, (c) => ({ ...c, ledger: { ...c.ledger, maxBacklog: 50_000 } }));
  });

  it("lands the records of a provider killed (SIGKILL) after answering, once, after its restart", async () => {
    const stopped = await providerProcess!.kill("SIGTERM");
    expect(stopped, providerProcess!.log()).to.equal(0);
    await setFlushInterval(600_000); // records stay in the outbox until the kill
    providerProcess = await startNodeProcess(provider.dataDir);
    await querierNode.connect(providerProcess.runtime.multiaddrs);
    const before = await ledger();
    for (let i = 0; i < 3; i++) await ask(`1370013700${i}`);
    await providerProcess.kill("SIGKILL");
    expect((await ledger()).records.length, "the killed provider had not flushed").to.equal(before.records.length);
    await setFlushInterval(300);
    providerProcess = await startNodeProcess(provider.dataDir);
    const state = await landed(before.records.length + 3);
    expect(state.records).to.have.length(answered.length);
    for (const queryId of answered) expect(state.records.filter((r) => r.queryId === queryId), queryId).to.have.length(1);
    expect(state.batches.map((b) => b.seq)).to.deep.equal(state.batches.map((_, i) => BigInt(i + 1)));
    expect(state.failures).to.deep.equal([]);
    // Through the outage, the full outbox and the kill, credits moved once per evaluated item answered and landed.
    const evaluated = state.records.filter((r) => r.outcome === 0 && r.kind === 0).reduce((sum, r) => sum + BigInt(r.itemCount), 0n);
    expect(evaluated > 0n).to.equal(true);
    expect(await balanceOf(querier), "the querier paid one credit per evaluated item").to.equal(startingBalances.querier - evaluated);
    expect(await balanceOf(provider), "the provider earned one per evaluated item").to.equal(startingBalances.provider + evaluated);
    // `riskshare credits` reads the same from chain.
    const run = await cli("--data-dir", querier.dataDir, "--json", "credits");
    expect(run.status, run.stdout + run.stderr).to.equal(0);
    expect(run.json()).to.deep.include({ member: querier.address, balance: (startingBalances.querier - evaluated).toString(), meteredItems: evaluated.toString(), servedItems: "0" });
    const served = await cli("--data-dir", querier.dataDir, "--json", "credits", "--member", provider.address);
    expect(served.json()).to.deep.include({ member: provider.address, servedItems: evaluated.toString(), meteredItems: "0" });
  });

  it("once its credits run out: the provider refuses an Evaluate they do not cover (DeniedCredits, nothing moved), the querier sends none", async () => {
    // Both nodes restart, so each reads the credits afresh (a running node re-reads them on every new block).
    await querierNode.close();
    await providerProcess!.kill("SIGTERM");
    providerProcess = await startNodeProcess(provider.dataDir);
    const left = await balanceOf(querier);
    expect(left > 0n && left < BigInt(UNCOVERED_SHAPE), `credits left: ${left}`).to.equal(true);
    const before = (await ledger()).records.length;

    // The provider's check, with a request built by hand under the querier's key and its next nonce
    // (its node is stopped: the counter is read from its store, and the node carries on above it).
    const store = new Store({ location: join(querier.dataDir, DATA_DIR_LAYOUT.dbDir), categories: new Map(DEFAULT_CATEGORIES.map((name, i) => [name, i + 1])) }, { logger: silentLogger() });
    await store.open();
    const nonce = await store.nonceCounters().next(provider.address).finally(() => store.close());
    const voprf = await createVoprf();
    const elements = Array.from({ length: UNCOVERED_SHAPE }, () => voprf.blind(getBytes(randomBytes(32))).blindedElement);
    const request: LookupRequest = {
      querier: querier.address, provider: provider.address, kind: 0, categoryMask: maskOfCategories([1]), itemCount: UNCOVERED_SHAPE,
      itemsCommitment: evaluateCommitment(elements), nonce: nonceToBytes32(nonce), deadline: BigInt(Math.floor(Date.now() / 1000) + 50),
    };
    const connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
    const chainId = connection.chainId;
    connection.provider.destroy();
    const signature = digestSignerFromEvmKey(querier.privateKey).signDigest(lookupRequestDigestBytes(chainId, addresses.ledger, request));
    const reply = await exchangeAs(querier, { request: toWireRequest(request), signature, elements: elements.map((e) => hexlify(e)) });
    expect(reply, JSON.stringify(reply)).to.deep.include({ ok: false });
    expect((reply as { error: { code: string } }).error.code).to.equal("E_CREDITS_EXHAUSTED");
    const refused = await landed(before + 1);
    expect(refused.records.at(-1), "recorded, against the querier").to.include({ outcome: QueryOutcome.DeniedCredits, itemCount: UNCOVERED_SHAPE, querier: querier.address });
    expect(refused.failures, "audit verify holds a DeniedCredits record to its signed request and refusal digest").to.deep.equal([]);
    expect(await balanceOf(querier), "a refusal moves nothing").to.equal(left);

    // The querier's own check: a check whose Evaluate would carry more items than its credits cover is not sent.
    querierNode = await RiskshareNode.open({ dataDir: querier.dataDir }, { logger: silentLogger() });
    api = { url: (await querierNode.start()).apiUrl, token: api.token };
    await querierNode.connect(providerProcess.runtime.multiaddrs);
    const items = Array.from({ length: Number(left) + 1 }, (_, i) => ({ type: "phone", value: `135001350${String(i).padStart(2, "0")}` }));
    const response = await fetch(`${api.url}/v1/check`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${api.token}` },
      body: JSON.stringify({ items, providers: [provider.address] }),
    });
    const body = await response.json() as { verdict: string; providers: { status: string; code?: string; queryId?: string }[] };
    expect(body.providers[0], JSON.stringify(body)).to.deep.equal({ ...body.providers[0], status: "skipped", code: "E_CREDITS_EXHAUSTED" });
    expect(body.providers[0]!.queryId, "nothing signed, nothing sent").to.equal(undefined);
    expect(body.verdict, "never a miss").to.equal("incomplete");
    const smaller = await fetch(`${api.url}/v1/check`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${api.token}` },
      body: JSON.stringify({ items: items.slice(0, 1), providers: [provider.address] }),
    });
    expect(((await smaller.json()) as typeof body).providers[0], "one item is still covered").to.include({ status: "answered" });
  });
});
