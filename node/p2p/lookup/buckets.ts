/** A provider's store as the lookup provider reads its fetch buckets (prefixes left-aligned on both sides). */
import type { Store } from "../../store/index.ts";
import type { BucketStore } from "./components.ts";

/** The bucket store of a store v2. */
export function storeBuckets(store: Pick<Store, "fetchBuckets">): BucketStore {
  return {
    fetchBuckets: async (categoryId, prefixes, nowSec) => (await store.fetchBuckets(categoryId, prefixes, nowSec)).map((bucket) => [...bucket.entries]),
  };
}
