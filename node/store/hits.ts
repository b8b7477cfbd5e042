/**
 * The querier's kept hits and the changes seen to them. When a lookup's Fetch opens a hit, the node
 * keeps the entry's tag and metadata key (with the provider, category, key epoch and query id) for
 * its retention — never past the provider's key epoch. When a provider's filter delta removes a kept
 * tag, its sealed delisting notice (delisting.ts) is opened with the kept key and a change record is
 * appended: the querier learns of the delisting without asking again. The member's feedback reports
 * about kept hits queue here too until they are sent (docs/PROTOCOL.md "Feedback"). Records are sealed
 * at rest with AES-256-GCM under the member's journal key, bound to their key in the bucket.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { AbstractSublevel } from "abstract-level";
import { RiskshareError, assertArgument } from "../errors.ts";
import { feedbackMac, type FeedbackKind } from "../identity/index.ts";
import type { Logger } from "../logger.ts";
import { openDelisting } from "./delisting.ts";
import { JOURNAL_KEY_BYTES } from "./journal.ts";

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HIT_PREFIX = "hit:";
const CHANGE_PREFIX = "chg:";
const REPORT_PREFIX = "fb:";
const HIT_ID = /^[0-9a-f]{16}$/;

/** A hit as the lookup client hands it over. */
export interface KeptHit {
  providerAddress: string;
  categoryId: number;
  keyEpoch: number;
  /** 8 bytes. */
  tag: Uint8Array;
  /** 32 bytes: opens the entry's metadata and delisting notice. */
  metadataKey: Uint8Array;
  /** The lookup (Evaluate) query id that found it. */
  queryId: string;
  keptAtMs: number;
  /** The entry version the hit's sealed metadata was opened at (hits kept before feedback existed have none and cannot be reported). */
  version?: number;
}

/** A feedback report about a kept hit, queued until it is sent to the hit's provider. */
export interface QueuedReport {
  /** 16 hex digits. */
  reportId: string;
  /** The kept hit it is about. */
  hitId: string;
  providerAddress: string;
  categoryId: number;
  keyEpoch: number;
  /** 8 bytes, hex. */
  tag: string;
  version: number;
  kind: FeedbackKind;
  /** HMAC-SHA256 (identity/feedback.ts), hex. */
  mac: string;
  queuedAtMs: number;
  /** When the provider acknowledged the batch that carried it; undefined while queued. */
  sentAtMs?: number;
  /** The provider's answer to it: "accepted" or the code it refused it with. */
  outcome?: string;
  /** When its kind was counted in the ledger's weekly feedback counts (accepted reports only). */
  countedAtMs?: number;
}

/** A delisting of a kept hit, as `GET /v1/hits/changes` reports it. */
export interface HitChange {
  provider: string;
  category: number;
  queryId: string;
  /** Unix seconds, from the provider's notice. */
  delistedAt: number;
  reason: string;
  /** Unix milliseconds: when this node applied the delta. */
  seenAtMs: number;
}

/** A filter delta's removals of one provider's category, as FilterSync applied them. */
export interface AppliedRemovals {
  providerAddress: string;
  categoryId: number;
  keyEpoch: number;
  /** Removed tags, lower-case 0x-hex. */
  removes: readonly string[];
  /** Sealed notices by tag (lower-case 0x-hex). */
  notices: ReadonlyMap<string, Uint8Array>;
}

/** One stored record: sealed JSON. */
interface StoredRecord {
  sealed: string;
}

/** The sublevel of kept hits and changes (the hits bucket). */
export type HitsLevel = AbstractSublevel<any, any, string, StoredRecord>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Options of {@link KeptHits}. */
export interface KeptHitsOptions {
  /** The member's journal key (32 bytes). */
  key: Uint8Array;
  /** The chain id the providers' keys are bound to (delisting notices' associated data). */
  chainId: bigint;
}

/** A kept hit in memory, under its bucket key. */
interface HeldHit extends KeptHit {
  dbKey: string;
}

/** Kept hits (in memory too, loaded by `load`) and the change log. */
export class KeptHits {
  private readonly key: Uint8Array;
  private readonly chainId: bigint;
  private readonly db: HitsLevel;
  private readonly log: Logger;
  /** `provider/category` → tag (0x-hex) → the hits kept for it (several lookups may find one entry). */
  private readonly held = new Map<string, Map<string, HeldHit[]>>();

