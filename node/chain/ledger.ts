import { isError, Signature } from "ethers";
import type { Logger } from "../logger.ts";
import { RiskshareError } from "../errors.ts";
import type { LookupRequest } from "./eip712.ts";
import type { IQueryLedger } from "../../types/ethers-contracts/index.ts";
import { CHAIN_DEFAULTS } from "./options.ts";
import { translateChainError } from "./errors.ts";

/** One query as the provider keeps it until it lands on chain. */
export interface LedgerRecord {
  request: LookupRequest;
  /** The querier's 65-byte EIP-712 signature (0x-hex); may be garbage on a denied request. */
  signature: string;
  /** QueryOutcome code. */
  outcome: number;
  hitCount: number;
  receivedAtMs: number;
}

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
  /** The batch assigned but not yet confirmed on chain, if any. */
  pendingBatch(): Promise<LedgerBatch | undefined>;
  /** Binds up to `maxRecords` of the oldest unassigned records to `seq`, durably; undefined when none wait. */
  assignBatch(seq: bigint, maxRecords: number): Promise<LedgerBatch | undefined>;
  /** Deletes the records of the batch `seq` once it is on chain. */
  completeBatch(seq: bigint): Promise<void>;
  /** Records not yet on chain (assigned or not). */
  size(): Promise<number>;
}

/** Options of {@link LedgerBatcher}. */
export interface LedgerBatcherOptions {
  providerAddress: string;
  flushIntervalMs: number;
  maxBatchRecords: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Dependencies of {@link LedgerBatcher}. */
export interface LedgerBatcherModules {
  /** QueryLedger bound to the provider's signer. */
  ledger: IQueryLedger;
  outbox: LedgerOutbox;
  logger: Logger;
  /** Called after a failed send so a locally counted nonce cannot leave a gap (ethers NonceManager.reset). */
  resetNonce?: () => void;
}

/** What the batcher tells a health check. */
export interface LedgerHealth {
  lastLandedSeq: bigint | undefined;
  lastFlushAtMs: number;
  consecutiveFailures: number;
  lastError?: string;
}

/** Converts an outbox record into the QueryLedger's calldata struct (compact EIP-2098 signature). */
export function toQueryRecord(record: LedgerRecord): {
  querier: string; categoryMask: bigint; deadline: bigint; itemCount: number; hitCount: number; outcome: number;
  itemsCommitment: string; nonce: string; signatureR: string; signatureVs: string;
} {
  let signatureR = ZERO32;
  let signatureVs = ZERO32;
  try {
    const signature = Signature.from(record.signature);
    signatureR = signature.r;
    signatureVs = signature.yParityAndS;
  } catch {
    // A request denied for a malformed signature is still recorded, with an empty signature.
  }
  return {
    querier: record.request.querier,
    categoryMask: record.request.categoryMask,
    deadline: record.request.deadline,
    itemCount: record.request.itemCount,
    hitCount: record.hitCount,
    outcome: record.outcome,
    itemsCommitment: record.request.itemsCommitment,
    nonce: record.request.nonce,
    signatureR,
    signatureVs,
  };
}

const ZERO32 = `0x${"00".repeat(32)}`;

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

  /** Flushes until the outbox is empty or a flush fails; returns how many records landed. */
  async flush(): Promise<number> {
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
          this.schedule(this.backoffMs);
          this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  private async flushAll(): Promise<number> {
    let landed = 0;
    let nonceRetries = 0;
    try {
      for (;;) {
        let count: number;
        try {
          count = await this.flushOne();
        } catch (err) {
          // Another program sent a transaction from this key (the operator's CLI, say): the
          // locally counted nonce is stale. Recount and send again at once; the batch keeps its seq.
          if ((isError(err, "NONCE_EXPIRED") || isError(err, "REPLACEMENT_UNDERPRICED")) && nonceRetries < MAX_NONCE_RETRIES) {
            nonceRetries++;
            this.modules.resetNonce?.();
            continue;
          }
          throw err;
        }
        if (count === 0) break;
        landed += count;
      }
      this.health_ = { ...this.health_, lastFlushAtMs: Date.now(), consecutiveFailures: 0 };
      delete this.health_.lastError;
      return landed;
    } catch (err) {
      this.modules.resetNonce?.();
      const translated = translateChainError(err, "record a query batch on chain");
      this.health_ = { ...this.health_, consecutiveFailures: this.health_.consecutiveFailures + 1, lastError: translated.code };
      this.log.warn({ code: translated.code, failures: this.health_.consecutiveFailures }, "ledger flush failed; will retry");
      throw translated;
    }
  }

  /** Lands one batch; returns its record count, 0 when nothing waits. */
  private async flushOne(): Promise<number> {
    const { ledger, outbox } = this.modules;
    const onChainSeq = await ledger.lastSequence(this.opts.providerAddress);
    let batch = await outbox.pendingBatch();
    if (batch && onChainSeq >= batch.seq) {
      // The transaction landed but the node stopped before it could note it.
      await outbox.completeBatch(batch.seq);
      this.health_.lastLandedSeq = batch.seq;
      this.log.info({ seq: batch.seq, records: batch.records.length }, "ledger batch found on chain after restart");
      return batch.records.length;
    }
    batch ??= await outbox.assignBatch(onChainSeq + 1n, this.opts.maxBatchRecords);
    if (!batch) return 0;
    if (batch.seq !== onChainSeq + 1n) {
      throw new RiskshareError("E_INTERNAL", "the ledger outbox and the chain disagree on the batch sequence", {
        outboxSeq: batch.seq, chainSeq: onChainSeq,
      });
    }
    const tx = await ledger.recordBatch(batch.seq, batch.records.map(toQueryRecord));
    const receipt = await tx.wait();
    if (receipt?.status !== 1) throw new RiskshareError("E_CHAIN_REVERTED", "the query batch transaction failed", { seq: batch.seq });
    await outbox.completeBatch(batch.seq);
    this.health_.lastLandedSeq = batch.seq;
    this.log.info({ seq: batch.seq, records: batch.records.length, gasUsed: receipt.gasUsed }, "ledger batch landed");
    return batch.records.length;
  }
}
