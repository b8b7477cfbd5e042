/**
 * Member nodes for the p2p benchmarks, on 127.0.0.1 in this process: a real libp2p host, the real
 * `/riskshare/lookup/2` and `/riskshare/filter/1` services, a real store v2 (LevelDB in a temporary
 * directory: entries, tag index, delta log, base filters, `fetchBuckets` sealing metadata at answer
 * time), its real ledger outbox (fsynced before every answer) and nonce store, the real VOPRF
 * (libsodium) and the real FilterSync keeping every other member's filters. In memory, standing in
 * for what node.ts wires: the chain view (members, published OPRF keys, contribution snapshots),
 * reciprocity (always allowed) and the querier's journal (a no-op: the encrypted v2 journal is not
 * built yet). The small adapters from the store's shapes to the p2p components live here until
 * node.ts has them.
 *
 * @example
 *   const chain = new BenchChain();
 *   const provider = await startMember(chain, benchWallet(rng), rng);
 *   await fillStore(provider, { synthetic: 1_000_000, listed }, rng, log);   // then publishes snapshots
 *   const querier = await startMember(chain, benchWallet(rng), rng);
 *   await syncFilters(querier);                                                // FilterSync, base filters over filter/1
 *   const outcome = await querier.lookup.lookupPeer(provider.host.getMultiaddrs(), { providerAddress: provider.address, items, categoryIds });
 *   await stopMembers([querier, provider]);
 */
import type { Multiaddr } from "@multiformats/multiaddr";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getAddress, Wallet } from "ethers";
import { createVoprf, EntryKeyEvaluator, OffThreadBatchEvaluator, tryNormalise, type EntryKeyContext, type Voprf } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import type { ReciprocityDecision } from "../../node/policy/index.ts";
import {
  createHost, digestSignerFromEvmKey, MAX_ITEMS_PER_REQUEST, filter, FilterSync, lookup, storeBuckets, storeFilterSource, type FilterCache, type FilterDirectory,
  type FilterService, type HeldFilter, type LookupInit, type LookupService, type MembershipView,
  type Outbox as OutboxComponent, type PeerIdentity, type QueryItem, type RiskshareHost,
} from "../../node/p2p/index.ts";
import { createMetadataCipher, filterContains, Store, tagFilterCount, type EntryInput, type NonceCounters, type Outbox } from "../../node/store/index.ts";
import { BENCH_CATEGORIES, Prng, RowGenerator } from "./data.ts";

/** Chain id and ledger address of the EIP-712 domain (no chain is involved in these suites). */
export const BENCH_CHAIN_ID = 31_337n;
export const BENCH_LEDGER = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");
/** Every category id of the generated lists: what the suites ask for. */
export const BENCH_CATEGORY_IDS: readonly number[] = [...BENCH_CATEGORIES.values()];
/** Entries per atomic upsert when filling a store. */
const FILL_BATCH = 10_000;
/** The per-peer item bucket in the suites: the config's ceiling (see startMember). */
const BENCH_PEER_ITEMS = 1_000_000;
const ALLOWED: ReciprocityDecision = { allowed: true, quotaRemaining: 1_000_000_000 };

/** A published contribution snapshot of one (member, category). */
interface PublishedSnapshot {
  liveCount: number;
  filterHash: string;
  keyEpoch: number;
}

/** The chain as every node of a suite sees it: Active members and where they listen, OPRF keys, snapshots. */
export class BenchChain implements MembershipView {
  readonly #members = new Map<string, { address: string; peer: Multiaddr[] }>();
  readonly #keys = new Map<string, Uint8Array>();
  readonly #snapshots = new Map<string, PublishedSnapshot>();

