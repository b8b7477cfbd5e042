/**
 * The querier side of `/riskshare/lookup/1`: build and sign a request for one provider, send it,
 * and accept the reply only when its schema holds, the provider signed it and its digest matches.
 */
import type { DialTarget } from "@libp2p/interface";
import { randomBytes } from "node:crypto";
import { checksumAddress, LookupKind, type LookupRequest } from "../../chain/index.ts";
import { assertArgument, ERROR_HINTS, type ErrorCode } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import { isCategoryId } from "../../policy/index.ts";
import type { Clock } from "../components.ts";
import { exchangeSignal } from "../../deadline.ts";
import { knownCode, toP2pError } from "../errors.ts";
import { decodeFrame, encodeFrame, frameStream, readFrameBytes, writeFrameBytes } from "../frames.ts";
import { secp256k1KeyOf, tryPeerIdToAddress } from "../identity.ts";
import type { LookupComponents } from "./components.ts";
import { LOOKUP_PROTOCOL, MAX_ITEMS_PER_REQUEST } from "./constants.ts";
import {
  lookupItem, lookupRequestFrame, lookupResponseFrame, maskOfCategories, signedAnswerOf, toWireRequest, type LookupAnswerWire, type LookupItem, type LookupResponseFrame, type LookupResult,
} from "./messages.ts";
import type { LookupOptions } from "./options.ts";
import { countHits, itemsCommitment, resultsDigest } from "./results.ts";
import type { LookupSigning } from "./signing.ts";

/** What to ask one provider. */
export interface LookupQuery {
  /** The provider's EVM address: the request is signed for it, and its answer must be signed by it. */
  providerAddress: string;
  /** 1..1,000 items (type and peppered hash). */
  items: LookupItem[];
  /** Category ids 1..63 to check the items against. */
  categoryIds: number[];
}

/** Per-call options of a lookup. */
export interface LookupCallOptions {
  signal?: AbortSignal;
  /** Overrides the service's clientTimeoutMs. */
  timeoutMs?: number;
}

/** A verified answer: one result per item, in request order. */
export interface AnsweredLookup {
  status: "answered";
  providerAddress: string;
  queryId: string;
  request: LookupRequest;
  signature: string;
  blinding: string;
  answer: LookupAnswerWire;
  answerSignature: string;
  results: LookupResult[];
}

/** No answer: the provider refused ("denied", its error code), or the exchange failed or timed out. */
export interface FailedLookup {
  status: "denied" | "error" | "timeout";
  providerAddress: string;
  code: ErrorCode;
  message: string;
  queryId?: string;
}

/** The outcome of asking one provider. A failure is never a miss. */
export type LookupOutcome = AnsweredLookup | FailedLookup;

/** A request built and signed for one provider. */
interface BuiltRequest {
  queryId: string;
  request: LookupRequest;
  signature: string;
  blinding: string;
  items: LookupItem[];
}

/** Sends lookups; {@link LookupService.lookupPeer} delegates here. */
export class LookupClient {
  private readonly opts: LookupOptions;
  private readonly components: LookupComponents;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly signing: LookupSigning;

  private readonly perProvider = new Map<string, Semaphore>();

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

  /**
   * Asks one provider. Resolves with the outcome whatever happens on the wire; throws only
   * E_BAD_INPUT for a malformed query (a bug at the caller).
   */
  async lookupPeer(peer: DialTarget, query: LookupQuery, opts: LookupCallOptions, serviceSignal: AbortSignal): Promise<LookupOutcome> {
    checkQuery(query);
    const providerAddress = checksumAddress(query.providerAddress);
    const deadline = exchangeSignal(opts.timeoutMs ?? this.opts.clientTimeoutMs, [serviceSignal, opts.signal]);
    try {
      return await this.ask(peer, query, providerAddress, deadline.signal);
    } finally {
      deadline.dispose();
    }
  }

