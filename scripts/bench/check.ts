/**
 * Suite 2, local check: Store.checkOne (one identifier at a time) and Store.checkMany (1,000 at a
 * time) against a populated store, p50/p99 and throughput. Baseline: a plain LevelDB holding the
 * same keys and values, read with `getMany` of the same keys. 10% of the keys asked are listed
 * (most checks of a risk list miss). Store and baseline calls alternate, so both see the same
 * machine state.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { defaultIdentifierRegistry } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { encodeEntryKey, encodeEntryValue, Store, type EntryInput, type EntryKey } from "../../node/store/index.ts";
import { BENCH_CATEGORIES, Prng, TYPE_MIX } from "./data.ts";
import { result, type ReportedResult } from "./report.ts";
import { perSecond, summarise } from "./stats.ts";
import type { Suite, SuiteContext } from "./suite.ts";

const NOW_SEC = 1_767_225_600;
const BATCH_ITEMS = 1_000;
const HIT_SHARE = 0.1;
const WRITE_BATCH = 10_000;

interface Sizes {
  entries: number;
  singles: number;
  batches: number;
}

function sizes(quick: boolean): Sizes {
  return quick ? { entries: 200_000, singles: 5_000, batches: 100 } : { entries: 1_000_000, singles: 20_000, batches: 300 };
}

/** An entry of the store, drawn from the PRNG (random bytes stand in for OPRF-derived keys). */
function entryAt(rng: Prng): EntryInput {
  const type = TYPE_MIX[rng.int(TYPE_MIX.length)]![0];
  const expires = rng.int(3) === 0;
  return {
    type, entryId: rng.bytes(32), tag: rng.bytes(8), metadataKey: rng.bytes(32), categoryId: 1 + rng.int(BENCH_CATEGORIES.size), level: (1 + rng.int(5)) as EntryInput["level"],
    reason: `R${rng.int(40)}`, reportedAtSec: NOW_SEC - 86_400 - rng.int(365 * 86_400),
    ...(expires ? { expiresAtSec: NOW_SEC + 365 * 86_400 + rng.int(86_400) } : {}), ownRef: `case-${rng.int(1_000_000)}`,
  };
}

/** Fills the store (the real write path) and a raw LevelDB with the same keys and values; returns the keys. */
async function populate(store: Store, raw: Level<Buffer, Buffer>, count: number, rng: Prng): Promise<EntryKey[]> {
  const keys: EntryKey[] = [];
  for (let written = 0; written < count; written += WRITE_BATCH) {
    const entries = Array.from({ length: Math.min(WRITE_BATCH, count - written) }, () => entryAt(rng));
    await store.upsert(entries, { nowSec: NOW_SEC });
    const batch = raw.batch();
    for (const entry of entries) {
      batch.put(encodeEntryKey(defaultIdentifierRegistry.get(entry.type).code, entry.entryId), encodeEntryValue({ ...entry, addedAtSec: NOW_SEC, version: 1 }));
      keys.push({ type: entry.type, entryId: entry.entryId });
    }
    await batch.write();
  }
  return keys;
}

/** `count` keys to ask: a share of stored ones, the rest absent. */
function queryKeys(stored: readonly EntryKey[], count: number, rng: Prng): EntryKey[] {
  return Array.from({ length: count }, () => (rng.next() < HIT_SHARE ? stored[rng.int(stored.length)]! : { type: TYPE_MIX[rng.int(TYPE_MIX.length)]![0], entryId: rng.bytes(32) }));
}

/** The key binding of the benchmark stores (any valid context: the keys are random). */
const BENCH_BINDING = { chainId: 31337n, providerAddress: `0x${"b".repeat(40)}`, keyEpoch: 1 };

const rawKey = (key: EntryKey) => encodeEntryKey(defaultIdentifierRegistry.get(key.type).code, key.entryId);

