/**
 * Typed repositories over the store's sublevels. Each knows one entity's keys and values; writes
 * are queued on a chained batch the caller commits, so one logical change (entries, indexes,
 * counts, audit, checkpoint) always lands in one atomic LevelDB write.
 */
import type { AbstractChainedBatch, AbstractSublevel } from "abstract-level";
import type { Level } from "level";
import { Bucket } from "./buckets.ts";
import {
  ENTRY_KEY_BYTES,
  decodeU48,
  encodeDeltaKey,
  encodeDeltaValue,
  encodeIndexValue,
  encodeU48,
  entryValueCategory,
  entryValueExpiry,
  entryValueTag,
} from "./codec.ts";
import { PresenceFilter } from "./presence.ts";
import type { AuditRecord, ImportCheckpoint } from "./records.ts";

/** The root database: buffer keys and values unless a sublevel says otherwise. */
export type Db = Level<Buffer, Buffer>;
/** One atomic write. */
export type Batch = AbstractChainedBatch<Db, Buffer, Buffer>;
type Sub<K, V> = AbstractSublevel<Db, string | Buffer | Uint8Array, K, V>;

/**
 * Entries with their tag (category) and expiry indexes, kept in step.
 *
 * Hot paths (imports) address the root database with keys that already carry the sublevel
 * prefix, built in one allocation: the same bytes the sublevels read, without a copy per key and
 * operation. Callers hold such "db keys" for entries; {@link entryKeyOf} strips the prefix.
 */
export class EntryRepository {
  readonly entries: Sub<Buffer, Buffer>;
  readonly byTag: Sub<Buffer, Buffer>;
  readonly byExpiry: Sub<Buffer, Buffer>;
  readonly #db: Db;
  readonly #entryPrefix: Buffer;
  readonly #tagPrefix: Buffer;
  readonly #expiryPrefix: Buffer;

  constructor(db: Db) {
    const buffers = { keyEncoding: "buffer", valueEncoding: "buffer" } as const;
    this.#db = db;
    this.entries = db.sublevel<Buffer, Buffer>(Bucket.entries, buffers);
    this.byTag = db.sublevel<Buffer, Buffer>(Bucket.byTag, buffers);
    this.byExpiry = db.sublevel<Buffer, Buffer>(Bucket.byExpiry, buffers);
    this.#entryPrefix = prefixOf(this.entries);
    this.#tagPrefix = prefixOf(this.byTag);
    this.#expiryPrefix = prefixOf(this.byExpiry);
  }

  /** The db key of an entry: sublevel prefix + [typeCode][entryId]. */
  dbKey(typeCode: number, entryId: Uint8Array): Buffer {
    const p = this.#entryPrefix.length;
    const key = Buffer.allocUnsafe(p + ENTRY_KEY_BYTES);
    this.#entryPrefix.copy(key, 0);
    key[p] = typeCode;
    key.set(entryId, p + 1);
    return key;
  }

  /** The db key of an entry key ([typeCode][entryId]). */
  dbKeyOf(entryKey: Uint8Array): Buffer {
    return this.dbKey(entryKey[0]!, entryKey.subarray(1, ENTRY_KEY_BYTES));
  }

