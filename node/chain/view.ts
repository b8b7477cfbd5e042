import { EventEmitter } from "node:events";
import { getAddress, hexlify, ZeroAddress, type Log, type Provider } from "ethers";
import type { Logger } from "../logger.ts";
import { RiskshareError } from "../errors.ts";
import type { ConsortiumContracts } from "./contracts.ts";
import { MemberStatus } from "./governance.ts";
import { NO_WARNINGLIST_HASH } from "./proposals.ts";
import { CHAIN_DEFAULTS } from "./options.ts";
import { translateChainError } from "./errors.ts";

/** A member as the node's cache holds it. */
export interface MemberInfo {
  address: string;
  name: string;
  /** libp2p PeerId bytes as 0x-hex. */
  peerId: string;
  status: number;
  joinedAt: number;
  /** The member's OPRF public key in force (32 bytes, 0x-hex); for a candidate, the key it was proposed with. */
  oprfKey: string;
  /** Epoch of `oprfKey` (for a candidate: the epoch its key takes at admission). */
  keyEpoch: number;
  /** Unix seconds from which `oprfKey` is in force; 0 for a candidate. */
  keyRotatedAt: number;
}

/** A category and its reciprocity policy. */
export interface CategoryInfo {
  id: number;
  name: string;
  active: boolean;
  policy: { minEntries: bigint; maxSnapshotAgeSeconds: bigint; quotaBase: bigint; quotaRatioBps: bigint; quotaCeiling: bigint };
}

/** A member's latest contribution snapshot for one category. */
export interface ContributionInfo {
  liveCount: bigint;
  /** The commitment to the member's base tag filter for the category (0x-hex; node/chain/filter-commitment.ts). */
  filterHash: string;
  /** The member's key epoch the filter was built under. */
  keyEpoch: number;
  publishedAt: number;
  /** It failed a spot-check, unanswered (ContributionRegistry.isUnproven): it counts for nothing. */
  unproven: boolean;
  /** The latest spot-check of the member's snapshots for the category, if any was ever opened. */
  challenge: ChallengeInfo | undefined;
}

/** Where a spot-check stands (ContributionRegistry.Challenge). */
export interface ChallengeInfo {
  state: "open" | "answered" | "expired" | "superseded";
  challenger: string;
  openedAt: number;
  deadline: number;
  liveCount: bigint;
  /** The commitment challenged. */
  filterHash: string;
  /** Picks the chunks to prove (0x-hex bytes32). */
  seed: string;
}

const CHALLENGE_STATES = [undefined, "open", "answered", "expired", "superseded"] as const;
const CHALLENGE_EVENTS = new Set(["ChallengeOpened", "ChallengeAnswered", "ChallengeExpired", "ChallengeSuperseded"]);

/** Options of {@link ConsortiumView}. */
export interface ConsortiumViewOptions {
  pollIntervalMs: number;
  logChunkBlocks?: number;
  maxStaleMs?: number;
}

/** Dependencies of {@link ConsortiumView}. */
export interface ConsortiumViewModules {
  contracts: Pick<ConsortiumContracts, "registry" | "contributions">;
  /** Only the head and the logs are read from it; state is read through `contracts`. */
  provider: Pick<Provider, "getBlockNumber" | "getLogs">;
  logger: Logger;
}

/** What the view tells a health check. */
export interface ConsortiumViewHealth {
  syncedBlock: number;
  /** The chain's newest block when the view last asked (-1 before it first did). */
  headBlock: number;
  lastSyncAtMs: number;
  stale: boolean;
  lastError?: string;
}

const REGISTRY_MEMBER_EVENTS = new Set(["MemberAdmitted", "AdmissionVetoed", "MemberActivated", "MemberSuspended", "MemberReinstated", "MemberRemoved", "OprfKeyRotated", "MemberDormant", "MemberAwake", "MemberKeyRotated"]);
const REGISTRY_CATEGORY_EVENTS = new Set(["CategoryAdded", "CategoryRetired", "PolicySet"]);

