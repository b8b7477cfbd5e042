/**
 * The provider's side of its own entries: identifier → OPRF output under its secret key → entry keys
 * (store id, tag, metadata key), for the import, a removal or an own lookup. Evaluating is the costly
 * step of an import (a hash to the group and a scalar multiplication, ~0.15 ms with libsodium), so
 * the import runs several evaluators on worker threads, each built from {@link secretForWorker}.
 */
import { inspect } from "node:util";
import { assertSecretKey, type Voprf } from "./voprf.ts";
import { assertEntryKeyContext, entryKeyInfo, expandEntryKeyBytes, splitEntryKeys, type EntryKeyContext, type EntryKeys } from "./expand.ts";
import { createVoprf, type VoprfOptions } from "./factory.ts";
import { oprfInput } from "./input.ts";

/** A provider's OPRF secret key and the context its entry keys are bound to. */
export interface EntryKeySecret {
  /** 32-byte OPRF secret scalar of `context.keyEpoch`. */
  readonly secretKey: Uint8Array;
  readonly context: EntryKeyContext;
}

/** What an {@link EntryKeyEvaluator} depends on. */
export interface EntryKeyEvaluatorModules {
  /** A ready VOPRF (libsodium for speed). */
  readonly voprf: Voprf;
}

/** Derives a provider's entry keys of normalised identifiers. Never exposes the key (not even to inspect/JSON). */
export class EntryKeyEvaluator {
  /** Where the keys belong. */
  readonly context: EntryKeyContext;
  readonly #secretKey: Uint8Array;
  readonly #voprf: Voprf;
  /** The HKDF info of the context, built once. */
  readonly #info: Uint8Array;

  /** An evaluator over libsodium (or the backend `opts` names). */
  static async create(secret: EntryKeySecret, opts: VoprfOptions = {}): Promise<EntryKeyEvaluator> {
    return new EntryKeyEvaluator(secret, { voprf: await createVoprf(opts) });
  }

  constructor(secret: EntryKeySecret, modules: EntryKeyEvaluatorModules) {
    assertSecretKey(secret.secretKey);
    assertEntryKeyContext(secret.context);
    this.context = { ...secret.context };
    this.#secretKey = Uint8Array.from(secret.secretKey);
    this.#voprf = modules.voprf;
    this.#info = entryKeyInfo(secret.context);
  }

  /** The 64-byte OPRF output of a normalised identifier of `type` under this provider's key. */
  output(type: string, normalised: string): Uint8Array {
    return this.#voprf.evaluate(this.#secretKey, oprfInput(type, normalised));
  }

  /** The entry keys of a normalised identifier of `type` (see expand.ts). */
  keysOf(type: string, normalised: string): EntryKeys {
    return splitEntryKeys(expandEntryKeyBytes(this.output(type, normalised), this.#info));
  }

  /**
   * A copy of the key and context for a worker thread of this same process (handed over through
   * `workerData`, which copies it in memory), so the worker can build an equal evaluator. Never log,
   * persist or send it anywhere else.
   */
  secretForWorker(): EntryKeySecret {
    return { secretKey: Uint8Array.from(this.#secretKey), context: { ...this.context } };
  }

  /** JSON view: the context only. */
  toJSON(): { chainId: string; providerAddress: string; keyEpoch: number } {
    return { chainId: this.context.chainId.toString(), providerAddress: this.context.providerAddress, keyEpoch: this.context.keyEpoch };
  }

  [inspect.custom](): string {
    return `EntryKeyEvaluator { provider: ${this.context.providerAddress}, keyEpoch: ${this.context.keyEpoch} }`;
  }
}
