/**
 * Suite 3b, lookups while the provider imports a list: the p99 of the lookups of `lookup.p99_ms`
 * (one identifier that is not listed, the default share of cover fetches, one after another) that a
 * provider answers while a list is imported into its own store, through the path a running node
 * takes: the list POSTed to the node's local API (`/v1/entries`), imported by a ListService with
 * the node's default import worker count, on the thread that answers the lookups and into the
 * store they read. The provider runs in a worker thread of its own (provider-worker.ts: its own
 * event loop, as on its own machine); the querier, in this thread, also streams the file, as the
 * CLI would. The provider's store holds 1M entries (100k with --quick); the list adds 300k rows of
 * new identifiers (50k with --quick), spread over the four categories as the import suite's are.
 *
 * Bucket bits follow the provider's published live counts, and an import makes a list outgrow them
 * (a node publishes afterwards): before any clock runs, each category's snapshot is re-published
 * with its live count after the import, so every Fetch — before, during and after — uses the same
 * bucket bits and no bucket outgrows them (E_SNAPSHOT_STALE), whichever category the lookups ask.
 *
 * - lookup.p99_during_import_ms: p99 of the lookups sent from the import's start to its answer;
 *   baseline: the same lookups on the same provider with no import running, half just before the
 *   import, half just after (its store then at the final size).
 *
 * Also printed: the import's rows/s meanwhile. The provider's ledger outbox must have recorded every
 * lookup and cover fetch sent, so a refused Fetch cannot pass for a fast one.
 */
import { createReadStream } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ImportSummaryResponse } from "../../node/api/index.ts";
import { CONFIG_DEFAULTS } from "../../node/config/index.ts";
import { LOOKUP_DEFAULTS, type QueryItem } from "../../node/p2p/index.ts";
import { BENCH_CATEGORIES, Prng, writeCsv } from "./data.ts";
import { answered, QUERY_TYPES, sizeLabel, UNLISTED_FROM } from "./lookup.ts";
import { BENCH_CATEGORY_IDS, benchWallet, BenchChain, identifiers, startMember, stopMembers, syncFilters, type BenchMember } from "./members.ts";
import { startProviderWorker, type CategoryCount, type LoopDelay, type ProviderHandle } from "./provider-worker.ts";
import { result, type ReportedResult } from "./report.ts";
import { summarise } from "./stats.ts";
import type { Suite, SuiteContext } from "./suite.ts";

/** Where the imported list's values start, per type: far from the listed (0…) and the queried (UNLISTED_FROM…) ones. */
const IMPORT_FIRST_VALUE_INDEX = 5_000_000;
/** Distinct identifiers the lookups cycle through (a repeat is a fresh lookup: fresh blinds). */
const QUERY_POOL = 2_000;
/** Lookups before any clock runs: connection, JIT, and the provider settling after its fill. */
const WARMUP_LOOKUPS = 300;
/** How long the provider may take to record the last cover fetches once the lookups stop. */
const SETTLE_MS = 10_000;

interface Sizes {
  entries: number;
  importRows: number;
  /** Lookups with no import running, before it and again after it. */
  baselineEach: number;
}

function sizes(quick: boolean): Sizes {
  return quick ? { entries: 100_000, importRows: 50_000, baselineEach: 200 } : { entries: 1_000_000, importRows: 300_000, baselineEach: 1_000 };
}

/** Rows of a generated CSV per category id (the generator writes no quotes or commas inside a field). */
async function rowsPerCategory(csv: string): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  const lines = (await readFile(csv, "utf8")).split("\n");
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const categoryId = BENCH_CATEGORIES.get(line.split(",", 3)[2]!);
    if (categoryId === undefined) throw new Error(`a generated row has no bench category: ${line.slice(0, 40)}`);
    counts.set(categoryId, (counts.get(categoryId) ?? 0) + 1);
  }
  return counts;
}

/** Streams the CSV to the provider's POST /v1/entries, as `riskshare list import` does to a running node; resolves with its summary. */
async function postList(api: NonNullable<ProviderHandle["api"]>, csv: string, bytes: number, signal: AbortSignal): Promise<ImportSummaryResponse> {
  const response = await fetch(`${api.url}/v1/entries?name=list.csv`, {
    method: "POST",
    headers: { authorization: `Bearer ${api.token}`, "content-type": "text/csv", "content-length": String(bytes) },
    body: createReadStream(csv, { highWaterMark: 256 * 1024 }) as unknown as RequestInit["body"],
    duplex: "half",
    signal,
  } as RequestInit);
  const body = (await response.json()) as unknown;
  if (response.status !== 200) throw new Error(`POST /v1/entries answered ${response.status}: ${JSON.stringify(body)}`);
  return body as ImportSummaryResponse;
}