/**
 * The node's cache of what the chain says about the consortium: members (by address and by
 * PeerId) with every OPRF key each held per key epoch, categories with their policy, the key epoch
 * length, and every member's latest contribution.
 *
 * It loads a consistent snapshot at one block, then follows events block range by block range
 * with plain eth_getLogs polling (no client-specific subscriptions). After an RPC outage it
 * resumes from the last block it processed, so no event is skipped; after a restart it reloads.
 * Emits "memberChanged" (MemberInfo) when a member's status changes, "keyRotated" (MemberInfo) when
 * a member's OPRF key changes (a rotation, or a re-admission under a new key).
 */
export class ConsortiumView extends EventEmitter<{ memberChanged: [MemberInfo]; keyRotated: [MemberInfo]; synced: [number] }> {
  private readonly opts: Required<ConsortiumViewOptions>;
  private readonly modules: ConsortiumViewModules;
  private readonly log: Logger;
  private readonly members = new Map<string, MemberInfo>();
  private readonly addressByPeerId = new Map<string, string>();
  private readonly categoriesById = new Map<number, CategoryInfo>();
  private readonly contributionsByKey = new Map<string, ContributionInfo>();
  /** OPRF keys by member address, then key epoch: every key a member held in force. */
  private readonly oprfKeysByMember = new Map<string, Map<number, string>>();
  private keyEpochLengthSeconds = 0;
  /** The warninglist hash the registry pins (lowercase 0x-hex); all zero when it pins none. */
  private pinnedWarninglistHash = NO_WARNINGLIST_HASH;
  /** The registry's bootstrap admin; the zero address once renounced. */
  private adminAddress = ZERO_ADDRESS;
  /** End of the regulator's pause of lookups (unix seconds); 0 when none, or lifted by a vote. */
  private pausedUntilSec = 0;
  /** Members marked dormant (no vote until they act again; they still look up). */
  private readonly dormant = new Set<string>();
  /** The account each member moved to by a member key rotation (old account → new account). */
  private readonly successors = new Map<string, string>();
  /** The same links the other way (new account → old account). */
  private readonly predecessors = new Map<string, string>();
  /** When each removed member was removed, or each rotated account rotated away (unix seconds). */
  private readonly removedAtByMember = new Map<string, number>();
  private syncedBlock = -1;
  private headBlock = -1;
  private lastSyncAtMs = 0;
  private lastError: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The catch-up running now, and the one queued behind it (see {@link sync}). */
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private stopped = false;

  constructor(opts: ConsortiumViewOptions, modules: ConsortiumViewModules) {
    super();
    this.opts = {
      logChunkBlocks: CHAIN_DEFAULTS.logChunkBlocks,
      maxStaleMs: CHAIN_DEFAULTS.maxStaleMs,
      ...opts,
    };
    this.modules = modules;
    this.log = modules.logger.child({ module: "consortium-view" });
  }

  /** Loads the snapshot and starts following the chain. */
  async start(): Promise<void> {
    await this.load();
    this.stopped = false;
    this.schedule();
  }

  /** Stops following the chain (idempotent). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.all([this.running?.catch(() => undefined), this.queued?.catch(() => undefined)]);
  }

  /**
   * Processes every block up to the chain head now; callers that just sent a transaction use it to
   * see its effect at once. A catch-up already running may have read the head before that
   * transaction landed, so a call made meanwhile runs one more after it (calls made while that one
   * waits share it).
   */
  async sync(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return this.runCatchUp();
    const queued = this.running.catch(() => undefined).then(() => {
      this.queued = undefined;
      return this.runCatchUp();
    });
    this.queued = queued;
    return queued;
  }

  /** The member with this address, if the registry knows it. */
  member(address: string): MemberInfo | undefined {
    return this.members.get(normalizeAddress(address));
  }

  /** The member whose node has this PeerId (bytes as 0x-hex), if any. */
  memberByPeerId(peerIdHex: string): MemberInfo | undefined {
    const address = this.addressByPeerId.get(peerIdHex.toLowerCase());
    return address === undefined ? undefined : this.members.get(address);
  }

  /** True when the address is an Active member. */
  isActive(address: string): boolean {
    return this.member(address)?.status === MemberStatus.Active;
  }

