/**
 * The provider side of `/riskshare/lookup/1`: one request frame in, one answer or error frame out.
 *
 * Checks, in this order, answering a typed error at the first failure (DESIGN "The lookup protocol"):
 *   1. the remote PeerId belongs to an Active member                E_NOT_MEMBER (whatever the frame held)
 *      and the frame parses                                         E_PROTOCOL, E_FRAME_TOO_LARGE (not recorded)
 *   2. request.querier is that member                               E_BAD_SIGNATURE
 *      and the signature recovers the member's key                  E_BAD_SIGNATURE
 *   3. request.provider is this node                                E_BAD_REQUEST
 *   4. the deadline has not passed                                  E_EXPIRED
 *      nor lies more than maxDeadlineAheadSeconds ahead             E_BAD_REQUEST
 *      the nonce is unseen (and is remembered now)                  E_REPLAY
 *      itemCount is the number of items sent                        E_BAD_REQUEST
 *      the items open the signed itemsCommitment                    E_BAD_REQUEST
 *   5. reciprocity allows it                                        E_RECIPROCITY, E_QUOTA, E_CATEGORY_UNKNOWN
 * then looks the items up, signs the answer, appends the record to the outbox and only after
 * that append resolved writes the answer (I-5). Every refusal of a parsed request is recorded too.
 */
import type { Connection, PeerId, Stream } from "@libp2p/interface";
import { checksumAddress, QueryOutcome, type LookupRequest, type QueryOutcomeCode } from "../../chain/index.ts";
import { isRiskshareError, RiskshareError, type ErrorCode } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import { RECIPROCITY_ERROR_CODES, reciprocityError, reciprocityOutcome } from "../../policy/index.ts";
import type { Clock } from "../components.ts";
import { exchangeSignal } from "../../deadline.ts";
import { toP2pError } from "../errors.ts";
import { decodeFrame, encodeFrame, errorReply, frameStream, readFrameBytes, writeFrameBytes, type ErrorFrame } from "../frames.ts";
import { secp256k1KeyOf } from "../identity.ts";
import { activeMember } from "../membership.ts";
import type { LookupComponents } from "./components.ts";
import {
  categoriesOfMask, fromWireRequest, lookupRequestFrame, lookupResponseFrame, lookupResult, signedAnswerOf, type LookupAnswerWire, type LookupItem, type LookupResponseFrame, type LookupResult,
} from "./messages.ts";
import type { LookupOptions } from "./options.ts";
import { countHits, itemsCommitment, resultsDigest } from "./results.ts";
import type { LookupSigning } from "./signing.ts";

/** A request that passed the schema, with what the checks derive from it. */
interface ParsedRequest {
  queryId: string;
  /** The request's EIP-712 digest (queryId as bytes). */
  digest: Uint8Array;
  request: LookupRequest;
  signature: string;
  items: LookupItem[];
  blinding: string;
}

/** Answers lookup streams; {@link LookupService} registers {@link handle} for the protocol. */
export class LookupProvider {
  private readonly opts: LookupOptions;
  private readonly components: LookupComponents;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly signing: LookupSigning;

