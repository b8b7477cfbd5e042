/**
 * One import measurement, alone in its process so that its peak RSS is its own. Run by the import
 * suite as `node --import tsx import-worker.ts '<json task>'`; prints one JSON line on stdout.
 *
 *   {"mode":"import","csv":"/tmp/…/rows.csv","db":"/tmp/…/db"}   the real import path (importList)
 *   {"mode":"level","rows":1000000,"db":"/tmp/…/raw"}             raw LevelDB chained batches
 *   {"mode":"primitive","rows":20000,"threads":2,"rounds":3}       libsodium hash-to-group + scalar multiplication on `threads` threads, the fastest of `rounds`
 */
import { Worker } from "node:worker_threads";
import { Level } from "level";
import { EntryKeyEvaluator, NobleVoprf } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { BULK_IMPORT_TUNING, IMPORT_DEFAULTS, importList, Store } from "../../node/store/index.ts";
import { BENCH_CATEGORIES, Prng } from "./data.ts";

/** What the worker is asked to do. */
export type ImportTask =
  | { mode: "import"; csv: string; db: string; nowSec: number; seed: number }
  | { mode: "level"; rows: number; db: string; seed: number }
  | { mode: "primitive"; rows: number; threads: number; seed: number; rounds?: number };

/** What it prints. */
export interface ImportMeasurement {
  rows: number;
  imported: number;
  rejected: number;
  elapsedMs: number;
  /** Peak resident set size of the process, in MiB (getrusage maxrss). */
  peakRssMb: number;
  /** Largest V8 heap in use (main thread) and largest off-heap (Buffers, native) memory seen by a 100 ms sampler, in MiB. */
  peakHeapMb: number;
  peakExternalMb: number;
  /** CPU time of the whole process (all threads) during the measurement, in ms. */
  cpuMs: number;
  /** Worker threads the import used for evaluating the OPRF (0: none; else one more read the rows). */
  workerThreads: number;
  /** First rejections (line and reason), when any. */
  errors?: unknown[];
}

/** Bytes of a raw baseline value: about what an encoded entry value plus its index records carry. */
const RAW_VALUE_BYTES = 40;
/** Bytes of a store entry key: type code + 32-byte hash. */
const RAW_KEY_BYTES = 33;

async function runImport(task: Extract<ImportTask, { mode: "import" }>): Promise<ImportMeasurement> {
  const logger = silentLogger();
  // Sized as `riskshare list import` opens it.
  const { secretKey } = new NobleVoprf().deriveKeyPair(new Prng(task.seed).bytes(32), new TextEncoder().encode("riskshare bench"));
  const context = { chainId: 31337n, providerAddress: `0x${"b".repeat(40)}`, keyEpoch: 1 };
  const store = new Store({ location: task.db, categories: BENCH_CATEGORIES, binding: context, tuning: BULK_IMPORT_TUNING }, { logger });
  await store.open();
  try {
    const evaluator = await EntryKeyEvaluator.create({ secretKey, context });
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const summary = await importList({ path: task.csv }, { nowSec: task.nowSec, resume: false, maxErrorsListed: 5 }, { store, evaluator, logger });
    const elapsedMs = performance.now() - started;
    return {
      rows: summary.rows, imported: summary.imported, rejected: summary.rejected, elapsedMs, cpuMs: cpuMsSince(cpuBefore), workerThreads: summary.workerThreads, ...peaks(), ...(summary.errors.length > 0 ? { errors: [...summary.errors] } : {}) };
  } finally {
    await store.close();
  }
}