  /** Every member the registry knows, in any status. */
  allMembers(): MemberInfo[] {
    return [...this.members.values()];
  }

  /** Active members only. */
  activeMembers(): MemberInfo[] {
    return this.allMembers().filter((m) => m.status === MemberStatus.Active);
  }

  /** Every category, active or retired. */
  categories(): CategoryInfo[] {
    return [...this.categoriesById.values()].sort((a, b) => a.id - b.id);
  }

  /** One category by id. */
  category(id: number): CategoryInfo | undefined {
    return this.categoriesById.get(id);
  }

  /** The id of a category by name, active or retired (retired names stay taken, so ids never clash). */
  categoryIdByName(name: string): number | undefined {
    return this.categories().find((c) => c.name === name)?.id;
  }

  /** Active categories as name → id, the form node/store takes. */
  activeCategoryMap(): Map<string, number> {
    return new Map(this.categories().filter((c) => c.active).map((c) => [c.name, c.id]));
  }

  /**
   * The OPRF public key (0x-hex) `address` held in `keyEpoch`, from the registry's state and
   * events (no RPC per call); undefined when it held none, or it has not been seen yet.
   */
  oprfKeyAt(address: string, keyEpoch: number): string | undefined {
    return this.oprfKeysByMember.get(normalizeAddress(address))?.get(keyEpoch);
  }

  /**
   * The registry's bootstrap admin while one holds it (a deployment with `--keep-admin`): it can seed
   * members, regulators, categories and policy without a vote. Undefined once renounced.
   */
  bootstrapAdmin(): string | undefined {
    return this.adminAddress === ZERO_ADDRESS ? undefined : this.adminAddress;
  }

  /**
   * The end (unix seconds) of the regulator's pause of every lookup while it holds at `nowSec`
   * (compared with this machine's clock); undefined when lookups are not paused.
   */
  pausedUntil(nowSec: number): number | undefined {
    return nowSec < this.pausedUntilSec ? this.pausedUntilSec : undefined;
  }

  /** Whether the member is marked dormant: no vote until its next on-chain action (its lookups go on). */
  isDormant(address: string): boolean {
    return this.dormant.has(normalizeAddress(address));
  }

  /** The account the member of `address` moved to by a member key rotation, if it did. */
  successorOf(address: string): string | undefined {
    return this.successors.get(normalizeAddress(address));
  }

  /** The account the member of `address` moved from by a member key rotation, if it did. */
  predecessorOf(address: string): string | undefined {
    return this.predecessors.get(normalizeAddress(address));
  }

  /** The first account of the member `address` belongs to: itself unless it came by member key rotations. */
  firstAccountOf(address: string): string {
    let account = normalizeAddress(address);
    // Each account has one predecessor at most and rotations only append, so this ends.
    for (let previous = this.predecessors.get(account); previous !== undefined; previous = this.predecessors.get(account)) account = previous;
    return account;
  }

  /** When the member was removed, or rotated away from this account (unix seconds), if it was. */
  removedAt(address: string): number | undefined {
    return this.removedAtByMember.get(normalizeAddress(address));
  }

  /** Seconds after which a member should rotate its OPRF key (governance; nodes report an older key). */
  keyEpochLength(): number {
    return this.keyEpochLengthSeconds;
  }

  /** The SHA-256 (0x-hex) of the warninglists the consortium pinned; all zero when it pins none (advisory: nodes report a mismatch). */
  warninglistHash(): string {
    return this.pinnedWarninglistHash;
  }

  /** `member`'s snapshots with a spot-check open or expired (unanswered), by category id. */
  challengesOf(member: string): Array<{ categoryId: number; snapshot: ContributionInfo; challenge: ChallengeInfo }> {
    const address = normalizeAddress(member);
    const found: Array<{ categoryId: number; snapshot: ContributionInfo; challenge: ChallengeInfo }> = [];
    for (const category of this.categoriesById.values()) {
      const snapshot = this.contributionsByKey.get(contributionKey(address, category.id));
      const challenge = snapshot?.challenge;
      if (snapshot !== undefined && challenge !== undefined && (challenge.state === "open" || challenge.state === "expired")) {
        found.push({ categoryId: category.id, snapshot, challenge });
      }
    }
    return found;
  }

