import { isError } from "ethers";
import type { Logger } from "../logger.ts";
import { RiskshareError } from "../errors.ts";
import { CHAIN_DEFAULTS } from "./options.ts";
import { translateChainError } from "./errors.ts";
import type { LedgerChannel, TransactionState } from "./ledger-channel.ts";
import { readLedger, type AuditModules } from "./audit.ts";
import { lookupRequestDigest } from "./eip712.ts";
import type { LedgerRecord } from "./ledger-record.ts";

/** A batch of outbox records bound to a ledger sequence number. */
export interface LedgerBatch {
  seq: bigint;
  records: LedgerRecord[];
  /** Hashes of the transactions sent for it so far, each noted before it was sent. */
  txHashes?: readonly string[];
}

/**
 * The newest batch on chain the outbox knows is its own: landed by this node, or adopted from the
 * chain by a take-over (`riskshare node take-over`). A batch beyond it that this node did not send
 * means another node writes under the same member key.
 */
export interface LedgerWriterMark {
  seq: bigint;
  /** When it landed or was adopted (ms since the epoch). */
  atMs: number;
  /** The transaction that landed it, when this node knows it. */
  txHash?: string;
  /** The sequence number was adopted from the chain by a take-over, not landed by this node. */
  adopted?: boolean;
  /** The store dates from before marks were kept: its own sequence number is unknown, so the chain's is trusted once. */
  legacy?: boolean;
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
  /** Notes, durably, that a transaction with hash `txHash` is about to be sent for the pending batch `seq`. */
  noteSent(seq: bigint, txHash: string): Promise<void>;
  /**
   * Deletes the records of the batch `seq`, the oldest pending one, once it is on chain, and makes
   * it the writer mark, in one durable write.
   */
  completeBatch(seq: bigint, landed: { providerAddress: string; txHash?: string; atMs: number }): Promise<void>;
  /** The writer mark for `providerAddress`; undefined while this outbox has sent none of its batches. */
  writerMark(providerAddress: string): LedgerWriterMark | undefined;
  /** Makes `seq` the writer mark of `providerAddress`, adopted from the chain (a store from before marks were kept). */
  adoptSequence(providerAddress: string, seq: bigint): Promise<void>;
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
  /** The newest batch on chain known to be this node's (the outbox's writer mark). */
  lastLanded?: { seq: bigint; atMs: number; txHash?: string; adopted?: boolean };
  /**
   * Set when the chain holds a batch of this provider that this node did not send: another node
   * writes under the same member key. The batcher stops until an operator runs `riskshare node take-over`.
   */
  otherWriter?: { chainSeq: bigint; ownSeq: bigint };
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

  /**
   * Flushes until the outbox is empty or a flush fails; returns how many records landed.
   * E_LEDGER_CLOSED once the ledger closed to this provider; E_LEDGER_OTHER_WRITER once the chain
   * showed a batch of this provider that this node did not send.
   */
  async flush(): Promise<number> {
    const { closed, otherWriter } = this.health_;
    if (closed !== undefined) throw new RiskshareError("E_LEDGER_CLOSED", `the QueryLedger takes no more batches from this provider: ${closed}`);
    if (otherWriter !== undefined) throw this.otherWriterError(otherWriter);
    if (!this.flushing) {
      this.flushing = this.flushAll().finally(() => {
        this.flushing = undefined;
      });
    }
    return this.flushing;
  }

  /** Throws E_LEDGER_OTHER_WRITER once the chain showed a batch of this provider that this node did not send. */
  assertWriter(): void {
    if (this.health_.otherWriter !== undefined) throw this.otherWriterError(this.health_.otherWriter);
  }

