/**
 * The reciprocity rule (DESIGN "Reciprocity"): a member may query category c of a provider only
 * if it contributes to c — its latest on-chain snapshot for c counts at least minEntries(c) live
 * entries and is at most maxSnapshotAge(c) old — and only min(quotaCeiling(c), quotaBase(c) +
 * ratio(c) × contributed) items per provider per rolling day. A pure function: same facts in, same decision out.
 */
import { assertArgument } from "../errors.ts";
import { BPS_DENOMINATOR, MAX_CATEGORY_ID, MIN_CATEGORY_ID } from "./constants.ts";

/** A whole number as the chain cache holds it (bigint) or as a test writes it (number). */
export type Count = bigint | number;

/** One category's reciprocity parameters, as voted on chain. */
export interface CategoryPolicy {
  /** Least live entries the querier's latest snapshot must count. */
  minEntries: Count;
  /** Oldest the querier's latest snapshot may be, in seconds (exactly this old is still fresh). */
  maxSnapshotAgeSeconds: Count;
  /** Queries per provider per rolling window granted to every contributing member. */
  quotaBase: Count;
  /** Extra queries per contributed entry, in basis points (10,000 = one query per entry). */
  quotaRatioBps: Count;
  /** The most items per provider per rolling window any member earns, whatever it contributes. */
  quotaCeiling: Count;
}

/** The querier's latest on-chain contribution snapshot for one category. */
export interface ContributionSnapshot {
  /** Live entries the snapshot counts. */
  liveCount: Count;
  /** Unix seconds at which the snapshot was published. */
  publishedAt: number;
  /** It failed an on-chain spot-check, unanswered (ContributionRegistry.isUnproven): it counts for nothing. */
  unproven?: boolean;
}

/** Everything the rule needs to know about one requested category. */
export interface CategoryFacts {
  /** Whether the category is active on chain. */
  active: boolean;
  policy: CategoryPolicy;
  /** The querier's latest snapshot for the category; undefined when it never published one. */
  snapshot: ContributionSnapshot | undefined;
  /** Queries this querier already made to THIS provider for the category in the rolling window. */
  usedInWindow: number;
}

/** Input of {@link decideReciprocity}. */
export interface ReciprocityInput {
  /** Unix seconds, whole. */
  nowSec: number;
  /** Category ids the request asks for (1..63); duplicates count once. */
  requestedCategories: readonly number[];
  /** Facts per category id; an id missing here is treated as an inactive (unknown) category. */
  categories: ReadonlyMap<number, CategoryFacts>;
  /** Items the request carries (evaluated elements or fetched prefixes): the quota is counted in items. Default 1. */
  items?: number;
}

/** Why a request is refused. */
export type ReciprocityReason =
  | "category_inactive"
  | "no_contribution"
  | "contribution_too_small"
  | "snapshot_stale"
  | "contribution_unproven"
  | "quota_exceeded";

/** Every reason, in the order the rule checks them for a category. */
export const RECIPROCITY_REASONS: readonly ReciprocityReason[] = [
  "category_inactive", "no_contribution", "contribution_too_small", "snapshot_stale", "contribution_unproven", "quota_exceeded",
];

/** A request that may be answered: `quotaRemaining` is what is left after counting this one. */
export interface ReciprocityAllowed {
  allowed: true;
  /** The smallest, over the requested categories, of quota − used − items (this request counted). */
  quotaRemaining: number;
}

/** A refused request: the first category (by id) that fails, and why. */
export interface ReciprocityDenied {
  allowed: false;
  reason: ReciprocityReason;
  categoryId: number;
}

/** The rule's verdict. */
export type ReciprocityDecision = ReciprocityAllowed | ReciprocityDenied;

/**
 * The quota a contribution earns: min(ceiling, base + floor(ratioBps × liveCount / 10,000)). The
 * ceiling bounds what any snapshot buys, so an inflated count cannot lift the limit altogether.
 */
