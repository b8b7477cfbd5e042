/**
 * Defaults of node/policy: the one place they live.
 */
import { QUOTA_WINDOW_SECONDS } from "./constants.ts";

/** Options of {@link UsageTracker}. */
export interface UsageTrackerOptions {
  /** Length of the rolling window, in seconds (the quota is "per rolling day"). */
  windowSeconds: number;
  /**
   * Width of one usage bucket, in seconds. Memory per querier and category is
   * windowSeconds / bucketSeconds + 1 buckets; a bucket counts while any part of it lies inside
   * the window, so the window errs on the strict side by at most one bucket.
   */
  bucketSeconds: number;
  /** Most (querier, category) keys kept; past it the least recently used key is dropped (and logged). */
  maxKeys: number;
}

/** Default {@link UsageTrackerOptions}. */
export const USAGE_TRACKER_DEFAULTS: UsageTrackerOptions = {
  windowSeconds: QUOTA_WINDOW_SECONDS,
  bucketSeconds: 3_600,
  maxKeys: 100_000,
};
