/**
 * `/riskshare/filter/1` and FilterSync between real libp2p nodes on loopback. The base filter here
 * is a test stand-in (sorted 8-byte tags); the store branch builds the real fuse/xor filter.
 */
import { expect } from "chai";
import { randomBytes, Wallet } from "ethers";
import { silentLogger } from "../../node/logger.ts";
import type { ReciprocityDecision } from "../../node/policy/index.ts";
import {
  baseFilterHash, createHost, digestSignerFromEvmKey, encodeFilterState, filter, filterStateDigest, FilterSync, type FilterDelta, type FilterRemovalListener, type FilterRemovals,
  type FilterService, type HeldFilter, type RiskshareHost,
  type SourceFilterState,
} from "../../node/p2p/index.ts";
import { FakeChain } from "./p2p.fixtures.ts";

const tag = () => new Uint8Array(randomBytes(8));
const hex = (t: Uint8Array) => `0x${Buffer.from(t).toString("hex")}`;
/** Test base filter: the tags, sorted, concatenated. */
const buildBase = (tags: Iterable<Uint8Array>) => new Uint8Array(Buffer.concat([...tags].map((t) => Buffer.from(t)).sort(Buffer.compare)));
/** The test base filter's key count: its 8-byte tags. */
const filterCount = (base: Uint8Array) => base.length / 8;
const filterContains = (base: Uint8Array, t: Uint8Array) => {
  for (let at = 0; at < base.length; at += 8) if (Buffer.compare(base.subarray(at, at + 8), t) === 0) return true;
  return false;
};

/** A provider's filters for category 1: a base and a delta log. */
class FakeFilterSource {
  base = new Uint8Array();
  baseCount = 0;
  deltas: FilterDelta[] = [];
  epoch = 1;
  rebuild(tags: Uint8Array[]): void {
    this.base = buildBase(tags);
    this.baseCount = tags.length;
    this.deltas = [];
  }
  add(t: Uint8Array): void {
    this.deltas.push({ seq: this.deltas.length + 1, adds: [t], removes: [] });
  }
  remove(t: Uint8Array, notice?: Uint8Array): void {
    this.deltas.push({ seq: this.deltas.length + 1, adds: [], removes: [t], ...(notice === undefined ? {} : { notices: [{ tag: t, sealed: notice }] }) });
  }
  async filterState(): Promise<SourceFilterState | undefined> {
    return { epoch: this.epoch, baseHash: baseFilterHash(this.base), baseCount: this.baseCount, seq: this.deltas.length };
  }
  async baseFilter(): Promise<Uint8Array> {
    return this.base;
  }
  async deltasSince(_category: number, seq: number): Promise<FilterDelta[]> {
    return this.deltas.filter((d) => d.seq > seq);
  }
}

class MemoryCache {
  readonly held = new Map<string, HeldFilter>();
  async get(provider: string, category: number) {
    return this.held.get(`${provider}/${category}`);
  }
  async put(provider: string, category: number, f: HeldFilter) {
    this.held.set(`${provider}/${category}`, f);
  }
}