  constructor(opts: KeptHitsOptions, modules: { db: HitsLevel; logger: Logger }) {
    assertArgument(opts.key.length === JOURNAL_KEY_BYTES, `must be ${JOURNAL_KEY_BYTES} bytes`, "key");
    this.key = opts.key;
    this.chainId = opts.chainId;
    this.db = modules.db;
    this.log = modules.logger.child({ module: "store.hits" });
  }

  /** Reads the kept hits into memory; a record that does not open under this key is skipped (and logged). */
  async load(): Promise<number> {
    this.held.clear();
    let loaded = 0;
    for await (const [dbKey, record] of this.db.iterator({ gte: HIT_PREFIX, lt: `${HIT_PREFIX}\xff` })) {
      try {
        this.hold({ ...decodeHit(this.open(dbKey, record)), dbKey });
        loaded++;
      } catch {
        this.log.warn({ code: "E_JOURNAL_OPEN" }, "a kept hit does not open with this data dir's journal key; skipped");
      }
    }
    return loaded;
  }

  /** Keeps a hit (sealed at rest); returns its hit id (16 hex digits), what a feedback report names. */
  async keep(hit: KeptHit): Promise<string> {
    const hitId = randomBytes(8).toString("hex");
    const dbKey = `${HIT_PREFIX}${hit.keptAtMs.toString().padStart(15, "0")}:${hitId}`;
    await this.db.put(dbKey, this.seal(dbKey, encodeHit(hit)));
    this.hold({ ...hit, dbKey });
    return hitId;
  }

  /** The kept hit with this id, if it is still kept. */
  hit(hitId: string): KeptHit | undefined {
    if (!HIT_ID.test(hitId)) return undefined;
    for (const byTag of this.held.values()) for (const hits of byTag.values()) for (const hit of hits) if (hit.dbKey.endsWith(`:${hitId}`)) return hit;
    return undefined;
  }

  /**
   * Queues a report about a kept hit: its tag, version, key epoch and kind with a MAC under a key
   * expanded from the hit's metadata key (identity/feedback.ts). Only a kept hit can be reported
   * (E_FEEDBACK_UNKNOWN_HIT), once (E_FEEDBACK_DUPLICATE).
   */
  async queueReport(hitId: string, kind: FeedbackKind, nowMs: number): Promise<QueuedReport> {
    const hit = this.hit(hitId);
    if (hit === undefined || hit.version === undefined) {
      throw new RiskshareError("E_FEEDBACK_UNKNOWN_HIT", "this node keeps no reportable hit with that id", { hitId: HIT_ID.test(hitId) ? hitId : "(malformed)" });
    }
    if ((await this.reports()).some((r) => r.hitId === hitId)) throw new RiskshareError("E_FEEDBACK_DUPLICATE", "this hit already has a report", { hitId });
    const mac = feedbackMac(hit.metadataKey, { chainId: this.chainId, providerAddress: hit.providerAddress, keyEpoch: hit.keyEpoch }, hit.tag, {
      kind, categoryId: hit.categoryId, version: hit.version,
    });
    const report: QueuedReport = {
      reportId: randomBytes(8).toString("hex"), hitId, providerAddress: hit.providerAddress, categoryId: hit.categoryId, keyEpoch: hit.keyEpoch,
      tag: Buffer.from(hit.tag).toString("hex"), version: hit.version, kind, mac: Buffer.from(mac).toString("hex"), queuedAtMs: nowMs,
    };
    const dbKey = `${REPORT_PREFIX}${nowMs.toString().padStart(15, "0")}:${report.reportId}`;
    await this.db.put(dbKey, this.seal(dbKey, JSON.stringify(report)));
    return report;
  }

  /** Every report, queued or sent, oldest first. */
  async reports(): Promise<QueuedReport[]> {
    return (await this.reportRecords()).map(({ report }) => report);
  }

  /**
   * Marks reports sent with the provider's outcome of each (reportId → outcome), once: a report
   * already marked is left as it is. Returns how many were marked now.
   */
  async markSent(outcomes: ReadonlyMap<string, string>, sentAtMs: number): Promise<number> {
    const ops: Array<{ type: "put"; key: string; value: StoredRecord }> = [];
    for (const { dbKey, report } of await this.reportRecords()) {
      const outcome = outcomes.get(report.reportId);
      if (outcome === undefined || report.sentAtMs !== undefined) continue;
      ops.push({ type: "put", key: dbKey, value: this.seal(dbKey, JSON.stringify({ ...report, sentAtMs, outcome })) });
    }
    if (ops.length > 0) await this.db.batch(ops);
    return ops.length;
  }