  /** A member's latest contribution for a category, if it published one. */
  contribution(address: string, categoryId: number): ContributionInfo | undefined {
    return this.contributionsByKey.get(contributionKey(normalizeAddress(address), categoryId));
  }

  /** Sync state for health checks; stale means the chain has not answered for maxStaleMs. */
  health(nowMs = Date.now()): ConsortiumViewHealth {
    return {
      syncedBlock: this.syncedBlock,
      headBlock: this.headBlock,
      lastSyncAtMs: this.lastSyncAtMs,
      stale: nowMs - this.lastSyncAtMs > this.opts.maxStaleMs,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Throws E_CHAIN_UNREACHABLE when the view is too old to decide on membership (fail closed). */
  assertFresh(nowMs = Date.now()): void {
    if (this.health(nowMs).stale) {
      throw new RiskshareError("E_CHAIN_UNREACHABLE", "the node has not heard from the chain recently and cannot check membership", { syncedBlock: this.syncedBlock });
    }
  }

  private runCatchUp(): Promise<void> {
    const running = this.catchUp().finally(() => {
      this.running = undefined;
    });
    this.running = running;
    return running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.sync()
        .catch(() => undefined)
        .finally(() => this.schedule());
    }, this.opts.pollIntervalMs);
    this.timer.unref();
  }

  private async load(): Promise<void> {
    const { registry, contributions } = this.modules.contracts;
    try {
      const blockTag = await this.modules.provider.getBlockNumber();
      this.headBlock = Math.max(this.headBlock, blockTag);
      const overrides = { blockTag };
      const [memberCount, categoryCount, keyEpochLength, admin, pausedUntil, warninglistHash] = await Promise.all([
        registry.memberCount(overrides),
        registry.categoryCount(overrides),
        registry.keyEpochLength(overrides),
        registry.admin(overrides),
        registry.pausedUntil(overrides),
        registry.warninglistHash(overrides),
      ]);
      // Read everything first, so that a failed (re)load leaves the state as it was.
      const members: MemberInfo[] = [];
      for (let index = 0n; index < memberCount; index++) members.push(toMemberInfo(await registry.memberAt(index, overrides)));
      const activity = new Map<string, MemberActivity>();
      for (const m of members) activity.set(m.address, toActivity(await registry.activityOf(m.address, overrides)));
      // Key history: a member rotates every few months, so a handful of reads each.
      const oprfKeys = new Map<string, Map<number, string>>();
      for (const m of members) {
        const keys = new Map<number, string>();
        for (let epoch = 1; epoch <= m.keyEpoch; epoch++) {
          const key = (await registry.oprfKeyOf(m.address, epoch, overrides)).toLowerCase();
          if (!ZERO_KEY.test(key)) keys.set(epoch, key);
        }
        oprfKeys.set(m.address, keys);
      }
      const categories: CategoryInfo[] = [];
      for (let id = 1; id <= Number(categoryCount); id++) categories.push(await this.readCategory(id, blockTag));
      const snapshots = new Map<string, ContributionInfo>();
      for (const m of members) {
        for (const c of categories) {
          const snapshot = await contributions.latest(m.address, c.id, overrides);
          if (snapshot.publishedAt > 0n) {
            snapshots.set(contributionKey(m.address, c.id), {
              liveCount: snapshot.liveCount,
              filterHash: snapshot.filterHash.toLowerCase(),
              keyEpoch: Number(snapshot.keyEpoch),
              publishedAt: Number(snapshot.publishedAt),
              ...(await this.readChallenge(m.address, c.id, blockTag)),
            });
          }
        }
      }
      const peerIdOwners = await this.readPeerIdOwners(members, members.map((m) => m.peerId), blockTag);
      const successors = new Map<string, string>();
      for (const m of members) {
        if (m.status === MemberStatus.Rotated) successors.set(m.address, getAddress(await registry.successorOf(m.address, overrides)));
      }

      this.members.clear();
      this.addressByPeerId.clear();
      this.categoriesById.clear();
      this.contributionsByKey.clear();
      this.oprfKeysByMember.clear();
      for (const [address, keys] of oprfKeys) this.oprfKeysByMember.set(address, keys);
      for (const m of members) this.putMember(m);
      this.dormant.clear();
      this.removedAtByMember.clear();
      for (const [address, a] of activity) this.putActivity(address, a);
      this.settlePeerIds(peerIdOwners);
      this.successors.clear();
      this.predecessors.clear();
      for (const [old, next] of successors) this.putSuccessor(old, next);
      for (const c of categories) this.categoriesById.set(c.id, c);
      for (const [key, snapshot] of snapshots) this.contributionsByKey.set(key, snapshot);
      this.keyEpochLengthSeconds = Number(keyEpochLength);
      this.pinnedWarninglistHash = warninglistHash.toLowerCase();
      this.adminAddress = getAddress(admin);
      this.pausedUntilSec = Number(pausedUntil);
      this.markSynced(blockTag);
      this.lastError = undefined;
      this.log.info({ block: blockTag, members: this.members.size, categories: this.categoriesById.size }, "consortium view loaded");
    } catch (err) {
      const translated = translateChainError(err, "load the consortium registry");
      this.lastError = translated.code;
      throw translated;
    }
  }

