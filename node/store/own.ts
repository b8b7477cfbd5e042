/**
 * This member's own lists as a check reads them: each identifier's entry id from the member's own
 * OPRF key (its entry key evaluator), then the store. Never leaves the node.
 */
import type { EntryKeyEvaluator } from "../identity/index.ts";
import type { Store } from "./store.ts";

/** One own-list answer, in the shape a check merges. */
export type OwnResult =
  | { hit: false }
  | { hit: true; category: number; level: number; reason: string; reportedAt: number; expiresAt?: number; providerRef?: string; confirmations?: number; lastConfirmedAt?: number };

/** A provider reference a check may show: printable ASCII, 1–128 characters. */
const SHOWN_REF = /^[\x20-\x7e]{1,128}$/;

/** Looks identifiers up in this member's own store. */
export class OwnLists {
  private readonly modules: { store: Pick<Store, "checkMany">; evaluator: () => Pick<EntryKeyEvaluator, "keysOf"> | undefined };

  constructor(modules: { store: Pick<Store, "checkMany">; evaluator: () => Pick<EntryKeyEvaluator, "keysOf"> | undefined }) {
    this.modules = modules;
  }

  /** One result per item, in order: a hit only for a live entry in one of `categoryIds`; all misses while no key is held. */
  async checkMany(items: readonly { type: string; value: string }[], categoryIds: readonly number[], nowSec: number): Promise<OwnResult[]> {
    const evaluator = this.modules.evaluator();
    if (evaluator === undefined) return items.map(() => ({ hit: false }));
    const wanted = new Set(categoryIds);
    const keys = items.map((item) => ({ type: item.type, entryId: evaluator.keysOf(item.type, item.value).entryId }));
    const results = await this.modules.store.checkMany(keys, nowSec);
    return results.map((result): OwnResult => {
      if (!result.hit || !wanted.has(result.entry.categoryId)) return { hit: false };
      const e = result.entry;
      return {
        hit: true, category: e.categoryId, level: e.level, reason: e.reason, reportedAt: e.reportedAtSec,
        ...(e.expiresAtSec === undefined ? {} : { expiresAt: e.expiresAtSec }),
        ...(e.ownRef !== undefined && SHOWN_REF.test(e.ownRef) ? { providerRef: e.ownRef } : {}),
        // Other members' confirmations of this member's own entry raise its score here as at any querier.
        ...(e.confirmations ? { confirmations: e.confirmations, lastConfirmedAt: e.lastConfirmedAtSec ?? 0 } : {}),
      };
    });
  }
}
