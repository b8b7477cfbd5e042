/**
 * Reciprocity and quota decisions: pure functions plus a bounded usage counter.
 *
 * @example
 *   const tracker = new UsageTracker();
 *   const decision = decideReciprocity({
 *     nowSec,
 *     requestedCategories: [1, 3],
 *     categories: new Map([[1, { active: true, policy, snapshot, usedInWindow: tracker.usage(querier, 1, nowSec) }], …]),
 *   });
 *   if (decision.allowed) tracker.recordAll(querier, [1, 3], nowSec);
 *   else throw reciprocityError(decision); // E_RECIPROCITY | E_QUOTA | E_CATEGORY_UNKNOWN, ledger outcome via reciprocityOutcome()
 */
export { BPS_DENOMINATOR, MAX_CATEGORY_ID, MIN_CATEGORY_ID, QUOTA_WINDOW_SECONDS } from "./constants.ts";
export { USAGE_TRACKER_DEFAULTS, type UsageTrackerOptions } from "./options.ts";
export {
  decideReciprocity,
  eligibilityFailure,
  isCategoryId,
  quotaFor,
  RECIPROCITY_REASONS,
  type CategoryFacts,
  type CategoryPolicy,
  type ContributionSnapshot,
  type Count,
  type ReciprocityAllowed,
  type ReciprocityDecision,
  type ReciprocityDenied,
  type ReciprocityInput,
  type ReciprocityReason,
} from "./reciprocity.ts";
export { RECIPROCITY_ERROR_CODES, RECIPROCITY_OUTCOMES, reciprocityError, reciprocityOutcome } from "./errors.ts";
export {
  bucketInWindow,
  bucketStart,
  UsageTracker,
  windowUsage,
  type UsageBucket,
  type UsageRecord,
  type UsageTrackerModules,
  type WindowSpec,
} from "./usage.ts";
export { ReciprocityGate, type PolicyCategory, type PolicyView, type ReciprocityGateModules } from "./gate.ts";
export { SavedUsage, USAGE_KEY, type SavedUsageModules, type SavedUsageOptions, type UsageDb } from "./saved.ts";
export { DecayModels, decayFactor, decayScore, DEFAULT_DECAY_MODEL, MAX_DECAY_SCORE, type Confirmations, type DecayModel } from "./decay.ts";
export { availableCredits, CREDIT_GATE_MAX_AGE_MS, CREDIT_GATE_READ_WAIT_MS, CreditGate, type CreditDecision, type CreditGateModules, type CreditGateOptions, type CreditsReader, type MemberCredits } from "./credits.ts";
export { MIN_EXPLORE_RATE, PROVIDER_SELECTION_DEFAULTS, ProviderSelection, type HitRateRecord, type ProviderSelectionModules, type ProviderSelectionOptions, type SelectionPlan } from "./selection.ts";