  private async catchUp(): Promise<void> {
    if (this.syncedBlock < 0) return this.load(); // never loaded: nothing to follow from yet
    try {
      const head = await this.modules.provider.getBlockNumber();
      this.headBlock = Math.max(this.headBlock, head);
      while (this.syncedBlock < head) {
        const from = this.syncedBlock + 1;
        const to = Math.min(head, from + this.opts.logChunkBlocks - 1);
        await this.apply(from, to);
        this.markSynced(to);
      }
      this.lastSyncAtMs = Date.now();
      this.lastError = undefined;
    } catch (err) {
      const translated = translateChainError(err, "follow the consortium registry");
      this.lastError = translated.code;
      this.log.warn({ code: translated.code, syncedBlock: this.syncedBlock }, "chain sync failed; will retry");
      throw translated;
    }
  }

  private async apply(fromBlock: number, toBlock: number): Promise<void> {
    const { registry, contributions } = this.modules.contracts;
    const [registryLogs, contributionLogs] = await Promise.all([
      this.modules.provider.getLogs({ address: await registry.getAddress(), fromBlock, toBlock }),
      this.modules.provider.getLogs({ address: await contributions.getAddress(), fromBlock, toBlock }),
    ]);
    const overrides = { blockTag: toBlock };
    const touchedMembers = new Set<string>();
    const touchedCategories = new Set<number>();
    for (const log of sortLogs(registryLogs)) {
      const parsed = registry.interface.parseLog(log);
      if (!parsed) continue;
      if (REGISTRY_MEMBER_EVENTS.has(parsed.name)) touchedMembers.add(getAddress(parsed.args[0] as string));
      if (parsed.name === "MemberKeyRotated") {
        const [oldAccount, newAccount, , keyEpoch, oprfKey] = parsed.args as unknown as [string, string, string, bigint, string];
        touchedMembers.add(getAddress(newAccount));
        this.putSuccessor(getAddress(oldAccount), getAddress(newAccount));
        this.putOprfKey(getAddress(newAccount), Number(keyEpoch), oprfKey);
      }
      else if (REGISTRY_CATEGORY_EVENTS.has(parsed.name)) touchedCategories.add(Number(parsed.args[0]));
      else if (parsed.name === "KeyEpochLengthSet") this.keyEpochLengthSeconds = Number(parsed.args[0]);
      else if (parsed.name === "WarninglistHashSet") this.pinnedWarninglistHash = (parsed.args[0] as string).toLowerCase();
      // Only an accepted hand-over or a renouncement moves the role (a nomination is AdminTransferStarted).
      else if (parsed.name === "AdminTransferred") this.adminAddress = getAddress(parsed.args[1] as string);
      else if (parsed.name === "ConsortiumPaused") this.pausedUntilSec = Number(parsed.args[1]);
      else if (parsed.name === "ConsortiumUnpaused") this.pausedUntilSec = 0;
      // A key comes into force at an activation or a rotation; the events carry (epoch, key).
      if (parsed.name === "MemberActivated") this.putOprfKey(getAddress(parsed.args[0] as string), Number(parsed.args[4]), parsed.args[3] as string);
      else if (parsed.name === "OprfKeyRotated") this.putOprfKey(getAddress(parsed.args[0] as string), Number(parsed.args[1]), parsed.args[2] as string);
    }
    const touchedPeerIds = new Set<string>();
    for (const address of touchedMembers) {
      const before = this.members.get(address);
      const after = toMemberInfo(await registry.member(address, overrides));
      this.putActivity(address, toActivity(await registry.activityOf(address, overrides)));
      if (before) touchedPeerIds.add(before.peerId);
      touchedPeerIds.add(after.peerId);
      this.putMember(after);
      if (before?.status !== after.status) {
        this.log.info({ member: address, status: after.status, block: toBlock }, "member status changed");
        this.emit("memberChanged", after);
      }
      if (before !== undefined && (before.keyEpoch !== after.keyEpoch || before.oprfKey !== after.oprfKey) && after.keyRotatedAt > 0) {
        this.log.info({ member: address, keyEpoch: after.keyEpoch, block: toBlock }, "member OPRF key rotated");
        this.emit("keyRotated", after);
      }
    }
    this.settlePeerIds(await this.readPeerIdOwners([...this.members.values()], touchedPeerIds, toBlock));
    for (const id of touchedCategories) this.categoriesById.set(id, await this.readCategory(id, toBlock));
    const challenged = new Map<string, { member: string; categoryId: number }>();
    for (const log of sortLogs(contributionLogs)) {
      const parsed = contributions.interface.parseLog(log);
      if (parsed === null) continue;
      if (CHALLENGE_EVENTS.has(parsed.name) || parsed.name === "ContributionPublished") {
        const member = getAddress(parsed.args[0] as string);
        const categoryId = Number(parsed.args[1]);
        challenged.set(contributionKey(member, categoryId), { member, categoryId });
      }
      if (parsed.name !== "ContributionPublished") continue;
      const [member, categoryId, keyEpoch, liveCount, filterHash, publishedAt] = parsed.args as unknown as [string, bigint, bigint, bigint, string, bigint];
      this.contributionsByKey.set(contributionKey(getAddress(member), Number(categoryId)), {
        liveCount,
        filterHash: filterHash.toLowerCase(),
        keyEpoch: Number(keyEpoch),
        publishedAt: Number(publishedAt),
        unproven: false,
        challenge: undefined,
      });
    }
    for (const [key, { member, categoryId }] of challenged) {
      const snapshot = this.contributionsByKey.get(key);
      if (snapshot === undefined) continue;
      const challenge = await this.readChallenge(member, categoryId, toBlock);
      this.contributionsByKey.set(key, { ...snapshot, ...challenge });
    }
  }

