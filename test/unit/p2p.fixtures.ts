/**
 * Small fakes of the p2p layer's components and a member factory, shared by the p2p tests.
 * Real libp2p nodes on 127.0.0.1 and the real VOPRF; store, chain view, policy, outbox and journal
 * are in memory. Metadata sealing here is a test fake (AES-256-GCM over JSON) under the spec's
 * associated data; the store branch owns the real format.
 */
import type { Stream } from "@libp2p/interface";
import { lpStream } from "@libp2p/utils";
import { getAddress, hexlify, randomBytes, Wallet } from "ethers";
import { RiskshareError } from "../../node/errors.ts";
import { createVoprf, expandEntryKeys, OffThreadBatchEvaluator, oprfInput, type BatchEvaluator, type Voprf } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import type { ReciprocityDecision } from "../../node/policy/index.ts";
import {
  createHost, digestSignerFromEvmKey, lookup, LOOKUP_PROTOCOL, lookupResponseFrame,
  maskOfCategories, tagHasPrefix, toWirePrefix, toWireRequest,
  type Clock, type ConsortiumPause, type EntryMetadata, type JournalSecrets, type LookupInit, type LookupRequestFrame, type LookupResponseFrame,
  type LookupService, type MembershipView, type OutboxRecord, type QueryItem, type RiskshareHost, type SealedEntry,
} from "../../node/p2p/index.ts";
import { createMetadataCipher, metadataAssociatedData, type MetadataCipher } from "../../node/store/index.ts";
import {
  EMPTY_NONCE_WINDOW, evaluateCommitment, fetchCommitment, lookupRequestDigestBytes, nextNonceWindow, nonceToBytes32,
  type LookupAnswer, type LookupRequest, type NonceVerdict, type NonceWindow, type TagPrefix,
} from "../../node/chain/index.ts";

export const CHAIN_ID = 31_337n;
export const LEDGER = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
export const NOW = 1_700_000_000;

let voprfReady: Promise<Voprf> | undefined;
/** The VOPRF every test node uses (libsodium). */
export function testVoprf(): Promise<Voprf> {
  voprfReady ??= createVoprf();
  return voprfReady;
}

/** The consortium as every node in a test sees it: members, published OPRF keys and live counts. */
export class FakeChain implements MembershipView {
  readonly active = new Set<string>();
  readonly keys = new Map<string, Map<number, Uint8Array>>();
  readonly liveCounts = new Map<string, number>();
  add(address: string): void {
    this.active.add(address.toLowerCase());
  }
  remove(address: string): void {
    this.active.delete(address.toLowerCase());
  }
  isActivePeer(peer: { address: string }): boolean {
    return this.active.has(peer.address.toLowerCase());
  }
  publishKey(address: string, epoch: number, publicKey: Uint8Array): void {
    const byEpoch = this.keys.get(address.toLowerCase()) ?? new Map<number, Uint8Array>();
    byEpoch.set(epoch, publicKey);
    this.keys.set(address.toLowerCase(), byEpoch);
  }
  keyAt(provider: string, epoch: number): Uint8Array | undefined {
    return this.keys.get(provider.toLowerCase())?.get(epoch);
  }
  liveCount(member: string, categoryId: number): number | undefined {
    return this.liveCounts.get(`${member.toLowerCase()}/${categoryId}`);
  }
}

/**
 * An outbox in memory; `hold()` makes the next appends wait until `release()`; `failWith` makes them
 * throw; `maxBacklog` makes appends beyond that many records throw E_BACKLOG, like the real one
 * with no batcher draining it.
 */
export class FakeOutbox {
  readonly records: OutboxRecord[] = [];
  failWith: Error | undefined;
  maxBacklog = Number.POSITIVE_INFINITY;
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
  nextAppend(): Promise<OutboxRecord> {
    return this.appendStarted.promise;
  }
  async append(record: OutboxRecord): Promise<void> {
    this.appendStarted.resolve(record);
    if (this.gate) await this.gate.promise;
    if (this.failWith) throw this.failWith;
    if (this.records.length >= this.maxBacklog) throw new RiskshareError("E_BACKLOG", "the ledger outbox is full; new lookups are refused until it drains");
    this.records.push(record);
  }
}

