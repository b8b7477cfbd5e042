/**
 * The identifier types riskshare knows: each has a name (part of the hash input and of the wire
 * format), a one-byte code (part of store keys and of contribution digests) and a normaliser.
 * Names and codes are consortium-wide: never renumber a type, never reuse a retired code.
 */
import type { CountryCode } from "libphonenumber-js/max";
import { isSupportedCountry } from "libphonenumber-js/max";
import { assertArgument } from "../errors.ts";
import { identifierInvalid, identifierTypeUnknown, reject, type NormaliseResult } from "./errors.ts";
import { normaliseBankCard } from "./normalisers/bankCard.ts";
import { normaliseEmail } from "./normalisers/email.ts";
import { normaliseIp } from "./normalisers/ip.ts";
import { normaliseNationalId } from "./normalisers/nationalId.ts";
import { opaqueNormaliser } from "./normalisers/opaque.ts";
import { normalisePhone } from "./normalisers/phone.ts";
import { DEFAULT_NORMALISE_OPTIONS, MAX_RAW_CHARS, OPAQUE_MAX_CHARS, type NormaliseOptions } from "./options.ts";

/** The built-in identifier type names. */
export const IDENTIFIER_TYPES = ["phone", "national_id", "bank_card", "email", "device_id", "ip", "merchant_id", "account"] as const;

/** A built-in identifier type name. */
export type BuiltinIdentifierType = (typeof IDENTIFIER_TYPES)[number];

/** One identifier type: how it is named, keyed and normalised. */
export interface IdentifierTypeSpec {
  /** Lower-case name, `[a-z][a-z0-9_]*`, at most 32 characters; hashed as part of every identifier. */
  readonly name: string;
  /** 1..255, unique: the first byte of store keys and the sort key of contribution digests. */
  readonly code: number;
  /** Pure: the normal form of `raw`, or the reason it is rejected. */
  normalise(raw: string, opts: NormaliseOptions): NormaliseResult;
}

/** The built-in types with their permanent codes. */
export const BUILTIN_IDENTIFIER_TYPES: readonly IdentifierTypeSpec[] = [
  { name: "phone", code: 1, normalise: normalisePhone },
  { name: "national_id", code: 2, normalise: normaliseNationalId },
  { name: "bank_card", code: 3, normalise: normaliseBankCard },
  { name: "email", code: 4, normalise: normaliseEmail },
  { name: "device_id", code: 5, normalise: opaqueNormaliser(OPAQUE_MAX_CHARS.device_id) },
  { name: "ip", code: 6, normalise: normaliseIp },
  { name: "merchant_id", code: 7, normalise: opaqueNormaliser(OPAQUE_MAX_CHARS.merchant_id) },
  { name: "account", code: 8, normalise: opaqueNormaliser(OPAQUE_MAX_CHARS.account) },
];

const TYPE_NAME = /^[a-z][a-z0-9_]{0,31}$/;

/** A set of identifier types, extensible with {@link IdentifierRegistry.register}. */
export class IdentifierRegistry {
  readonly #byName = new Map<string, IdentifierTypeSpec>();
  readonly #byCode = new Map<number, IdentifierTypeSpec>();
  #sealed = false;

  constructor(specs: Iterable<IdentifierTypeSpec> = BUILTIN_IDENTIFIER_TYPES) {
    for (const spec of specs) this.register(spec);
  }

  /** Adds a type; its name and code must be new. */
  register(spec: IdentifierTypeSpec): this {
    assertArgument(!this.#sealed, "this registry is sealed; build a new IdentifierRegistry with the extra types", "registry");
    assertArgument(TYPE_NAME.test(spec.name), "must match [a-z][a-z0-9_]* and be at most 32 characters", "spec.name");
    assertArgument(Number.isInteger(spec.code) && spec.code >= 1 && spec.code <= 255, "must be an integer in 1..255", "spec.code");
    assertArgument(!this.#byName.has(spec.name), "is already registered", "spec.name");
    assertArgument(!this.#byCode.has(spec.code), "is already used by another type", "spec.code");
    this.#byName.set(spec.name, spec);
    this.#byCode.set(spec.code, spec);
    return this;
  }

  /** Refuses further registrations from now on. */
  seal(): this {
    this.#sealed = true;
    return this;
  }

  /** The registered type names, in registration order. */
  names(): string[] {
    return [...this.#byName.keys()];
  }

  /** True when `name` is a registered type. */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** The spec of type `name`; throws E_IDENTIFIER_TYPE when unknown. */
  get(name: string): IdentifierTypeSpec {
    const spec = this.#byName.get(name);
    if (spec === undefined) throw identifierTypeUnknown(this.names());
    return spec;
  }

  /** The spec whose code is `code`, if any. */
  byCode(code: number): IdentifierTypeSpec | undefined {
    return this.#byCode.get(code);
  }

  /** Normalises without throwing for bad input: the normal form or the reject reason (unknown types still throw). */
  tryNormalise(type: string, raw: string, opts: NormaliseOptions = DEFAULT_NORMALISE_OPTIONS): NormaliseResult {
    const spec = this.get(type);
    if (raw.length > MAX_RAW_CHARS) return reject("too_long");
    return spec.normalise(raw, opts);
  }

  /** The normal form of `raw` as a `type`; throws E_IDENTIFIER_INVALID with `meta.reason` when rejected. */
  normalise(type: string, raw: string, opts: NormaliseOptions = DEFAULT_NORMALISE_OPTIONS): string {
    const result = this.tryNormalise(type, raw, opts);
    if (!result.ok) throw identifierInvalid(type, result.reason);
    return result.value;
  }
}

/** The sealed registry of the built-in types (extend by building a new registry, not by mutating this one). */
export const defaultIdentifierRegistry = new IdentifierRegistry().seal();

/** The normal form of `raw` as a built-in `type` (see {@link IdentifierRegistry.normalise}). */
export function normalise(type: string, raw: string, opts: NormaliseOptions = DEFAULT_NORMALISE_OPTIONS): string {
  return defaultIdentifierRegistry.normalise(type, raw, opts);
}

/** The normal form of `raw`, or why it is rejected, as a built-in `type` (see {@link IdentifierRegistry.tryNormalise}). */
export function tryNormalise(type: string, raw: string, opts: NormaliseOptions = DEFAULT_NORMALISE_OPTIONS): NormaliseResult {
  return defaultIdentifierRegistry.tryNormalise(type, raw, opts);
}

/** Throws E_BAD_INPUT unless `region` is a region libphonenumber knows (config validation helper). */
export function assertPhoneRegion(region: string): asserts region is CountryCode {
  assertArgument(isSupportedCountry(region), "is not a supported ISO 3166-1 alpha-2 region for phone numbers", "defaultRegion");
}
