import { expect } from "chai";
import { Wallet, hexlify, randomBytes } from "ethers";
import { NodeHealth, type NodeHealthModules } from "../../node/api/index.ts";
import { MemberStatus, type LedgerHealth, type MemberInfo } from "../../node/chain/index.ts";
import { isRiskshareError } from "../../node/errors.ts";
import { peerIdBytes, peerIdFromEvmKey, peerIdText, type ImplausibleSnapshot } from "../../node/p2p/index.ts";

function member(name: string, status: number = MemberStatus.Active): MemberInfo {
  const wallet = Wallet.createRandom();
  return { address: wallet.address, name, peerId: hexlify(peerIdBytes(peerIdFromEvmKey(wallet.privateKey))), status, joinedAt: 1, oprfKey: hexlify(randomBytes(32)), keyEpoch: 1, keyRotatedAt: 1 };
}

const self = member("self");
/** self's OPRF key as this node holds it (the public half matches the registry's). */
const heldKey = { epoch: self.keyEpoch, publicKeyHex: self.oprfKey };
/** Now, in unix seconds; self's key was set at 1. */
const NOW_SEC = 1_000;
const bankB = member("Bank B");
const bankC = member("Bank C");
const gone = member("Bank D", MemberStatus.Removed);
/** The warninglist hash this node ships, and the registry's "none pinned". */
const SHIPPED_HASH = `0x${"5a".repeat(32)}`;
const ZERO_HASH = `0x${"00".repeat(32)}`;

/** A healthy node: Active, chain fresh, outbox empty, the OPRF key of its key epoch held and young, connected to Bank B only. */
function fakes(over: {
  members?: MemberInfo[]; stale?: boolean; backlog?: number; oprfKey?: { epoch: number; publicKeyHex: string } | null; keyEpochLength?: number; flushFailures?: number; implausible?: ImplausibleSnapshot[];
  admin?: string; pausedUntil?: number; dormant?: boolean; ledgerClosed?: string; plaintextKeys?: string[]; otherWriter?: LedgerHealth["otherWriter"]; lastLanded?: LedgerHealth["lastLanded"];
  oldestMs?: number; headBlock?: number; imports?: NodeHealthModules["imports"]; shippedWarninglists?: string; pinnedWarninglists?: string;
} = {}) {
  const members = over.members ?? [self, bankB, bankC, gone];
  const modules: NodeHealthModules = {
    view: {
      health: () => ({ syncedBlock: 42, headBlock: over.headBlock ?? -1, lastSyncAtMs: 0, stale: over.stale ?? false }),
      member: (address) => members.find((m) => m.address === address),
      allMembers: () => members,
      activeMembers: () => members.filter((m) => m.status === MemberStatus.Active),
      keyEpochLength: () => over.keyEpochLength ?? 90 * 86_400,
      warninglistHash: () => over.pinnedWarninglists ?? ZERO_HASH,
      bootstrapAdmin: () => over.admin,
      pausedUntil: (nowSec) => (over.pausedUntil !== undefined && nowSec < over.pausedUntil ? over.pausedUntil : undefined),
      isDormant: (address) => over.dormant === true && address === self.address,
      successorOf: (address) => (members.find((m) => m.address === address)?.status === MemberStatus.Rotated ? bankB.address : undefined),
    },
    ledger: {
      health: () => ({
        lastLandedSeq: 7n, lastFlushAtMs: 0, consecutiveFailures: over.flushFailures ?? 0, ...(over.flushFailures ? { lastError: "nonce too low" } : {}),
        ...(over.ledgerClosed === undefined ? {} : { closed: over.ledgerClosed }),
        ...(over.otherWriter === undefined ? {} : { otherWriter: over.otherWriter }),
        ...(over.lastLanded === undefined ? {} : { lastLanded: over.lastLanded }),
      }),
    },
    outbox: { backlog: () => over.backlog ?? 0, maxBacklog: 10, oldestReceivedAtMs: () => over.oldestMs },
    host: { peerId: { toString: () => peerIdText(self.peerId) }, connectedPeerIds: () => new Set([peerIdText(bankB.peerId), peerIdText(gone.peerId)]) },
    oprfKey: { current: () => (over.oprfKey === null ? undefined : over.oprfKey ?? heldKey) },
    filters: { implausibleSnapshots: () => over.implausible ?? [] },
    keys: { plaintextFiles: () => over.plaintextKeys ?? [] },
    ...(over.imports === undefined ? {} : { imports: over.imports }),
    nowSec: () => NOW_SEC,
  };
  return new NodeHealth({ address: self.address, warninglistHash: over.shippedWarninglists ?? SHIPPED_HASH }, modules);
}

