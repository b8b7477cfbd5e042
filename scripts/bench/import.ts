/**
 * Suite 1, import: rows/s and peak RSS of the real import path (importList over a generated CSV
 * of mixed identifier types), each size in a fresh child process so the peak RSS is that import's
 * alone. Baselines: raw LevelDB chained batches of as many 33-byte keys and 40-byte values, in the
 * same kind of child process (no parsing, normalising, evaluating or indexes); and the primitive
 * every row costs at least — libsodium's hash to the group + scalar multiplication — on as many
 * threads as there are cores, measured in the same run (before and after each import, the fastest of
 * its rounds): `import.primitive_ratio` is the import's rate over that one. Then `filter.*`: the
 * base tag filter (binary fuse 16) of as many random tags.
 */
import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { buildTagFilter, TagFilter } from "../../node/store/index.ts";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { writeCsv } from "./data.ts";
import type { ImportMeasurement, ImportTask } from "./import-worker.ts";
import { result, type ReportedResult } from "./report.ts";
import { perSecond } from "./stats.ts";
import type { Suite, SuiteContext } from "./suite.ts";

const WORKER = fileURLToPath(new URL("./import-worker.ts", import.meta.url));
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The import's clock (2026-01-01): fixed, so expiry checks see the same data every run. */
const IMPORT_NOW_SEC = 1_767_225_600;
const TARGET_ROWS_PER_S = 8_000;
const TARGET_PRIMITIVE_RATIO = 0.8;
const TARGET_PEAK_RSS_MB = 1024;
/** Measured rounds of the primitive before and after each import (the fastest is the baseline). */
const PRIMITIVE_ROUNDS = 3;

/** Rows per size: the full run does 1M and 10M, --quick 200k. */
function sizes(quick: boolean): number[] {
  return quick ? [200_000] : [1_000_000, 10_000_000];
}

/** "200k", "1m", "10m": the size as it appears in a result name. */
function sizeLabel(rows: number): string {
  return rows >= 1_000_000 ? `${rows / 1_000_000}m` : `${rows / 1_000}k`;
}

