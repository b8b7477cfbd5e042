/**
 * The querier side of `/riskshare/lookup/2`. Per provider: blind every item (and random padding up
 * to a fixed shape) under fresh blinds, send one signed Evaluate, verify the signature and the
 * batch proof against the provider's published key, derive each item's tag and test it against the
 * local copy of the provider's filter; on a filter hit, Fetch the tag's bucket (a prefix at the
 * provider's bucket bits) and open the matching entry's metadata. A failed opening or no matching
 * tag is a miss (a filter false positive). Without any filter hit a cover Fetch goes out with
 * probability `coverFetchRate`, at the moment a real Fetch would; the caller has its outcome
 * without waiting for that decoy's answer (see {@link AnsweredLookup.coverFetchQueryId}). Hits stay
 * here: nothing signed or recorded counts them.
 */
import type { Connection, DialTarget } from "@libp2p/interface";
import { hexToBytes } from "@noble/hashes/utils.js";
import { randomBytes, randomInt } from "node:crypto";
import { checksumAddress, nonceToBytes32 } from "../../chain/index.ts";
import { exchangeSignal } from "../../deadline.ts";
import { assertArgument, ERROR_HINTS, isRiskshareError, type ErrorCode } from "../../errors.ts";
import { expandEntryKeys, oprfInput, type BlindedInput } from "../../identity/index.ts";
import type { Logger } from "../../logger.ts";
import { isCategoryId } from "../../policy/index.ts";
import type { Clock } from "../components.ts";
import { knownCode, toP2pError } from "../errors.ts";
import { decodeFrame, encodeFrame, frameStream, readFrameBytes, writeFrameBytes } from "../frames.ts";
import { secp256k1KeyOf, tryPeerIdToAddress } from "../identity.ts";
import type { EntryMetadata, JournalSecrets, LookupComponents, QueryItem, SealedEntry } from "./components.ts";
import { LOOKUP_PROTOCOL, LookupKind, MAX_FETCH_PREFIXES, MAX_ITEMS_PER_REQUEST } from "./constants.ts";
import {
  evaluateAnswerDigest, evaluateCommitment, FETCH_SALT_BYTES, fetchAnswerDigest, fetchCommitment, type LookupAnswer, type LookupRequest, type TagPrefix,
} from "../../chain/index.ts";
import {
  decodeBucket, lookupRequestFrame, lookupResponseFrame, maskOfCategories, toWirePrefix, toWireRequest, type LookupRequestFrame, type LookupResponseFrame,
} from "./messages.ts";
import { metadataAssociatedData } from "../../store/index.ts";
import type { LookupOptions } from "./options.ts";
import { bucketBits, evaluateShape, prefixOfTag, tagHasPrefix } from "./shapes.ts";
import type { LookupSigning } from "./signing.ts";

const ITEM_TYPE = /^[a-z][a-z0-9_]{0,31}$/;
/** Bytes of a padding element's random input. */
const PADDING_INPUT_BYTES = 32;

/** What to ask one provider. */
export interface LookupQuery {
  /** The provider's EVM address: requests are signed for it, answers must be signed by it. */
  providerAddress: string;
  /** 1..1,000 identifiers (type and normalised value); they never leave this node. */
  items: QueryItem[];
  /** Category ids 1..63 to check the items against. */
  categoryIds: number[];
}

/** Per-call options of a lookup. */
export interface LookupCallOptions {
  signal?: AbortSignal;
  /** Overrides the service's clientTimeoutMs (the whole lookup: evaluate and fetches). */
  timeoutMs?: number;
  /** Overrides the service's coverFetchRate. */
  coverFetchRate?: number;
}

/** An item the provider does not list (or a filter false positive). */
export interface MissResult {
  hit: false;
}

/** An item the provider lists, with what its opened metadata says. */
export interface HitResult {
  hit: true;
  category: number;
  level: number;
  reason: string;
  reportedAt: number;
  expiresAt?: number;
  providerRef?: string;
  /** Distinct members that confirmed the entry (feedback), when any did. */
  confirmations?: number;
  /** When the provider received the last confirmation (unix seconds). */
  lastConfirmedAt?: number;
  /** The id this node keeps the hit under: what a feedback report names (POST /v1/feedback). */
  hitId?: string;
}

