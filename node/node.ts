// @ts-nocheck -- TODO(integrator): written against /riskshare/lookup/1 and /riskshare/pepper/1 (gone on the v2-p2p branch: PepperKeeper, pepper(), OwnEntries, hashed items, hitCount); rewire to lookup/2 + filter/1 and drop this line.
/**
 * The composition root of a member node: builds every part in dependency order, starts them,
 * and stops them in reverse. The only place that knows how the parts fit together.
 *
 * @example
 *   const node = await RiskshareNode.open({ dataDir }, { logger });
 *   await node.start();   // chain view, store, libp2p, lookup + pepper protocols, batcher, API
 *   …
 *   await node.close();   // idempotent; the outbox stays durable for the next start
 */
import { join } from "node:path";
import type { Wallet } from "ethers";
import { ApiServer, CheckService, NodeHealth, type HealthResponse, type ItemResult, type PeersResponse } from "./api/index.ts";
import {
  connectChain, connectContracts, ConsortiumView, LedgerBatcher, RpcLedgerChannel,
  type ChainConnection, type ConsortiumContracts,
} from "./chain/index.ts";
import { DATA_DIR_LAYOUT, KeyStore, loadConfig, type NodeConfig } from "./config/index.ts";
import { RiskshareError } from "./errors.ts";
import { assertPhoneRegion, tryNormalise } from "./identity/index.ts";
import type { Logger } from "./logger.ts";
import {
  createHost, digestSignerFromEvmKey, lookup, OwnEntries, pepper, PepperKeeper, peerIdFromBytes, registryMembership, systemClock,
  type LookupService, type PepperService, type RiskshareHost, type OutboxRecord,
} from "./p2p/index.ts";
import { ReciprocityGate, SavedUsage, UsageTracker, type UsageRecord } from "./policy/index.ts";
import { Bucket, Housekeeping, Store, type NonceStore, type Outbox, type QueryJournal } from "./store/index.ts";

/** Options of {@link RiskshareNode}. */
export interface RiskshareNodeOptions {
  dataDir: string;
  /** Overrides config.json (tests); read from the data dir when omitted. */
  config?: NodeConfig;
  /** Reported by /v1/health and the OpenAPI document. */
  version?: string;
}

/** What a running node tells its operator. */
export interface NodeInfo {
  name: string;
  address: string;
  peerId: string;
  multiaddrs: string[];
  apiUrl: string;
  chainId: bigint;
}

type Stoppable = { name: string; stop: () => Promise<void> | void };

/** A member node: chain view, store, p2p host and protocols, ledger batcher, local API. */
export class RiskshareNode {
  private readonly opts: RiskshareNodeOptions;
  private readonly config: NodeConfig;
  private readonly log: Logger;
  private readonly keys: KeyStore;
  private readonly wallet: Wallet;
  private readonly controller = new AbortController();
  private readonly started: Stoppable[] = [];
  private closing: Promise<void> | undefined;

  private chain!: ChainConnection;
  private contracts!: ConsortiumContracts;
  private view!: ConsortiumView;
  private store!: Store;
  private outbox!: Outbox;
  private batcher!: LedgerBatcher;
  private host!: RiskshareHost;
  private lookups!: LookupService;
  private peppers!: PepperService;
  private api!: ApiServer;
  private pepperKeeper!: PepperKeeper;
  private journal!: QueryJournal;
  private nonces!: NonceStore;
  private savedUsage!: SavedUsage;
  private gate!: ReciprocityGate;
  private ownEntries!: OwnEntries;
  private nodeHealth!: NodeHealth;
  private apiPort = 0;

  private constructor(opts: RiskshareNodeOptions, config: NodeConfig, wallet: Wallet, keys: KeyStore, logger: Logger) {
    this.opts = opts;
    this.config = config;
    this.wallet = wallet;
    this.keys = keys;
    this.log = logger.child({ module: "node" });
  }