/** The provider's replay windows in memory, under the real rule (node/chain's nextNonceWindow). */
export class FakeNonceGuard {
  readonly windows = new Map<string, NonceWindow>();
  async accept(querier: string, nonce: bigint): Promise<NonceVerdict> {
    const key = querier.toLowerCase();
    const { verdict, state } = nextNonceWindow(this.windows.get(key) ?? EMPTY_NONCE_WINDOW, nonce);
    this.windows.set(key, state);
    return verdict;
  }
}

/** One counter per (querier, provider) for the whole test process (unit and hardening tests alike): what hand-driven peers and hand-built frames draw from. */
const pairCounters = new Map<string, bigint>();

/** The next nonce of the pair, as a node's counter would hand it out. */
export function nextPairNonce(querier: string, provider: string): bigint {
  const key = `${querier.toLowerCase()}/${provider.toLowerCase()}`;
  const next = (pairCounters.get(key) ?? 0n) + 1n;
  pairCounters.set(key, next);
  return next;
}

/** The querier's nonce counters of one node (in memory, shared with {@link buildRequestFrame}). */
export class FakeNonceSource {
  constructor(private readonly querier: string) {}
  async next(provider: string): Promise<bigint> {
    return nextPairNonce(this.querier, provider);
  }
}

/** The real metadata cipher (fixed-length records, as a real store seals them). */
export const testMetadata: MetadataCipher = await createMetadataCipher();

/** A listed entry as the fake store holds it (keyed by what the OPRF derives, never the identifier). */
interface StoredEntry {
  type: string;
  tag: Uint8Array;
  metadataKey: Uint8Array;
  version: number;
  metadata: EntryMetadata;
}

/** The provider's store: entries per category, derived with its own OPRF key like node/store's import. */
export class FakeStore {
  readonly byCategory = new Map<number, StoredEntry[]>();
  readonly fetches: { categoryId: number; prefixes: TagPrefix[] }[] = [];
  private gate: PromiseWithResolvers<void> | undefined;
  constructor(private readonly member: { address: string; voprf: Voprf; oprfKey: { epoch: number; secretKey: Uint8Array } }) {}
  hold(): void {
    this.gate = Promise.withResolvers<void>();
  }
  release(): void {
    this.gate?.resolve();
    this.gate = undefined;
  }
  /** Lists an identifier in a category; returns its tag. */
  list(item: QueryItem, metadata: Partial<EntryMetadata> & { categoryId: number }): Uint8Array {
    const { voprf, oprfKey, address } = this.member;
    const output = voprf.evaluate(oprfKey.secretKey, oprfInput(item.type, item.value));
    const { tag, metadataKey } = expandEntryKeys(output, { chainId: CHAIN_ID, providerAddress: address, keyEpoch: oprfKey.epoch });
    const entry = { type: item.type, tag, metadataKey, version: 1, metadata: { level: 4 as const, reason: "chargeback_fraud", reportedAtSec: NOW - 86_400, providerRef: "case-0001", ...metadata } };
    this.byCategory.set(metadata.categoryId, [...(this.byCategory.get(metadata.categoryId) ?? []), entry]);
    return tag;
  }
  /** Whether the tag is listed in the category (what a filter answers, without false positives). */
  has(categoryId: number, tag: Uint8Array): boolean {
    return (this.byCategory.get(categoryId) ?? []).some((entry) => Buffer.compare(entry.tag, tag) === 0);
  }
  async fetchBuckets(categoryId: number, prefixes: readonly TagPrefix[]): Promise<SealedEntry[][]> {
    if (this.gate) await this.gate.promise;
    this.fetches.push({ categoryId, prefixes: [...prefixes] });
    const entries = this.byCategory.get(categoryId) ?? [];
    return prefixes.map((prefix) => entries.filter((entry) => tagHasPrefix(entry.tag, prefix)).map((entry) => ({
      tag: entry.tag, version: entry.version,
      sealed: testMetadata.seal(entry.metadata, entry.metadataKey, metadataAssociatedData(
        { chainId: CHAIN_ID, providerAddress: this.member.address, keyEpoch: this.member.oprfKey.epoch }, entry.type, entry.version, entry.tag,
      )),
    })));
  }
}

