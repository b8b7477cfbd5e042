import type { AbstractSublevel } from "abstract-level";
import { RiskshareError } from "../errors.ts";
import { REFUSAL_ERROR_CODES, refusalDigest, type LedgerBatch, type LedgerOutbox, type LedgerRecord, type LedgerWriterMark } from "../chain/index.ts";

/** The sublevel the outbox lives in: string keys, JSON values. */
export type OutboxLevel = AbstractSublevel<any, any, string, StoredRecord | PendingBatch[] | PendingBatch | StoredWriterMark | number>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A ledger record as stored: bigints as decimal strings. */
interface StoredRecord {
  querier: string; provider: string; categoryMask: string; itemCount: number; itemsCommitment: string; nonce: string; deadline: string;
  signature: string; outcome: number; receivedAtMs: number;
  /** LookupKind and the key epoch answered under (protocol v2); absent in records written before, read as 0. */
  kind?: number; keyEpoch?: number;
  /**
   * Refusals folded and the digest of what the querier received (ledger attribution); absent in
   * records written before, read as count 1 and, for lack of the error code, the outcome's own code's digest.
   */
  count?: number; answerDigest?: string;
}

/** A batch bound to a sequence number before its transaction is sent. */
interface PendingBatch {
  seq: string;
  /** Record indexes [from, to). */
  from: number;
  to: number;
  /** Hashes of the transactions sent for it, each noted before it was sent; absent in batches stored before they were kept. */
  tx?: string[];
}

/**
 * The newest batch on chain this store knows is its own (LedgerWriterMark). Written with the
 * store's first outbox open without a provider (nothing sent yet); a store from before marks were
 * kept has none at all.
 */
interface StoredWriterMark {
  provider?: string;
  seq: string;
  atMs: number;
  txHash?: string;
  adopted?: boolean;
  /** Carried over from a store from before marks were kept (a key rotation's fresh store). */
  legacy?: boolean;
}

/** What {@link Outbox.takeOver} did. */
export interface TakeOverResult {
  /** Pending batches found on chain as this store's own: their records deleted. */
  landedBatches: number;
  /** Records of pending batches that never landed, queued again for new sequence numbers. */
  requeuedRecords: number;
  /** Records dropped because they are on chain already (another node landed them). */
  droppedRecords: number;
}

/** Records read at a time while a take-over re-indexes the outbox. */
const TAKE_OVER_CHUNK = 1_000;

const NEXT_KEY = "m:next";
const FLUSHED_KEY = "m:flushed";
const PENDING_KEY = "m:pending";
const WRITER_KEY = "m:writer";
const recordKey = (index: number) => `r:${index.toString().padStart(16, "0")}`;
const rangeKeys = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => recordKey(from + i));

/** Options of {@link Outbox}. */
export interface OutboxOptions {
  /** Above this many records not yet on chain, append refuses with E_BACKLOG (fail closed). */
  maxBacklog: number;
}

/**
 * The provider's durable ledger outbox (I-5): a query is appended, fsynced, and only then answered.
 * Concurrent appends are group-committed in one synchronous LevelDB batch. Records keep their
 * arrival order; the batcher binds the oldest to a sequence number durably before sending (I-6).
 */
export class Outbox implements LedgerOutbox {
  private readonly opts: OutboxOptions;
  private readonly db: OutboxLevel;
  private next = 0;
  private flushed = 0;
  /** Batches bound to sequence numbers, oldest first: consecutive seqs over consecutive record ranges. */
  private pending: PendingBatch[] = [];
  /** undefined for a store from before writer marks were kept. */
  private writer: StoredWriterMark | undefined;
  /** When the oldest record not yet on chain arrived (ms), if any waits. */
  private oldestMs: number | undefined;
  private queue: Array<{ record: StoredRecord; resolve: () => void; reject: (err: unknown) => void }> = [];
  private writing: Promise<void> | undefined;
  private lock: Promise<unknown> = Promise.resolve();

  constructor(opts: OutboxOptions, modules: { db: OutboxLevel }) {
    this.opts = opts;
    this.db = modules.db;
  }

