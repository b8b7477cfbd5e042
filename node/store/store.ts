/**
 * The node's list store: one LevelDB database holding this member's entries (as salted hashes),
 * their indexes, per-category counts, the local audit trail and import checkpoints.
 *
 * Invariant: for every category, the count in meta equals the entries in the category index equals
 * the entries of that category — every change writes all three in one atomic batch, and writes are
 * serialised, so neither a crash nor concurrency can leave them apart. Reads never wait for writes.
 */
import { mkdir } from "node:fs/promises";
import { Level } from "level";
import type { AbstractSublevel } from "abstract-level";
import { Bucket } from "./buckets.ts";
import { RiskshareError, assertArgument } from "../errors.ts";
import { HASH_BYTES, defaultIdentifierRegistry, type IdentifierRegistry } from "../identity/index.ts";
import type { Logger } from "../logger.ts";
import {
  decodeCategoryValue,
  decodeEntryKey,
  decodeEntryValue,
  decodeExpiryKey,
  encodeEntryValue,
  encodeU48,
  entryValueAddedAt,
  entryValueCategory,
  entryValueExpiry,
} from "./codec.ts";
import { ContributionDigest } from "./digest.ts";
import { entryProblem, isExpired, reasonCodeProblem, type EntryInput, type EntryKey, type FieldProblem, type StoredEntry } from "./entry.ts";
import { categoryUnknown, entryInvalid, storeClosed } from "./errors.ts";
import { ENTRY_LIMITS, SCHEMA_VERSION, STORE_DEFAULTS, type StoreOptions } from "./options.ts";
import { QueryJournal, type JournalEntry } from "./journal.ts";
import { NonceStore } from "./nonces.ts";
import { Outbox, type OutboxLevel, type OutboxOptions } from "./outbox.ts";
import { PresenceFilter } from "./presence.ts";
import type { AuditRecord, ImportCheckpoint } from "./records.ts";
import { AuditRepository, EntryRepository, ImportRepository, MetaRepository, type Batch, type Db } from "./repositories.ts";

/** What a {@link Store} depends on. */
export interface StoreModules {
  readonly logger: Logger;
  /** Identifier types (for their key codes); the built-in registry when omitted. */
  readonly identifiers?: IdentifierRegistry | undefined;
  /** Wall clock in unix milliseconds; `Date.now` when omitted. */
  readonly clock?: (() => number) | undefined;
}

/** What happened to each entry of an upsert, in input order. */
export type UpsertOutcome = "added" | "updated" | "unchanged";

/** Result of {@link Store.upsert}. */
export interface UpsertResult {
  readonly added: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly outcomes: readonly UpsertOutcome[];
}

/** Options of {@link Store.upsert}. */
export interface UpsertOptions {
  /** Clock for validation and added-at, unix seconds. */
  readonly nowSec?: number | undefined;
  /** A checkpoint to write in the same atomic batch, built from this upsert's result. */
  readonly checkpoint?: ((result: UpsertResult) => ImportCheckpoint) | undefined;
}

/** Answer of a check: a miss, or a hit with the stored entry. */
export type CheckResult = { readonly hit: false } | { readonly hit: true; readonly entry: StoredEntry };

/** Result of {@link Store.remove}. */
export type RemoveResult = { readonly removed: false } | { readonly removed: true; readonly categoryId: number };

/** Result of {@link Store.sweep}. */
export interface SweepResult {
  readonly purged: number;
  /** Purged entries per category id. */
  readonly perCategory: ReadonlyMap<number, number>;
}

/** A category's live contribution: what `publish` sends to the ContributionRegistry. */
export interface ContributionSnapshot {
  readonly categoryId: number;
  /** Unexpired entries at `atSec`. */
  readonly liveCount: number;
  /** bytes32 digest of the sorted live entries (see digest.ts), 0x-prefixed hex. */
  readonly root: string;
  readonly atSec: number;
}

/** Figures of {@link Store.stats}. */
export interface StoreStats {
  readonly schemaVersion: number;
  readonly pepperEpoch: number | undefined;
  /** Stored entries, including expired ones no sweep has purged yet. */
  readonly entries: number;
  readonly perCategory: ReadonlyArray<{ readonly categoryId: number; readonly name: string | undefined; readonly entries: number }>;
  /** Entries past their expiry (they no longer answer) waiting for a sweep. */
  readonly expiredAwaitingSweep: number;
}

