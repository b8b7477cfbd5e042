/**
 * The provider side of `/riskshare/lookup/2`: one request frame in, one answer or error frame out.
 *
 * Checks, in this order, answering a typed error at the first failure (spec section 3):
 *   0. no regulator pauses the consortium's lookups                 E_CONSORTIUM_PAUSED (not recorded)
 *      the frame parses                                             E_PROTOCOL, E_FRAME_TOO_LARGE (not recorded)
 *      the peer's item bucket holds the items sent                  E_RATE_LIMITED (not recorded, no fsync)
 *   1. the remote PeerId belongs to an Active member                E_NOT_MEMBER (whatever the frame held)
 *   2. request.querier is that member and signed the request        E_BAD_SIGNATURE
 *   3. request.provider is this node                                E_BAD_REQUEST
 *   4. the deadline has not passed                                  E_EXPIRED
 *      nor lies more than maxDeadlineAheadSeconds ahead             E_BAD_REQUEST
 *      the nonce is a counter value 1 <= n < 2^64                   E_BAD_REQUEST
 *      and fresh in the querier's window (now marked seen)          E_REPLAY
 *      itemCount = elements (an allowed shape) or prefixes sent,
 *      the commitment opens, every element is a valid ristretto255
 *      encoding, a Fetch names one category and prefixes of at most
 *      the bucket bits                                              E_BAD_REQUEST
 *   5. an Evaluate's querier has credits (balance + overdraft on the
 *      QueryLedger) for its itemCount                               E_CREDITS_EXHAUSTED
 *   6. reciprocity and quota, counted per item                      E_RECIPROCITY, E_QUOTA, E_CATEGORY_UNKNOWN
 * then evaluates the batch under the current epoch's key (one proof; a large batch on the batch
 * evaluator's worker thread, so the event loop keeps answering) or reads the buckets, signs
 * the answer, appends the record (kind, keyEpoch, item count; no hits) and only after that append
 * resolved writes the answer (I-5). Every refusal of a parsed request within the peer's bucket is
 * recorded too, through the {@link RefusalFolder} (one record per outcome, peer and window, with a
 * count). Every record names the connected peer as its querier, never the message's claim, and
 * carries the digest of what the querier was sent (the LookupAnswer's answerDigest, or
 * refusalDigest of the error code).
 */
import { getBytes, hexlify } from "ethers";
import type { Connection, PeerId, Stream } from "@libp2p/interface";
import { hexToBytes } from "@noble/hashes/utils.js";
import { checksumAddress, isNonceValue, NONCE_WINDOW_BITS, nonceFromBytes32, QueryOutcome, refusalDigest, type QueryOutcomeCode } from "../../chain/index.ts";
import { exchangeSignal } from "../../deadline.ts";
import { isRiskshareError, RiskshareError, type ErrorCode } from "../../errors.ts";
import { readySodium } from "../../identity/index.ts";
import type { Logger } from "../../logger.ts";
import { RECIPROCITY_ERROR_CODES, reciprocityError, reciprocityOutcome } from "../../policy/index.ts";
import type { Clock } from "../components.ts";
import { toP2pError } from "../errors.ts";
import { decodeFrame, encodeFrame, errorReply, frameStream, readFrameBytes, writeFrameBytes, type ErrorFrame } from "../frames.ts";
import { secp256k1KeyOf, tryPeerIdToAddress } from "../identity.ts";
import { activeMember } from "../membership.ts";
import type { LookupComponents } from "./components.ts";
import { PeerItemBuckets, RefusalFolder } from "./flood.ts";
import { LookupKind, MAX_BUCKET_ENTRIES, type LookupKindCode } from "./constants.ts";
import {
  evaluateAnswerDigest, evaluateCommitment, fetchAnswerDigest, fetchCommitment, type LookupAnswer, type LookupRequest, type TagPrefix,
} from "../../chain/index.ts";
import { categoriesOfMask, encodeBucket, fromWirePrefix, fromWireRequest, lookupRequestFrame, lookupResponseFrame, type LookupResponseFrame } from "./messages.ts";
import type { LookupOptions } from "./options.ts";
import { bucketBits, isCanonicalPrefix, isEvaluateShape } from "./shapes.ts";
import type { LookupSigning } from "./signing.ts";