/** One item's result. */
export type LookupResult = MissResult | HitResult;

/** A verified answer: one result per item, in query order. */
export interface AnsweredLookup {
  status: "answered";
  providerAddress: string;
  /** The Evaluate's query id. */
  queryId: string;
  /** The key epoch the provider answered under. */
  keyEpoch: number;
  /** Query ids of the Fetches for filter hits: each answered, hence recorded by the provider, before this outcome. */
  fetchQueryIds: string[];
  /**
   * The cover Fetch sent after an Evaluate without any filter hit (with probability
   * coverFetchRate), if one was: signed and journaled before this outcome, its answer awaited in
   * the background (it is discarded anyway). It is on the provider's ledger once the provider
   * answers it — not if the provider goes away first. {@link LookupClient.idle} waits for it.
   */
  coverFetchQueryId?: string;
  results: LookupResult[];
}

/** No answer: the provider refused ("denied", its code), or the exchange failed or timed out. Never a miss. */
export interface FailedLookup {
  status: "denied" | "error" | "timeout";
  providerAddress: string;
  code: ErrorCode;
  message: string;
  queryId?: string;
}

/** The outcome of asking one provider. */
export type LookupOutcome = AnsweredLookup | FailedLookup;

/** A reason to stop asking this provider: becomes its FailedLookup. */
class Refused extends Error {
  constructor(readonly status: FailedLookup["status"], readonly code: ErrorCode, message: string, readonly queryId?: string) {
    super(message);
  }
}

/** Sends lookups; {@link LookupService.lookupPeer} delegates here. */
export class LookupClient {
  private readonly opts: LookupOptions;
  private readonly components: LookupComponents;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly signing: LookupSigning;
  private readonly perProvider = new Map<string, Semaphore>();
  /** Cover fetches whose answers are still awaited. */
  private readonly covers = new Set<Promise<void>>();

  constructor(opts: LookupOptions, components: LookupComponents, clock: Clock, log: Logger, signing: LookupSigning) {
    this.opts = opts;
    this.components = components;
    this.clock = clock;
    this.log = log;
    this.signing = signing;
  }

  private slots(providerAddress: string): Semaphore {
    let semaphore = this.perProvider.get(providerAddress);
    if (!semaphore) {
      semaphore = new Semaphore(this.opts.maxOutboundStreams);
      this.perProvider.set(providerAddress, semaphore);
    }
    return semaphore;
  }

  /** Resolves once every cover fetch sent so far has its answer, or has failed. */
  async idle(): Promise<void> {
    while (this.covers.size > 0) await Promise.allSettled([...this.covers]);
  }