  /** A snapshot's spot-check state at `blockTag`. */
  private async readChallenge(member: string, categoryId: number, blockTag: number): Promise<Pick<ContributionInfo, "unproven" | "challenge">> {
    const { contributions } = this.modules.contracts;
    const [c, unproven] = await Promise.all([
      contributions.challengeOf(member, categoryId, { blockTag }),
      contributions.isUnproven(member, categoryId, { blockTag }),
    ]);
    const state = CHALLENGE_STATES[Number(c.state)];
    return {
      unproven,
      challenge: state === undefined ? undefined : {
        state, challenger: getAddress(c.challenger), openedAt: Number(c.openedAt), deadline: Number(c.deadline),
        liveCount: c.liveCount, filterHash: c.filterHash.toLowerCase(), seed: c.seed,
      },
    };
  }

  private async readCategory(id: number, blockTag: number): Promise<CategoryInfo> {
    const { registry } = this.modules.contracts;
    const [category, policy] = await Promise.all([registry.category(id, { blockTag }), registry.policy(id, { blockTag })]);
    return {
      id,
      name: category.name,
      active: category.active,
      policy: {
        minEntries: policy.minEntries,
        maxSnapshotAgeSeconds: policy.maxSnapshotAge,
        quotaBase: policy.quotaBase,
        quotaRatioBps: policy.quotaRatioBps,
        quotaCeiling: policy.quotaCeiling,
      },
    };
  }

