/**
 * Sealed entry metadata: what a provider sends about a listed entry in a fetch answer, readable only
 * by a querier that knows the identifier (it derives the same metadataKey from its OPRF output).
 * Pure functions, used by both sides.
 *
 * Plaintext, always {@link METADATA_PLAINTEXT_BYTES} bytes whatever the fields (so a ciphertext's
 * length says nothing about them), big-endian:
 *   [0] format = 1   [1] categoryId   [2] level   [3] reason length   [4..36) reason (ASCII, zero-padded)
 *   [36..42) reportedAtSec u48   [42..48) expiresAtSec u48 (0 = never)
 *   [48] providerRef length (UTF-8 bytes)   [49..177) providerRef (zero-padded)
 *   [177..179) confirmations u16 (distinct members that confirmed the entry)   [179..185) lastConfirmedAtSec u48 (0 = none)
 *   [185..192) zero
 * The confirmation fields were zero bytes before feedback existed: an older record reads as never confirmed.
 * Sealed: nonce (12 random bytes) || ChaCha20-Poly1305(key = metadataKey, associated data) ciphertext || tag (16)
 * (RFC 8439's AEAD, IETF nonce). Associated data: "riskshare/metadata/v2" || chainId u64 || provider (20 B)
 * || keyEpoch u32 || type (ASCII) || 0x00 || version u32 || tag (8 B) — so a sealed record opens only
 * for the entry, version, provider, epoch and chain it was sealed for.
 *
 * A provider seals every entry of a fetched bucket (~400) at answer time, so sealing is on the hot
 * path of every Fetch. libsodium's ChaCha20-Poly1305 (public API, WebAssembly) seals a record in
 * ~2 µs; node:crypto needs ~14 µs (ChaCha20-Poly1305) or ~18 µs (AES-256-GCM) per record, mostly
 * to set up a cipher per key. node:crypto's ChaCha20-Poly1305 stays the oracle: the tests check
 * both give the same bytes on RFC 8439's vector and on random keys, nonces and data.
 */
import { randomBytes } from "node:crypto";
import { RiskshareError, assertArgument } from "../errors.ts";
import { assertEntryKeyContext, ENTRY_METADATA_KEY_BYTES, ENTRY_TAG_BYTES, readySodium, type EntryKeyContext, type Sodium } from "../identity/index.ts";
import type { RiskLevel } from "./entry.ts";
import { ENTRY_LIMITS } from "./options.ts";

/** What a sealed record says about an entry. */
export interface EntryMetadata {
  readonly categoryId: number;
  readonly level: RiskLevel;
  /** The provider's reason code (ASCII, ≤ 32 characters). */
  readonly reason: string;
  readonly reportedAtSec: number;
  /** Undefined: never expires. */
  readonly expiresAtSec?: number | undefined;
  /** The provider's own reference (≤ 128 UTF-8 bytes), if any. */
  readonly providerRef?: string | undefined;
  /** Distinct members that confirmed the entry (feedback); undefined or 0: none. */
  readonly confirmations?: number | undefined;
  /** When the last confirmation reached the provider (unix seconds); undefined: none. */
  readonly lastConfirmedAtSec?: number | undefined;
}

/** Format byte of the plaintext. */
export const METADATA_FORMAT = 1;
/** Bytes of every plaintext. */
export const METADATA_PLAINTEXT_BYTES = 192;
/** Bytes of a record's nonce (ChaCha20-Poly1305, IETF). */
export const METADATA_NONCE_BYTES = 12;
const NONCE_BYTES = METADATA_NONCE_BYTES;
const AEAD_TAG_BYTES = 16;
/** Bytes of every sealed record: nonce, ciphertext, GCM tag. */
export const METADATA_SEALED_BYTES = NONCE_BYTES + METADATA_PLAINTEXT_BYTES + AEAD_TAG_BYTES;
const REASON_AT = 4;
const REASON_MAX = 32;
const REPORTED_AT = 36;
const EXPIRES_AT = 42;
const REF_LENGTH_AT = 48;
const REF_AT = 49;
const REF_MAX = 128;
const CONFIRMATIONS_AT = 177;
const LAST_CONFIRMED_AT = 179;
/** Most confirmations a record holds (u16). */
export const MAX_CONFIRMATIONS = 0xffff;
const AD_LABEL = new TextEncoder().encode("riskshare/metadata/v2");
const TYPE_NAME = /^[a-z][a-z0-9_]{0,31}$/;