  /** Asks one provider. Resolves with the outcome whatever happens on the wire; throws only E_BAD_INPUT for a malformed query. */
  async lookupPeer(peer: DialTarget, query: LookupQuery, opts: LookupCallOptions, serviceSignal: AbortSignal): Promise<LookupOutcome> {
    checkQuery(query);
    const providerAddress = checksumAddress(query.providerAddress);
    const deadline = exchangeSignal(opts.timeoutMs ?? this.opts.clientTimeoutMs, [serviceSignal, opts.signal]);
    const release = await this.slots(providerAddress).acquire(deadline.signal).catch(() => undefined);
    if (!release) {
      deadline.dispose();
      return { status: "timeout", providerAddress, code: "E_TIMEOUT", message: "no free stream to the provider before the timeout" };
    }
    let queryId: string | undefined;
    // A cover fetch in flight keeps the stream slot until its answer is in.
    let slotHandedOver = false;
    try {
      const connection = await this.components.dialer.dial(peer, { signal: deadline.signal });
      const providerKey = secp256k1KeyOf(connection.remotePeer);
      if (providerKey === undefined || tryPeerIdToAddress(connection.remotePeer) !== providerAddress) {
        return { status: "error", providerAddress, code: "E_PEER_UNREACHABLE", message: "the peer dialled is not the provider named" };
      }
      const ask = { connection, providerAddress, providerKey, signal: deadline.signal };
      const evaluated = await this.evaluate(ask, query, (id) => (queryId = id));
      const results: LookupResult[] = query.items.map(() => ({ hit: false }));
      const fetchQueryIds: string[] = [];
      const hitsByCategory = this.filterHits(providerAddress, query, evaluated);
      let coverFetchQueryId: string | undefined;
      if (hitsByCategory.size === 0) {
        coverFetchQueryId = await this.coverFetch(ask, query, evaluated.keyEpoch, opts.coverFetchRate ?? this.opts.coverFetchRate, serviceSignal, release);
        slotHandedOver = coverFetchQueryId !== undefined;
      }
      for (const [categoryId, itemIndexes] of hitsByCategory) {
        await this.fetchHits(ask, query, evaluated, categoryId, itemIndexes, results, fetchQueryIds);
      }
      return {
        status: "answered", providerAddress, queryId: evaluated.queryId, keyEpoch: evaluated.keyEpoch, fetchQueryIds,
        ...(coverFetchQueryId === undefined ? {} : { coverFetchQueryId }), results,
      };
    } catch (err) {
      if (err instanceof Refused) {
        return { status: err.status, providerAddress, code: err.code, message: err.message, ...(err.queryId ?? queryId ? { queryId: err.queryId ?? queryId } : {}) };
      }
      const error = toP2pError(err, deadline.signal);
      this.log.debug({ providerAddress, code: error.code }, "lookup failed");
      return { status: error.code === "E_TIMEOUT" ? "timeout" : "error", providerAddress, code: error.code, message: error.message, ...(queryId ? { queryId } : {}) };
    } finally {
      if (!slotHandedOver) release();
      deadline.dispose();
    }
  }

  /** The Evaluate: blinded items and padding out, verified outputs' entry keys back. */
  private async evaluate(ask: Ask, query: LookupQuery, onQueryId: (id: string) => void): Promise<Evaluated> {
    const { voprf } = this.components;
    const inputs = query.items.map((item) => oprfInput(item.type, item.value));
    const shape = evaluateShape(inputs.length)!;
    const paddingInputs = Array.from({ length: shape - inputs.length }, () => new Uint8Array(randomBytes(PADDING_INPUT_BYTES)));
    const allInputs = [...inputs, ...paddingInputs];
    // Fresh blinds for this provider and this request: no blinded element is ever sent twice.
    const blinded: BlindedInput[] = allInputs.map((input) => voprf.blind(input));
    const elements = blinded.map((b) => b.blindedElement);
    const request = await this.newRequest(ask.providerAddress, LookupKind.Evaluate, query.categoryIds, shape, evaluateCommitment(elements));
    const { queryId, signature } = await this.signing.signRequest(request);
    onQueryId(queryId);
    // Keep what opens the commitment before the request leaves.
    await this.components.journal.record(queryId, request, { items: query.items.map((item) => ({ ...item })), blinds: blinded.map((b) => b.blind), paddingInputs });
    const frame: LookupRequestFrame = { request: toWireRequest(request), signature, elements: elements.map(hex) };
    const reply = await this.exchange(ask, frame, queryId);
    if (!("evaluated" in reply)) throw new Refused("error", "E_PROTOCOL", "the provider answered an Evaluate with another kind of answer", queryId);
    const answer = await this.keepAnswer(ask, reply.answer, reply.answerSignature, queryId, shape);
    if (reply.evaluated.length !== shape) throw new Refused("error", "E_PROTOCOL", "the answer does not have one element per blinded element", queryId);
    const evaluatedElements = reply.evaluated.map(bytes);
    const proof = bytes(reply.proof);
    if (evaluateAnswerDigest(evaluatedElements, proof) !== answer.answerDigest.toLowerCase()) {
      throw new Refused("error", "E_PROTOCOL", "the elements and proof do not match the signed digest", queryId);
    }
    const publicKey = this.components.providerKeys.keyAt(ask.providerAddress, answer.keyEpoch);
    if (publicKey === undefined) throw new Refused("error", "E_OPRF_KEY_UNKNOWN", `no published OPRF key of epoch ${answer.keyEpoch} for the provider`, queryId);
    let outputs: Uint8Array[];
    try {
      // The proof covers the padding too; only the items' outputs are unblinded. A large batch is
      // finalized on the batch evaluator's worker thread, so this node's event loop keeps answering.
      const job = { inputs: allInputs, blinds: blinded.map((b) => b.blind), evaluatedElements, blindedElements: elements, proof, providerPublicKey: publicKey, outputs: inputs.length };
      const { batchEvaluator } = this.components;
      outputs = batchEvaluator === undefined
        ? voprf.finalizeBatch(job.inputs, job.blinds, job.evaluatedElements, job.blindedElements, job.proof, job.providerPublicKey, job.outputs)
        : await batchEvaluator.finalize(job);
    } catch (err) {
      if (isRiskshareError(err, "E_OPRF_PROOF") || isRiskshareError(err, "E_OPRF_ELEMENT")) {
        throw new Refused("error", "E_OPRF_PROOF", "the provider's answer failed its proof under its published key: discarded", queryId);
      }
      throw err;
    }
    const context = { chainId: this.opts.chainId, providerAddress: ask.providerAddress, keyEpoch: answer.keyEpoch };
    const keys = query.items.map((_, i) => {
      const { tag, metadataKey } = expandEntryKeys(outputs[i]!, context);
      return { tag, metadataKey };
    });
    return { queryId, keyEpoch: answer.keyEpoch, keys };
  }