/** A request that passed the schema, with what the checks derive from it. */
interface ParsedRequest {
  queryId: string;
  digest: Uint8Array;
  request: LookupRequest;
  signature: string;
  elements: Uint8Array[] | undefined;
  prefixes: TagPrefix[] | undefined;
  salt: Uint8Array | undefined;
}

/** True when 32 bytes are a canonical ristretto255 encoding other than the identity (libsodium's check). */
type ElementCheck = (element: Uint8Array) => boolean;
let elementCheck: Promise<ElementCheck> | undefined;
function validElementCheck(): Promise<ElementCheck> {
  elementCheck ??= readySodium().then((sodium) => (element: Uint8Array) => element.some((b) => b !== 0) && sodium.crypto_core_ristretto255_is_valid_point(element));
  return elementCheck;
}

/** The sentence of E_CONSORTIUM_PAUSED, on both sides of a lookup. */
export function pausedMessage(pausedUntil: number): string {
  return `a regulator paused every lookup of the consortium until ${new Date(pausedUntil * 1000).toISOString()}; lookups resume then, or earlier after an Unpause vote`;
}

/** Answers lookup streams; {@link LookupService} registers {@link handle} for the protocol. */
export class LookupProvider {
  private readonly opts: LookupOptions;
  private readonly components: LookupComponents;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly signing: LookupSigning;
  private readonly buckets: PeerItemBuckets;
  /** Records refusals, folding repeats; {@link LookupService} flushes its closed windows. */
  readonly refusals: RefusalFolder;
  private readonly refusalDigests = new Map<string, string>();

  constructor(opts: LookupOptions, components: LookupComponents, clock: Clock, log: Logger, signing: LookupSigning) {
    this.opts = opts;
    this.components = components;
    this.clock = clock;
    this.log = log;
    this.signing = signing;
    this.buckets = new PeerItemBuckets({ itemsPerSecond: opts.peerItemsPerSecond, burstItems: opts.peerBurstItems });
    this.refusals = new RefusalFolder({ windowMs: opts.refusalFoldSeconds * 1_000 }, { outbox: components.outbox, logger: log });
  }

  /** Serves one inbound stream: never throws, never outlives `opts.timeoutMs` or `serviceSignal`. */
  async handle(stream: Stream, connection: Connection, serviceSignal: AbortSignal): Promise<void> {
    const deadline = exchangeSignal(this.opts.timeoutMs, [serviceSignal]);
    try {
      await this.serve(stream, connection, deadline.signal);
    } finally {
      deadline.dispose();
    }
  }

  private async serve(stream: Stream, connection: Connection, signal: AbortSignal): Promise<void> {
    const frames = frameStream(stream, this.opts.maxFrameBytes);
    const started = performance.now();
    let reply: LookupResponseFrame;
    try {
      const bytes = await readFrameBytes(frames, signal);
      reply = await this.respond(bytes, connection.remotePeer, signal);
    } catch (err) {
      const error = toP2pError(err, signal);
      if (error.code !== "E_FRAME_TOO_LARGE") {
        // Half a frame, a timeout or a reset: nobody is left to read a reply.
        this.log.info({ peerId: connection.remotePeer.toString(), code: error.code }, "lookup stream dropped");
        stream.abort(error);
        return;
      }
      reply = errorReply(error.code, error.message);
    }
    try {
      await writeFrameBytes(frames, encodeFrame(reply, lookupResponseFrame, this.opts.maxFrameBytes), signal);
      await stream.close({ signal });
    } catch (err) {
      stream.abort(toP2pError(err, signal));
    }
    this.log.debug({ ok: reply.ok, code: reply.ok ? undefined : reply.error.code, ms: Math.round(performance.now() - started) }, "lookup served");
  }

