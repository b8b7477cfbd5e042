/**
 * The frames of `/riskshare/feedback/1` (zod, strict): one batch of reports in, one outcome per
 * report out. Tags are 8 bytes and MACs 32 bytes of lower-case 0x-hex.
 */
import { z } from "zod";
import { FEEDBACK_KINDS } from "../../identity/index.ts";
import { MAX_CATEGORY_ID } from "../../policy/index.ts";
import { errorFrame } from "../frames.ts";
import { FEEDBACK_MAX_REPORTS } from "./constants.ts";

const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be a 20-byte 0x-hex address");

/** One report: which entry (category, key epoch, tag, the version opened), what about it, and its MAC. */
export const feedbackReport = z.strictObject({
  category: z.number().int().min(1).max(MAX_CATEGORY_ID),
  epoch: z.number().int().min(0).max(0xffff_ffff),
  tag: z.string().regex(/^0x[0-9a-f]{16}$/, "must be 8 bytes of lower-case 0x-hex"),
  version: z.number().int().min(1).max(0xffff_ffff),
  kind: z.enum(FEEDBACK_KINDS),
  mac: z.string().regex(/^0x[0-9a-f]{64}$/, "must be 32 bytes of lower-case 0x-hex"),
});

/** The querier's batch (shuffled: its order is not the order the reports were made in). */
export const feedbackRequestFrame = z.strictObject({
  provider: address,
  reports: z.array(feedbackReport).min(1).max(FEEDBACK_MAX_REPORTS),
});

/** The provider's acknowledgement: one outcome per report, in the batch's order. */
export const feedbackAnswerFrame = z.strictObject({
  ok: z.literal(true),
  outcomes: z.array(z.enum(["accepted", "E_FEEDBACK_MAC", "E_FEEDBACK_UNKNOWN_ENTRY"])).max(FEEDBACK_MAX_REPORTS),
});

/** The provider's frame. */
export const feedbackResponseFrame = z.discriminatedUnion("ok", [feedbackAnswerFrame, errorFrame]);

export type FeedbackReportFrame = z.infer<typeof feedbackReport>;
export type FeedbackRequestFrame = z.infer<typeof feedbackRequestFrame>;
export type FeedbackAnswerFrame = z.infer<typeof feedbackAnswerFrame>;
export type FeedbackResponseFrame = z.infer<typeof feedbackResponseFrame>;
