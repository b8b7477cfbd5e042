/**
 * Soak: lookups across three member nodes (real LevelDB, libp2p on 127.0.0.1, a Hardhat chain),
 * every node asking the other two through its local API (a fan-out), round after round, with the
 * memory sampled as it goes. No lookup may fail, memory must show no growth trend, and every
 * lookup must have landed on chain once. Speed is not asserted here (see `npm run bench`).
 *
 * The three nodes run in this process so that a full garbage collection can be forced before
 * each sample: without it, the resident size of a young process climbs for minutes while V8 sizes
 * its heap (it collects the old generation only near a growing limit), and a soak of a few
 * thousand lookups would measure that climb, not a leak. After a forced collection, what the old
 * generation, the large objects and the buffers outside the heap still hold is what is retained.
 * (The code spaces are left out: they grow while the JIT optimises more functions, and level off.)
 *
 * Sizes: RISKSHARE_HARDENING_FULL=1 runs 100,000 lookups; the default run 3,000.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { expect } from "chai";
import { hexlify, randomBytes } from "ethers";
import { KeyStore } from "../../node/config/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { RiskshareNode } from "../../node/node.ts";
import { apiClient, expectLedgerMatches, forProvider, FULL, LIST_HEADER, startConsortium, type ApiClient, type Consortium } from "./support/consortium.ts";

/** Peer lookups in the soak: each check asks the two other members, so two lookups per check. */
const LOOKUPS = FULL ? 100_000 : 3_000;
/** Checks in flight at once (two per member). */
const CONCURRENCY = 6;
/** Memory samples over the run. */
const SAMPLES = 40;
/** The first part of the run is warm-up (JIT, caches, connection state), left out of the trend. */
const WARM_UP_SHARE = 0.2;

/**
 * Bound on the retained memory's trend after warm-up, in bytes per lookup (the three nodes
 * together). A lookup moves ~2 KB of frames and builds tens of KB of short-lived objects; a leak
 * keeps some of them for good — a request, an answer, a stream's bookkeeping, an abort signal
 * (the ~1 KB per check this test found in the API) — each 0.5-5 KB. After a forced collection the
 * retained memory is steady to within ~0.5 MB over a run (44 B per lookup measured over 3,000,
 * ~0 over 12,000), so 256 B per lookup sits above that noise and below any such leak.
 */
const MAX_RETAINED_BYTES_PER_LOOKUP = 256;
/**
 * The resident size also holds what fills up and then stays bounded: LevelDB's memtables (4 MiB
 * per node before they are written out) and block caches (8 MiB per node), the JIT's code, the
 * allocator's slack: at most ~48 MB for the three nodes. Its growth over the measured part of the
 * run may be that, plus 512 B per lookup; and the median of the last third of the samples may be
 * at most 10% above that of the first third. (At 3,000 lookups it grew ~4 KB per lookup, ~1% in all.)
 */
const BOUNDED_CACHES_BYTES = 48 * 1024 * 1024;
const MAX_RSS_BYTES_PER_LOOKUP = 512;
const MAX_RSS_GROWTH = 1.1;

const POLICY = { minEntries: 1n, maxSnapshotAgeSeconds: 86_400n, quotaBase: 10_000_000n, quotaRatioBps: 0n, quotaCeiling: 10_000_000n };
const MB = 1024 * 1024;

