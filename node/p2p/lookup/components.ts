/**
 * What the lookup service needs from the node, each as the smallest interface that does.
 */
import type { LookupRequest, QueryOutcomeCode } from "../../chain/index.ts";
import type { Logger } from "../../logger.ts";
import type { ReciprocityDecision } from "../../policy/index.ts";
import type { Clock, LookupSigner, MembershipView, PeerDialer, StreamRegistrar } from "../components.ts";
import type { LookupItem, LookupResult } from "./messages.ts";

/** What the provider records for every request it answers or refuses (the ledger's raw material). */
export interface OutboxRecord {
  /** EIP-712 digest of the request: its id on chain. */
  queryId: string;
  request: LookupRequest;
  /** The querier's signature of the request, as received. */
  signature: string;
  /** QueryOutcome.Answered, or the denial reason. */
  outcome: QueryOutcomeCode;
  hitCount: number;
  /** Unix seconds at which the provider received the request. */
  receivedAt: number;
}

/**
 * The durable ledger outbox (I-5): `append` resolves only once the record is durable. It throws
 * a RiskshareError E_BACKLOG when the backlog is full, which makes the provider refuse (fail closed).
 */
export interface Outbox {
  append(record: OutboxRecord): Promise<void>;
}

/** Replay protection: remembers each (querier, nonce) until its deadline. */
export interface NonceGuard {
  /**
   * True when the nonce was unseen (and is now remembered); false for a replay. `querier` comes
   * checksummed and `nonce` lower-case, so the guard may key on them as they are.
   */
  checkAndRemember(querier: string, nonce: string, deadline: bigint): Promise<boolean>;
}

/** The reciprocity rule as the node enforces it (node/policy behind the registry cache and usage counts). */
export interface Reciprocity {
  /** Decides, and when allowed counts the query against the quota. */
  decide(querier: string, categoryIds: number[], nowSec: number): Promise<ReciprocityDecision> | ReciprocityDecision;
}

/** The node's own lists. */
export interface EntryLookup {
  /** One result per item, in order: a hit only for a live entry in one of the categories. */
  checkMany(items: LookupItem[], categoryIds: number[], nowSec: number): Promise<LookupResult[]>;
}

/** The querier's own record of each query, so its compliance officer can open the commitment later. */
export interface QueryJournal {
  record(queryId: string, request: LookupRequest, blinding: string, items: LookupItem[]): Promise<void>;
}

/** Everything {@link LookupService} uses. */
export interface LookupComponents {
  /** Registers the protocol handler (a libp2p node fits). */
  registrar: StreamRegistrar;
  /** Opens connections to providers (a libp2p node fits). */
  dialer: PeerDialer;
  membership: MembershipView;
  /** Signs this node's requests and answers with the member key (a DigestSigner, an ethers Wallet…). */
  signer: LookupSigner;
  outbox: Outbox;
  nonceGuard: NonceGuard;
  reciprocity: Reciprocity;
  entries: EntryLookup;
  journal: QueryJournal;
  logger: Logger;
  /** Defaults to the system clock. */
  clock?: Clock;
}
