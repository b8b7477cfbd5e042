/**
 * Small fakes of the p2p layer's components and a member factory, shared by the p2p tests.
 * Real libp2p nodes on 127.0.0.1; everything else is in memory.
 */
import type { Stream } from "@libp2p/interface";
import { lpStream } from "@libp2p/utils";
import { getAddress, hexlify, randomBytes, Wallet } from "ethers";
import {
  LookupKind, LOOKUP_REQUEST_TYPES, lookupDomain, mutable, type LookupRequest,
} from "../../node/chain/eip712.ts";
import { RiskshareError } from "../../node/errors.ts";
import { silentLogger } from "../../node/logger.ts";
import type { ReciprocityDecision } from "../../node/policy/index.ts";
import {
  createHost, itemsCommitment, lookup, LOOKUP_PROTOCOL, lookupResponseFrame, maskOfCategories, pepper, toWireRequest,
  type Clock, type HitResult, type LookupInit, type LookupItem, type LookupRequestFrame, type LookupResponseFrame, type LookupResult,
  type LookupService, type MembershipView, type OutboxRecord, type PepperService, type RiskshareHost,
} from "../../node/p2p/index.ts";

export const CHAIN_ID = 31_337n;
export const LEDGER = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
export const NOW = 1_700_000_000;

/** A mutable set of Active members' addresses, seen by every node in a test. */
export class FakeMembership implements MembershipView {
  readonly active = new Set<string>();
  add(address: string): void {
    this.active.add(address.toLowerCase());
  }
  remove(address: string): void {
    this.active.delete(address.toLowerCase());
  }
  isActivePeer(peer: { address: string }): boolean {
    return this.active.has(peer.address.toLowerCase());
  }
}

/** An outbox in memory; `hold()` makes the next appends wait until `release()`; `failWith` makes them throw. */
export class FakeOutbox {
  readonly records: OutboxRecord[] = [];
  failWith: Error | undefined;
  private gate: PromiseWithResolvers<void> | undefined;
  private appendStarted = Promise.withResolvers<OutboxRecord>();

  hold(): void {
    this.gate = Promise.withResolvers<void>();
    this.appendStarted = Promise.withResolvers<OutboxRecord>();
  }
  release(): void {
    this.gate?.resolve();
    this.gate = undefined;
  }
  /** Resolves when an append begins (after `hold()`). */
  nextAppend(): Promise<OutboxRecord> {
    return this.appendStarted.promise;
  }
  async append(record: OutboxRecord): Promise<void> {
    this.appendStarted.resolve(record);
    if (this.gate) await this.gate.promise;
    if (this.failWith) throw this.failWith;
    this.records.push(record);
  }
}

