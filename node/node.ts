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
import { getBytes, hexlify } from "ethers";
import type { Wallet } from "ethers";
import { ApiServer, CheckService, type HealthResponse, type ItemResult, type PeersResponse } from "./api/index.ts";
import {
  connectChain, connectContracts, ConsortiumView, LedgerBatcher, RpcLedgerChannel, memberStatusName, MemberStatus,
  type ChainConnection, type ConsortiumContracts,
} from "./chain/index.ts";
import { DATA_DIR_LAYOUT, KeyStore, loadConfig, type NodeConfig } from "./config/index.ts";
import { RiskshareError } from "./errors.ts";
import { assertPhoneRegion, Hasher, tryNormalise } from "./identity/index.ts";
import type { Logger } from "./logger.ts";
import {
  createHost, digestSignerFromEvmKey, lookup, pepper, peerIdFromBytes, peerIdText, type LookupService, type MembershipView, type PeerIdentity, type PepperService,
  type RiskshareHost, type LookupResult, type OutboxRecord,
} from "./p2p/index.ts";
import { decideReciprocity, eligibilityFailure, UsageTracker, type CategoryFacts, type UsageRecord } from "./policy/index.ts";
import { Bucket, NonceStore, Outbox, QueryJournal, Store, type JournalLevel, type NonceLevel, type OutboxLevel } from "./store/index.ts";

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

/** The key under which the quota usage counters are saved in the usage bucket. */
const USAGE_KEY = "tracker";

