/**
 * A provider's batch evaluations (blindEvaluateBatch) off the thread that answers lookups.
 *
 * A 1,000-element Evaluate takes ~0.3 s of one core. Run on the provider's main thread, that is
 * 0.3 s in which no other member's lookup is even read: one member's batch screening would
 * stall every real-time check at that provider. So an {@link OffThreadBatchEvaluator} evaluates
 * batches of more than `inlineMax` elements on a worker thread of its own (started on first use,
 * replaced if it dies), and smaller ones in place, where a round trip to the worker would cost
 * more than it saves.
 *
 *   main ── { id, secretKey, publicKey, elements } ──▶ batch worker   (one batch at a time, in order)
 *   main ◀──── { id, evaluatedElements, proof } ───── batch worker   (or { id, code })
 *
 * On close the worker is asked to end once its batch is done (workers.ts), not terminated.
 * The worker runs the same libsodium VOPRF as the main thread. The secret key goes with each batch
 * (copied within this process, never logged). An error comes back as its code, with its message
 * only for the input errors of the VOPRF (they name an argument and an index, nothing more).
 */
import { Worker } from "node:worker_threads";
import { RiskshareError, type ErrorCode } from "../../errors.ts";
import { stopWorker } from "../../workers.ts";
import type { BlindEvaluation, Voprf } from "./voprf.ts";

/** Evaluates a provider's batches (possibly on another thread). */
export interface BatchEvaluator {
  /** blindEvaluateBatch of `blindedElements` under the key pair. */
  evaluate(secretKey: Uint8Array, publicKey: Uint8Array, blindedElements: readonly Uint8Array[]): Promise<BlindEvaluation>;
  /** Stops any worker; pending batches fail with E_INTERNAL. */
  close(): Promise<void>;
}

/** A request to the batch worker. */
export interface BatchRequest {
  readonly id: number;
  readonly secretKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly elements: readonly Uint8Array[];
}

/** The batch worker's answer: the evaluation, or the code of what it threw. */
export type BatchResponse =
  | { readonly id: number; readonly evaluatedElements: Uint8Array[]; readonly proof: Uint8Array }
  | { readonly id: number; readonly code: string; readonly message?: string };

/** Codes a batch evaluation throws for bad input; anything else becomes E_INTERNAL. */
const PASSED_CODES: ReadonlySet<string> = new Set<ErrorCode>(["E_OPRF_ELEMENT", "E_OPRF_KEY", "E_BAD_INPUT"]);

/** Largest batch evaluated on the calling thread (~20 ms here); larger ones go to the worker. */
export const INLINE_EVALUATE_MAX = 64;

/** Heap limits of the batch worker: a 1,000-element batch needs well under a MiB. */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 };

/** Options of {@link OffThreadBatchEvaluator}. */
export interface OffThreadBatchEvaluatorOptions {
  /** Batches of at most this many elements are evaluated in place (default {@link INLINE_EVALUATE_MAX}). */
  readonly inlineMax?: number;
  /** The worker's module (default: batchWorker.ts beside this file); tests substitute a failing one. */
  readonly workerUrl?: URL;
}

interface Pending {
  resolve(evaluation: BlindEvaluation): void;
  reject(err: unknown): void;
}

/** Evaluates large batches on a worker thread, small ones in place. */
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

  evaluate(secretKey: Uint8Array, publicKey: Uint8Array, blindedElements: readonly Uint8Array[]): Promise<BlindEvaluation> {
    if (this.#closed) return Promise.reject(new RiskshareError("E_INTERNAL", "the batch evaluator is closed"));
    if (blindedElements.length <= this.#inlineMax) {
      try {
        return Promise.resolve(this.#voprf.blindEvaluateBatch(secretKey, publicKey, blindedElements));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    const worker = this.#ensureWorker();
    const id = this.#nextId++;
    return new Promise<BlindEvaluation>((resolve, reject) => {
      // A worker with batches to evaluate keeps the process alive; an idle one does not.
      if (this.#pending.size === 0) worker.ref();
      this.#pending.set(id, { resolve, reject });
      worker.postMessage({ id, secretKey, publicKey, elements: blindedElements } satisfies BatchRequest);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = undefined;
    this.#failAll(new RiskshareError("E_INTERNAL", "the batch evaluator stopped before the batch was evaluated"));
    if (worker !== undefined) await stopWorker(worker);
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
      if ("proof" in message) pending.resolve({ evaluatedElements: message.evaluatedElements, proof: message.proof });
      else if (PASSED_CODES.has(message.code)) pending.reject(new RiskshareError(message.code as ErrorCode, message.message ?? "the batch evaluation refused its input"));
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