  /** Reads the data directory (config and keys) and builds an unstarted node. */
  static async open(opts: RiskshareNodeOptions, modules: { logger: Logger }): Promise<RiskshareNode> {
    const config = opts.config ?? (await loadConfig(opts.dataDir));
    const keys = new KeyStore({ dataDir: opts.dataDir });
    const wallet = await keys.nodeKey();
    return new RiskshareNode(opts, config, wallet, keys, modules.logger);
  }

  /** This node's member address. */
  get address(): string {
    return this.wallet.address;
  }

  /** The abort signal every loop of the node honours; aborted by close(). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Starts every part in dependency order; on failure stops what started and rethrows. */
  async start(): Promise<NodeInfo> {
    try {
      await this.startChain();
      await this.startStore();
      await this.startP2p();
      this.startBatcher();
      await this.startApi();
      this.startHousekeeping();
    } catch (err) {
      await this.close();
      throw err;
    }
    const info = this.info();
    this.log.info({ address: info.address, peerId: info.peerId, api: info.apiUrl }, "node started");
    return info;
  }

  /** Stops every part in reverse order of starting (idempotent). */
  async close(): Promise<void> {
    this.closing ??= (async () => {
      this.controller.abort();
      for (const part of this.started.reverse()) {
        try {
          await part.stop();
        } catch (err) {
          this.log.warn({ part: part.name, err: (err as Error).message }, "part failed to stop");
        }
      }
      this.log.info({}, "node stopped");
    })();
    return this.closing;
  }

  /** Identity and addresses of the running node. */
  info(): NodeInfo {
    return {
      name: this.config.name,
      address: this.wallet.address,
      peerId: this.host.peerId.toString(),
      multiaddrs: this.host.getMultiaddrs().map((m) => m.toString()),
      apiUrl: `http://${this.config.api.host}:${this.apiPort}`,
      chainId: this.chain.chainId,
    };
  }

  /** Lands every waiting ledger record now (used at shutdown and by tests). */
  async flushLedger(): Promise<number> {
    return this.batcher.flush();
  }

  /** Makes the view catch up with the chain now (tests and CLI after a transaction). */
  async syncChain(): Promise<void> {
    await this.view.sync();
  }

  /** Dials peers' addresses (multiaddrs with /p2p/); results per address. */
  async connect(addresses: readonly string[]): Promise<void> {
    await Promise.allSettled(addresses.map((address) => this.host.dial(address, { signal: this.controller.signal })));
  }

  /** Node health for /v1/health. */
  health(): HealthResponse {
    return this.nodeHealth.health();
  }

  /** Members and connection state for /v1/peers. */
  peers(): PeersResponse {
    return this.nodeHealth.peers();
  }

  private track(name: string, stop: () => Promise<void> | void): void {
    this.started.push({ name, stop });
  }

  private async startChain(): Promise<void> {
    const contracts = this.config.chain.contracts;
    if (!contracts) throw new RiskshareError("E_CONTRACTS_MISSING", "the config names no contracts; run `riskshare deploy` or set chain.contracts");
    this.chain = await connectChain(this.config.chain);
    this.track("chain", () => this.chain.provider.destroy());
    // Read-only handles: the node's only transactions are ledger batches, which RpcLedgerChannel signs itself.
    this.contracts = connectContracts(contracts, this.chain.provider);
    this.view = new ConsortiumView({ pollIntervalMs: this.config.chain.pollIntervalMs }, { contracts: this.contracts, provider: this.chain.provider, logger: this.log });
    await this.view.start();
    this.track("consortium view", () => this.view.stop());
  }

  private async startStore(): Promise<void> {
    this.store = new Store(
      { location: join(this.opts.dataDir, DATA_DIR_LAYOUT.dbDir), categories: this.view.activeCategoryMap() },
      { logger: this.log },
    );
    await this.store.open();
    this.track("store", () => this.store.close());
    this.outbox = this.store.outbox({ maxBacklog: this.config.ledger.maxBacklog });
    this.journal = this.store.queryJournal();
    this.nonces = this.store.nonceStore();
    // TODO(integrator): own lookups by pepper hash are gone with store v2 (entries are keyed by OPRF entry ids);
    // answer misses until the check service derives entry keys with the node's EntryKeyEvaluator.
    this.ownEntries = new OwnEntries({ store: { checkMany: async (keys) => keys.map(() => ({ hit: false as const })) } });
    await this.outbox.open();
  }

