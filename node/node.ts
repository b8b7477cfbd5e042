/**
 * The composition root of a member node: builds every part in dependency order, starts them,
 * and stops them in reverse. The only place that knows how the parts fit together.
 *
 * @example
 *   const node = await RiskshareNode.open({ dataDir }, { logger });
 *   await node.start();   // chain view, keys, store, libp2p, lookup + filter protocols, filter sync, batcher, API
 *   …
 *   await node.close();   // idempotent; the outbox stays durable for the next start
 */
import { join } from "node:path";
import type { Wallet } from "ethers";
import { getBytes, hexlify } from "ethers";
import { ApiServer, CheckService, checkItemPreparer, NodeHealth, type ApiListModules, type FeedbackReportView, type HealthResponse, type PeersResponse, type PreparedRotationStatus } from "./api/index.ts";
import {
  bonusEventRange, ChallengeResponder, connectChain, creditsOf, connectContracts, ConsortiumView, LedgerBatcher, MemberStatus, reportFeedback, RpcLedgerChannel, settleDueBonuses, translateChainError,
  type ChainConnection, type ConsortiumContracts,
} from "./chain/index.ts";
import { DATA_DIR_LAYOUT, KEYSTORE_DEFAULTS, KeyStore, loadConfig, readRotationMarkerSync, type Env, type NodeConfig } from "./config/index.ts";
import { RiskshareError } from "./errors.ts";
import { assertPhoneRegion, createVoprf, loadWarninglists, OffThreadBatchEvaluator, type EntryKeyEvaluator, type Voprf, type Warninglists } from "./identity/index.ts";
import type { Logger } from "./logger.ts";
import {
  bucketBits, createHost, digestSignerFromEvmKey, feedback, FeedbackSender, filter, filterDirectory, FilterSync, lookup, peerIdFromBytes, QuerierFanOut, registryMembership, storeBuckets, storeFilterSource, systemClock,
  type FeedbackRound, type FeedbackService, type FilterService, type HeldFilter, type LookupService, type RiskshareHost, type OutboxRecord,
} from "./p2p/index.ts";
import {
  availableCredits, CREDIT_GATE_MAX_AGE_MS, CreditGate, DecayModels, ProviderSelection, ReciprocityGate, SavedUsage, UsageTracker, type HitRateRecord, type UsageRecord,
} from "./policy/index.ts";

/** The key of the usage bucket the querier's observed hit rates are saved under (the quota counters are under "tracker"). */
const HIT_RATES_KEY = "hit-rates";
/** How often the node looks for weekly bonuses of its own to settle. */
const BONUS_SETTLEMENT_EVERY_SEC = 6 * 3600;
import {
  Bucket, categoriesDue, createMetadataCipher, importSummaryView, filterContains, Housekeeping, KeptHits, ListService, type QueuedReport, tagFilterCount, OwnLists, Store, type NonceCounters, type NonceWindows, type Outbox, type QueryJournal,
} from "./store/index.ts";