  constructor(opts: LookupOptions, components: LookupComponents, clock: Clock, log: Logger, signing: LookupSigning) {
    this.opts = opts;
    this.components = components;
    this.clock = clock;
    this.log = log;
    this.signing = signing;
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

  /** The reply to one request frame from `remotePeer` (steps 1–9). Throws only for a lost stream. */
  async respond(bytes: Uint8Array, remotePeer: PeerId, signal: AbortSignal): Promise<LookupResponseFrame> {
    const receivedAt = this.clock.nowSec();
    // 1. an Active member? (checked before parsing; a refused but well-formed request is recorded)
    const member = activeMember(this.components.membership, remotePeer);
    let parsed: ParsedRequest;
    try {
      parsed = this.parse(bytes);
    } catch (err) {
      if (member === undefined) return errorReply("E_NOT_MEMBER", "the peer is not an Active member");
      const error = isRiskshareError(err) ? err : new RiskshareError("E_PROTOCOL", "malformed request");
      return errorReply(tooManyItems(err) ? "E_FRAME_TOO_LARGE" : error.code, error.message);
    }
    const refuse = (outcome: QueryOutcomeCode, code: ErrorCode, message: string) => this.refuse(parsed, receivedAt, outcome, code, message);
    if (member === undefined) return refuse(QueryOutcome.DeniedNotMember, "E_NOT_MEMBER", "the peer is not an Active member");

    const { request, signature, items, blinding, queryId, digest } = parsed;
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
      if (checksumAddress(request.provider) !== this.signing.address) {
        return refuse(QueryOutcome.DeniedBadRequest, "E_BAD_REQUEST", "the request is addressed to another provider");
      }
      // 4. fresh, unseen, and its items are the committed ones
      const now = BigInt(receivedAt);
      if (request.deadline < now) return refuse(QueryOutcome.DeniedExpired, "E_EXPIRED", "the request's deadline has passed");
      if (request.deadline > now + BigInt(this.opts.maxDeadlineAheadSeconds)) {
        return refuse(QueryOutcome.DeniedBadRequest, "E_BAD_REQUEST", `the deadline is more than ${this.opts.maxDeadlineAheadSeconds} s ahead`);
      }
      if (!(await this.components.nonceGuard.checkAndRemember(member.address, request.nonce.toLowerCase(), request.deadline))) {
        return refuse(QueryOutcome.DeniedReplay, "E_REPLAY", "the request's nonce was seen before");
      }
      if (request.itemCount !== items.length) {
        return refuse(QueryOutcome.DeniedBadRequest, "E_BAD_REQUEST", "itemCount does not match the items sent");
      }
      if (itemsCommitment(blinding, items.map((item) => item.hash)) !== request.itemsCommitment.toLowerCase()) {
        return refuse(QueryOutcome.DeniedBadRequest, "E_BAD_REQUEST", "the items do not open the signed commitment");
      }
      // 5. reciprocity
      const categoryIds = categoriesOfMask(request.categoryMask);
      const decision = await this.components.reciprocity.decide(member.address, categoryIds, receivedAt);
      if (!decision.allowed) {
        const error = reciprocityError(decision);
        return refuse(reciprocityOutcome(decision.reason), RECIPROCITY_ERROR_CODES[decision.reason], error.message);
      }
      signal.throwIfAborted();
      // 6. look up
      const results = await this.components.entries.checkMany(items, categoryIds, receivedAt);
      checkResults(results, items.length);
      // 7. sign the answer
      const hitCount = countHits(results);
      const answer: LookupAnswerWire = { queryId, provider: this.signing.address, resultsDigest: resultsDigest(results), hitCount };
      const answerSignature = await this.signing.signAnswer(signedAnswerOf(answer, request.itemCount));
      // 8. durable record BEFORE the answer leaves (I-5)
      signal.throwIfAborted();
      await this.components.outbox.append({ queryId, request, signature, outcome: QueryOutcome.Answered, hitCount, receivedAt });
      // 9. the caller writes it
      return { ok: true, answer, answerSignature, results };
    } catch (err) {
      if (signal.aborted) throw err;
      return this.failure(err, queryId);
    }
  }

  private parse(bytes: Uint8Array): ParsedRequest {
    const frame = decodeFrame(bytes, lookupRequestFrame);
    const request = fromWireRequest(frame.request);
    const { digest, queryId } = this.signing.requestDigest(request);
    return { request, signature: frame.signature, items: frame.items, blinding: frame.blinding, queryId, digest };
  }

  /** Records a refusal, then returns its error frame; a full outbox turns any refusal into E_BACKLOG. */
  private async refuse(parsed: ParsedRequest, receivedAt: number, outcome: QueryOutcomeCode, code: ErrorCode, message: string): Promise<ErrorFrame> {
    const { queryId, request, signature } = parsed;
    try {
      await this.components.outbox.append({ queryId, request, signature, outcome, hitCount: 0, receivedAt });
    } catch (err) {
      return this.failure(err, queryId);
    }
    this.log.info({ queryId, querier: request.querier, outcome, code }, "lookup refused");
    return errorReply(code, message);
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

/** True when a schema failure is only an over-long item list, or the count of one (worth its own code). */
function tooManyItems(err: unknown): boolean {
  return isRiskshareError(err, "E_PROTOCOL") && (err.meta.path === "items" || err.meta.path === "request.itemCount") && err.meta.issue === "too_big";
}

/** The node's entry lookup must return one valid result per item; anything else is our bug. */
function checkResults(results: readonly LookupResult[], itemCount: number): void {
  if (results.length !== itemCount) throw new RiskshareError("E_INTERNAL", "the entry lookup returned the wrong number of results", { itemCount, results: results.length });
  for (const result of results) {
    if (!lookupResult.safeParse(result).success) throw new RiskshareError("E_INTERNAL", "the entry lookup returned a result the protocol cannot carry");
  }
}

