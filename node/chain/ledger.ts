import { isError } from "ethers";
import type { Logger } from "../logger.ts";
import { RiskshareError } from "../errors.ts";
import { CHAIN_DEFAULTS } from "./options.ts";
import { translateChainError } from "./errors.ts";
import type { LedgerChannel } from "./ledger-channel.ts";
import type { LedgerRecord } from "./ledger-record.ts";

/** A batch of outbox records bound to a ledger sequence number. */
export interface LedgerBatch {
  seq: bigint;
  records: LedgerRecord[];
}

/**
 * The durable outbox the batcher drains (node/store implements it over LevelDB). Assigning a
 * batch is persisted before any transaction is sent, so a retried batch always carries the same
 * records under the same sequence number (I-6).
 */
export interface LedgerOutbox {
  /** The batches assigned but not yet confirmed on chain, oldest first (consecutive sequence numbers). */
  pendingBatches(): Promise<LedgerBatch[]>;
  /**
   * Binds up to `maxRecords` of the oldest unassigned records to `seq`, durably; undefined when
   * none wait. `seq` must follow the newest pending batch's, if any.
   */
  assignBatch(seq: bigint, maxRecords: number): Promise<LedgerBatch | undefined>;
  /** Deletes the records of the batch `seq`, the oldest pending one, once it is on chain. */
  completeBatch(seq: bigint): Promise<void>;
  /** Records not yet on chain (assigned or not). */
  size(): Promise<number>;
  /** Records not yet bound to a batch. */
  unassigned(): number;
}

/** Options of {@link LedgerBatcher}. */
export interface LedgerBatcherOptions {
  providerAddress: string;
  flushIntervalMs: number;
  maxBatchRecords: number;
  /**
   * Batch transactions sent before the oldest is mined. Their nonces and sequence numbers are
   * consecutive, so they land in order; one that fails makes the later ones revert (bad
   * sequence), and the next flush resends from the chain's last sequence number.
   */
  maxInFlight?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Dependencies of {@link LedgerBatcher}. */
export interface LedgerBatcherModules {
  /** How batches reach QueryLedger (RpcLedgerChannel in a node). */
  channel: LedgerChannel;
  outbox: LedgerOutbox;
  logger: Logger;
}

/** What the batcher tells a health check. */
export interface LedgerHealth {
  lastLandedSeq: bigint | undefined;
  lastFlushAtMs: number;
  consecutiveFailures: number;
  lastError?: string;
  /**
   * Set when the QueryLedger will never take this provider's batches again (it was removed and its
   * window is over, or a record falls after its removal): why, in a sentence. The batcher stops.
   */
  closed?: string;
}

/** QueryLedger refusals that no retry can change: the provider was removed and the ledger closed to it. */
const CLOSING_REVERTS: Readonly<Record<string, string>> = {
  QueryLedgerRemovalWindowClosed: "this member was removed and its window to land its last batches is over",
  QueryLedgerDeadlineAfterRemoval: "this member was removed and a pending batch holds a record whose deadline is after its removal",
};

/** Immediate resends after a stale-nonce refusal, before the flush counts as failed. */
const MAX_NONCE_RETRIES = 3;

/**
 * Drains the outbox into QueryLedger: a batch every flushIntervalMs, or sooner once
 * maxBatchRecords wait. Each batch carries the provider's next sequence number, which the contract
 * requires, so a batch retried after a crash or an outage lands once and a lost one shows as a gap.
 * Failed flushes are retried with exponential backoff; nothing is dropped.
 */
export class LedgerBatcher {
  private readonly opts: Required<LedgerBatcherOptions>;
  private readonly modules: LedgerBatcherModules;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<number> | undefined;
  private running = false;
  private backoffMs: number;
  private health_: LedgerHealth = { lastLandedSeq: undefined, lastFlushAtMs: 0, consecutiveFailures: 0 };

  constructor(opts: LedgerBatcherOptions, modules: LedgerBatcherModules) {
    this.opts = {
      maxInFlight: CHAIN_DEFAULTS.maxInFlightBatches,
      initialBackoffMs: CHAIN_DEFAULTS.initialBackoffMs,
      maxBackoffMs: CHAIN_DEFAULTS.maxBackoffMs,
      ...opts,
    };
    this.modules = modules;
    this.log = modules.logger.child({ module: "ledger-batcher" });
    this.backoffMs = this.opts.initialBackoffMs;
  }

  /** Starts the flush loop; a pending batch from before a restart is retried first. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops the loop after the flush in progress, if any (records not yet landed stay in the outbox). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flushing?.catch(() => undefined);
  }

  /** Tells the batcher records were appended; it flushes early once a full batch waits. */
  notifyAppended(outboxSize: number): void {
    if (this.running && outboxSize >= this.opts.maxBatchRecords && this.health_.consecutiveFailures === 0) this.schedule(0);
  }

