/**
 * How a reciprocity denial shows on chain (QueryOutcome) and to the querier (RiskshareError code).
 */
import { RiskshareError, type ErrorCode } from "../errors.ts";
import { QueryOutcome, type QueryOutcomeCode } from "../chain/index.ts";
import type { ReciprocityDenied, ReciprocityReason } from "./reciprocity.ts";

/** The ledger outcome recorded for each denial reason. */
export const RECIPROCITY_OUTCOMES: Readonly<Record<ReciprocityReason, QueryOutcomeCode>> = {
  category_inactive: QueryOutcome.DeniedCategory,
  no_contribution: QueryOutcome.DeniedReciprocity,
  contribution_too_small: QueryOutcome.DeniedReciprocity,
  snapshot_stale: QueryOutcome.DeniedReciprocity,
  contribution_unproven: QueryOutcome.DeniedReciprocity,
  quota_exceeded: QueryOutcome.DeniedQuota,
};

/** The error code the querier receives for each denial reason. */
export const RECIPROCITY_ERROR_CODES: Readonly<Record<ReciprocityReason, ErrorCode>> = {
  category_inactive: "E_CATEGORY_UNKNOWN",
  no_contribution: "E_RECIPROCITY",
  contribution_too_small: "E_RECIPROCITY",
  snapshot_stale: "E_RECIPROCITY",
  contribution_unproven: "E_RECIPROCITY",
  quota_exceeded: "E_QUOTA",
};

const MESSAGES: Readonly<Record<ReciprocityReason, string>> = {
  category_inactive: "the category is not active on chain",
  no_contribution: "the querier has no contribution snapshot for the category",
  contribution_too_small: "the querier's contribution to the category is below the minimum",
  snapshot_stale: "the querier's contribution snapshot for the category is too old",
  contribution_unproven: "the querier's contribution snapshot for the category failed a spot-check on chain, unanswered; its node answers it, or publish a new snapshot",
  quota_exceeded: "the querier's daily quota at this provider for the category is used up",
};

/** The ledger outcome of a denial. */
export function reciprocityOutcome(reason: ReciprocityReason): QueryOutcomeCode {
  return RECIPROCITY_OUTCOMES[reason];
}

/** The error a denial becomes at the protocol boundary (message and metadata carry no secret). */
export function reciprocityError(denial: ReciprocityDenied): RiskshareError {
  return new RiskshareError(RECIPROCITY_ERROR_CODES[denial.reason], `${MESSAGES[denial.reason]} (category ${denial.categoryId})`, {
    reason: denial.reason,
    categoryId: denial.categoryId,
  });
}
