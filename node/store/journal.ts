/**
 * The querier's journal of the queries it sent: the public fields of each signed request in the
 * clear, and what opens its commitment — the identifiers asked, the blinds, the padding inputs,
 * the fetched prefixes — sealed with AES-256-GCM under the member's local journal key
 * (keys/journal.key), bound to the query id. Entries older than the retention limit are deleted
 * by housekeeping. Only this member's compliance officer, holding the data dir, can open one.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import type { AbstractSublevel } from "abstract-level";
import type { HeldAnswer, KeptSecrets, LookupAnswer, LookupRequest } from "../chain/index.ts";
import { RiskshareError, assertArgument } from "../errors.ts";

/** AES-256-GCM nonce and tag lengths, in bytes. */
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Length of the journal key, in bytes. */
export const JOURNAL_KEY_BYTES = 32;

/** The signed request of a sent query (public: it goes on chain). */
export type JournalRequest = LookupRequest;

/** What opens a query's commitment (identifiers, blinds of items then padding, padding inputs, a fetch's prefixes and salt): secret, sealed in the journal. */
export type JournalSecrets = KeptSecrets;

/** One journal record as stored (and served by GET /v1/queries/{id}): the secrets stay sealed. */
export interface JournalEntry {
  queryId: string;
  provider: string;
  querier: string;
  kind: number;
  categoryMask: string;
  itemCount: number;
  itemsCommitment: string;
  nonce: string;
  deadline: string;
  sentAtMs: number;
  /** AES-256-GCM(journal key, secrets as JSON; associated data = the query id): nonce ‖ ciphertext ‖ tag, 0x-hex. */
  sealed: string;
  /**
   * The LookupAnswer the provider signed and sent (not secret: its fields go on chain), once its
   * signature checked; absent for a query refused, failed or unanswered. `audit verify` holds the
   * provider's record against it.
   */
  answer?: JournalAnswer;
  /** The provider's EIP-712 signature of `answer` (65-byte form, 0x-hex). */
  answerSignature?: string;
}

/** A LookupAnswer as the journal stores it (JSON: numbers as numbers, hex as text). */
export type JournalAnswer = LookupAnswer;

/** The sublevel of the query journal: key = query id. */
export type JournalLevel = AbstractSublevel<any, any, string, JournalEntry>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Options of {@link QueryJournal}. */
export interface QueryJournalOptions {
  /** The member's journal key (32 bytes); without it the journal can list but neither record nor open. */
  key?: Uint8Array | undefined;
}

/** The querier's journal of sent queries (QUERIES sublevel). */
export class QueryJournal {
  private readonly db: JournalLevel;
  private readonly key: Uint8Array | undefined;

  constructor(opts: QueryJournalOptions, modules: { db: JournalLevel }) {
    if (opts.key !== undefined) assertArgument(opts.key.length === JOURNAL_KEY_BYTES, `must be ${JOURNAL_KEY_BYTES} bytes`, "key");
    this.key = opts.key;
    this.db = modules.db;
  }

  /** Records a query before it is sent, its secrets sealed. */
  async record(queryId: string, request: JournalRequest, secrets: JournalSecrets, sentAtMs = Date.now()): Promise<void> {
    const id = queryId.toLowerCase();
    await this.db.put(id, {
      queryId: id, provider: request.provider, querier: request.querier, kind: request.kind, categoryMask: request.categoryMask.toString(),
      itemCount: request.itemCount, itemsCommitment: request.itemsCommitment, nonce: request.nonce, deadline: request.deadline.toString(),
      sentAtMs, sealed: sealSecrets(this.requireKey(), id, secrets),
    });
  }

  /**
   * Keeps the provider's signed answer beside the query it answers (the caller has checked the
   * signature). An answer to a query the journal does not hold (swept) is not kept: it follows the
   * query's retention.
   */
  async recordAnswer(queryId: string, answer: LookupAnswer, answerSignature: string): Promise<void> {
    const id = queryId.toLowerCase();
    const entry = await this.db.get(id);
    if (entry === undefined) return;
    const kept: JournalAnswer = { queryId: answer.queryId.toLowerCase(), provider: answer.provider, keyEpoch: answer.keyEpoch, itemCount: answer.itemCount, answerDigest: answer.answerDigest };
    await this.db.put(id, { ...entry, answer: kept, answerSignature });
  }

