/**
 * The frames of `/riskshare/lookup/2`, as zod schemas checked on every message in both directions.
 * Binary fields are 0x-hex, except a Fetch answer's buckets: each is one base64 string of fixed-size
 * records (see {@link BUCKET_RECORD_BYTES}), cheap to write and read at ~400 entries a bucket;
 * uint64 fields are decimal strings; a prefix value is 16 hex digits (no 0x). Unknown keys are refused. Nothing derived from an identifier travels but blinded elements
 * and, after a filter hit, a tag prefix no longer than the provider's bucket bits.
 */
import { z } from "zod";
import { MAX_CATEGORY_ID } from "../../policy/index.ts";
import { errorFrame, type ErrorFrame } from "../frames.ts";
import { BUCKET_RECORD_BYTES, MAX_BUCKET_ENTRIES, MAX_FETCH_PREFIXES, MAX_ITEMS_PER_REQUEST, MAX_PREFIX_BITS, type LookupKindCode } from "./constants.ts";
import type { SealedEntry } from "./components.ts";
import type { LookupRequest, TagPrefix } from "../../chain/index.ts";

const UINT64_MAX = (1n << 64n) - 1n;

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes of 0x-hex");
const hex64 = z.string().regex(/^0x[0-9a-fA-F]{128}$/, "must be 64 bytes of 0x-hex");
const hex8 = z.string().regex(/^0x[0-9a-fA-F]{16}$/, "must be 8 bytes of 0x-hex");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte 0x-hex address");
const signature = z.string().regex(/^0x(?:[0-9a-fA-F]{128}|[0-9a-fA-F]{130})$/, "must be a 64- or 65-byte 0x-hex signature");
const uint64String = z.string().regex(/^(?:0|[1-9][0-9]{0,19})$/, "must be a decimal uint64").refine((v) => BigInt(v) <= UINT64_MAX, "must fit in uint64");
const uint32 = z.number().int().min(0).max(0xffff_ffff);

/** Bits 1..63 only, at least one. */
const categoryMask = uint64String.refine((v) => {
  const mask = BigInt(v);
  return mask !== 0n && (mask & 1n) === 0n;
}, "must ask for at least one category id in 1..63");

/** A signed request's fields on the wire (bigints as decimal strings). */
export const wireLookupRequest = z.strictObject({
  querier: address,
  provider: address,
  kind: z.union([z.literal(0), z.literal(1)]),
  categoryMask,
  itemCount: z.number().int().min(1).max(MAX_ITEMS_PER_REQUEST),
  itemsCommitment: hex32,
  nonce: hex32,
  deadline: uint64String,
});

/** A tag prefix on the wire: bits 0..64, value as 16 hex digits (left-aligned uint64). */
export const wirePrefix = z.strictObject({
  bits: z.number().int().min(0).max(MAX_PREFIX_BITS),
  value: z.string().regex(/^[0-9a-f]{16}$/, "must be 16 lower-case hex digits"),
});

/** The querier's frame: elements for an Evaluate, prefixes for a Fetch. */
export const lookupRequestFrame = z.strictObject({
  request: wireLookupRequest,
  signature,
  elements: z.array(hex32).min(1).max(MAX_ITEMS_PER_REQUEST).optional(),
  prefixes: z.array(wirePrefix).min(1).max(MAX_FETCH_PREFIXES).optional(),
  /** A Fetch's commitment salt (32 bytes): the commitment on chain must not give its prefixes away. */
  salt: hex32.optional(),
});

/** The provider's signed answer (EIP-712 LookupAnswer v2). */
export const lookupAnswer = z.strictObject({
  queryId: hex32,
  provider: address,
  keyEpoch: uint32.min(1),
  itemCount: z.number().int().min(1).max(MAX_ITEMS_PER_REQUEST),
  answerDigest: hex32,
});

/** An Evaluate's answer: one evaluated element per blinded element and one batch proof. */
export const evaluateAnswerFrame = z.strictObject({
  ok: z.literal(true),
  answer: lookupAnswer,
  answerSignature: signature,
  evaluated: z.array(hex32).min(1).max(MAX_ITEMS_PER_REQUEST),
  proof: hex64,
});

/** Most base64 characters of one bucket: MAX_BUCKET_ENTRIES records. */
const MAX_BUCKET_BASE64 = 4 * Math.ceil((MAX_BUCKET_ENTRIES * BUCKET_RECORD_BYTES) / 3);