  /** One exchange with the provider, within `signal`. */
  private async ask(peer: DialTarget, query: LookupQuery, providerAddress: string, signal: AbortSignal): Promise<LookupOutcome> {
    let queryId: string | undefined;
    // At most maxOutboundStreams lookups in flight per provider; more wait their turn (within their
    // timeout) instead of failing on the stream limit.
    const release = await this.slots(providerAddress).acquire(signal).catch(() => undefined);
    if (!release) return { status: "timeout", providerAddress, code: "E_TIMEOUT", message: "no free stream to the provider before the timeout" };
    try {
      const built = await this.build(query, providerAddress);
      queryId = built.queryId;
      const frame = encodeFrame(
        { request: toWireRequest(built.request), signature: built.signature, items: built.items, blinding: built.blinding },
        lookupRequestFrame,
        this.opts.maxFrameBytes,
      );
      const connection = await this.components.dialer.dial(peer, { signal });
      const providerKey = secp256k1KeyOf(connection.remotePeer);
      if (providerKey === undefined || tryPeerIdToAddress(connection.remotePeer) !== providerAddress) {
        return { status: "error", providerAddress, code: "E_PEER_UNREACHABLE", message: "the peer dialled is not the provider named", queryId };
      }
      const stream = await connection.newStream(LOOKUP_PROTOCOL, { signal, maxOutboundStreams: this.opts.maxOutboundStreams });
      let reply: LookupResponseFrame;
      try {
        const frames = frameStream(stream, this.opts.maxFrameBytes);
        // Keep what opens the commitment before the request leaves.
        await this.components.journal.record(built.queryId, built.request, built.blinding, built.items);
        await writeFrameBytes(frames, frame, signal);
        reply = decodeFrame(await readFrameBytes(frames, signal), lookupResponseFrame);
        await stream.close({ signal });
      } catch (err) {
        stream.abort(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
      return this.verify(reply, built, providerAddress, providerKey, query.categoryIds);
    } catch (err) {
      const error = toP2pError(err, signal);
      this.log.debug({ providerAddress, code: error.code }, "lookup failed");
      return { status: error.code === "E_TIMEOUT" ? "timeout" : "error", providerAddress, code: error.code, message: error.message, ...(queryId ? { queryId } : {}) };
    } finally {
      release();
    }
  }

  private async build(query: LookupQuery, providerAddress: string): Promise<BuiltRequest> {
    const blinding = randomHex32();
    const request: LookupRequest = {
      querier: this.signing.address,
      provider: providerAddress,
      kind: LookupKind.Evaluate,
      categoryMask: maskOfCategories(query.categoryIds),
      itemCount: query.items.length,
      itemsCommitment: itemsCommitment(blinding, query.items.map((item) => item.hash)),
      nonce: randomHex32(),
      deadline: BigInt(this.clock.nowSec() + this.opts.requestTtlSeconds),
    };
    const { queryId, signature } = await this.signing.signRequest(request);
    return { queryId, request, signature, blinding, items: query.items.map((item) => ({ type: item.type, hash: item.hash })) };
  }

  /** Accepts an answer only if it is the provider's, for this query, and self-consistent. */
  private verify(reply: LookupResponseFrame, built: BuiltRequest, providerAddress: string, providerKey: Uint8Array, categoryIds: readonly number[]): LookupOutcome {
    const { queryId } = built;
    if (!reply.ok) {
      const code = knownCode(reply.error.code, ERROR_HINTS);
      return { status: "denied", providerAddress, code, message: reply.error.message, queryId };
    }
    const fail = (code: ErrorCode, message: string): LookupOutcome => ({ status: "error", providerAddress, code, message, queryId });
    const { answer, answerSignature, results } = reply;
    if (answer.queryId.toLowerCase() !== queryId) return fail("E_PROTOCOL", "the answer is for another query");
    if (checksumAddress(answer.provider) !== providerAddress) return fail("E_BAD_SIGNATURE", "the answer names another provider");
    if (!this.signing.isAnswerSignedBy(signedAnswerOf(answer, built.request.itemCount), answerSignature, providerKey)) return fail("E_BAD_SIGNATURE", "the answer is not signed by the provider");
    if (results.length !== built.items.length) return fail("E_PROTOCOL", "the answer does not have one result per item");
    if (resultsDigest(results) !== answer.resultsDigest.toLowerCase()) return fail("E_PROTOCOL", "the results do not match the signed digest");
    if (countHits(results) !== answer.hitCount) return fail("E_PROTOCOL", "the signed hit count does not match the results");
    const asked = new Set(categoryIds);
    if (results.some((result) => result.hit && !asked.has(result.category))) return fail("E_PROTOCOL", "a hit is in a category that was not asked for");
    return { status: "answered", providerAddress, queryId, request: built.request, signature: built.signature, blinding: built.blinding, answer, answerSignature, results };
  }
}

/** Refuses a query this protocol cannot carry (E_BAD_INPUT). */
export function checkQuery(query: LookupQuery): void {
  assertArgument(/^0x[0-9a-fA-F]{40}$/.test(query.providerAddress), "must be an EVM address", "providerAddress");
  assertArgument(query.items.length >= 1 && query.items.length <= MAX_ITEMS_PER_REQUEST, `must hold 1..${MAX_ITEMS_PER_REQUEST} items`, "items");
  assertArgument(query.items.every((item) => lookupItem.safeParse(item).success), "each item needs a type and a 32-byte 0x-hex hash", "items");
  assertArgument(query.categoryIds.length >= 1 && query.categoryIds.every(isCategoryId), "must hold category ids in 1..63", "categoryIds");
}

/** 32 random bytes as 0x-hex (lower case). */
function randomHex32(): string {
  return `0x${randomBytes(32).toString("hex")}`;
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