  /** Flush state for the health endpoint. */
  health(): LedgerHealth {
    const mark = this.modules.outbox.writerMark(this.opts.providerAddress);
    if (mark === undefined || mark.legacy) return { ...this.health_ };
    const { seq, atMs, txHash, adopted } = mark;
    return { ...this.health_, lastLanded: { seq, atMs, ...(txHash === undefined ? {} : { txHash }), ...(adopted ? { adopted } : {}) } };
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
          // Nothing will ever land (closed), or nothing may until an operator acts (another writer): stop, health says why.
          if (this.health_.closed !== undefined || this.health_.otherWriter !== undefined) return;
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
      if (this.health_.otherWriter !== undefined) {
        this.log.error({ ...this.health_.otherWriter, backlog: await this.modules.outbox.size().catch(() => undefined) }, "the chain holds a batch of this member that this node did not send: another node writes under the same key; the batcher stops, the outbox keeps its records");
      }
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
   * of tiny transactions. Before anything is sent, every batch the chain holds beyond the writer
   * mark must be this node's own (E_LEDGER_OTHER_WRITER otherwise).
   */
  private async drain(progress: { landed: number }): Promise<void> {
    const { channel, outbox } = this.modules;
    const { providerAddress } = this.opts;
    channel.reset();
    const onChainSeq = await channel.lastSequence();
    const mark = outbox.writerMark(providerAddress);
    let ownSeq = mark?.seq ?? 0n;
    const resend: LedgerBatch[] = [];
    for (const batch of await outbox.pendingBatches()) {
      if (batch.seq <= onChainSeq) {
        // The transaction landed but the node stopped before it could note it: if it is this node's.
        const txHash = await this.ownTransaction(batch);
        if (txHash === undefined && !mark?.legacy) throw this.noteOtherWriter(onChainSeq, ownSeq);
        await outbox.completeBatch(batch.seq, { providerAddress, ...(txHash === undefined ? {} : { txHash }), atMs: Date.now() });
        ownSeq = batch.seq;
        this.noteLanded(progress, batch, undefined, "ledger batch found on chain after restart");
      } else {
        resend.push(batch);
      }
    }
    if (onChainSeq > ownSeq) {
      if (!mark?.legacy) throw this.noteOtherWriter(onChainSeq, ownSeq);
      // A store from before writer marks were kept: it was this key's writer, so the chain's sequence is its own.
      await outbox.adoptSequence(providerAddress, onChainSeq);
      this.log.warn({ seq: onChainSeq }, "the outbox predates writer marks: the chain's last batch is taken as this node's own");
    }
    if (resend.length > 0 && resend[0]!.seq !== onChainSeq + 1n) {
      throw new RiskshareError("E_INTERNAL", "the ledger outbox and the chain disagree on the batch sequence", {
        outboxSeq: resend[0]!.seq, chainSeq: onChainSeq,
      });
    }
    let nextSeq = onChainSeq + 1n + BigInt(resend.length);
    const inFlight: Array<{ batch: LedgerBatch; txHash: string; mined: Promise<{ gasUsed: bigint }> }> = [];
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
          const seq = batch.seq;
          const submitted = await channel.submit(seq, batch.records, (txHash) => outbox.noteSent(seq, txHash));
          const mined = channel.confirm(submitted);
          mined.catch(() => undefined); // awaited in order below; a later one may fail first
          inFlight.push({ batch, txHash: submitted.hash, mined });
        }
        const oldest = inFlight[0];
        if (!oldest) return;
        const { gasUsed } = await oldest.mined;
        inFlight.shift();
        await outbox.completeBatch(oldest.batch.seq, { providerAddress, txHash: oldest.txHash, atMs: Date.now() });
        this.noteLanded(progress, oldest.batch, gasUsed, "ledger batch landed");
      }
    } catch (err) {
      // Let the transactions already sent settle, so the retry starts from what the chain holds
      // instead of resending batches that are about to land.
      await Promise.allSettled(inFlight.map((f) => f.mined));
      throw err;
    }
  }

  /** The hash of this node's transaction that landed `batch`, if one did. */
  private async ownTransaction(batch: LedgerBatch): Promise<string | undefined> {
    for (const txHash of batch.txHashes ?? []) {
      if (await this.modules.channel.succeeded(txHash)) return txHash;
    }
    return undefined;
  }

  /** Notes in health that another node writes under this key, and returns the error saying so. */
  private noteOtherWriter(chainSeq: bigint, ownSeq: bigint): RiskshareError {
    this.health_.otherWriter = { chainSeq, ownSeq };
    return this.otherWriterError(this.health_.otherWriter);
  }

  private otherWriterError({ chainSeq, ownSeq }: { chainSeq: bigint; ownSeq: bigint }): RiskshareError {
    return new RiskshareError(
      "E_LEDGER_OTHER_WRITER",
      `the chain holds this member's ledger batches up to ${chainSeq}, but this node's own end at ${ownSeq}: another node writes under the same member key; this node does not flush until an operator stops the other and runs \`riskshare node take-over\` here`,
      { chainSeq, ownSeq },
    );
  }

  private noteLanded(progress: { landed: number }, batch: LedgerBatch, gasUsed: bigint | undefined, message: string): void {
    progress.landed += batch.records.length;
    this.health_.lastLandedSeq = batch.seq;
    this.log.info({ seq: batch.seq, records: batch.records.length, ...(gasUsed === undefined ? {} : { gasUsed }) }, message);
  }
}