  /** Marks sent reports counted on chain, once; returns how many were marked now. */
  async markCounted(reportIds: readonly string[], countedAtMs: number): Promise<number> {
    const wanted = new Set(reportIds);
    const ops: Array<{ type: "put"; key: string; value: StoredRecord }> = [];
    for (const { dbKey, report } of await this.reportRecords()) {
      if (!wanted.has(report.reportId) || report.sentAtMs === undefined || report.countedAtMs !== undefined) continue;
      ops.push({ type: "put", key: dbKey, value: this.seal(dbKey, JSON.stringify({ ...report, countedAtMs })) });
    }
    if (ops.length > 0) await this.db.batch(ops);
    return ops.length;
  }

  private async reportRecords(): Promise<Array<{ dbKey: string; report: QueuedReport }>> {
    const out: Array<{ dbKey: string; report: QueuedReport }> = [];
    for await (const [dbKey, record] of this.db.iterator({ gte: REPORT_PREFIX, lt: `${REPORT_PREFIX}\xff` })) {
      try {
        out.push({ dbKey, report: JSON.parse(this.open(dbKey, record)) as QueuedReport });
      } catch {
        this.log.warn({ code: "E_JOURNAL_OPEN" }, "a feedback report does not open with this data dir's journal key; skipped");
      }
    }
    return out;
  }

  /** How many hits are kept. */
  count(): number {
    let n = 0;
    for (const byTag of this.held.values()) for (const hits of byTag.values()) n += hits.length;
    return n;
  }

  /**
   * Tests a delta's removals against the kept hits of that provider and category: each kept tag
   * removed with a notice that opens under the kept key gives a change record, and the hit is no
   * longer kept. Hits of that provider and category under an older key epoch are dropped (the
   * provider rotated: its old tags will never be named again). Returns the changes appended.
   */
  async applyRemovals(removals: AppliedRemovals, seenAtMs: number): Promise<HitChange[]> {
    const byTag = this.held.get(heldKey(removals.providerAddress, removals.categoryId));
    if (byTag === undefined) return [];
    const stale: HeldHit[] = [];
    for (const hits of byTag.values()) for (const hit of hits) if (hit.keyEpoch < removals.keyEpoch) stale.push(hit);
    const changes: HitChange[] = [];
    const done: HeldHit[] = [...stale];
    const ops: Array<{ type: "put"; key: string; value: StoredRecord } | { type: "del"; key: string }> = [];
    for (const tag of removals.removes) {
      const hits = byTag.get(tag);
      if (hits === undefined) continue;
      const sealed = removals.notices.get(tag);
      for (const hit of hits) {
        if (hit.keyEpoch !== removals.keyEpoch) continue;
        done.push(hit);
        if (sealed === undefined) {
          this.log.info({ providerAddress: removals.providerAddress, categoryId: removals.categoryId }, "a kept hit was removed without a delisting notice");
          continue;
        }
        let notice;
        try {
          notice = openDelisting(sealed, hit.metadataKey, { chainId: this.chainId, providerAddress: removals.providerAddress, keyEpoch: hit.keyEpoch }, hit.tag);
        } catch (err) {
          // Another identifier's entry under a colliding tag, or an altered notice: nothing to report.
          this.log.info({ providerAddress: removals.providerAddress, categoryId: removals.categoryId, code: (err as RiskshareError).code }, "a delisting notice did not open; ignored");
          continue;
        }
        const change: HitChange = {
          provider: removals.providerAddress, category: removals.categoryId, queryId: hit.queryId, delistedAt: notice.delistedAtSec, reason: notice.reason, seenAtMs,
        };
        const changeKey = `${CHANGE_PREFIX}${seenAtMs.toString().padStart(15, "0")}:${randomBytes(8).toString("hex")}`;
        ops.push({ type: "put", key: changeKey, value: this.seal(changeKey, JSON.stringify(change)) });
        changes.push(change);
      }
    }
    if (done.length === 0) return changes;
    for (const hit of done) ops.push({ type: "del", key: hit.dbKey });
    await this.db.batch(ops);
    for (const hit of done) this.release(hit);
    return changes;
  }

