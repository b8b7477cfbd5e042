/**
 * The node's list store: one LevelDB database holding this member's entries (keyed by the entry ids
 * its own OPRF key derives, with each entry's tag, metadata key and version), the tag index per
 * category, per-category counts, the delta log and base filter of each category's tags, the local
 * audit trail and import checkpoints. It never sees a raw identifier.
 *
 * Invariant: for every category, the count in meta equals the entries in the tag index equals the
 * entries of that category, and every tag entering or leaving a category is in its delta log —
 * every change writes all of them in one atomic batch, and writes are serialised, so neither a
 * crash nor concurrency can leave them apart. Reads never wait for writes.
 */
import { randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { Level } from "level";
import type { AbstractSublevel } from "abstract-level";
import { Bucket } from "./buckets.ts";
import { RiskshareError, assertArgument } from "../errors.ts";
import {
  ENTRY_ID_BYTES, ENTRY_TAG_BYTES, assertEntryKeyContext, defaultIdentifierRegistry, verifyFeedbackMac, type EntryKeyContext, type FeedbackKind, type IdentifierRegistry,
} from "../identity/index.ts";
import type { Logger } from "../logger.ts";
import {
  decodeEntryKey,
  decodeEntryValue,
  decodeExpiryKey,
  decodeIndexKey,
  decodeIndexValue,
  encodeEntryValue,
  encodeU48,
  entryValueAddedAt,
  entryValueCategory,
  entryValueConfirmed,
  entryValueExpiry,
  entryValueTag,
  entryValueVersion,
  ENTRY_KEY_BYTES,
} from "./codec.ts";
import { buildTagFilter, FILTER_TAG_BYTES } from "./filter.ts";
import { AssociatedData, createMetadataCipher, MAX_CONFIRMATIONS, METADATA_NONCE_BYTES, type MetadataCipher } from "./metadata.ts";
import { sealDelisting } from "./delisting.ts";
import { entryProblem, isExpired, reasonCodeProblem, type EntryInput, type EntryKey, type FieldProblem, type StoredEntry } from "./entry.ts";
import { categoryUnknown, entryInvalid, storeClosed } from "./errors.ts";
import { ENTRY_LIMITS, PEPPER_SCHEMA_VERSION, SCHEMA_VERSION, STORE_DEFAULTS, type StoreOptions } from "./options.ts";
import { QueryJournal, type JournalEntry } from "./journal.ts";
import { KeptHits } from "./hits.ts";
import { filterCommitment, type HeldAnswer } from "../chain/index.ts";
import { NonceCounters, NonceWindows, type NonceCountersOptions, type StoredNonceWindow } from "./nonces.ts";
import { Outbox, type OutboxLevel, type OutboxOptions } from "./outbox.ts";
import { PresenceFilter } from "./presence.ts";
import type { AuditRecord, ImportCheckpoint } from "./records.ts";
import {
  AuditRepository, DeltaRepository, EntryRepository, FilterRepository, ImportRepository, MetaRepository,
  type Batch, type Db, type StoredBinding, type StoredFilterInfo,
} from "./repositories.ts";

/** The buckets {@link Store.sublevel} opens. */
export type ProtocolBucket = typeof Bucket.outbox | typeof Bucket.queries | typeof Bucket.nonceCounters | typeof Bucket.nonceWindows | typeof Bucket.usage | typeof Bucket.hits | typeof Bucket.feedback;

/** The retired bucket of random request nonces (RETIRED_BUCKETS), emptied on open. */
const RETIRED_NONCES_BUCKET = "nonces";

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
  /** The OPRF key epoch the entries are keyed under. */
  readonly keyEpoch: number;
  /** Unexpired entries at `atSec` (distinct tags: the base filter's count). */
  readonly liveCount: number;
  /**
   * The commitment to the category's base filter built now ({@link filterCommitment}), 0x-prefixed hex (bytes32); the zero
   * hash for an empty list, as the ContributionRegistry requires (count 0 commits to no filter).
   */
  readonly filterHash: string;
  readonly atSec: number;
}

/** The filter hash an empty list publishes (the ContributionRegistry refuses any other with count 0). */
const EMPTY_LIST_FILTER_HASH = `0x${"0".repeat(64)}`;

/** A category's base tag filter, as {@link Store.buildBaseFilter} built it. */
export interface BaseFilter {
  readonly categoryId: number;
  readonly bytes: Uint8Array;
  /** The commitment to `bytes` ({@link filterCommitment}), 0x-hex. */
  readonly hash: string;
  /** Distinct live tags in it. */
  readonly count: number;
  /** The delta seq it covers. */
  readonly seq: number;
  readonly builtAtSec: number;
}

/** Where a category's filter stands: its base (if one was built) and the delta seq now. */
export interface FilterState {
  readonly categoryId: number;
  readonly keyEpoch: number | undefined;
  /** Null until a base filter is built (then every tag of the category is a delta since seq 0). */
  readonly baseHash: string | null;
  readonly baseCount: number;
  readonly baseSeq: number;
  /** The last delta seq. */
  readonly seq: number;
}

