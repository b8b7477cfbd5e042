/**
 * The node's own lists as lookups read them: stored entries become wire results, a hit only in a
 * category asked for, its owner's reference only when the wire can carry it.
 */
import { getBytes } from "ethers";
import type { EntryLookup } from "./components.ts";
import { hitResult, type LookupItem, type LookupResult } from "./messages.ts";

/** A stored entry, as much of it as an answer shows (the store's StoredEntry fits). */
export interface OwnEntry {
  categoryId: number;
  level: number;
  reason: string;
  reportedAtSec: number;
  expiresAtSec?: number | undefined;
  /** The owner's own reference: sent only when it is printable ASCII of a length the wire allows. */
  ownRef?: string | undefined;
}

/** One identifier's answer from the store. */
export type OwnCheckResult = { readonly hit: false } | { readonly hit: true; readonly entry: OwnEntry };

/** The store as {@link OwnEntries} reads it (node/store's Store fits). */
export interface OwnEntrySource {
  checkMany(keys: readonly { type: string; hash: Uint8Array }[], nowSec: number): Promise<readonly OwnCheckResult[]>;
}

/** The wire result of one store answer: a miss unless the entry is in `categoryIds`. */
export function ownLookupResult(result: OwnCheckResult, categoryIds: ReadonlySet<number>): LookupResult {
  if (!result.hit || !categoryIds.has(result.entry.categoryId)) return { hit: false };
  const e = result.entry;
  return {
    hit: true, category: e.categoryId, level: e.level, reason: e.reason, reportedAt: e.reportedAtSec,
    ...(e.expiresAtSec === undefined ? {} : { expiresAt: e.expiresAtSec }),
    ...(e.ownRef !== undefined && hitResult.shape.providerRef.safeParse(e.ownRef).success ? { providerRef: e.ownRef } : {}),
  };
}

/** Answers lookups (and the API's own-list part of a check) from the node's store. */
export class OwnEntries implements EntryLookup {
  private readonly store: OwnEntrySource;

  constructor(modules: { store: OwnEntrySource }) {
    this.store = modules.store;
  }

  /** One result per item, in order. */
  async checkMany(items: readonly LookupItem[], categoryIds: readonly number[], nowSec: number): Promise<LookupResult[]> {
    const wanted = new Set(categoryIds);
    const results = await this.store.checkMany(items.map((item) => ({ type: item.type, hash: getBytes(item.hash) })), nowSec);
    return results.map((result) => ownLookupResult(result, wanted));
  }
}