  /** The entry key ([typeCode][entryId]) inside a db key (a view, not a copy). */
  entryKeyOf(dbKey: Buffer): Buffer {
    return dbKey.subarray(this.#entryPrefix.length);
  }

  /** Current encoded values of entries by db key (undefined where absent). */
  getMany(dbKeys: Buffer[]): Promise<Array<Buffer | undefined>> {
    return this.#db.getMany(dbKeys);
  }

  /**
   * {@link getMany} for a large batch of db keys: the values come back in input order, but LevelDB
   * is asked in key order, which costs it about half as much per key as random order (hashed keys
   * are random). Also flags every key that occurs more than once in the batch. With a presence
   * filter, keys it rules out are not read (their values are undefined), and each key's filter hash
   * comes back for the caller to add.
   */
  async getManyInKeyOrder(
    dbKeys: readonly Buffer[],
    presence?: PresenceFilter,
  ): Promise<{ values: Array<Buffer | undefined>; repeated: Uint8Array; read: number; presenceHashes: Uint32Array | undefined }> {
    const count = dbKeys.length;
    const at = this.#entryPrefix.length;
    // Type code and the first 5 hash bytes as one exact number: orders almost every pair without a Buffer compare.
    const head = new Float64Array(count);
    const order = new Uint32Array(count);
    for (let i = 0; i < count; i++) {
      const key = dbKeys[i]!;
      head[i] = key[at]! * 2 ** 40 + key.readUIntBE(at + 1, 5);
      order[i] = i;
    }
    order.sort((a, b) => head[a]! - head[b]! || Buffer.compare(dbKeys[a]!, dbKeys[b]!));
    // Only keys the presence filter cannot rule out are read (all of them without a filter).
    const sorted: Buffer[] = [];
    const presenceHashes = presence === undefined ? undefined : new Uint32Array(count);
    for (let j = 0; j < count; j++) {
      const i = order[j]!;
      const key = dbKeys[i]!;
      if (presenceHashes === undefined) sorted.push(key);
      else {
        const hash = (presenceHashes[i] = PresenceFilter.hashOf(key, at));
        if (presence!.mayContainHashed(hash)) sorted.push(key);
      }
    }
    const found = sorted.length === 0 ? [] : await this.#db.getMany(sorted);
    const values: Array<Buffer | undefined> = new Array(count);
    const repeated = new Uint8Array(count);
    for (let j = 0, next = 0; j < count; j++) {
      const i = order[j]!;
      if (next < sorted.length && sorted[next] === dbKeys[i]) values[i] = found[next++];
      if (j > 0) {
        const previous = order[j - 1]!;
        if (head[i] === head[previous] && dbKeys[i]!.equals(dbKeys[previous]!)) repeated[i] = repeated[previous] = 1;
      }
    }
    return { values, repeated, read: sorted.length, presenceHashes };
  }

  /** Adds the key of every stored entry to `filter`; returns how many there were. */
  async addAllKeysTo(filter: PresenceFilter): Promise<number> {
    const at = this.#entryPrefix.length;
    const end = Buffer.from(this.#entryPrefix);
    end[end.length - 1]!++; // the sublevel prefix ends in its separator, never 0xff
    const keys = this.#db.keys({ gte: this.#entryPrefix, lt: end });
    let count = 0;
    try {
      for (let chunk = await keys.nextv(4096); chunk.length > 0; chunk = await keys.nextv(4096)) {
        for (const key of chunk) filter.add(key, at);
        count += chunk.length;
      }
    } finally {
      await keys.close();
    }
    return count;
  }

  /** Queues a new entry and its index records. */
  queueAdd(batch: Batch, dbKey: Buffer, value: Buffer, categoryId: number, tag: Uint8Array, expiresAtSec: number | undefined): void {
    batch.put(dbKey, value);
    batch.put(this.#tagKey(categoryId, tag, dbKey), encodeIndexValue(expiresAtSec));
    if (expiresAtSec !== undefined) batch.put(this.#expiryKey(expiresAtSec, dbKey), EMPTY);
  }

  /** Queues the replacement of `previous` by `value`, moving index records as needed. */
  queueReplace(batch: Batch, dbKey: Buffer, previous: Buffer, value: Buffer, categoryId: number, tag: Uint8Array, expiresAtSec: number | undefined): void {
    const oldCategory = entryValueCategory(previous);
    const oldTag = entryValueTag(previous);
    const oldExpiry = entryValueExpiry(previous);
    const moved = oldCategory !== categoryId || !Buffer.from(oldTag).equals(tag);
    batch.put(dbKey, value);
    if (moved) batch.del(this.#tagKey(oldCategory, oldTag, dbKey));
    if (moved || oldExpiry !== expiresAtSec) batch.put(this.#tagKey(categoryId, tag, dbKey), encodeIndexValue(expiresAtSec));
    if (oldExpiry !== expiresAtSec) {
      if (oldExpiry !== undefined) batch.del(this.#expiryKey(oldExpiry, dbKey));
      if (expiresAtSec !== undefined) batch.put(this.#expiryKey(expiresAtSec, dbKey), EMPTY);
    }
  }

  /** Queues the deletion of an entry whose current value is `previous`, with its index records. */
  queueDelete(batch: Batch, dbKey: Buffer, previous: Buffer): void {
    batch.del(dbKey);
    batch.del(this.#tagKey(entryValueCategory(previous), entryValueTag(previous), dbKey));
    const expiry = entryValueExpiry(previous);
    if (expiry !== undefined) batch.del(this.#expiryKey(expiry, dbKey));
  }

  /** Queues the deletion of a stray expiry index record (its key as the sublevel returns it). */
  queueDeleteExpiryRecord(batch: Batch, expiryKey: Buffer): void {
    batch.del(expiryKey, { sublevel: this.byExpiry });
  }

  #tagKey(categoryId: number, tag: Uint8Array, dbKey: Buffer): Buffer {
    const p = this.#tagPrefix.length;
    const key = Buffer.allocUnsafe(p + 1 + 8 + ENTRY_KEY_BYTES);
    this.#tagPrefix.copy(key, 0);
    key[p] = categoryId;
    key.set(tag, p + 1);
    dbKey.copy(key, p + 9, this.#entryPrefix.length);
    return key;
  }

  #expiryKey(expiresAtSec: number, dbKey: Buffer): Buffer {
    const p = this.#expiryPrefix.length;
    const key = Buffer.allocUnsafe(p + 6 + ENTRY_KEY_BYTES);
    this.#expiryPrefix.copy(key, 0);
    key.writeUIntBE(expiresAtSec, p, 6);
    dbKey.copy(key, p + 6, this.#entryPrefix.length);
    return key;
  }
}

/** Per category, the tag adds and removes since its base filter, in sequence order. */
export class DeltaRepository {
  readonly deltas: Sub<Buffer, Buffer>;

  constructor(db: Db) {
    this.deltas = db.sublevel<Buffer, Buffer>(Bucket.tagDeltas, { keyEncoding: "buffer", valueEncoding: "buffer" });
  }

  /** Queues one record; a removal may carry the sealed delisting notice of its entry (delisting.ts). */
  queueAppend(batch: Batch, categoryId: number, seq: number, add: boolean, tag: Uint8Array, notice?: Uint8Array): void {
    batch.put(encodeDeltaKey(categoryId, seq), encodeDeltaValue(add, tag, notice), { sublevel: this.deltas });
  }

  /** The records of a category with seq in (afterSeq, ∞), in order. */
  async *after(categoryId: number, afterSeq: number): AsyncGenerator<{ seq: number; add: boolean; tag: Uint8Array; notice?: Uint8Array }> {
    for await (const [key, value] of this.deltas.iterator({ gt: encodeDeltaKey(categoryId, afterSeq), lt: Buffer.of(categoryId + 1) })) {
      const record = { seq: decodeU48(key, 1), add: value[0] === 1, tag: Uint8Array.prototype.slice.call(value, 1, 9) };
      yield value.length > 9 ? { ...record, notice: Uint8Array.prototype.slice.call(value, 9) } : record;
    }
  }

  /** Deletes a category's records with seq ≤ `upToSeq` (once a base filter covers them). */
  async clearUpTo(categoryId: number, upToSeq: number): Promise<void> {
    await this.deltas.clear({ gte: Buffer.of(categoryId), lte: encodeDeltaKey(categoryId, upToSeq) });
  }
}

/** The base tag filter of each category (bytes here, hash and seq in meta). */
export class FilterRepository {
  readonly filters: Sub<Buffer, Buffer>;

  constructor(db: Db) {
    this.filters = db.sublevel<Buffer, Buffer>(Bucket.tagFilters, { keyEncoding: "buffer", valueEncoding: "buffer" });
  }

  get(categoryId: number): Promise<Buffer | undefined> {
    return this.filters.get(Buffer.of(categoryId));
  }

  queuePut(batch: Batch, categoryId: number, bytes: Uint8Array): void {
    batch.put(Buffer.of(categoryId), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { sublevel: this.filters });
  }
}

/** The bytes a sublevel puts before each of its keys. */
function prefixOf(sublevel: Sub<Buffer, Buffer>): Buffer {
  return Buffer.from(sublevel.prefixKey(Buffer.alloc(0), "buffer", false));
}

const SCHEMA_VERSION_KEY = "schemaVersion";
/** Written by the pepper-era riskshare (schema 1) only: its presence marks such a store. */
const PEPPER_EPOCH_KEY = "pepperEpoch";
const BINDING_KEY = "binding";
const COUNT_PREFIX = "count/";
const SEQ_PREFIX = "seq/";
const FILTER_PREFIX = "filter/";

/** The key binding as meta stores it (JSON: the chain id as a decimal string). */
export interface StoredBinding {
  readonly chainId: string;
  readonly providerAddress: string;
  readonly keyEpoch: number;
}

/** What meta records of a category's base filter. */
export interface StoredFilterInfo {
  /** keccak256 of the filter bytes, 0x-hex. */
  readonly hash: string;
  /** Distinct tags in it. */
  readonly count: number;
  /** The delta seq it covers: records after it are the deltas since this base. */
  readonly seq: number;
  readonly builtAtSec: number;
}

/** Schema version, key binding, and per category the entry count, delta seq and base filter info. */
export class MetaRepository {
  readonly meta: Sub<string, unknown>;

  constructor(db: Db) {
    this.meta = db.sublevel<string, unknown>(Bucket.meta, { keyEncoding: "utf8", valueEncoding: "json" });
  }

  async schemaVersion(): Promise<number | undefined> {
    return (await this.meta.get(SCHEMA_VERSION_KEY)) as number | undefined;
  }

  /** The pepper epoch a pepper-era store recorded (never written any more). */
  async pepperEpoch(): Promise<number | undefined> {
    return (await this.meta.get(PEPPER_EPOCH_KEY)) as number | undefined;
  }

  queueSchemaVersion(batch: Batch, version: number): void {
    batch.put(SCHEMA_VERSION_KEY, version, { sublevel: this.meta });
  }

  async binding(): Promise<StoredBinding | undefined> {
    return (await this.meta.get(BINDING_KEY)) as StoredBinding | undefined;
  }

  queueBinding(batch: Batch, binding: StoredBinding): void {
    batch.put(BINDING_KEY, binding, { sublevel: this.meta });
  }

  /** The last delta seq per category id. */
  async seqs(): Promise<Map<number, number>> {
    return this.#numbers(SEQ_PREFIX) as Promise<Map<number, number>>;
  }

  queueSeq(batch: Batch, categoryId: number, seq: number): void {
    batch.put(`${SEQ_PREFIX}${categoryId}`, seq, { sublevel: this.meta });
  }

  /** The base filter info per category id. */
  async filters(): Promise<Map<number, StoredFilterInfo>> {
    return this.#numbers(FILTER_PREFIX) as Promise<Map<number, StoredFilterInfo>>;
  }

  queueFilter(batch: Batch, categoryId: number, info: StoredFilterInfo): void {
    batch.put(`${FILTER_PREFIX}${categoryId}`, info, { sublevel: this.meta });
  }

  async #numbers(prefix: string): Promise<Map<number, unknown>> {
    const out = new Map<number, unknown>();
    for await (const [key, value] of this.meta.iterator({ gt: prefix, lt: `${prefix}\uffff` })) out.set(Number(key.slice(prefix.length)), value);
    return out;
  }

  /** Stored entry count per category id. */
  async counts(): Promise<Map<number, number>> {
    return this.#numbers(COUNT_PREFIX) as Promise<Map<number, number>>;
  }

  /** Queues the new count of a category (zero deletes the record). */
  queueCount(batch: Batch, categoryId: number, count: number): void {
    if (count === 0) batch.del(`${COUNT_PREFIX}${categoryId}`, { sublevel: this.meta });
    else batch.put(`${COUNT_PREFIX}${categoryId}`, count, { sublevel: this.meta });
  }
}

/** The local audit trail: append-only, ordered by time. Key: [atMs u48][seq u32]. */
export class AuditRepository {
  readonly audit: Sub<Buffer, AuditRecord>;
  #nextSeq = 0;

  constructor(db: Db) {
    this.audit = db.sublevel<Buffer, AuditRecord>(Bucket.audit, { keyEncoding: "buffer", valueEncoding: "json" });
  }

  /** Continues the sequence after the last record, so keys never collide across restarts. */
  async load(): Promise<void> {
    const [last] = await this.audit.keys({ reverse: true, limit: 1 }).all();
    this.#nextSeq = last === undefined ? 0 : last.readUInt32BE(6) + 1;
  }

  queueAppend(batch: Batch, atMs: number, record: AuditRecord): void {
    const key = Buffer.allocUnsafe(10);
    key.writeUIntBE(atMs, 0, 6);
    key.writeUInt32BE(this.#nextSeq >>> 0, 6);
    this.#nextSeq = (this.#nextSeq + 1) >>> 0;
    batch.put(key, record, { sublevel: this.audit });
  }

  /** Records in time order (newest first with `reverse`). */
  async *records(opts: { limit?: number; reverse?: boolean; fromMs?: number } = {}): AsyncGenerator<AuditRecord & { atMs: number }> {
    const range = opts.fromMs === undefined ? {} : { gte: encodeU48(opts.fromMs) };
    for await (const [key, record] of this.audit.iterator({ ...range, reverse: opts.reverse ?? false, limit: opts.limit ?? -1 })) {
      yield { ...record, atMs: decodeU48(key, 0) };
    }
  }
}

/** Import checkpoints by import id. */
export class ImportRepository {
  readonly imports: Sub<string, ImportCheckpoint>;

  constructor(db: Db) {
    this.imports = db.sublevel<string, ImportCheckpoint>(Bucket.imports, { keyEncoding: "utf8", valueEncoding: "json" });
  }

  get(importId: string): Promise<ImportCheckpoint | undefined> {
    return this.imports.get(importId);
  }

  async *all(): AsyncGenerator<ImportCheckpoint> {
    for await (const checkpoint of this.imports.values()) yield checkpoint;
  }

  queuePut(batch: Batch, checkpoint: ImportCheckpoint): void {
    batch.put(checkpoint.importId, checkpoint, { sublevel: this.imports });
  }
}

const EMPTY = Buffer.alloc(0);
