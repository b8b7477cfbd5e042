/**
 * The import's key stage: each converted batch gets its entries' keys (OPRF evaluation under the
 * provider's key, then one HKDF expansion: identity's EntryKeyEvaluator), in file order.
 *
 * Evaluation is ~90% of an import's CPU (a hash to the group and a scalar multiplication per row),
 * so it runs on `threads` worker threads at once, one batch each, while the reading worker and this
 * thread (writing) take what is left; with `threads` = 0 it runs here. At most 2 × threads batches
 * are out being keyed, so memory stays bounded whichever stage is slower.
 *
 *   main ── { id, types, values } ──▶ keys worker i     (round-robin)
 *   main ◀──────── { id, keys } ───── keys worker i     (keys transferred, 72 bytes a row)
 */
import { Worker } from "node:worker_threads";
import { RiskshareError } from "../../errors.ts";
import { stopWorker } from "../../workers.ts";
import type { EntryKeyEvaluator, EntryKeySecret } from "../../identity/index.ts";
import { IMPORT_DEFAULTS } from "../options.ts";
import type { PackedBatch } from "./batches.ts";
import { packKeys } from "./convert.ts";

/** A request to a keys worker. */
export interface KeysRequest {
  readonly id: number;
  readonly types: readonly string[];
  readonly values: readonly string[];
}

/** A keys worker's answer. */
export type KeysResponse = { readonly id: number; readonly keys: Uint8Array } | { readonly id: number; readonly error: string };

/** Batches out being keyed per worker thread. */
const BATCHES_PER_THREAD = 2;

/** Fills the keys of one batch in this thread. */
export function keyBatch(batch: PackedBatch, evaluator: EntryKeyEvaluator): PackedBatch {
  batch.entries.keys = packKeys(batch.entries.types, batch.entries.values, (type, value) => evaluator.keysOf(type, value));
  batch.entries.values = [];
  return batch;
}

/** The batches of `batches`, keyed, in order: here when `threads` is 0, else on that many worker threads. */
export async function* keyedBatches(batches: AsyncIterable<PackedBatch>, evaluator: EntryKeyEvaluator, threads: number): AsyncGenerator<PackedBatch> {
  if (threads === 0) {
    for await (const batch of batches) yield keyBatch(batch, evaluator);
    return;
  }
  const secret: EntryKeySecret = evaluator.secretForWorker();
  const workers = Array.from({ length: threads }, () => new Worker(new URL("./keysWorker.ts", import.meta.url), {
    workerData: secret,
    resourceLimits: { maxOldGenerationSizeMb: IMPORT_DEFAULTS.workerHeapMb, maxYoungGenerationSizeMb: IMPORT_DEFAULTS.workerYoungHeapMb },
  }));
  const waiting = new Map<number, { resolve: (keys: Uint8Array) => void; reject: (err: unknown) => void }>();
  let failure: unknown;
  const failAll = (err: unknown): void => {
    failure ??= err;
    for (const { reject } of waiting.values()) reject(failure);
    waiting.clear();
  };
  let stopping = false;
  for (const worker of workers) {
    worker.on("message", (message: KeysResponse) => {
      const pending = waiting.get(message.id);
      waiting.delete(message.id);
      if ("keys" in message) pending?.resolve(message.keys);
      else pending?.reject(new RiskshareError("E_INTERNAL", "an import keys worker failed", { error: message.error }));
    });
    worker.on("error", (err) => failAll(new RiskshareError("E_INTERNAL", "an import keys worker failed", {}, { cause: err })));
    worker.on("exit", (exitCode) => {
      if (!stopping) failAll(new RiskshareError("E_INTERNAL", "an import keys worker stopped", { exitCode }));
    });
  }
  let nextId = 0;
  const inflight: Array<Promise<PackedBatch>> = [];
  const send = (batch: PackedBatch): Promise<PackedBatch> => {
    if (failure !== undefined) return Promise.reject(failure);
    const id = nextId++;
    const keys = new Promise<Uint8Array>((resolve, reject) => waiting.set(id, { resolve, reject }));
    const { types, values } = batch.entries;
    workers[id % threads]!.postMessage({ id, types, values } satisfies KeysRequest);
    batch.entries.values = [];
    return keys.then((k) => {
      batch.entries.keys = k;
      return batch;
    });
  };
  try {
    for await (const batch of batches) {
      const keyed = send(batch);
      keyed.catch(() => undefined); // awaited in order below
      inflight.push(keyed);
      if (inflight.length >= threads * BATCHES_PER_THREAD) yield await inflight.shift()!;
    }
    while (inflight.length > 0) yield await inflight.shift()!;
  } finally {
    stopping = true;
    await Promise.all(workers.map((worker) => stopWorker(worker)));
  }
}