/** Result of {@link Store.verify}: the three views of each category's size, and any disagreement. */
export interface ConsistencyReport {
  readonly ok: boolean;
  readonly countsInMeta: ReadonlyMap<number, number>;
  readonly countsInIndex: ReadonlyMap<number, number>;
  readonly countsInEntries: ReadonlyMap<number, number>;
  /** Human-readable problems (counts and key prefixes only). */
  readonly problems: readonly string[];
}

type State = "new" | "opening" | "open" | "closing" | "closed";

/** The list store. Build with options and modules, `open()`, use, `close()`. */
export class Store {
  readonly #opts: Required<Omit<StoreOptions, "pepperEpoch" | "tuning">> & Pick<StoreOptions, "pepperEpoch" | "tuning">;
  readonly #logger: Logger;
  readonly #clock: () => number;
  /** Identifier types whose codes key the entries. */
  readonly identifiers: IdentifierRegistry;
  readonly #activeIds: ReadonlySet<number>;
  readonly #nameById: ReadonlyMap<number, string>;

  #state: State = "new";
  #db: Db | undefined;
  #entries!: EntryRepository;
  #meta!: MetaRepository;
  #audit!: AuditRepository;
  #imports!: ImportRepository;
  #counts = new Map<number, number>();
  /** The filter of stored entry keys while anyone tracks presence (see {@link trackPresence}). */
  #presence: { readonly filter: PresenceFilter; holders: number; readsSkipped: number } | undefined;
  #pepperEpoch: number | undefined;
  /** Tail of the write queue: each write starts after the previous one settled. */
  #writeTail: Promise<unknown> = Promise.resolve();

