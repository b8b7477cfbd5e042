/**
 * Options of `/riskshare/filter/1`, both sides, and their defaults: the one place defaults live.
 */
import { FILTER_CLIENT_TIMEOUT_MS, FILTER_POLL_MS, FILTER_MAX_BACKOFF_MS, FILTER_MAX_FRAME_BYTES, FILTER_MAX_INBOUND_STREAMS, FILTER_TIMEOUT_MS } from "./constants.ts";

/** Options of the provider side ({@link FilterService}). */
export interface FilterInit {
  timeoutMs?: number;
  maxFrameBytes?: number;
  maxInboundStreams?: number;
}

/** Defaults of {@link FilterInit}. */
export const FILTER_DEFAULTS: Required<FilterInit> = { timeoutMs: FILTER_TIMEOUT_MS, maxFrameBytes: FILTER_MAX_FRAME_BYTES, maxInboundStreams: FILTER_MAX_INBOUND_STREAMS };

/** Options of the querier side ({@link FilterSync}). */
export interface FilterSyncOptions {
  /** How often each (provider, category) is polled, in ms. */
  filterPollMs: number;
  /** One exchange's timeout, in ms. */
  timeoutMs: number;
  /** Longest backoff before retrying a failing (provider, category), in ms. */
  maxBackoffMs: number;
  maxFrameBytes: number;
}

/** Defaults of {@link FilterSyncOptions}. */
export const FILTER_SYNC_DEFAULTS: FilterSyncOptions = {
  filterPollMs: FILTER_POLL_MS,
  timeoutMs: FILTER_CLIENT_TIMEOUT_MS,
  maxBackoffMs: FILTER_MAX_BACKOFF_MS,
  maxFrameBytes: FILTER_MAX_FRAME_BYTES,
};