export class FakeNonceGuard {
  readonly seen = new Set<string>();
  async checkAndRemember(querier: string, nonce: string): Promise<boolean> {
    const key = `${querier.toLowerCase()}/${nonce.toLowerCase()}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    return true;
  }
}

/** Entries by hash; a hit only when the entry's category was asked for. `hold()` stalls lookups. */
export class FakeEntries {
  readonly byHash = new Map<string, HitResult>();
  private gate: PromiseWithResolvers<void> | undefined;
  hold(): void {
    this.gate = Promise.withResolvers<void>();
  }
  release(): void {
    this.gate?.resolve();
    this.gate = undefined;
  }
  async checkMany(items: LookupItem[], categoryIds: number[]): Promise<LookupResult[]> {
    if (this.gate) await this.gate.promise;
    return items.map((item) => {
      const hit = this.byHash.get(item.hash.toLowerCase());
      return hit && categoryIds.includes(hit.category) ? hit : { hit: false as const };
    });
  }
}

export class FakeJournal {
  readonly records: { queryId: string; request: LookupRequest; blinding: string; items: LookupItem[] }[] = [];
  async record(queryId: string, request: LookupRequest, blinding: string, items: LookupItem[]): Promise<void> {
    this.records.push({ queryId, request, blinding, items });
  }
}

export class FakeClock implements Clock {
  now = NOW;
  nowSec(): number {
    return this.now;
  }
}

/** One member node with its fakes. */
export interface Member {
  wallet: Wallet;
  address: string;
  host: RiskshareHost;
  lookup: LookupService;
  pepper: PepperService;
  outbox: FakeOutbox;
  nonces: FakeNonceGuard;
  entries: FakeEntries;
  journal: FakeJournal;
  clock: FakeClock;
  peppers: Map<number, Uint8Array>;
  /** What the fake reciprocity answers (allowed by default). */
  reciprocity: { decision: ReciprocityDecision; calls: { querier: string; categoryIds: number[] }[] };
  stop(): Promise<void>;
}

/** Starts a node; it is an Active member when `member` is true (the default). */
export async function startNode(membership: FakeMembership, opts: { member?: boolean; lookup?: Partial<LookupInit> } = {}): Promise<Member> {
  const wallet = Wallet.createRandom() as unknown as Wallet;
  if (opts.member ?? true) membership.add(wallet.address);
  const logger = silentLogger();
  const host = await createHost({ privateKey: wallet.privateKey, listen: ["/ip4/127.0.0.1/tcp/0"] }, { logger, membership });
  await host.start();
  const outbox = new FakeOutbox();
  const nonces = new FakeNonceGuard();
  const entries = new FakeEntries();
  const journal = new FakeJournal();
  const clock = new FakeClock();
  const peppers = new Map<number, Uint8Array>();
  const reciprocity: Member["reciprocity"] = { decision: { allowed: true, quotaRemaining: 10 }, calls: [] };
  const lookupService = lookup({ chainId: CHAIN_ID, queryLedgerAddress: LEDGER, ...opts.lookup })({
    registrar: host.libp2p,
    dialer: host.libp2p,
    membership,
    signer: wallet,
    outbox,
    nonceGuard: nonces,
    reciprocity: {
      decide: (querier, categoryIds) => {
        reciprocity.calls.push({ querier, categoryIds });
        return reciprocity.decision;
      },
    },
    entries,
    journal,
    logger,
    clock,
  });
  const pepperService = pepper()({ registrar: host.libp2p, dialer: host.libp2p, membership, peppers, keyAgreement: host.keyAgreement, logger });
  await lookupService.start();
  await pepperService.start();
  return {
    wallet, address: wallet.address, host, lookup: lookupService, pepper: pepperService, outbox, nonces, entries, journal, clock, peppers, reciprocity,
    stop: async () => {
      await pepperService.stop();
      await lookupService.stop();
      await host.stop();
    },
  };
}

/** Stops every node given, whatever fails. */
export async function stopAll(nodes: readonly (Member | undefined)[]): Promise<void> {
  await Promise.allSettled(nodes.map((node) => node?.stop()));
}

/** A random item (a 32-byte "peppered hash"). */
export function randomItem(type = "bank_card"): LookupItem {
  return { type, hash: hexlify(randomBytes(32)) };
}

/** A hit as a provider's list would hold it. */
export function hit(category = 1, over: Partial<HitResult> = {}): HitResult {
  return { hit: true, category, level: 4, reason: "chargeback_fraud", reportedAt: NOW - 86_400, expiresAt: NOW + 86_400 * 365, providerRef: "case-0001", ...over };
}

/** Builds a signed request frame by hand (to forge, replay or break it). */
export async function buildRequestFrame(
  signer: Wallet,
  over: { querier?: string; provider: string; items?: LookupItem[]; categoryIds?: number[]; deadline?: bigint; nonce?: string; itemCount?: number; blinding?: string; commitment?: string },
): Promise<LookupRequestFrame> {
  const items = over.items ?? [randomItem()];
  const blinding = over.blinding ?? hexlify(randomBytes(32));
  const request: LookupRequest = {
    querier: over.querier ?? signer.address,
    provider: over.provider,
    kind: LookupKind.Evaluate,
    categoryMask: maskOfCategories(over.categoryIds ?? [1]),
    itemCount: over.itemCount ?? items.length,
    itemsCommitment: over.commitment ?? itemsCommitment(blinding, items.map((item) => item.hash)),
    nonce: over.nonce ?? hexlify(randomBytes(32)),
    deadline: over.deadline ?? BigInt(NOW + 60),
  };
  const signature = await signer.signTypedData(lookupDomain(CHAIN_ID, LEDGER), mutable(LOOKUP_REQUEST_TYPES), request);
  return { request: toWireRequest(request), signature, items, blinding };
}

/** What came back on a raw stream: a schema-valid frame, or the stream ended without one. */
export type RawReply = { kind: "frame"; frame: LookupResponseFrame } | { kind: "closed" };

/**
 * Opens a lookup stream from `from` to `to` and sends `payload`: an object (one JSON frame),
 * `{ framed: bytes }` (bytes with a correct length prefix) or `{ raw: bytes }` (bytes as they are).
 * Then closes its writable end and reads one reply frame. Throws when the reply breaks the schema.
 */
export async function rawExchange(
  from: Member,
  to: Member,
  payload: object | { framed: Uint8Array } | { raw: Uint8Array },
  opts: { timeoutMs?: number; keepOpen?: boolean } = {},
): Promise<RawReply> {
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 5_000);
  const connection = await from.host.libp2p.dial(to.host.getMultiaddrs(), { signal });
  const stream: Stream = await connection.newStream(LOOKUP_PROTOCOL, { signal });
  const lp = lpStream(stream, { maxDataLength: 4 * 1024 * 1024 });
  try {
    if ("raw" in payload && payload.raw instanceof Uint8Array) stream.send(payload.raw);
    else if ("framed" in payload && payload.framed instanceof Uint8Array) await lp.write(payload.framed, { signal });
    else await lp.write(new TextEncoder().encode(JSON.stringify(payload)), { signal });
    if (!opts.keepOpen) await stream.close({ signal });
    let bytes: Uint8Array;
    try {
      bytes = (await lp.read({ signal })).subarray();
    } catch (err) {
      if (signal.aborted) throw new RiskshareError("E_TIMEOUT", "no reply and no close: the provider hung", {}, { cause: err });
      return { kind: "closed" };
    }
    return { kind: "frame", frame: lookupResponseFrame.parse(JSON.parse(new TextDecoder().decode(bytes))) };
  } finally {
    stream.abort(new Error("test done"));
  }
}
