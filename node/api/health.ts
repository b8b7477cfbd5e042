/**
 * What GET /v1/health and GET /v1/peers say, and whether the node serves checks now: worked out
 * once, as a list of reasons each carrying the error code a check gets while it holds.
 */
import { memberStatusName, MemberStatus, type ChallengeProblem, type ConsortiumViewHealth, type LedgerHealth, type MemberInfo } from "../chain/index.ts";
import { RiskshareError, type ErrorCode } from "../errors.ts";
import { peerIdText, type ImplausibleSnapshot } from "../p2p/index.ts";
import type { HealthResponse, PeersResponse } from "./schemas.ts";

/** One reason the node is not fully well. */
export interface HealthReason {
  /** The error a check gets while this holds; undefined when the node still serves (degraded). */
  refusal: ErrorCode | undefined;
  message: string;
}

/** A list import in progress, as the importer reports it (every field it knows). */
export interface ImportStatus {
  /** What is imported: the file's name, or the source's. */
  source?: string;
  importId?: string;
  /** Rows read so far. */
  rows?: number;
  /** Bytes read so far, of totalBytes when known. */
  bytes?: number;
  totalBytes?: number;
  /** When the import started (ms since the epoch). */
  startedAtMs?: number;
}

/** A rotation prepared beside the serving store (db-next.json). */
export interface PreparedRotationStatus {
  keyEpoch: number;
  /** True once the import finished: `riskshare key rotate-oprf --commit` (or `rotate-member --commit`) may switch to it. */
  complete: boolean;
  startedAtMs: number;
  preparedAtMs?: number | undefined;
  /** A move to a new member key (`key rotate-member --prepare`): the account it moves to. */
  newAccount?: string | undefined;
}

/** Options of {@link NodeHealth}. */
export interface NodeHealthOptions {
  /** This node's member address. */
  address: string;
  /** The SHA-256 (0x-hex) of the warninglists this node ships (`shippedWarninglists().hash`); compared with the one the registry pins. */
  warninglistHash?: string;
}

/** Dependencies of {@link NodeHealth}: the parts whose state makes the node's health. */
export interface NodeHealthModules {
  /** The chain's ConsortiumView fits. */
  view: {
    health(): ConsortiumViewHealth;
    member(address: string): MemberInfo | undefined;
    allMembers(): MemberInfo[];
    activeMembers(): MemberInfo[];
    /** The consortium's key epoch length, seconds (0 when unknown). */
    keyEpochLength(): number;
    /** The warninglist hash the registry pins (0x-hex); all zero when it pins none. */
    warninglistHash(): string;
    /** The registry's bootstrap admin while one holds it; undefined once renounced. */
    bootstrapAdmin(): string | undefined;
    /** The end of a regulator's pause of every lookup while it holds at `nowSec`; undefined otherwise. */
    pausedUntil(nowSec: number): number | undefined;
    /** Whether the member is marked dormant (no vote until it acts; lookups go on). */
    isDormant(address: string): boolean;
    /** The account the member of `address` moved to by a member key rotation, if it did. */
    successorOf(address: string): string | undefined;
  };
  /** The ledger batcher. */
  ledger: { health(): LedgerHealth };
  /** The ledger outbox. */
  outbox: {
    backlog(): number;
    readonly maxBacklog: number;
    /** When the oldest record not yet on chain arrived (ms since the epoch); undefined when none waits. */
    oldestReceivedAtMs(): number | undefined;
  };
  /** The p2p host. */
  host: { readonly peerId: { toString(): string }; connectedPeerIds(): ReadonlySet<string> };
  /** The OPRF key this node answers under: its epoch and public key (0x-hex), if it holds one. */
  oprfKey: { current(): { epoch: number; publicKeyHex: string } | undefined };
  /** The filter sync: providers whose on-chain live count disagrees with their committed filter. */
  filters: { implausibleSnapshots(): readonly ImplausibleSnapshot[] };
  /** Spot-checks of this member's snapshots it has not answered on chain (yet). */
  challenges?: { pending(): readonly ChallengeProblem[] };
  /** The key store: key files still in plaintext (a data dir from before encryption at rest). */
  keys?: { plaintextFiles(): readonly string[] };
  /** The list import in progress, if one is. */
  imports?: { current(): ImportStatus | undefined };
  /** The store of the next key epoch `key rotate-oprf --prepare` builds or built in db-next, if there is one. */
  rotation?: { prepared(): PreparedRotationStatus | undefined };
  /** Unix seconds now. */
  nowSec(): number;
}