  /** Flushes until the outbox is empty or a flush fails; returns how many records landed. E_LEDGER_CLOSED once the ledger closed to this provider. */
  async flush(): Promise<number> {
    const { closed } = this.health_;
    if (closed !== undefined) throw new RiskshareError("E_LEDGER_CLOSED", `the QueryLedger takes no more batches from this provider: ${closed}`);
    if (!this.flushing) {
      this.flushing = this.flushAll().finally(() => {
        this.flushing = undefined;
      });
    }
    return this.flushing;
  }

  /** Flush state for the health endpoint. */
  health(): LedgerHealth {
    return { ...this.health_ };
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush()
        .then(() => {
          this.backoffMs = this.opts.initialBackoffMs;
          this.schedule(this.opts.flushIntervalMs);
        })
        .catch(() => {
          if (this.health_.closed !== undefined) return; // nothing will ever land: stop, health says why
          this.schedule(this.backoffMs);
          this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  private async flushAll(): Promise<number> {
    const progress = { landed: 0 };
    let nonceRetries = 0;
    try {
      for (;;) {
        try {
          await this.drain(progress);
          break;
        } catch (err) {
          // Another program sent a transaction from this key (the operator's CLI, say): the
          // locally counted nonce is stale. Recount and send again at once; batches keep their seq.
          if ((isError(err, "NONCE_EXPIRED") || isError(err, "REPLACEMENT_UNDERPRICED")) && nonceRetries < MAX_NONCE_RETRIES) {
            nonceRetries++;
            continue;
          }
          throw err;
        }
      }
      this.health_ = { ...this.health_, lastFlushAtMs: Date.now(), consecutiveFailures: 0 };
      delete this.health_.lastError;
      return progress.landed;
    } catch (err) {
      this.modules.channel.reset();
      const translated = translateChainError(err, "record a query batch on chain");
      this.health_ = { ...this.health_, consecutiveFailures: this.health_.consecutiveFailures + 1, lastError: translated.code };
      const closing = CLOSING_REVERTS[String(translated.meta.revert)];
      if (closing !== undefined) {
        this.health_.closed = closing;
        this.log.error({ revert: translated.meta.revert, backlog: await this.modules.outbox.size().catch(() => undefined) }, "the QueryLedger takes no more batches from this provider; the batcher stops, the outbox keeps its records");
      }
      this.log.warn({ code: translated.code, failures: this.health_.consecutiveFailures, landed: progress.landed }, "ledger flush failed; will retry");
      throw translated;
    }
  }

  /**
   * Lands every waiting record: first the batches a previous run bound to sequence numbers (those
   * already on chain are only noted), then new ones, up to maxInFlight at a time. A partial batch
   * is sent only when nothing else is in flight, so a trickle of lookups does not become a stream
   * of tiny transactions.
   */
  private async drain(progress: { landed: number }): Promise<void> {
    const { channel, outbox } = this.modules;
    channel.reset();
    const onChainSeq = await channel.lastSequence();
    const resend: LedgerBatch[] = [];
    for (const batch of await outbox.pendingBatches()) {
      if (batch.seq <= onChainSeq) {
        // The transaction landed but the node stopped before it could note it.
        await outbox.completeBatch(batch.seq);
        this.noteLanded(progress, batch, undefined, "ledger batch found on chain after restart");
      } else {
        resend.push(batch);
      }
    }
    if (resend.length > 0 && resend[0]!.seq !== onChainSeq + 1n) {
      throw new RiskshareError("E_INTERNAL", "the ledger outbox and the chain disagree on the batch sequence", {
        outboxSeq: resend[0]!.seq, chainSeq: onChainSeq,
      });
    }
    let nextSeq = onChainSeq + 1n + BigInt(resend.length);
    const inFlight: Array<{ batch: LedgerBatch; mined: Promise<{ gasUsed: bigint }> }> = [];
    try {
      for (;;) {
        while (inFlight.length < this.opts.maxInFlight) {
          let batch = resend.shift();
          if (!batch) {
            if (inFlight.length > 0 && outbox.unassigned() < this.opts.maxBatchRecords) break;
            batch = await outbox.assignBatch(nextSeq, this.opts.maxBatchRecords);
            if (!batch) break;
            nextSeq++;
          }
          const mined = channel.confirm(await channel.submit(batch.seq, batch.records));
          mined.catch(() => undefined); // awaited in order below; a later one may fail first
          inFlight.push({ batch, mined });
        }
        const oldest = inFlight[0];
        if (!oldest) return;
        const { gasUsed } = await oldest.mined;
        inFlight.shift();
        await outbox.completeBatch(oldest.batch.seq);
        this.noteLanded(progress, oldest.batch, gasUsed, "ledger batch landed");
      }
    } catch (err) {
      // Let the transactions already sent settle, so the retry starts from what the chain holds
      // instead of resending batches that are about to land.
      await Promise.allSettled(inFlight.map((f) => f.mined));
      throw err;
    }
  }

  private noteLanded(progress: { landed: number }, batch: LedgerBatch, gasUsed: bigint | undefined, message: string): void {
    progress.landed += batch.records.length;
    this.health_.lastLandedSeq = batch.seq;
    this.log.info({ seq: batch.seq, records: batch.records.length, ...(gasUsed === undefined ? {} : { gasUsed }) }, message);
  }
}