async function runLevel(task: Extract<ImportTask, { mode: "level" }>): Promise<ImportMeasurement> {
  const db = new Level<Buffer, Buffer>(task.db, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open();
  try {
    const rng = new Prng(task.seed);
    const value = Buffer.from(rng.bytes(RAW_VALUE_BYTES));
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    let written = 0;
    let previous: Promise<void> | undefined;
    while (written < task.rows) {
      const size = Math.min(IMPORT_DEFAULTS.batchSize, task.rows - written);
      const batch = db.batch();
      for (let i = 0; i < size; i++) batch.put(Buffer.from(rng.bytes(RAW_KEY_BYTES)), value);
      // Like the importer: build the next batch while the previous one is written.
      if (previous) await previous;
      previous = batch.write();
      written += size;
    }
    if (previous) await previous;
    const elapsedMs = performance.now() - started;
    return { rows: written, imported: written, rejected: 0, elapsedMs, cpuMs: cpuMsSince(cpuBefore), workerThreads: 0, ...peaks() };
  } finally {
    await db.close();
  }
}

/** Unmeasured rows each primitive thread runs first. */
const PRIMITIVE_WARMUP = 2_000;

/**
 * The primitive an import cannot beat: libsodium's crypto_core_ristretto255_from_hash +
 * crypto_scalarmult_ristretto255 on 64 random bytes per row, on `threads` worker threads at once
 * (the same cores the import runs on), each doing rows / threads per round. Each thread first runs
 * {@link PRIMITIVE_WARMUP} unmeasured rows (WebAssembly tiers up in the background meanwhile); then
 * `rounds` measured rounds, of which the fastest is reported: the baseline is what the cores can do,
 * so a round slowed by something else on the machine must not flatter the import's ratio.
 */
async function runPrimitive(task: Extract<ImportTask, { mode: "primitive" }>): Promise<ImportMeasurement> {
  const perThread = Math.ceil(task.rows / task.threads);
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    const { randomBytes } = require("node:crypto");
    const sodium = require("libsodium-wrappers-sumo");
    sodium.ready.then(() => {
      const inputs = Array.from({ length: 1024 }, () => new Uint8Array(randomBytes(64)));
      const scalar = sodium.crypto_core_ristretto255_scalar_random();
      const run = (n) => { for (let i = 0; i < n; i++) sodium.crypto_scalarmult_ristretto255(scalar, sodium.crypto_core_ristretto255_from_hash(inputs[i % 1024])); };
      run(workerData.warmup);
      parentPort.postMessage("ready");
      parentPort.on("message", () => {
        run(workerData.rows);
        parentPort.postMessage("done");
      });
    });`;
  const workers = Array.from({ length: task.threads }, () => new Worker(code, { eval: true, workerData: { rows: perThread, warmup: PRIMITIVE_WARMUP } }));
  try {
    await Promise.all(workers.map((w) => new Promise((resolve) => w.once("message", resolve))));
    let best: { elapsedMs: number; cpuMs: number } | undefined;
    for (let round = 0; round < (task.rounds ?? 1); round++) {
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      const done = workers.map((w) => new Promise((resolve) => w.once("message", resolve)));
      for (const w of workers) w.postMessage("go");
      await Promise.all(done);
      const elapsedMs = performance.now() - started;
      if (best === undefined || elapsedMs < best.elapsedMs) best = { elapsedMs, cpuMs: cpuMsSince(cpuBefore) };
    }
    return { rows: perThread * task.threads, imported: 0, rejected: 0, elapsedMs: best!.elapsedMs, cpuMs: best!.cpuMs, workerThreads: task.threads, ...peaks() };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** User + system CPU time since `before`, in ms. */
function cpuMsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

const MIB = 1024 * 1024;
let peakHeap = 0;
let peakExternal = 0;
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  peakHeap = Math.max(peakHeap, usage.heapUsed);
  peakExternal = Math.max(peakExternal, usage.external);
}, 100);
sampler.unref();

/** Peak memory so far in MiB (getrusage's maxrss is in KiB on Linux). */
function peaks(): Pick<ImportMeasurement, "peakRssMb" | "peakHeapMb" | "peakExternalMb"> {
  return { peakRssMb: process.resourceUsage().maxRSS / 1024, peakHeapMb: peakHeap / MIB, peakExternalMb: peakExternal / MIB };
}

const task = JSON.parse(process.argv[2] ?? "{}") as ImportTask;
const measurement = task.mode === "import" ? await runImport(task) : task.mode === "level" ? await runLevel(task) : await runPrimitive(task);
process.stdout.write(`${JSON.stringify(measurement)}\n`);
