/**
 * Options of `/riskshare/feedback/1`, both sides, and their defaults: the one place defaults live.
 */
import { FEEDBACK_CLIENT_TIMEOUT_MS, FEEDBACK_MAX_FRAME_BYTES, FEEDBACK_MAX_INBOUND_STREAMS, FEEDBACK_TIMEOUT_MS } from "./constants.ts";

/** Options of the provider side ({@link FeedbackService}). */
export interface FeedbackInit {
  timeoutMs?: number;
  maxFrameBytes?: number;
  maxInboundStreams?: number;
}

/** Defaults of {@link FeedbackInit}. */
export const FEEDBACK_DEFAULTS: Required<FeedbackInit> = {
  timeoutMs: FEEDBACK_TIMEOUT_MS, maxFrameBytes: FEEDBACK_MAX_FRAME_BYTES, maxInboundStreams: FEEDBACK_MAX_INBOUND_STREAMS,
};

/** Options of the querier side ({@link FeedbackSender}). */
export interface FeedbackSenderOptions {
  /** A provider's queued reports go once at least this many are queued for it… */
  minBatch: number;
  /** …or once the oldest of them is this many days old. */
  maxWaitDays: number;
  /** How often the queue is looked at, in minutes. */
  checkEveryMinutes: number;
  /** One batch's exchange timeout, in ms. */
  timeoutMs: number;
  maxFrameBytes: number;
}

/** Defaults of {@link FeedbackSenderOptions} (the node's config `feedback` maps onto the first three). */
export const FEEDBACK_SENDER_DEFAULTS: FeedbackSenderOptions = {
  minBatch: 5,
  maxWaitDays: 30,
  checkEveryMinutes: 60,
  timeoutMs: FEEDBACK_CLIENT_TIMEOUT_MS,
  maxFrameBytes: FEEDBACK_MAX_FRAME_BYTES,
};
