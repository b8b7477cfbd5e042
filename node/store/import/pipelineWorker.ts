/**
 * The import worker (see pipeline.ts): reads the chunks the main thread sends, converts the rows
 * into batches and sends each back packed, pausing while PIPELINE_BATCHES_AHEAD batches wait to be
 * taken. Kept free of TypeScript-only syntax beyond types, so Node's own type stripping can load it.
 */
import { parentPort, workerData } from "node:worker_threads";
import { isRiskshareError } from "../../errors.ts";
import { defaultIdentifierRegistry, shippedWarninglists, Warninglists } from "../../identity/index.ts";
import { entryProblem } from "../entry.ts";
import { convertedBatches } from "./batches.ts";
import { PIPELINE_BATCHES_AHEAD, PIPELINE_CHUNKS_AHEAD, type FromWorker, type PipelineSetup, type ToWorker } from "./pipeline.ts";
import type { RowContext } from "./rows.ts";
import { readCsv, readJsonLines } from "./sources.ts";

const port = parentPort!;
const setup = workerData as PipelineSetup;
const activeIds = new Set(setup.activeCategoryIds);
const ctx: RowContext = {
  identifiers: defaultIdentifierRegistry,
  categoryIds: new Map(setup.categoryIds),
  defaultType: setup.defaultType,
  defaultCategoryId: setup.defaultCategoryId,
  normalise: setup.normalise,
  nowSec: setup.nowSec,
  entryProblem: (entry, at) => entryProblem(entry, activeIds, at, setup.maxClockSkewSec),
  timestampCache: new Map(),
  warninglists: setup.consortiumWarninglists.length === 0 ? shippedWarninglists() : new Warninglists(shippedWarninglists().lists, setup.consortiumWarninglists),
};

/** Chunks received and not read yet; null marks the end of the source. */
const chunks: Array<Buffer | null> = [];
let chunkArrived: (() => void) | undefined;
let batchesNotTaken = 0;
let batchTaken: (() => void) | undefined;

port.on("message", (message: ToWorker) => {
  if (message.type === "ack") {
    batchesNotTaken--;
    batchTaken?.();
    return;
  }
  chunks.push(message.type === "end" ? null : Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.byteLength));
  chunkArrived?.();
});

const send = (message: FromWorker, transfer?: ArrayBuffer[]): void => port.postMessage(message, transfer);

/** The source's chunks, asked for ahead so that reading rarely waits on the main thread. */
async function* source(): AsyncGenerator<Buffer> {
  for (let i = 0; i < PIPELINE_CHUNKS_AHEAD; i++) send({ type: "pull" });
  for (;;) {
    while (chunks.length === 0) await new Promise<void>((resolve) => (chunkArrived = resolve));
    const chunk = chunks.shift()!;
    if (chunk === null) return;
    send({ type: "pull" });
    yield chunk;
  }
}

try {
  const records = setup.format === "csv" ? readCsv(source(), setup.reader) : readJsonLines(source(), setup.reader);
  for await (const batch of convertedBatches(records, setup.batching, ctx)) {
    send({ type: "batch", batch });
    batchesNotTaken++;
    while (batchesNotTaken >= PIPELINE_BATCHES_AHEAD) await new Promise<void>((resolve) => (batchTaken = resolve));
  }
  send({ type: "done" });
} catch (err) {
  // A format error (bad header, empty file) goes back as it is; anything else without its text,
  // which could quote the source.
  if (isRiskshareError(err)) send({ type: "error", code: err.code, message: err.message, meta: err.meta });
  else send({ type: "error", code: "E_INTERNAL", message: "the import worker failed", meta: { error: err instanceof Error ? err.name : typeof err } });
}