function refusalOf(health: NodeHealth): string | undefined {
  try {
    health.assertReady();
    return undefined;
  } catch (err) {
    if (!isRiskshareError(err)) throw err;
    return err.code;
  }
}

describe("api: node health", () => {
  it("is ok, serves checks and counts only Active peers it is connected to", () => {
    const health = fakes();
    const body = health.health();
    expect(body).to.deep.include({ status: "ok", reasons: [], address: self.address, peerId: peerIdText(self.peerId) });
    expect(body.chain).to.deep.equal({ syncedBlock: 42, stale: false });
    expect(body.ledger).to.deep.equal({ backlog: 0, maxBacklog: 10, lastLandedSeq: "7", writer: { state: "writing" } });
    expect(body.peers).to.deep.equal({ connected: 1, activeMembers: 3 });
    expect(body.keyEpoch).to.deep.equal({ answering: 1, onChain: 1 });
    expect(body.import).to.deep.equal({ inProgress: false });
    expect(body.warninglists).to.deep.equal({ shipped: SHIPPED_HASH });
    expect(refusalOf(health)).to.equal(undefined);
  });

  it("refuses checks, with the code of why, for each condition that stops lookups", () => {
    const cases = [
      { name: "outbox full", over: { backlog: 10 }, code: "E_BACKLOG", says: "outbox is full" },
      { name: "chain stale", over: { stale: true }, code: "E_CHAIN_UNREACHABLE", says: "chain has not answered" },
      { name: "suspended", over: { members: [{ ...self, status: MemberStatus.Suspended }, bankB] }, code: "E_NOT_MEMBER", says: "not an Active member (Suspended)" },
      { name: "unknown to the registry", over: { members: [bankB] }, code: "E_NOT_MEMBER", says: "unknown to the registry" },
      { name: "admitted, not yet in force", over: { members: [{ ...self, status: MemberStatus.Admitted }, bankB] }, code: "E_NOT_MEMBER", says: "not an Active member (Admitted); its admission comes into force with `riskshare member activate`" },
      { name: "rotated away", over: { members: [{ ...self, status: MemberStatus.Rotated }, bankB] }, code: "E_NOT_MEMBER", says: `not an Active member (Rotated); the member moved to ${bankB.address} (member key rotation): run the node with that account's key` },
      { name: "no OPRF key", over: { oprfKey: null }, code: "E_OPRF_KEY_MISSING", says: "OPRF key of its key epoch 1 on chain (keys/oprf-1.key)" },
      {
        name: "another node writes under this key", over: { otherWriter: { chainSeq: 9n, ownSeq: 4n }, backlog: 3 }, code: "E_LEDGER_OTHER_WRITER",
        says: "batches up to 9, but this node's own end at 4: another node writes under the same member key; this node does not flush and refuses lookups, and keeps its 3 record(s). Stop the node that should not run; to make this one the writer, stop the other for good, then stop this one, run riskshare node take-over",
      },
      { name: "an OPRF key of an older epoch", over: { members: [{ ...self, keyEpoch: 2 }, bankB] }, code: "E_OPRF_KEY_MISSING", says: "OPRF key of its key epoch 2" },
      { name: "an OPRF key that is not the one on chain", over: { oprfKey: { epoch: 1, publicKeyHex: hexlify(randomBytes(32)) } }, code: "E_OPRF_KEY_MISSING", says: "OPRF key of its key epoch 1" },
    ];
    for (const { name, over, code, says } of cases) {
      const health = fakes(over);
      const body = health.health();
      expect(body.status, name).to.equal("refusing");
      expect(body.reasons.join(" "), name).to.contain(says);
      expect(refusalOf(health), name).to.equal(code);
    }
  });

  it("reports the first refusing reason's code when several hold, and every reason in the message", () => {
    const health = fakes({ backlog: 10, stale: true, oprfKey: null });
    expect(health.reasons().map((r) => r.refusal)).to.deep.equal(["E_BACKLOG", "E_CHAIN_UNREACHABLE", "E_OPRF_KEY_MISSING"]);
    expect(() => health.assertReady()).to.throw(/outbox is full.*chain has not answered.*OPRF key/);
    expect(refusalOf(health)).to.equal("E_BACKLOG");
  });

  it("is degraded but still serves checks while ledger flushes fail", () => {
    const health = fakes({ flushFailures: 2 });
    const body = health.health();
    expect(body.status).to.equal("degraded");
    expect(body.reasons).to.deep.equal(["ledger flush failing (nonce too low); records are kept and retried"]);
    expect(body.ledger.lastError).to.equal("nonce too low");
    expect(refusalOf(health)).to.equal(undefined);
  });

  it("is degraded but still serves checks while its OPRF key is older than the consortium's key epoch length", () => {
    const old = fakes({ keyEpochLength: NOW_SEC - self.keyRotatedAt - 1 });
    expect(old.health().status).to.equal("degraded");
    expect(old.health().reasons.join(" ")).to.contain("older than the consortium's key epoch length").and.contain("rotate it");
    expect(refusalOf(old)).to.equal(undefined);
    expect(fakes({ keyEpochLength: NOW_SEC - self.keyRotatedAt }).health().status, "exactly one epoch length old is still young").to.equal("ok");
  });

  it("is degraded but still serves checks while a provider's on-chain count disagrees with its filter, naming the provider and the code", () => {
    const health = fakes({ implausible: [{ providerAddress: bankB.address, categoryId: 2, liveCount: "18446744073709551615", filterCount: 3 }] });
    const body = health.health();
    expect(body.status).to.equal("degraded");
    expect(body.reasons).to.deep.equal([
      `E_CONTRIBUTION_IMPLAUSIBLE: provider ${bankB.address} claims 18446744073709551615 live entries in category 2 on chain but its filter holds 3; its filter is not used`,
    ]);
    expect(refusalOf(health)).to.equal(undefined);
  });

  it("is degraded but still serves checks while its warninglists are not the ones the consortium pinned; ok when they are or none is pinned", () => {
    const pinned = `0x${"c3".repeat(32)}`;
    const health = fakes({ pinnedWarninglists: pinned });
    const body = health.health();
    expect(body.status).to.equal("degraded");
    expect(body.reasons).to.deep.equal([
      `this node's warninglists (hash ${SHIPPED_HASH}) are not the ones the consortium pinned (${pinned}): run the riskshare version whose \`list warninglists\` shows that hash`,
    ]);
    expect(body.warninglists).to.deep.equal({ shipped: SHIPPED_HASH, pinned });
    expect(refusalOf(health)).to.equal(undefined);
    // The chain's hash may come in capitals; the comparison is of the bytes.
    expect(fakes({ pinnedWarninglists: SHIPPED_HASH.toUpperCase().replace("0X", "0x") }).health()).to.deep.include({ status: "ok", reasons: [] });
    expect(fakes({ pinnedWarninglists: ZERO_HASH }).health()).to.deep.include({ status: "ok", reasons: [] });
  });

  it("is degraded but still serves checks while a bootstrap admin holds the registry, naming it and what to do", () => {
    const admin = Wallet.createRandom().address;
    const health = fakes({ admin });
    const body = health.health();
    expect(body.status).to.equal("degraded");
    expect(body.reasons.join(" ")).to.contain(`a bootstrap admin (${admin}) still holds the registry`).and.to.contain("riskshare admin renounce");
    expect(refusalOf(health)).to.equal(undefined);
  });

  it("is degraded while a regulator pauses lookups, saying until when and how a vote lifts it; ok once the pause is over", () => {
    const health = fakes({ pausedUntil: NOW_SEC + 3_600 });
    const body = health.health();
    expect(body.status).to.equal("degraded");
    expect(body.reasons.join(" ")).to.contain("E_CONSORTIUM_PAUSED").and.to.contain(new Date((NOW_SEC + 3_600) * 1000).toISOString()).and.to.contain("riskshare proposal unpause");
    // Its own lists still answer: the check goes on, only the lookups are withheld.
    expect(refusalOf(health)).to.equal(undefined);
    expect(fakes({ pausedUntil: NOW_SEC }).health().status, "a pause that ended").to.equal("ok");
  });

  it("is degraded while this member is dormant, saying it has no vote until it acts", () => {
    const body = fakes({ dormant: true }).health();
    expect(body.status).to.equal("degraded");
    expect(body.reasons.join(" ")).to.contain("dormant").and.to.contain("no vote until");
  });

  it("says the ledger closed to this node once its removal window is over, instead of a failing flush", () => {
    const body = fakes({ flushFailures: 1, ledgerClosed: "this member was removed and its window to land its last batches is over" }).health();
    expect(body.reasons.join(" ")).to.contain("E_LEDGER_CLOSED").and.to.contain("window").and.not.to.contain("records are kept and retried");
  });

  it("is degraded but still serves checks while key files are stored in plaintext, naming them and the migrate command", () => {
    const health = fakes({ plaintextKeys: ["node.key", "oprf-1.key"] });
    const body = health.health();
    expect(body.status).to.equal("degraded");
    expect(body.reasons.join(" ")).to.contain("keys/node.key, keys/oprf-1.key").and.to.contain("riskshare key migrate");
    expect(refusalOf(health)).to.equal(undefined);
  });

  it("reports the outbox's oldest record, the last batch on chain that is its own, the chain head and lag, and both key epochs", () => {
    const oldestMs = Date.UTC(2026, 11, 6, 9, 30);
    const landedMs = Date.UTC(2026, 11, 6, 9, 45);
    const txHash = hexlify(randomBytes(32));
    const body = fakes({ backlog: 4, oldestMs, headBlock: 50, lastLanded: { seq: 12n, atMs: landedMs, txHash }, members: [{ ...self, keyEpoch: 2 }, bankB] }).health();
    expect(body.ledger).to.deep.include({ backlog: 4, oldestRecordAt: "2026-12-06T09:30:00.000Z", lastBatch: { seq: "12", at: "2026-12-06T09:45:00.000Z", txHash }, writer: { state: "writing" } });
    expect(body.chain).to.deep.equal({ syncedBlock: 42, stale: false, headBlock: 50, lagBlocks: 8 });
    expect(body.keyEpoch, "the node answers under epoch 1, the chain names 2").to.deep.equal({ answering: 1, onChain: 2 });
    const adopted = fakes({ lastLanded: { seq: 30n, atMs: landedMs, adopted: true } }).health();
    expect(adopted.ledger.lastBatch).to.deep.equal({ seq: "30", at: "2026-12-06T09:45:00.000Z", adopted: true });
  });

  it("says in the writer state whose batches the chain holds, and that the ledger closed", () => {
    expect(fakes({ otherWriter: { chainSeq: 9n, ownSeq: 4n } }).health().ledger.writer).to.deep.equal({ state: "other-writer", chainSeq: "9", ownSeq: "4" });
    expect(fakes({ ledgerClosed: "removed" }).health().ledger.writer).to.deep.equal({ state: "closed" });
    expect(fakes({ otherWriter: { chainSeq: 9n, ownSeq: 4n }, flushFailures: 1 }).health().reasons.join(" "), "said once, as a refusal").not.to.contain("ledger flush failing");
  });

  it("reports an import in progress and how far it got, as the importer tells it", () => {
    const startedAtMs = Date.UTC(2026, 11, 6, 10, 0);
    let current: ReturnType<NonNullable<NodeHealthModules["imports"]>["current"]> = { source: "risk.csv", importId: "ab12", rows: 1_000, bytes: 65_536, totalBytes: 1_048_576, startedAtMs };
    const health = fakes({ imports: { current: () => current } });
    expect(health.health().import).to.deep.equal({ inProgress: true, source: "risk.csv", importId: "ab12", rows: 1_000, bytes: 65_536, totalBytes: 1_048_576, startedAt: "2026-12-06T10:00:00.000Z" });
    expect(health.health().status, "an import alone does not degrade the node").to.equal("ok");
    current = undefined;
    expect(health.health().import).to.deep.equal({ inProgress: false });
  });

  it("lists every other member with its status and whether it is connected", () => {
    expect(fakes().peers().peers).to.deep.equal([
      { address: bankB.address, name: "Bank B", peerId: peerIdText(bankB.peerId), status: "Active", connected: true },
      { address: bankC.address, name: "Bank C", peerId: peerIdText(bankC.peerId), status: "Active", connected: false },
      { address: gone.address, name: "Bank D", peerId: peerIdText(gone.peerId), status: "Removed", connected: true },
    ]);
  });
});