/** Waits until the provider has recorded `expected` requests; throws if it recorded fewer once the time is up. */
async function assertAllRecorded(provider: ProviderHandle, expected: number, ctx: SuiteContext): Promise<void> {
  const until = performance.now() + SETTLE_MS;
  for (;;) {
    const records = await provider.outboxRecords();
    if (records === expected) return;
    if (records > expected || performance.now() > until) {
      throw new Error(`the provider recorded ${records} requests, ${expected} were sent (lookups and cover fetches): some were refused, a figure of them would be meaningless`);
    }
    ctx.signal.throwIfAborted();
    await sleep(100);
  }
}

/** The lookup-during-import suite. */
export const lookupImportSuite: Suite = {
  name: "lookup-import",
  async run(ctx) {
    const size = sizes(ctx.quick);
    const rng = new Prng(ctx.seed ^ 0x6c69);
    const chain = new BenchChain();
    const dir = await mkdtemp(join(tmpdir(), "riskshare-bench-lookup-import-"));
    let querier: BenchMember | undefined;
    let provider: ProviderHandle | undefined;
    let importing: Promise<unknown> | undefined;
    const abortImport = new AbortController();
    try {
      const csv = join(dir, "list.csv");
      const generated = performance.now();
      const bytes = await writeCsv(csv, size.importRows, ctx.seed ^ 0x6c69, { firstValueIndex: IMPORT_FIRST_VALUE_INDEX });
      const perCategory = await rowsPerCategory(csv);
      ctx.log(`lookup-import: ${size.importRows.toLocaleString("en-US")}-row list generated (${(bytes / 2 ** 20).toFixed(0)} MiB, new identifiers in the ${perCategory.size} categories) in ${((performance.now() - generated) / 1000).toFixed(1)} s`);

      querier = await startMember(chain, benchWallet(rng), rng);
      const q = querier;
      const filled = performance.now();
      provider = await startProviderWorker({ privateKey: benchWallet(rng).privateKey, seed: ctx.seed ^ 0x7072, entries: size.entries, listed: [], admit: [q.address], api: true });
      const p = provider;
      chain.add(p.address, p.multiaddrs);
      chain.publishKey(p.address, 1, p.publicKey);
      for (const { categoryId, ...snapshot } of p.snapshots) chain.publishSnapshot(p.address, categoryId, snapshot);
      await syncFilters(q);
      ctx.log(`lookup-import: provider (worker thread) store of ${size.entries.toLocaleString("en-US")} entries filled and published, its filters taken by the querier, in ${((performance.now() - filled) / 1000).toFixed(1)} s`);

      // Every snapshot at its size after the import, on both sides, before any clock runs (see the header).
      const finalCounts: CategoryCount[] = p.snapshots.map((s) => ({ categoryId: s.categoryId, liveCount: s.liveCount + (perCategory.get(s.categoryId) ?? 0) }));
      await p.setLiveCounts(finalCounts);
      for (const { categoryId, liveCount } of finalCounts) chain.publishSnapshot(p.address, categoryId, { ...chain.snapshotOf(p.address, categoryId)!, liveCount });
      ctx.log(`lookup-import: live counts published for the final size: ${p.snapshots.map((s) => `category ${s.categoryId} ${s.liveCount.toLocaleString("en-US")} → ${finalCounts.find((c) => c.categoryId === s.categoryId)!.liveCount.toLocaleString("en-US")}`).join(", ")}`);

      const peer = p.multiaddrs;
      const categoryIds = [...BENCH_CATEGORY_IDS];
      const pool: QueryItem[] = identifiers(ctx.seed, QUERY_TYPES, UNLISTED_FROM, QUERY_POOL);
      let sent = 0;
      let covers = 0;
      const ask = async (): Promise<number> => {
        const item = pool[sent % pool.length]!;
        const started = performance.now();
        const outcome = answered(await q.lookup.lookupPeer(peer, { providerAddress: p.address, items: [item], categoryIds }));
        const elapsed = performance.now() - started;
        sent++;
        if (outcome.results[0]!.hit) throw new Error("an identifier never listed was found");
        if (outcome.coverFetchQueryId !== undefined) covers++;
        return elapsed;
      };
      const askMany = async (count: number): Promise<number[]> => {
        const samples: number[] = [];
        for (let i = 0; i < count; i++) {
          ctx.signal.throwIfAborted();
          samples.push(await ask());
        }
        return samples;
      };

      await askMany(WARMUP_LOOKUPS);
      await p.loopDelay();
      const before = await askMany(size.baselineEach);
      const loopBefore = await p.loopDelay();

      // The import, and lookups one after another until the node answers the POST.
      let done = false;
      const importStarted = performance.now();
      const posted = postList(p.api!, csv, bytes, AbortSignal.any([ctx.signal, abortImport.signal])).finally(() => (done = true));
      importing = posted.catch(() => undefined);
      const during: number[] = [];
      while (!done) {
        ctx.signal.throwIfAborted();
        during.push(await ask());
      }
      const summary = await posted;
      const loopDuring = await p.loopDelay();
      const importWallS = (performance.now() - importStarted) / 1000;
      if (summary.rejected > 0 || summary.imported !== size.importRows) {
        throw new Error(`the generated list should import whole as new entries: ${summary.imported} imported, ${summary.rejected} rejected of ${size.importRows} (${JSON.stringify(summary.errors)})`);
      }
      const after = await askMany(size.baselineEach);
      const loopAfter = await p.loopDelay();
      await assertAllRecorded(p, sent + covers, ctx);

      const d = summarise(during);
      const b = summarise([...before, ...after]);
      const bBefore = summarise(before);
      const bAfter = summarise(after);
      const workers = CONFIG_DEFAULTS.lists.importWorkers;
      ctx.log(
        `lookup-import: the import of ${summary.rows.toLocaleString("en-US")} rows ran at ${Math.round(summary.rowsPerSec).toLocaleString("en-US")} rows/s (its own clock, ${(summary.elapsedMs / 1000).toFixed(1)} s; ` +
          `${importWallS.toFixed(1)} s from the POST to its answer) with ${workers} evaluating worker thread${workers === 1 ? "" : "s"} (lists.importWorkers default) and a reading one, while ${during.length} lookups were answered`,
      );
      ctx.log(
        `lookup-import: during the import p50 ${d.p50.toFixed(2)} / p90 ${d.p90.toFixed(2)} / p99 ${d.p99.toFixed(2)} / max ${d.max.toFixed(1)} ms; ` +
          `no import p50 ${b.p50.toFixed(2)} / p99 ${b.p99.toFixed(2)} ms (before ${bBefore.p50.toFixed(2)} / ${bBefore.p99.toFixed(2)}, after ${bAfter.p50.toFixed(2)} / ${bAfter.p99.toFixed(2)}); ` +
          `${covers} of ${sent} lookups sent a cover fetch (coverFetchRate ${LOOKUP_DEFAULTS.coverFetchRate}, the default), all recorded by the provider`,
      );
      const loop = (l: LoopDelay) => `p50 ${l.p50Ms.toFixed(1)} / p99 ${l.p99Ms.toFixed(1)} / max ${l.maxMs.toFixed(1)} ms (${l.gcCount} GCs, ${l.gcTotalMs.toFixed(0)} ms in all, longest ${l.gcMaxMs.toFixed(1)})`;
      ctx.log(`lookup-import: the provider thread's event-loop delay during the import ${loop(loopDuring)}; before it ${loop(loopBefore)}, after it ${loop(loopAfter)}`);
      const measured = await p.liveCounts();
      const off = measured.filter((m) => m.liveCount !== finalCounts.find((c) => c.categoryId === m.categoryId)?.liveCount);
      if (off.length > 0) ctx.log(`lookup-import: note: live counts after the import differ from the ones published beforehand: ${JSON.stringify(off)}`);

      const results: ReportedResult[] = [
        result({
          name: "lookup.p99_during_import_ms", value: d.p99, unit: "ms", baseline: b.p99,
          baselineIs: `same lookups, same provider, no import (${size.baselineEach} before, ${size.baselineEach} after); miss, ${sizeLabel(size.entries)} entries, ` +
            `a ${sizeLabel(size.importRows)}-row CSV via POST /v1/entries, ${workers} import worker; snapshots published at the final counts first, so fetch buckets keep their bits`,
        }),
      ];
      return results;
    } finally {
      abortImport.abort();
      await importing;
      await stopMembers([querier]);
      await provider?.stop().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  },
};
