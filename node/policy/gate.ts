/**
 * The reciprocity rule fed with the consortium's facts: a category's policy and the querier's
 * snapshot as the chain cache holds them, its usage as the quota counters hold it.
 */
import type { ReciprocityDecision, CategoryFacts, CategoryPolicy, ContributionSnapshot } from "./reciprocity.ts";
import { decideReciprocity, eligibilityFailure } from "./reciprocity.ts";
import type { UsageTracker } from "./usage.ts";

/** A category as the chain cache holds it. */
export interface PolicyCategory {
  id: number;
  active: boolean;
  policy: CategoryPolicy;
}

/** What the gate reads of the consortium (the chain's ConsortiumView fits). */
export interface PolicyView {
  category(id: number): PolicyCategory | undefined;
  categories(): readonly PolicyCategory[];
  /** The member's latest contribution snapshot for the category, if it ever published one. */
  contribution(address: string, categoryId: number): ContributionSnapshot | undefined;
  /**
   * The first account of the member `address` belongs to, following its member key rotations back
   * (itself if it never rotated): quota usage is counted per member, so a member that moves to a
   * new account keeps its day's usage instead of starting afresh.
   */
  firstAccountOf?(address: string): string;
}

/** Dependencies of {@link ReciprocityGate}. */
export interface ReciprocityGateModules {
  view: PolicyView;
  usage: Pick<UsageTracker, "usage" | "recordAll">;
}

/** Decides lookups under reciprocity and quota, and counts the ones it allows. */
export class ReciprocityGate {
  private readonly modules: ReciprocityGateModules;

  constructor(modules: ReciprocityGateModules) {
    this.modules = modules;
  }

  /** The rule's decision for `querier` asking `categoryIds` for `items` items at `nowSec`; an allowed request's items are counted. */
  decide(querier: string, categoryIds: readonly number[], nowSec: number, items = 1): ReciprocityDecision {
    const facts = new Map<number, CategoryFacts>();
    const counted = this.modules.view.firstAccountOf?.(querier) ?? querier;
    for (const id of categoryIds) {
      const category = this.modules.view.category(id);
      if (category === undefined) continue;
      facts.set(id, this.facts(querier, category, this.modules.usage.usage(counted, id, nowSec)));
    }
    const decision = decideReciprocity({ nowSec, requestedCategories: categoryIds, categories: facts, items });
    if (decision.allowed) this.modules.usage.recordAll(counted, categoryIds, nowSec, items);
    return decision;
  }

  /**
   * The querier's side of the rule, before anything is sent: whether it may ask for every one of
   * `categoryIds` (quota aside, nothing counted). A provider would refuse otherwise, so nothing goes out.
   */
  mayAsk(querier: string, categoryIds: readonly number[], nowSec: number): ReciprocityDecision {
    for (const id of [...new Set(categoryIds)].sort((a, b) => a - b)) {
      const decision = this.eligible(querier, id, nowSec);
      if (!decision.allowed) return decision;
    }
    return { allowed: true, quotaRemaining: Number.MAX_SAFE_INTEGER };
  }

  /** Whether `querier` may ask for `categoryId` at all at `nowSec`, quota aside and nothing counted: a filter download's gate. */
  eligible(querier: string, categoryId: number, nowSec: number): ReciprocityDecision {
    const category = this.modules.view.category(categoryId);
    const reason = eligibilityFailure(category === undefined ? undefined : this.facts(querier, category, 0), nowSec);
    return reason === undefined ? { allowed: true, quotaRemaining: Number.MAX_SAFE_INTEGER } : { allowed: false, reason, categoryId };
  }

  /**
   * Categories `member` may ask for at `nowSec` (quota aside): the active ones it contributes to,
   * or every active one when it contributes to none, so the refusal shows in the answer.
   */
  defaultCategoryIds(member: string, nowSec: number): number[] {
    const active = this.modules.view.categories().filter((category) => category.active);
    const eligible = active.filter((category) => eligibilityFailure(this.facts(member, category, 0), nowSec) === undefined);
    return (eligible.length > 0 ? eligible : active).map((category) => category.id);
  }

  private facts(querier: string, category: PolicyCategory, usedInWindow: number): CategoryFacts {
    const snapshot = this.modules.view.contribution(querier, category.id);
    return {
      active: category.active,
      policy: category.policy,
      snapshot: snapshot === undefined ? undefined : { liveCount: snapshot.liveCount, publishedAt: snapshot.publishedAt, unproven: snapshot.unproven === true },
      usedInWindow,
    };
  }
}
