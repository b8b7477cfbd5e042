/**
 * The console's local index of the query ledger: one SQLite file (node:sqlite) with the records the
 * audit reads (node/chain/audit.ts readLedger: the one decoder), secondary indexes for the console's
 * filters, and a daily roll-up for the overview. It is a cache of the chain, nothing more: deleting
 * the file rebuilds it from block 0.
 *
 * Record ids follow chain order (block, log index), and a block's time never decreases with it, so
 * a time range is an id range: every filter is "this index, inside that id range", and a page is a
 * bounded slice of one index scan.
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { creditEvents, outcomeName, readLedger, type AuditModules, type AuditRecord, type CreditEvent, type FeedbackCounts, type ReportRecord } from "../chain/index.ts";
import { RiskshareError, isRiskshareError } from "../errors.ts";

/** Bumped when the tables change: an index of another version is rebuilt from block 0. */
const SCHEMA_VERSION = "2";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members (id INTEGER PRIMARY KEY, address TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS records (
  id INTEGER PRIMARY KEY, block INTEGER NOT NULL, log_index INTEGER NOT NULL, time INTEGER NOT NULL, query_id BLOB NOT NULL, seq INTEGER NOT NULL,
  querier INTEGER NOT NULL, provider INTEGER NOT NULL, categories TEXT NOT NULL, kind INTEGER NOT NULL, items INTEGER NOT NULL, key_epoch INTEGER NOT NULL,
  outcome INTEGER NOT NULL, count INTEGER NOT NULL, deadline INTEGER NOT NULL, items_commitment BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS records_time ON records (time);
CREATE INDEX IF NOT EXISTS records_block ON records (block);
CREATE INDEX IF NOT EXISTS records_querier ON records (querier);
CREATE INDEX IF NOT EXISTS records_provider ON records (provider);
CREATE INDEX IF NOT EXISTS records_outcome ON records (outcome);
CREATE TABLE IF NOT EXISTS record_categories (category_id INTEGER NOT NULL, record_id INTEGER NOT NULL, PRIMARY KEY (category_id, record_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS daily (
  day INTEGER NOT NULL, querier INTEGER NOT NULL, provider INTEGER NOT NULL, outcome INTEGER NOT NULL, kind INTEGER NOT NULL,
  records INTEGER NOT NULL, count INTEGER NOT NULL, items INTEGER NOT NULL, jump_items INTEGER NOT NULL,
  PRIMARY KEY (day, querier, provider, outcome, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS credit_events (
  id INTEGER PRIMARY KEY, block INTEGER NOT NULL, time INTEGER NOT NULL, name TEXT NOT NULL, week INTEGER,
  querier INTEGER, provider INTEGER, reporter INTEGER, confirmed INTEGER, false_positive INTEGER, outdated INTEGER, amount TEXT
);
CREATE INDEX IF NOT EXISTS credit_events_time ON credit_events (time);
CREATE INDEX IF NOT EXISTS credit_events_block ON credit_events (block);
`;

const DAY_SEC = 86_400;

/**
 * node:sqlite, loaded when an index is opened rather than when the CLI starts: Node 22 before 22.13
 * has it only behind --experimental-sqlite, and every other command must still run there.
 */
function sqlite(): typeof import("node:sqlite") {
  try {
    return createRequire(import.meta.url)("node:sqlite") as typeof import("node:sqlite");
  } catch (err) {
    throw new RiskshareError("E_USAGE", `the console's index needs node:sqlite, which Node.js ${process.version} does not provide; run it as \`npx riskshare\` from the project folder (the Node 24 the project installs) or on Node.js 22.13 or newer`, {}, { cause: err });
  }
}

/** The console's filters of the ledger; times in unix seconds, inclusive. */
export interface IndexFilter {
  fromTime?: number;
  toTime?: number;
  querier?: string;
  provider?: string;
  categoryId?: number;
  outcome?: number;
}

/** A record as the index keeps it: the audit's CSV columns, and where it is on chain (its id orders the ledger). */
export interface IndexedRecord extends Pick<AuditRecord,
  "blockNumber" | "logIndex" | "timestamp" | "queryId" | "seq" | "querier" | "provider" | "categoryIds" | "kind" | "itemCount" | "keyEpoch" | "outcome" | "outcomeName" | "count" | "deadline" | "itemsCommitment"> {
  id: number;
}

/** One row of the daily roll-up: the records of one UTC day, querier, provider, outcome and kind. */
export interface DailyRow extends ReportRecord {
  /** Days since 1970-01-01 (UTC). */
  day: number;
  /** Records in the group. */
  records: number;
  /** Σ count (a folded refusal record stands for `count` refusals). */
  count: number;
  /** Σ item count. */
  itemCount: number;
  /** Σ item count × max(1, count): the items a querier asked, as itemJumps counts them. */
  jumpItems: number;
}

/** The ledger's credit events the index keeps (not CreditsSkipped), each with its block's time. */
export type IndexedCreditEvent = Exclude<CreditEvent, { name: "CreditsSkipped" }> & { timestamp: number };

/** The credit events an index keeps. */
const INDEXED_CREDIT_EVENTS = ["CreditsMoved", "FeedbackReported", "CreditsBurned", "BonusPaid"] as const;

/** Credits that moved from a querier to a provider (Σ CreditsMoved items) in a time range. */
export interface CreditFlow {
  querier: string;
  provider: string;
  items: number;
}

/** Options of {@link LedgerIndex}. */
export interface LedgerIndexOptions {
  /** The SQLite file; created with its directory. */
  location: string;
  /** The chain and ledger it indexes: an index of another one is rebuilt from block 0. */
  chainId: bigint;
  ledgerAddress: string;
  /** Blocks below the last indexed one re-read on every sync, so that a reorganisation that shallow is repaired. */
  reorgMarginBlocks: number;
  /** Blocks read per step of a sync (each step is one transaction). */
  chunkBlocks: number;
}

/** How far the index is. */
export interface IndexStatus {
  indexedBlock: number;
  records: number;
  sizeBytes: number;
}

type Row = Record<string, number | string | bigint | Uint8Array | null>;

const hex = (bytes: Uint8Array) => `0x${Buffer.from(bytes).toString("hex")}`;
const bytes = (text: string) => Buffer.from(text.slice(2), "hex");

/** The local ledger index (see the file's comment); one process at a time. */
export class LedgerIndex {
  private readonly opts: LedgerIndexOptions;
  private readonly db: DatabaseSync;
  private readonly memberIds = new Map<string, number>();
  private readonly memberAddresses = new Map<number, string>();
  private readonly statements = new Map<string, StatementSync>();

  constructor(opts: LedgerIndexOptions) {
    this.opts = opts;
    mkdirSync(dirname(opts.location), { recursive: true, mode: 0o700 });
    try {
      this.db = new (sqlite().DatabaseSync)(opts.location);
    } catch (err) {
      if (isRiskshareError(err)) throw err;
      throw new RiskshareError("E_STORE_CLOSED", `cannot open the console index ${opts.location}`, {}, { cause: err });
    }
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;");
    this.db.exec(SCHEMA);
    const identity = `${SCHEMA_VERSION}/${opts.chainId}/${opts.ledgerAddress.toLowerCase()}`;
    if (this.meta("identity") !== identity) {
      // Another chain, ledger or schema: start again from block 0.
      this.db.exec("DELETE FROM records; DELETE FROM record_categories; DELETE FROM daily; DELETE FROM credit_events; DELETE FROM members; DELETE FROM meta;");
      this.setMeta("identity", identity);
    }
    for (const row of this.db.prepare("SELECT id, address FROM members").all() as Row[]) {
      this.memberIds.set(row.address as string, Number(row.id));
      this.memberAddresses.set(Number(row.id), row.address as string);
    }
  }

  /** The last block whose records are indexed (-1 before the first sync). */
  get indexedBlock(): number {
    return Number(this.meta("indexedBlock") ?? -1);
  }

  /** Closes the file (idempotent). */
  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /**
   * Brings the index up to `head`: re-reads the last `reorgMarginBlocks` blocks it holds (replacing
   * their records) and everything after, in steps of `chunkBlocks`, each one transaction. Resumes
   * where the last sync stopped. `onProgress` is told the block reached after each step.
   */
  async sync(modules: AuditModules, head: number, onProgress?: (block: number) => void, signal?: AbortSignal): Promise<void> {
    const from = Math.max(0, this.indexedBlock - this.opts.reorgMarginBlocks + 1);
    for (let start = from; start <= head; start += this.opts.chunkBlocks) {
      signal?.throwIfAborted();
      const end = Math.min(head, start + this.opts.chunkBlocks - 1);
      const { records } = await readLedger(modules, { fromBlock: start, toBlock: end });
      // Credit events carry no time: a CreditsMoved shares its block with the batch's records; the others ask the chain.
      const times = new Map(records.map((r) => [r.blockNumber, r.timestamp]));
      const events: IndexedCreditEvent[] = [];
      for (const event of await creditEvents(modules.ledger, { fromBlock: start, toBlock: end, names: INDEXED_CREDIT_EVENTS })) {
        if (event.name === "CreditsSkipped") continue;
        let timestamp = times.get(event.blockNumber);
        if (timestamp === undefined) {
          const block = await modules.provider.getBlock(event.blockNumber);
          if (block === null) throw new RiskshareError("E_CHAIN_UNREACHABLE", "the chain did not return a block it reported", { blockNumber: event.blockNumber });
          timestamp = block.timestamp;
          times.set(event.blockNumber, timestamp);
        }
        events.push({ ...event, timestamp });
      }
      this.replaceFrom(start, end, records, events);
      onProgress?.(end);
    }
  }

  /** Replaces every record and credit event from block `start` on with `records` and `events` (blocks start..end), and marks `end` indexed. */
  replaceFrom(start: number, end: number, records: readonly AuditRecord[], events: readonly IndexedCreditEvent[] = []): void {
    this.transaction(() => {
      const dropped = this.db.prepare("SELECT min(time) AS lo, max(time) AS hi FROM records WHERE block >= ?").get(start) as Row;
      this.db.prepare("DELETE FROM record_categories WHERE record_id IN (SELECT id FROM records WHERE block >= ?)").run(start);
      this.db.prepare("DELETE FROM records WHERE block >= ?").run(start);
      this.db.prepare("DELETE FROM credit_events WHERE block >= ?").run(start);
      this.insert(records);
      this.insertCreditEvents(events);
      const times = [dropped.lo, dropped.hi, records[0]?.timestamp, records.at(-1)?.timestamp].filter((t): t is number => typeof t === "number");
      if (times.length > 0) this.rollUp(Math.floor(Math.min(...times) / DAY_SEC), Math.floor(Math.max(...times) / DAY_SEC));
      this.setMeta("indexedBlock", String(end));
    });
  }

  /** Appends records in chain order, without touching the roll-up or the indexed block (the benchmark's fill; then {@link rollUp}). */
  insert(records: readonly AuditRecord[]): void {
    const insertRecord = this.statement("INSERT INTO records (block, log_index, time, query_id, seq, querier, provider, categories, kind, items, key_epoch, outcome, count, deadline, items_commitment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    const insertCategory = this.statement("INSERT OR IGNORE INTO record_categories (category_id, record_id) VALUES (?, ?)");
    for (const r of records) {
      const { lastInsertRowid } = insertRecord.run(
        r.blockNumber, r.logIndex, r.timestamp, bytes(r.queryId), r.seq, this.memberId(r.querier), this.memberId(r.provider), r.categoryIds.join(","),
        r.kind, r.itemCount, r.keyEpoch, r.outcome, r.count, r.deadline, bytes(r.itemsCommitment),
      );
      for (const categoryId of r.categoryIds) insertCategory.run(categoryId, lastInsertRowid);
    }
  }

  /** Appends credit events (within {@link replaceFrom}'s transaction). */
  private insertCreditEvents(events: readonly IndexedCreditEvent[]): void {
    const insert = this.statement("INSERT INTO credit_events (block, time, name, week, querier, provider, reporter, confirmed, false_positive, outdated, amount) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    for (const e of events) {
      if (e.name === "CreditsMoved") insert.run(e.blockNumber, e.timestamp, e.name, null, this.memberId(e.querier), this.memberId(e.provider), null, null, null, null, e.items.toString());
      else if (e.name === "FeedbackReported") insert.run(e.blockNumber, e.timestamp, e.name, e.week, null, this.memberId(e.provider), this.memberId(e.reporter), e.confirmed, e.falsePositive, e.outdated, null);
      else insert.run(e.blockNumber, e.timestamp, e.name, e.week, null, this.memberId(e.provider), null, null, null, null, e.amount.toString());
    }
  }

  /** Credits moved per (querier, provider) from the records landed in [fromTime, toTime] (CreditsMoved). */
  creditFlows(range: { fromTime?: number; toTime?: number } = {}): CreditFlow[] {
    const rows = this.db.prepare(`SELECT querier, provider, sum(CAST(amount AS INTEGER)) AS items FROM credit_events WHERE name = 'CreditsMoved' AND time BETWEEN ? AND ?
      GROUP BY querier, provider ORDER BY items DESC`).all(range.fromTime ?? 0, range.toTime ?? Number.MAX_SAFE_INTEGER) as Row[];
    return rows.map((row) => ({ querier: this.memberAddresses.get(Number(row.querier))!, provider: this.memberAddresses.get(Number(row.provider))!, items: Number(row.items) }));
  }

  /** The weekly feedback counts recorded in [fromTime, toTime], and the bonus paid and credits burned per provider then. */
  feedback(range: { fromTime?: number; toTime?: number } = {}): { counts: FeedbackCounts[]; bonus: Map<string, number>; burned: Map<string, number> } {
    const rows = this.db.prepare("SELECT * FROM credit_events WHERE name != 'CreditsMoved' AND time BETWEEN ? AND ? ORDER BY id")
      .all(range.fromTime ?? 0, range.toTime ?? Number.MAX_SAFE_INTEGER) as Row[];
    const counts: FeedbackCounts[] = [];
    const bonus = new Map<string, number>();
    const burned = new Map<string, number>();
    for (const row of rows) {
      const provider = this.memberAddresses.get(Number(row.provider))!;
      if (row.name === "FeedbackReported") {
        counts.push({ week: Number(row.week), reporter: this.memberAddresses.get(Number(row.reporter))!, provider, confirmed: Number(row.confirmed), falsePositive: Number(row.false_positive), outdated: Number(row.outdated) });
      } else {
        const totals = row.name === "BonusPaid" ? bonus : burned;
        totals.set(provider, (totals.get(provider) ?? 0) + Number(row.amount));
      }
    }
    return { counts, bonus, burned };
  }

  /** Runs `work` in one transaction. */
  transaction(work: () => void): void {
    this.db.exec("BEGIN");
    try {
      work();
      this.db.exec("COMMIT");
    } catch (err) {
      this.db.exec("ROLLBACK");
      throw err;
    }
  }

  /** Recomputes the daily roll-up of days `fromDay`..`toDay` from the records. */
  rollUp(fromDay: number, toDay: number): void {
    this.db.prepare("DELETE FROM daily WHERE day BETWEEN ? AND ?").run(fromDay, toDay);
    this.db.prepare(`INSERT INTO daily (day, querier, provider, outcome, kind, records, count, items, jump_items)
      SELECT time / ${DAY_SEC}, querier, provider, outcome, kind, count(*), sum(count), sum(items), sum(items * max(1, count))
      FROM records WHERE time >= ? AND time < ? GROUP BY 1, 2, 3, 4, 5`).run(fromDay * DAY_SEC, (toDay + 1) * DAY_SEC);
  }

  /** One page of the records matching `filter`, newest first, and how many match in all. */
  page(filter: IndexFilter, offset: number, limit: number): { records: IndexedRecord[]; total: number } {
    const where = this.where(filter);
    if (where === undefined) return { records: [], total: 0 };
    const total = Number((this.db.prepare(`SELECT count(*) AS n FROM records WHERE ${where.sql}`).get(...where.params) as Row).n);
    const rows = this.db.prepare(`SELECT * FROM records WHERE ${where.sql} ORDER BY id DESC LIMIT ? OFFSET ?`).all(...where.params, limit, offset) as Row[];
    return { records: rows.map((row) => this.recordOf(row)), total };
  }

  /** Every record matching `filter`, oldest first (chain order, as `audit queries` lists them), read in slices. */
  *records(filter: IndexFilter, sliceSize = 5_000): Generator<IndexedRecord> {
    const where = this.where(filter);
    if (where === undefined) return;
    let after = 0;
    for (;;) {
      const rows = this.db.prepare(`SELECT * FROM records WHERE ${where.sql} AND id > ? ORDER BY id LIMIT ?`).all(...where.params, after, sliceSize) as Row[];
      for (const row of rows) yield this.recordOf(row);
      if (rows.length < sliceSize) return;
      after = Number(rows.at(-1)!.id);
    }
  }

  /** The daily roll-up of days `fromDay`..`toDay` (all when absent), for member `address` as querier or provider when given. */
  daily(range: { fromDay?: number; toDay?: number; member?: string } = {}): DailyRow[] {
    const conditions = ["day BETWEEN ? AND ?"];
    const params: number[] = [range.fromDay ?? 0, range.toDay ?? Number.MAX_SAFE_INTEGER];
    if (range.member !== undefined) {
      const id = this.memberIds.get(range.member);
      if (id === undefined) return [];
      conditions.push("(querier = ? OR provider = ?)");
      params.push(id, id);
    }
    const rows = this.db.prepare(`SELECT * FROM daily WHERE ${conditions.join(" AND ")} ORDER BY day`).all(...params) as Row[];
    return rows.map((row) => ({
      day: Number(row.day), querier: this.memberAddresses.get(Number(row.querier))!, provider: this.memberAddresses.get(Number(row.provider))!,
      outcome: Number(row.outcome), kind: Number(row.kind), records: Number(row.records), count: Number(row.count), itemCount: Number(row.items), jumpItems: Number(row.jump_items),
    }));
  }

  /** How far the index is and how large its file is (with its write-ahead log). */
  status(): IndexStatus {
    const records = Number((this.db.prepare("SELECT max(id) AS n FROM records").get() as Row).n ?? 0);
    const pages = this.db.prepare("SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()").get() as Row;
    return { indexedBlock: this.indexedBlock, records, sizeBytes: Number(pages.bytes) };
  }

  /** The SQL condition of `filter` (undefined when it can match nothing: a member the index never saw). */
  private where(filter: IndexFilter): { sql: string; params: number[] } | undefined {
    const conditions: string[] = [];
    const params: number[] = [];
    // A time range is an id range (ids follow chain order; block times do not decrease).
    if (filter.fromTime !== undefined) {
      const lo = (this.statement("SELECT id FROM records WHERE time >= ? ORDER BY time, id LIMIT 1").get(filter.fromTime) as Row | undefined)?.id;
      if (lo === undefined) return undefined;
      conditions.push("id >= ?");
      params.push(Number(lo));
    }
    if (filter.toTime !== undefined) {
      const hi = (this.statement("SELECT id FROM records WHERE time <= ? ORDER BY time DESC, id DESC LIMIT 1").get(filter.toTime) as Row | undefined)?.id;
      if (hi === undefined) return undefined;
      conditions.push("id <= ?");
      params.push(Number(hi));
    }
    for (const [column, address] of [["querier", filter.querier], ["provider", filter.provider]] as const) {
      if (address === undefined) continue;
      const id = this.memberIds.get(address);
      if (id === undefined) return undefined;
      conditions.push(`${column} = ?`);
      params.push(id);
    }
    if (filter.outcome !== undefined) {
      conditions.push("outcome = ?");
      params.push(filter.outcome);
    }
    if (filter.categoryId !== undefined) {
      const range = conditions.filter((c) => c.startsWith("id ")).map((c) => c.replace("id ", "record_id "));
      conditions.push(`id IN (SELECT record_id FROM record_categories WHERE category_id = ?${range.map((c) => ` AND ${c}`).join("")})`);
      params.push(filter.categoryId, ...params.slice(0, range.length));
    }
    return { sql: conditions.length === 0 ? "1" : conditions.join(" AND "), params };
  }

  private recordOf(row: Row): IndexedRecord {
    const categories = row.categories as string;
    return {
      id: Number(row.id), blockNumber: Number(row.block), logIndex: Number(row.log_index), timestamp: Number(row.time), queryId: hex(row.query_id as Uint8Array),
      seq: BigInt(row.seq as number), querier: this.memberAddresses.get(Number(row.querier))!, provider: this.memberAddresses.get(Number(row.provider))!,
      categoryIds: categories === "" ? [] : categories.split(",").map(Number), kind: Number(row.kind), itemCount: Number(row.items), keyEpoch: Number(row.key_epoch),
      outcome: Number(row.outcome), outcomeName: outcomeName(Number(row.outcome)), count: Number(row.count), deadline: BigInt(row.deadline as number),
      itemsCommitment: hex(row.items_commitment as Uint8Array),
    };
  }

  private memberId(address: string): number {
    const known = this.memberIds.get(address);
    if (known !== undefined) return known;
    const id = Number(this.db.prepare("INSERT INTO members (address) VALUES (?)").run(address).lastInsertRowid);
    this.memberIds.set(address, id);
    this.memberAddresses.set(id, address);
    return id;
  }

  private statement(sql: string): StatementSync {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  private meta(key: string): string | undefined {
    return (this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as Row | undefined)?.value as string | undefined;
  }

  private setMeta(key: string, value: string): void {
    this.db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);
  }
}