/** The node's health, its peers, and the one decision whether it serves checks. */
export class NodeHealth {
  private readonly opts: NodeHealthOptions;
  private readonly modules: NodeHealthModules;

  constructor(opts: NodeHealthOptions, modules: NodeHealthModules) {
    this.opts = opts;
    this.modules = modules;
  }

  /** Every reason the node is not fully well; those that refuse checks first, in the order a check reports them. */
  reasons(): HealthReason[] {
    const { view, ledger, outbox, oprfKey } = this.modules;
    const reasons: HealthReason[] = [];
    if (outbox.backlog() >= outbox.maxBacklog) {
      reasons.push({ refusal: "E_BACKLOG", message: "the ledger outbox is full; lookups are refused until it drains to the chain" });
    }
    // Refused, not merely degraded: the records of lookups served now could not land until an
    // operator decides which node writes, and never if this one is the node that should not run.
    const otherWriter = ledger.health().otherWriter;
    if (otherWriter !== undefined) {
      reasons.push({
        refusal: "E_LEDGER_OTHER_WRITER",
        message: `E_LEDGER_OTHER_WRITER: the chain holds this member's ledger batches up to ${otherWriter.chainSeq}, but this node's own end at ${otherWriter.ownSeq}: another node writes under the same member key; this node does not flush and refuses lookups, and keeps its ${outbox.backlog()} record(s). Stop the node that should not run; to make this one the writer, stop the other for good, then stop this one, run riskshare node take-over and start it again`,
      });
    }
    if (view.health().stale) {
      reasons.push({ refusal: "E_CHAIN_UNREACHABLE", message: "the chain has not answered recently; membership cannot be checked" });
    }
    const self = view.member(this.opts.address);
    if (self?.status !== MemberStatus.Active) {
      const successor = self?.status === MemberStatus.Rotated ? view.successorOf(this.opts.address) : undefined;
      const admitted = self?.status === MemberStatus.Admitted ? "; its admission comes into force with `riskshare member activate` once the admission delay is over"
        : successor !== undefined ? `; the member moved to ${successor} (member key rotation): run the node with that account's key (keys/node.key after \`riskshare key rotate-member\`)` : "";
      reasons.push({ refusal: "E_NOT_MEMBER", message: `this node's account is not an Active member (${self ? memberStatusName(self.status) : "unknown to the registry"})${admitted}` });
    }
    const held = oprfKey.current();
    if (self !== undefined && (held === undefined || held.epoch !== self.keyEpoch || held.publicKeyHex.toLowerCase() !== self.oprfKey.toLowerCase())) {
      reasons.push({ refusal: "E_OPRF_KEY_MISSING", message: `this node does not hold the OPRF key of its key epoch ${self.keyEpoch} on chain (keys/oprf-${self.keyEpoch}.key)` });
    }
    const epochLength = view.keyEpochLength();
    if (self !== undefined && self.keyRotatedAt > 0 && epochLength > 0 && this.modules.nowSec() > self.keyRotatedAt + epochLength) {
      reasons.push({ refusal: undefined, message: `the OPRF key of epoch ${self.keyEpoch} is older than the consortium's key epoch length (${epochLength} s); rotate it` });
    }
    // Degraded, not refusing: this node still enforces the lists it ships; the chain only pins which ones members should ship.
    const pinned = this.pinnedWarninglistHash();
    const shipped = this.opts.warninglistHash?.toLowerCase();
    if (pinned !== undefined && shipped !== undefined && pinned !== shipped) {
      reasons.push({
        refusal: undefined,
        message: `this node's warninglists (hash ${shipped}) are not the ones the consortium pinned (${pinned}): run the riskshare version whose \`list warninglists\` shows that hash`,
      });
    }
    const admin = view.bootstrapAdmin();
    if (admin !== undefined) {
      reasons.push({
        refusal: undefined,
        message: `a bootstrap admin (${admin}) still holds the registry: it can seed members, regulators, categories and policy without a vote; once set-up is done it should renounce: riskshare admin renounce, with its data directory`,
      });
    }
    // Degraded, not refusing: this node still checks its own lists; it sends and answers no lookups (E_CONSORTIUM_PAUSED).
    const pausedUntil = view.pausedUntil(this.modules.nowSec());
    if (pausedUntil !== undefined) {
      reasons.push({
        refusal: undefined,
        message: `E_CONSORTIUM_PAUSED: a regulator paused every lookup of the consortium until ${new Date(pausedUntil * 1000).toISOString()}; this node answers and sends none until then, or until the members pass an Unpause vote (riskshare proposal unpause)`,
      });
    }
    if (self !== undefined && view.isDormant(this.opts.address)) {
      reasons.push({
        refusal: undefined,
        message: "this member is dormant: it took no on-chain action for the dormancy period, so it has no vote until its next action (a ledger batch, a snapshot, a proposal or a key rotation); its lookups go on",
      });
    }
    const plaintext = this.modules.keys?.plaintextFiles() ?? [];
    if (plaintext.length > 0) {
      reasons.push({ refusal: undefined, message: `key files stored in plaintext (keys/${plaintext.join(", keys/")}); encrypt them: riskshare key migrate, with a passphrase in RISKSHARE_PASSPHRASE_FILE` });
    }
    const flush = ledger.health();
    if (flush.closed !== undefined) {
      reasons.push({ refusal: undefined, message: `E_LEDGER_CLOSED: the QueryLedger takes no more batches from this node (${flush.closed}); the ledger batcher stopped and the outbox keeps its records for the audit` });
    } else if (flush.consecutiveFailures > 0 && flush.otherWriter === undefined) { // another writer is a refusal, said above
      reasons.push({ refusal: undefined, message: `ledger flush failing (${flush.lastError ?? "unknown"}); records are kept and retried` });
    }
    // Local refusal only: this node does not use the filter, but nothing on chain rests on its word.
    for (const s of this.modules.filters.implausibleSnapshots()) {
      reasons.push({
        refusal: undefined,
        message: `E_CONTRIBUTION_IMPLAUSIBLE: provider ${s.providerAddress} claims ${s.liveCount} live entries in category ${s.categoryId} on chain but its filter holds ${s.filterCount}; its filter is not used`,
      });
    }
    for (const c of this.modules.challenges?.pending() ?? []) {
      const when = new Date(c.deadline * 1000).toISOString();
      reasons.push({
        refusal: undefined,
        message: c.code === "E_CHALLENGE_UNANSWERABLE"
          ? `E_CHALLENGE_UNANSWERABLE: a spot-check of this member's snapshot for category ${c.categoryId} (${c.state}, deadline ${when}) cannot be answered: the filter this node holds is not the one published; publish a new snapshot (riskshare list publish), which supersedes it`
          : `answering the spot-check of this member's snapshot for category ${c.categoryId} (${c.state}, deadline ${when}) failed (${c.code}); retried at each chain sync`,
      });
    }
    return reasons;
  }

