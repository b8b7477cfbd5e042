/**
 * Constants of riskshare's OPRF: RFC 9497, suite ristretto255-SHA512, verifiable mode (VOPRF).
 *
 * The mode is part of every domain separation tag below (contextString), so changing it changes
 * every OPRF output: a provider's whole store would have to be re-imported. It is fixed here.
 */

/** RFC 9497 suite identifier (Section 4.1). */
export const OPRF_SUITE_ID = "ristretto255-SHA512";

/** RFC 9497 mode byte: 0x00 OPRF, 0x01 VOPRF, 0x02 POPRF. riskshare uses VOPRF. */
export const OPRF_MODE_VOPRF = 0x01;

/** RFC 9497 contextString = "OPRFV1-" || I2OSP(mode, 1) || "-" || identifier. */
export const OPRF_CONTEXT_STRING: Uint8Array = Uint8Array.of(
  ...new TextEncoder().encode("OPRFV1-"),
  OPRF_MODE_VOPRF,
  ...new TextEncoder().encode(`-${OPRF_SUITE_ID}`),
);

/** Bytes of a serialized group element (Ne) and of a serialized scalar (Ns). */
export const OPRF_ELEMENT_BYTES = 32;
export const OPRF_SCALAR_BYTES = 32;
/** Bytes of a DLEQ proof: the challenge c and the response s, two scalars. */
export const OPRF_PROOF_BYTES = 2 * OPRF_SCALAR_BYTES;
/** Bytes of an OPRF output (Nh, the SHA-512 length). */
export const OPRF_OUTPUT_BYTES = 64;
/** Bytes of a DeriveKeyPair seed (RFC 9497 Section 3.2.1: Ns). */
export const OPRF_SEED_BYTES = 32;

/** Longest OPRF input (RFC 9497 length-prefixes inputs with two bytes). */
export const OPRF_MAX_INPUT_BYTES = 0xffff;
/** Most elements in one batch: the batch proof encodes each index in two bytes. */
export const OPRF_MAX_BATCH_ITEMS = 0xffff;

/** Version byte that opens every {@link oprfInput} encoding; a new encoding takes the next value. */
export const OPRF_INPUT_VERSION = 0x01;
/** Longest normalised identifier accepted by {@link oprfInput}, in UTF-8 bytes. */
export const OPRF_INPUT_MAX_IDENTIFIER_BYTES = 2048;

/**
 * HKDF-SHA256 `info` label of the per-entry keys expanded from an OPRF output: one expansion gives
 * all of them (expand.ts), since node:crypto's hkdfSync costs ~12 µs a call whatever its length and
 * an import derives keys for millions of rows. The label is followed in `info` by the chain id,
 * provider address and key epoch. A new layout takes a new label; a retired label is never reused.
 * Retired: "riskshare/tag/v1", "riskshare/metadata-key/v1", "riskshare/feedback-mac-key/v1"
 * (one expansion per key, before protocol v2 shipped).
 */
export const ENTRY_KEYS_LABEL = "riskshare/entry-keys/v1";

/** Lengths of the per-entry keys, in bytes. */
export const ENTRY_TAG_BYTES = 8;
export const ENTRY_METADATA_KEY_BYTES = 32;
export const ENTRY_FEEDBACK_KEY_BYTES = 32;
/** Bytes of the provider's private store key of an entry (never sent; see expand.ts). */
export const ENTRY_ID_BYTES = 32;
