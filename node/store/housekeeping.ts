/**
 * The node's periodic chores on its database: sweep expired entries and the query journal, save
 * the quota counters and hit rates. Each round runs them all; one failing does not stop
 * the others, and a round never overlaps the next.
 */
import type { Logger } from "../logger.ts";

/** Options of {@link Housekeeping}. */
export interface HousekeepingOptions {
  /** Time between two rounds. */
  intervalMs?: number;
}

/** One chore: given the round's time in unix seconds. */
export interface Chore {
  name: string;
  run(nowSec: number): Promise<unknown>;
}

/** Dependencies of {@link Housekeeping}. */
export interface HousekeepingModules {
  chores: readonly Chore[];
  /** Unix seconds now (tests pin it). */
  nowSec?: () => number;
  logger: Logger;
}

/** Default time between two rounds. */
export const HOUSEKEEPING_INTERVAL_MS = 60_000;

/** Runs the chores every `intervalMs` once started, until stopped. */
export class Housekeeping {
  private readonly intervalMs: number;
  private readonly modules: HousekeepingModules;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;

  constructor(opts: HousekeepingOptions, modules: HousekeepingModules) {
    this.intervalMs = opts.intervalMs ?? HOUSEKEEPING_INTERVAL_MS;
    this.modules = modules;
    this.log = modules.logger.child({ module: "store.housekeeping" });
  }

  /** Runs every chore once; a round already running is joined, not doubled. */
  runOnce(): Promise<void> {
    this.round ??= (async () => {
      const nowSec = this.modules.nowSec?.() ?? Math.floor(Date.now() / 1000);
      const settled = await Promise.allSettled(this.modules.chores.map((chore) => chore.run(nowSec)));
      settled.forEach((result, index) => {
        if (result.status === "rejected") this.log.warn({ chore: this.modules.chores[index]!.name, err: (result.reason as Error)?.message }, "housekeeping chore failed");
      });
    })().finally(() => {
      this.round = undefined;
    });
    return this.round;
  }

  /** Starts the rounds (the first after one interval). */
  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops the rounds and waits for one in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
  }
}