  /** Items whose tag the local filter copy lists, per category; E_FILTER_MISSING when a filter is not held. */
  private filterHits(providerAddress: string, query: LookupQuery, evaluated: Evaluated): Map<number, number[]> {
    const hits = new Map<number, number[]>();
    for (const categoryId of query.categoryIds) {
      for (let i = 0; i < evaluated.keys.length; i += 1) {
        const listed = this.components.filters.contains(providerAddress, categoryId, evaluated.keyEpoch, evaluated.keys[i]!.tag);
        if (listed === undefined) {
          throw new Refused("error", "E_FILTER_MISSING", `no filter of the provider for category ${categoryId}, key epoch ${evaluated.keyEpoch}`, evaluated.queryId);
        }
        if (listed) hits.set(categoryId, [...(hits.get(categoryId) ?? []), i]);
      }
    }
    return hits;
  }

  /** Fetches the buckets of the hit items' tags in one category and opens the matching entries. */
  private async fetchHits(
    ask: Ask, query: LookupQuery, evaluated: Evaluated, categoryId: number, itemIndexes: readonly number[], results: LookupResult[], fetchQueryIds: string[],
  ): Promise<void> {
    const bits = bucketBits(this.components.snapshots.liveCount(ask.providerAddress, categoryId) ?? 0);
    const prefixes = new Map<string, TagPrefix>();
    for (const i of itemIndexes) {
      const prefix = prefixOfTag(evaluated.keys[i]!.tag, bits);
      prefixes.set(`${prefix.bits}/${prefix.value}`, prefix);
    }
    const unique = [...prefixes.values()];
    const nowSec = this.clock.nowSec();
    for (let start = 0; start < unique.length; start += MAX_FETCH_PREFIXES) {
      const chunk = unique.slice(start, start + MAX_FETCH_PREFIXES);
      const { queryId, buckets } = await this.fetch(ask, categoryId, chunk, evaluated.keyEpoch);
      fetchQueryIds.push(queryId);
      for (const i of itemIndexes) {
        if (results[i]!.hit) continue;
        const { tag, metadataKey } = evaluated.keys[i]!;
        const at = chunk.findIndex((prefix) => tagHasPrefix(tag, prefix));
        if (at < 0) continue;
        const opened = this.open(ask.providerAddress, evaluated.keyEpoch, query.items[i]!.type, categoryId, tag, metadataKey, buckets[at]!, nowSec);
        results[i] = opened.result;
        if (opened.result.hit) {
          const hitId = await this.keepHit(ask.providerAddress, categoryId, evaluated, tag, metadataKey, opened.version);
          if (hitId !== undefined) opened.result.hitId = hitId;
        }
      }
    }
  }

