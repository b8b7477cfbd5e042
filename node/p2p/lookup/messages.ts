/**
 * The frames of `/riskshare/lookup/1`, as zod schemas checked on every message in both
 * directions. Binary fields are 0x-hex; uint64 fields are decimal strings (JSON numbers lose
 * precision past 2^53). Unknown keys are refused.
 */
import { z } from "zod";
import { LookupKind, type LookupAnswer, type LookupRequest } from "../../chain/index.ts";
import { MAX_CATEGORY_ID } from "../../policy/index.ts";
import { errorFrame, type ErrorFrame } from "../frames.ts";
import { MAX_ITEMS_PER_REQUEST, MAX_PROVIDER_REF_CHARS, MAX_REASON_CHARS } from "./constants.ts";

const UINT64_MAX = (1n << 64n) - 1n;

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes of 0x-hex");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte 0x-hex address");
/** 65-byte (r, s, v) or 64-byte EIP-2098 compact signature. */
const signature = z.string().regex(/^0x(?:[0-9a-fA-F]{128}|[0-9a-fA-F]{130})$/, "must be a 64- or 65-byte 0x-hex signature");
const uint64String = z.string().regex(/^(?:0|[1-9][0-9]{0,19})$/, "must be a decimal uint64").refine((v) => BigInt(v) <= UINT64_MAX, "must fit in uint64");
const unixSeconds = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const printable = (max: number) => z.string().min(1).max(max).regex(/^[\x20-\x7e]+$/, "must be printable ASCII");

/** Bits 1..63 only, at least one: category ids are 1..63 (bit 0 stands for none). */
const categoryMask = uint64String.refine((v) => {
  const mask = BigInt(v);
  return mask !== 0n && (mask & 1n) === 0n;
}, "must ask for at least one category id in 1..63");

/** A signed request's fields on the wire (bigints as decimal strings). */
export const wireLookupRequest = z.strictObject({
  querier: address,
  provider: address,
  categoryMask,
  itemCount: z.number().int().min(1).max(MAX_ITEMS_PER_REQUEST),
  itemsCommitment: hex32,
  nonce: hex32,
  deadline: uint64String,
});

/** One identifier to check: its type and its peppered hash. */
export const lookupItem = z.strictObject({
  type: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, "must be an identifier type such as bank_card"),
  hash: hex32,
});

/** The querier's frame. */
export const lookupRequestFrame = z.strictObject({
  request: wireLookupRequest,
  signature,
  items: z.array(lookupItem).min(1).max(MAX_ITEMS_PER_REQUEST),
  blinding: hex32,
});

/** An item the provider does not list. */
export const missResult = z.strictObject({ hit: z.literal(false) });

/** An item the provider lists, with what it knows. */
export const hitResult = z.strictObject({
  hit: z.literal(true),
  category: z.number().int().min(1).max(MAX_CATEGORY_ID),
  level: z.number().int().min(1).max(5),
  reason: printable(MAX_REASON_CHARS),
  reportedAt: unixSeconds,
  expiresAt: unixSeconds.min(1).optional(),
  providerRef: printable(MAX_PROVIDER_REF_CHARS).optional(),
});

/** One item's result. */
export const lookupResult = z.discriminatedUnion("hit", [missResult, hitResult]);

/** The provider's signed answer (EIP-712 LookupAnswer). */
export const lookupAnswer = z.strictObject({
  queryId: hex32,
  provider: address,
  resultsDigest: hex32,
  hitCount: z.number().int().min(0).max(MAX_ITEMS_PER_REQUEST),
});

/** An answer: one result per item, in request order. */
export const answerFrame = z.strictObject({
  ok: z.literal(true),
  answer: lookupAnswer,
  answerSignature: signature,
  results: z.array(lookupResult).max(MAX_ITEMS_PER_REQUEST),
});

export { errorFrame, type ErrorFrame };

/** The provider's frame. */
export const lookupResponseFrame = z.discriminatedUnion("ok", [answerFrame, errorFrame]);

export type WireLookupRequest = z.infer<typeof wireLookupRequest>;
export type LookupItem = z.infer<typeof lookupItem>;
export type LookupRequestFrame = z.infer<typeof lookupRequestFrame>;
export type MissResult = z.infer<typeof missResult>;
export type HitResult = z.infer<typeof hitResult>;
export type LookupResult = z.infer<typeof lookupResult>;
export type LookupAnswerWire = z.infer<typeof lookupAnswer>;
export type AnswerFrame = z.infer<typeof answerFrame>;
export type LookupResponseFrame = z.infer<typeof lookupResponseFrame>;

/** The typed request a wire request stands for (this v1 wire carries hashed items: signed as an Evaluate, kind 0). */
export function fromWireRequest(wire: WireLookupRequest): LookupRequest {
  return { ...wire, kind: LookupKind.Evaluate, categoryMask: BigInt(wire.categoryMask), deadline: BigInt(wire.deadline) };
}

/** The wire form of a typed request (the v1 wire has no kind). */
export function toWireRequest(request: LookupRequest): WireLookupRequest {
  const { kind: _kind, ...fields } = request;
  return { ...fields, categoryMask: request.categoryMask.toString(), deadline: request.deadline.toString() };
}

/**
 * The EIP-712 LookupAnswer a v1 wire answer is signed as: the chain's v2 struct has no hit count
 * and names a key epoch (none here: 0); the results digest stands in the answerDigest slot.
 * Until /riskshare/lookup/2 replaces this protocol (integration).
 */
export function signedAnswerOf(wire: LookupAnswerWire, itemCount: number): LookupAnswer {
  return { queryId: wire.queryId, provider: wire.provider, keyEpoch: 0, itemCount, answerDigest: wire.resultsDigest };
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
