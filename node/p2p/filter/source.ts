/**
 * A provider's store as `/riskshare/filter/1` serves it. The protocol counts delta seqs from the
 * base (0 = none since it); the store numbers its delta log from its creation and remembers the seq
 * its base covers, so seqs are shifted by that.
 */
import { RiskshareError } from "../../errors.ts";
import type { Store } from "../../store/index.ts";
import type { FilterSource } from "./components.ts";

/** The filter source of a store v2. */
export function storeFilterSource(store: Pick<Store, "filterState" | "baseFilter" | "deltasSince">): FilterSource {
  return {
    filterState: async (categoryId) => {
      const state = store.filterState(categoryId);
      if (state.baseHash === null || state.keyEpoch === undefined) return undefined;
      return { epoch: state.keyEpoch, baseHash: state.baseHash, baseCount: state.baseCount, seq: state.seq - state.baseSeq };
    },
    baseFilter: async (categoryId) => {
      const base = await store.baseFilter(categoryId);
      if (base === undefined) throw new RiskshareError("E_NOT_FOUND", `no base filter is built for category ${categoryId}; publish first`, { categoryId });
      return base.bytes;
    },
    deltasSince: async (categoryId, seq) => {
      const { baseSeq } = store.filterState(categoryId);
      const deltas = await store.deltasSince(categoryId, baseSeq + seq);
      if (deltas === undefined) return undefined;
      return deltas.seq === deltas.fromSeq ? [] : [{ seq: deltas.seq - baseSeq, adds: deltas.adds, removes: deltas.removes, notices: deltas.notices }];
    },
  };
}