/** Runs the worker in a child process of the same Node; resolves with what it printed. */
async function runWorker(task: ImportTask, signal: AbortSignal): Promise<ImportMeasurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", WORKER, JSON.stringify(task)], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], signal });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-4_000)));
    child.once("error", reject);
    child.once("exit", (code, signalName) => {
      if (code !== 0) {
        reject(new Error(`the import worker (${task.mode}) exited with ${code ?? signalName}: ${stderr.trim().split("\n").slice(-5).join(" | ")}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split("\n").at(-1)!) as ImportMeasurement);
      } catch (err) {
        reject(new Error(`the import worker printed no result: ${stdout.slice(0, 200)}`, { cause: err }));
      }
    });
  });
}

async function measureSize(rows: number, ctx: SuiteContext): Promise<ReportedResult[]> {
  const dir = await mkdtemp(join(tmpdir(), "riskshare-bench-import-"));
  try {
    const csv = join(dir, "rows.csv");
    const generated = performance.now();
    const bytes = await writeCsv(csv, rows, ctx.seed);
    ctx.log(`import: ${rows.toLocaleString("en-US")} rows generated (${(bytes / 2 ** 20).toFixed(0)} MiB) in ${((performance.now() - generated) / 1000).toFixed(1)} s`);

    const threads = availableParallelism();
    // The primitive before and after the import, the fastest round kept (see runPrimitive).
    const primitiveTask: ImportTask = { mode: "primitive", rows: Math.min(rows, 40_000), threads, seed: ctx.seed, rounds: PRIMITIVE_ROUNDS };
    const primitiveBefore = await runWorker(primitiveTask, ctx.signal);
    const imported = await runWorker({ mode: "import", csv, db: join(dir, "store"), nowSec: IMPORT_NOW_SEC, seed: ctx.seed }, ctx.signal);
    if (imported.rejected > 0 || imported.imported !== rows) {
      throw new Error(`the generated list should import whole: ${imported.imported} imported, ${imported.rejected} rejected of ${rows} (${JSON.stringify(imported.errors ?? [])})`);
    }
    await rm(join(dir, "store"), { recursive: true, force: true });
    const raw = await runWorker({ mode: "level", rows, db: join(dir, "raw"), seed: ctx.seed }, ctx.signal);
    const primitiveAfter = await runWorker(primitiveTask, ctx.signal);
    const primitive = primitiveAfter.elapsedMs < primitiveBefore.elapsedMs ? primitiveAfter : primitiveBefore;
    const importRate = perSecond(imported.rows, imported.elapsedMs);
    const rawRate = perSecond(raw.rows, raw.elapsedMs);
    const primitiveRate = perSecond(primitive.rows, primitive.elapsedMs);
    ctx.log(
      `import: ${sizeLabel(rows)} rows at ${Math.round(importRate).toLocaleString("en-US")} rows/s with ${imported.workerThreads === 0 ? "no worker thread" : `a reading and ${imported.workerThreads} evaluating worker threads`}, ` +
        `${(imported.cpuMs / imported.elapsedMs).toFixed(2)} cores busy, ${((imported.cpuMs * 1000) / imported.rows).toFixed(1)} µs CPU per row; ` +
        `peak RSS ${imported.peakRssMb.toFixed(0)} MiB (main V8 heap ≤ ${imported.peakHeapMb.toFixed(0)} MiB, external ≤ ${imported.peakExternalMb.toFixed(0)} MiB); ` +
        `raw LevelDB ${Math.round(rawRate).toLocaleString("en-US")} rows/s, ${raw.peakRssMb.toFixed(0)} MiB; ` +
        `primitive (hash to group + scalar mult., ${threads} threads) ${Math.round(primitiveRate).toLocaleString("en-US")} /s ` +
        `(before ${Math.round(perSecond(primitiveBefore.rows, primitiveBefore.elapsedMs)).toLocaleString("en-US")}, after ${Math.round(perSecond(primitiveAfter.rows, primitiveAfter.elapsedMs)).toLocaleString("en-US")}, fastest of ${PRIMITIVE_ROUNDS} rounds each)`,
    );
    const prefix = rows === Math.max(...sizes(ctx.quick)) ? "import" : `import.${sizeLabel(rows)}`;
    return [
      result({
        name: `${prefix}.rows_per_s`, value: importRate, unit: "rows/s", baseline: rawRate, baselineIs: `raw LevelDB batch writes, ${sizeLabel(rows)} keys`,
        target: { text: `≥ ${TARGET_ROWS_PER_S.toLocaleString("en-US")}`, met: (v) => v >= TARGET_ROWS_PER_S },
      }),
      result({
        name: `${prefix}.primitive_ratio`, value: importRate / primitiveRate, unit: "×", valueIsRatio: true, baseline: primitiveRate, baselineIs: `libsodium from_hash + scalarmult, ${threads} threads, same run (fastest of ${2 * PRIMITIVE_ROUNDS} rounds before/after)`,
        target: { text: `≥ ${TARGET_PRIMITIVE_RATIO}`, met: (v) => v >= TARGET_PRIMITIVE_RATIO },
      }),
      result({
        name: `${prefix}.peak_rss_mb`, value: imported.peakRssMb, unit: "MiB", baseline: raw.peakRssMb, baselineIs: `raw LevelDB batch writes, ${sizeLabel(rows)} keys`,
        target: { text: `< ${TARGET_PEAK_RSS_MB}`, met: (v) => v < TARGET_PEAK_RSS_MB },
      }),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Tags per filter size: the full run does 1M and 10M, --quick 1M. */
function filterSizes(quick: boolean): number[] {
  return quick ? [1_000_000] : [1_000_000, 10_000_000];
}

/** Builds the base filter of `tags` random tags: build time, bytes per tag, and the measured false-positive rate. */
function measureFilter(tags: number, ctx: SuiteContext): ReportedResult[] {
  const set = new Uint8Array(randomBytes(tags * 8));
  const started = performance.now();
  const built = buildTagFilter(set);
  const buildS = (performance.now() - started) / 1000;
  const filter = new TagFilter(built.bytes);
  const probes = 1_000_000;
  const probe = new Uint8Array(randomBytes(probes * 8));
  let positives = 0;
  for (let i = 0; i < probes; i++) if (filter.contains(probe.subarray(i * 8, i * 8 + 8))) positives++;
  const bytesPerEntry = built.bytes.length / tags;
  const sortStarted = performance.now();
  new BigUint64Array(set.buffer, set.byteOffset, tags).slice().sort();
  const sortS = (performance.now() - sortStarted) / 1000;
  const label = sizeLabel(tags);
  ctx.log(`filter: ${label} tags in ${buildS.toFixed(2)} s, ${bytesPerEntry.toFixed(3)} bytes/tag, false positives ${positives} of ${probes.toLocaleString("en-US")} random tags (2^-16 ≈ ${Math.round(probes / 65536)})`);
  return [
    result({ name: `filter.${label}.build_s`, value: buildS, unit: "s", baseline: sortS, baselineIs: `sorting the ${label} tags as u64` }),
    result({
      name: `filter.${label}.bytes_per_entry`, value: bytesPerEntry, unit: "B", baseline: 2, baselineIs: "the 16-bit fingerprint alone",
      target: { text: "≤ 2.4", met: (v) => v <= 2.4 },
    }),
    result({
      name: `filter.${label}.fp_per_2_16`, value: (positives / probes) * 65536, unit: "× 2^-16", baseline: 1, baselineIs: "an ideal 16-bit fingerprint",
      target: { text: "≤ 1.5", met: (v) => v <= 1.5 },
    }),
  ];
}

/** The import suite. */
export const importSuite: Suite = {
  name: "import",
  async run(ctx) {
    const results: ReportedResult[] = [];
    for (const rows of sizes(ctx.quick)) results.push(...(await measureSize(rows, ctx)));
    for (const tags of filterSizes(ctx.quick)) results.push(...measureFilter(tags, ctx));
    return results;
  },
};