  /** Every provider-signed answer the journal holds, for `verifyLedger`. */
  async heldAnswers(): Promise<HeldAnswer[]> {
    const held: HeldAnswer[] = [];
    for await (const entry of this.db.values()) {
      if (entry.answer !== undefined && entry.answerSignature !== undefined) held.push({ answer: entry.answer, answerSignature: entry.answerSignature });
    }
    return held;
  }

  /** The journal record of a query this node sent, if any (secrets still sealed). */
  async get(queryId: string): Promise<JournalEntry | undefined> {
    return this.db.get(queryId.toLowerCase());
  }

  /** Deletes the records of queries sent before `beforeMs` (the retention limit); returns how many. */
  async sweep(beforeMs: number): Promise<number> {
    const old: string[] = [];
    for await (const [id, entry] of this.db.iterator()) if (entry.sentAtMs < beforeMs) old.push(id);
    if (old.length > 0) await this.db.batch(old.map((key) => ({ type: "del" as const, key })));
    return old.length;
  }

  /** How many queries the journal holds. */
  async count(): Promise<number> {
    let n = 0;
    for await (const _key of this.db.keys()) n++;
    return n;
  }

  private requireKey(): Uint8Array {
    if (this.key === undefined) throw new RiskshareError("E_INTERNAL", "the query journal was opened without the journal key");
    return this.key;
  }
}

/** Seals a query's secrets under the journal key (nonce ‖ ciphertext ‖ tag, 0x-hex). */
export function sealSecrets(key: Uint8Array, queryId: string, secrets: JournalSecrets): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(Buffer.from(queryId.toLowerCase(), "utf8"));
  const plaintext = Buffer.from(JSON.stringify({
    items: secrets.items,
    blinds: secrets.blinds.map((b) => Buffer.from(b).toString("hex")),
    paddingInputs: secrets.paddingInputs.map((p) => Buffer.from(p).toString("hex")),
    ...(secrets.prefixes === undefined ? {} : { prefixes: secrets.prefixes.map((p) => ({ bits: p.bits, value: p.value.toString() })) }),
    ...(secrets.salt === undefined ? {} : { salt: Buffer.from(secrets.salt).toString("hex") }),
  }), "utf8");
  const sealed = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `0x${sealed.toString("hex")}`;
}

/** Opens a journal record's secrets with the journal key; E_JOURNAL_OPEN when the key or the record is not the right one. */
export function openSecrets(key: Uint8Array, entry: Pick<JournalEntry, "queryId" | "sealed">): JournalSecrets {
  try {
    const sealed = Buffer.from(entry.sealed.replace(/^0x/, ""), "hex");
    const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, NONCE_BYTES));
    decipher.setAAD(Buffer.from(entry.queryId.toLowerCase(), "utf8"));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    const plaintext = Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
    const raw = JSON.parse(plaintext.toString("utf8")) as { items: JournalSecrets["items"]; blinds: string[]; paddingInputs: string[]; prefixes?: { bits: number; value: string }[]; salt?: string };
    return {
      items: raw.items,
      blinds: raw.blinds.map((b) => new Uint8Array(Buffer.from(b, "hex"))),
      paddingInputs: raw.paddingInputs.map((p) => new Uint8Array(Buffer.from(p, "hex"))),
      ...(raw.prefixes === undefined ? {} : { prefixes: raw.prefixes.map((p) => ({ bits: p.bits, value: BigInt(p.value) })) }),
      ...(raw.salt === undefined ? {} : { salt: new Uint8Array(Buffer.from(raw.salt, "hex")) }),
    };
  } catch (err) {
    throw new RiskshareError("E_JOURNAL_OPEN", "this query's journal record does not open with this data dir's journal key", { queryId: entry.queryId }, { cause: err });
  }
}