/** What {@link takeOverLedger} found and did. */
export interface LedgerTakeOver {
  /** The provider's last batch on chain: this store writes from the next one on. */
  chainSeq: bigint;
  /** The store's own last batch before, if it had sent any. */
  previousSeq: bigint | undefined;
  /** Pending batches of this store found on chain. */
  landedBatches: number;
  /** Records of pending batches that never landed, queued again for new sequence numbers. */
  requeuedRecords: number;
  /** Records dropped because the chain holds them already: the other node landed them (a restored backup's outbox). */
  droppedRecords: number;
}

/**
 * Makes an outbox the writer of `providerAddress`'s ledger batches from the chain's last batch on
 * (`riskshare node take-over`, run with the node stopped, after the other node writing under the
 * same key was stopped). Each pending batch is checked against the chain: one of its transactions
 * succeeded (it is on chain) or none did (its records are queued again). E_LEDGER_TX_PENDING while a
 * transaction of a pending batch still waits in the pool: it could land later. With `onChain`, the
 * records the chain holds already — landed by the other node since this store's own last batch, as
 * when the store is a restored backup — are dropped, so none lands twice.
 */
export async function takeOverLedger(
  providerAddress: string,
  modules: {
    chain: { lastSequence(): Promise<bigint>; transactionState(txHash: string): Promise<TransactionState> };
    outbox: Pick<LedgerOutbox, "pendingBatches" | "writerMark" | "size"> & {
      takeOver(providerAddress: string, chainSeq: bigint, landed: ReadonlyMap<bigint, string>, keep?: (record: LedgerRecord) => boolean): Promise<{ landedBatches: number; requeuedRecords: number; droppedRecords: number }>;
    };
    /** The query ids this provider recorded on chain since the block of transaction `sinceTxHash` (from the start without one), and a record's query id. */
    onChain?: { queryIds(sinceTxHash: string | undefined): Promise<ReadonlySet<string>>; queryIdOf(record: LedgerRecord): string };
  },
): Promise<LedgerTakeOver> {
  const { chain, outbox, onChain } = modules;
  const chainSeq = await chain.lastSequence();
  const mark = outbox.writerMark(providerAddress);
  const landed = new Map<bigint, string>();
  for (const batch of await outbox.pendingBatches()) {
    for (const txHash of batch.txHashes ?? []) {
      const state = await chain.transactionState(txHash);
      if (state === "pending") {
        throw new RiskshareError("E_LEDGER_TX_PENDING", `a transaction of this node's ledger batch ${batch.seq} still waits in the chain's pool`, { seq: batch.seq, txHash });
      }
      if (state === "succeeded") landed.set(batch.seq, txHash);
    }
  }
  const recorded = onChain !== undefined && (await outbox.size()) > 0 ? await onChain.queryIds(mark?.legacy ? undefined : mark?.txHash) : undefined;
  const done = await outbox.takeOver(providerAddress, chainSeq, landed, recorded === undefined ? undefined : (record) => !recorded.has(onChain!.queryIdOf(record)));
  return { chainSeq, previousSeq: mark === undefined || mark.legacy ? undefined : mark.seq, ...done };
}

/**
 * takeOverLedger's `onChain`, from the ledger's logs (audit's readLedger): the query ids
 * `providerAddress` recorded on the QueryLedger at `ledgerAddress`, and a record's query id.
 */
export function recordedOnChain(modules: AuditModules, providerAddress: string, ledgerAddress: string): NonNullable<Parameters<typeof takeOverLedger>[1]["onChain"]> {
  return {
    queryIds: async (sinceTxHash) => {
      const receipt = sinceTxHash === undefined ? null : await modules.provider.getTransactionReceipt(sinceTxHash);
      const { records } = await readLedger(modules, { provider: providerAddress, ...(receipt === null ? {} : { fromBlock: receipt.blockNumber }) });
      return new Set(records.map((r) => r.queryId.toLowerCase()));
    },
    queryIdOf: (record) => lookupRequestDigest(modules.chainId, ledgerAddress, record.request).toLowerCase(),
  };
}
