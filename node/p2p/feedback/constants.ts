/**
 * Fixed numbers of `/riskshare/feedback/1`. Changing any of them changes the protocol: bump the version.
 */

/** The protocol id a stream negotiates. */
export const FEEDBACK_PROTOCOL = "/riskshare/feedback/1";

/** Most reports one batch carries (a querier with more queued for a provider sends several batches). */
export const FEEDBACK_MAX_REPORTS = 500;

/** Hard cap on one frame: ~200 bytes of JSON per report. */
export const FEEDBACK_MAX_FRAME_BYTES = 256 * 1024;

/** Provider side: the whole exchange must finish in this time. */
export const FEEDBACK_TIMEOUT_MS = 10_000;

/** Querier side: one batch's request/answer exchange. */
export const FEEDBACK_CLIENT_TIMEOUT_MS = 10_000;

/** Concurrent feedback streams one connection may open to us (a sender sends one batch at a time). */
export const FEEDBACK_MAX_INBOUND_STREAMS = 2;