/** One bucket: its records, base64 (standard alphabet, padded), a whole number of records. */
export const wireBucket = z.strictObject({
  entries: z
    .string()
    .max(MAX_BUCKET_BASE64)
    // Canonical base64 exactly when decoding and encoding again gives the same string: ~30 µs for
    // a bucket of 400 records, where a regular expression over the same string takes ~600 µs.
    .refine((b64) => Buffer.from(b64, "base64").toString("base64") === b64, "must be canonical base64")
    .refine((b64) => base64Bytes(b64) % BUCKET_RECORD_BYTES === 0, `must hold whole ${BUCKET_RECORD_BYTES}-byte records`),
});

/** A Fetch's answer: one bucket per prefix, in order. */
export const fetchAnswerFrame = z.strictObject({
  ok: z.literal(true),
  answer: lookupAnswer,
  answerSignature: signature,
  buckets: z.array(wireBucket).min(1).max(MAX_FETCH_PREFIXES),
});

export { errorFrame, type ErrorFrame };

/** The provider's frame (the querier knows which kind it asked for). */
export const lookupResponseFrame = z.union([evaluateAnswerFrame, fetchAnswerFrame, errorFrame]);

export type WireLookupRequest = z.infer<typeof wireLookupRequest>;
export type WirePrefix = z.infer<typeof wirePrefix>;
export type LookupRequestFrame = z.infer<typeof lookupRequestFrame>;
export type LookupAnswerWire = z.infer<typeof lookupAnswer>;
export type EvaluateAnswerFrame = z.infer<typeof evaluateAnswerFrame>;
export type FetchAnswerFrame = z.infer<typeof fetchAnswerFrame>;
export type WireBucket = z.infer<typeof wireBucket>;
export type LookupResponseFrame = z.infer<typeof lookupResponseFrame>;

/** The typed request a wire request stands for. */
export function fromWireRequest(wire: WireLookupRequest): LookupRequest {
  return { ...wire, categoryMask: BigInt(wire.categoryMask), deadline: BigInt(wire.deadline) };
}

/** The wire form of a typed request. */
export function toWireRequest(request: LookupRequest): WireLookupRequest {
  // The chain's struct types kind as a number; this node only ever builds requests of a known kind.
  return { ...request, kind: request.kind as LookupKindCode, categoryMask: request.categoryMask.toString(), deadline: request.deadline.toString() };
}

/** A prefix from the wire. */
export function fromWirePrefix(wire: WirePrefix): TagPrefix {
  return { bits: wire.bits, value: BigInt(`0x${wire.value}`) };
}

/** A prefix for the wire. */
export function toWirePrefix(prefix: TagPrefix): WirePrefix {
  return { bits: prefix.bits, value: prefix.value.toString(16).padStart(16, "0") };
}

/** The category ids whose bits are set in a mask (ascending). */
export function categoriesOfMask(mask: bigint): number[] {
  const ids: number[] = [];
  for (let id = 1; id <= MAX_CATEGORY_ID; id += 1) if ((mask >> BigInt(id)) & 1n) ids.push(id);
  return ids;
}

/** The mask with the bits of the given category ids set. */
export function maskOfCategories(categoryIds: readonly number[]): bigint {
  return categoryIds.reduce((mask, id) => mask | (1n << BigInt(id)), 0n);
}

/** A bucket's entries as one base64 string of fixed-size records (tag ‖ version ‖ sealed). */
export function encodeBucket(entries: readonly SealedEntry[]): string {
  const out = Buffer.allocUnsafe(entries.length * BUCKET_RECORD_BYTES);
  entries.forEach((entry, i) => {
    const at = i * BUCKET_RECORD_BYTES;
    if (entry.tag.length !== 8 || entry.sealed.length !== BUCKET_RECORD_BYTES - 12) {
      throw new RangeError(`a bucket record needs an 8-byte tag and ${BUCKET_RECORD_BYTES - 12} sealed bytes`);
    }
    out.set(entry.tag, at);
    out.writeUInt32BE(entry.version, at + 8);
    out.set(entry.sealed, at + 12);
  });
  return out.toString("base64");
}

/** The entries of a bucket checked by {@link wireBucket} (views into one decoded buffer). */
export function decodeBucket(bucket: WireBucket): SealedEntry[] {
  const raw = Buffer.from(bucket.entries, "base64");
  const entries: SealedEntry[] = [];
  for (let at = 0; at + BUCKET_RECORD_BYTES <= raw.length; at += BUCKET_RECORD_BYTES) {
    entries.push({ tag: raw.subarray(at, at + 8), version: raw.readUInt32BE(at + 8), sealed: raw.subarray(at + 12, at + BUCKET_RECORD_BYTES) });
  }
  return entries;
}

/** Bytes a well-formed base64 string decodes to. */
function base64Bytes(b64: string): number {
  const padding = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0;
  return (b64.length / 4) * 3 - padding;
}