  private async startP2p(): Promise<void> {
    const membership = registryMembership(this.view);
    this.host = await createHost(
      { privateKey: this.wallet.privateKey, listen: this.config.p2p.listen, bootstrap: this.config.p2p.bootstrap },
      { logger: this.log, membership },
    );
    const components = { registrar: this.host.libp2p, dialer: this.host.libp2p, membership, logger: this.log };
    this.peppers = pepper()({ ...components, peppers: { get: (epoch) => this.keys.pepper(epoch) }, keyAgreement: this.host.keyAgreement });
    this.pepperKeeper = new PepperKeeper(
      { selfAddress: this.wallet.address },
      { view: this.pepperView(), keys: this.keys, store: this.store, peppers: this.peppers, logger: this.log },
    );
    // Bound before any peer can ask: the store answers under the current epoch or not at all.
    await this.pepperKeeper.load();
    await this.host.start();
    this.track("libp2p host", () => this.host.stop());
    // Quota usage survives restarts: loaded here, saved every housekeeping round and at stop.
    const usage = new UsageTracker({}, { logger: this.log });
    this.savedUsage = new SavedUsage({}, { db: this.store.sublevel<UsageRecord[]>(Bucket.usage), tracker: usage });
    await this.savedUsage.load(systemClock.nowSec());
    this.track("quota usage", () => this.savedUsage.save(systemClock.nowSec()));
    this.gate = new ReciprocityGate({ view: this.view, usage });
    const journal = this.journal;
    this.lookups = lookup({ chainId: this.chain.chainId, queryLedgerAddress: this.contracts.addresses.ledger, requestTtlSeconds: this.config.lookup.requestTtlSeconds })({
      ...components,
      // Signs lookup digests in-process; the key stays inside the signer's closure.
      signer: digestSignerFromEvmKey(this.wallet.privateKey),
      outbox: { append: (record) => this.appendToOutbox(record) },
      nonceGuard: this.nonces,
      reciprocity: this.gate,
      entries: this.ownEntries,
      journal: {
        record: (queryId, request, blinding, items) => journal.record({
          queryId, provider: request.provider, querier: request.querier, categoryMask: request.categoryMask.toString(), itemCount: request.itemCount,
          itemsCommitment: request.itemsCommitment, nonce: request.nonce, deadline: request.deadline.toString(), blinding, items, sentAtMs: Date.now(),
        }),
      },
    });
    await this.lookups.start();
    this.track("lookup protocol", () => this.lookups.stop());
    await this.peppers.start();
    this.track("pepper protocol", () => this.peppers.stop());
    this.view.on("memberChanged", () => void this.host.disconnectInactive().catch(() => undefined));
    await this.host.connectBootstrap(this.controller.signal);
    void this.pepperKeeper.fetchUntilHeld(this.controller.signal);
  }

  /**
   * The chain view as the v1 pepper parts (PepperKeeper, NodeHealth) still read it: the chain names
   * no pepper epoch any more (protocol v2), so they keep epoch 1 until they go (integration).
   */
  private pepperView() {
    const view = this.view;
    return {
      pepperEpoch: () => 1,
      isActive: (address: string) => view.isActive(address),
      member: (address: string) => view.member(address),
      allMembers: () => view.allMembers(),
      activeMembers: () => view.activeMembers(),
      health: () => view.health(),
    };
  }

  private async appendToOutbox(record: OutboxRecord): Promise<void> {
    // The v1 lookup answers under no key epoch (0) until /riskshare/lookup/2 is wired in (integration).
    await this.outbox.append({ request: record.request, signature: record.signature, outcome: record.outcome, keyEpoch: 0, receivedAtMs: record.receivedAt * 1000 });
    this.batcher.notifyAppended(this.outbox.backlog());
  }