  /** Keeps an opened hit for recognising its delisting later (and for feedback); its id, if kept. A failure to keep it only logs (the answer stands). */
  private async keepHit(providerAddress: string, categoryId: number, evaluated: Evaluated, tag: Uint8Array, metadataKey: Uint8Array, version: number): Promise<string | undefined> {
    const keeper = this.components.hits;
    if (keeper === undefined) return undefined;
    try {
      return (await keeper.keep({ providerAddress, categoryId, keyEpoch: evaluated.keyEpoch, tag, metadataKey, queryId: evaluated.queryId, keptAtMs: this.clock.nowSec() * 1000, version })) ?? undefined;
    } catch (err) {
      this.log.warn({ providerAddress, categoryId, code: isRiskshareError(err) ? err.code : "E_INTERNAL" }, "an opened hit could not be kept; its delisting will not be reported");
      return undefined;
    }
  }

  /** The first entry of the bucket with this tag whose metadata opens and is live in the category; a miss otherwise. */
  private open(
    providerAddress: string, keyEpoch: number, type: string, categoryId: number, tag: Uint8Array, metadataKey: Uint8Array,
    entries: readonly SealedEntry[], nowSec: number,
  ): { result: LookupResult; version: number } {
    const wanted = Buffer.from(tag.buffer, tag.byteOffset, tag.byteLength);
    for (const entry of entries) {
      if (!wanted.equals(entry.tag)) continue;
      let metadata: EntryMetadata;
      try {
        const ad = metadataAssociatedData({ chainId: this.opts.chainId, providerAddress, keyEpoch }, type, entry.version, tag);
        metadata = this.components.metadata.open(entry.sealed, metadataKey, ad);
      } catch {
        continue; // another identifier's entry under a colliding tag, or a tampered one: not ours
      }
      if (metadata.categoryId !== categoryId) continue;
      if (metadata.expiresAtSec !== undefined && metadata.expiresAtSec <= nowSec) continue;
      const result: HitResult = {
        hit: true, category: metadata.categoryId, level: metadata.level, reason: metadata.reason, reportedAt: metadata.reportedAtSec,
        ...(metadata.expiresAtSec === undefined ? {} : { expiresAt: metadata.expiresAtSec }),
        ...(metadata.providerRef ? { providerRef: metadata.providerRef } : {}),
        ...(metadata.confirmations ? { confirmations: metadata.confirmations, lastConfirmedAt: metadata.lastConfirmedAtSec ?? 0 } : {}),
      };
      return { result, version: entry.version };
    }
    return { result: { hit: false }, version: 0 };
  }

  /**
   * With probability `rate`, one Fetch of a random prefix in a random asked category: signed and
   * journaled now, sent now (when a real Fetch would go), its answer checked and discarded in the
   * background under its own deadline; the stream slot `release` frees is freed when that ends.
   * Its query id, or undefined when none was sent (the caller then still holds the slot).
   */
  private async coverFetch(ask: Ask, query: LookupQuery, keyEpoch: number, rate: number, serviceSignal: AbortSignal, release: () => void): Promise<string | undefined> {
    if (!(rate > 0) || randomInt(0, 2 ** 32) >= rate * 2 ** 32) return undefined;
    const categoryId = query.categoryIds[randomInt(0, query.categoryIds.length)]!;
    const bits = bucketBits(this.components.snapshots.liveCount(ask.providerAddress, categoryId) ?? 0);
    let prepared: PreparedFetch;
    try {
      prepared = await this.prepareFetch(ask.providerAddress, categoryId, [prefixOfTag(new Uint8Array(randomBytes(8)), bits)]);
    } catch (err) {
      // A cover fetch carries nothing of ours: its failure changes no result.
      this.log.debug({ providerAddress: ask.providerAddress, code: toP2pError(err).code }, "cover fetch not sent");
      return undefined;
    }
    const deadline = exchangeSignal(this.opts.clientTimeoutMs, [serviceSignal]);
    const answered: Promise<void> = this.sendFetch({ ...ask, signal: deadline.signal }, prepared, keyEpoch).then(
      () => undefined,
      (err: unknown) => {
        const code = err instanceof Refused ? err.code : toP2pError(err, deadline.signal).code;
        this.log.debug({ providerAddress: ask.providerAddress, queryId: prepared.queryId, code }, "cover fetch failed");
      },
    ).finally(() => {
      deadline.dispose();
      release();
      this.covers.delete(answered);
    });
    this.covers.add(answered);
    return prepared.queryId;
  }