export function quotaFor(policy: CategoryPolicy, liveCount: Count): bigint {
  const earned = toCount(policy.quotaBase, "quotaBase") + (toCount(policy.quotaRatioBps, "quotaRatioBps") * toCount(liveCount, "liveCount")) / BPS_DENOMINATOR;
  const ceiling = toCount(policy.quotaCeiling, "quotaCeiling");
  return earned < ceiling ? earned : ceiling;
}

/**
 * Whether the querier qualifies for one category at all (everything but the quota): the reason
 * it does not, or undefined when it does.
 */
export function eligibilityFailure(facts: CategoryFacts | undefined, nowSec: number): Exclude<ReciprocityReason, "quota_exceeded"> | undefined {
  if (facts === undefined || !facts.active) return "category_inactive";
  const { policy, snapshot } = facts;
  if (snapshot === undefined) return "no_contribution";
  const liveCount = toCount(snapshot.liveCount, "liveCount");
  // A snapshot of zero live entries is no contribution, whatever minEntries says.
  if (liveCount === 0n) return "no_contribution";
  if (liveCount < toCount(policy.minEntries, "minEntries")) return "contribution_too_small";
  const ageSeconds = BigInt(nowSec) - BigInt(snapshot.publishedAt);
  if (ageSeconds > toCount(policy.maxSnapshotAgeSeconds, "maxSnapshotAgeSeconds")) return "snapshot_stale";
  // A snapshot whose provider let a challenge expire unanswered is refused until it answers or
  // publishes anew: the chain's verdict after a day to prove it, not any one member's claim.
  if (snapshot.unproven === true) return "contribution_unproven";
  return undefined;
}

/**
 * Decides whether a querier may ask this provider for the requested categories now. Every
 * requested category must allow it. Eligibility (category active, contribution big and fresh
 * enough) is checked for all categories before any quota, so a querier that does not contribute
 * is told so rather than that a quota ran out; within a pass, the lowest category id reports.
 */
export function decideReciprocity(input: ReciprocityInput): ReciprocityDecision {
  const { nowSec } = input;
  assertArgument(Number.isSafeInteger(nowSec), "must be whole unix seconds", "nowSec");
  const categoryIds = [...new Set(input.requestedCategories)].sort((a, b) => a - b);
  assertArgument(categoryIds.length > 0, "a request asks for at least one category", "requestedCategories");

  for (const categoryId of categoryIds) {
    const facts = isCategoryId(categoryId) ? input.categories.get(categoryId) : undefined;
    if (facts !== undefined) assertFacts(facts);
    const reason = eligibilityFailure(facts, nowSec);
    if (reason !== undefined) return { allowed: false, reason, categoryId };
  }

  const items = BigInt(input.items ?? 1);
  assertArgument(items >= 1n, "a request carries at least one item", "items");
  let quotaRemaining = BigInt(Number.MAX_SAFE_INTEGER);
  for (const categoryId of categoryIds) {
    const facts = input.categories.get(categoryId)!;
    const quota = quotaFor(facts.policy, facts.snapshot!.liveCount);
    const used = BigInt(facts.usedInWindow);
    if (used + items > quota) return { allowed: false, reason: "quota_exceeded", categoryId };
    const left = quota - used - items;
    if (left < quotaRemaining) quotaRemaining = left;
  }
  return { allowed: true, quotaRemaining: Number(quotaRemaining) };
}

/** True for a category id a request may carry (1..63). */
export function isCategoryId(value: number): boolean {
  return Number.isInteger(value) && value >= MIN_CATEGORY_ID && value <= MAX_CATEGORY_ID;
}

function assertFacts(facts: CategoryFacts): void {
  assertArgument(Number.isSafeInteger(facts.usedInWindow) && facts.usedInWindow >= 0, "must be a whole number ≥ 0", "usedInWindow");
  if (facts.snapshot !== undefined) {
    assertArgument(Number.isSafeInteger(facts.snapshot.publishedAt), "must be whole unix seconds", "snapshot.publishedAt");
  }
}

function toCount(value: Count, name: string): bigint {
  assertArgument(typeof value === "bigint" || Number.isSafeInteger(value), "must be a whole number", name);
  const count = BigInt(value);
  assertArgument(count >= 0n, "must be ≥ 0", name);
  return count;
}
