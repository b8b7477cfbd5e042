/**
 * What `/riskshare/feedback/1` needs from the node, each as the smallest interface that does.
 */
import type { DialTarget } from "@libp2p/interface";
import type { FeedbackKind } from "../../identity/index.ts";
import type { Logger } from "../../logger.ts";
import type { QueuedReport } from "../../store/index.ts";
import type { Clock, MembershipView, PeerDialer, StreamRegistrar } from "../components.ts";

/** One received report, decoded. */
export interface IncomingReport {
  categoryId: number;
  keyEpoch: number;
  tag: Uint8Array;
  version: number;
  kind: FeedbackKind;
  mac: Uint8Array;
}

/** A report's outcome at the provider. */
export type FeedbackOutcome = "accepted" | "E_FEEDBACK_MAC" | "E_FEEDBACK_UNKNOWN_ENTRY";

/** Where the provider takes reports (node/store's `receiveFeedback`). */
export interface FeedbackSink {
  receiveFeedback(reporter: string, reports: readonly IncomingReport[], nowSec?: number): Promise<FeedbackOutcome[]>;
}

/** Everything {@link FeedbackService} (the provider side) uses. */
export interface FeedbackComponents {
  registrar: StreamRegistrar;
  membership: MembershipView;
  /** This member's address: a batch addressed to another provider is refused. */
  self: string;
  sink: FeedbackSink;
  logger: Logger;
  clock?: Clock;
}

/** A queued report as the sender reads it: node/store's KeptHits `QueuedReport`, less the hit it came from. */
export type OutgoingReport = Omit<QueuedReport, "hitId">;

/** The querier's queue (node/store's KeptHits). */
export interface FeedbackQueue {
  reports(): Promise<OutgoingReport[]>;
  /** Marks each report sent with its outcome, once; returns how many were marked now. */
  markSent(outcomes: ReadonlyMap<string, string>, sentAtMs: number): Promise<number>;
  /** Marks sent reports counted on chain, once; returns how many were marked now. */
  markCounted(reportIds: readonly string[], countedAtMs: number): Promise<number>;
}

/** A provider's counts of accepted reports, per kind (what the ledger's reportFeedback takes). */
export interface FeedbackCounts {
  providerAddress: string;
  confirmed: number;
  falsePositive: number;
  outdated: number;
}

/** Everything {@link FeedbackSender} (the querier side) uses. */
export interface FeedbackSenderModules {
  dialer: PeerDialer;
  queue: FeedbackQueue;
  /** Where to reach an Active member, or undefined for anyone else (reports wait until it is one again). */
  target(providerAddress: string): DialTarget | undefined;
  logger: Logger;
  /**
   * Records a provider's counts of accepted, not yet counted reports (the chain's weekly counts), after
   * each round's batches; a failure leaves them to the next round.
   */
  recordCounts?: ((counts: FeedbackCounts) => Promise<void>) | undefined;
  /** Unix milliseconds; Date.now when absent. */
  nowMs?: () => number;
}
