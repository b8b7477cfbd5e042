/**
 * Publishing contribution snapshots: the store builds each category's base filter and computes the
 * snapshot, a publisher (node/chain) sends it to the ContributionRegistry.
 */
import type { ContributionSnapshot, Store } from "./store.ts";

/** Sends one snapshot on chain: `ContributionRegistry.publish(categoryId, keyEpoch, liveCount, filterHash)`; resolves to the tx hash. */
export interface ContributionPublisher {
  publish(categoryId: number, keyEpoch: number, liveCount: number, filterHash: string): Promise<string>;
}

/** A snapshot and the transaction that published it. */
export interface PublishedSnapshot extends ContributionSnapshot {
  readonly txHash: string;
}

/** Builds and publishes the snapshot of each category, one after another (one sender, nonces in order). */
export async function publishSnapshots(store: Store, publisher: ContributionPublisher, categories: Iterable<number>, nowSec = Math.floor(Date.now() / 1000)): Promise<PublishedSnapshot[]> {
  const published: PublishedSnapshot[] = [];
  for (const categoryId of categories) {
    const snapshot = await store.snapshot(categoryId, nowSec);
    const txHash = await publisher.publish(snapshot.categoryId, snapshot.keyEpoch, snapshot.liveCount, snapshot.filterHash);
    published.push({ ...snapshot, txHash });
  }
  return published;
}