  add(address: string, peer: Multiaddr[]): void {
    this.#members.set(address.toLowerCase(), { address, peer });
  }
  isActivePeer(peer: PeerIdentity): boolean {
    return this.#members.has(peer.address.toLowerCase());
  }
  publishKey(address: string, epoch: number, publicKey: Uint8Array): void {
    this.#keys.set(`${address.toLowerCase()}/${epoch}`, publicKey);
  }
  keyAt(provider: string, epoch: number): Uint8Array | undefined {
    return this.#keys.get(`${provider.toLowerCase()}/${epoch}`);
  }
  publishSnapshot(address: string, categoryId: number, snapshot: PublishedSnapshot): void {
    this.#snapshots.set(`${address.toLowerCase()}/${categoryId}`, snapshot);
  }
  liveCount(member: string, categoryId: number): number | undefined {
    return this.#snapshots.get(`${member.toLowerCase()}/${categoryId}`)?.liveCount;
  }
  snapshotOf(member: string, categoryId: number): PublishedSnapshot | undefined {
    const snapshot = this.#snapshots.get(`${member.toLowerCase()}/${categoryId}`);
    return snapshot === undefined ? undefined : { ...snapshot };
  }
  /** FilterSync's directory as `self` sees it: every other member, every bench category. */
  directoryFor(self: string): FilterDirectory {
    return {
      targets: () => [...this.#members.values()]
        .filter((m) => m.address.toLowerCase() !== self.toLowerCase())
        .map((m) => ({ providerAddress: m.address, peer: m.peer, categoryIds: [...BENCH_CATEGORY_IDS] })),
      snapshot: (providerAddress, categoryId) => {
        const snapshot = this.#snapshots.get(`${providerAddress.toLowerCase()}/${categoryId}`);
        return snapshot === undefined ? undefined : { ...snapshot, liveCount: BigInt(snapshot.liveCount) };
      },
    };
  }
}


/** The store's ledger outbox as the lookup provider appends to it. */
function outboxComponent(outbox: Outbox, onAppend: () => void): OutboxComponent {
  return {
    append: async (record) => {
      await outbox.append({
        request: record.request, signature: record.signature, outcome: record.outcome, keyEpoch: record.keyEpoch, count: record.count, answerDigest: record.answerDigest,
        receivedAtMs: record.receivedAt * 1000,
      });
      onAppend();
    },
  };
}

/** FilterSync's cache in memory; `onPut` sees every filter taken (a poll that succeeded). */
export class MemoryFilterCache implements FilterCache {
  readonly #held = new Map<string, HeldFilter>();
  onPut: ((providerAddress: string, categoryId: number) => void) | undefined;
  async get(providerAddress: string, categoryId: number): Promise<HeldFilter | undefined> {
    return this.#held.get(`${providerAddress.toLowerCase()}/${categoryId}`);
  }
  async put(providerAddress: string, categoryId: number, held: HeldFilter): Promise<void> {
    this.#held.set(`${providerAddress.toLowerCase()}/${categoryId}`, held);
    this.onPut?.(providerAddress, categoryId);
  }
}

/** One member: host, services, store, keys, and what its stand-ins saw. */
export interface BenchMember {
  wallet: Wallet;
  address: string;
  /** The chain view it is a member of. */
  chain: BenchChain;
  host: RiskshareHost;
  store: Store;
  voprf: Voprf;
  oprfKey: { epoch: number; secretKey: Uint8Array; publicKey: Uint8Array };
  /** This member's entry keys (its own OPRF key): what an import derives. */
  evaluator: EntryKeyEvaluator;
  lookup: LookupService;
  filters: FilterService;
  /** Its copies of the other members' filters (not polling until `sync.start()`). */
  sync: FilterSync;
  filterCache: MemoryFilterCache;
  /** Its request nonce counters (what its lookup service signs with). */
  nonces: NonceCounters;
  /** Its ledger outbox (store v2's, fsynced on every append). */
  ledgerOutbox: Outbox;
  /** Records the provider appended to its outbox. */
  outboxRecords(): number;
  stop(): Promise<void>;
}

/** A wallet whose key comes from the PRNG (deterministic PeerIds across runs). */
export function benchWallet(rng: Prng): Wallet {
  return new Wallet(rng.hex(32));
}

/** Options of {@link startMember}. */
export interface MemberOptions {
  lookup?: Partial<LookupInit>;
  /** FilterSync's poll interval; its default when omitted. */
  filterPollMs?: number;
  /** Evaluate large batches on a worker thread, as a node does (default true); false evaluates every batch in place. */
  offThreadBatches?: boolean;
}

/** Starts one member on 127.0.0.1 with an empty store and registers it as Active, with its OPRF key, on `chain`. */
export async function startMember(chain: BenchChain, wallet: Wallet, rng: Prng, opts: MemberOptions = {}): Promise<BenchMember> {
  const logger = silentLogger();
  const voprf = await createVoprf();
  const { secretKey, publicKey } = voprf.deriveKeyPair(rng.bytes(32), new TextEncoder().encode("riskshare bench"));
  const oprfKey = { epoch: 1, secretKey, publicKey };
  const context: EntryKeyContext = { chainId: BENCH_CHAIN_ID, providerAddress: wallet.address, keyEpoch: oprfKey.epoch };
  const dir = await mkdtemp(join(tmpdir(), "riskshare-bench-member-"));
  const stops: (() => Promise<void>)[] = [() => rm(dir, { recursive: true, force: true })];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const store = new Store({ location: join(dir, "db"), categories: BENCH_CATEGORIES, binding: context }, { logger });
    await store.open();
    stops.push(() => store.close());
    const outbox = store.outbox({ maxBacklog: 100_000_000 });
    await outbox.open();
    const nonces = store.nonceCounters();
    const host = await createHost({ privateKey: wallet.privateKey, listen: ["/ip4/127.0.0.1/tcp/0"] }, { logger, membership: chain });
    await host.start();
    stops.push(() => host.stop());
    chain.add(wallet.address, host.getMultiaddrs());
    chain.publishKey(wallet.address, oprfKey.epoch, publicKey);
    const signer = digestSignerFromEvmKey(wallet.privateKey);
    const filters = filter()({ registrar: host.libp2p, membership: chain, signer, source: storeFilterSource(store), reciprocity: { eligible: () => ALLOWED }, logger });
    await filters.start();
    stops.push(() => filters.stop());
    const filterCache = new MemoryFilterCache();
    const sync = new FilterSync(opts.filterPollMs === undefined ? {} : { filterPollMs: opts.filterPollMs }, {
      dialer: host.libp2p, directory: chain.directoryFor(wallet.address), cache: filterCache, filterContains, filterCount: tagFilterCount, logger,
    });
    stops.push(() => sync.stop());
    let outboxRecords = 0;
    // The suites measure what a provider serves one querier at most: the per-peer fair-share bucket
    // (lookup.peerItemsPerSecond, 1,000 items/s by default) is opened to the config's ceiling.
    const batchEvaluator = new OffThreadBatchEvaluator(voprf, opts.offThreadBatches === false ? { inlineMax: MAX_ITEMS_PER_REQUEST } : {});
    stops.push(() => batchEvaluator.close());
    const service = lookup({ chainId: BENCH_CHAIN_ID, queryLedgerAddress: BENCH_LEDGER, peerItemsPerSecond: BENCH_PEER_ITEMS, peerBurstItems: BENCH_PEER_ITEMS, ...opts.lookup })({
      registrar: host.libp2p,
      dialer: host.libp2p,
      membership: chain,
      signer,
      voprf,
      batchEvaluator,
      outbox: outboxComponent(outbox, () => outboxRecords++),
      nonceGuard: store.nonceWindows(),
      nonceSource: nonces,
      reciprocity: { decide: () => ALLOWED },
      oprfKeys: { current: () => oprfKey },
      store: storeBuckets(store),
      snapshots: chain,
      providerKeys: chain,
      filters: sync,
      metadata: await createMetadataCipher(),
      journal: { record: async () => undefined, recordAnswer: async () => undefined },
      logger,
    });
    await service.start();
    stops.push(() => service.stop());
    return {
      wallet, address: wallet.address, chain, host, store, voprf, oprfKey, evaluator: new EntryKeyEvaluator({ secretKey, context }, { voprf }),
      lookup: service, filters, sync, filterCache, nonces, ledgerOutbox: outbox, outboxRecords: () => outboxRecords, stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Stops every member given, whatever fails. */
export async function stopMembers(members: readonly (BenchMember | undefined)[]): Promise<void> {
  await Promise.allSettled(members.map((member) => member?.stop()));
}

/** An identifier a provider lists, normalised, with the category it lists it in. */
export interface ListedItem extends QueryItem {
  categoryId: number;
}

/** Unix seconds now: the services use the system clock. */
export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

/** The entry a provider stores for a listed identifier: keys from its own OPRF key (the import's derivation). */
export function listedEntry(member: BenchMember, item: ListedItem, rng: Prng): EntryInput {
  const { entryId, tag, metadataKey } = member.evaluator.keysOf(item.type, item.value);
  return { type: item.type, entryId, tag, metadataKey, ...entryFields(item.categoryId, rng) };
}

/**
 * An entry of keys drawn from the PRNG: to the store, the filter and a fetch it is indistinguishable
 * from one an OPRF derived (uniform 32-byte id, 8-byte tag, 32-byte key), and costs no evaluation.
 */
function syntheticEntry(rng: Prng, types: readonly string[]): EntryInput {
  return { type: types[rng.int(types.length)]!, entryId: rng.bytes(32), tag: rng.bytes(8), metadataKey: rng.bytes(32), ...entryFields(1 + rng.int(BENCH_CATEGORY_IDS.length), rng) };
}

function entryFields(categoryId: number, rng: Prng): Omit<EntryInput, "type" | "entryId" | "tag" | "metadataKey"> {
  const now = nowSec();
  return {
    categoryId, level: (1 + rng.int(5)) as EntryInput["level"], reason: `R${String(rng.int(40)).padStart(2, "0")}`, reportedAtSec: now - 86_400 - rng.int(365 * 86_400),
    ...(rng.int(3) === 0 ? { expiresAtSec: now + 365 * 86_400 + rng.int(86_400) } : {}), ownRef: `case-${rng.int(1_000_000)}`,
  };
}

/**
 * Fills a provider's store through its real write path (upserts of {@link FILL_BATCH}, the delta
 * log included): `synthetic` entries of PRNG keys and the `listed` identifiers with their real OPRF
 * keys, mixed in; then builds each category's base filter and publishes the snapshot (live count,
 * filter hash) on the bench chain, as `list publish` does. Resolves with the seconds each part took.
 */
export async function fillStore(member: BenchMember, what: { synthetic: number; listed: readonly ListedItem[] }, rng: Prng): Promise<{ upsertS: number; filterS: number }> {
  const types = ["phone", "bank_card", "national_id", "email", "device_id"];
  const total = what.synthetic + what.listed.length;
  const listedEvery = what.listed.length === 0 ? Infinity : Math.max(1, Math.floor(total / what.listed.length));
  const presence = await member.store.trackPresence(total);
  const started = performance.now();
  try {
    let listed = 0;
    for (let written = 0; written < total; written += FILL_BATCH) {
      const size = Math.min(FILL_BATCH, total - written);
      const entries = Array.from({ length: size }, (_, i) => ((written + i) % listedEvery === 0 && listed < what.listed.length
        ? listedEntry(member, what.listed[listed++]!, rng)
        : syntheticEntry(rng, types)));
      while (written + size === total && listed < what.listed.length) entries.push(listedEntry(member, what.listed[listed++]!, rng));
      await member.store.upsert(entries);
    }
  } finally {
    presence.release();
  }
  const filterStarted = performance.now();
  await publishSnapshots(member);
  return { upsertS: (filterStarted - started) / 1000, filterS: (performance.now() - filterStarted) / 1000 };
}

/** Builds every category's base filter and publishes the snapshot on the bench chain. */
export async function publishSnapshots(member: BenchMember): Promise<void> {
  for (const categoryId of BENCH_CATEGORY_IDS) {
    const snapshot = await member.store.snapshot(categoryId, nowSec());
    member.chain.publishSnapshot(member.address, categoryId, { liveCount: snapshot.liveCount, filterHash: snapshot.filterHash, keyEpoch: snapshot.keyEpoch });
  }
}

/** One poll of every other member's filters through `/riskshare/filter/1`; throws unless every one was taken. */
export async function syncFilters(member: BenchMember): Promise<void> {
  const polls = await member.sync.syncOnce();
  const failed = polls.filter((poll) => !poll.ok);
  if (failed.length > 0) throw new Error(`filter sync failed: ${JSON.stringify(failed)}`);
}

/**
 * `count` distinct normalised identifiers of the given types, from index `from` of the generator
 * (values are a bijection of their index: two ranges never share one).
 */
export function identifiers(seed: number, types: readonly string[], from: number, count: number): QueryItem[] {
  const rows = new RowGenerator(seed);
  return Array.from({ length: count }, (_, i) => {
    const type = types[i % types.length]!;
    const normal = tryNormalise(type, rows.value(type, from + Math.floor(i / types.length)));
    if (!normal.ok) throw new Error(`the generator made an invalid ${type}`);
    return { type, value: normal.value };
  });
}
