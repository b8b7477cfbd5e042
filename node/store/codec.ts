/**
 * Binary keys and values of the store: pure functions, table-tested.
 *
 * Entry key (33 bytes):    [typeCode u8][entryId 32 B]            — the provider's private id (oprf/expand.ts)
 * Tag index key:           [categoryId u8][tag 8 B][entry key]    — value: expiresAtSec u48, or empty
 * Expiry index key:        [expiresAtSec u48][entry key]          — value: empty
 * Delta log key:           [categoryId u8][seq u48]               — value: [op u8: 1 add, 0 remove][tag 8 B]
 *
 * Entry value, format 2 (big-endian):
 *   [0] format = 2   [1] categoryId   [2] level   [3] flags (bit 0: expires, bit 1: ownRef, bit 2: confirmed)
 *   [4..10) reportedAtSec u48   [10..16) addedAtSec u48   [16..20) version u32   [20..28) tag   [28..60) metadataKey
 *   then, if expires: expiresAtSec u48   then reason: length u8 + ASCII   then, if ownRef: length u16 + UTF-8
 *   then, if confirmed: confirmations u16 + lastConfirmedAtSec u48 (feedback; a value without the flag was never confirmed)
 * An update that changes nothing encodes to the same bytes once added-at and version are carried over.
 */
import { ENTRY_ID_BYTES, ENTRY_METADATA_KEY_BYTES, ENTRY_TAG_BYTES } from "../identity/index.ts";
import type { RiskLevel, StoredEntry } from "./entry.ts";

export const ENTRY_KEY_BYTES = 1 + ENTRY_ID_BYTES;
const VALUE_FORMAT = 2;
const FLAG_EXPIRES = 1;
const FLAG_OWN_REF = 2;
const FLAG_CONFIRMED = 4;
const ADDED_AT_OFFSET = 10;
const VERSION_OFFSET = 16;
const TAG_OFFSET = 20;
const METADATA_KEY_OFFSET = TAG_OFFSET + ENTRY_TAG_BYTES;
const FIXED_BYTES = METADATA_KEY_OFFSET + ENTRY_METADATA_KEY_BYTES;
const U48 = 6;

/** The entry key of (type code, entry id). */
export function encodeEntryKey(typeCode: number, entryId: Uint8Array): Buffer {
  const key = Buffer.allocUnsafe(ENTRY_KEY_BYTES);
  key[0] = typeCode;
  key.set(entryId, 1);
  return key;
}

/** The type code and entry id of an entry key (the id is a copy). */
export function decodeEntryKey(key: Uint8Array): { typeCode: number; entryId: Uint8Array } {
  return { typeCode: key[0]!, entryId: Uint8Array.prototype.slice.call(key, 1, ENTRY_KEY_BYTES) };
}

/** The tag index value: when the entry expires, or empty for never. */
export function encodeIndexValue(expiresAtSec: number | undefined): Buffer {
  return expiresAtSec === undefined ? EMPTY : encodeU48(expiresAtSec);
}

/** The expiry of a tag index value (undefined: never). */
export function decodeIndexValue(value: Uint8Array): number | undefined {
  return value.length === 0 ? undefined : decodeU48(value, 0);
}

/** The parts of a tag index key (as the sublevel returns it): category, tag, entry key. */
export function decodeIndexKey(key: Uint8Array): { categoryId: number; tag: Uint8Array; entryKey: Buffer } {
  return {
    categoryId: key[0]!,
    tag: Uint8Array.prototype.slice.call(key, 1, 1 + ENTRY_TAG_BYTES),
    entryKey: Buffer.from(key.subarray(1 + ENTRY_TAG_BYTES, 1 + ENTRY_TAG_BYTES + ENTRY_KEY_BYTES)),
  };
}

/** The expiry time and entry key of an expiry index key. */
export function decodeExpiryKey(key: Uint8Array): { expiresAtSec: number; entryKey: Buffer } {
  return { expiresAtSec: decodeU48(key, 0), entryKey: Buffer.from(key.subarray(U48, U48 + ENTRY_KEY_BYTES)) };
}

/** A delta log key: category and sequence number. */
export function encodeDeltaKey(categoryId: number, seq: number): Buffer {
  const key = Buffer.allocUnsafe(1 + U48);
  key[0] = categoryId;
  key.writeUIntBE(seq, 1, U48);
  return key;
}

/** A delta log value: add (1) or remove (0) of a tag. */
export function encodeDeltaValue(add: boolean, tag: Uint8Array, notice?: Uint8Array): Buffer {
  const value = Buffer.allocUnsafe(1 + ENTRY_TAG_BYTES + (notice?.length ?? 0));
  value[0] = add ? 1 : 0;
  value.set(tag, 1);
  if (notice !== undefined) value.set(notice, 1 + ENTRY_TAG_BYTES);
  return value;
}

/** The fields an entry value holds (the key holds type and entry id). */
export type EntryValueFields = Omit<StoredEntry, "type" | "entryId">;