  private putOprfKey(address: string, keyEpoch: number, key: string): void {
    let keys = this.oprfKeysByMember.get(address);
    if (keys === undefined) {
      keys = new Map();
      this.oprfKeysByMember.set(address, keys);
    }
    keys.set(keyEpoch, key.toLowerCase());
  }

  private putSuccessor(oldAccount: string, newAccount: string): void {
    this.successors.set(oldAccount, newAccount);
    this.predecessors.set(newAccount, oldAccount);
  }

  private putActivity(address: string, activity: MemberActivity): void {
    if (activity.dormant) this.dormant.add(address);
    else this.dormant.delete(address);
    if (activity.removedAt > 0) this.removedAtByMember.set(address, activity.removedAt);
  }

  private putMember(info: MemberInfo): void {
    const previous = this.members.get(info.address);
    // Release the old PeerId only if it still points here: another account may hold it by now.
    if (previous && previous.peerId !== info.peerId && this.addressByPeerId.get(previous.peerId) === info.address) {
      this.addressByPeerId.delete(previous.peerId);
    }
    this.members.set(info.address, info);
    if (info.peerId !== "0x") this.addressByPeerId.set(info.peerId, info.address);
  }

  /**
   * Whose each of `peerIds` is, as the registry says, for those that several `members` records carry.
   * That happens when a lapsed candidacy's PeerId is claimed by another candidate: the records keep
   * it, the registry binds it to the last claimant, and only the registry knows which that was.
   */
  private async readPeerIdOwners(members: readonly MemberInfo[], peerIds: Iterable<string>, blockTag: number): Promise<Map<string, string | undefined>> {
    const holders = new Map<string, number>();
    for (const m of members) holders.set(m.peerId, (holders.get(m.peerId) ?? 0) + 1);
    const owners = new Map<string, string | undefined>();
    for (const peerId of new Set(peerIds)) {
      if (peerId === "0x" || (holders.get(peerId) ?? 0) < 2) continue;
      const owner = await this.modules.contracts.registry.memberByPeerId(peerId, { blockTag });
      owners.set(peerId, Number(owner.status) === MemberStatus.None ? undefined : getAddress(owner.account));
    }
    return owners;
  }

  private settlePeerIds(owners: ReadonlyMap<string, string | undefined>): void {
    for (const [peerId, owner] of owners) {
      if (owner === undefined) this.addressByPeerId.delete(peerId);
      else this.addressByPeerId.set(peerId, owner);
    }
  }

  private markSynced(block: number): void {
    this.syncedBlock = block;
    this.lastSyncAtMs = Date.now();
    this.emit("synced", block);
  }
}

const ZERO_KEY = /^0x0{64}$/;
const ZERO_ADDRESS: string = ZeroAddress;

function toMemberInfo(m: { account: string; name: string; peerId: string; status: bigint; joinedAt: bigint; oprfKey: string; keyEpoch: bigint; keyRotatedAt: bigint }): MemberInfo {
  return {
    address: getAddress(m.account), name: m.name, peerId: hexlify(m.peerId).toLowerCase(), status: Number(m.status), joinedAt: Number(m.joinedAt),
    oprfKey: m.oprfKey.toLowerCase(), keyEpoch: Number(m.keyEpoch), keyRotatedAt: Number(m.keyRotatedAt),
  };
}

/** What the view keeps of a member's on-chain activity (ConsortiumRegistry.activityOf). */
interface MemberActivity {
  dormant: boolean;
  removedAt: number;
}

function toActivity([, dormant, removedAt]: readonly [bigint, boolean, bigint]): MemberActivity {
  return { dormant, removedAt: Number(removedAt) };
}

function normalizeAddress(address: string): string {
  try {
    return getAddress(address);
  } catch {
    return address;
  }
}

function contributionKey(address: string, categoryId: number): string {
  return `${address}:${categoryId}`;
}

function sortLogs(logs: readonly Log[]): Log[] {
  return [...logs].sort((a, b) => a.blockNumber - b.blockNumber || a.index - b.index);
}