  /** The change records seen at or after `sinceMs`, oldest first. */
  async changes(sinceMs = 0): Promise<HitChange[]> {
    const out: HitChange[] = [];
    for await (const [dbKey, record] of this.db.iterator({ gte: `${CHANGE_PREFIX}${Math.max(0, sinceMs).toString().padStart(15, "0")}`, lt: `${CHANGE_PREFIX}\xff` })) {
      try {
        out.push(JSON.parse(this.open(dbKey, record)) as HitChange);
      } catch {
        this.log.warn({ code: "E_JOURNAL_OPEN" }, "a hit change record does not open with this data dir's journal key; skipped");
      }
    }
    return out;
  }

  /** Deletes kept hits, change records and sent reports older than `beforeMs` (the retention limit); returns how many. */
  async sweep(beforeMs: number): Promise<number> {
    const limit = Math.max(0, beforeMs).toString().padStart(15, "0");
    const old: string[] = [];
    for (const prefix of [HIT_PREFIX, CHANGE_PREFIX]) {
      for await (const key of this.db.keys({ gte: prefix, lt: `${prefix}${limit}` })) old.push(key);
    }
    // A queued report stays until it is sent, whatever its age: it carries all it needs.
    for (const { dbKey, report } of await this.reportRecords()) if (report.sentAtMs !== undefined && report.sentAtMs < beforeMs) old.push(dbKey);
    if (old.length === 0) return 0;
    await this.db.batch(old.map((key) => ({ type: "del" as const, key })));
    const gone = new Set(old);
    for (const byTag of [...this.held.values()]) for (const hits of [...byTag.values()]) for (const hit of hits) if (gone.has(hit.dbKey)) this.release(hit);
    return old.length;
  }

  private hold(hit: HeldHit): void {
    const k = heldKey(hit.providerAddress, hit.categoryId);
    const tag = `0x${Buffer.from(hit.tag).toString("hex")}`;
    let byTag = this.held.get(k);
    if (byTag === undefined) this.held.set(k, (byTag = new Map()));
    const hits = byTag.get(tag);
    if (hits === undefined) byTag.set(tag, [hit]);
    else hits.push(hit);
  }

  private release(hit: HeldHit): void {
    const k = heldKey(hit.providerAddress, hit.categoryId);
    const tag = `0x${Buffer.from(hit.tag).toString("hex")}`;
    const byTag = this.held.get(k);
    const hits = byTag?.get(tag)?.filter((h) => h.dbKey !== hit.dbKey);
    if (byTag === undefined) return;
    if (hits === undefined || hits.length === 0) byTag.delete(tag);
    else byTag.set(tag, hits);
    if (byTag.size === 0) this.held.delete(k);
  }

  private seal(dbKey: string, plaintext: string): StoredRecord {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, nonce);
    cipher.setAAD(Buffer.from(dbKey, "utf8"));
    return { sealed: Buffer.concat([nonce, cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]).toString("base64") };
  }

  private open(dbKey: string, record: StoredRecord): string {
    const sealed = Buffer.from(record.sealed, "base64");
    const decipher = createDecipheriv("aes-256-gcm", this.key, sealed.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(dbKey, "utf8"));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString("utf8");
  }
}

/** The in-memory index key of a provider's category. */
function heldKey(providerAddress: string, categoryId: number): string {
  return `${providerAddress.toLowerCase()}/${categoryId}`;
}

function encodeHit(hit: KeptHit): string {
  return JSON.stringify({
    providerAddress: hit.providerAddress, categoryId: hit.categoryId, keyEpoch: hit.keyEpoch, queryId: hit.queryId, keptAtMs: hit.keptAtMs, version: hit.version,
    tag: Buffer.from(hit.tag).toString("hex"), metadataKey: Buffer.from(hit.metadataKey).toString("hex"),
  });
}

function decodeHit(json: string): KeptHit {
  const raw = JSON.parse(json) as Omit<KeptHit, "tag" | "metadataKey"> & { tag: string; metadataKey: string };
  return { ...raw, tag: new Uint8Array(Buffer.from(raw.tag, "hex")), metadataKey: new Uint8Array(Buffer.from(raw.metadataKey, "hex")) };
}