  constructor(opts: StoreOptions, modules: StoreModules) {
    this.#opts = { ...STORE_DEFAULTS, ...opts };
    this.#logger = modules.logger.child({ module: "store" });
    this.#clock = modules.clock ?? Date.now;
    this.identifiers = modules.identifiers ?? defaultIdentifierRegistry;
    const nameById = new Map<number, string>();
    for (const [name, id] of opts.categories) {
      assertArgument(Number.isInteger(id) && id >= ENTRY_LIMITS.minCategoryId && id <= ENTRY_LIMITS.maxCategoryId, "category ids must be integers in 1..63", "categories");
      assertArgument(!nameById.has(id), "category ids must be unique", "categories");
      nameById.set(id, name);
    }
    this.#nameById = nameById;
    this.#activeIds = new Set(nameById.keys());
    assertArgument(Number.isInteger(this.#opts.sweepBatchSize) && this.#opts.sweepBatchSize > 0, "must be a positive integer", "sweepBatchSize");
  }

  /** Opens (creating when missing) the database; refuses another schema version or pepper epoch. */
  async open(): Promise<void> {
    assertArgument(this.#state === "new", "a store opens once; build a new Store to reopen", "state");
    this.#state = "opening";
    await mkdir(this.#opts.location, { recursive: true });
    const db = new Level<Buffer, Buffer>(this.#opts.location, {
      keyEncoding: "buffer",
      valueEncoding: "buffer",
      // Bulk imports write millions of small records: a larger memtable means fewer level-0 files
      // and compactions; a larger block cache serves the import's lookups of existing entries.
      writeBufferSize: this.#opts.tuning?.writeBufferBytes ?? LEVELDB_WRITE_BUFFER_BYTES,
      cacheSize: LEVELDB_CACHE_BYTES,
      ...(this.#opts.tuning?.maxOpenFiles === undefined ? {} : { maxOpenFiles: this.#opts.tuning.maxOpenFiles }),
      ...(this.#opts.tuning?.compression === undefined ? {} : { compression: this.#opts.tuning.compression }),
    });
    try {
      await db.open();
    } catch (err) {
      this.#state = "closed";
      const locked = (err as { cause?: { code?: string } }).cause?.code === "LEVEL_LOCKED";
      throw new RiskshareError("E_STORE_CLOSED", locked ? "the store is in use by another process" : "the store could not be opened", { locked }, { cause: err });
    }
    try {
      this.#entries = new EntryRepository(db);
      this.#meta = new MetaRepository(db);
      this.#audit = new AuditRepository(db);
      this.#imports = new ImportRepository(db);
      await this.#checkSchema(db);
      this.#pepperEpoch = await this.#meta.pepperEpoch();
      if (this.#opts.pepperEpoch !== undefined) await this.#bindEpoch(db, this.#opts.pepperEpoch);
      this.#counts = await this.#meta.counts();
      await this.#audit.load();
    } catch (err) {
      this.#state = "closed";
      await db.close();
      throw err;
    }
    this.#db = db;
    this.#state = "open";
    this.#logger.debug({ entries: this.#totalEntries(), pepperEpoch: this.#pepperEpoch }, "store opened");
  }

  /** Waits for queued writes, then closes the database. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.#state !== "open") return;
    this.#state = "closing";
    await this.#writeTail.catch(() => undefined);
    await this.#db!.close();
    this.#db = undefined;
    this.#presence = undefined;
    this.#state = "closed";
  }

  /** True between a successful `open()` and `close()`. */
  get isOpen(): boolean {
    return this.#state === "open";
  }

  /**
   * A JSON sublevel of one of the protocol buckets (outbox, queries, nonces, usage), for the
   * repositories of the lookup protocol that share this database.
   */
  sublevel<V>(bucket: typeof Bucket.outbox | typeof Bucket.queries | typeof Bucket.nonces | typeof Bucket.usage): AbstractSublevel<Db, string | Buffer | Uint8Array, string, V> {
    const db = this.#open("sublevel");
    return db.sublevel<string, V>(bucket, { keyEncoding: "utf8", valueEncoding: "json" });
  }

  /** The journal of queries this node sent (the queries bucket), typed. */
  queryJournal(): QueryJournal {
    return new QueryJournal({ db: this.sublevel<JournalEntry>(Bucket.queries) });
  }

  /** The ledger outbox (the outbox bucket), typed; `open()` it before use. */
  outbox(opts: OutboxOptions): Outbox {
    return new Outbox(opts, { db: this.sublevel(Bucket.outbox) as OutboxLevel });
  }

  /** The nonces of lookup requests seen (the nonces bucket), typed. */
  nonceStore(): NonceStore {
    return new NonceStore({ db: this.sublevel<number>(Bucket.nonces) });
  }

  /** Pepper epoch of the stored hashes; undefined until the first write binds one. */
  get pepperEpoch(): number | undefined {
    return this.#pepperEpoch;
  }

  /** Records `epoch` as the store's pepper epoch if none is; throws E_STORE_EPOCH if another is. */
  async bindPepperEpoch(epoch: number): Promise<void> {
    this.#open("bindPepperEpoch");
    await this.#exclusive(() => this.#bindEpoch(this.#queued("bindPepperEpoch"), epoch));
  }

  /** The active category id for a name or a decimal id, if any. */
  categoryId(nameOrId: string): number | undefined {
    for (const [id, name] of this.#nameById) if (name === nameOrId) return id;
    if (/^[0-9]{1,2}$/.test(nameOrId) && this.#activeIds.has(Number(nameOrId))) return Number(nameOrId);
    return undefined;
  }

  /** The name of a category id (undefined when not active). */
  categoryName(categoryId: number): string | undefined {
    return this.#nameById.get(categoryId);
  }

  /** The first problem that would make {@link upsert} refuse `entry` (type excepted), if any. */
  entryProblem(entry: EntryInput, nowSec: number): FieldProblem | undefined {
    return entryProblem(entry, this.#activeIds, nowSec, this.#opts.maxClockSkewSec);
  }

  /** The rules {@link entryProblem} applies, as plain data (for import workers). */
  entryRules(): { readonly activeCategoryIds: number[]; readonly maxClockSkewSec: number } {
    return { activeCategoryIds: [...this.#activeIds], maxClockSkewSec: this.#opts.maxClockSkewSec };
  }

  /** The active categories, name → id, as given in the options. */
  activeCategories(): ReadonlyMap<string, number> {
    return this.#opts.categories;
  }

  /**
   * Adds or updates entries (identified by type + hash), reporting for each whether it was added,
   * updated or already stored identically. Entries are checked first (E_ENTRY_INVALID,
   * E_CATEGORY_UNKNOWN, E_IDENTIFIER_TYPE name the index); then all go in one atomic write with the
   * counts (and the checkpoint, if any). A later entry with the same key wins.
   */
  async upsert(entries: readonly EntryInput[], opts: UpsertOptions = {}): Promise<UpsertResult> {
    this.#open("upsert");
    const nowSec = opts.nowSec ?? this.#nowSec();
    const keys = entries.map((entry, index) => this.#checkedDbKey(entry, index, nowSec));
    return this.#exclusive(async () => {
      const db = this.#queued("upsert");
      this.#requireEpoch();
      const presence = this.#presence?.filter;
      const { values: stored, repeated, read, presenceHashes } = await this.#entries.getManyInKeyOrder(keys, presence);
      if (this.#presence !== undefined) this.#presence.readsSkipped += keys.length - read;
      const batch = db.batch();
      const deltas = new Map<number, number>();
      const latest = new Map<string, Buffer>(); // entries written earlier in this call, for keys it repeats
      const outcomes: UpsertOutcome[] = new Array(entries.length);
      let added = 0;
      let updated = 0;
      let unchanged = 0;
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[i]!;
        const key = keys[i]!;
        const id = repeated[i] === 1 ? key.toString("latin1") : undefined;
        const current = (id === undefined ? undefined : latest.get(id)) ?? stored[i];
        const fields = {
          categoryId: entry.categoryId, level: entry.level, reason: entry.reason, reportedAtSec: entry.reportedAtSec,
          expiresAtSec: entry.expiresAtSec, ownRef: entry.ownRef,
        };
        if (current === undefined) {
          const value = encodeEntryValue({ ...fields, addedAtSec: nowSec });
          this.#entries.queueAdd(batch, key, value, entry.categoryId, entry.expiresAtSec);
          if (presenceHashes !== undefined) presence!.addHashed(presenceHashes[i]!);
          bump(deltas, entry.categoryId, 1);
          if (id !== undefined) latest.set(id, value);
          outcomes[i] = "added";
          added++;
          continue;
        }
        const value = encodeEntryValue({ ...fields, addedAtSec: entryValueAddedAt(current) });
        if (value.equals(current)) {
          outcomes[i] = "unchanged";
          unchanged++;
          continue;
        }
        this.#entries.queueReplace(batch, key, current, value, entry.categoryId, entry.expiresAtSec);
        bump(deltas, entryValueCategory(current), -1);
        bump(deltas, entry.categoryId, 1);
        if (id !== undefined) latest.set(id, value);
        outcomes[i] = "updated";
        updated++;
      }
      const result: UpsertResult = { added, updated, unchanged, outcomes };
      const counts = this.#queueCounts(batch, deltas);
      if (opts.checkpoint) this.#imports.queuePut(batch, opts.checkpoint(result));
      await batch.write();
      this.#counts = counts;
      return result;
    });
  }

  /**
   * Keeps an in-memory filter of the stored entry keys (see presence.ts) until the returned
   * release is called, so that upserts read from LevelDB only entries that may exist: the bulk
   * import's largest saving. Building it reads every entry key once, so it pays off when about as
   * many or more entries are about to be written as are stored. Holders share one filter; it
   * grows no bigger than 64 MiB, past its sizing it only lets more reads through.
   *
   * @param expectedAdds entries the holder expects to add (sizes the filter).
   */
  async trackPresence(expectedAdds: number): Promise<{ release(): { readsSkipped: number } }> {
    this.#open("trackPresence");
    assertArgument(Number.isSafeInteger(expectedAdds) && expectedAdds >= 0, "must be a non-negative integer", "expectedAdds");
    await this.#exclusive(async () => {
      this.#queued("trackPresence");
      if (this.#presence !== undefined) {
        this.#presence.holders++;
        return;
      }
      const filter = new PresenceFilter(this.#totalEntries() + expectedAdds);
      const stored = await this.#entries.addAllKeysTo(filter);
      this.#presence = { filter, holders: 1, readsSkipped: 0 };
      this.#logger.debug({ stored, filterBytes: filter.bytes }, "presence filter built");
    });
    let released = false;
    return {
      release: () => {
        const tracked = this.#presence;
        if (released || tracked === undefined) return { readsSkipped: 0 };
        released = true;
        if (--tracked.holders === 0) this.#presence = undefined;
        return { readsSkipped: tracked.readsSkipped };
      },
    };
  }

  /**
   * Removes (delists) an entry, recording type, hash, category and `reason` in the audit trail in the
   * same atomic write. Removing an absent entry changes nothing and records nothing.
   */
  async remove(key: EntryKey, opts: { reason: string; nowSec?: number | undefined }): Promise<RemoveResult> {
    this.#open("remove");
    const dbKey = this.#dbKey(key);
    const reasonProblem = reasonCodeProblem(opts.reason);
    if (reasonProblem) throw entryInvalid("reason", reasonProblem);
    const atMs = opts.nowSec === undefined ? this.#clock() : opts.nowSec * 1000;
    return this.#exclusive(async () => {
      const db = this.#queued("remove");
      const [previous] = await this.#entries.getMany([dbKey]);
      if (previous === undefined) return { removed: false } as const;
      const categoryId = entryValueCategory(previous);
      const batch = db.batch();
      this.#entries.queueDelete(batch, dbKey, previous);
      const counts = this.#queueCounts(batch, new Map([[categoryId, -1]]));
      this.#audit.queueAppend(batch, atMs, {
        action: "delist", atSec: Math.floor(atMs / 1000), type: key.type, hash: Buffer.from(key.hash).toString("hex"), categoryId, reason: opts.reason,
      });
      await batch.write();
      this.#counts = counts;
      this.#logger.info({ type: key.type, categoryId, reason: opts.reason }, "entry delisted");
      return { removed: true, categoryId } as const;
    });
  }

  /** Looks up one identifier; an expired entry is a miss even before a sweep purges it. */
  async checkOne(key: EntryKey, nowSec?: number): Promise<CheckResult> {
    const [result] = await this.checkMany([key], nowSec);
    return result!;
  }

  /** Looks up many identifiers in one read (getMany); answers in input order. */
  async checkMany(keys: readonly EntryKey[], nowSec?: number): Promise<CheckResult[]> {
    this.#open("checkMany");
    const at = nowSec ?? this.#nowSec();
    const encoded = keys.map((key) => this.#dbKey(key));
    const values = encoded.length === 0 ? [] : await this.#entries.getMany(encoded);
    return values.map((value, i): CheckResult => {
      if (value === undefined) return MISS;
      const fields = decodeEntryValue(value);
      if (isExpired(fields, at)) return MISS;
      return { hit: true, entry: { type: keys[i]!.type, hash: Uint8Array.from(keys[i]!.hash), ...fields } };
    });
  }

  /**
   * Purges entries expired at `nowSec` (expires-at ≤ now), in atomic chunks that each update the
   * counts and append one audit record. Lookups and imports interleave between chunks.
   */
  async sweep(nowSec?: number): Promise<SweepResult> {
    this.#open("sweep");
    const at = nowSec ?? this.#nowSec();
    const perCategory = new Map<number, number>();
    let purged = 0;
    for (;;) {
      const chunk = await this.#exclusive(async () => {
        const db = this.#queued("sweep");
        const expiryKeys = await this.#entries.byExpiry.keys({ lt: encodeU48(at + 1), limit: this.#opts.sweepBatchSize }).all();
        if (expiryKeys.length === 0) return 0;
        const decoded = expiryKeys.map(decodeExpiryKey);
        const dbKeys = decoded.map((d) => this.#entries.dbKeyOf(d.entryKey));
        const values = await this.#entries.getMany(dbKeys);
        const batch = db.batch();
        const deltas = new Map<number, number>();
        for (let i = 0; i < decoded.length; i++) {
          const { expiresAtSec, entryKey } = decoded[i]!;
          const value = values[i];
          if (value === undefined || entryValueExpiry(value) !== expiresAtSec) {
            // Cannot happen while the invariant holds; drop the stray index record rather than loop on it.
            this.#entries.queueDeleteExpiryRecord(batch, expiryKeys[i]!);
            this.#logger.warn({ keyPrefix: entryKey.subarray(0, 5).toString("hex") }, "stray expiry index record removed");
            continue;
          }
          this.#entries.queueDelete(batch, dbKeys[i]!, value);
          bump(deltas, entryValueCategory(value), -1);
        }
        const counts = this.#queueCounts(batch, deltas);
        const removed = [...deltas.values()].reduce((sum, d) => sum - d, 0);
        const record: Record<string, number> = {};
        for (const [id, delta] of deltas) record[String(id)] = -delta;
        if (removed > 0) this.#audit.queueAppend(batch, this.#clock(), { action: "sweep", atSec: at, purged: removed, perCategory: record });
        await batch.write();
        this.#counts = counts;
        for (const [id, delta] of deltas) bump(perCategory, id, -delta);
        purged += removed;
        return expiryKeys.length;
      });
      if (chunk < this.#opts.sweepBatchSize) break;
    }
    if (purged > 0) this.#logger.info({ purged }, "expired entries swept");
    return { purged, perCategory };
  }

  /** Stored entries per category id (expired ones count until swept). */
  countPerCategory(): Map<number, number> {
    this.#open("countPerCategory");
    return new Map(this.#counts);
  }

  /** Size and state of the store. */
  async stats(nowSec?: number): Promise<StoreStats> {
    this.#open("stats");
    const at = nowSec ?? this.#nowSec();
    let expired = 0;
    for await (const _ of this.#entries.byExpiry.keys({ lt: encodeU48(at + 1) })) expired++;
    const perCategory = [...this.#counts].sort(([a], [b]) => a - b).map(([categoryId, entries]) => ({ categoryId, name: this.#nameById.get(categoryId), entries }));
    return { schemaVersion: SCHEMA_VERSION, pepperEpoch: this.#pepperEpoch, entries: this.#totalEntries(), perCategory, expiredAwaitingSweep: expired };
  }

  /** The live count and digest of one category at `nowSec` (see digest.ts); reads a consistent snapshot. */
  async snapshot(categoryId: number, nowSec: number): Promise<ContributionSnapshot> {
    this.#open("snapshot");
    assertArgument(Number.isInteger(categoryId) && categoryId >= ENTRY_LIMITS.minCategoryId && categoryId <= ENTRY_LIMITS.maxCategoryId, "must be 1..63", "categoryId");
    const digest = new ContributionDigest(categoryId);
    const iterator = this.#entries.byCategory.iterator({ gte: Buffer.of(categoryId), lt: Buffer.of(categoryId + 1) });
    try {
      for (;;) {
        const rows = await iterator.nextv(1000);
        if (rows.length === 0) break;
        for (const [key, value] of rows) {
          const expiresAtSec = decodeCategoryValue(value);
          if (expiresAtSec === undefined || expiresAtSec > nowSec) digest.add(key.subarray(1));
        }
      }
    } finally {
      await iterator.close();
    }
    return { categoryId, liveCount: digest.count, root: digest.root(), atSec: nowSec };
  }

  /** Stored entries in key order, optionally one category's, live ones only unless `includeExpired`. */
  async *entries(opts: { categoryId?: number | undefined; includeExpired?: boolean | undefined; nowSec?: number | undefined } = {}): AsyncGenerator<StoredEntry> {
    this.#open("entries");
    const at = opts.nowSec ?? this.#nowSec();
    const iterator = this.#entries.entries.iterator();
    try {
      for (;;) {
        const rows = await iterator.nextv(1000);
        if (rows.length === 0) break;
        for (const [key, value] of rows) {
          const fields = decodeEntryValue(value);
          if (opts.categoryId !== undefined && fields.categoryId !== opts.categoryId) continue;
          if (!opts.includeExpired && isExpired(fields, at)) continue;
          const { typeCode, hash } = decodeEntryKey(key);
          yield { type: this.#typeName(typeCode), hash, ...fields };
        }
      }
    } finally {
      await iterator.close();
    }
  }

  /** The local audit trail in time order (newest first with `reverse`). */
  auditTrail(opts: { limit?: number; reverse?: boolean; fromMs?: number } = {}): AsyncGenerator<AuditRecord & { atMs: number }> {
    this.#open("auditTrail");
    return this.#audit.records(opts);
  }

  /** The checkpoint of an import, if one was written. */
  async importCheckpoint(importId: string): Promise<ImportCheckpoint | undefined> {
    this.#open("importCheckpoint");
    return this.#imports.get(importId);
  }

  /** Every import checkpoint (finished or interrupted), by import id. */
  async *importCheckpoints(): AsyncGenerator<ImportCheckpoint> {
    this.#open("importCheckpoints");
    yield* this.#imports.all();
  }

  /** Writes an import's checkpoint and, when it is done, its audit record, atomically (no entries). */
  async writeCheckpoint(checkpoint: ImportCheckpoint): Promise<void> {
    this.#open("writeCheckpoint");
    await this.#exclusive(async () => {
      const batch = this.#queued("writeCheckpoint").batch();
      this.#imports.queuePut(batch, checkpoint);
      if (checkpoint.done) {
        const { importId, source, imported, updated, unchanged, rejected } = checkpoint;
        this.#audit.queueAppend(batch, this.#clock(), { action: "import", atSec: this.#nowSec(), importId, source, imported, updated, unchanged, rejected });
      }
      await batch.write();
    });
  }

  /**
   * Cross-checks counts in meta, the category index and the entries themselves, and that every
   * index record points at an entry of its category. Reads everything: a diagnostic, not a hot path.
   */
  async verify(): Promise<ConsistencyReport> {
    this.#open("verify");
    return this.#exclusive(async () => {
      const problems: string[] = [];
      const countsInMeta = await this.#meta.counts();
      const countsInEntries = new Map<number, number>();
      let withExpiry = 0;
      for await (const value of this.#entries.entries.values()) {
        bump(countsInEntries, entryValueCategory(value), 1);
        if (entryValueExpiry(value) !== undefined) withExpiry++;
      }
      const countsInIndex = new Map<number, number>();
      const iterator = this.#entries.byCategory.iterator();
      try {
        for (;;) {
          const rows = await iterator.nextv(1000);
          if (rows.length === 0) break;
          const values = await this.#entries.getMany(rows.map(([key]) => this.#entries.dbKeyOf(key.subarray(1))));
          rows.forEach(([key, indexValue], i) => {
            const categoryId = key[0]!;
            bump(countsInIndex, categoryId, 1);
            const value = values[i];
            if (value === undefined) problems.push(`index record in category ${categoryId} without an entry (${key.subarray(1, 6).toString("hex")}…)`);
            else if (entryValueCategory(value) !== categoryId) problems.push(`index record in category ${categoryId} for an entry of category ${entryValueCategory(value)}`);
            else if (entryValueExpiry(value) !== decodeCategoryValue(indexValue)) problems.push(`index record in category ${categoryId} with a stale expiry`);
          });
        }
      } finally {
        await iterator.close();
      }
      let expiryRecords = 0;
      for await (const _ of this.#entries.byExpiry.keys()) expiryRecords++;
      if (expiryRecords !== withExpiry) problems.push(`expiry index holds ${expiryRecords} records for ${withExpiry} expiring entries`);
      for (const id of new Set([...countsInMeta.keys(), ...countsInIndex.keys(), ...countsInEntries.keys()])) {
        const meta = countsInMeta.get(id) ?? 0;
        const index = countsInIndex.get(id) ?? 0;
        const entries = countsInEntries.get(id) ?? 0;
        if (meta !== index || index !== entries) problems.push(`category ${id}: meta counts ${meta}, index ${index}, entries ${entries}`);
      }
      return { ok: problems.length === 0, countsInMeta, countsInIndex, countsInEntries, problems };
    });
  }

  // --- internals ---

  #open(operation: string): Db {
    if (this.#state !== "open" || this.#db === undefined) throw storeClosed(operation);
    return this.#db;
  }

  /** The database for a write that was queued while the store was open: close() waits for it. */
  #queued(operation: string): Db {
    if ((this.#state !== "open" && this.#state !== "closing") || this.#db === undefined) throw storeClosed(operation);
    return this.#db;
  }

  #nowSec(): number {
    return Math.floor(this.#clock() / 1000);
  }

  #totalEntries(): number {
    let total = 0;
    for (const count of this.#counts.values()) total += count;
    return total;
  }

  /** Runs `fn` after every earlier write; a failure does not block later writes. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#writeTail.then(fn, fn);
    this.#writeTail = run.catch(() => undefined);
    return run;
  }

  async #checkSchema(db: Db): Promise<void> {
    const version = await this.#meta.schemaVersion();
    if (version === SCHEMA_VERSION) return;
    if (version !== undefined) {
      throw new RiskshareError("E_STORE_SCHEMA", `the store has schema version ${version}; this riskshare reads version ${SCHEMA_VERSION}`, { found: version, expected: SCHEMA_VERSION });
    }
    const [anyKey] = await db.keys({ limit: 1 }).all();
    if (anyKey !== undefined) {
      throw new RiskshareError("E_STORE_SCHEMA", "the directory holds a database without a riskshare schema version", { found: null, expected: SCHEMA_VERSION });
    }
    const batch = db.batch();
    this.#meta.queueSchemaVersion(batch, SCHEMA_VERSION);
    await batch.write();
  }

  async #bindEpoch(db: Db, epoch: number): Promise<void> {
    assertArgument(Number.isSafeInteger(epoch) && epoch >= 0, "must be a non-negative integer", "pepperEpoch");
    if (this.#pepperEpoch === epoch) return;
    if (this.#pepperEpoch !== undefined) {
      throw new RiskshareError("E_STORE_EPOCH", `the store holds hashes of pepper epoch ${this.#pepperEpoch}, not ${epoch}`, { stored: this.#pepperEpoch, requested: epoch });
    }
    const batch = db.batch();
    this.#meta.queuePepperEpoch(batch, epoch);
    await batch.write();
    this.#pepperEpoch = epoch;
  }

  #requireEpoch(): void {
    if (this.#pepperEpoch === undefined) {
      throw new RiskshareError("E_STORE_EPOCH", "no pepper epoch is bound to this store; open it with pepperEpoch or call bindPepperEpoch", { stored: null });
    }
  }

  /** Queues the counts after `deltas` and returns them (applied by the caller once the write succeeded). */
  #queueCounts(batch: Batch, deltas: ReadonlyMap<number, number>): Map<number, number> {
    const counts = new Map(this.#counts);
    for (const [categoryId, delta] of deltas) {
      if (delta === 0) continue;
      const count = (counts.get(categoryId) ?? 0) + delta;
      if (count < 0) throw new RiskshareError("E_INTERNAL", "a category count would go negative", { categoryId });
      if (count === 0) counts.delete(categoryId);
      else counts.set(categoryId, count);
      this.#meta.queueCount(batch, categoryId, count);
    }
    return counts;
  }

  #typeCode(type: string): number {
    return this.identifiers.get(type).code;
  }

  #typeName(code: number): string {
    const spec = this.identifiers.byCode(code);
    if (spec === undefined) throw new RiskshareError("E_STORE_SCHEMA", "the store holds an identifier type this riskshare does not know", { typeCode: code });
    return spec.name;
  }

  #dbKey(key: EntryKey): Buffer {
    assertArgument(key.hash.length === HASH_BYTES, `must be ${HASH_BYTES} bytes`, "hash");
    return this.#entries.dbKey(this.#typeCode(key.type), key.hash);
  }

  #checkedDbKey(entry: EntryInput, index: number, nowSec: number): Buffer {
    const typeCode = this.#typeCode(entry.type);
    const problem = this.entryProblem(entry, nowSec);
    if (problem?.reason === "unknown_category") throw categoryUnknown([...this.#nameById.values()], index);
    if (problem) throw entryInvalid(problem.field, problem.reason, index);
    return this.#entries.dbKey(typeCode, entry.hash);
  }
}

const MISS: CheckResult = Object.freeze({ hit: false });
const LEVELDB_WRITE_BUFFER_BYTES = 32 * 1024 * 1024;
const LEVELDB_CACHE_BYTES = 32 * 1024 * 1024;

function bump(map: Map<number, number>, key: number, delta: number): void {
  map.set(key, (map.get(key) ?? 0) + delta);
}

/**
 * The journal entry of a query this node sent, read from the store of a stopped node (a running
 * node holds the store's lock; ask its API instead). Undefined when the node sent no such query.
 */
export async function readSentQuery(opts: { location: string }, modules: StoreModules, queryId: string): Promise<JournalEntry | undefined> {
  const store = new Store({ location: opts.location, categories: new Map() }, modules);
  await store.open();
  try {
    return await store.queryJournal().get(queryId);
  } finally {
    await store.close();
  }
}
