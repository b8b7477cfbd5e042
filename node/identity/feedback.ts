/**
 * The MAC of a feedback report (docs/PROTOCOL.md "Feedback"): proof that the sender evaluated the
 * identifier of the entry it reports on, checkable by the provider without storing another key.
 *
 *   key = HKDF-SHA256(IKM = metadataKey, salt = empty, L = 32,
 *                     info = "riskshare/feedback/v1" || 0x00 || I2OSP(chainId, 8) || provider (20 B) || I2OSP(keyEpoch, 4) || tag (8 B))
 *   mac = HMAC-SHA256(key, "riskshare/feedback/v1" || 0x00 || kind u8 || categoryId u8 || I2OSP(version, 4))
 *
 * Only an OPRF output of the identifier yields the entry's metadataKey (oprf/expand.ts), and the
 * provider stores each entry's metadataKey (store/codec.ts): the key is expanded from it rather than
 * from the entry-key expansion's reserved `feedbackKey` slot, which the provider would have to store
 * beside every entry. Both sides use node:crypto (HKDF and HMAC, RFC 5869 / RFC 2104).
 */
import { createHmac, hkdfSync, timingSafeEqual } from "node:crypto";
import { assertArgument } from "../errors.ts";
import { assertEntryKeyContext, ENTRY_METADATA_KEY_BYTES, ENTRY_TAG_BYTES, type EntryKeyContext } from "./oprf/index.ts";

/** The domain label of feedback keys and MACs. */
export const FEEDBACK_LABEL = "riskshare/feedback/v1";
/** Bytes of a report's MAC. */
export const FEEDBACK_MAC_BYTES = 32;

/** What a report says about an entry. */
export const FEEDBACK_KINDS = ["confirmed", "false_positive", "outdated"] as const;
/** A report's kind. */
export type FeedbackKind = (typeof FEEDBACK_KINDS)[number];

/** The fields of a report the MAC covers besides the context and tag. */
export interface FeedbackFields {
  readonly kind: FeedbackKind;
  readonly categoryId: number;
  /** The entry version the sender opened. */
  readonly version: number;
}

const LABEL = new TextEncoder().encode(FEEDBACK_LABEL);
const EMPTY_SALT = new Uint8Array(0);

/** The MAC key of feedback about the entry with this metadata key and tag under `context`. */
export function feedbackKey(metadataKey: Uint8Array, context: EntryKeyContext, tag: Uint8Array): Uint8Array {
  assertEntryKeyContext(context);
  assertArgument(metadataKey.length === ENTRY_METADATA_KEY_BYTES, `must be ${ENTRY_METADATA_KEY_BYTES} bytes`, "metadataKey");
  assertArgument(tag.length === ENTRY_TAG_BYTES, `must be ${ENTRY_TAG_BYTES} bytes`, "tag");
  const info = Buffer.alloc(LABEL.length + 1 + 8 + 20 + 4 + ENTRY_TAG_BYTES);
  info.set(LABEL, 0);
  let at = info.writeBigUInt64BE(context.chainId, LABEL.length + 1);
  at += Buffer.from(context.providerAddress.slice(2), "hex").copy(info, at);
  at = info.writeUInt32BE(context.keyEpoch, at);
  info.set(tag, at);
  return new Uint8Array(hkdfSync("sha256", metadataKey, EMPTY_SALT, info, FEEDBACK_MAC_BYTES));
}

/** The MAC of a report (see the file comment). */
export function feedbackMac(metadataKey: Uint8Array, context: EntryKeyContext, tag: Uint8Array, fields: FeedbackFields): Uint8Array {
  const kind = FEEDBACK_KINDS.indexOf(fields.kind);
  assertArgument(kind >= 0, `must be one of ${FEEDBACK_KINDS.join(", ")}`, "kind");
  assertArgument(Number.isInteger(fields.categoryId) && fields.categoryId >= 1 && fields.categoryId <= 255, "must be a u8 category id", "categoryId");
  assertArgument(Number.isInteger(fields.version) && fields.version >= 1 && fields.version <= 0xffffffff, "must be a positive uint32", "version");
  const message = Buffer.alloc(LABEL.length + 1 + 1 + 1 + 4);
  message.set(LABEL, 0);
  message[LABEL.length + 1] = kind + 1;
  message[LABEL.length + 2] = fields.categoryId;
  message.writeUInt32BE(fields.version, LABEL.length + 3);
  return new Uint8Array(createHmac("sha256", feedbackKey(metadataKey, context, tag)).update(message).digest());
}

/** True when `mac` is the report's MAC under this entry's metadata key (constant-time comparison). */
export function verifyFeedbackMac(mac: Uint8Array, metadataKey: Uint8Array, context: EntryKeyContext, tag: Uint8Array, fields: FeedbackFields): boolean {
  if (mac.length !== FEEDBACK_MAC_BYTES) return false;
  return timingSafeEqual(mac, feedbackMac(metadataKey, context, tag, fields));
}
