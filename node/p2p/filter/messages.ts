/**
 * The frames of `/riskshare/filter/1` (zod, strict). Tags are 8 bytes of 0x-hex; base bytes are base64.
 */
import { z } from "zod";
import { MAX_CATEGORY_ID } from "../../policy/index.ts";
import { errorFrame } from "../frames.ts";
import { FILTER_BASE_CHUNK_BYTES, FILTER_MAX_DELTA_NOTICES, FILTER_MAX_DELTA_TAGS, FILTER_MAX_NOTICE_CHARS } from "./constants.ts";

const hex32 = z.string().regex(/^0x[0-9a-f]{64}$/, "must be 32 bytes of lower-case 0x-hex");
const tag = z.string().regex(/^0x[0-9a-f]{16}$/, "must be 8 bytes of lower-case 0x-hex");
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte 0x-hex address");
const signature = z.string().regex(/^0x[0-9a-fA-F]{130}$/, "must be a 65-byte 0x-hex signature");
const uint = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const category = z.number().int().min(1).max(MAX_CATEGORY_ID);
const epoch = z.number().int().min(0).max(0xffff_ffff);

/** The querier's request: what it holds (baseHash null = nothing, or a base download). */
export const filterRequestFrame = z.strictObject({
  provider: address,
  category,
  epoch,
  baseHash: hex32.nullable(),
  fromSeq: uint,
  chunk: uint.optional(),
});

/** The state the provider signs: its current base and the net deltas from `fromSeq` to `seq`. */
export const filterState = z.strictObject({
  provider: address,
  category,
  epoch: epoch.min(1),
  baseHash: hex32,
  baseCount: uint,
  /** The sequence the deltas start after (0 when the base is sent). */
  fromSeq: uint,
  seq: uint,
  adds: z.array(tag).max(FILTER_MAX_DELTA_TAGS),
  removes: z.array(tag).max(FILTER_MAX_DELTA_TAGS),
  /**
   * Sealed delisting notices of removed tags (node/store/delisting.ts), base64: only a querier that
   * evaluated the identifier opens one. Optional: a state without notices encodes as before.
   */
  notices: z.array(z.strictObject({ tag, sealed: z.base64().max(FILTER_MAX_NOTICE_CHARS) })).max(FILTER_MAX_DELTA_NOTICES).optional(),
});

/** The provider's answer. */
export const filterAnswerFrame = z.strictObject({
  ok: z.literal(true),
  state: filterState,
  base: z
    .strictObject({ chunk: uint, chunks: z.number().int().min(1).max(1_024), bytes: z.base64().max(Math.ceil(FILTER_BASE_CHUNK_BYTES / 3) * 4) })
    .optional(),
  signature,
});

/** The provider's frame. */
export const filterResponseFrame = z.discriminatedUnion("ok", [filterAnswerFrame, errorFrame]);

export type FilterRequestFrame = z.infer<typeof filterRequestFrame>;
export type FilterState = z.infer<typeof filterState>;
export type FilterAnswerFrame = z.infer<typeof filterAnswerFrame>;
export type FilterResponseFrame = z.infer<typeof filterResponseFrame>;
