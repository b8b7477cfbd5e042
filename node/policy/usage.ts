/**
 * Counting a querier's queries per category in the rolling quota window: a pure helper over usage
 * buckets, and a small in-memory tracker the node persists between restarts.
 */
import type { Logger } from "../logger.ts";
import { silentLogger } from "../logger.ts";
import { assertArgument } from "../errors.ts";
import { USAGE_TRACKER_DEFAULTS, type UsageTrackerOptions } from "./options.ts";

/** Queries counted in one time bucket [startSeconds, startSeconds + bucketSeconds). */
export interface UsageBucket {
  startSeconds: number;
  count: number;
}

/** Where the window ends, how long it is, and how wide each bucket is. */
export interface WindowSpec {
  nowSec: number;
  windowSeconds: number;
  /** 1 when each bucket is one event at a whole second. */
  bucketSeconds: number;
}

/** The start of the bucket holding second `atSeconds`. */
export function bucketStart(atSeconds: number, bucketSeconds: number): number {
  return Math.floor(atSeconds / bucketSeconds) * bucketSeconds;
}

/** True while any part of the bucket lies inside the window [now − window, now]. */
export function bucketInWindow(bucket: UsageBucket, spec: WindowSpec): boolean {
  return bucket.startSeconds + spec.bucketSeconds > spec.nowSec - spec.windowSeconds && bucket.startSeconds <= spec.nowSec;
}

/**
 * Queries counted inside the rolling window. A bucket counts whole while any part of it is inside,
 * so the count errs on the strict side (it may include up to one bucket's worth of older queries)
 * but never forgets a query younger than the window. Buckets after `nowSec` do not count.
 */
export function windowUsage(buckets: readonly UsageBucket[], spec: WindowSpec): number {
  let total = 0;
  for (const bucket of buckets) if (bucketInWindow(bucket, spec)) total += bucket.count;
  return total;
}

/** One tracker key's buckets, as {@link UsageTracker.export} hands them out for persistence. */
export interface UsageRecord {
  querier: string;
  categoryId: number;
  buckets: UsageBucket[];
}

/** Dependencies of {@link UsageTracker}. */
export interface UsageTrackerModules {
  logger: Logger;
}

/**
 * Per (querier, category) query counts over the rolling window, in memory, bounded: each key keeps
 * only buckets still inside the window, and at most `maxKeys` keys are kept (least recently used
 * dropped first, with a warning: dropping forgets usage, so size maxKeys well above members × categories).
 */
export class UsageTracker {
  private readonly opts: UsageTrackerOptions;
  private readonly log: Logger;
  /** Insertion order doubles as recency: a key is re-inserted on every record. */
  private readonly byKey = new Map<string, UsageRecord>();

  constructor(opts: Partial<UsageTrackerOptions> = {}, modules: UsageTrackerModules = { logger: silentLogger() }) {
    this.opts = { ...USAGE_TRACKER_DEFAULTS, ...opts };
    assertArgument(Number.isSafeInteger(this.opts.bucketSeconds) && this.opts.bucketSeconds > 0, "must be a whole number > 0", "bucketSeconds");
    assertArgument(Number.isSafeInteger(this.opts.windowSeconds) && this.opts.windowSeconds >= this.opts.bucketSeconds, "must be a whole number ≥ bucketSeconds", "windowSeconds");
    assertArgument(Number.isSafeInteger(this.opts.maxKeys) && this.opts.maxKeys > 0, "must be a whole number > 0", "maxKeys");
    this.log = modules.logger.child({ module: "policy.usage" });
  }

  /** How many (querier, category) keys are held. */
  get size(): number {
    return this.byKey.size;
  }

  /** Counts `count` queries by `querier` for `categoryId` at `atSeconds`. */
  record(querier: string, categoryId: number, atSeconds: number, count = 1): void {
    assertArgument(Number.isSafeInteger(count) && count > 0, "must be a whole number > 0", "count");
    const key = keyOf(querier, categoryId);
    const record = this.byKey.get(key) ?? { querier: querier.toLowerCase(), categoryId, buckets: [] };
    this.byKey.delete(key);
    const start = bucketStart(atSeconds, this.opts.bucketSeconds);
    const bucket = record.buckets.find((b) => b.startSeconds === start);
    if (bucket) bucket.count += count;
    else record.buckets.push({ startSeconds: start, count });
    record.buckets.sort((a, b) => a.startSeconds - b.startSeconds);
    record.buckets = record.buckets.filter((b) => bucketInWindow(b, this.spec(Math.max(atSeconds, lastStart(record)))));
    this.byKey.set(key, record);
    if (this.byKey.size > this.opts.maxKeys) this.shrink(atSeconds);
  }

  /** Counts `items` for each of `categoryIds` (a request for several categories uses each one's quota). */
  recordAll(querier: string, categoryIds: readonly number[], atSeconds: number, items = 1): void {
    for (const categoryId of new Set(categoryIds)) this.record(querier, categoryId, atSeconds, items);
  }

  /** Queries by `querier` for `categoryId` inside the window that ends at `nowSec`. */
  usage(querier: string, categoryId: number, nowSec: number): number {
    const record = this.byKey.get(keyOf(querier, categoryId));
    return record === undefined ? 0 : windowUsage(record.buckets, this.spec(nowSec));
  }

  /** Drops buckets and keys that fell out of the window at `nowSec`; returns the keys dropped. */
  prune(nowSec: number): number {
    let dropped = 0;
    const spec = this.spec(nowSec);
    for (const [key, record] of this.byKey) {
      record.buckets = record.buckets.filter((b) => bucketInWindow(b, spec) || b.startSeconds > nowSec);
      if (record.buckets.length === 0) {
        this.byKey.delete(key);
        dropped += 1;
      }
    }
    return dropped;
  }

  /** A copy of every key's buckets, for persistence. */
  export(): UsageRecord[] {
    return [...this.byKey.values()].map((r) => ({ querier: r.querier, categoryId: r.categoryId, buckets: r.buckets.map((b) => ({ ...b })) }));
  }

  /** Loads records written by {@link export} (adding to what is held), then prunes at `nowSec`. */
  import(records: readonly UsageRecord[], nowSec: number): void {
    for (const record of records) {
      for (const bucket of record.buckets) {
        if (bucket.count > 0) this.record(record.querier, record.categoryId, bucket.startSeconds, bucket.count);
      }
    }
    this.prune(nowSec);
  }

  private spec(nowSec: number): WindowSpec {
    return { nowSec, windowSeconds: this.opts.windowSeconds, bucketSeconds: this.opts.bucketSeconds };
  }

  private shrink(nowSec: number): void {
    this.prune(nowSec);
    while (this.byKey.size > this.opts.maxKeys) {
      const oldest = this.byKey.keys().next().value as string;
      this.byKey.delete(oldest);
      this.log.warn({ maxKeys: this.opts.maxKeys }, "usage tracker full: dropped the least recently used key");
    }
  }
}

function keyOf(querier: string, categoryId: number): string {
  return `${querier.toLowerCase()}/${categoryId}`;
}

function lastStart(record: UsageRecord): number {
  return record.buckets.at(-1)?.startSeconds ?? 0;
}