async function measure(store: Store, raw: Level<Buffer, Buffer>, stored: EntryKey[], size: Sizes, rng: Prng, ctx: SuiteContext): Promise<ReportedResult[]> {
  // Single lookups: one at a time, store and raw alternating.
  const singles = queryKeys(stored, size.singles, rng);
  const singleRaw = singles.map(rawKey);
  for (let i = 0; i < 500; i++) {
    await store.checkOne(singles[i % singles.length]!, NOW_SEC);
    await raw.getMany([singleRaw[i % singles.length]!]);
  }
  const storeSingle: number[] = [];
  const rawSingle: number[] = [];
  let hits = 0;
  for (let i = 0; i < singles.length; i++) {
    let t = performance.now();
    const answer = await store.checkOne(singles[i]!, NOW_SEC);
    storeSingle.push(performance.now() - t);
    if (answer.hit) hits++;
    t = performance.now();
    await raw.getMany([singleRaw[i]!]);
    rawSingle.push(performance.now() - t);
  }
  ctx.log(`check: ${singles.length} single lookups, ${hits} hits`);

  // Batches of 1,000.
  const batches = Array.from({ length: size.batches }, () => queryKeys(stored, BATCH_ITEMS, rng));
  const batchesRaw = batches.map((keys) => keys.map(rawKey));
  const storeBatch: number[] = [];
  const rawBatch: number[] = [];
  for (let i = 0; i < batches.length; i++) {
    let t = performance.now();
    await store.checkMany(batches[i]!, NOW_SEC);
    storeBatch.push(performance.now() - t);
    t = performance.now();
    await raw.getMany(batchesRaw[i]!);
    rawBatch.push(performance.now() - t);
  }

  const s1 = summarise(storeSingle);
  const r1 = summarise(rawSingle);
  const sb = summarise(storeBatch);
  const rb = summarise(rawBatch);
  const singleIs = "raw LevelDB getMany([key])";
  const batchIs = "raw LevelDB getMany(1,000 keys)";
  const total = (samples: number[]) => samples.reduce((sum, x) => sum + x, 0);
  return [
    result({ name: "check.single_p50_ms", value: s1.p50, unit: "ms", baseline: r1.p50, baselineIs: singleIs }),
    result({ name: "check.single_p99_ms", value: s1.p99, unit: "ms", baseline: r1.p99, baselineIs: singleIs }),
    result({ name: "check.single_ops_per_s", value: perSecond(storeSingle.length, total(storeSingle)), unit: "ops/s", baseline: perSecond(rawSingle.length, total(rawSingle)), baselineIs: singleIs }),
    result({ name: "check.batch_p50_ms", value: sb.p50, unit: "ms", baseline: rb.p50, baselineIs: batchIs }),
    result({ name: "check.batch_p99_ms", value: sb.p99, unit: "ms", baseline: rb.p99, baselineIs: batchIs }),
    result({
      name: "check.batch_items_per_s", value: perSecond(storeBatch.length * BATCH_ITEMS, total(storeBatch)), unit: "items/s",
      baseline: perSecond(rawBatch.length * BATCH_ITEMS, total(rawBatch)), baselineIs: batchIs,
    }),
  ];
}

/** The local check suite. */
export const checkSuite: Suite = {
  name: "check",
  async run(ctx) {
    const size = sizes(ctx.quick);
    const dir = await mkdtemp(join(tmpdir(), "riskshare-bench-check-"));
    const store = new Store({ location: join(dir, "store"), categories: BENCH_CATEGORIES, binding: BENCH_BINDING }, { logger: silentLogger() });
    const raw = new Level<Buffer, Buffer>(join(dir, "raw"), { keyEncoding: "buffer", valueEncoding: "buffer" });
    try {
      await store.open();
      await raw.open();
      const rng = new Prng(ctx.seed ^ 0x636b);
      const started = performance.now();
      const stored = await populate(store, raw, size.entries, rng);
      ctx.log(`check: ${size.entries.toLocaleString("en-US")} entries written in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      return await measure(store, raw, stored, size, rng, ctx);
    } finally {
      await store.close();
      await raw.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
