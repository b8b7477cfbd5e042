/**
 * Asking whom it pays to ask: the querier keeps, per provider and category, how many items it asked
 * and how many of them the provider's list held (as it observed them: hits stay with the querier),
 * and skips a provider's category whose hit rate is below the floor it sets. Never in a provider's
 * first `graceDays` (from its admission), never before `minSampleItems` items were asked, and never
 * for a request drawn to explore (`exploreRate`, ≥ 5%, one draw per request): so a provider can
 * always show it improved. The choice depends on the category and the history only, never on a
 * request's items. A check that names its providers skips nobody. This is what starves junk lists.
 */

/** What the querier observed of one provider in one category. */
export interface HitRateRecord {
  readonly provider: string;
  readonly categoryId: number;
  /** Items asked (the identifiers, not the padding). */
  readonly items: number;
  /** Items the provider's list held. */
  readonly hits: number;
}

/** Options of {@link ProviderSelection}. */
export interface ProviderSelectionOptions {
  /** Hit rate (hits / items asked) below which a provider's category is skipped; 0 asks everyone. */
  readonly hitRateFloor: number;
  /** Share of requests that ask everyone regardless (at least 0.05). */
  readonly exploreRate: number;
  /** Days after a provider's admission during which it is always asked. */
  readonly graceDays: number;
  /** Items asked of a provider in a category before its rate is judged. */
  readonly minSampleItems: number;
}

/** Defaults of {@link ProviderSelectionOptions}: a floor of 0 (nobody skipped) until a member sets one. */
export const PROVIDER_SELECTION_DEFAULTS: ProviderSelectionOptions = { hitRateFloor: 0, exploreRate: 0.05, graceDays: 30, minSampleItems: 1_000 };

/** The least share of requests that explore: below it a skipped provider could never recover. */
export const MIN_EXPLORE_RATE = 0.05;

/** Dependencies of {@link ProviderSelection}. */
export interface ProviderSelectionModules {
  /** When a provider joined the consortium (unix seconds), if known. */
  joinedAt(provider: string): number | undefined;
  /** Uniform in [0, 1): the exploring draw (Math.random by default). */
  random?(): number;
}

/** A request's choice: whether to skip a provider's category. */
export interface SelectionPlan {
  /** True when this request explores: nobody is skipped. */
  readonly exploring: boolean;
  skip(provider: string, categoryId: number): boolean;
}

/** The querier's hit-rate history and the choice it makes from it. */
export class ProviderSelection {
  readonly #opts: ProviderSelectionOptions;
  readonly #modules: ProviderSelectionModules;
  readonly #records = new Map<string, { items: number; hits: number }>();

  constructor(opts: Partial<ProviderSelectionOptions>, modules: ProviderSelectionModules) {
    const merged = { ...PROVIDER_SELECTION_DEFAULTS, ...opts };
    this.#opts = { ...merged, exploreRate: Math.max(MIN_EXPLORE_RATE, merged.exploreRate) };
    this.#modules = modules;
  }

  /** Records an answered lookup of `items` items in `categoryIds`, and how many hits each category had. */
  observe(provider: string, categoryIds: readonly number[], items: number, hitsByCategory: ReadonlyMap<number, number>): void {
    for (const categoryId of categoryIds) {
      const key = keyOf(provider, categoryId);
      const record = this.#records.get(key) ?? { items: 0, hits: 0 };
      record.items += items;
      record.hits += hitsByCategory.get(categoryId) ?? 0;
      this.#records.set(key, record);
    }
  }

  /** The observed rate of a provider's category (undefined before anything was asked). */
  rate(provider: string, categoryId: number): { items: number; hits: number; rate: number } | undefined {
    const record = this.#records.get(keyOf(provider, categoryId));
    return record === undefined || record.items === 0 ? undefined : { ...record, rate: record.hits / record.items };
  }

  /** The choice for one request at `nowSec` (one exploring draw for the whole request). */
  plan(nowSec: number): SelectionPlan {
    const { hitRateFloor, exploreRate, graceDays, minSampleItems } = this.#opts;
    const exploring = hitRateFloor <= 0 || (this.#modules.random ?? Math.random)() < exploreRate;
    return {
      exploring,
      skip: (provider, categoryId) => {
        if (exploring) return false;
        const joinedAt = this.#modules.joinedAt(provider);
        if (joinedAt === undefined || nowSec < joinedAt + graceDays * 86_400) return false;
        const observed = this.rate(provider, categoryId);
        return observed !== undefined && observed.items >= minSampleItems && observed.rate < hitRateFloor;
      },
    };
  }

  /** Every record, for saving. */
  export(): HitRateRecord[] {
    return [...this.#records].map(([key, r]) => {
      const [provider, categoryId] = key.split("/");
      return { provider: provider!, categoryId: Number(categoryId), items: r.items, hits: r.hits };
    });
  }

  /** Adds saved records (at start). */
  import(records: readonly HitRateRecord[]): void {
    for (const r of records) {
      if (!Number.isSafeInteger(r.items) || !Number.isSafeInteger(r.hits) || r.items < 0 || r.hits < 0 || r.hits > r.items) continue;
      this.#records.set(keyOf(r.provider, r.categoryId), { items: r.items, hits: r.hits });
    }
  }
}

function keyOf(provider: string, categoryId: number): string {
  return `${provider.toLowerCase()}/${categoryId}`;
}
