/**
 * The VOPRF's large batches off the thread that answers lookups: a provider's evaluations
 * (blindEvaluateBatch) and a querier's finalizations (finalizeBatch, the proof checked).
 *
 * A 1,000-element Evaluate takes ~0.3 s of one core, and its finalization ~0.45 s. Run on a node's
 * main thread, that is time in which no other member's lookup is even read and no API request
 * answered: one member's batch screening would stall every real-time check at that provider, and
 * the screening member's own node. So an {@link OffThreadBatchEvaluator} runs batches of more than
 * `inlineMax` elements on a worker thread of its own (started on first use, replaced if it dies),
 * and smaller ones in place, where a round trip to the worker would cost more than it saves.
 *
 *   main ── { id, kind, … } ──────────────────▶ batch worker   (one batch at a time, in order)
 *   main ◀── { id, evaluation | outputs } ───── batch worker   (or { id, code })
 *
 * On close the worker is asked to end once its batch is done (workers.ts), not terminated.
 * The worker runs the same libsodium VOPRF as the main thread. A provider's secret key goes with
 * each batch, a querier's inputs and blinds with each finalization (copied within this process,
 * never logged). An error comes back as its code, with its message only for the VOPRF's own errors
 * (they name an argument and an index, or the item count, nothing more).
 */
import { Worker } from "node:worker_threads";
import { RiskshareError, type ErrorCode } from "../../errors.ts";
import { stopWorker } from "../../workers.ts";
import type { BlindEvaluation, Voprf } from "./voprf.ts";

/** A querier's finalizeBatch, as its arguments. */
export interface FinalizeJob {
  readonly inputs: readonly Uint8Array[];
  readonly blinds: readonly Uint8Array[];
  readonly evaluatedElements: readonly Uint8Array[];
  readonly blindedElements: readonly Uint8Array[];
  readonly proof: Uint8Array;
  readonly providerPublicKey: Uint8Array;
  /** Outputs wanted: the first `outputs` inputs' (all when absent). */
  readonly outputs?: number | undefined;
}

/** Runs the VOPRF's batches, possibly on another thread. */
export interface BatchEvaluator {
  /** Provider: blindEvaluateBatch of `blindedElements` under the key pair. */
  evaluate(secretKey: Uint8Array, publicKey: Uint8Array, blindedElements: readonly Uint8Array[]): Promise<BlindEvaluation>;
  /** Querier: finalizeBatch (the proof checked first; E_OPRF_PROOF if it fails). */
  finalize(job: FinalizeJob): Promise<Uint8Array[]>;
  /** Stops any worker; pending batches fail with E_INTERNAL. */
  close(): Promise<void>;
}

/** One batch for the worker: a provider's evaluation or a querier's finalization. */
export type BatchJob =
  | { readonly kind: "evaluate"; readonly secretKey: Uint8Array; readonly publicKey: Uint8Array; readonly elements: readonly Uint8Array[] }
  | { readonly kind: "finalize"; readonly job: FinalizeJob };

/** A request to the batch worker. */
export type BatchRequest = BatchJob & { readonly id: number };

/** The batch worker's answer: the evaluation, the outputs, or the code of what it threw. */
export type BatchResponse =
  | { readonly id: number; readonly evaluation: BlindEvaluation }
  | { readonly id: number; readonly outputs: Uint8Array[] }
  | { readonly id: number; readonly code: string; readonly message?: string };

/** Codes the VOPRF throws for bad input or a failed proof; anything else becomes E_INTERNAL. */
const PASSED_CODES: ReadonlySet<string> = new Set<ErrorCode>(["E_OPRF_ELEMENT", "E_OPRF_KEY", "E_OPRF_PROOF", "E_BAD_INPUT"]);

/** Largest batch run on the calling thread (~20 ms here); larger ones go to the worker. */
export const INLINE_EVALUATE_MAX = 64;

/** Heap limits of the batch worker: a 1,000-element batch needs well under a MiB. */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 };

/** Options of {@link OffThreadBatchEvaluator}. */
export interface OffThreadBatchEvaluatorOptions {
  /** Batches of at most this many elements run in place (default {@link INLINE_EVALUATE_MAX}). */
  readonly inlineMax?: number;
  /** The worker's module (default: batchWorker.ts beside this file); tests substitute a failing one. */
  readonly workerUrl?: URL;
}

interface Pending {
  resolve(response: BatchResponse): void;
  reject(err: unknown): void;
}