/** Options of {@link RiskshareNode}. */
export interface RiskshareNodeOptions {
  dataDir: string;
  /** Overrides config.json (tests); read from the data dir when omitted. */
  config?: NodeConfig;
  /** Reported by /v1/health and the OpenAPI document. */
  version?: string;
  /** Where the key store's passphrase comes from (RISKSHARE_PASSPHRASE, RISKSHARE_PASSPHRASE_FILE), besides config.json's keys.passphraseFile. */
  env?: Env;
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
  private challenges!: ChallengeResponder;
  private host!: RiskshareHost;
  private lookups!: LookupService;
  private filters!: FilterService;
  private filterSync!: FilterSync;
  private feedbackService!: FeedbackService;
  private feedbackSender!: FeedbackSender;
  private api!: ApiServer;
  private voprf!: Voprf;
  /** The OPRF key this node answers under (its key epoch on chain), when it holds it. */
  private oprfKey: { epoch: number; secretKey: Uint8Array; publicKey: Uint8Array } | undefined;
  private evaluator: EntryKeyEvaluator | undefined;
  private journal!: QueryJournal;
  /** Hits this node's lookups found, and the delistings of them seen in filter deltas. */
  private keptHits!: KeptHits;
  private nonceWindows!: NonceWindows;
  private nonceCounters!: NonceCounters;
  private savedUsage!: SavedUsage;
  private gate!: ReciprocityGate;
  private credits!: CreditGate;
  private ownLists!: OwnLists;
  private lists!: ListService;
  /** When this node last looked for weekly bonuses to settle (unix seconds; 0: not yet). */
  private lastBonusSettlementSec = 0;
  /** The shipped warninglists plus the consortium's own (data directory), read at start. */
  private warninglists!: Warninglists;
  private nodeHealth!: NodeHealth;
  private apiPort = 0;
  /** Writes the hit rates the querier observed (housekeeping and stop). */
  private saveHitRates: () => Promise<void> = async () => undefined;
  /** Key files still in plaintext (a data dir from before encryption at rest), read at open. */
  private plaintextKeys: readonly string[] = [];
  /** Key files encrypted at a scrypt cost below the standard one (a devnet's), read at open. */
  private lightKdfKeys: readonly string[] = [];

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
    const keys = new KeyStore({ dataDir: opts.dataDir, ...(opts.env === undefined ? {} : { env: opts.env }) });
    const wallet = await keys.nodeKey();
    const node = new RiskshareNode(opts, config, wallet, keys, modules.logger);
    const files = await keys.files();
    node.plaintextKeys = files.filter((f) => f.kind !== "api-token" && !f.encrypted).map((f) => f.file);
    node.lightKdfKeys = files.filter((f) => f.kdf !== undefined && f.kdf.N < KEYSTORE_DEFAULTS.kdf.standard.N).map((f) => f.file);
    return node;
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
      await this.startKeys();
      await this.startStore();
      await this.startP2p();
      this.startBatcher();
      this.startChallenges();
      await this.startApi();
      this.startHousekeeping();
    } catch (err) {
      await this.close();
      throw err;
    }
    const info = this.info();
    this.log.info({ address: info.address, peerId: info.peerId, api: info.apiUrl }, "node started");
    if (this.plaintextKeys.length > 0) {
      this.log.warn({ files: this.plaintextKeys }, "key files are stored in plaintext; encrypt them: riskshare key migrate (with RISKSHARE_PASSPHRASE_FILE set)");
    }
    if (this.lightKdfKeys.length > 0) {
      this.log.warn({ files: this.lightKdfKeys }, "key files are encrypted at the dev-only light scrypt cost; for a production member re-encrypt them: riskshare key passphrase (without RISKSHARE_KDF=light)");
    }
    const admin = this.view.bootstrapAdmin();
    if (admin !== undefined) {
      this.log.warn({ admin }, "a bootstrap admin still holds the registry and can seed members, regulators, categories and policy without a vote; it should renounce once set-up is done: riskshare admin renounce");
    }
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
    // Refusal counts still open in their windows are appended first, so they land in this flush.
    await this.lookups?.flushRefusals();
    return this.batcher.flush();
  }

  /**
   * Waits until every cover fetch this node sent has its answer, or has failed: a check returns
   * without waiting for its decoy, whose record lands at the provider once it answers.
   */
  async settleLookups(): Promise<void> {
    await this.lookups?.idle();
  }

  /**
   * The next value of this node's request nonce counter for `providerAddress`, never handed out
   * again: for a request built by hand beside the running node (tests, diagnostics), which would
   * otherwise collide with the node's own requests in the provider's replay window.
   */
  async nextRequestNonce(providerAddress: string): Promise<bigint> {
    return this.nonceCounters.next(providerAddress);
  }

  /** Makes the view catch up with the chain now (tests and CLI after a transaction). */
  async syncChain(): Promise<void> {
    await this.view.sync();
  }

  /** Dials peers' addresses (multiaddrs with /p2p/); results per address. */
  async connect(addresses: readonly string[]): Promise<void> {
    await Promise.allSettled(addresses.map((address) => this.host.dial(address, { signal: this.controller.signal })));
  }

  /** The rotation `key rotate-oprf --prepare` (or the move `key rotate-member --prepare`) builds or built beside this node's store, if any (an unreadable db-next.json counts as none). */
  private preparedRotation(): PreparedRotationStatus | undefined {
    try {
      const marker = readRotationMarkerSync(this.opts.dataDir);
      return marker === undefined ? undefined : {
        keyEpoch: marker.keyEpoch, complete: marker.complete, startedAtMs: marker.startedAtMs, preparedAtMs: marker.preparedAtMs,
        ...(marker.predecessor === undefined ? {} : { newAccount: marker.account }),
      };
    } catch {
      return undefined;
    }
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

  /**
   * The OPRF key of this member's key epoch on chain (before its admission: the newest this data dir
   * holds). Without it the node still starts, and health says why it refuses lookups.
   */
  private async startKeys(): Promise<void> {
    this.voprf = await createVoprf();
    const onChainEpoch = this.view.member(this.wallet.address)?.keyEpoch;
    const key = await this.keys.memberOprfKey(this.chain.chainId, this.wallet.address, onChainEpoch);
    if (key === undefined) {
      this.log.warn({ keyEpoch: onChainEpoch }, "no OPRF key for this member's key epoch; lookups are refused");
      return;
    }
    const keyEpoch = key.epoch;
    this.oprfKey = key;
    this.evaluator = key.evaluator;
    // A rotation on chain takes effect at the next start, on the store imported under the new key.
    this.view.on("keyRotated", (member) => {
      if (member.address.toLowerCase() === this.wallet.address.toLowerCase()) this.log.warn({ keyEpoch }, "this member's OPRF key was rotated on chain; restart the node on the store of the new key");
    });
  }

  private async startStore(): Promise<void> {
    this.store = new Store(
      { location: join(this.opts.dataDir, DATA_DIR_LAYOUT.dbDir), categories: this.view.activeCategoryMap(), ...(this.evaluator ? { binding: this.evaluator.context } : {}) },
      { logger: this.log },
    );
    await this.store.open();
    this.track("store", () => this.store.close());
    this.outbox = this.store.outbox({ maxBacklog: this.config.ledger.maxBacklog });
    this.journal = this.store.queryJournal(await this.keys.journalKey());
    this.keptHits = this.store.keptHits({ key: await this.keys.journalKey(), chainId: this.chain.chainId });
    await this.keptHits.load();
    this.nonceWindows = this.store.nonceWindows();
    this.nonceCounters = this.store.nonceCounters();
    this.ownLists = new OwnLists({ store: this.store, evaluator: () => this.evaluator });
    const contributions = this.contracts.contributions.connect(this.wallet.connect(this.chain.provider));
    this.warninglists = loadWarninglists(this.opts.dataDir);
    this.lists = new ListService({
      store: this.store, evaluator: () => this.evaluator, region: this.config.identity.defaultRegion, logger: this.log, warninglists: this.warninglists,
      // Published under the key epoch the store is bound to: the chain refuses any other.
      publisher: {
        publish: async (categoryId, keyEpoch, liveCount, filterHash) => {
          try {
            const tx = await contributions.publish(categoryId, keyEpoch, liveCount, filterHash);
            await tx.wait();
            return tx.hash;
          } catch (err) {
            const e = err as { code?: string; shortMessage?: string; receipt?: { status?: number; gasUsed?: bigint }; transaction?: { gasLimit?: bigint; nonce?: number } };
            this.log.warn({ categoryId, code: e.code, reason: e.shortMessage, status: e.receipt?.status, gasUsed: e.receipt?.gasUsed?.toString(), gasLimit: e.transaction?.gasLimit?.toString(), nonce: e.transaction?.nonce }, "publishing a snapshot failed");
            throw translateChainError(err, `publish the snapshot of category ${categoryId}`);
          }
        },
      },
    });
    await this.outbox.open();
  }

  private async startP2p(): Promise<void> {
    const membership = registryMembership(this.view);
    this.host = await createHost(
      { privateKey: this.wallet.privateKey, listen: this.config.p2p.listen, bootstrap: this.config.p2p.bootstrap },
      { logger: this.log, membership },
    );
    await this.host.start();
    this.track("libp2p host", () => this.host.stop());
    // Quota usage survives restarts: loaded here, saved every housekeeping round and at stop.
    const usage = new UsageTracker({}, { logger: this.log });
    this.savedUsage = new SavedUsage({}, { db: this.store.sublevel<UsageRecord[]>(Bucket.usage), tracker: usage });
    await this.savedUsage.load(systemClock.nowSec());
    this.track("quota usage", () => this.savedUsage.save(systemClock.nowSec()));
    this.gate = new ReciprocityGate({ view: this.view, usage });
    // Credits as the QueryLedger reports them, re-read when stale and whenever the view sees a new block (a batch may have landed).
    const ledger = this.contracts.ledger;
    this.credits = new CreditGate({ maxAgeMs: Math.max(CREDIT_GATE_MAX_AGE_MS, this.config.chain.pollIntervalMs) }, {
      // The chain's answer checked (node/chain/credits.ts), as every other credits read.
      reader: { creditsOf: (member) => creditsOf(ledger, member) },
      logger: this.log,
    });
    let creditsBlock = -1;
    const refreshCredits = (block: number): void => {
      if (block <= creditsBlock) return;
      creditsBlock = block;
      void this.credits.refresh();
    };
    this.view.on("synced", refreshCredits);
    this.track("credit refresh", () => void this.view.off("synced", refreshCredits));
    // Signs lookup digests and filter states in-process; the key stays inside the signer's closure.
    const signer = digestSignerFromEvmKey(this.wallet.privateKey);
    const components = { registrar: this.host.libp2p, dialer: this.host.libp2p, membership, logger: this.log };
    const { lookup: lookupConfig } = this.config;
    // Large Evaluates are evaluated on a worker thread, so one member's batch never stalls the others' lookups.
    const batchEvaluator = new OffThreadBatchEvaluator(this.voprf);
    this.track("batch evaluator", () => batchEvaluator.close());
    this.lookups = lookup({
      chainId: this.chain.chainId, queryLedgerAddress: this.contracts.addresses.ledger, requestTtlSeconds: lookupConfig.requestTtlSeconds, coverFetchRate: lookupConfig.coverFetchRate,
      peerItemsPerSecond: lookupConfig.peerItemsPerSecond, peerBurstItems: lookupConfig.peerBurstItems, refusalFoldSeconds: lookupConfig.refusalFoldSeconds,
    })({
      ...components,
      signer,
      voprf: this.voprf,
      batchEvaluator,
      outbox: { append: (record) => this.appendToOutbox(record) },
      nonceGuard: this.nonceWindows,
      nonceSource: this.nonceCounters,
      reciprocity: this.gate,
      credits: this.credits,
      oprfKeys: { current: () => this.requireOprfKey() },
      store: storeBuckets(this.store),
      snapshots: { liveCount: (member, categoryId) => { const snapshot = this.view.contribution(member, categoryId); return snapshot === undefined ? undefined : Number(snapshot.liveCount); } },
      providerKeys: { keyAt: (provider, epoch) => { const key = this.view.oprfKeyAt(provider, epoch); return key === undefined ? undefined : getBytes(key); } },
      filters: { contains: (provider, categoryId, epoch, tag) => this.filterSync.contains(provider, categoryId, epoch, tag) },
      metadata: await createMetadataCipher(),
      journal: this.journal,
      hits: this.keptHits,
      pause: { pausedUntil: (nowSec) => this.view.pausedUntil(nowSec) },
    });
    await this.lookups.start();
    this.track("lookup protocol", () => this.lookups.stop());
    this.filters = filter()({
      ...components,
      signer,
      reciprocity: this.gate,
      source: storeFilterSource(this.store),
    });
    await this.filters.start();
    this.track("filter protocol", () => this.filters.stop());
    // Every provider's filters, per category this member may ask, kept in memory and refreshed by polling.
    const held = new Map<string, HeldFilter>();
    this.filterSync = new FilterSync({ filterPollMs: lookupConfig.filterPollMs }, {
      dialer: this.host.libp2p,
      directory: filterDirectory({
        self: this.wallet.address,
        activeMembers: () => this.view.activeMembers(),
        contribution: (address, categoryId) => this.view.contribution(address, categoryId),
        askableCategoryIds: () => {
          const nowSec = systemClock.nowSec();
          return this.gate.defaultCategoryIds(this.wallet.address, nowSec).filter((id) => this.gate.eligible(this.wallet.address, id, nowSec).allowed);
        },
        dialTarget: peerIdFromBytes,
      }),
      cache: {
        get: async (provider, categoryId) => held.get(`${provider.toLowerCase()}/${categoryId}`),
        put: async (provider, categoryId, kept) => void held.set(`${provider.toLowerCase()}/${categoryId}`, kept),
      },
      filterContains,
      filterCount: tagFilterCount,
      logger: this.log,
      removals: this.keptHits,
    });
    this.view.on("memberChanged", () => void this.host.disconnectInactive().catch(() => undefined));
    await this.host.connectBootstrap(this.controller.signal);
    this.filterSync.start(this.controller.signal);
    this.track("filter sync", () => this.filterSync.stop());
    // Feedback on hits: reports about this member's entries come in; this member's own go out in batches.
    this.feedbackService = feedback()({ ...components, self: this.wallet.address, sink: this.store });
    await this.feedbackService.start();
    this.track("feedback protocol", () => this.feedbackService.stop());
    const { feedback: feedbackConfig } = this.config;
    this.feedbackSender = new FeedbackSender(
      { minBatch: feedbackConfig.minBatch, maxWaitDays: feedbackConfig.maxWaitDays, checkEveryMinutes: feedbackConfig.checkEveryMinutes },
      {
        dialer: this.host.libp2p,
        queue: this.keptHits,
        target: (provider) => {
          const member = this.view.member(provider);
          return member?.status === MemberStatus.Active ? peerIdFromBytes(member.peerId) : undefined;
        },
        logger: this.log,
        // The week's counts on chain, per provider, after each round: the ledger caps them at the items this member was metered for there.
        recordCounts: async (counts) => {
          const ledger = this.contracts.ledger.connect(this.wallet.connect(this.chain.provider));
          const { week, txHash } = await reportFeedback(ledger, [{ provider: counts.providerAddress, confirmed: counts.confirmed, falsePositive: counts.falsePositive, outdated: counts.outdated }]);
          this.log.info({ providerAddress: counts.providerAddress, week, txHash }, "feedback counts recorded on chain");
        },
      },
    );
    this.feedbackSender.start(this.controller.signal);
    this.track("feedback sender", () => this.feedbackSender.stop());
  }

  /** Sends the feedback batches due now (tests and operators who will not wait for the next round). */
  async sendFeedback(): Promise<FeedbackRound> {
    return this.feedbackSender.sendDue();
  }

  /**
   * The OPRF key the node answers under; E_OPRF_KEY_MISSING while it holds none, or once the chain
   * names a newer epoch for this member (it answers again after a restart on the new key's store).
   */
  private requireOprfKey(): { epoch: number; secretKey: Uint8Array; publicKey: Uint8Array } {
    const onChain = this.view.member(this.wallet.address)?.keyEpoch;
    if (this.oprfKey === undefined || (onChain !== undefined && onChain !== this.oprfKey.epoch)) {
      throw new RiskshareError("E_OPRF_KEY_MISSING", `this node does not hold the OPRF key of its key epoch ${onChain ?? "(unknown)"} on chain`);
    }
    return this.oprfKey;
  }

  /** Filters now (tests and the CLI after a publish): one round of filter sync. */
  async syncFilters(): Promise<void> {
    await this.filterSync.syncOnce();
  }

  private async appendToOutbox(record: OutboxRecord): Promise<void> {
    // Another node writes under this key: a record appended now might never land, so the lookup is refused.
    this.batcher.assertWriter();
    await this.outbox.append({
      request: record.request, signature: record.signature, outcome: record.outcome, keyEpoch: record.keyEpoch, count: record.count, answerDigest: record.answerDigest,
      receivedAtMs: record.receivedAt * 1000,
    });
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
      // A last flush at shutdown, open refusal windows included; whatever does not land stays durable in the outbox.
      await this.lookups?.flushRefusals().catch(() => undefined);
      await this.batcher.flush().catch(() => undefined);
    });
  }

  /**
   * Answers spot-checks of this member's snapshots on chain, after each chain sync, from the base
   * filters the store holds. Its one transaction kind besides ledger batches; it takes its nonce
   * from the pool, and the ledger channel re-reads its own after a clash.
   */
  private startChallenges(): void {
    const contributions = this.contracts.contributions.connect(this.wallet.connect(this.chain.provider));
    this.challenges = new ChallengeResponder(this.wallet.address, {
      view: this.view,
      filters: { baseFilter: (categoryId) => this.store.baseFilter(categoryId) },
      answer: async (categoryId, byteLength, proofs) => {
        const action = `answer the spot-check of category ${categoryId}`;
        try {
          const tx = await contributions.answerChallenge(categoryId, byteLength, proofs.map((p) => ({ chunk: p.chunk, siblings: [...p.siblings] })));
          await tx.wait();
          return tx.hash;
        } catch (err) {
          throw translateChainError(err, action);
        }
      },
      logger: this.log,
    });
    const onSynced = (): void => void this.challenges.check().catch(() => undefined);
    this.view.on("synced", onSynced);
    onSynced();
    this.track("spot-check answers", async () => {
      this.view.off("synced", onSynced);
      await this.challenges.check().catch(() => undefined);
    });
  }

  private async startApi(): Promise<void> {
    this.nodeHealth = new NodeHealth(
      { address: this.wallet.address, warninglistHash: this.warninglists.hash },
      {
        view: this.view, ledger: this.batcher, outbox: this.outbox, host: this.host, filters: this.filterSync, challenges: this.challenges, nowSec: () => systemClock.nowSec(),
        keys: { plaintextFiles: () => this.plaintextKeys },
        imports: {
          current: () => {
            const status = this.lists.importStatus();
            return status === undefined ? undefined : {
              source: status.source, rows: status.rows, bytes: status.bytes, startedAtMs: Date.parse(status.startedAt),
              ...(status.totalBytes === undefined ? {} : { totalBytes: status.totalBytes }),
            };
          },
        },
        oprfKey: { current: () => (this.oprfKey === undefined ? undefined : { epoch: this.oprfKey.epoch, publicKeyHex: hexlify(this.oprfKey.publicKey) }) },
        rotation: { prepared: () => this.preparedRotation() },
      },
    );
    const defaultRegion = this.config.identity.defaultRegion;
    assertPhoneRegion(defaultRegion);
    const decay = new DecayModels({ default: { lifetimeDays: this.config.decay.lifetimeDays, speed: this.config.decay.speed }, categories: this.config.decay.categories });
    // Whom it pays to ask: hit rates per provider and category, kept across restarts beside the quota usage.
    const selection = new ProviderSelection(
      { hitRateFloor: this.config.lookup.hitRateFloor, exploreRate: this.config.lookup.exploreRate },
      { joinedAt: (provider) => this.view.member(provider)?.joinedAt },
    );
    const hitRates = this.store.sublevel<HitRateRecord[]>(Bucket.usage);
    selection.import((await hitRates.get(HIT_RATES_KEY).catch(() => undefined)) ?? []);
    this.saveHitRates = () => hitRates.put(HIT_RATES_KEY, selection.export());
    this.track("hit rates", () => this.saveHitRates());
    const querier = new QuerierFanOut({
      selection, nowSec: () => systemClock.nowSec(),
      view: this.view,
      mayAsk: (categoryIds) => this.gate.mayAsk(this.wallet.address, categoryIds, systemClock.nowSec()),
      filters: this.filterSync,
      dialTarget: peerIdFromBytes,
      fanOut: (targets, query, opts) => this.lookups.fanOut(targets, query, opts),
      ownCredits: async () => {
        const own = await this.credits.credits(this.wallet.address);
        return own === undefined ? undefined : availableCredits(own);
      },
    });
    const check = new CheckService({
      prepareItem: checkItemPreparer(this.warninglists, defaultRegion),
      ownLookup: (items, categoryIds, now) => this.ownLists.checkMany(items, categoryIds, now),
      fanOut: (providers, items, categoryIds, opts) => querier.ask(providers, { items, categoryIds }, { timeoutMsPerPeer: opts.timeoutMsPerPeer, signal: opts.signal }, { named: opts.named }),
      activeCategories: () => this.view.activeCategoryMap(),
      defaultCategoryIds: () => this.gate.defaultCategoryIds(this.wallet.address, systemClock.nowSec()),
      peerAddresses: () => this.view.activeMembers().map((m) => m.address).filter((a) => a !== this.wallet.address),
      assertReady: () => this.nodeHealth.assertReady(),
      nowSec: () => systemClock.nowSec(),
      defaultTimeoutMsPerPeer: this.config.lookup.timeoutMsPerPeer,
      score: (category, level, reportedAtSec, nowSec, confirmed) => decay.score(category, level, reportedAtSec, nowSec, confirmed),
    });
    // A data dir from before scoped tokens holds the admin one only: the others are made now.
    await this.keys.initApiTokens();
    this.api = new ApiServer(
      { host: this.config.api.host, port: this.config.api.port, tokens: () => this.keys.apiTokens(), version: this.opts.version ?? "dev" },
      {
        check: (request, signal) => check.check(request, signal), health: async () => this.health(), peers: async () => this.peers(),
        journal: (queryId) => this.journal.get(queryId), answers: () => this.journal.heldAnswers(), lists: this.listApi(), logger: this.log,
        feedback: {
          report: async (hitId, kind) => this.feedbackView(await this.keptHits.queueReport(hitId, kind, Date.now())),
          list: async () => (await this.keptHits.reports()).map((report) => this.feedbackView(report)),
          received: async (sinceMs) => (await this.store.receivedFeedback(sinceMs)).map((r) => {
            const categoryName = this.view.categories().find((c) => c.id === r.categoryId)?.name;
            return {
              receivedAt: new Date(r.receivedAtSec * 1000).toISOString(), kind: r.kind, category: r.categoryId, ...(categoryName ? { categoryName } : {}),
              tagPrefix: r.tagPrefix, ...(r.ownRef === undefined ? {} : { ownRef: r.ownRef }),
            };
          }),
        },
        hitChanges: async (sinceMs) => (await this.keptHits.changes(sinceMs)).map((change) => {
          const providerName = this.view.member(change.provider)?.name;
          const categoryName = this.view.categories().find((c) => c.id === change.category)?.name;
          return {
            provider: change.provider, ...(providerName ? { providerName } : {}), category: change.category, ...(categoryName ? { categoryName } : {}),
            queryId: change.queryId, delistedAt: new Date(change.delistedAt * 1000).toISOString(), reason: change.reason, seenAt: new Date(change.seenAtMs).toISOString(),
          };
        }),
      },
    );
    this.apiPort = await this.api.start();
    this.track("api", () => this.api.stop());
  }

  /** A queued or sent feedback report as the API shows it (no tag, no MAC). */
  private feedbackView(report: QueuedReport): FeedbackReportView {
    const providerName = this.view.member(report.providerAddress)?.name;
    const categoryName = this.view.categories().find((c) => c.id === report.categoryId)?.name;
    return {
      reportId: report.reportId, hitId: report.hitId, provider: report.providerAddress, ...(providerName ? { providerName } : {}),
      category: report.categoryId, ...(categoryName ? { categoryName } : {}), kind: report.kind,
      status: report.sentAtMs === undefined ? "queued" : "sent", queuedAt: new Date(report.queuedAtMs).toISOString(),
      ...(report.sentAtMs === undefined ? {} : { sentAt: new Date(report.sentAtMs).toISOString() }),
      ...(report.outcome === undefined ? {} : { outcome: report.outcome }),
    };
  }

  /** The member's own lists as the API serves them (node/store/lists.ts does the work). */
  private listApi(): ApiListModules {
    const lists = this.lists;
    return {
      import: async (source, opts) => {
        return importSummaryView(await lists.import(source, { ...opts, workers: this.config.lists.importWorkers }).finally(() => this.afterListChange()));
      },
      importStatus: () => lists.importStatus(),
      check: async (items) => ({ results: await Promise.all(items.map((item) => lists.check(item.type, item.value))) }),
      remove: async (items, reason) => {
        const results = [];
        for (const item of items) {
          const outcome = await lists.remove(item.type, item.value, reason);
          results.push(outcome.removed ? { removed: true, ...(outcome.category === undefined ? {} : { category: outcome.category }) } : { removed: false });
        }
        if (results.some((r) => r.removed)) this.afterListChange();
        return { removed: results.filter((r) => r.removed).length, results };
      },
      stats: () => lists.overview(),
      export: (format) => lists.export(format),
      publish: async (categories) => {
        const published = await lists.publish(lists.categoryIds(categories));
        void this.view.sync().catch(() => undefined);
        return { published: published.map((p) => ({ ...p, category: p.category ?? null })) };
      },
    };
  }

  /**
   * Publishes the snapshot of each category whose list changed since the one on chain: every
   * `lists.publishEveryHours` (counted from that snapshot's time, so a restart does not reset it), and
   * at once when the list outgrew the bucket size its snapshot sets (a large import: lookups would
   * get E_SNAPSHOT_STALE until it is published). Nothing when `publishEveryHours` is 0.
   */
  private async publishChanged(nowSec: number): Promise<void> {
    const everySec = this.config.lists.publishEveryHours * 3600;
    if (everySec <= 0 || this.evaluator === undefined || this.view.member(this.wallet.address)?.status !== MemberStatus.Active) return;
    const onChain = (categoryId: number) => this.view.contribution(this.wallet.address, categoryId);
    const counts = this.store.countPerCategory();
    const due = categoriesDue({
      changed: this.lists.changedCategories(onChain), storedCount: (id) => counts.get(id) ?? 0, bits: bucketBits, nowSec, everySec,
      published: (id) => { const snapshot = onChain(id); return snapshot === undefined ? undefined : { liveCount: Number(snapshot.liveCount), publishedAt: snapshot.publishedAt }; },
    });
    if (due.length === 0) return;
    const published = await this.lists.publish(due);
    this.log.info({ categories: published.map((p) => p.category), everyHours: this.config.lists.publishEveryHours }, "snapshot published by the node");
    await this.view.sync();
  }

  /**
   * Claims this member's weekly bonus for each ended week still in the settlement window in which
   * members confirmed its entries (anyone may settle a week; the provider is the one with a reason
   * to): at most every {@link BONUS_SETTLEMENT_EVERY_SEC}. Failures are logged; the next round retries.
   */
  private async settleBonuses(nowSec: number): Promise<void> {
    if (nowSec - this.lastBonusSettlementSec < BONUS_SETTLEMENT_EVERY_SEC) return;
    if (this.view.member(this.wallet.address)?.status !== MemberStatus.Active) return;
    this.lastBonusSettlementSec = nowSec;
    const ledger = this.contracts.ledger.connect(this.wallet.connect(this.chain.provider));
    const paid = await settleDueBonuses(ledger, this.wallet.address, await bonusEventRange(this.chain.provider));
    for (const p of paid) this.log.info({ week: p.week, amount: p.amount.toString(), txHash: p.txHash }, "weekly bonus settled");
  }

  /** After a list change through the API: publishes at once what outgrew its snapshot (see {@link publishChanged}); failures are logged, the next round retries. */
  private afterListChange(): void {
    void this.publishChanged(systemClock.nowSec()).catch((err: unknown) => this.log.warn({ code: (err as RiskshareError).code, err: (err as Error).message }, "publishing the changed snapshots failed; retried at the next housekeeping round"));
  }

  private startHousekeeping(): void {
    const housekeeping = new Housekeeping({}, {
      chores: [
        { name: "quota usage", run: (nowSec) => this.savedUsage.save(nowSec) },
        { name: "hit rates", run: () => this.saveHitRates() },
        { name: "expired entries", run: (nowSec) => this.store.sweep(nowSec) },
        { name: "query journal", run: (nowSec) => this.journal.sweep((nowSec - this.config.lookup.journalRetentionDays * 86_400) * 1000) },
        // Kept hits and their changes follow the journal's retention (a provider's key rotation retires hits sooner).
        { name: "kept hits", run: (nowSec) => this.keptHits.sweep((nowSec - this.config.lookup.journalRetentionDays * 86_400) * 1000) },
        { name: "scheduled publish", run: (nowSec) => this.publishChanged(nowSec) },
        { name: "bonus settlement", run: (nowSec) => this.settleBonuses(nowSec) },
        // Received feedback is kept for the operator as long as the journal; confirmations as long as their entry.
        { name: "feedback records", run: (nowSec) => this.store.pruneFeedback(nowSec - this.config.lookup.journalRetentionDays * 86_400) },
      ],
      logger: this.log,
    });
    housekeeping.start();
    this.track("housekeeping", () => housekeeping.stop());
  }
}