/** Tags added and removed since a seq, net (a tag's last change wins), up to `seq`. */
export interface TagDeltas {
  readonly categoryId: number;
  readonly fromSeq: number;
  readonly seq: number;
  readonly adds: Uint8Array[];
  readonly removes: Uint8Array[];
  /** The sealed delisting notices (delisting.ts) of removed tags, where the removal carried one. */
  readonly notices: Array<{ readonly tag: Uint8Array; readonly sealed: Uint8Array }>;
}

/**
 * A fetch prefix: the first `bits` bits (0..64) of a tag, left-aligned in a uint64 `value` (the bits
 * below `bits` zero) — the form the lookup protocol and the chain's commitment use.
 */
export interface TagPrefix {
  readonly bits: number;
  readonly value: bigint;
}

/** One entry of a fetch bucket. */
export interface FetchedEntry {
  readonly tag: Uint8Array;
  readonly version: number;
  /** The entry's metadata sealed now under its metadataKey (metadata.ts). */
  readonly sealed: Uint8Array;
}

/** One feedback report as the provider receives it (node/p2p/feedback). */
export interface ReceivedReport {
  readonly categoryId: number;
  readonly keyEpoch: number;
  /** 8 bytes. */
  readonly tag: Uint8Array;
  /** The entry version the reporter opened. */
  readonly version: number;
  readonly kind: FeedbackKind;
  /** 32 bytes (identity/feedback.ts). */
  readonly mac: Uint8Array;
}

/** What became of one received report: accepted, or the code it was refused with. */
export type ReportOutcome = "accepted" | "E_FEEDBACK_MAC" | "E_FEEDBACK_UNKNOWN_ENTRY";

/** An accepted report as the operator sees it: never who sent it, nor when the reporter's query was. */
export interface ReceivedFeedbackRecord {
  readonly receivedAtSec: number;
  readonly kind: FeedbackKind;
  readonly categoryId: number;
  /** The first 4 bytes of the entry's tag, hex. */
  readonly tagPrefix: string;
  /** The operator's own reference of the entry, if it has one: what to look the entry up by. */
  readonly ownRef?: string;
}

