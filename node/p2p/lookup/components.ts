/**
 * What the lookup service needs from the node, each as the smallest interface that does. The
 * store, the chain view, the policy, the outbox and the journal are built elsewhere; tests wire fakes.
 */
import type { NonceVerdict, QueryOutcomeCode } from "../../chain/index.ts";
import type { BatchEvaluator, Voprf } from "../../identity/index.ts";
import type { Logger } from "../../logger.ts";
import type { ReciprocityDecision } from "../../policy/index.ts";
import type { Clock, LookupSigner, MembershipView, PeerDialer, StreamRegistrar } from "../components.ts";
import type { LookupKindCode } from "./constants.ts";
import type { LookupAnswer, LookupRequest, TagPrefix } from "../../chain/index.ts";

/** What the provider records for every request it answers or refuses (the ledger's raw material; no hits, ever). */
export interface OutboxRecord {
  /** EIP-712 digest of `request` as recorded (querier = the connected peer): its id on chain. */
  queryId: string;
  /** The request as received, except `querier`: always the connected peer's address, never the message's claim. */
  request: LookupRequest;
  /** The querier's signature of the request, as received. */
  signature: string;
  /** QueryOutcome.Answered, or the denial reason. */
  outcome: QueryOutcomeCode;
  /** Evaluate (0) or Fetch (1): the request's kind. */
  kind: LookupKindCode;
  /** The OPRF key epoch the answer was given under; 0 for a refusal. */
  keyEpoch: number;
  /** Blinded elements (Evaluate) or prefixes (Fetch) the request carried: what quota counts. */
  itemCount: number;
  /** Unix seconds at which the provider received the request. */
  receivedAt: number;
  /** Refusals of this outcome from this querier the record stands for; 1 for an answer. */
  count: number;
  /** Answered: the answerDigest of the LookupAnswer signed; refused: refusalDigest(error code sent). */
  answerDigest: string;
}

/** The durable ledger outbox (I-5): `append` resolves once durable; throws E_BACKLOG when full (the provider refuses). */
export interface Outbox {
  append(record: OutboxRecord): Promise<void>;
}

/** Replay protection: per querier the highest request nonce and a 256-bit window below it (node/store's NonceWindows fits). */
export interface NonceGuard {
  /** "fresh" when the nonce (1 <= n < 2^64) was unseen and is now marked seen, durably; "replay" or "stale" (below the window) otherwise. */
  accept(querier: string, nonce: bigint): Promise<NonceVerdict>;
}

/** The querier's request nonces: a counter per provider that never hands out a value twice (node/store's NonceCounters fits). */
export interface NonceSource {
  /** The next nonce (1 <= n < 2^64) for a request to `provider`. */
  next(provider: string): Promise<bigint>;
}

/** The reciprocity rule with a quota counted per item (node/policy's ReciprocityGate fits). */
export interface Reciprocity {
  /** Decides, and when allowed counts `units` (blinded elements or prefixes) against the quota of each category. */
  decide(querier: string, categoryIds: number[], nowSec: number, units: number): Promise<ReciprocityDecision> | ReciprocityDecision;
}

/** The querier's credits on the QueryLedger (node/policy's CreditGate fits). */
export interface Credits {
  /** Whether `querier`'s balance + overdraft covers `items` more evaluated items; `available` is what it went by (undefined when unknown). */
  covers(querier: string, items: number): Promise<{ allowed: boolean; available: bigint | undefined }>;
}

/** This node's OPRF key of the current on-chain epoch (from the key store; never leaves the process). */
export interface OprfKeys {
  current(): { epoch: number; secretKey: Uint8Array; publicKey: Uint8Array };
}

/** One entry of a bucket, sealed at answer time under its metadata key. */
export interface SealedEntry {
  /** 8 bytes. */
  tag: Uint8Array;
  version: number;
  sealed: Uint8Array;
}

/** The provider's store as a Fetch reads it (node/store's `fetchBuckets`). */
export interface BucketStore {
  /** Per prefix, in order, the live entries of the category whose tag starts with it (prefixes are left-aligned uint64s). */
  fetchBuckets(categoryId: number, prefixes: readonly TagPrefix[], nowSec: number): Promise<SealedEntry[][]>;
}

/** Published OPRF keys (the chain view's `oprfKeyAt`). */
export interface ProviderKeys {
  /** The provider's public OPRF key (32 bytes) of `epoch`, or undefined when the view does not know it. */
  keyAt(provider: string, epoch: number): Uint8Array | undefined;
}