/** The querier's filter copies: a provider's store tags, plus forced false positives; `missing` = none held. */
export class FakeFilters {
  readonly stores = new Map<string, FakeStore>();
  readonly falsePositives = new Set<string>();
  missing = false;
  contains(provider: string, categoryId: number, _epoch: number, tag: Uint8Array): boolean | undefined {
    if (this.missing) return undefined;
    if (this.falsePositives.has(hexlify(tag))) return true;
    return this.stores.get(provider.toLowerCase())?.has(categoryId, tag) ?? false;
  }
}

/** The querier's kept hits (node/store's KeptHits in a node), in memory. */
export class FakeHitKeeper {
  readonly kept: Array<{ providerAddress: string; categoryId: number; keyEpoch: number; tag: Uint8Array; metadataKey: Uint8Array; queryId: string; keptAtMs: number }> = [];
  async keep(hit: FakeHitKeeper["kept"][number]): Promise<void> {
    this.kept.push(hit);
  }
}

export class FakeJournal {
  readonly records: { queryId: string; request: LookupRequest; secrets: JournalSecrets }[] = [];
  async record(queryId: string, request: LookupRequest, secrets: JournalSecrets): Promise<void> {
    this.records.push({ queryId, request, secrets });
  }
  /** Signed answers kept, by query id. */
  readonly answers = new Map<string, { answer: LookupAnswer; answerSignature: string }>();
  async recordAnswer(queryId: string, answer: LookupAnswer, answerSignature: string): Promise<void> {
    this.answers.set(queryId, { answer, answerSignature });
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
  outbox: FakeOutbox;
  nonces: FakeNonceGuard;
  store: FakeStore;
  journal: FakeJournal;
  hits: FakeHitKeeper;
  clock: FakeClock;
  /** The key the provider answers with (tests may swap it for one that is not published). */
  oprfKey: { epoch: number; secretKey: Uint8Array; publicKey: Uint8Array };
  /** Blinded elements this node received, per Evaluate. */
  received: Uint8Array[][];
  /** The credits the fake credit gate holds per querier (lower-case address); a querier not in it is covered. */
  credits: Map<string, bigint>;
  /** What the fake reciprocity answers (allowed by default), and every call with its item count. */
  reciprocity: { decision: ReciprocityDecision; calls: { querier: string; categoryIds: number[]; units: number }[] };
  stop(): Promise<void>;
}

/** Starts a node; it is an Active member when `member` is true (the default). `filters` is the querier's filter copies. */
export async function startNode(
  chain: FakeChain,
  opts: { member?: boolean; lookup?: Partial<LookupInit>; filters?: FakeFilters; pause?: ConsortiumPause } = {},
): Promise<Member> {
  const wallet = Wallet.createRandom() as unknown as Wallet;
  if (opts.member ?? true) chain.add(wallet.address);
  const logger = silentLogger();
  const voprf = await testVoprf();
  const host = await createHost({ privateKey: wallet.privateKey, listen: ["/ip4/127.0.0.1/tcp/0"] }, { logger, membership: chain });
  await host.start();
  const { secretKey, publicKey } = voprf.generateKeyPair();
  const oprfKey = { epoch: 1, secretKey, publicKey };
  chain.publishKey(wallet.address, 1, publicKey);
  const outbox = new FakeOutbox();
  const nonces = new FakeNonceGuard();
  const store = new FakeStore({ address: wallet.address, voprf, oprfKey });
  const journal = new FakeJournal();
  const hits = new FakeHitKeeper();
  const clock = new FakeClock();
  const received: Uint8Array[][] = [];
  const filters = opts.filters ?? new FakeFilters();
  filters.stores.set(wallet.address.toLowerCase(), store);
  const reciprocity: Member["reciprocity"] = { decision: { allowed: true, quotaRemaining: 10 }, calls: [] };
  const credits = new Map<string, bigint>();
  const member = { oprfKey } as Member;
  // Batches of more than 2 elements are evaluated and finalized on a worker thread, as a node does past
  // 64: every lookup test with a padded batch goes through it. Each evaluated batch is recorded as it arrives.
  const offThread = new OffThreadBatchEvaluator(voprf, { inlineMax: 2 });
  const batchEvaluator: BatchEvaluator = {
    evaluate: (secretKey, publicKey, elements) => {
      received.push(elements.map((element) => new Uint8Array(element)));
      return offThread.evaluate(secretKey, publicKey, elements);
    },
    finalize: (job) => offThread.finalize(job),
    close: () => offThread.close(),
  };
  const lookupService = lookup({ chainId: CHAIN_ID, queryLedgerAddress: LEDGER, coverFetchRate: 0, ...opts.lookup })({
    registrar: host.libp2p,
    dialer: host.libp2p,
    membership: chain,
    signer: digestSignerFromEvmKey(wallet.privateKey),
    voprf,
    batchEvaluator,
    outbox,
    nonceGuard: nonces,
    nonceSource: new FakeNonceSource(wallet.address),
    reciprocity: {
      decide: (querier, categoryIds, _nowSec, units) => {
        reciprocity.calls.push({ querier, categoryIds, units });
        return reciprocity.decision;
      },
    },
    credits: {
      covers: async (querier, items) => {
        const available = credits.get(querier.toLowerCase());
        return { allowed: available === undefined || available >= BigInt(items), available };
      },
    },
    oprfKeys: { current: () => member.oprfKey },
    store,
    snapshots: chain,
    providerKeys: chain,
    filters,
    metadata: testMetadata,
    journal,
    hits,
    logger,
    clock,
    ...(opts.pause === undefined ? {} : { pause: opts.pause }),
  });
  await lookupService.start();
  return Object.assign(member, {
    wallet, address: wallet.address, host, lookup: lookupService, outbox, nonces, store, journal, hits, clock, received, reciprocity, credits,
    stop: async () => {
      await lookupService.stop();
      await host.stop();
      await offThread.close();
    },
  });
}

/** Stops every node given, whatever fails. */
export async function stopAll(nodes: readonly (Member | undefined)[]): Promise<void> {
  await Promise.allSettled(nodes.map((node) => node?.stop()));
}

let serial = 0;
/** A random identifier (a normalised phone number). */
export function randomItem(type = "phone"): QueryItem {
  serial += 1;
  return { type, value: `+86138${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}${String(serial % 100).padStart(2, "0")}` };
}

/** Valid random blinded elements (what an honest querier sends). */
export function randomElements(count: number, voprf: Voprf): Uint8Array[] {
  return Array.from({ length: count }, () => voprf.blind(randomBytes(32)).blindedElement);
}

/** Builds a signed request frame by hand (to forge, replay or break it). */
export async function buildRequestFrame(
  signer: Wallet,
  over: {
    querier?: string; provider: string; kind?: 0 | 1; elements?: Uint8Array[]; prefixes?: TagPrefix[]; categoryIds?: number[]; deadline?: bigint; nonce?: string;
    itemCount?: number; commitment?: string;
  },
): Promise<LookupRequestFrame> {
  const kind = over.kind ?? 0;
  const voprf = await testVoprf();
  const elements = kind === 0 ? (over.elements ?? randomElements(1, voprf)) : undefined;
  const prefixes = kind === 1 ? (over.prefixes ?? [{ bits: 0, value: 0n }]) : undefined;
  const salt = new Uint8Array(randomBytes(32));
  const request: LookupRequest = {
    querier: over.querier ?? signer.address,
    provider: over.provider,
    kind,
    categoryMask: maskOfCategories(over.categoryIds ?? [1]),
    itemCount: over.itemCount ?? (elements ?? prefixes!).length,
    itemsCommitment: over.commitment ?? (elements ? evaluateCommitment(elements) : fetchCommitment(prefixes!, salt)),
    nonce: over.nonce ?? nonceToBytes32(nextPairNonce(over.querier ?? signer.address, over.provider)),
    deadline: over.deadline ?? BigInt(NOW + 60),
  };
  const signature = digestSignerFromEvmKey(signer.privateKey).signDigest(lookupRequestDigestBytes(CHAIN_ID, LEDGER, request));
  return {
    request: toWireRequest(request), signature,
    ...(elements ? { elements: elements.map((e) => hexlify(e)) } : {}),
    ...(prefixes ? { prefixes: prefixes.map(toWirePrefix), salt: hexlify(salt) } : {}),
  };
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
  opts: { timeoutMs?: number; keepOpen?: boolean; protocol?: string } = {},
): Promise<RawReply> {
  const signal = AbortSignal.timeout(opts.timeoutMs ?? 5_000);
  const connection = await from.host.libp2p.dial(to.host.getMultiaddrs(), { signal });
  const stream: Stream = await connection.newStream(opts.protocol ?? LOOKUP_PROTOCOL, { signal });
  const lp = lpStream(stream, { maxDataLength: 8 * 1024 * 1024 });
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