/** Encodes an entry value (format 2). An empty ownRef is stored as none. */
export function encodeEntryValue(entry: EntryValueFields): Buffer {
  const hasExpiry = entry.expiresAtSec !== undefined;
  const ref = entry.ownRef === undefined || entry.ownRef.length === 0 ? undefined : Buffer.from(entry.ownRef, "utf8");
  const confirmed = (entry.confirmations ?? 0) > 0;
  const size = FIXED_BYTES + (hasExpiry ? U48 : 0) + 1 + entry.reason.length + (ref ? 2 + ref.length : 0) + (confirmed ? 2 + U48 : 0);
  const out = Buffer.allocUnsafe(size);
  out[0] = VALUE_FORMAT;
  out[1] = entry.categoryId;
  out[2] = entry.level;
  out[3] = (hasExpiry ? FLAG_EXPIRES : 0) | (ref ? FLAG_OWN_REF : 0) | (confirmed ? FLAG_CONFIRMED : 0);
  out.writeUIntBE(entry.reportedAtSec, 4, U48);
  out.writeUIntBE(entry.addedAtSec, ADDED_AT_OFFSET, U48);
  out.writeUInt32BE(entry.version, VERSION_OFFSET);
  out.set(entry.tag, TAG_OFFSET);
  out.set(entry.metadataKey, METADATA_KEY_OFFSET);
  let at = FIXED_BYTES;
  if (hasExpiry) {
    out.writeUIntBE(entry.expiresAtSec!, at, U48);
    at += U48;
  }
  out[at++] = entry.reason.length;
  at += out.write(entry.reason, at, "latin1"); // reason codes are ASCII (checked before encoding)
  if (ref) {
    out.writeUInt16BE(ref.length, at);
    ref.copy(out, at + 2);
    at += 2 + ref.length;
  }
  if (confirmed) {
    out.writeUInt16BE(entry.confirmations!, at);
    out.writeUIntBE(entry.lastConfirmedAtSec ?? 0, at + 2, U48);
  }
  return out;
}

/** Decodes an entry value; throws on a format it does not know. */
export function decodeEntryValue(value: Uint8Array): EntryValueFields {
  const buf = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (buf[0] !== VALUE_FORMAT) throw new Error(`unknown entry value format ${buf[0]}`);
  const flags = buf[3]!;
  let at = FIXED_BYTES;
  let expiresAtSec: number | undefined;
  if (flags & FLAG_EXPIRES) {
    expiresAtSec = buf.readUIntBE(at, U48);
    at += U48;
  }
  const reasonLength = buf[at++]!;
  const reason = buf.toString("latin1", at, at + reasonLength);
  at += reasonLength;
  let ownRef: string | undefined;
  if (flags & FLAG_OWN_REF) {
    const refLength = buf.readUInt16BE(at);
    ownRef = buf.toString("utf8", at + 2, at + 2 + refLength);
    at += 2 + refLength;
  }
  let confirmed: { confirmations: number; lastConfirmedAtSec: number } | undefined;
  if (flags & FLAG_CONFIRMED) confirmed = { confirmations: buf.readUInt16BE(at), lastConfirmedAtSec: buf.readUIntBE(at + 2, U48) };
  return {
    categoryId: buf[1]!,
    level: buf[2]! as RiskLevel,
    reason,
    reportedAtSec: buf.readUIntBE(4, U48),
    addedAtSec: buf.readUIntBE(ADDED_AT_OFFSET, U48),
    version: buf.readUInt32BE(VERSION_OFFSET),
    tag: Uint8Array.prototype.slice.call(buf, TAG_OFFSET, TAG_OFFSET + ENTRY_TAG_BYTES),
    metadataKey: Uint8Array.prototype.slice.call(buf, METADATA_KEY_OFFSET, FIXED_BYTES),
    expiresAtSec,
    ownRef,
    ...confirmed,
  };
}

/** The confirmations an encoded entry value carries (feedback), or undefined for none. */
export function entryValueConfirmed(value: Uint8Array): { confirmations: number; lastConfirmedAtSec: number } | undefined {
  if (!(value[3]! & FLAG_CONFIRMED)) return undefined;
  const fields = decodeEntryValue(value);
  return { confirmations: fields.confirmations!, lastConfirmedAtSec: fields.lastConfirmedAtSec! };
}

/** The added-at time of an encoded entry value. */
export function entryValueAddedAt(value: Uint8Array): number {
  return decodeU48(value, ADDED_AT_OFFSET);
}

/** The version of an encoded entry value. */
export function entryValueVersion(value: Uint8Array): number {
  return ((value[VERSION_OFFSET]! << 24) | (value[VERSION_OFFSET + 1]! << 16) | (value[VERSION_OFFSET + 2]! << 8) | value[VERSION_OFFSET + 3]!) >>> 0;
}

/** The tag of an encoded entry value (a view). */
export function entryValueTag(value: Uint8Array): Uint8Array {
  return value.subarray(TAG_OFFSET, TAG_OFFSET + ENTRY_TAG_BYTES);
}

/** The category id of an encoded entry value. */
export function entryValueCategory(value: Uint8Array): number {
  return value[1]!;
}

/** The expiry of an encoded entry value (undefined: never). */
export function entryValueExpiry(value: Uint8Array): number | undefined {
  return value[3]! & FLAG_EXPIRES ? decodeU48(value, FIXED_BYTES) : undefined;
}

/** A 6-byte big-endian unsigned integer. */
export function encodeU48(n: number): Buffer {
  const out = Buffer.allocUnsafe(U48);
  out.writeUIntBE(n, 0, U48);
  return out;
}

/** Reads a 6-byte big-endian unsigned integer at `offset`. */
export function decodeU48(bytes: Uint8Array, offset: number): number {
  let n = 0;
  for (let i = 0; i < U48; i++) n = n * 256 + bytes[offset + i]!;
  return n;
}

const EMPTY = Buffer.alloc(0);
