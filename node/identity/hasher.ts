/**
 * Salted identifier hashes: HMAC-SHA256(pepper[epoch], type || 0x00 || normalised), where type is
 * the type name in ASCII and normalised the normal form in UTF-8. The 0x00 separator keeps
 * ("ab", "c") and ("a", "bc") apart; type names never contain it.
 *
 * Speed matters (an import hashes millions of rows), so the HMAC state after the key and after
 * each type prefix is computed once and copied into a reused scratch state per call.
 */
import { inspect } from "node:util";
import { hmac, type _HMAC } from "@noble/hashes/hmac.js";
import { sha256, type _SHA256 } from "@noble/hashes/sha2.js";
import { RiskshareError, assertArgument } from "../errors.ts";
import { HASH_BYTES, PEPPER_BYTES, type HasherOptions } from "./options.ts";

/** A pepper and the epoch it belongs to (what the key store holds per epoch). */
export interface PepperSecret {
  readonly epoch: number;
  /** 32 secret bytes. */
  readonly pepper: Uint8Array;
}

/** Where a {@link Hasher} gets peppers from: the key store, or a fixed one in tests. */
export interface PepperProvider {
  /** The epoch new hashes use. */
  currentEpoch(): number;
  /** The pepper of `epoch`, or undefined when this node does not hold it. */
  pepper(epoch: number): Uint8Array | undefined;
}

/** What a {@link Hasher} depends on. */
export interface HasherModules {
  readonly peppers: PepperProvider;
}

/** A provider serving fixed peppers (copied); the highest epoch is current. */
export function staticPepperProvider(...secrets: PepperSecret[]): PepperProvider {
  assertArgument(secrets.length > 0, "at least one pepper is required", "secrets");
  const byEpoch = new Map<number, Uint8Array>();
  for (const { epoch, pepper } of secrets) byEpoch.set(epoch, Uint8Array.from(pepper));
  const current = Math.max(...byEpoch.keys());
  return {
    currentEpoch: () => current,
    pepper: (epoch) => byEpoch.get(epoch),
  };
}

const TYPE_NAME = /^[a-z][a-z0-9_]{0,31}$/;
type Hmac = _HMAC<_SHA256>;

/** Hashes normalised identifiers under one pepper epoch. Never exposes the pepper (not even to inspect/JSON). */
export class Hasher {
  /** The pepper epoch every hash of this instance belongs to. */
  readonly epoch: number;
  /** A private copy of the pepper, only for {@link pepperForWorker}. */
  readonly #pepper: Uint8Array;
  /** HMAC state after absorbing the key. */
  readonly #keyed: Hmac;
  /** HMAC state after absorbing `type || 0x00`, per type name. */
  readonly #perType = new Map<string, Hmac>();
  /** Scratch state each hash runs in (the class is synchronous, so one suffices). */
  readonly #scratch: Hmac;
  #buffer = new Uint8Array(1024);
  readonly #encoder = new TextEncoder();

  /** A hasher over one fixed pepper: the common case until the key store exists. */
  static fromPepper(secret: PepperSecret): Hasher {
    return new Hasher({ epoch: secret.epoch }, { peppers: staticPepperProvider(secret) });
  }

  constructor(opts: HasherOptions, modules: HasherModules) {
    const epoch = opts.epoch ?? modules.peppers.currentEpoch();
    assertArgument(Number.isSafeInteger(epoch) && epoch >= 0, "must be a non-negative integer", "epoch");
    const pepper = modules.peppers.pepper(epoch);
    if (pepper === undefined) throw new RiskshareError("E_PEPPER_MISSING", "no pepper for this epoch", { epoch });
    if (pepper.length !== PEPPER_BYTES) throw new RiskshareError("E_PEPPER_INVALID", `the pepper must be ${PEPPER_BYTES} bytes`, { epoch, lengthBytes: pepper.length });
    this.epoch = epoch;
    this.#pepper = Uint8Array.from(pepper);
    this.#keyed = hmac.create(sha256, pepper);
    this.#scratch = this.#keyed.clone();
  }

  /** The 32-byte hash of a normalised identifier of `type`. */
  hash(type: string, normalised: string): Uint8Array {
    const out = new Uint8Array(HASH_BYTES);
    this.hashInto(type, normalised, out, 0);
    return out;
  }

  /** Writes the 32-byte hash of a normalised identifier into `out` at `offset` (no allocation per call). */
  hashInto(type: string, normalised: string, out: Uint8Array, offset: number): void {
    const prefix = this.#perType.get(type) ?? this.#prefixState(type);
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    if (normalised.length * 3 > this.#buffer.length) this.#buffer = new Uint8Array(normalised.length * 3);
    const { written } = this.#encoder.encodeInto(normalised, this.#buffer);
    const state = prefix._cloneInto(this.#scratch);
    state.update(this.#buffer.subarray(0, written));
    state.digestInto(out.subarray(offset, offset + HASH_BYTES));
  }

  /** The hash as 64 lower-case hex characters. */
  hashHex(type: string, normalised: string): string {
    return Buffer.from(this.hash(type, normalised)).toString("hex");
  }

  #prefixState(type: string): Hmac {
    assertArgument(TYPE_NAME.test(type), "must be an identifier type name", "type");
    const state = this.#keyed.clone().update(this.#encoder.encode(`${type}\u0000`));
    this.#perType.set(type, state);
    return state;
  }

  /**
   * A copy of this hasher's epoch and pepper for a worker thread of this same process (handed over
   * through `workerData` or `postMessage`, which copy it in memory), so the worker can build an equal
   * hasher. Never log, persist or send it anywhere else.
   */
  pepperForWorker(): PepperSecret {
    return { epoch: this.epoch, pepper: Uint8Array.from(this.#pepper) };
  }

  /** JSON view: the epoch only. */
  toJSON(): { epoch: number } {
    return { epoch: this.epoch };
  }

  [inspect.custom](): string {
    return `Hasher { epoch: ${this.epoch} }`;
  }
}
