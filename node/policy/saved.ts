/**
 * Quota usage that survives restarts: the counters are read back at start and written at every
 * housekeeping round and at stop, under one key of the node's usage bucket.
 */
import type { UsageRecord, UsageTracker } from "./usage.ts";

/** The key-value namespace the counters live in (the store's usage sublevel fits). */
export interface UsageDb {
  get(key: string): Promise<UsageRecord[] | undefined>;
  put(key: string, value: UsageRecord[]): Promise<void>;
}

/** Options of {@link SavedUsage}. */
export interface SavedUsageOptions {
  /** The key the counters are saved under. */
  key?: string;
}

/** Dependencies of {@link SavedUsage}. */
export interface SavedUsageModules {
  db: UsageDb;
  tracker: Pick<UsageTracker, "import" | "export" | "prune">;
}

/** The key under which the quota usage counters are saved in the usage bucket. */
export const USAGE_KEY = "tracker";

/** Loads and saves a {@link UsageTracker}'s counters. */
export class SavedUsage {
  private readonly key: string;
  private readonly modules: SavedUsageModules;

  constructor(opts: SavedUsageOptions, modules: SavedUsageModules) {
    this.key = opts.key ?? USAGE_KEY;
    this.modules = modules;
  }

  /** Adds the saved counters to the tracker, dropping what fell out of the window by `nowSec`. */
  async load(nowSec: number): Promise<void> {
    this.modules.tracker.import((await this.modules.db.get(this.key)) ?? [], nowSec);
  }

  /** Writes the tracker's counters still inside the window at `nowSec`. */
  async save(nowSec: number): Promise<void> {
    this.modules.tracker.prune(nowSec);
    await this.modules.db.put(this.key, this.modules.tracker.export());
  }
}
