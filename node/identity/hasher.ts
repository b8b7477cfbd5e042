/**
 * Salted identifier hashes: HMAC-SHA256(pepper[epoch], type || 0x00 || normalised), where type is
 * the type name in ASCII and normalised the normal form in UTF-8. The 0x00 separator keeps
 * ("ab", "c") and ("a", "bc") apart; type names never contain it.
 *
 * Speed matters (an import hashes millions of rows): the key's pad blocks are absorbed once
 * (hmacSha256.ts) and each hash costs two SHA-256 compressions and no allocation.
 */
import { inspect } from "node:util";
import { RiskshareError, assertArgument } from "../errors.ts";
import { HmacSha256 } from "./hmacSha256.ts";
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

/** Hashes normalised identifiers under one pepper epoch. Never exposes the pepper (not even to inspect/JSON). */
export class Hasher {
  /** The pepper epoch every hash of this instance belongs to. */
  readonly epoch: number;
  /** A private copy of the pepper, only for {@link pepperForWorker}. */
  readonly #pepper: Uint8Array;
  /** HMAC-SHA256 keyed with the pepper (synchronous, so one scratch state suffices). */
  readonly #mac: HmacSha256;
  /** `type || 0x00` per type name. */
  readonly #prefixes = new Map<string, Uint8Array>();
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
    this.#mac = new HmacSha256(pepper);
  }

  /** The 32-byte hash of a normalised identifier of `type`. */
  hash(type: string, normalised: string): Uint8Array {
    const out = new Uint8Array(HASH_BYTES);
    this.hashInto(type, normalised, out, 0);
    return out;
  }

  /** Writes the 32-byte hash of a normalised identifier into `out` at `offset` (no allocation per call). */
  hashInto(type: string, normalised: string, out: Uint8Array, offset: number): void {
    assertArgument(offset >= 0 && offset + HASH_BYTES <= out.length, "must leave room for a hash", "offset");
    const prefix = this.#prefixes.get(type) ?? this.#prefix(type);
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    if (normalised.length * 3 > this.#buffer.length) this.#buffer = new Uint8Array(normalised.length * 3);
    const { written } = this.#encoder.encodeInto(normalised, this.#buffer);
    this.#mac.digestInto(prefix, this.#buffer, written, out, offset);
  }

  /** The hash as 64 lower-case hex characters. */
  hashHex(type: string, normalised: string): string {
    return Buffer.from(this.hash(type, normalised)).toString("hex");
  }

  #prefix(type: string): Uint8Array {
    assertArgument(TYPE_NAME.test(type), "must be an identifier type name", "type");
    const prefix = this.#encoder.encode(`${type}\u0000`);
    this.#prefixes.set(type, prefix);
    return prefix;
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
