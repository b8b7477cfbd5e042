/**
 * Per-entry keys expanded from an OPRF output with HKDF-SHA256 (RFC 5869, node:crypto):
 *
 *   key = HKDF-SHA256(IKM = output, salt = empty, info, L)
 *   info = label (ASCII) || 0x00 || I2OSP(chainId, 8) || providerAddress (20 bytes) || I2OSP(keyEpoch, 4)
 *
 * One label per purpose (ENTRY_KEY_LABELS): the tag, the metadata key and the feedback MAC key are
 * independent of one another, and each is bound to the chain, the provider and its key epoch, so
 * the same output never yields the same tag on another chain, for another provider or epoch.
 * Labels contain no 0x00 and the fields after it have fixed lengths, so `info` is unambiguous.
 */
import { hkdfSync } from "node:crypto";
import { assertArgument } from "../../errors.ts";
import { ENTRY_FEEDBACK_KEY_BYTES, ENTRY_KEY_LABELS, ENTRY_METADATA_KEY_BYTES, ENTRY_TAG_BYTES, OPRF_OUTPUT_BYTES } from "./constants.ts";

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
  /** 32 bytes: the MAC key of feedback about the entry. */
  readonly feedbackKey: Uint8Array;
}

/** A purpose of {@link ENTRY_KEY_LABELS}. */
export type EntryKeyPurpose = keyof typeof ENTRY_KEY_LABELS;

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const EMPTY_SALT = new Uint8Array(0);

/** The HKDF `info` of `purpose` in `context` (see the file comment for the layout). */
export function entryKeyInfo(purpose: EntryKeyPurpose, context: EntryKeyContext): Uint8Array {
  const { chainId, providerAddress, keyEpoch } = context;
  assertArgument(typeof chainId === "bigint" && chainId >= 0n && chainId < 2n ** 64n, "must be a uint64 bigint", "chainId");
  assertArgument(ADDRESS.test(providerAddress), "must be 0x and 40 hex digits", "providerAddress");
  assertArgument(Number.isInteger(keyEpoch) && keyEpoch >= 0 && keyEpoch <= 0xffffffff, "must be a uint32", "keyEpoch");
  const label = new TextEncoder().encode(ENTRY_KEY_LABELS[purpose]);
  const info = new Uint8Array(label.length + 1 + 8 + 20 + 4);
  const view = new DataView(info.buffer);
  info.set(label, 0);
  let at = label.length + 1; // the 0x00 after the label
  view.setBigUint64(at, chainId);
  at += 8;
  info.set(Buffer.from(providerAddress.slice(2), "hex"), at);
  at += 20;
  view.setUint32(at, keyEpoch);
  return info;
}

/** `lengthBytes` of HKDF-SHA256 output for `purpose`, from one OPRF output. */
export function expandEntryKey(output: Uint8Array, purpose: EntryKeyPurpose, context: EntryKeyContext, lengthBytes: number): Uint8Array {
  assertArgument(output.length === OPRF_OUTPUT_BYTES, `must be ${OPRF_OUTPUT_BYTES} bytes`, "output");
  return new Uint8Array(hkdfSync("sha256", output, EMPTY_SALT, entryKeyInfo(purpose, context), lengthBytes));
}

/** The 8-byte tag of the entry whose OPRF output is `output`. */
export function entryTag(output: Uint8Array, context: EntryKeyContext): Uint8Array {
  return expandEntryKey(output, "tag", context, ENTRY_TAG_BYTES);
}

/** All three keys of the entry whose OPRF output is `output` (tag, metadata key, feedback MAC key). */
export function expandEntryKeys(output: Uint8Array, context: EntryKeyContext): EntryKeys {
  return {
    tag: expandEntryKey(output, "tag", context, ENTRY_TAG_BYTES),
    metadataKey: expandEntryKey(output, "metadata", context, ENTRY_METADATA_KEY_BYTES),
    feedbackKey: expandEntryKey(output, "feedback", context, ENTRY_FEEDBACK_KEY_BYTES),
  };
}