/** Intervals of the node's housekeeping. */
const HOUSEKEEPING_MS = 60_000;
/** How often a node without the current pepper asks its peers for it. */
const PEPPER_RETRY_MS = 2_000;

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
  private hasher: Hasher | undefined;
  private journal!: QueryJournal;
  private saveUsage: (() => Promise<void>) | undefined;
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
    const reasons: string[] = [];
    let refusing = false;
    const chain = this.view.health();
    const ledger = this.batcher.health();
    const self = this.view.member(this.wallet.address);
    if (self?.status !== MemberStatus.Active) {
      refusing = true;
      reasons.push(`this node's account is not an Active member (${self ? memberStatusName(self.status) : "unknown to the registry"})`);
    }
    if (chain.stale) {
      refusing = true;
      reasons.push("the chain has not answered recently; membership cannot be checked");
    }
    if (this.outbox.backlog() >= this.outbox.maxBacklog) {
      refusing = true;
      reasons.push("the ledger outbox is full; lookups are refused until it drains to the chain");
    }
    if (this.hasher === undefined) {
      refusing = true;
      reasons.push(`this node does not hold the pepper of epoch ${this.view.pepperEpoch()} yet`);
    }
    if (ledger.consecutiveFailures > 0) reasons.push(`ledger flush failing (${ledger.lastError ?? "unknown"}); records are kept and retried`);
    const connected = new Set(this.host.libp2p.getConnections().map((c) => c.remotePeer.toString()));
    const peers = this.view.activeMembers().filter((m) => m.address !== this.wallet.address);
    return {
      status: refusing ? "refusing" : reasons.length > 0 ? "degraded" : "ok",
      reasons,
      address: this.wallet.address,
      peerId: this.host.peerId.toString(),
      chain: { syncedBlock: chain.syncedBlock, stale: chain.stale, ...(chain.lastError === undefined ? {} : { lastError: chain.lastError }) },
      ledger: {
        backlog: this.outbox.backlog(), maxBacklog: this.outbox.maxBacklog,
        ...(ledger.lastLandedSeq === undefined ? {} : { lastLandedSeq: ledger.lastLandedSeq.toString() }),
        ...(ledger.lastError === undefined ? {} : { lastError: ledger.lastError }),
      },
      peers: { connected: peers.filter((m) => connected.has(peerIdText(m.peerId))).length, activeMembers: this.view.activeMembers().length },
    };
  }

  /** Members and connection state for /v1/peers. */
  peers(): PeersResponse {
    const connected = new Set(this.host.libp2p.getConnections().map((c) => c.remotePeer.toString()));
    return {
      peers: this.view.allMembers().filter((m) => m.address !== this.wallet.address).map((m) => ({
        address: m.address, name: m.name, peerId: peerIdText(m.peerId), status: memberStatusName(m.status), connected: connected.has(peerIdText(m.peerId)),
      })),
    };
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
    this.outbox = new Outbox({ maxBacklog: this.config.ledger.maxBacklog }, { db: this.store.sublevel(Bucket.outbox) as OutboxLevel });
    this.journal = new QueryJournal({ db: this.store.sublevel(Bucket.queries) as JournalLevel });
    await this.outbox.open();
    await this.loadPepper();
  }

  private async loadPepper(): Promise<boolean> {
    const epoch = this.view.pepperEpoch();
    const secret = await this.keys.pepper(epoch);
    if (!secret) return false;
    await this.store.bindPepperEpoch(epoch);
    this.hasher = Hasher.fromPepper({ epoch, pepper: secret });
    return true;
  }

  private membership(): MembershipView {
    return {
      isActivePeer: (peer: PeerIdentity) => {
        if (this.view.health().stale) return false; // fail closed: membership unknown
        const member = this.view.member(peer.address);
        return member?.status === MemberStatus.Active && member.peerId === hexlify(peer.peerIdBytes).toLowerCase();
      },
    };
  }

  private async startP2p(): Promise<void> {
    const membership = this.membership();
    this.host = await createHost(
      { privateKey: this.wallet.privateKey, listen: this.config.p2p.listen, bootstrap: this.config.p2p.bootstrap },
      { logger: this.log, membership },
    );
    await this.host.start();
    this.track("libp2p host", () => this.host.stop());
    // Quota usage survives restarts: loaded here, saved every housekeeping round and at stop.
    const usage = new UsageTracker({}, { logger: this.log });
    const usageDb = this.store.sublevel<UsageRecord[]>(Bucket.usage);
    usage.import((await usageDb.get(USAGE_KEY)) ?? [], Math.floor(Date.now() / 1000));
    this.saveUsage = async () => {
      usage.prune(Math.floor(Date.now() / 1000));
      await usageDb.put(USAGE_KEY, usage.export());
    };
    this.track("quota usage", () => this.saveUsage?.());
    const nonces = new NonceStore({ db: this.store.sublevel(Bucket.nonces) as NonceLevel });
    const journal = this.journal;
    const components = { registrar: this.host.libp2p, dialer: this.host.libp2p, membership, logger: this.log };
    this.lookups = lookup({ chainId: this.chain.chainId, queryLedgerAddress: this.contracts.addresses.ledger })({
      ...components,
      // Signs lookup digests in-process; the key stays inside the signer's closure.
      signer: digestSignerFromEvmKey(this.wallet.privateKey),
      outbox: { append: (record) => this.appendToOutbox(record) },
      nonceGuard: nonces,
      reciprocity: {
        decide: (querier, categoryIds, nowSeconds) => {
          const facts = new Map<number, CategoryFacts>();
          for (const id of categoryIds) {
            const category = this.view.category(id);
            if (!category) continue;
            const snapshot = this.view.contribution(querier, id);
            facts.set(id, {
              active: category.active,
              policy: category.policy,
              snapshot: snapshot === undefined ? undefined : { liveCount: snapshot.liveCount, publishedAt: snapshot.publishedAt },
              usedInWindow: usage.usage(querier, id, nowSeconds),
            });
          }
          const decision = decideReciprocity({ nowSeconds, requestedCategories: categoryIds, categories: facts });
          if (decision.allowed) usage.recordAll(querier, categoryIds, nowSeconds);
          return decision;
        },
      },
      entries: { checkMany: (items, categoryIds, nowSeconds) => this.lookupOwn(items, categoryIds, nowSeconds) },
      journal: {
        record: (queryId, request, blinding, items) => journal.record({
          queryId, provider: request.provider, querier: request.querier, categoryMask: request.categoryMask.toString(), itemCount: request.itemCount,
          itemsCommitment: request.itemsCommitment, nonce: request.nonce, deadline: request.deadline.toString(), blinding, items, sentAtMs: Date.now(),
        }),
      },
    });
    await this.lookups.start();
    this.track("lookup protocol", () => this.lookups.stop());
    this.peppers = pepper()({ ...components, peppers: { get: (epoch) => this.keys.pepper(epoch) }, keyAgreement: this.host.keyAgreement });
    await this.peppers.start();
    this.track("pepper protocol", () => this.peppers.stop());
    this.view.on("memberChanged", () => void this.host.disconnectInactive().catch(() => undefined));
    await this.host.connectBootstrap(this.controller.signal);
    if (this.hasher === undefined) void this.fetchPepperLoop();
  }

  /** Asks connected Active members for the current pepper until one gives it (a new member's first start). */
  private async fetchPepperLoop(): Promise<void> {
    while (!this.controller.signal.aborted && this.hasher === undefined) {
      const epoch = this.view.pepperEpoch();
      if (this.view.isActive(this.wallet.address)) {
        for (const member of this.view.activeMembers()) {
          if (member.address === this.wallet.address || this.controller.signal.aborted) continue;
          try {
            const secret = await this.peppers.fetchPepper(peerIdFromBytes(member.peerId), epoch, { signal: this.controller.signal });
            await this.keys.putPepper(epoch, secret);
            await this.loadPepper();
            this.log.info({ epoch, from: member.address }, "pepper received");
            return;
          } catch (err) {
            this.log.debug({ from: member.address, code: (err as RiskshareError).code }, "pepper fetch failed");
          }
        }
      }
      await sleep(PEPPER_RETRY_MS, this.controller.signal);
    }
  }

  private async appendToOutbox(record: OutboxRecord): Promise<void> {
    await this.outbox.append({ request: record.request, signature: record.signature, outcome: record.outcome, hitCount: record.hitCount, receivedAtMs: record.receivedAt * 1000 });
    this.batcher.notifyAppended(this.outbox.backlog());
  }

  private async lookupOwn(items: readonly { type: string; hash: string }[], categoryIds: readonly number[], nowSeconds: number): Promise<LookupResult[]> {
    const wanted = new Set(categoryIds);
    const results = await this.store.checkMany(items.map((item) => ({ type: item.type, hash: getBytes(item.hash) })), nowSeconds);
    return results.map((result): LookupResult => {
      if (!result.hit || !wanted.has(result.entry.categoryId)) return { hit: false };
      const e = result.entry;
      return {
        hit: true, category: e.categoryId, level: e.level, reason: e.reason, reportedAt: e.reportedAtSec,
        ...(e.expiresAtSec === undefined ? {} : { expiresAt: e.expiresAtSec }),
        ...(e.ownRef !== undefined && /^[\x20-\x7e]{1,128}$/.test(e.ownRef) ? { providerRef: e.ownRef } : {}),
      };
    });
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
    const defaultRegion = this.config.identity.defaultRegion;
    assertPhoneRegion(defaultRegion);
    const check = new CheckService({
      hashItem: (type, raw) => {
        const normalised = tryNormalise(type, raw, { defaultRegion });
        if (!normalised.ok) return { ok: false, reason: normalised.reason };
        return { ok: true, item: { type, hash: `0x${this.hasher!.hashHex(type, normalised.value)}` } };
      },
      ownLookup: (items, categoryIds, now) => this.lookupOwn(items, categoryIds, now) as Promise<ItemResult[]>,
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
      defaultCategoryIds: () => {
        const now = Math.floor(Date.now() / 1000);
        const active = this.view.categories().filter((c) => c.active);
        const eligible = active.filter((c) => {
          const snapshot = this.view.contribution(this.wallet.address, c.id);
          const facts = { active: true, policy: c.policy, snapshot: snapshot && { liveCount: snapshot.liveCount, publishedAt: snapshot.publishedAt }, usedInWindow: 0 };
          return eligibilityFailure(facts, now) === undefined;
        });
        return (eligible.length > 0 ? eligible : active).map((c) => c.id);
      },
      peerAddresses: () => this.view.activeMembers().map((m) => m.address).filter((a) => a !== this.wallet.address),
      assertReady: () => {
        const health = this.health();
        if (health.status === "refusing") {
          const code = this.outbox.backlog() >= this.outbox.maxBacklog ? "E_BACKLOG" : this.view.health().stale ? "E_CHAIN_UNREACHABLE" : !this.view.isActive(this.wallet.address) ? "E_NOT_MEMBER" : "E_PEPPER_MISSING";
          throw new RiskshareError(code, `the node refuses lookups: ${health.reasons.join("; ")}`);
        }
      },
      nowSeconds: () => Math.floor(Date.now() / 1000),
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
    const nonces = new NonceStore({ db: this.store.sublevel(Bucket.nonces) as NonceLevel });
    const timer = setInterval(() => {
      const now = Math.floor(Date.now() / 1000);
      void nonces.sweep(now).catch(() => undefined);
      void this.saveUsage?.().catch(() => undefined);
      void this.store.sweep(now).catch(() => undefined);
    }, HOUSEKEEPING_MS);
    timer.unref();
    this.track("housekeeping", () => clearInterval(timer));
  }
}


function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

