/**
 * Sealed delisting notices: why and when a provider removed an entry, sent beside the tag's removal
 * in its filter deltas, readable only by a querier that evaluated the identifier (it holds the
 * entry's metadataKey from its OPRF output). Pure functions, used by both sides.
 *
 * Plaintext, always {@link DELISTING_PLAINTEXT_BYTES} bytes, big-endian:
 *   [0] format = 1   [1] reason length   [2..34) reason (ASCII, zero-padded)   [34..40) delistedAtSec u48
 * Sealed: nonce (12 random bytes) || ChaCha20-Poly1305(key = metadataKey, associated data) ciphertext || tag (16).
 * Associated data: "riskshare/delist/v1" || chainId u64 || provider (20 B) || keyEpoch u32 || tag (8 B):
 * a distinct label, so a notice never opens as entry metadata nor the other way round, and it opens
 * only for the tag, provider, epoch and chain it was sealed for.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { RiskshareError, assertArgument } from "../errors.ts";
import { assertEntryKeyContext, ENTRY_METADATA_KEY_BYTES, ENTRY_TAG_BYTES, type EntryKeyContext } from "../identity/index.ts";
import { ENTRY_LIMITS } from "./options.ts";

/** Why and when an entry was delisted. */
export interface DelistingNotice {
  /** The provider's reason code (ASCII, ≤ 32 characters), e.g. `appeal_upheld`, `expired`. */
  readonly reason: string;
  readonly delistedAtSec: number;
}

/** Format byte of the plaintext. */
export const DELISTING_FORMAT = 1;
/** Bytes of every plaintext. */
export const DELISTING_PLAINTEXT_BYTES = 40;
const NONCE_BYTES = 12;
const AEAD_TAG_BYTES = 16;
/** Bytes of every sealed notice: nonce, ciphertext, tag. */
export const DELISTING_SEALED_BYTES = NONCE_BYTES + DELISTING_PLAINTEXT_BYTES + AEAD_TAG_BYTES;
/** The domain label of a notice's associated data. */
export const DELISTING_LABEL = "riskshare/delist/v1";
const AD_LABEL = Buffer.from(DELISTING_LABEL, "latin1");
const REASON_MAX = 32;

/** The associated data of a notice (see the file comment). */
export function delistingAssociatedData(context: EntryKeyContext, tag: Uint8Array): Uint8Array {
  assertEntryKeyContext(context);
  assertArgument(tag.length === ENTRY_TAG_BYTES, "must be 8 bytes", "tag");
  const ad = Buffer.alloc(AD_LABEL.length + 8 + 20 + 4 + ENTRY_TAG_BYTES);
  AD_LABEL.copy(ad, 0);
  let at = ad.writeBigUInt64BE(context.chainId, AD_LABEL.length);
  at += Buffer.from(context.providerAddress.slice(2), "hex").copy(ad, at);
  at = ad.writeUInt32BE(context.keyEpoch, at);
  ad.set(tag, at);
  return new Uint8Array(ad.buffer, ad.byteOffset, ad.byteLength);
}

/** Seals a notice under the entry's metadataKey, bound to (context, tag). */
export function sealDelisting(notice: DelistingNotice, metadataKey: Uint8Array, context: EntryKeyContext, tag: Uint8Array, nonce: Uint8Array = randomBytes(NONCE_BYTES)): Uint8Array {
  assertArgument(metadataKey.length === ENTRY_METADATA_KEY_BYTES, `must be ${ENTRY_METADATA_KEY_BYTES} bytes`, "metadataKey");
  assertArgument(nonce.length === NONCE_BYTES, `must be ${NONCE_BYTES} bytes`, "nonce");
  assertArgument(/^[\x20-\x7e]*$/.test(notice.reason) && notice.reason.length <= REASON_MAX, `must be at most ${REASON_MAX} ASCII characters`, "reason");
  assertArgument(Number.isSafeInteger(notice.delistedAtSec) && notice.delistedAtSec >= 0 && notice.delistedAtSec <= ENTRY_LIMITS.maxTimestampSec, "must be a u48", "delistedAtSec");
  const plaintext = Buffer.alloc(DELISTING_PLAINTEXT_BYTES);
  plaintext[0] = DELISTING_FORMAT;
  plaintext[1] = notice.reason.length;
  plaintext.write(notice.reason, 2, "latin1");
  plaintext.writeUIntBE(notice.delistedAtSec, 34, 6);
  const cipher = createCipheriv("chacha20-poly1305", metadataKey, nonce, { authTagLength: AEAD_TAG_BYTES });
  cipher.setAAD(delistingAssociatedData(context, tag), { plaintextLength: plaintext.length });
  const sealed = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return new Uint8Array(sealed.buffer, sealed.byteOffset, sealed.byteLength);
}

/** Opens a notice; E_METADATA_OPEN when it does not open under `metadataKey` for (context, tag), or is not a notice. */
export function openDelisting(sealed: Uint8Array, metadataKey: Uint8Array, context: EntryKeyContext, tag: Uint8Array): DelistingNotice {
  if (sealed.length !== DELISTING_SEALED_BYTES) throw openFailed("length");
  let plaintext: Buffer;
  try {
    const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    const decipher = createDecipheriv("chacha20-poly1305", metadataKey, bytes.subarray(0, NONCE_BYTES), { authTagLength: AEAD_TAG_BYTES });
    decipher.setAAD(delistingAssociatedData(context, tag), { plaintextLength: DELISTING_PLAINTEXT_BYTES });
    decipher.setAuthTag(bytes.subarray(bytes.length - AEAD_TAG_BYTES));
    plaintext = Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - AEAD_TAG_BYTES)), decipher.final()]);
  } catch (err) {
    throw openFailed("authentication", err);
  }
  const reasonLength = plaintext[1]!;
  if (plaintext[0] !== DELISTING_FORMAT || reasonLength > REASON_MAX) throw openFailed("format");
  return { reason: plaintext.toString("latin1", 2, 2 + reasonLength), delistedAtSec: plaintext.readUIntBE(34, 6) };
}

/** E_METADATA_OPEN: the notice did not open (no key, nonce or plaintext in the error). */
function openFailed(reason: "length" | "authentication" | "format", cause?: unknown): RiskshareError<"E_METADATA_OPEN"> {
  return new RiskshareError("E_METADATA_OPEN", `the sealed delisting notice does not open: ${reason}`, { reason }, { cause });
}