/** A full garbage collection, without starting node with --expose-gc. */
function collectGarbage(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/** What a forced collection leaves: old generation, large objects, and buffers outside the heap. */
function retainedBytes(): number {
  const used = new Map(getHeapSpaceStatistics().map((space) => [space.space_name, space.space_used_size]));
  return (used.get("old_space") ?? 0) + (used.get("large_object_space") ?? 0) + process.memoryUsage().external;
}

/** Least-squares slope of y over x. */
function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

describe("soak: lookups across three member nodes, memory sampled", function () {
  this.timeout(FULL ? 3_600_000 : 600_000);
  let consortium: Consortium;
  const nodes: RiskshareNode[] = [];
  const apis: ApiClient[] = [];
  /**
   * Query ids each provider answered (its ledger must hold exactly these at the end), 32 bytes
   * each in a buffer allocated before the run: the test itself retains nothing per lookup. A
   * provider is asked in two thirds of the checks, an Evaluate and at most one Fetch each.
   */
  const servedBy = new Map<string, { ids: Buffer; count: number }>();

  before(async () => {
    consortium = await startConsortium({ names: ["Bank A", "Bank B", "Bank C"], policy: POLICY });
    for (const member of consortium.members) {
      await consortium.importAndPublish(member, `${LIST_HEADER}\ndevice_id,${member.name}-dev-1,fraud_confirmed,2,R01,2026-01-01\nphone,13800138000,fraud_confirmed,4,R02,2026-01-01\n`);
    }
    for (const member of consortium.members) {
      const node = await RiskshareNode.open({ dataDir: member.dataDir }, { logger: silentLogger() });
      nodes.push(node);
      const info = await node.start();
      apis.push(apiClient(info.apiUrl, await new KeyStore({ dataDir: member.dataDir }).apiToken()));
      servedBy.set(member.address, { ids: Buffer.alloc(LOOKUPS * 2 * 32), count: 0 });
    }
    for (const node of nodes) await node.connect(consortium.members.map((m) => m.multiaddr));
  });

  after(async () => {
    for (const node of nodes.reverse()) await node.close();
    await consortium?.stop();
  });

  it(`serves ${LOOKUPS} lookups without an error, with no growth trend in memory`, async () => {
    const gc = collectGarbage();
    const checks = LOOKUPS / 2;
    const sampleEvery = Math.max(1, Math.floor(checks / SAMPLES));
    const samples: { lookups: number; retained: number; rss: number }[] = [];
    const failures: string[] = [];
    let started = 0;
    let hits = 0;
    /** Runs `count` more checks, CONCURRENCY at a time, round-robin over the three nodes. */
    const run = (count: number) => {
      const until = started + count;
      return Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (started < until && failures.length === 0) {
          const index = started++;
          // Mostly fresh identifiers (misses at both providers), every tenth the listed one (hits).
          const value = index % 10 === 0 ? "13800138000" : `139${String(Number.parseInt(hexlify(randomBytes(4)).slice(2), 16) % 100_000_000).padStart(8, "0")}`;
          const { status, body } = await apis[index % apis.length]!.check({ items: [{ type: "phone", value }], categories: ["fraud_confirmed"] });
          if (status !== 200 || body.providers?.length !== 2) failures.push(`check ${index}: ${status} ${JSON.stringify(body).slice(0, 300)}`);
          for (const provider of body.providers ?? []) {
            if (provider.status !== "answered") {
              failures.push(`check ${index}: ${provider.name} ${provider.status} ${provider.code ?? ""}`);
              continue;
            }
            // An Evaluate, and the Fetches after it (a hit's, or a cover fetch): each one a record.
            const served = servedBy.get(provider.address)!;
            const cover = provider.coverFetchQueryId === undefined ? [] : [provider.coverFetchQueryId];
            for (const queryId of [provider.queryId!, ...(provider.fetchQueryIds ?? []), ...cover]) served.ids.write(queryId.slice(2), served.count++ * 32, "hex");
          }
          if (body.verdict === "hit") hits++;
        }
      }));
    };
    while (started < checks && failures.length === 0) {
      await run(Math.min(sampleEvery, checks - started));
      // Collect, let the finalizers run (they prune the weak references abort signals keep), collect again.
      gc();
      await new Promise((resolve) => setImmediate(resolve));
      gc();
      samples.push({ lookups: started * 2, retained: retainedBytes(), rss: process.memoryUsage().rss });
    }
    expect(failures, "failed lookups").to.deep.equal([]);
    expect(hits, "checks of the listed identifier found it").to.equal(Math.ceil(checks / 10));

    const steady = samples.filter((s) => s.lookups > LOOKUPS * WARM_UP_SHARE);
    const measuredLookups = steady.at(-1)!.lookups - steady[0]!.lookups;
    const third = Math.floor(steady.length / 3);
    const retainedSlope = slope(steady.map((s) => ({ x: s.lookups, y: s.retained })));
    const rssSlope = slope(steady.map((s) => ({ x: s.lookups, y: s.rss })));
    const rssFirst = median(steady.slice(0, third).map((s) => s.rss));
    const rssLast = median(steady.slice(-third).map((s) => s.rss));
    console.log(`      (retained after GC ${(steady[0]!.retained / MB).toFixed(1)} → ${(steady.at(-1)!.retained / MB).toFixed(1)} MB, trend ${retainedSlope.toFixed(0)} B/lookup; ` +
      `RSS median ${(rssFirst / MB).toFixed(0)} → ${(rssLast / MB).toFixed(0)} MB, trend ${rssSlope.toFixed(0)} B/lookup)`);
    expect(retainedSlope, "retained memory per lookup (bytes)").to.be.below(MAX_RETAINED_BYTES_PER_LOOKUP);
    expect(rssSlope, "resident size per lookup (bytes)").to.be.below(MAX_RSS_BYTES_PER_LOOKUP + BOUNDED_CACHES_BYTES / measuredLookups);
    expect(rssLast, "resident size, median of the last third vs the first").to.be.at.most(rssFirst * MAX_RSS_GROWTH);
  });

  it("has landed every lookup on chain once, at each of the three providers", async () => {
    for (const node of nodes) await node.settleLookups();
    for (const node of nodes) await node.flushLedger();
    const ledger = await consortium.ledger();
    for (const member of consortium.members) {
      const served = servedBy.get(member.address)!;
      const ids = Array.from({ length: served.count }, (_, i) => `0x${served.ids.toString("hex", i * 32, (i + 1) * 32)}`);
      expectLedgerMatches(forProvider(ledger, member.address), ids, `${member.name}'s ledger`);
    }
  });
});