describe("p2p: filter/1 and FilterSync", function () {
  this.timeout(60_000);
  const chain = new FakeChain();
  let provider: { wallet: Wallet; host: RiskshareHost; service: FilterService; source: FakeFilterSource; decision: ReciprocityDecision };
  let querierHost: RiskshareHost;
  const published = new Map<string, { keyEpoch: number; filterHash: string; liveCount: bigint }>();

  const newSync = (opts: { signerOf?: string; removals?: FilterRemovalListener } = {}) =>
    new FilterSync({ filterPollMs: 50, timeoutMs: 5_000 }, {
      dialer: querierHost.libp2p,
      directory: {
        targets: () => [{ providerAddress: opts.signerOf ?? provider.wallet.address, peer: provider.host.getMultiaddrs(), categoryIds: [1] }],
        snapshot: (p, c) => published.get(`${p.toLowerCase()}/${c}`),
      },
      cache: new MemoryCache(),
      filterContains,
      filterCount,
      logger: silentLogger(),
      removals: opts.removals,
    });

  before(async () => {
    const wallet = Wallet.createRandom() as unknown as Wallet;
    const querier = Wallet.createRandom();
    chain.add(wallet.address);
    chain.add(querier.address);
    const host = await createHost({ privateKey: wallet.privateKey }, { logger: silentLogger(), membership: chain });
    querierHost = await createHost({ privateKey: querier.privateKey }, { logger: silentLogger(), membership: chain });
    await host.start();
    await querierHost.start();
    const source = new FakeFilterSource();
    provider = { wallet, host, source, decision: { allowed: true, quotaRemaining: 1 }, service: undefined as unknown as FilterService };
    provider.service = filter()({
      registrar: host.libp2p, membership: chain, signer: digestSignerFromEvmKey(wallet.privateKey), source,
      reciprocity: { eligible: () => provider.decision }, logger: silentLogger(),
    });
    await provider.service.start();
  });
  after(async () => {
    await provider?.service.stop();
    await Promise.allSettled([provider?.host.stop(), querierHost?.stop()]);
  });
  beforeEach(() => {
    published.clear();
    provider.decision = { allowed: true, quotaRemaining: 1 };
  });

  it("downloads the base (in chunks when large) and answers contains locally; a delta at the provider is visible after one poll", async () => {
    const tags = Array.from({ length: 70_000 }, tag); // 560 KB: two chunks
    provider.source.rebuild(tags);
    published.set(`${provider.wallet.address.toLowerCase()}/1`, { keyEpoch: 1, filterHash: baseFilterHash(provider.source.base), liveCount: 70_000n });
    const sync = newSync();
    const first = await sync.syncOnce();
    expect(first.map((r) => r.ok)).to.deep.equal([true]);
    expect(sync.contains(provider.wallet.address, 1, 1, tags[123]!)).to.equal(true);
    expect(sync.contains(provider.wallet.address, 1, 2, tags[123]!), "another epoch").to.equal(undefined);
    expect(sync.contains(provider.wallet.address, 2, 1, tags[123]!), "another category").to.equal(undefined);
    const added = tag();
    expect(sync.contains(provider.wallet.address, 1, 1, added)).to.equal(false);
    provider.source.add(added);
    provider.source.remove(tags[5]!);
    await sync.syncOnce();
    expect(sync.contains(provider.wallet.address, 1, 1, added), "added").to.equal(true);
    expect(sync.contains(provider.wallet.address, 1, 1, tags[5]!), "removed").to.equal(false);
    expect(sync.held(provider.wallet.address, 1)).to.include({ seq: 2, epoch: 1 });
  });

  it("hands each taken state's removals and their sealed notices to the removals listener, signed with the state", async () => {
    const tags = [tag(), tag(), tag()];
    provider.source.rebuild(tags);
    const told: FilterRemovals[] = [];
    const sync = newSync({ removals: { applyRemovals: async (removals) => told.push(removals) } });
    await sync.syncOnce();
    expect(told.map((r) => r.removes), "the base's state removes nothing").to.deep.equal([[]]);
    const notice = new Uint8Array(randomBytes(68));
    provider.source.remove(tags[0]!, notice);
    provider.source.remove(tags[1]!);
    provider.source.add(tags[2]!);
    provider.source.remove(tags[2]!, new Uint8Array(randomBytes(68)));
    provider.source.add(tags[2]!); // listed again: a plain add, its notice gone
    const [result] = await sync.syncOnce();
    expect(result!.ok).to.equal(true);
    const last = told.at(-1)!;
    expect(last).to.deep.include({ providerAddress: provider.wallet.address, categoryId: 1, keyEpoch: 1 });
    expect([...last.removes]).to.have.members([hex(tags[0]!), hex(tags[1]!)]);
    expect([...last.notices.keys()]).to.deep.equal([hex(tags[0]!)]);
    expect(Buffer.from(last.notices.get(hex(tags[0]!))!).equals(notice)).to.equal(true);
    expect(sync.contains(provider.wallet.address, 1, 1, tags[0]!)).to.equal(false);
    expect(sync.contains(provider.wallet.address, 1, 1, tags[2]!)).to.equal(true);
  });

  it("signs a state without notices exactly as before notices existed", () => {
    const state = {
      provider: provider.wallet.address, category: 1, epoch: 1, baseHash: `0x${"11".repeat(32)}`, baseCount: 3, fromSeq: 1, seq: 2, adds: [hex(tag())], removes: [hex(tag())],
    };
    const withNotices = { ...state, notices: [{ tag: state.removes[0]!, sealed: Buffer.from(randomBytes(68)).toString("base64") }] };
    const legacyLength = 25 + 20 + 1 + 4 + 32 + 24 + 4 + 8 + 4 + 8;
    expect(encodeFilterState(state).length).to.equal(legacyLength);
    expect(encodeFilterState(withNotices).length).to.equal(legacyLength + 4 + 8 + 2 + 68);
    expect(hex(filterStateDigest(withNotices))).to.not.equal(hex(filterStateDigest(state)));
  });

  it("polls on its own until its signal aborts", async () => {
    provider.source.rebuild([tag()]);
    const sync = newSync();
    const abort = new AbortController();
    await sync.start(abort.signal);
    try {
      const added = tag();
      provider.source.add(added);
      for (let i = 0; i < 100 && sync.contains(provider.wallet.address, 1, 1, added) !== true; i += 1) await new Promise((r) => setTimeout(r, 20));
      expect(sync.contains(provider.wallet.address, 1, 1, added)).to.equal(true);
    } finally {
      abort.abort();
      await sync.stop();
    }
  });

  it("refuses a state not signed by the provider named (E_BAD_SIGNATURE) and holds nothing", async () => {
    // a provider whose states are signed by another key than its member key
    const wallet = Wallet.createRandom();
    chain.add(wallet.address);
    const host = await createHost({ privateKey: wallet.privateKey }, { logger: silentLogger(), membership: chain });
    const other = digestSignerFromEvmKey(Wallet.createRandom().privateKey);
    const source = new FakeFilterSource();
    source.rebuild([tag()]);
    const forger = filter()({
      registrar: host.libp2p, membership: chain, signer: { address: wallet.address, signDigest: (d) => other.signDigest(d) }, source,
      reciprocity: { eligible: () => ({ allowed: true, quotaRemaining: 1 }) }, logger: silentLogger(),
    });
    await host.start();
    await forger.start();
    try {
      const sync = new FilterSync({ filterPollMs: 50 }, {
        dialer: querierHost.libp2p,
        directory: { targets: () => [{ providerAddress: wallet.address, peer: host.getMultiaddrs(), categoryIds: [1] }], snapshot: () => undefined },
        cache: new MemoryCache(), filterContains, filterCount, logger: silentLogger(),
      });
      const results = await sync.syncOnce();
      expect(results[0]).to.include({ ok: false, code: "E_BAD_SIGNATURE" });
      expect(sync.contains(wallet.address, 1, 1, tag())).to.equal(undefined);
    } finally {
      await forger.stop();
      await host.stop();
    }
  });

  it("refuses a base whose hash is not the one published on chain (E_FILTER_INVALID), then backs off", async () => {
    provider.source.rebuild([tag()]);
    published.set(`${provider.wallet.address.toLowerCase()}/1`, { keyEpoch: 1, filterHash: `0x${"00".repeat(32)}`, liveCount: 1n });
    const sync = newSync();
    const results = await sync.syncOnce();
    expect(results[0]).to.include({ ok: false, code: "E_FILTER_INVALID" });
    expect(sync.contains(provider.wallet.address, 1, 1, tag())).to.equal(undefined);
    const again = await sync.syncOnce();
    expect(again[0], "no hammering: the next poll is skipped").to.include({ skipped: true });
  });

  it("refuses a base whose filter holds another key count than the on-chain live count (E_CONTRIBUTION_IMPLAUSIBLE), marks the provider, and takes it once the count agrees", async () => {
    const tags = [tag(), tag(), tag()];
    provider.source.rebuild(tags);
    const at = `${provider.wallet.address.toLowerCase()}/1`;
    const filterHash = baseFilterHash(provider.source.base);
    // The provider committed to a filter of 3 tags but claims a million entries on chain (an inflated quota).
    published.set(at, { keyEpoch: 1, filterHash, liveCount: 1_000_000n });
    const sync = newSync();
    const refused = await sync.syncOnce();
    expect(refused[0]).to.include({ ok: false, code: "E_CONTRIBUTION_IMPLAUSIBLE" });
    expect(sync.contains(provider.wallet.address, 1, 1, tags[0]!), "the filter is not taken").to.equal(undefined);
    expect(sync.implausibleSnapshots()).to.deep.equal([{ providerAddress: provider.wallet.address, categoryId: 1, liveCount: "1000000", filterCount: 3 }]);
    // The honest snapshot of the same filter: taken, and the mark is gone.
    published.set(at, { keyEpoch: 1, filterHash, liveCount: 3n });
    const taken = await sync.syncOnce(undefined, { retryNow: true });
    expect(taken[0]).to.include({ ok: true });
    expect(sync.contains(provider.wallet.address, 1, 1, tags[0]!)).to.equal(true);
    expect(sync.implausibleSnapshots()).to.deep.equal([]);
    // A later snapshot that inflates the count again drops the filter already held.
    published.set(at, { keyEpoch: 1, filterHash, liveCount: 4n });
    expect((await sync.syncOnce(undefined, { retryNow: true }))[0]).to.include({ ok: false, code: "E_CONTRIBUTION_IMPLAUSIBLE" });
    expect(sync.contains(provider.wallet.address, 1, 1, tags[0]!), "the held filter is dropped").to.equal(undefined);
  });

  it("gates the download on reciprocity for the category", async () => {
    provider.source.rebuild([tag()]);
    provider.decision = { allowed: false, reason: "no_contribution", categoryId: 1 };
    const sync = newSync();
    const results = await sync.syncOnce();
    expect(results[0]).to.include({ ok: false, code: "E_RECIPROCITY" });
    expect(sync.contains(provider.wallet.address, 1, 1, tag())).to.equal(undefined);
  });
});
