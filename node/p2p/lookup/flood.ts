/**
 * What keeps one member's flood of refused requests from costing a provider its ledger, its disk
 * and its other peers' latency (issue 13, "Refusal floods"):
 *
 *   const buckets = new PeerItemBuckets({ itemsPerSecond: 1_000, burstItems: 4_000 });
 *   if (!buckets.take(peerAddress, items, performance.now())) return errorReply("E_RATE_LIMITED", …);
 *   await folder.refuse(record, performance.now());   // 1 fsync per (peer, outcome) and window
 *
 * The bucket runs before any signature check or record, so a request it drops costs a map lookup.
 * The folder turns the refusals of one kind from one peer within a window into one ledger record
 * with their count: the first is appended (durable before its error frame, I-5), the rest are
 * counted in memory and land as one record when the window closes.
 */
import type { Logger } from "../../logger.ts";
import type { Outbox, OutboxRecord } from "./components.ts";

/** Options of {@link PeerItemBuckets}. */
export interface PeerItemBucketOptions {
  /** Items (blinded elements or prefixes; a request counts at least 1) a peer earns per second. */
  itemsPerSecond: number;
  /** Items a peer may spend at once: the bucket's size, and what a peer not seen lately holds. */
  burstItems: number;
}

/** Per-peer token buckets counted in items. Idle peers' buckets are dropped once full again. */
export class PeerItemBuckets {
  private readonly opts: PeerItemBucketOptions;
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  constructor(opts: PeerItemBucketOptions) {
    this.opts = opts;
  }

  /** Takes `items` from `peer`'s bucket; false (and nothing taken) when it holds fewer. */
  take(peer: string, items: number, nowMs: number): boolean {
    const { itemsPerSecond, burstItems } = this.opts;
    const bucket = this.buckets.get(peer);
    const tokens = bucket === undefined ? burstItems : Math.min(burstItems, bucket.tokens + ((nowMs - bucket.atMs) * itemsPerSecond) / 1_000);
    const cost = Math.max(1, items);
    if (tokens < cost) {
      this.buckets.set(peer, { tokens, atMs: nowMs });
      return false;
    }
    this.buckets.set(peer, { tokens: tokens - cost, atMs: nowMs });
    if (this.buckets.size > MAX_TRACKED_PEERS) this.dropFull(nowMs);
    return true;
  }

  /** Seconds until `peer` holds `items` again (for the error message). */
  secondsUntil(peer: string, items: number): number {
    const tokens = this.buckets.get(peer)?.tokens ?? this.opts.burstItems;
    return Math.max(1, Math.ceil((Math.min(items, this.opts.burstItems) - tokens) / this.opts.itemsPerSecond));
  }

  private dropFull(nowMs: number): void {
    for (const [peer, bucket] of this.buckets) {
      if (bucket.tokens + ((nowMs - bucket.atMs) * this.opts.itemsPerSecond) / 1_000 >= this.opts.burstItems) this.buckets.delete(peer);
    }
  }
}

/** Peers tracked before full buckets are swept (members only reach the handler, so this is generous). */
const MAX_TRACKED_PEERS = 4_096;

/** Options of {@link RefusalFolder}. */
export interface RefusalFolderOptions {
  /** Refusals of one outcome from one peer within this many ms become one record; 0 records each. */
  windowMs: number;
  /** Query ids remembered as recorded (per outcome), so a resent request never lands twice. */
  maxRememberedIds?: number;
}

/** An open window of one (peer, outcome). */
interface Fold {
  openedAtMs: number;
  /** Refusals counted since the window's first record (or since it opened without one). */
  folded: number;
  /** The latest folded request not yet on the ledger: it carries the count when the window closes. */
  carrier: OutboxRecord | undefined;
}

/**
 * Records refusals through the outbox, folding repeats. A record stands for `count` refusals of its
 * outcome from its querier (the connected peer); it names one of them, a request not recorded
 * before. Identical resends of a request already on the ledger count into the window but never
 * carry a record, so no query id lands twice under one outcome; a window of nothing but such
 * resends lands no record (its count is logged).
 */
export class RefusalFolder {
  private readonly windowMs: number;
  private readonly maxRememberedIds: number;
  private readonly outbox: Outbox;
  private readonly log: Logger;
  private readonly folds = new Map<string, Fold>();
  /** `${outcome}/${queryId}` of the refusals recorded lately, oldest first. */
  private readonly recorded = new Set<string>();

  constructor(opts: RefusalFolderOptions, modules: { outbox: Outbox; logger: Logger }) {
    this.windowMs = opts.windowMs;
    this.maxRememberedIds = opts.maxRememberedIds ?? 65_536;
    this.outbox = modules.outbox;
    this.log = modules.logger;
  }

  /**
   * Records a refusal (count 1, durable when this resolves) or folds it into its peer's open
   * window (resolves at once). Throws what the outbox throws (E_BACKLOG) for a record it appends.
   */
  async refuse(record: OutboxRecord, nowMs: number): Promise<void> {
    // Everything up to the append runs synchronously, so concurrent refusals see one window.
    const key = `${record.request.querier}/${record.outcome}`;
    const id = `${record.outcome}/${record.queryId}`;
    const open = this.folds.get(key);
    if (open !== undefined && nowMs - open.openedAtMs < this.windowMs) {
      open.folded += 1;
      if (!this.recorded.has(id)) open.carrier = record;
      return;
    }
    const closing = open === undefined ? undefined : this.close(key, open);
    if (this.recorded.has(id)) {
      // The same signed request again: counted, never a second record of its id.
      if (this.windowMs > 0) this.folds.set(key, { openedAtMs: nowMs, folded: 1, carrier: undefined });
      await closing;
      return;
    }
    this.remember(id);
    if (this.windowMs > 0) this.folds.set(key, { openedAtMs: nowMs, folded: 0, carrier: undefined });
    try {
      await Promise.all([closing, this.outbox.append({ ...record, count: 1 })]);
    } catch (err) {
      this.recorded.delete(id);
      throw err;
    }
  }

  /** Lands the windows that closed by `nowMs` (all of them with `all`): one record each with its count. */
  async flush(nowMs: number, all = false): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [key, fold] of [...this.folds]) {
      if (all || nowMs - fold.openedAtMs >= this.windowMs) closing.push(this.close(key, fold));
    }
    await Promise.all(closing);
  }

  /** Ends a window (synchronously, so it closes once) and appends its count, if any, on its carrier. */
  private async close(key: string, fold: Fold): Promise<void> {
    if (this.folds.get(key) !== fold) return;
    this.folds.delete(key);
    const carrier = fold.carrier;
    if (fold.folded === 0) return;
    if (carrier === undefined) {
      this.log.info({ key, count: fold.folded }, "refusals of requests already on the ledger folded without a new record");
      return;
    }
    const id = `${carrier.outcome}/${carrier.queryId}`;
    if (this.recorded.has(id)) {
      this.log.info({ key, count: fold.folded }, "refusals of requests already on the ledger folded without a new record");
      return;
    }
    this.remember(id);
    try {
      await this.outbox.append({ ...carrier, count: fold.folded });
    } catch (err) {
      this.recorded.delete(id);
      this.log.warn({ querier: carrier.request.querier, outcome: carrier.outcome, count: fold.folded, err }, "a folded refusal record could not be appended");
    }
  }

  private remember(id: string): void {
    this.recorded.add(id);
    if (this.recorded.size > this.maxRememberedIds) this.recorded.delete(this.recorded.values().next().value!);
  }
}