  /** One Fetch: signed, journaled, verified. */
  private async fetch(ask: Ask, categoryId: number, prefixes: TagPrefix[], keyEpoch: number): Promise<{ queryId: string; buckets: SealedEntry[][] }> {
    const prepared = await this.prepareFetch(ask.providerAddress, categoryId, prefixes);
    return { queryId: prepared.queryId, buckets: await this.sendFetch(ask, prepared, keyEpoch) };
  }

  /** A Fetch request signed, and journaled with what opens its commitment, before it leaves. */
  private async prepareFetch(providerAddress: string, categoryId: number, prefixes: TagPrefix[]): Promise<PreparedFetch> {
    const salt = new Uint8Array(randomBytes(FETCH_SALT_BYTES));
    const request = await this.newRequest(providerAddress, LookupKind.Fetch, [categoryId], prefixes.length, fetchCommitment(prefixes, salt));
    const { queryId, signature } = await this.signing.signRequest(request);
    const secrets: JournalSecrets = { items: [], blinds: [], paddingInputs: [], prefixes, salt };
    await this.components.journal.record(queryId, request, secrets);
    return { queryId, request, signature, prefixes, salt };
  }

  /** Sends a prepared Fetch and verifies its answer: its buckets, one per prefix. */
  private async sendFetch(ask: Ask, prepared: PreparedFetch, keyEpoch: number): Promise<SealedEntry[][]> {
    const { queryId, request, signature, prefixes, salt } = prepared;
    const reply = await this.exchange(ask, { request: toWireRequest(request), signature, prefixes: prefixes.map(toWirePrefix), salt: hex(salt) }, queryId);
    if (!("buckets" in reply)) throw new Refused("error", "E_PROTOCOL", "the provider answered a Fetch with another kind of answer", queryId);
    const answer = await this.keepAnswer(ask, reply.answer, reply.answerSignature, queryId, prefixes.length);
    if (reply.buckets.length !== prefixes.length) throw new Refused("error", "E_PROTOCOL", "the answer does not have one bucket per prefix", queryId);
    const buckets = reply.buckets.map(decodeBucket);
    if (fetchAnswerDigest(buckets.map((entries) => entries.length)) !== answer.answerDigest.toLowerCase()) {
      throw new Refused("error", "E_PROTOCOL", "the buckets do not match the signed digest", queryId);
    }
    // Keys rotated between our Evaluate and this Fetch: the tags no longer match; retry the lookup.
    if (answer.keyEpoch !== keyEpoch) throw new Refused("error", "E_PROTOCOL", "the provider changed key epoch between evaluate and fetch; retry", queryId);
    return buckets;
  }

  /**
   * {@link checkAnswer}, then the signed answer kept in the journal beside its query: whatever the
   * provider later records, the querier holds what it signed (`audit verify` compares the two). Kept
   * before the answer's contents are checked against its digest: a provider that signs a digest its
   * elements do not match has still signed it.
   */
  private async keepAnswer(ask: Ask, answer: LookupAnswer, answerSignature: string, queryId: string, itemCount: number): Promise<LookupAnswer> {
    const checked = this.checkAnswer(ask, answer, answerSignature, queryId, itemCount);
    await this.components.journal.recordAnswer(queryId, checked, answerSignature);
    return checked;
  }

  /** The answer is the provider's, for this query, of this size: or the lookup stops. */
  private checkAnswer(ask: Ask, answer: LookupAnswer, answerSignature: string, queryId: string, itemCount: number): LookupAnswer {
    if (answer.queryId.toLowerCase() !== queryId) throw new Refused("error", "E_PROTOCOL", "the answer is for another query", queryId);
    if (checksumAddress(answer.provider) !== ask.providerAddress) throw new Refused("error", "E_BAD_SIGNATURE", "the answer names another provider", queryId);
    if (!this.signing.isAnswerSignedBy(answer, answerSignature, ask.providerKey)) throw new Refused("error", "E_BAD_SIGNATURE", "the answer is not signed by the provider", queryId);
    if (answer.itemCount !== itemCount) throw new Refused("error", "E_PROTOCOL", "the signed item count is not the request's", queryId);
    return answer;
  }