  /** The warninglist hash the registry pins, lowercase; undefined when it pins none (zero). */
  private pinnedWarninglistHash(): string | undefined {
    const pinned = this.modules.view.warninglistHash().toLowerCase();
    return /^0x0{64}$/.test(pinned) ? undefined : pinned;
  }

  /** Throws the first refusing reason's code (E_BACKLOG, E_LEDGER_OTHER_WRITER, E_CHAIN_UNREACHABLE, E_NOT_MEMBER, E_OPRF_KEY_MISSING) when the node refuses checks. */
  assertReady(): void {
    const reasons = this.reasons();
    const refusal = reasons.find((reason) => reason.refusal !== undefined)?.refusal;
    if (refusal !== undefined) throw new RiskshareError(refusal, `the node refuses lookups: ${reasons.map((r) => r.message).join("; ")}`);
  }

  /** The body of GET /v1/health. */
  health(): HealthResponse {
    const { view, ledger, outbox, host, oprfKey } = this.modules;
    const reasons = this.reasons();
    const chain = view.health();
    const flush = ledger.health();
    const connected = host.connectedPeerIds();
    const activeMembers = view.activeMembers();
    const oldestMs = outbox.oldestReceivedAtMs();
    const answering = oprfKey.current()?.epoch;
    const onChain = view.member(this.opts.address)?.keyEpoch;
    const running = this.modules.imports?.current();
    const prepared = this.modules.rotation?.prepared();
    const pinnedWarninglists = this.pinnedWarninglistHash();
    return {
      status: reasons.some((r) => r.refusal !== undefined) ? "refusing" : reasons.length > 0 ? "degraded" : "ok",
      reasons: reasons.map((r) => r.message),
      address: this.opts.address,
      peerId: host.peerId.toString(),
      chain: {
        syncedBlock: chain.syncedBlock, stale: chain.stale, ...(chain.lastError === undefined ? {} : { lastError: chain.lastError }),
        ...(chain.headBlock < 0 ? {} : { headBlock: chain.headBlock, lagBlocks: Math.max(0, chain.headBlock - chain.syncedBlock) }),
      },
      ledger: {
        backlog: outbox.backlog(), maxBacklog: outbox.maxBacklog,
        ...(oldestMs === undefined ? {} : { oldestRecordAt: new Date(oldestMs).toISOString() }),
        ...(flush.lastLandedSeq === undefined ? {} : { lastLandedSeq: flush.lastLandedSeq.toString() }),
        ...(flush.lastLanded === undefined ? {} : {
          lastBatch: {
            seq: flush.lastLanded.seq.toString(), at: new Date(flush.lastLanded.atMs).toISOString(),
            ...(flush.lastLanded.txHash === undefined ? {} : { txHash: flush.lastLanded.txHash }), ...(flush.lastLanded.adopted ? { adopted: true } : {}),
          },
        }),
        ...(flush.lastError === undefined ? {} : { lastError: flush.lastError }),
        writer: flush.otherWriter !== undefined
          ? { state: "other-writer", chainSeq: flush.otherWriter.chainSeq.toString(), ownSeq: flush.otherWriter.ownSeq.toString() }
          : { state: flush.closed !== undefined ? "closed" : "writing" },
      },
      peers: {
        connected: activeMembers.filter((m) => m.address !== this.opts.address && connected.has(peerIdText(m.peerId))).length,
        activeMembers: activeMembers.length,
      },
      keyEpoch: {
        ...(answering === undefined ? {} : { answering }), ...(onChain === undefined ? {} : { onChain }),
        ...(prepared === undefined ? {} : {
          prepared: {
            keyEpoch: prepared.keyEpoch, complete: prepared.complete, startedAt: new Date(prepared.startedAtMs).toISOString(),
            ...(prepared.preparedAtMs === undefined ? {} : { preparedAt: new Date(prepared.preparedAtMs).toISOString() }),
            ...(prepared.newAccount === undefined ? {} : { newAccount: prepared.newAccount }),
          },
        }),
      },
      warninglists: {
        ...(this.opts.warninglistHash === undefined ? {} : { shipped: this.opts.warninglistHash.toLowerCase() }),
        ...(pinnedWarninglists === undefined ? {} : { pinned: pinnedWarninglists }),
      },
      import: running === undefined ? { inProgress: false } : {
        inProgress: true,
        ...(running.source === undefined ? {} : { source: running.source }),
        ...(running.importId === undefined ? {} : { importId: running.importId }),
        ...(running.rows === undefined ? {} : { rows: running.rows }),
        ...(running.bytes === undefined ? {} : { bytes: running.bytes }),
        ...(running.totalBytes === undefined ? {} : { totalBytes: running.totalBytes }),
        ...(running.startedAtMs === undefined ? {} : { startedAt: new Date(running.startedAtMs).toISOString() }),
      },
    };
  }

  /** The body of GET /v1/peers: every other member and whether this node is connected to it. */
  peers(): PeersResponse {
    const connected = this.modules.host.connectedPeerIds();
    return {
      peers: this.modules.view.allMembers().filter((m) => m.address !== this.opts.address).map((m) => {
        const peerId = peerIdText(m.peerId);
        return { address: m.address, name: m.name, peerId, status: memberStatusName(m.status), connected: connected.has(peerId) };
      }),
    };
  }
}