  private startBatcher(): void {
    const { ledger } = this.config;
    const channel = new RpcLedgerChannel(
      { chainId: this.chain.chainId, ledgerAddress: this.contracts.addresses.ledger, confirmTimeoutMs: ledger.confirmTimeoutMs, pollIntervalMs: this.config.chain.pollIntervalMs },
      {
        rpc: this.chain.rpc, fees: this.chain.provider, wallet: this.wallet, ledger: this.contracts.ledger,
      },
    );
    this.batcher = new LedgerBatcher(
      { providerAddress: this.wallet.address, flushIntervalMs: ledger.flushIntervalMs, maxBatchRecords: ledger.maxBatchRecords, maxInFlight: ledger.maxInFlightBatches },
      { channel, outbox: this.outbox, logger: this.log },
    );
    this.batcher.start();
    this.track("ledger batcher", async () => {
      await this.batcher.stop();
      // A last flush at shutdown; whatever does not land stays durable in the outbox.
      await this.batcher.flush().catch(() => undefined);
    });
  }

  private async startApi(): Promise<void> {
    this.nodeHealth = new NodeHealth(
      { address: this.wallet.address },
      { view: this.pepperView(), ledger: this.batcher, outbox: this.outbox, host: this.host, pepper: { held: () => this.pepperKeeper.hasher !== undefined } },
    );
    const defaultRegion = this.config.identity.defaultRegion;
    assertPhoneRegion(defaultRegion);
    const check = new CheckService({
      hashItem: (type, raw) => {
        const normalised = tryNormalise(type, raw, { defaultRegion });
        if (!normalised.ok) return { ok: false, reason: normalised.reason };
        return { ok: true, item: { type, hash: `0x${this.pepperKeeper.hasher!.hashHex(type, normalised.value)}` } };
      },
      ownLookup: (items, categoryIds, now) => this.ownEntries.checkMany(items, categoryIds, now) as Promise<ItemResult[]>,
      fanOut: async (providers, items, categoryIds, opts) => {
        const targets = providers.map((address) => {
          const member = this.view.member(address);
          if (!member) throw new RiskshareError("E_BAD_INPUT", `providers: ${address} is not a member of the consortium`, { argument: "providers" });
          return { peer: peerIdFromBytes(member.peerId), providerAddress: member.address };
        });
        const outcomes = await this.lookups.fanOut(targets, { items, categoryIds }, opts);
        return outcomes.map((o) => ({
          address: o.providerAddress,
          name: this.view.member(o.providerAddress)?.name ?? o.providerAddress,
          status: o.status,
          ...(o.status === "answered" ? { results: o.results, queryId: o.queryId } : { code: o.code, ...(o.queryId === undefined ? {} : { queryId: o.queryId }) }),
        }));
      },
      activeCategories: () => this.view.activeCategoryMap(),
      defaultCategoryIds: () => this.gate.defaultCategoryIds(this.wallet.address, systemClock.nowSec()),
      peerAddresses: () => this.view.activeMembers().map((m) => m.address).filter((a) => a !== this.wallet.address),
      assertReady: () => this.nodeHealth.assertReady(),
      nowSec: () => systemClock.nowSec(),
      defaultTimeoutMsPerPeer: this.config.lookup.timeoutMsPerPeer,
    });
    this.api = new ApiServer(
      { host: this.config.api.host, port: this.config.api.port, token: await this.keys.apiToken(), version: this.opts.version ?? "dev" },
      {
        check: (request, signal) => check.check(request, signal), health: async () => this.health(), peers: async () => this.peers(),
        journal: (queryId) => this.journal.get(queryId), logger: this.log,
      },
    );
    this.apiPort = await this.api.start();
    this.track("api", () => this.api.stop());
  }

  private startHousekeeping(): void {
    const housekeeping = new Housekeeping({}, {
      chores: [
        { name: "nonces", run: (nowSec) => this.nonces.sweep(nowSec) },
        { name: "quota usage", run: (nowSec) => this.savedUsage.save(nowSec) },
        { name: "expired entries", run: (nowSec) => this.store.sweep(nowSec) },
      ],
      logger: this.log,
    });
    housekeeping.start();
    this.track("housekeeping", () => housekeeping.stop());
  }
}
