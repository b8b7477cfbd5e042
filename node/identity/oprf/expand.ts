/**
 * Per-entry keys expanded from an OPRF output with one HKDF-SHA256 call (RFC 5869, node:crypto):
 *
 *   okm  = HKDF-SHA256(IKM = output, salt = empty, info, L = 104)
 *   info = "riskshare/entry-keys/v1" (ASCII) || 0x00 || I2OSP(chainId, 8) || providerAddress (20 bytes) || I2OSP(keyEpoch, 4)
 *   tag = okm[0..8)   metadataKey = okm[8..40)   feedbackKey = okm[40..72)   entryId = okm[72..104)
 *
 * This is the one public definition of the tag and the metadata key: the provider derives them at
 * import from its own evaluation, the querier from its finalized output with the provider's context.
 * HKDF's output blocks are independent pseudo-random bytes, so slicing one expansion gives keys as
 * independent as separate expansions would, at a quarter of the cost (hkdfSync costs ~12 µs a call).
 * Every key is bound to the chain, the provider and its key epoch, so the same output never yields
 * the same tag on another chain, for another provider or epoch. The label contains no 0x00 and the
 * fields after it have fixed lengths, so `info` is unambiguous.
 *
 * `entryId` is the provider's store key of the entry: it stays in its database and is never sent.
 * `feedbackKey` is reserved: feedback MACs are keyed from the metadataKey instead (identity/feedback.ts,
 * so the provider needs no second stored key per entry); the slot stays so the layout and every
 * existing entryId are unchanged.
 */
import { hkdfSync } from "node:crypto";
import { assertArgument } from "../../errors.ts";
import { ENTRY_FEEDBACK_KEY_BYTES, ENTRY_ID_BYTES, ENTRY_KEYS_LABEL, ENTRY_METADATA_KEY_BYTES, ENTRY_TAG_BYTES, OPRF_OUTPUT_BYTES } from "./constants.ts";

/** Where an entry's keys belong: the chain, the provider that stores the entry and its OPRF key epoch. */
export interface EntryKeyContext {
  /** EIP-155 chain id of the consortium chain. */
  readonly chainId: bigint;
  /** The provider's address, "0x" and 40 hex digits (any case). */
  readonly providerAddress: string;
  /** The epoch of the provider's OPRF key (uint32). */
  readonly keyEpoch: number;
}

/** The keys of one stored entry. */
export interface EntryKeys {
  /** 8 bytes: the entry's tag in the provider's filter and index. */
  readonly tag: Uint8Array;
  /** 32 bytes: encrypts the entry's metadata. */
  readonly metadataKey: Uint8Array;
  /** 32 bytes: reserved (unused; feedback MACs are keyed from the metadataKey, see identity/feedback.ts). */
  readonly feedbackKey: Uint8Array;
  /** 32 bytes: the provider's private store key of the entry (never sent). */
  readonly entryId: Uint8Array;
}

/** Offsets of each key in the expansion. */
export const ENTRY_KEYS_LAYOUT = {
  tag: 0,
  metadataKey: ENTRY_TAG_BYTES,
  feedbackKey: ENTRY_TAG_BYTES + ENTRY_METADATA_KEY_BYTES,
  entryId: ENTRY_TAG_BYTES + ENTRY_METADATA_KEY_BYTES + ENTRY_FEEDBACK_KEY_BYTES,
} as const;
/** Bytes of one expansion. */
export const ENTRY_KEYS_BYTES = ENTRY_KEYS_LAYOUT.entryId + ENTRY_ID_BYTES;

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const EMPTY_SALT = new Uint8Array(0);

/** Throws E_BAD_INPUT unless `context` is a valid entry key context. */
export function assertEntryKeyContext(context: EntryKeyContext): void {
  const { chainId, providerAddress, keyEpoch } = context;
  assertArgument(typeof chainId === "bigint" && chainId >= 0n && chainId < 2n ** 64n, "must be a uint64 bigint", "chainId");
  assertArgument(ADDRESS.test(providerAddress), "must be 0x and 40 hex digits", "providerAddress");
  assertArgument(Number.isInteger(keyEpoch) && keyEpoch >= 0 && keyEpoch <= 0xffffffff, "must be a uint32", "keyEpoch");
}

/** The HKDF `info` of `context` (see the file comment for the layout). */
export function entryKeyInfo(context: EntryKeyContext): Uint8Array {
  assertEntryKeyContext(context);
  const label = new TextEncoder().encode(ENTRY_KEYS_LABEL);
  const info = new Uint8Array(label.length + 1 + 8 + 20 + 4);
  const view = new DataView(info.buffer);
  info.set(label, 0);
  let at = label.length + 1; // the 0x00 after the label
  view.setBigUint64(at, context.chainId);
  at += 8;
  info.set(Buffer.from(context.providerAddress.slice(2), "hex"), at);
  at += 20;
  view.setUint32(at, context.keyEpoch);
  return info;
}

/** The whole expansion (104 bytes, layout {@link ENTRY_KEYS_LAYOUT}) of `output` under a prepared `info`. */
export function expandEntryKeyBytes(output: Uint8Array, info: Uint8Array): Uint8Array {
  assertArgument(output.length === OPRF_OUTPUT_BYTES, `must be ${OPRF_OUTPUT_BYTES} bytes`, "output");
  return new Uint8Array(hkdfSync("sha256", output, EMPTY_SALT, info, ENTRY_KEYS_BYTES));
}

/** The keys of the entry whose OPRF output is `output` (tag, metadata key, feedback MAC key, store id). */
export function expandEntryKeys(output: Uint8Array, context: EntryKeyContext): EntryKeys {
  return splitEntryKeys(expandEntryKeyBytes(output, entryKeyInfo(context)));
}

/** The 8-byte tag of the entry whose OPRF output is `output`. */
export function entryTag(output: Uint8Array, context: EntryKeyContext): Uint8Array {
  return expandEntryKeys(output, context).tag;
}

/** The keys inside one expansion (views, not copies). */
export function splitEntryKeys(okm: Uint8Array): EntryKeys {
  const { tag, metadataKey, feedbackKey, entryId } = ENTRY_KEYS_LAYOUT;
  return {
    tag: okm.subarray(tag, tag + ENTRY_TAG_BYTES),
    metadataKey: okm.subarray(metadataKey, metadataKey + ENTRY_METADATA_KEY_BYTES),
    feedbackKey: okm.subarray(feedbackKey, feedbackKey + ENTRY_FEEDBACK_KEY_BYTES),
    entryId: okm.subarray(entryId, entryId + ENTRY_ID_BYTES),
  };
}