/** The associated data of a sealed record (see the file comment). */
export function metadataAssociatedData(context: EntryKeyContext, type: string, version: number, tag: Uint8Array): Uint8Array {
  return new AssociatedData(context).of(type, version, tag);
}

/**
 * {@link metadataAssociatedData} for many records of one provider and epoch (a Fetch seals a whole
 * bucket): the common prefix is encoded once, each type's bytes once.
 */
export class AssociatedData {
  readonly #prefix: Buffer;
  readonly #types = new Map<string, Buffer>();

  constructor(context: EntryKeyContext) {
    assertEntryKeyContext(context);
    const prefix = Buffer.alloc(AD_LABEL.length + 8 + 20 + 4);
    prefix.set(AD_LABEL, 0);
    let at = prefix.writeBigUInt64BE(context.chainId, AD_LABEL.length);
    at += Buffer.from(context.providerAddress.slice(2), "hex").copy(prefix, at);
    prefix.writeUInt32BE(context.keyEpoch, at);
    this.#prefix = prefix;
  }

  /** The associated data of one record. */
  of(type: string, version: number, tag: Uint8Array): Uint8Array {
    let typeBytes = this.#types.get(type);
    if (typeBytes === undefined) {
      assertArgument(TYPE_NAME.test(type), "must be an identifier type name", "type");
      typeBytes = Buffer.from(`${type}\0`, "latin1");
      this.#types.set(type, typeBytes);
    }
    assertArgument(Number.isInteger(version) && version >= 0 && version <= 0xffffffff, "must be a uint32", "version");
    assertArgument(tag.length === ENTRY_TAG_BYTES, "must be 8 bytes", "tag");
    const ad = Buffer.allocUnsafe(this.#prefix.length + typeBytes.length + 4 + ENTRY_TAG_BYTES);
    this.#prefix.copy(ad, 0);
    typeBytes.copy(ad, this.#prefix.length);
    const at = ad.writeUInt32BE(version, this.#prefix.length + typeBytes.length);
    ad.set(tag, at);
    return new Uint8Array(ad.buffer, ad.byteOffset, ad.byteLength);
  }
}

/** The fixed-length plaintext of `fields`; throws E_BAD_INPUT for fields it cannot hold. */
export function encodeMetadata(fields: EntryMetadata): Uint8Array {
  const out = Buffer.alloc(METADATA_PLAINTEXT_BYTES);
  assertArgument(Number.isInteger(fields.categoryId) && fields.categoryId >= ENTRY_LIMITS.minCategoryId && fields.categoryId <= ENTRY_LIMITS.maxCategoryId, "must be 1..63", "categoryId");
  assertArgument(Number.isInteger(fields.level) && fields.level >= ENTRY_LIMITS.minLevel && fields.level <= ENTRY_LIMITS.maxLevel, "must be 1..5", "level");
  assertArgument(/^[\x20-\x7e]*$/.test(fields.reason) && fields.reason.length <= REASON_MAX, `must be at most ${REASON_MAX} ASCII characters`, "reason");
  assertArgument(Number.isSafeInteger(fields.reportedAtSec) && fields.reportedAtSec >= 0 && fields.reportedAtSec <= ENTRY_LIMITS.maxTimestampSec, "must be a u48", "reportedAtSec");
  const expires = fields.expiresAtSec ?? 0;
  assertArgument(Number.isSafeInteger(expires) && expires >= 0 && expires <= ENTRY_LIMITS.maxTimestampSec, "must be a u48", "expiresAtSec");
  const ref = Buffer.from(fields.providerRef ?? "", "utf8");
  assertArgument(ref.length <= REF_MAX, `must be at most ${REF_MAX} UTF-8 bytes`, "providerRef");
  out[0] = METADATA_FORMAT;
  out[1] = fields.categoryId;
  out[2] = fields.level;
  out[3] = fields.reason.length;
  out.write(fields.reason, REASON_AT, "latin1");
  out.writeUIntBE(fields.reportedAtSec, REPORTED_AT, 6);
  out.writeUIntBE(expires, EXPIRES_AT, 6);
  out[REF_LENGTH_AT] = ref.length;
  ref.copy(out, REF_AT);
  const confirmations = fields.confirmations ?? 0;
  const lastConfirmed = fields.lastConfirmedAtSec ?? 0;
  assertArgument(Number.isInteger(confirmations) && confirmations >= 0 && confirmations <= MAX_CONFIRMATIONS, "must be a u16", "confirmations");
  assertArgument(Number.isSafeInteger(lastConfirmed) && lastConfirmed >= 0 && lastConfirmed <= ENTRY_LIMITS.maxTimestampSec, "must be a u48", "lastConfirmedAtSec");
  out.writeUInt16BE(confirmations, CONFIRMATIONS_AT);
  out.writeUIntBE(lastConfirmed, LAST_CONFIRMED_AT, 6);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** The fields of a plaintext; throws E_METADATA_OPEN on a format it does not know. */
export function decodeMetadata(plaintext: Uint8Array): EntryMetadata {
  const buf = Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
  if (buf.length !== METADATA_PLAINTEXT_BYTES || buf[0] !== METADATA_FORMAT || buf[3]! > REASON_MAX || buf[REF_LENGTH_AT]! > REF_MAX) {
    throw metadataOpenFailed("format");
  }
  const expiresAtSec = buf.readUIntBE(EXPIRES_AT, 6);
  const refLength = buf[REF_LENGTH_AT]!;
  const confirmations = buf.readUInt16BE(CONFIRMATIONS_AT);
  const lastConfirmedAtSec = buf.readUIntBE(LAST_CONFIRMED_AT, 6);
  return {
    categoryId: buf[1]!,
    level: buf[2]! as RiskLevel,
    reason: buf.toString("latin1", REASON_AT, REASON_AT + buf[3]!),
    reportedAtSec: buf.readUIntBE(REPORTED_AT, 6),
    expiresAtSec: expiresAtSec === 0 ? undefined : expiresAtSec,
    providerRef: refLength === 0 ? undefined : buf.toString("utf8", REF_AT, REF_AT + refLength),
    ...(confirmations === 0 ? {} : { confirmations }),
    ...(lastConfirmedAtSec === 0 ? {} : { lastConfirmedAtSec }),
  };
}

/**
 * Seals and opens metadata records (libsodium's ChaCha20-Poly1305). Build one with
 * {@link createMetadataCipher}; it holds no key, only the initialised library.
 */
export class MetadataCipher {
  readonly #sodium: Sodium;

  constructor(sodium: Sodium) {
    this.#sodium = sodium;
  }

  /**
   * Seals `fields` under `key` (the entry's metadataKey) and `ad` ({@link metadataAssociatedData})
   * with `nonce` (12 bytes; fresh random bytes when omitted — a caller sealing many records draws
   * their nonces at once). A nonce must never repeat under a key: each sealing draws a new one.
   */
  seal(fields: EntryMetadata, key: Uint8Array, ad: Uint8Array, nonce: Uint8Array = randomBytes(NONCE_BYTES)): Uint8Array {
    assertArgument(key.length === ENTRY_METADATA_KEY_BYTES, `must be ${ENTRY_METADATA_KEY_BYTES} bytes`, "key");
    assertArgument(nonce.length === NONCE_BYTES, `must be ${NONCE_BYTES} bytes`, "nonce");
    const sealed = new Uint8Array(METADATA_SEALED_BYTES);
    sealed.set(nonce, 0);
    sealed.set(this.#sodium.crypto_aead_chacha20poly1305_ietf_encrypt(encodeMetadata(fields), ad, null, nonce, key), NONCE_BYTES);
    return sealed;
  }

  /**
   * Opens a sealed record: the fields, or E_METADATA_OPEN when it does not open under `key` and `ad`
   * (another entry's record — a filter false positive —, a wrong key, altered bytes or length).
   */
  open(sealed: Uint8Array, key: Uint8Array, ad: Uint8Array): EntryMetadata {
    assertArgument(key.length === ENTRY_METADATA_KEY_BYTES, `must be ${ENTRY_METADATA_KEY_BYTES} bytes`, "key");
    if (sealed.length !== METADATA_SEALED_BYTES) throw metadataOpenFailed("length");
    let plaintext: Uint8Array;
    try {
      plaintext = this.#sodium.crypto_aead_chacha20poly1305_ietf_decrypt(null, sealed.subarray(NONCE_BYTES), ad, sealed.subarray(0, NONCE_BYTES), key);
    } catch (err) {
      throw metadataOpenFailed("authentication", err);
    }
    return decodeMetadata(plaintext);
  }
}

/** A ready {@link MetadataCipher} (libsodium loads once per process). */
export async function createMetadataCipher(): Promise<MetadataCipher> {
  return new MetadataCipher(await readySodium());
}

/** E_METADATA_OPEN: the record did not open (no key, nonce or plaintext in the error). */
function metadataOpenFailed(reason: "length" | "authentication" | "format", cause?: unknown): RiskshareError<"E_METADATA_OPEN"> {
  return new RiskshareError("E_METADATA_OPEN", `the sealed metadata does not open: ${reason}`, { reason }, { cause });
}
