/**
 * Which providers' filters this member keeps: every other Active member, for each category this
 * member may ask for and that the provider's on-chain snapshot lists anything in; and the snapshot a
 * downloaded base filter must hash to.
 */
import type { DialTarget } from "@libp2p/interface";
import type { FilterDirectory, FilterTarget } from "./components.ts";

/** What the directory reads (the chain's ConsortiumView fits `activeMembers` and `contribution`). */
export interface FilterDirectoryModules {
  /** This member's address (its own filters are not fetched). */
  self: string;
  activeMembers(): readonly { address: string; peerId: string }[];
  contribution(address: string, categoryId: number): { liveCount: bigint; keyEpoch: number; filterHash: string } | undefined;
  /** The categories this member may ask for now (reciprocity, quota aside). */
  askableCategoryIds(): readonly number[];
  dialTarget(peerIdHex: string): DialTarget;
}

/** The filter directory over the chain's view. */
export function filterDirectory(modules: FilterDirectoryModules): FilterDirectory {
  return {
    targets: (): FilterTarget[] => {
      const askable = modules.askableCategoryIds();
      return modules.activeMembers()
        .filter((m) => m.address.toLowerCase() !== modules.self.toLowerCase())
        .map((m) => ({
          providerAddress: m.address, peer: modules.dialTarget(m.peerId),
          categoryIds: askable.filter((id) => (modules.contribution(m.address, id)?.liveCount ?? 0n) > 0n),
        }))
        .filter((target) => target.categoryIds.length > 0);
    },
    snapshot: (provider, categoryId) => {
      const snapshot = modules.contribution(provider, categoryId);
      return snapshot === undefined ? undefined : { keyEpoch: snapshot.keyEpoch, filterHash: snapshot.filterHash, liveCount: snapshot.liveCount };
    },
  };
}