/** Published contribution snapshots (the chain view's latest snapshot per member and category). */
export interface SnapshotView {
  /** The live count the member last published for the category, or undefined. */
  liveCount(member: string, categoryId: number): number | undefined;
}

/** The querier's copies of providers' tag filters (see FilterSync). */
export interface TagFilters {
  /** Whether the tag is listed; undefined when no filter of (provider, category, epoch) is held. */
  contains(provider: string, categoryId: number, epoch: number, tag: Uint8Array): boolean | undefined;
}

/** An entry's metadata once opened (spec section 3). */
/** An entry's metadata as the querier opens it (node/store's sealed form). */
import type { EntryMetadata } from "../../store/index.ts";
export type { EntryMetadata };

/** Opens sealed metadata (node/store's `openMetadata`): throws when the key or associated data do not fit. */
export interface MetadataOpener {
  open(sealed: Uint8Array, metadataKey: Uint8Array, associatedData: Uint8Array): EntryMetadata;
}

/** An identifier to check: its type and normalised value. Never leaves this node. */
export interface QueryItem {
  type: string;
  value: string;
}

/** What opens one sent request's commitment later; the journal encrypts it. */
export interface JournalSecrets {
  /** The real items (Evaluate), in element order; empty for a Fetch. */
  items: QueryItem[];
  /** One blind per element (items first, then padding), 32 bytes each. */
  blinds: Uint8Array[];
  /** The random inputs of the padding elements. */
  paddingInputs: Uint8Array[];
  /** The prefixes of a Fetch (also derived from identifiers: kept encrypted like the rest). */
  prefixes?: TagPrefix[];
  /** A fetch\'s commitment salt. */
  salt?: Uint8Array;
}

/** The querier's journal of each request it sent. */
/** Where opened hits are kept (node/store's KeptHits). */
export interface HitKeeper {
  /** Keeps a hit; its id (what a feedback report names), if the keeper gives hits ids. */
  keep(hit: {
    providerAddress: string; categoryId: number; keyEpoch: number; tag: Uint8Array; metadataKey: Uint8Array; queryId: string; keptAtMs: number; version: number;
  }): Promise<string | void>;
}

export interface QueryJournal {
  record(queryId: string, request: LookupRequest, secrets: JournalSecrets): Promise<void>;
  /** Keeps the provider's signed answer (signature checked) with the query it answers, for `audit verify`. */
  recordAnswer(queryId: string, answer: LookupAnswer, answerSignature: string): Promise<void>;
}

/** The regulator's pause of every lookup (the chain view's `pausedUntil`). */
export interface ConsortiumPause {
  /** The pause's end (unix seconds) while lookups are paused at `nowSec`; undefined otherwise. */
  pausedUntil(nowSec: number): number | undefined;
}

/** Everything {@link LookupService} uses. */
export interface LookupComponents {
  registrar: StreamRegistrar;
  dialer: PeerDialer;
  membership: MembershipView;
  /** Signs this node's requests and answers with the member key. */
  signer: LookupSigner;
  /** RFC 9497 VOPRF (createVoprf()). */
  voprf: Voprf;
  /** Runs large batches off the thread that answers (OffThreadBatchEvaluator): the provider's evaluations, the querier's finalizations; all in place with `voprf` when absent. */
  batchEvaluator?: BatchEvaluator;
  // provider side
  outbox: Outbox;
  nonceGuard: NonceGuard;
  reciprocity: Reciprocity;
  /** Refuses an Evaluate its querier's credits do not cover (E_CREDITS_EXHAUSTED); no credit gate when absent. */
  credits?: Credits;
  oprfKeys: OprfKeys;
  store: BucketStore;
  /** Published live counts: bucket bits on both sides. */
  snapshots: SnapshotView;
  // querier side
  /** Nonces of the requests this node sends, Evaluates and Fetches alike. */
  nonceSource: NonceSource;
  providerKeys: ProviderKeys;
  filters: TagFilters;
  metadata: MetadataOpener;
  journal: QueryJournal;
  /** Keeps each opened hit's tag and metadata key, to recognise its delisting in filter deltas; none kept when absent. */
  hits?: HitKeeper;
  logger: Logger;
  /** While a regulator pauses lookups, the provider refuses them and the querier sends none; never paused when absent. */
  pause?: ConsortiumPause;
  /** Defaults to the system clock. */
  clock?: Clock;
}
