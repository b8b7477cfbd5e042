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
  encodeCategoryValue,
  encodeU48,
  entryValueCategory,
  entryValueExpiry,
} from "./codec.ts";
import { PresenceFilter } from "./presence.ts";
import type { AuditRecord, ImportCheckpoint } from "./records.ts";

/** The root database: buffer keys and values unless a sublevel says otherwise. */
export type Db = Level<Buffer, Buffer>;
/** One atomic write. */
export type Batch = AbstractChainedBatch<Db, Buffer, Buffer>;
type Sub<K, V> = AbstractSublevel<Db, string | Buffer | Uint8Array, K, V>;

/**
 * Entries with their category and expiry indexes, kept in step.
 *
 * Hot paths (imports) address the root database with keys that already carry the sublevel
 * prefix, built in one allocation: the same bytes the sublevels read, without a copy per key and
 * operation. Callers hold such "db keys" for entries; {@link entryKeyOf} strips the prefix.
 */
export class EntryRepository {
  readonly entries: Sub<Buffer, Buffer>;
  readonly byCategory: Sub<Buffer, Buffer>;
  readonly byExpiry: Sub<Buffer, Buffer>;
  readonly #db: Db;
  readonly #entryPrefix: Buffer;
  readonly #categoryPrefix: Buffer;
  readonly #expiryPrefix: Buffer;

  constructor(db: Db) {
    const buffers = { keyEncoding: "buffer", valueEncoding: "buffer" } as const;
    this.#db = db;
    this.entries = db.sublevel<Buffer, Buffer>(Bucket.entries, buffers);
    this.byCategory = db.sublevel<Buffer, Buffer>(Bucket.byCategory, buffers);
    this.byExpiry = db.sublevel<Buffer, Buffer>(Bucket.byExpiry, buffers);
    this.#entryPrefix = prefixOf(this.entries);
    this.#categoryPrefix = prefixOf(this.byCategory);
    this.#expiryPrefix = prefixOf(this.byExpiry);
  }

  /** The db key of an entry: sublevel prefix + [typeCode][hash]. */
  dbKey(typeCode: number, hash: Uint8Array): Buffer {
    const p = this.#entryPrefix.length;
    const key = Buffer.allocUnsafe(p + ENTRY_KEY_BYTES);
    this.#entryPrefix.copy(key, 0);
    key[p] = typeCode;
    key.set(hash, p + 1);
    return key;
  }

  /** The db key of an entry key ([typeCode][hash]). */
  dbKeyOf(entryKey: Uint8Array): Buffer {
    return this.dbKey(entryKey[0]!, entryKey.subarray(1, ENTRY_KEY_BYTES));
  }

  /** The entry key ([typeCode][hash]) inside a db key (a view, not a copy). */
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
  queueAdd(batch: Batch, dbKey: Buffer, value: Buffer, categoryId: number, expiresAtSec: number | undefined): void {
    batch.put(dbKey, value);
    batch.put(this.#categoryKey(categoryId, dbKey), encodeCategoryValue(expiresAtSec));
    if (expiresAtSec !== undefined) batch.put(this.#expiryKey(expiresAtSec, dbKey), EMPTY);
  }

  /** Queues the replacement of `previous` by `value`, moving index records as needed. */
  queueReplace(batch: Batch, dbKey: Buffer, previous: Buffer, value: Buffer, categoryId: number, expiresAtSec: number | undefined): void {
    const oldCategory = entryValueCategory(previous);
    const oldExpiry = entryValueExpiry(previous);
    batch.put(dbKey, value);
    if (oldCategory !== categoryId) batch.del(this.#categoryKey(oldCategory, dbKey));
    if (oldCategory !== categoryId || oldExpiry !== expiresAtSec) batch.put(this.#categoryKey(categoryId, dbKey), encodeCategoryValue(expiresAtSec));
    if (oldExpiry !== expiresAtSec) {
      if (oldExpiry !== undefined) batch.del(this.#expiryKey(oldExpiry, dbKey));
      if (expiresAtSec !== undefined) batch.put(this.#expiryKey(expiresAtSec, dbKey), EMPTY);
    }
  }

  /** Queues the deletion of an entry whose current value is `previous`, with its index records. */
  queueDelete(batch: Batch, dbKey: Buffer, previous: Buffer): void {
    batch.del(dbKey);
    batch.del(this.#categoryKey(entryValueCategory(previous), dbKey));
    const expiry = entryValueExpiry(previous);
    if (expiry !== undefined) batch.del(this.#expiryKey(expiry, dbKey));
  }

  /** Queues the deletion of a stray expiry index record (its key as the sublevel returns it). */
  queueDeleteExpiryRecord(batch: Batch, expiryKey: Buffer): void {
    batch.del(expiryKey, { sublevel: this.byExpiry });
  }

  #categoryKey(categoryId: number, dbKey: Buffer): Buffer {
    const p = this.#categoryPrefix.length;
    const key = Buffer.allocUnsafe(p + 1 + ENTRY_KEY_BYTES);
    this.#categoryPrefix.copy(key, 0);
    key[p] = categoryId;
    dbKey.copy(key, p + 1, this.#entryPrefix.length);
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

/** The bytes a sublevel puts before each of its keys. */
function prefixOf(sublevel: Sub<Buffer, Buffer>): Buffer {
  return Buffer.from(sublevel.prefixKey(Buffer.alloc(0), "buffer", false));
}

const SCHEMA_VERSION_KEY = "schemaVersion";
const PEPPER_EPOCH_KEY = "pepperEpoch";
const COUNT_PREFIX = "count/";

/** Schema version, pepper epoch and the entry count per category. */
export class MetaRepository {
  readonly meta: Sub<string, unknown>;

  constructor(db: Db) {
    this.meta = db.sublevel<string, unknown>(Bucket.meta, { keyEncoding: "utf8", valueEncoding: "json" });
  }

  async schemaVersion(): Promise<number | undefined> {
    return (await this.meta.get(SCHEMA_VERSION_KEY)) as number | undefined;
  }

  async pepperEpoch(): Promise<number | undefined> {
    return (await this.meta.get(PEPPER_EPOCH_KEY)) as number | undefined;
  }

  queueSchemaVersion(batch: Batch, version: number): void {
    batch.put(SCHEMA_VERSION_KEY, version, { sublevel: this.meta });
  }

  queuePepperEpoch(batch: Batch, epoch: number): void {
    batch.put(PEPPER_EPOCH_KEY, epoch, { sublevel: this.meta });
  }

  /** Stored entry count per category id. */
  async counts(): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for await (const [key, value] of this.meta.iterator({ gt: COUNT_PREFIX, lt: `${COUNT_PREFIX}\uffff` })) {
      counts.set(Number(key.slice(COUNT_PREFIX.length)), value as number);
    }
    return counts;
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