  /** The reply to one request frame from `remotePeer`. Throws only for a lost stream. */
  async respond(bytes: Uint8Array, remotePeer: PeerId, signal: AbortSignal): Promise<LookupResponseFrame> {
    const receivedAt = this.clock.nowSec();
    // 0. a regulator's pause stops every lookup, whoever asks; nothing is recorded (no request is served).
    const pausedUntil = this.components.pause?.pausedUntil(receivedAt);
    if (pausedUntil !== undefined) return errorReply("E_CONSORTIUM_PAUSED", pausedMessage(pausedUntil));
    // 1. an Active member? (checked before parsing; a refused but well-formed request is recorded)
    const member = activeMember(this.components.membership, remotePeer);
    // Attribution: the connected peer, authenticated by its PeerId, is the querier of every record.
    const peerAddress = member?.address ?? tryPeerIdToAddress(remotePeer);
    let parsed: ParsedRequest;
    try {
      parsed = this.parse(bytes);
    } catch (err) {
      if (member === undefined) return errorReply("E_NOT_MEMBER", "the peer is not an Active member");
      const error = isRiskshareError(err) ? err : new RiskshareError("E_PROTOCOL", "malformed request");
      return errorReply(tooManyItems(err) ? "E_FRAME_TOO_LARGE" : error.code, error.message);
    }
    if (peerAddress === undefined) return errorReply("E_NOT_MEMBER", "the peer is not an Active member");
    // 0. the peer's bucket, before any signature check, record or fsync
    const items = parsed.elements?.length ?? parsed.prefixes?.length ?? 1;
    if (!this.buckets.take(peerAddress, items, performance.now())) {
      const waitSeconds = this.buckets.secondsUntil(peerAddress, items);
      return errorReply("E_RATE_LIMITED", `this peer sent more than ${this.opts.peerItemsPerSecond} items a second (burst ${this.opts.peerBurstItems}); retry in ${waitSeconds} s with fewer items`);
    }
    const refuse = (outcome: QueryOutcomeCode, code: ErrorCode, message: string) => this.refuse(parsed, peerAddress, receivedAt, outcome, code, message);
    if (member === undefined) return refuse(QueryOutcome.DeniedNotMember, "E_NOT_MEMBER", "the peer is not an Active member");

    const { request, signature, queryId, digest } = parsed;
    const badRequest = (message: string) => refuse(QueryOutcome.DeniedBadRequest, "E_BAD_REQUEST", message);
    try {
      // 2. the connected member is the querier and signed this request
      if (checksumAddress(request.querier) !== member.address) {
        return refuse(QueryOutcome.DeniedBadSignature, "E_BAD_SIGNATURE", "the request's querier is not the connected peer");
      }
      const memberKey = secp256k1KeyOf(remotePeer);
      if (memberKey === undefined || !this.signing.isRequestSignedBy(digest, signature, memberKey)) {
        return refuse(QueryOutcome.DeniedBadSignature, "E_BAD_SIGNATURE", "the signature does not recover the querier");
      }
      // 3. addressed to this node
      if (checksumAddress(request.provider) !== this.signing.address) return badRequest("the request is addressed to another provider");
      // 4. fresh, unseen, of an allowed shape, and its items are the committed ones
      const now = BigInt(receivedAt);
      if (request.deadline < now) return refuse(QueryOutcome.DeniedExpired, "E_EXPIRED", "the request's deadline has passed");
      if (request.deadline > now + BigInt(this.opts.maxDeadlineAheadSeconds)) {
        return badRequest(`the deadline is more than ${this.opts.maxDeadlineAheadSeconds} s ahead`);
      }
      const nonce = nonceFromBytes32(request.nonce);
      if (!isNonceValue(nonce)) return badRequest("the nonce is not a counter value 1 <= n < 2^64");
      const verdict = await this.components.nonceGuard.accept(member.address, nonce);
      if (verdict !== "fresh") {
        return refuse(QueryOutcome.DeniedReplay, "E_REPLAY", verdict === "replay" ? "the request's nonce was seen before" : `the request's nonce is ${NONCE_WINDOW_BITS} or more below the highest seen from this querier`);
      }
      const categoryIds = categoriesOfMask(request.categoryMask);
      const problem = request.kind === LookupKind.Evaluate ? await this.evaluateProblem(parsed) : this.fetchProblem(parsed, categoryIds);
      if (problem !== undefined) return badRequest(problem);
      // 5. credits (an Evaluate's items are metered), checked before the quota counts this request
      if (request.kind === LookupKind.Evaluate && this.components.credits !== undefined) {
        const credits = await this.components.credits.covers(member.address, request.itemCount);
        if (!credits.allowed) {
          return refuse(QueryOutcome.DeniedCredits, "E_CREDITS_EXHAUSTED", `the querier's credits (balance + overdraft ${credits.available}) do not cover the ${request.itemCount} items of this request`);
        }
      }
      // 6. reciprocity, quota counted per item
      const decision = await this.components.reciprocity.decide(member.address, categoryIds, receivedAt, request.itemCount);
      if (!decision.allowed) {
        const error = reciprocityError(decision);
        return refuse(reciprocityOutcome(decision.reason), RECIPROCITY_ERROR_CODES[decision.reason], error.message);
      }
      signal.throwIfAborted();
      // 7. evaluate or fetch, 8. sign, 9. durable record BEFORE the answer leaves (I-5), 10. the caller writes it
      return request.kind === LookupKind.Evaluate
        ? await this.evaluate(parsed, receivedAt, signal)
        : await this.fetch(parsed, categoryIds[0]!, receivedAt, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      return this.failure(err, queryId);
    }
  }

  /** Why an Evaluate's elements are unacceptable, or undefined. */
  private async evaluateProblem(parsed: ParsedRequest): Promise<string | undefined> {
    const { request, elements } = parsed;
    if (elements === undefined || parsed.prefixes !== undefined || parsed.salt !== undefined) return "an Evaluate carries elements and no prefixes";
    if (request.itemCount !== elements.length) return "itemCount does not match the elements sent";
    if (!isEvaluateShape(elements.length)) return "the element count is not an allowed shape";
    if (evaluateCommitment(elements) !== request.itemsCommitment.toLowerCase()) return "the elements do not open the signed commitment";
    const valid = await validElementCheck();
    if (!elements.every(valid)) return "an element is not a valid ristretto255 encoding";
    return undefined;
  }

  /** Why a Fetch's prefixes are unacceptable, or undefined. */
  private fetchProblem(parsed: ParsedRequest, categoryIds: readonly number[]): string | undefined {
    const { request, prefixes } = parsed;
    if (prefixes === undefined || parsed.elements !== undefined || parsed.salt === undefined) return "a Fetch carries prefixes and a salt, and no elements";
    if (categoryIds.length !== 1) return "a Fetch names exactly one category";
    if (request.itemCount !== prefixes.length) return "itemCount does not match the prefixes sent";
    if (fetchCommitment(prefixes, parsed.salt) !== request.itemsCommitment.toLowerCase()) return "the prefixes do not open the signed commitment";
    if (!prefixes.every(isCanonicalPrefix)) return "a prefix has bits set below its length";
    const maxBits = bucketBits(this.components.snapshots.liveCount(this.signing.address, categoryIds[0]!) ?? 0);
    if (prefixes.some((prefix) => prefix.bits > maxBits)) return `a prefix is longer than this provider's ${maxBits} bucket bits`;
    return undefined;
  }

  private async evaluate(parsed: ParsedRequest, receivedAt: number, signal: AbortSignal): Promise<LookupResponseFrame> {
    const key = this.components.oprfKeys.current();
    const elements = parsed.elements!;
    const { batchEvaluator, voprf } = this.components;
    const { evaluatedElements, proof } = batchEvaluator === undefined
      ? voprf.blindEvaluateBatch(key.secretKey, key.publicKey, elements)
      : await batchEvaluator.evaluate(key.secretKey, key.publicKey, elements);
    signal.throwIfAborted();
    const answer: LookupAnswer = {
      queryId: parsed.queryId, provider: this.signing.address, keyEpoch: key.epoch, itemCount: elements.length,
      answerDigest: evaluateAnswerDigest(evaluatedElements, proof),
    };
    const answerSignature = await this.answered(parsed, answer, LookupKind.Evaluate, receivedAt, signal);
    return { ok: true, answer, answerSignature, evaluated: evaluatedElements.map((element) => hexlify(element)), proof: hexlify(proof) };
  }

  private async fetch(parsed: ParsedRequest, categoryId: number, receivedAt: number, signal: AbortSignal): Promise<LookupResponseFrame> {
    const prefixes = parsed.prefixes!;
    const key = this.components.oprfKeys.current();
    const buckets = await this.components.store.fetchBuckets(categoryId, prefixes, receivedAt);
    if (buckets.length !== prefixes.length) throw new RiskshareError("E_INTERNAL", "the store returned the wrong number of buckets", { prefixes: prefixes.length, buckets: buckets.length });
    // The bucket bits follow the live count on chain: a list grown far past its snapshot (a large import
    // not yet published) makes buckets too big to send. Refused before anything is signed or recorded.
    const largest = Math.max(0, ...buckets.map((bucket) => bucket.length));
    if (largest > MAX_BUCKET_ENTRIES) {
      this.log.warn({ categoryId, largest, max: MAX_BUCKET_ENTRIES }, "a fetch bucket is too large: the list outgrew its published snapshot; publish it (riskshare list publish)");
      return errorReply("E_SNAPSHOT_STALE", `this provider's list outgrew its published snapshot (a bucket of ${largest} entries, at most ${MAX_BUCKET_ENTRIES}); it answers again once it publishes`);
    }
    const answer: LookupAnswer = {
      queryId: parsed.queryId, provider: this.signing.address, keyEpoch: key.epoch, itemCount: prefixes.length,
      answerDigest: fetchAnswerDigest(buckets.map((bucket) => bucket.length)),
    };
    const answerSignature = await this.answered(parsed, answer, LookupKind.Fetch, receivedAt, signal);
    return {
      ok: true, answer, answerSignature,
      buckets: buckets.map((entries) => ({ entries: encodeBucket(entries) })),
    };
  }

  /** Signs the answer and appends its record; resolves only once the record is durable. */
  private async answered(parsed: ParsedRequest, answer: LookupAnswer, kind: LookupKindCode, receivedAt: number, signal: AbortSignal): Promise<string> {
    const answerSignature = await this.signing.signAnswer(answer);
    signal.throwIfAborted();
    const { queryId, request, signature } = parsed;
    await this.components.outbox.append({
      queryId, request, signature, outcome: QueryOutcome.Answered, kind, keyEpoch: answer.keyEpoch, itemCount: request.itemCount, receivedAt,
      count: 1, answerDigest: answer.answerDigest,
    });
    return answerSignature;
  }

  private parse(bytes: Uint8Array): ParsedRequest {
    const frame = decodeFrame(bytes, lookupRequestFrame);
    const request = fromWireRequest(frame.request);
    const { digest, queryId } = this.signing.requestDigest(request);
    return {
      request, signature: frame.signature, queryId, digest,
      elements: frame.elements?.map((hex) => hexToBytes(hex.slice(2))),
      prefixes: frame.prefixes?.map(fromWirePrefix),
      salt: frame.salt === undefined ? undefined : getBytes(frame.salt),
    };
  }

  /**
   * Records a refusal against the connected peer (folded with its recent refusals of the same
   * outcome), then returns its error frame; a full outbox turns it into E_BACKLOG.
   */
  private async refuse(parsed: ParsedRequest, peerAddress: string, receivedAt: number, outcome: QueryOutcomeCode, code: ErrorCode, message: string): Promise<ErrorFrame> {
    const { signature } = parsed;
    // A request claiming another querier is recorded as the connected peer's, under the id that gives.
    const claimed = checksumAddress(parsed.request.querier) === peerAddress;
    const request = claimed ? parsed.request : { ...parsed.request, querier: peerAddress };
    let queryId = parsed.queryId;
    try {
      if (!claimed) queryId = this.signing.requestDigest(request).queryId;
      await this.refusals.refuse({
        queryId, request, signature, outcome, kind: request.kind as LookupKindCode, keyEpoch: 0, itemCount: request.itemCount, receivedAt,
        count: 1, answerDigest: this.refusalDigestOf(code),
      }, performance.now());
    } catch (err) {
      return this.failure(err, queryId);
    }
    this.log.info({ queryId, querier: peerAddress, outcome, code }, "lookup refused");
    return errorReply(code, message);
  }

  private refusalDigestOf(code: string): string {
    let digest = this.refusalDigests.get(code);
    if (digest === undefined) this.refusalDigests.set(code, (digest = refusalDigest(code)));
    return digest;
  }

  /** The reply when a component failed: its own code for a RiskshareError (E_BACKLOG…), E_INTERNAL otherwise. */
  private failure(err: unknown, queryId: string): ErrorFrame {
    if (isRiskshareError(err)) {
      this.log.warn({ queryId, code: err.code }, "lookup failed");
      return errorReply(err.code, err.message);
    }
    this.log.error({ queryId, err }, "lookup failed unexpectedly");
    return errorReply("E_INTERNAL", "the provider failed to answer");
  }
}

/** True when a schema failure is only an over-long element or prefix list, or the count of one. */
function tooManyItems(err: unknown): boolean {
  return isRiskshareError(err, "E_PROTOCOL") && ["elements", "prefixes", "request.itemCount"].includes(String(err.meta.path)) && err.meta.issue === "too_big";
}