  /** One request frame out, one reply frame in, on a new stream; a refusal becomes a Refused. */
  private async exchange(ask: Ask, frame: LookupRequestFrame, queryId: string): Promise<Exclude<LookupResponseFrame, { ok: false }>> {
    const bytesOut = encodeFrame(frame, lookupRequestFrame, this.opts.maxFrameBytes);
    let stream;
    try {
      stream = await ask.connection.newStream(LOOKUP_PROTOCOL, { signal: ask.signal, maxOutboundStreams: this.opts.maxOutboundStreams });
    } catch (err) {
      if ((err as { name?: string }).name === "UnsupportedProtocolError") {
        throw new Refused("error", "E_PROTOCOL_VERSION", `the provider does not speak ${LOOKUP_PROTOCOL}`, queryId);
      }
      throw err;
    }
    let reply: LookupResponseFrame;
    try {
      const frames = frameStream(stream, this.opts.maxFrameBytes);
      await writeFrameBytes(frames, bytesOut, ask.signal);
      reply = decodeFrame(await readFrameBytes(frames, ask.signal), lookupResponseFrame);
      await stream.close({ signal: ask.signal });
    } catch (err) {
      stream.abort(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    if (!reply.ok) throw new Refused("denied", knownCode(reply.error.code, ERROR_HINTS), reply.error.message, queryId);
    return reply;
  }

  /** A request to `providerAddress` under the next value of this node's nonce counter for it. */
  private async newRequest(providerAddress: string, kind: LookupRequest["kind"], categoryIds: readonly number[], itemCount: number, itemsCommitment: string): Promise<LookupRequest> {
    const nonce = await this.components.nonceSource.next(providerAddress);
    return {
      querier: this.signing.address, provider: providerAddress, kind, categoryMask: maskOfCategories(categoryIds), itemCount, itemsCommitment,
      nonce: nonceToBytes32(nonce), deadline: BigInt(this.clock.nowSec() + this.opts.requestTtlSeconds),
    };
  }
}

/** One provider being asked. */
interface Ask {
  connection: Connection;
  providerAddress: string;
  providerKey: Uint8Array;
  signal: AbortSignal;
}

/** A Fetch signed and journaled, not yet sent. */
interface PreparedFetch {
  queryId: string;
  request: LookupRequest;
  signature: string;
  prefixes: TagPrefix[];
  salt: Uint8Array;
}

/** A verified Evaluate: per real item, its tag and metadata key under the answer's epoch. */
interface Evaluated {
  queryId: string;
  keyEpoch: number;
  keys: { tag: Uint8Array; metadataKey: Uint8Array }[];
}

/** Refuses a query this protocol cannot carry (E_BAD_INPUT). */
export function checkQuery(query: LookupQuery): void {
  assertArgument(/^0x[0-9a-fA-F]{40}$/.test(query.providerAddress), "must be an EVM address", "providerAddress");
  assertArgument(query.items.length >= 1 && query.items.length <= MAX_ITEMS_PER_REQUEST, `must hold 1..${MAX_ITEMS_PER_REQUEST} items`, "items");
  assertArgument(query.items.every((item) => ITEM_TYPE.test(item.type) && typeof item.value === "string" && item.value.length > 0), "each item needs a type and a normalised value", "items");
  assertArgument(query.categoryIds.length >= 1 && query.categoryIds.every(isCategoryId), "must hold category ids in 1..63", "categoryIds");
}

function hex(value: Uint8Array): string {
  return `0x${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex")}`;
}

function bytes(value: string): Uint8Array {
  return hexToBytes(value.slice(2));
}

/** A counting semaphore whose waiters give up when their signal aborts. */
class Semaphore {
  private free: number;
  private readonly waiters: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  /** Resolves with a release function once a slot is free; rejects if `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<() => void> {
    const release = () => {
      const next = this.waiters.shift();
      if (next) next();
      else this.free++;
    };
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(once(release));
    }
    return new Promise((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener("abort", onAbort);
        resolve(once(release));
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(grant);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal.reason);
      };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(grant);
    });
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      fn();
    }
  };
}