/** Runs large batches on a worker thread, small ones in place. */
export class OffThreadBatchEvaluator implements BatchEvaluator {
  readonly #voprf: Voprf;
  readonly #inlineMax: number;
  readonly #workerUrl: URL;
  #worker: Worker | undefined;
  readonly #pending = new Map<number, Pending>();
  #nextId = 0;
  #closed = false;
  #workersStarted = 0;

  constructor(voprf: Voprf, opts: OffThreadBatchEvaluatorOptions = {}) {
    const inlineMax = opts.inlineMax ?? INLINE_EVALUATE_MAX;
    if (!Number.isInteger(inlineMax) || inlineMax < 0) throw new RiskshareError("E_BAD_INPUT", `inlineMax: must be a whole number ≥ 0, not ${String(inlineMax)}`, { argument: "inlineMax" });
    this.#voprf = voprf;
    this.#inlineMax = inlineMax;
    this.#workerUrl = opts.workerUrl ?? new URL("./batchWorker.ts", import.meta.url);
  }

  /** Workers started so far (a dead one is replaced on the next large batch). */
  get workersStarted(): number {
    return this.#workersStarted;
  }

  async evaluate(secretKey: Uint8Array, publicKey: Uint8Array, blindedElements: readonly Uint8Array[]): Promise<BlindEvaluation> {
    if (this.#inPlace(blindedElements.length)) return this.#voprf.blindEvaluateBatch(secretKey, publicKey, blindedElements);
    const response = await this.#send({ kind: "evaluate", secretKey, publicKey, elements: blindedElements });
    if (!("evaluation" in response)) throw new RiskshareError("E_INTERNAL", "the batch worker answered an evaluation with something else");
    return response.evaluation;
  }

  async finalize(job: FinalizeJob): Promise<Uint8Array[]> {
    if (this.#inPlace(job.evaluatedElements.length)) {
      return this.#voprf.finalizeBatch(job.inputs, job.blinds, job.evaluatedElements, job.blindedElements, job.proof, job.providerPublicKey, job.outputs);
    }
    const response = await this.#send({ kind: "finalize", job });
    if (!("outputs" in response)) throw new RiskshareError("E_INTERNAL", "the batch worker answered a finalization with something else");
    return response.outputs;
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#failAll(new RiskshareError("E_INTERNAL", "the batch evaluator stopped before the batch was evaluated"));
    if (worker !== undefined) await stopWorker(worker);
  }

  /** True when a batch of `size` elements runs on the calling thread; throws once closed. */
  #inPlace(size: number): boolean {
    if (this.#closed) throw new RiskshareError("E_INTERNAL", "the batch evaluator is closed");
    return size <= this.#inlineMax;
  }

  /** Sends one request to the worker; resolves with its answer, rejects with what it threw. */
  #send(job: BatchJob): Promise<BatchResponse> {
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    return new Promise<BatchResponse>((resolve, reject) => {
      // A worker with batches to run keeps the process alive; an idle one does not.
      if (this.#pending.size === 0) worker.ref();
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ ...job, id } satisfies BatchRequest);
    });
  }

  #ensureWorker(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(this.#workerUrl, { resourceLimits: WORKER_LIMITS });
    this.#workersStarted += 1;
    // An idle worker never keeps the process alive; close() stops it.
    worker.unref();
    worker.on("message", (message: BatchResponse) => {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (this.#pending.size === 0) worker.unref();
      if (pending === undefined) return;
      if (!("code" in message)) pending.resolve(message);
      else if (PASSED_CODES.has(message.code)) pending.reject(new RiskshareError(message.code as ErrorCode, message.message ?? "the batch refused its input"));
      else pending.reject(new RiskshareError("E_INTERNAL", "the batch evaluation failed", { error: message.code }));
    });
    const lost = (err: RiskshareError) => {
      if (this.#worker === worker) this.#worker = undefined;
      this.#failAll(err);
    };
    worker.on("error", (err) => lost(new RiskshareError("E_INTERNAL", "the batch evaluation worker failed", {}, { cause: err })));
    worker.on("exit", (exitCode) => lost(new RiskshareError("E_INTERNAL", "the batch evaluation worker stopped", { exitCode })));
    this.#worker = worker;
    return worker;
  }

  #failAll(err: unknown): void {
    for (const { reject } of this.#pending.values()) reject(err);
    this.#pending.clear();
  }
}
