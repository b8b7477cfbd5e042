/**
 * The import's reading pipeline: one worker thread reads the source's bytes (CSV tokenizing or
 * JSON Lines), checks and normalises the rows, and sends back converted batches (still without their
 * keys: keys.ts evaluates them on other threads); the main thread only moves bytes in and batches
 * on. Rows never cross threads as objects: bytes go in (transferred), entries come back packed.
 *
 * Flow control both ways: the worker asks for the next chunk (two at most outstanding), and stops
 * after {@link PIPELINE_BATCHES_AHEAD} batches the main thread has not taken yet, so memory stays
 * bounded whichever side is slower.
 *
 *   main                         worker
 *   ── chunk / end ──────────▶   readCsv / readJsonLines → convertedBatches
 *   ◀────────── pull ─────────   (wants a chunk)
 *   ◀────────── batch ────────   (rows, last line, bytes, rejections, packed entries)
 *   ── ack ──────────────────▶   (a batch was taken)
 *   ◀────────── done / error ─
 */
import { Worker } from "node:worker_threads";
import { RiskshareError, type ErrorCode, type ErrorMeta } from "../../errors.ts";
import type { NormaliseOptions, Warninglist } from "../../identity/index.ts";
import { IMPORT_DEFAULTS, type ImportFormat } from "../options.ts";
import type { BatchingOptions, PackedBatch } from "./batches.ts";
import type { ReaderOptions } from "./sources.ts";

/**
 * Everything the pipeline worker needs, plain data only (it is copied into the worker): what rebuilds
 * the conversion context (the built-in identifier types, the active categories, the entry rules),
 * and how to read and batch the source.
 */
export interface PipelineSetup {
  readonly categoryIds: ReadonlyArray<readonly [string, number]>;
  readonly activeCategoryIds: readonly number[];
  readonly maxClockSkewSec: number;
  readonly defaultType: string | undefined;
  readonly defaultCategoryId: number | undefined;
  readonly normalise: NormaliseOptions;
  readonly nowSec: number;
  readonly format: ImportFormat;
  readonly reader: ReaderOptions;
  readonly batching: BatchingOptions;
  /** The consortium's own warninglists (the worker adds the shipped ones). */
  readonly consortiumWarninglists: readonly Warninglist[];
}

/** Messages to the worker. */
export type ToWorker = { readonly type: "chunk"; readonly bytes: Uint8Array } | { readonly type: "end" } | { readonly type: "ack" };

/** Messages from the worker. */
export type FromWorker =
  | { readonly type: "pull" }
  | { readonly type: "batch"; readonly batch: PackedBatch }
  | { readonly type: "done" }
  | { readonly type: "error"; readonly code: ErrorCode; readonly message: string; readonly meta: ErrorMeta };

/** Chunks the worker asks for ahead. */
export const PIPELINE_CHUNKS_AHEAD = 2;
/**
 * Converted batches the worker may have sent and the main thread not taken yet. Several: when
 * LevelDB holds writes back while it compacts, the worker keeps converting on the other core (a
 * packed batch of 5,000 rows is ~0.5 MiB). At 10M rows: 2 → ~100k rows/s, 8 → ~109k, 16 → ~108k.
 */
export const PIPELINE_BATCHES_AHEAD = 8;

/**
 * The converted batches of `input`, in file order, from one worker thread. Ending the iteration
 * early (an abort, a failed write) stops the worker and closes the input.
 */
export async function* workerBatches(setup: PipelineSetup, input: AsyncIterable<Uint8Array | string>): AsyncGenerator<PackedBatch> {
  const worker = new Worker(new URL("./pipelineWorker.ts", import.meta.url), {
    workerData: setup,
    resourceLimits: { maxOldGenerationSizeMb: IMPORT_DEFAULTS.workerHeapMb, maxYoungGenerationSizeMb: IMPORT_DEFAULTS.workerYoungHeapMb },
  });
  const source = input[Symbol.asyncIterator]();
  const ready: PackedBatch[] = [];
  let failure: unknown;
  let done = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const fail = (err: unknown): void => {
    failure ??= err;
    notify();
  };
  // Pulls are answered one after another: a stream's iterator takes one next() at a time.
  let feeding: Promise<void> = Promise.resolve();
  const feed = async (): Promise<void> => {
    try {
      const next = await source.next();
      if (next.done) {
        worker.postMessage({ type: "end" } satisfies ToWorker);
        return;
      }
      const bytes = ownedCopy(next.value);
      worker.postMessage({ type: "chunk", bytes } satisfies ToWorker, [bytes.buffer as ArrayBuffer]);
    } catch (err) {
      fail(err);
    }
  };
  worker.on("message", (message: FromWorker) => {
    switch (message.type) {
      case "pull":
        feeding = feeding.then(feed);
        break;
      case "batch":
        ready.push(message.batch);
        notify();
        break;
      case "done":
        done = true;
        notify();
        break;
      case "error":
        fail(new RiskshareError(message.code, message.message, message.meta));
        break;
    }
  });
  worker.on("error", (err) => fail(new RiskshareError("E_INTERNAL", "the import worker failed", {}, { cause: err })));
  worker.on("exit", (exitCode) => {
    if (!done) fail(new RiskshareError("E_INTERNAL", "the import worker stopped", { exitCode }));
  });
  try {
    for (;;) {
      const batch = ready.shift();
      if (batch !== undefined) {
        yield batch;
        worker.postMessage({ type: "ack" } satisfies ToWorker);
        continue;
      }
      if (failure !== undefined) throw failure;
      if (done) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    done = true; // the exit below is ours
    await worker.terminate();
    await feeding;
    await source.return?.();
  }
}

/** A chunk as bytes in an ArrayBuffer of its own, so it can be transferred without copying again. */
function ownedCopy(chunk: Uint8Array | string): Uint8Array {
  if (typeof chunk === "string") return new Uint8Array(Buffer.from(chunk, "utf8"));
  const copy = new Uint8Array(chunk.byteLength);
  copy.set(chunk);
  return copy;
}
