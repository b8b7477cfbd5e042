/** Defaults of the chain layer that are not node configuration (those live in node/config/options.ts). */
export const CHAIN_DEFAULTS = {
  /** Largest block range one eth_getLogs call asks for: public and permissioned clients cap ranges. */
  logChunkBlocks: 5_000,
  /** Past this age without a successful sync the view reports itself stale and lookups fail closed. */
  maxStaleMs: 60_000,
  /** First retry delay of the ledger batcher after a failed flush; doubles up to maxBackoffMs. */
  initialBackoffMs: 250,
  maxBackoffMs: 15_000,
  /** Ledger batch transactions in flight at once (pipelined, consecutive nonces). */
  maxInFlightBatches: 4,
} as const;

/**
 * Most records a ledger batch may carry. 300 × 416 bytes of calldata (124,800, with the call's 100
 * and the transaction's envelope) keeps a batch transaction under 128 KiB, the largest transaction
 * geth-family clients accept into their pools, and at ~10,000 gas a record far under the 2^24
 * per-transaction gas cap of EIP-7825.
 */
export const MAX_BATCH_RECORDS = 300;

/** Reciprocity policy of one category, in the units the registry stores. */
export interface CategoryPolicyInput {
  minEntries: bigint;
  maxSnapshotAgeSeconds: bigint;
  quotaBase: bigint;
  quotaRatioBps: bigint;
  /** The most items per provider per rolling day any member earns in the category. */
  quotaCeiling: bigint;
}

/** The policy a deployment gives each category unless told otherwise (the pilot's "equal terms"). */
export const DEFAULT_POLICY: CategoryPolicyInput = {
  minEntries: 10n,
  maxSnapshotAgeSeconds: 7n * 24n * 3600n,
  quotaBase: 10_000n,
  quotaRatioBps: 10_000n,
  // A million items a day from each provider: a large bank's onboarding and payment checks with
  // room to spare, and a thousandth of a 10^9-entry list a day, not a walk of a peer's list.
  quotaCeiling: 1_000_000n,
};

/** The consortium's standard risk categories, seeded at deployment. */
export const DEFAULT_CATEGORIES: readonly string[] = [
  "fraud_confirmed",
  "fraud_suspected",
  "money_mule",
  "stolen_card",
  "gambling_merchant",
  "collection_harassment",
];

/** Governance defaults of a new deployment. */
export const DEFAULT_GOVERNANCE = {
  /** The quorum fraction f, in (1/2, 3/4] (docs/GOVERNANCE.md). */
  quorumNumerator: 2,
  quorumDenominator: 3,
  votingPeriodSeconds: 7n * 24n * 3600n,
  /** The longest a regulator may suspend a member's lookups. */
  maxRegulatorSuspensionSeconds: 14n * 24n * 3600n,
  /** How long after a regulator suspension lapses before a regulator may suspend that member again. */
  regulatorCooldownSeconds: 30n * 24n * 3600n,
  /** How many proposals one account may have open at once. */
  maxOpenProposals: 3,
  /**
   * How long an executed Remove, AddRegulator, RemoveRegulator, SetPolicy, RetireCategory or SetQuorum
   * waits before anyone may enact it, so that members can react (docs/GOVERNANCE.md).
   */
  timelockDelaySeconds: 48n * 3600n,
  /** How long after deployment the bootstrap admin may seed; seeding also ends at the first executed proposal. */
  seedWindowSeconds: 30n * 24n * 3600n,
  /** How long after an Admit executes before the member may be activated: the regulator's veto window. */
  admissionDelaySeconds: 7n * 24n * 3600n,
  /** The longest a regulator may pause every lookup of the consortium. */
  maxPauseSeconds: 72n * 3600n,
  /** How long after a pause began before any regulator may pause again (counted for the whole consortium). */
  pauseCooldownSeconds: 30n * 24n * 3600n,
  /** How long a member may take no on-chain action before anyone may mark it dormant (no vote until it acts). */
  dormancyPeriodSeconds: 180n * 24n * 3600n,
} as const;

/** Spot-checks of contribution snapshots (ContributionRegistry, docs/PROTOCOL.md "Spot-checks"). */
export const DEFAULT_CHALLENGES = {
  /** How long a challenged provider has to post its proofs on chain. */
  responseWindowSeconds: 24n * 3600n,
  /** How long before one member may challenge the same provider and category again. */
  cooldownSeconds: 7n * 24n * 3600n,
} as const;

/**
 * Longest lifetime a request may have: a provider refuses a deadline further ahead than this (the
 * lookup protocol's MAX_DEADLINE_AHEAD_SECONDS, held equal by a unit test), and the node's config caps
 * requestTtlSeconds at it. The QueryLedger bounds a removed provider's records with it.
 */
export const MAX_REQUEST_TTL_SECONDS = 600;

/** QueryLedger defaults of a new deployment. */
export const DEFAULT_LEDGER = {
  /** How long after its removal a removed provider may still land its last batches. */
  removedGraceSeconds: 7n * 24n * 3600n,
  /** Bounds a removed provider's records: deadline <= removal time + this. */
  maxRequestLifetimeSeconds: BigInt(MAX_REQUEST_TTL_SECONDS),
} as const;

/** The QueryLedger's credit parameters (docs/PROTOCOL.md "Credits, metering and the bonus pool"). */
export interface CreditParams {
  /** Credits every member account holds before its first metered record (1 credit = 1 evaluated item). */
  startingCredits: bigint;
  /** L: the most a member past its first 90 days may overdraw (also at most what it earned in 90 days). */
  overdraftLimit: bigint;
  /** The weekly bonus pool, in percent of the week's metered items (0..100). */
  poolPercent: number;
  /** The most one provider takes of a week's pool, in percent (0..100). */
  providerCapPercent: number;
  /** Credits burnt from a provider per false positive reported on it. */
  falsePositiveBurn: bigint;
}

/** Credit defaults of a new deployment; fixed for the ledger's life. */
export const DEFAULT_CREDITS: Readonly<CreditParams> = {
  startingCredits: 100_000n,
  overdraftLimit: 100_000n,
  poolPercent: 10,
  providerCapPercent: 20,
  falsePositiveBurn: 10n,
};