  /** Loads the counters; call once after the database opened. */
  async open(): Promise<void> {
    this.next = ((await this.db.get(NEXT_KEY)) as number | undefined) ?? 0;
    this.flushed = ((await this.db.get(FLUSHED_KEY)) as number | undefined) ?? 0;
    const pending = (await this.db.get(PENDING_KEY)) as PendingBatch[] | PendingBatch | undefined;
    // Before batches were pipelined, one pending batch was stored as an object.
    this.pending = pending === undefined ? [] : Array.isArray(pending) ? pending : [pending];
    this.writer = (await this.db.get(WRITER_KEY)) as StoredWriterMark | undefined;
    if (this.writer === undefined && this.next === 0) {
      // A new outbox: mark it as one that has sent nothing yet, so that it is never taken for a store from before marks.
      this.writer = { seq: "0", atMs: Date.now() };
      await this.db.put(WRITER_KEY, this.writer, { sync: true } as object);
    }
    await this.readOldest();
  }

  /** Appends a record durably (fsync) and resolves only then; E_BACKLOG when the backlog is full. */
  append(record: LedgerRecord): Promise<void> {
    if (this.next + this.queue.length - this.flushed >= this.opts.maxBacklog) {
      return Promise.reject(new RiskshareError("E_BACKLOG", "the ledger outbox is full; new lookups are refused until it drains", { backlog: this.next - this.flushed, maxBacklog: this.opts.maxBacklog }));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ record: toStored(record), resolve, reject });
      this.writing ??= this.drainQueue();
    });
  }

  /** Records not yet confirmed on chain. */
  async size(): Promise<number> {
    return this.next - this.flushed;
  }

  /** Records not yet confirmed on chain (synchronous, for health checks). */
  backlog(): number {
    return this.next - this.flushed;
  }

  /** Records not yet bound to a batch. */
  unassigned(): number {
    return this.next - (this.pending.at(-1)?.to ?? this.flushed);
  }

  /** When the oldest record not yet on chain arrived (ms since the epoch); undefined when none waits. */
  oldestReceivedAtMs(): number | undefined {
    return this.oldestMs;
  }

  writerMark(providerAddress: string): LedgerWriterMark | undefined {
    const w = this.writer;
    if (w === undefined || w.legacy) return { seq: 0n, atMs: 0, legacy: true };
    if (w.provider === undefined || w.provider.toLowerCase() !== providerAddress.toLowerCase()) return undefined;
    return { seq: BigInt(w.seq), atMs: w.atMs, ...(w.txHash === undefined ? {} : { txHash: w.txHash }), ...(w.adopted ? { adopted: true } : {}) };
  }

  async noteSent(seq: bigint, txHash: string): Promise<void> {
    return this.exclusive(async () => {
      const index = this.pending.findIndex((p) => p.seq === seq.toString());
      if (index < 0) throw new RiskshareError("E_INTERNAL", "no such pending batch", { seq });
      const batch = this.pending[index]!;
      const pending = this.pending.with(index, { ...batch, tx: [...(batch.tx ?? []), txHash] });
      await this.db.put(PENDING_KEY, pending, { sync: true } as object);
      this.pending = pending;
    });
  }

  async adoptSequence(providerAddress: string, seq: bigint): Promise<void> {
    return this.exclusive(async () => {
      const writer: StoredWriterMark = { provider: providerAddress, seq: seq.toString(), atMs: Date.now(), adopted: true };
      await this.db.put(WRITER_KEY, writer, { sync: true } as object);
      this.writer = writer;
    });
  }

  /**
   * Makes this store the writer of `providerAddress`'s batches from `chainSeq` on (`riskshare node
   * take-over`), in one durable write: the pending batches in `landed` (seq → the hash of this
   * store's transaction that landed it) are on chain, so their records go; those of every other
   * pending batch never landed and are queued again for new sequence numbers, after the records
   * waiting unassigned. A record `keep` turns down is already on chain (landed by another node) and
   * goes too. Every record left is re-indexed, in order.
   */
  async takeOver(providerAddress: string, chainSeq: bigint, landed: ReadonlyMap<bigint, string>, keep: (record: LedgerRecord) => boolean = () => true): Promise<TakeOverResult> {
    return this.exclusive(async () => {
      const ops: Array<{ type: "del"; key: string } | { type: "put"; key: string; value: StoredRecord | StoredWriterMark | number }> = [];
      const landedBatches = this.pending.filter((p) => landed.has(BigInt(p.seq)));
      const pendingEnd = this.pending.at(-1)?.to ?? this.flushed;
      const survivors: { unassigned: StoredRecord[]; requeued: StoredRecord[] } = { unassigned: [], requeued: [] };
      let dropped = 0;
      for (let from = this.flushed; from < this.next; from += TAKE_OVER_CHUNK) {
        const to = Math.min(this.next, from + TAKE_OVER_CHUNK);
        const records = (await this.db.getMany(rangeKeys(from, to))) as (StoredRecord | undefined)[];
        records.forEach((record, i) => {
          const index = from + i;
          ops.push({ type: "del", key: recordKey(index) });
          if (landedBatches.some((p) => index >= p.from && index < p.to)) return;
          if (!record) throw new RiskshareError("E_INTERNAL", "an outbox record is missing", { index });
          if (!keep(fromStored(record))) dropped++;
          else (index < pendingEnd ? survivors.requeued : survivors.unassigned).push(record);
        });
      }
      let next = this.next;
      for (const record of [...survivors.unassigned, ...survivors.requeued]) ops.push({ type: "put", key: recordKey(next++), value: record });
      const flushed = this.next;
      const writer: StoredWriterMark = { provider: providerAddress, seq: chainSeq.toString(), atMs: Date.now(), adopted: true };
      ops.push({ type: "put", key: FLUSHED_KEY, value: flushed }, { type: "put", key: NEXT_KEY, value: next }, { type: "put", key: WRITER_KEY, value: writer });
      ops.push({ type: "del", key: PENDING_KEY });
      await this.db.batch(ops, { sync: true } as object);
      this.flushed = flushed;
      this.next = next;
      this.pending = [];
      this.writer = writer;
      await this.readOldest();
      return { landedBatches: landedBatches.length, requeuedRecords: survivors.requeued.length, droppedRecords: dropped };
    });
  }

  /**
   * Carries this outbox's writer mark over to `target`, a fresh store's (a key rotation's): the new
   * store carries on from this one's batches. A store from before marks were kept passes that on.
   */
  async carryWriterMarkTo(target: Outbox): Promise<void> {
    const mark = ((await this.db.get(WRITER_KEY)) as StoredWriterMark | undefined)
      ?? ((await this.db.get(NEXT_KEY)) === undefined ? undefined : { seq: "0", atMs: Date.now(), legacy: true });
    if (mark !== undefined) await target.db.put(WRITER_KEY, mark, { sync: true } as object);
  }

  /** The configured backlog cap. */
  get maxBacklog(): number {
    return this.opts.maxBacklog;
  }

  async pendingBatches(): Promise<LedgerBatch[]> {
    return this.exclusive(async () => {
      const batches: LedgerBatch[] = [];
      for (const p of this.pending) batches.push({ seq: BigInt(p.seq), records: await this.read(p.from, p.to), txHashes: p.tx ?? [] });
      return batches;
    });
  }

  async assignBatch(seq: bigint, maxRecords: number): Promise<LedgerBatch | undefined> {
    return this.exclusive(async () => {
      const last = this.pending.at(-1);
      if (last && BigInt(last.seq) + 1n !== seq) {
        throw new RiskshareError("E_INTERNAL", "a new ledger batch must follow the newest pending one", { pendingSeq: last.seq, seq });
      }
      const from = last?.to ?? this.flushed;
      if (from === this.next) return undefined;
      const batch: PendingBatch = { seq: seq.toString(), from, to: Math.min(this.next, from + maxRecords) };
      const pending = [...this.pending, batch];
      await this.db.put(PENDING_KEY, pending, { sync: true } as object);
      this.pending = pending;
      return { seq, records: await this.read(batch.from, batch.to), txHashes: [] };
    });
  }

  async completeBatch(seq: bigint, landed: { providerAddress: string; txHash?: string; atMs: number }): Promise<void> {
    return this.exclusive(async () => {
      const oldest = this.pending[0];
      if (!oldest || oldest.seq !== seq.toString()) throw new RiskshareError("E_INTERNAL", "no such pending batch, or not the oldest", { seq });
      const rest = this.pending.slice(1);
      const writer: StoredWriterMark = { provider: landed.providerAddress, seq: seq.toString(), atMs: landed.atMs, ...(landed.txHash === undefined ? {} : { txHash: landed.txHash }) };
      const ops: Array<{ type: "del"; key: string } | { type: "put"; key: string; value: number | PendingBatch[] | StoredWriterMark }> = [];
      for (const key of rangeKeys(oldest.from, oldest.to)) ops.push({ type: "del", key });
      ops.push({ type: "put", key: FLUSHED_KEY, value: oldest.to });
      ops.push(rest.length > 0 ? { type: "put", key: PENDING_KEY, value: rest } : { type: "del", key: PENDING_KEY });
      ops.push({ type: "put", key: WRITER_KEY, value: writer });
      await this.db.batch(ops, { sync: true } as object);
      this.flushed = oldest.to;
      this.pending = rest;
      this.writer = writer;
      await this.readOldest();
    });
  }

  /** Reads the arrival time of the oldest record not yet on chain into oldestMs. */
  private async readOldest(): Promise<void> {
    this.oldestMs = this.next > this.flushed ? ((await this.db.get(recordKey(this.flushed))) as StoredRecord | undefined)?.receivedAtMs : undefined;
  }

  private async read(from: number, to: number): Promise<LedgerRecord[]> {
    const values = (await this.db.getMany(rangeKeys(from, to))) as (StoredRecord | undefined)[];
    return values.map((value, i) => {
      if (!value) throw new RiskshareError("E_INTERNAL", "an outbox record is missing", { index: from + i });
      return fromStored(value);
    });
  }

  private async drainQueue(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const taken = this.queue;
        this.queue = [];
        const start = this.next;
        const ops: Array<{ type: "put"; key: string; value: StoredRecord | number }> = taken.map((entry, i) => ({ type: "put", key: recordKey(start + i), value: entry.record }));
        ops.push({ type: "put", key: NEXT_KEY, value: start + taken.length });
        try {
          await this.db.batch(ops, { sync: true } as object);
          this.next = start + taken.length;
          if (start === this.flushed) this.oldestMs = taken[0]!.record.receivedAtMs;
          for (const entry of taken) entry.resolve();
        } catch (err) {
          for (const entry of taken) entry.reject(err);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

function toStored(record: LedgerRecord): StoredRecord {
  const r = record.request;
  return {
    querier: r.querier, provider: r.provider, categoryMask: r.categoryMask.toString(), itemCount: r.itemCount, itemsCommitment: r.itemsCommitment,
    nonce: r.nonce, deadline: r.deadline.toString(), signature: record.signature, outcome: record.outcome, receivedAtMs: record.receivedAtMs,
    kind: r.kind, keyEpoch: record.keyEpoch, count: record.count, answerDigest: record.answerDigest,
  };
}

function fromStored(s: StoredRecord): LedgerRecord {
  return {
    request: {
      querier: s.querier, provider: s.provider, kind: s.kind ?? 0, categoryMask: BigInt(s.categoryMask), itemCount: s.itemCount, itemsCommitment: s.itemsCommitment,
      nonce: s.nonce, deadline: BigInt(s.deadline),
    },
    signature: s.signature, outcome: s.outcome, keyEpoch: s.keyEpoch ?? 0, receivedAtMs: s.receivedAtMs,
    count: s.count ?? 1, answerDigest: s.answerDigest ?? legacyAnswerDigest(s.outcome),
  };
}

/**
 * The answerDigest of a record written before records carried one: a refusal's is its outcome's
 * error code's; an answer's was never kept, so it lands as zero (audit verify flags it as unbound).
 */
function legacyAnswerDigest(outcome: number): string {
  const code = REFUSAL_ERROR_CODES[outcome];
  return code === undefined ? `0x${"00".repeat(32)}` : refusalDigest(code);
}