/** Figures of {@link Store.stats}. */
export interface StoreStats {
  readonly schemaVersion: number;
  readonly binding: EntryKeyContext | undefined;
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
  readonly #opts: Required<Omit<StoreOptions, "binding" | "tuning">> & Pick<StoreOptions, "binding" | "tuning">;
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
  #deltas!: DeltaRepository;
  #filters!: FilterRepository;
  #counts = new Map<number, number>();
  /** The last delta seq per category. */
  #seqs = new Map<number, number>();
  #filterInfo = new Map<number, StoredFilterInfo>();
  /** The filter of stored entry keys while anyone tracks presence (see {@link trackPresence}). */
  #presence: { readonly filter: PresenceFilter; holders: number; readsSkipped: number } | undefined;
  #binding: EntryKeyContext | undefined;
  /** Seals fetched entries' metadata (set by `open`). */
  #cipher: MetadataCipher | undefined;
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
    if (opts.binding !== undefined) assertEntryKeyContext(opts.binding);
  }

  /** Opens (creating when missing) the database; refuses a pepper-era store, another schema version or another key binding. */
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
      this.#deltas = new DeltaRepository(db);
      this.#filters = new FilterRepository(db);
      await this.#checkSchema(db);
      // The random nonces of old requests mean nothing to counter nonces' windows.
      await db.sublevel<string, unknown>(RETIRED_NONCES_BUCKET, { keyEncoding: "utf8", valueEncoding: "json" }).clear();
      const stored = await this.#meta.binding();
      this.#binding = stored === undefined ? undefined : { chainId: BigInt(stored.chainId), providerAddress: stored.providerAddress, keyEpoch: stored.keyEpoch };
      if (this.#opts.binding !== undefined) await this.#bind(db, this.#opts.binding);
      this.#counts = await this.#meta.counts();
      this.#seqs = await this.#meta.seqs();
      this.#filterInfo = await this.#meta.filters();
      await this.#audit.load();
      this.#cipher = await createMetadataCipher();
    } catch (err) {
      this.#state = "closed";
      await db.close();
      throw err;
    }
    this.#db = db;
    this.#state = "open";
    this.#logger.debug({ entries: this.#totalEntries(), keyEpoch: this.#binding?.keyEpoch }, "store opened");
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
   * A JSON sublevel of one of the protocol buckets (outbox, queries, nonce counters and windows, usage, hits), for the
   * repositories of the lookup protocol that share this database.
   */
  sublevel<V>(bucket: ProtocolBucket): AbstractSublevel<Db, string | Buffer | Uint8Array, string, V> {
    const db = this.#open("sublevel");
    return db.sublevel<string, V>(bucket, { keyEncoding: "utf8", valueEncoding: "json" });
  }

  /** The journal of queries this node sent (the queries bucket), typed; `key` (the journal key) seals and opens its secrets. */
  queryJournal(key?: Uint8Array): QueryJournal {
    return new QueryJournal({ key }, { db: this.sublevel<JournalEntry>(Bucket.queries) });
  }

  /** The hits this node's lookups found and the delistings seen of them (the hits bucket), sealed under `key` (the journal key). */
  keptHits(opts: { key: Uint8Array; chainId: bigint }): KeptHits {
    return new KeptHits(opts, { db: this.sublevel<{ sealed: string }>(Bucket.hits), logger: this.#logger });
  }

  /**
   * Copies what the lookup protocol keeps beside the entries — the query journal, the nonce counters and windows,
   * the quota usage and the kept hits — from `other` (a key rotation moves them to the store of the new key). Of the
   * ledger outbox only its writer mark: a rotation waits until the outbox is empty.
   */
  async copyProtocolStateFrom(other: Store): Promise<number> {
    let copied = 0;
    for (const bucket of [Bucket.queries, Bucket.nonceCounters, Bucket.nonceWindows, Bucket.usage, Bucket.hits, Bucket.feedback] as const) {
      const from = other.sublevel<unknown>(bucket);
      const to = this.sublevel<unknown>(bucket);
      // The array form of batch() waits for a sublevel still opening; a chained batch() throws then.
      let ops: { type: "put"; key: string; value: unknown }[] = [];
      for await (const [key, value] of from.iterator()) {
        ops.push({ type: "put", key, value });
        copied++;
        if (ops.length >= 1_000) {
          await to.batch(ops);
          ops = [];
        }
      }
      if (ops.length > 0) await to.batch(ops);
    }
    // The ledger writer mark too: the new store carries on from the old one's batches on chain.
    await other.outbox({ maxBacklog: 0 }).carryWriterMarkTo(this.outbox({ maxBacklog: 0 }));
    return copied;
  }

  /** The ledger outbox (the outbox bucket), typed; `open()` it before use. */
  outbox(opts: OutboxOptions): Outbox {
    return new Outbox(opts, { db: this.sublevel(Bucket.outbox) as OutboxLevel });
  }

  /** This node's request nonce counters per provider (querier side); build one per open store. */
  nonceCounters(opts: NonceCountersOptions = {}): NonceCounters {
    return new NonceCounters(opts, { db: this.sublevel<string>(Bucket.nonceCounters), nowMs: this.#clock });
  }

  /** The request nonce windows per querier (provider side); build one per open store. */
  nonceWindows(): NonceWindows {
    return new NonceWindows({ db: this.sublevel<StoredNonceWindow>(Bucket.nonceWindows) });
  }

  /** The (chain, provider, key epoch) the stored entry keys belong to; undefined until the first write binds one. */
  get binding(): EntryKeyContext | undefined {
    return this.#binding === undefined ? undefined : { ...this.#binding };
  }

  /** Records `context` as the store's key binding if none is; throws E_STORE_EPOCH if another is. */
  async bindKeys(context: EntryKeyContext): Promise<void> {
    this.#open("bindKeys");
    assertEntryKeyContext(context);
    await this.#exclusive(() => this.#bind(this.#queued("bindKeys"), context));
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
   * Adds or updates entries (identified by type + entry id), reporting for each whether it was
   * added, updated (version + 1) or already stored identically. Entries are checked first
   * (E_ENTRY_INVALID, E_CATEGORY_UNKNOWN, E_IDENTIFIER_TYPE name the index); then all go in one
   * atomic write with the counts, the delta log records of tags entering or leaving a category
   * (and the checkpoint, if any). A later entry with the same key wins.
   */
  async upsert(entries: readonly EntryInput[], opts: UpsertOptions = {}): Promise<UpsertResult> {
    this.#open("upsert");
    const nowSec = opts.nowSec ?? this.#nowSec();
    const keys = entries.map((entry, index) => this.#checkedDbKey(entry, index, nowSec));
    return this.#exclusive(async () => {
      const db = this.#queued("upsert");
      this.#requireBinding();
      const presence = this.#presence?.filter;
      const { values: stored, repeated, read, presenceHashes } = await this.#entries.getManyInKeyOrder(keys, presence);
      if (this.#presence !== undefined) this.#presence.readsSkipped += keys.length - read;
      const batch = db.batch();
      const deltas = new Map<number, number>();
      const log = new DeltaLog(this.#seqs);
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
          expiresAtSec: entry.expiresAtSec, ownRef: entry.ownRef, tag: entry.tag, metadataKey: entry.metadataKey,
        };
        if (current === undefined) {
          const value = encodeEntryValue({ ...fields, addedAtSec: nowSec, version: 1 });
          this.#entries.queueAdd(batch, key, value, entry.categoryId, entry.tag, entry.expiresAtSec);
          if (presenceHashes !== undefined) presence!.addHashed(presenceHashes[i]!);
          bump(deltas, entry.categoryId, 1);
          log.add(entry.categoryId, entry.tag);
          if (id !== undefined) latest.set(id, value);
          outcomes[i] = "added";
          added++;
          continue;
        }
        const version = entryValueVersion(current);
        // Confirmations received as a provider belong to the entry, not to the list row: an update keeps them.
        const confirmed = entryValueConfirmed(current);
        const same = encodeEntryValue({ ...fields, ...confirmed, addedAtSec: entryValueAddedAt(current), version });
        if (same.equals(current)) {
          outcomes[i] = "unchanged";
          unchanged++;
          continue;
        }
        const value = encodeEntryValue({ ...fields, ...confirmed, addedAtSec: entryValueAddedAt(current), version: version + 1 });
        this.#entries.queueReplace(batch, key, current, value, entry.categoryId, entry.tag, entry.expiresAtSec);
        const oldCategory = entryValueCategory(current);
        const oldTag = entryValueTag(current);
        const moved = oldCategory !== entry.categoryId || !Buffer.from(oldTag).equals(entry.tag);
        if (moved) {
          log.remove(oldCategory, oldTag);
          log.add(entry.categoryId, entry.tag);
        } else if (isExpired({ expiresAtSec: entryValueExpiry(current) }, nowSec)) {
          // Expired and not yet swept: a base filter built meanwhile left its tag out.
          log.add(entry.categoryId, entry.tag);
        }
        bump(deltas, oldCategory, -1);
        bump(deltas, entry.categoryId, 1);
        if (id !== undefined) latest.set(id, value);
        outcomes[i] = "updated";
        updated++;
      }
      const result: UpsertResult = { added, updated, unchanged, outcomes };
      const counts = this.#queueCounts(batch, deltas);
      const seqs = this.#queueDeltas(batch, log);
      if (opts.checkpoint) this.#imports.queuePut(batch, opts.checkpoint(result));
      await batch.write();
      this.#counts = counts;
      this.#seqs = seqs;
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
   * Removes (delists) an entry (the caller derives its entry id from the identifier), recording
   * type, tag, category and `reason` in the audit trail and the tag's removal in the delta log, in
   * the same atomic write. Removing an absent entry changes nothing and records nothing.
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
      const tag = entryValueTag(previous);
      const batch = db.batch();
      this.#entries.queueDelete(batch, dbKey, previous);
      const counts = this.#queueCounts(batch, new Map([[categoryId, -1]]));
      const log = new DeltaLog(this.#seqs);
      log.remove(categoryId, tag, this.#delistingNotice(previous, opts.reason, Math.floor(atMs / 1000)));
      const seqs = this.#queueDeltas(batch, log);
      this.#audit.queueAppend(batch, atMs, {
        action: "delist", atSec: Math.floor(atMs / 1000), type: key.type, tag: Buffer.from(tag).toString("hex"), categoryId, reason: opts.reason,
      });
      await batch.write();
      this.#counts = counts;
      this.#seqs = seqs;
      this.#logger.info({ type: key.type, categoryId, reason: opts.reason }, "entry delisted");
      return { removed: true, categoryId } as const;
    });
  }

  /**
   * Takes a batch of feedback reports from the Active member `reporter` (docs/PROTOCOL.md "Feedback"):
   * each names an entry by category, key epoch, tag and the version the reporter opened, with a MAC
   * under a key expanded from the entry's metadataKey (identity/feedback.ts). A report is refused with
   * E_FEEDBACK_UNKNOWN_ENTRY when no live entry of this key epoch has that category and tag at a
   * version at least the one named, with E_FEEDBACK_MAC when such entries exist but the MAC verifies
   * under none. An accepted report is recorded for the operator ({@link receivedFeedback}); a
   * confirmation from a member that had not confirmed the entry before raises its confirmations,
   * sets its last confirmation time and re-seals it as version + 1 (one plaintext per version), in
   * one atomic write with the member's confirmation record. Outcomes in input order.
   */
  async receiveFeedback(reporter: string, reports: readonly ReceivedReport[], nowSec?: number): Promise<ReportOutcome[]> {
    this.#open("receiveFeedback");
    const at = nowSec ?? this.#nowSec();
    const member = reporter.toLowerCase();
    return this.#exclusive(async () => {
      const db = this.#queued("receiveFeedback");
      const binding = this.#requireBinding();
      const feedback = this.sublevel<unknown>(Bucket.feedback);
      const batch = db.batch();
      const latest = new Map<string, Buffer>(); // entries bumped earlier in this batch
      const outcomes: ReportOutcome[] = [];
      let confirmed = 0;
      for (const report of reports) {
        if (report.keyEpoch !== binding.keyEpoch || report.tag.length !== ENTRY_TAG_BYTES || !this.#activeIds.has(report.categoryId)) {
          outcomes.push("E_FEEDBACK_UNKNOWN_ENTRY");
          continue;
        }
        const prefix = Buffer.concat([Buffer.of(report.categoryId), report.tag]);
        const rows = await this.#entries.byTag.iterator({ gte: prefix, lt: Buffer.concat([prefix, Buffer.alloc(ENTRY_KEY_BYTES, 0xff)]) }).all();
        let outcome: ReportOutcome = "E_FEEDBACK_UNKNOWN_ENTRY";
        for (const [key] of rows) {
          const dbKey = this.#entries.dbKeyOf(decodeIndexKey(key).entryKey);
          const id = dbKey.toString("hex");
          const current = latest.get(id) ?? (await this.#entries.getMany([dbKey]))[0];
          if (current === undefined) continue;
          const fields = decodeEntryValue(current);
          if (isExpired(fields, at) || report.version > fields.version) continue;
          if (!verifyFeedbackMac(report.mac, fields.metadataKey, binding, report.tag, { kind: report.kind, categoryId: report.categoryId, version: report.version })) {
            outcome = "E_FEEDBACK_MAC";
            continue;
          }
          outcome = "accepted";
          const record: ReceivedFeedbackRecord = {
            receivedAtSec: at, kind: report.kind, categoryId: report.categoryId, tagPrefix: Buffer.from(report.tag.subarray(0, 4)).toString("hex"),
            ...(fields.ownRef === undefined ? {} : { ownRef: fields.ownRef }),
          };
          batch.put<string, unknown>(`r:${(at * 1000).toString().padStart(15, "0")}:${randomBytes(8).toString("hex")}`, record, { sublevel: feedback });
          const confirmerKey = `c:${id}:${member}`;
          if (report.kind === "confirmed" && !latest.has(`${id}:${member}`) && (await feedback.get(confirmerKey)) === undefined) {
            const value = encodeEntryValue({
              ...fields, confirmations: Math.min(MAX_CONFIRMATIONS, (fields.confirmations ?? 0) + 1), lastConfirmedAtSec: at, version: fields.version + 1,
            });
            this.#entries.queueReplace(batch, dbKey, current, value, fields.categoryId, fields.tag, fields.expiresAtSec);
            batch.put<string, unknown>(confirmerKey, at, { sublevel: feedback });
            latest.set(id, value);
            latest.set(`${id}:${member}`, value);
            confirmed++;
          }
          break;
        }
        outcomes.push(outcome);
      }
      await batch.write();
      this.#logger.info({ reports: reports.length, accepted: outcomes.filter((o) => o === "accepted").length, newConfirmations: confirmed }, "feedback batch received");
      return outcomes;
    });
  }

  /** The feedback reports this provider accepted, received at or after `sinceMs`, oldest first (no reporter: see {@link receiveFeedback}). */
  async receivedFeedback(sinceMs = 0): Promise<ReceivedFeedbackRecord[]> {
    this.#open("receivedFeedback");
    const out: ReceivedFeedbackRecord[] = [];
    const from = `r:${Math.max(0, sinceMs).toString().padStart(15, "0")}`;
    for await (const value of this.sublevel<ReceivedFeedbackRecord>(Bucket.feedback).values({ gte: from, lt: "r:\xff" })) out.push(value);
    return out;
  }

  /**
   * Forgets what feedback left that no longer serves: received reports older than `beforeSec` (the
   * operator's review list), and the confirmations of entries this store no longer holds (delisted,
   * expired and swept, re-keyed). Returns how many of each it deleted. Run by housekeeping.
   */
  async pruneFeedback(beforeSec: number): Promise<{ received: number; confirmers: number }> {
    this.#open("pruneFeedback");
    const feedback = this.sublevel<unknown>(Bucket.feedback);
    const received = await feedback.keys({ gte: "r:", lt: `r:${Math.max(0, beforeSec * 1000).toString().padStart(15, "0")}` }).all();
    const confirmers = await feedback.keys({ gte: "c:", lt: "c:\xff" }).all();
    const ids = [...new Set(confirmers.map((key) => key.split(":")[1]!))];
    const gone = new Set<string>();
    for (let i = 0; i < ids.length; i += 1_000) {
      const slice = ids.slice(i, i + 1_000);
      const values = await this.#entries.getMany(slice.map((id) => Buffer.from(id, "hex")));
      slice.forEach((id, j) => { if (values[j] === undefined) gone.add(id); });
    }
    const stale = confirmers.filter((key) => gone.has(key.split(":")[1]!));
    const keys = [...received, ...stale];
    for (let i = 0; i < keys.length; i += 10_000) await feedback.batch(keys.slice(i, i + 10_000).map((key) => ({ type: "del" as const, key })));
    return { received: received.length, confirmers: stale.length };
  }

  /** Looks up one own entry by its key; an expired entry is a miss even before a sweep purges it. */
  async checkOne(key: EntryKey, nowSec?: number): Promise<CheckResult> {
    const [result] = await this.checkMany([key], nowSec);
    return result!;
  }

  /** Looks up many own entries in one read (getMany); answers in input order. */
  async checkMany(keys: readonly EntryKey[], nowSec?: number): Promise<CheckResult[]> {
    this.#open("checkMany");
    const at = nowSec ?? this.#nowSec();
    const encoded = keys.map((key) => this.#dbKey(key));
    const values = encoded.length === 0 ? [] : await this.#entries.getMany(encoded);
    return values.map((value, i): CheckResult => {
      if (value === undefined) return MISS;
      const fields = decodeEntryValue(value);
      if (isExpired(fields, at)) return MISS;
      return { hit: true, entry: { type: keys[i]!.type, entryId: Uint8Array.from(keys[i]!.entryId), ...fields } };
    });
  }

  /**
   * The fetch answer of a category: per prefix, in order, the live entries (at `nowSec`) whose tag
   * starts with it, each with its version and its metadata sealed now (fresh nonce) under its
   * metadataKey. Reads a consistent snapshot.
   */
  async fetchBuckets(categoryId: number, prefixes: readonly TagPrefix[], nowSec: number): Promise<Array<{ entries: FetchedEntry[] }>> {
    this.#open("fetchBuckets");
    assertCategoryId(categoryId);
    const binding = this.#requireBinding();
    const cipher = this.#cipher!;
    const associatedData = new AssociatedData(binding);
    const ranges = prefixes.map((prefix, i) => prefixRange(categoryId, prefix, i));
    const buckets: Array<{ entries: FetchedEntry[] }> = [];
    for (const range of ranges) {
      const rows = await this.#entries.byTag.iterator(range).all();
      const live = rows.filter(([, value]) => {
        const expiresAtSec = decodeIndexValue(value);
        return expiresAtSec === undefined || expiresAtSec > nowSec;
      });
      const values = live.length === 0 ? [] : await this.#entries.getMany(live.map(([key]) => this.#entries.dbKeyOf(decodeIndexKey(key).entryKey)));
      const entries: FetchedEntry[] = [];
      // One draw of random bytes for the bucket's nonces: each record still gets its own 12.
      const nonces = randomBytes(METADATA_NONCE_BYTES * live.length);
      live.forEach(([key], i) => {
        const value = values[i];
        if (value === undefined) return; // removed between the two reads: no longer listed
        const fields = decodeEntryValue(value);
        const type = this.#typeName(decodeIndexKey(key).entryKey[0]!);
        const sealed = cipher.seal(
          {
            categoryId: fields.categoryId, level: fields.level, reason: fields.reason, reportedAtSec: fields.reportedAtSec, expiresAtSec: fields.expiresAtSec, providerRef: fields.ownRef,
            confirmations: fields.confirmations, lastConfirmedAtSec: fields.lastConfirmedAtSec,
          },
          fields.metadataKey,
          associatedData.of(type, fields.version, fields.tag),
          nonces.subarray(i * METADATA_NONCE_BYTES, (i + 1) * METADATA_NONCE_BYTES),
        );
        entries.push({ tag: fields.tag, version: fields.version, sealed });
      });
      buckets.push({ entries });
    }
    return buckets;
  }

  /**
   * Builds the base filter of a category over the tags of its live entries at `nowSec`, records it
   * with the delta seq it covers, and drops the delta records it covers. What `publish` commits.
   */
  async buildBaseFilter(categoryId: number, nowSec: number): Promise<BaseFilter> {
    this.#open("buildBaseFilter");
    assertCategoryId(categoryId);
    return this.#exclusive(async () => {
      const db = this.#queued("buildBaseFilter");
      let tags = new Uint8Array(FILTER_TAG_BYTES * Math.max(1024, this.#counts.get(categoryId) ?? 0));
      let n = 0;
      const values = this.#entries.byTag.iterator({ gte: Buffer.of(categoryId), lt: Buffer.of(categoryId + 1) });
      try {
        for (let rows = await values.nextv(4096); rows.length > 0; rows = await values.nextv(4096)) {
          for (const [key, value] of rows) {
            const expiresAtSec = decodeIndexValue(value);
            if (expiresAtSec !== undefined && expiresAtSec <= nowSec) continue;
            if ((n + 1) * FILTER_TAG_BYTES > tags.length) {
              const grown = new Uint8Array(tags.length * 2);
              grown.set(tags);
              tags = grown;
            }
            tags.set(key.subarray(1, 1 + FILTER_TAG_BYTES), n * FILTER_TAG_BYTES);
            n++;
          }
        }
      } finally {
        await values.close();
      }
      const { bytes, count } = buildTagFilter(tags.subarray(0, n * FILTER_TAG_BYTES));
      const hash = filterCommitment(bytes);
      const seq = this.#seqs.get(categoryId) ?? 0;
      const info: StoredFilterInfo = { hash, count, seq, builtAtSec: nowSec };
      const batch = db.batch();
      this.#filters.queuePut(batch, categoryId, bytes);
      this.#meta.queueFilter(batch, categoryId, info);
      await batch.write();
      this.#filterInfo.set(categoryId, info);
      await this.#deltas.clearUpTo(categoryId, seq);
      this.#logger.info({ categoryId, count, filterBytes: bytes.length }, "base filter built");
      return { categoryId, bytes, hash, count, seq, builtAtSec: nowSec };
    });
  }

  /** The last base filter of a category (bytes, hash, count, seq), if one was built. */
  async baseFilter(categoryId: number): Promise<BaseFilter | undefined> {
    this.#open("baseFilter");
    const info = this.#filterInfo.get(categoryId);
    if (info === undefined) return undefined;
    const bytes = await this.#filters.get(categoryId);
    if (bytes === undefined) return undefined;
    return { categoryId, bytes: new Uint8Array(bytes), hash: info.hash, count: info.count, seq: info.seq, builtAtSec: info.builtAtSec };
  }

  /** Where a category's filter stands: its base and the delta seq now. */
  filterState(categoryId: number): FilterState {
    this.#open("filterState");
    const info = this.#filterInfo.get(categoryId);
    return {
      categoryId, keyEpoch: this.#binding?.keyEpoch, baseHash: info?.hash ?? null, baseCount: info?.count ?? 0, baseSeq: info?.seq ?? 0,
      seq: this.#seqs.get(categoryId) ?? 0,
    };
  }

  /**
   * The net tag changes of a category after `fromSeq` (a tag's last change wins), or undefined when
   * `fromSeq` is older than the base filter (those records are gone: the base must be sent).
   */
  async deltasSince(categoryId: number, fromSeq: number): Promise<TagDeltas | undefined> {
    this.#open("deltasSince");
    assertArgument(Number.isSafeInteger(fromSeq) && fromSeq >= 0, "must be a non-negative integer", "fromSeq");
    if (fromSeq < (this.#filterInfo.get(categoryId)?.seq ?? 0)) return undefined;
    const seq = this.#seqs.get(categoryId) ?? 0;
    const last = new Map<string, { add: boolean; notice?: Uint8Array | undefined }>();
    for await (const record of this.#deltas.after(categoryId, fromSeq)) {
      if (record.seq > seq) break;
      const hex = Buffer.from(record.tag).toString("hex");
      last.delete(hex); // keep insertion order = order of the last change
      last.set(hex, { add: record.add, notice: record.notice });
    }
    const adds: Uint8Array[] = [];
    const removes: Uint8Array[] = [];
    const notices: Array<{ tag: Uint8Array; sealed: Uint8Array }> = [];
    for (const [hex, { add, notice }] of last) {
      const tag = new Uint8Array(Buffer.from(hex, "hex"));
      (add ? adds : removes).push(tag);
      // A tag removed then added again is an add: its notice is dropped with the removal.
      if (!add && notice !== undefined) notices.push({ tag, sealed: notice });
    }
    return { categoryId, fromSeq, seq, adds, removes, notices };
  }

  /**
   * Purges entries expired at `nowSec` (expires-at ≤ now), in atomic chunks that each update the
   * counts, log the tags' removal and append one audit record. Lookups and imports interleave between chunks.
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
        const log = new DeltaLog(this.#seqs);
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
          log.remove(entryValueCategory(value), entryValueTag(value), this.#delistingNotice(value, "expired", expiresAtSec));
        }
        const counts = this.#queueCounts(batch, deltas);
        const seqs = this.#queueDeltas(batch, log);
        const removed = [...deltas.values()].reduce((sum, d) => sum - d, 0);
        const record: Record<string, number> = {};
        for (const [id, delta] of deltas) record[String(id)] = -delta;
        if (removed > 0) this.#audit.queueAppend(batch, this.#clock(), { action: "sweep", atSec: at, purged: removed, perCategory: record });
        await batch.write();
        this.#counts = counts;
        this.#seqs = seqs;
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
    return { schemaVersion: SCHEMA_VERSION, binding: this.binding, entries: this.#totalEntries(), perCategory, expiredAwaitingSweep: expired };
  }

  /**
   * The contribution snapshot of one category at `nowSec`: builds its base filter (see
   * {@link buildBaseFilter}) and returns its live count and hash with the key epoch, for publishing.
   */
  async snapshot(categoryId: number, nowSec: number): Promise<ContributionSnapshot> {
    this.#open("snapshot");
    const binding = this.#requireBinding();
    const filter = await this.buildBaseFilter(categoryId, nowSec);
    // An empty list commits to no filter: the registry takes count 0 only with the zero hash.
    const filterHash = filter.count === 0 ? EMPTY_LIST_FILTER_HASH : filter.hash;
    return { categoryId, keyEpoch: binding.keyEpoch, liveCount: filter.count, filterHash, atSec: nowSec };
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
          const { typeCode, entryId } = decodeEntryKey(key);
          yield { type: this.#typeName(typeCode), entryId, ...fields };
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
   * Cross-checks counts in meta, the tag index and the entries themselves, and that every index
   * record points at an entry of its category and tag. Reads everything: a diagnostic, not a hot path.
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
      const iterator = this.#entries.byTag.iterator();
      try {
        for (;;) {
          const rows = await iterator.nextv(1000);
          if (rows.length === 0) break;
          const decoded = rows.map(([key]) => decodeIndexKey(key));
          const values = await this.#entries.getMany(decoded.map((d) => this.#entries.dbKeyOf(d.entryKey)));
          rows.forEach(([, indexValue], i) => {
            const { categoryId, tag, entryKey } = decoded[i]!;
            bump(countsInIndex, categoryId, 1);
            const value = values[i];
            if (value === undefined) problems.push(`index record in category ${categoryId} without an entry (${entryKey.subarray(1, 6).toString("hex")}…)`);
            else if (entryValueCategory(value) !== categoryId) problems.push(`index record in category ${categoryId} for an entry of category ${entryValueCategory(value)}`);
            else if (!Buffer.from(entryValueTag(value)).equals(tag)) problems.push(`index record in category ${categoryId} under another tag than its entry's`);
            else if (entryValueExpiry(value) !== decodeIndexValue(indexValue)) problems.push(`index record in category ${categoryId} with a stale expiry`);
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
    if (version === PEPPER_SCHEMA_VERSION || (await this.#meta.pepperEpoch()) !== undefined) {
      throw new RiskshareError(
        "E_STORE_FORMAT",
        "this store holds pepper hashes from an older riskshare; move it aside and re-import your lists (riskshare list import)",
        { found: version ?? null, expected: SCHEMA_VERSION },
      );
    }
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

  async #bind(db: Db, context: EntryKeyContext): Promise<void> {
    const wanted: StoredBinding = { chainId: context.chainId.toString(), providerAddress: context.providerAddress.toLowerCase(), keyEpoch: context.keyEpoch };
    const bound = this.#binding;
    if (bound !== undefined) {
      const same = bound.chainId === context.chainId && bound.providerAddress.toLowerCase() === wanted.providerAddress && bound.keyEpoch === context.keyEpoch;
      if (same) return;
      throw new RiskshareError(
        "E_STORE_EPOCH",
        `the store holds entries of provider ${bound.providerAddress} key epoch ${bound.keyEpoch} on chain ${bound.chainId}, not of provider ${wanted.providerAddress} key epoch ${context.keyEpoch} on chain ${wanted.chainId}`,
        { storedKeyEpoch: bound.keyEpoch, requestedKeyEpoch: context.keyEpoch },
      );
    }
    const batch = db.batch();
    this.#meta.queueBinding(batch, wanted);
    await batch.write();
    this.#binding = { chainId: context.chainId, providerAddress: wanted.providerAddress, keyEpoch: context.keyEpoch };
  }

  #requireBinding(): EntryKeyContext {
    if (this.#binding === undefined) {
      throw new RiskshareError("E_STORE_EPOCH", "no key binding is recorded in this store; open it with `binding` or call bindKeys", { storedKeyEpoch: null });
    }
    return this.#binding;
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

  /** Queues the delta log records of `log` and the new seqs; returns the seqs (applied once the write succeeded). */
  #queueDeltas(batch: Batch, log: DeltaLog): Map<number, number> {
    for (const record of log.records) this.#deltas.queueAppend(batch, record.categoryId, record.seq, record.add, record.tag, record.notice);
    for (const [categoryId, seq] of log.seqs) if (seq !== this.#seqs.get(categoryId)) this.#meta.queueSeq(batch, categoryId, seq);
    return log.seqs;
  }

  /**
   * The delisting notice of a stored entry (its encoded value), sealed under its metadataKey for the
   * store's key binding: only a querier that evaluated the identifier opens it.
   */
  #delistingNotice(value: Uint8Array, reason: string, delistedAtSec: number): Uint8Array | undefined {
    const binding = this.#binding;
    if (binding === undefined) return undefined;
    const fields = decodeEntryValue(value);
    return sealDelisting({ reason, delistedAtSec }, fields.metadataKey, binding, fields.tag);
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
    assertArgument(key.entryId.length === ENTRY_ID_BYTES, `must be ${ENTRY_ID_BYTES} bytes`, "entryId");
    return this.#entries.dbKey(this.#typeCode(key.type), key.entryId);
  }

  #checkedDbKey(entry: EntryInput, index: number, nowSec: number): Buffer {
    const typeCode = this.#typeCode(entry.type);
    const problem = this.entryProblem(entry, nowSec);
    if (problem?.reason === "unknown_category") throw categoryUnknown([...this.#nameById.values()], index);
    if (problem) throw entryInvalid(problem.field, problem.reason, index);
    return this.#entries.dbKey(typeCode, entry.entryId);
  }
}

/** The delta records of one write: seqs continue each category's, in the order the changes happen. */
class DeltaLog {
  readonly seqs: Map<number, number>;
  readonly records: Array<{ categoryId: number; seq: number; add: boolean; tag: Uint8Array; notice?: Uint8Array | undefined }> = [];

  constructor(current: ReadonlyMap<number, number>) {
    this.seqs = new Map(current);
  }

  add(categoryId: number, tag: Uint8Array): void {
    this.#append(categoryId, true, tag);
  }

  /** A tag leaving the category; `notice` is the entry's sealed delisting notice, when it was delisted or expired. */
  remove(categoryId: number, tag: Uint8Array, notice?: Uint8Array): void {
    this.#append(categoryId, false, tag, notice);
  }

  #append(categoryId: number, add: boolean, tag: Uint8Array, notice?: Uint8Array): void {
    const seq = (this.seqs.get(categoryId) ?? 0) + 1;
    this.seqs.set(categoryId, seq);
    this.records.push({ categoryId, seq, add, tag, notice });
  }
}

/** Throws E_BAD_INPUT unless `categoryId` is 1..63. */
function assertCategoryId(categoryId: number): void {
  assertArgument(Number.isInteger(categoryId) && categoryId >= ENTRY_LIMITS.minCategoryId && categoryId <= ENTRY_LIMITS.maxCategoryId, "must be 1..63", "categoryId");
}

/** The tag index range of a prefix in a category. */
function prefixRange(categoryId: number, prefix: TagPrefix, index: number): { gte: Buffer; lt: Buffer } {
  const { bits, value } = prefix;
  assertArgument(Number.isInteger(bits) && bits >= 0 && bits <= 64, `must be 0..64 (prefix ${index})`, "bits");
  const span = 1n << BigInt(64 - bits);
  assertArgument(typeof value === "bigint" && value >= 0n && value < 1n << 64n && value % span === 0n, `must be a uint64 with the bits below the prefix zero (prefix ${index})`, "value");
  const low = value;
  const high = value + span; // 2^64 when the prefix is all ones: up to the next category
  const gte = Buffer.allocUnsafe(9);
  gte[0] = categoryId;
  gte.writeBigUInt64BE(low, 1);
  if (high >= 1n << 64n) return { gte, lt: Buffer.of(categoryId + 1) };
  const lt = Buffer.allocUnsafe(9);
  lt[0] = categoryId;
  lt.writeBigUInt64BE(high, 1);
  return { gte, lt };
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

/**
 * The provider-signed answers the journal of a stopped node holds (a running node holds the
 * store's lock: ask its API instead), for `verifyLedger`.
 */
export async function readHeldAnswers(opts: { location: string }, modules: StoreModules): Promise<HeldAnswer[]> {
  const store = new Store({ location: opts.location, categories: new Map() }, modules);
  await store.open();
  try {
    return await store.queryJournal().heldAnswers();
  } finally {
    await store.close();
  }
}
