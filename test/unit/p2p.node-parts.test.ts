import { EventEmitter, once } from "node:events";
import { expect } from "chai";
import { Wallet, hexlify } from "ethers";
import { MemberStatus } from "../../node/chain/index.ts";
import { RiskshareError } from "../../node/errors.ts";
import { silentLogger } from "../../node/logger.ts";
import {
  OwnEntries, PepperKeeper, peerIdBytes, peerIdFromEvmKey, registryMembership, type OwnCheckResult, type PepperKeeperModules,
} from "../../node/p2p/index.ts";

const NOW = 1_700_000_000;
const hash = (byte: number) => `0x${byte.toString(16).padStart(2, "0").repeat(32)}`;

function identity() {
  const wallet = Wallet.createRandom();
  const peerIdHex = hexlify(peerIdBytes(peerIdFromEvmKey(wallet.privateKey)));
  return { address: wallet.address, peerId: peerIdHex };
}

describe("p2p: own entries answer lookups", () => {
  const entry = { categoryId: 1, level: 4, reason: "chargeback", reportedAtSec: NOW - 10 };
  /** A store holding hash 1 in category 1, hash 2 in category 2, with whatever owner's reference a case gives. */
  function own(ownRef?: string, expiresAtSec?: number) {
    const calls: { keys: { type: string; hash: Uint8Array }[]; nowSec: number }[] = [];
    const store = {
      checkMany: async (keys: readonly { type: string; hash: Uint8Array }[], nowSec: number): Promise<OwnCheckResult[]> => {
        calls.push({ keys: [...keys], nowSec });
        return keys.map((key): OwnCheckResult => {
          if (key.hash[0] === 1) return { hit: true, entry: { ...entry, ownRef, expiresAtSec } };
          if (key.hash[0] === 2) return { hit: true, entry: { ...entry, categoryId: 2 } };
          return { hit: false };
        });
      },
    };
    return { entries: new OwnEntries({ store }), calls };
  }

  it("answers one result per item, a hit only in a category asked for", async () => {
    const { entries, calls } = own("case-17", NOW + 100);
    const results = await entries.checkMany([{ type: "phone", hash: hash(1) }, { type: "phone", hash: hash(2) }, { type: "email", hash: hash(3) }], [1], NOW);
    expect(results).to.deep.equal([
      { hit: true, category: 1, level: 4, reason: "chargeback", reportedAt: NOW - 10, expiresAt: NOW + 100, providerRef: "case-17" },
      { hit: false },
      { hit: false },
    ]);
    expect(calls).to.have.length(1);
    expect(calls[0]!.nowSec).to.equal(NOW);
    expect(calls[0]!.keys.map((k) => [k.type, hexlify(k.hash)])).to.deep.equal([["phone", hash(1)], ["phone", hash(2)], ["email", hash(3)]]);
  });

  it("sends the owner's reference only when the wire can carry it", async () => {
    const cases = [
      { ownRef: "A-1 ok", sent: true },
      { ownRef: "x".repeat(128), sent: true },
      { ownRef: "x".repeat(129), sent: false },
      { ownRef: "", sent: false },
      { ownRef: "carte n°7", sent: false },
      { ownRef: "line\nbreak", sent: false },
      { ownRef: undefined, sent: false },
    ];
    for (const { ownRef, sent } of cases) {
      const [result] = await own(ownRef).entries.checkMany([{ type: "phone", hash: hash(1) }], [1], NOW);
      expect(result!.hit && "providerRef" in result!, JSON.stringify(ownRef)).to.equal(sent);
    }
  });
});

describe("p2p: membership read from the registry", () => {
  const alice = identity();
  const peer = { address: alice.address, peerIdBytes: Uint8Array.from(Buffer.from(alice.peerId.slice(2), "hex")) };

  it("admits only an Active record binding the address to that PeerId, and nobody while the registry is stale", () => {
    const other = identity();
    const cases = [
      { name: "Active", record: { status: MemberStatus.Active, peerId: alice.peerId }, stale: false, admitted: true },
      { name: "Suspended", record: { status: MemberStatus.Suspended, peerId: alice.peerId }, stale: false, admitted: false },
      { name: "another PeerId", record: { status: MemberStatus.Active, peerId: other.peerId }, stale: false, admitted: false },
      { name: "no record", record: undefined, stale: false, admitted: false },
      { name: "stale registry", record: { status: MemberStatus.Active, peerId: alice.peerId }, stale: true, admitted: false },
    ];
    for (const { name, record, stale, admitted } of cases) {
      const membership = registryMembership({ health: () => ({ stale }), member: (address) => (address === alice.address ? record : undefined) });
      expect(membership.isActivePeer(peer), name).to.equal(admitted);
    }
  });
});

describe("p2p: the pepper keeper", () => {
  const self = identity();
  const bankB = identity();
  const bankC = identity();
  const PEPPER = new Uint8Array(32).fill(7);

  /** A node at epoch 2 whose key store starts with what `stored` holds; peers answer as `answers` says, in turn. */
  function keeper(over: { stored?: Uint8Array; selfActive?: boolean; answers?: Array<Uint8Array | RiskshareError> } = {}) {
    const kept = new Map<number, Uint8Array>(over.stored ? [[2, over.stored]] : []);
    const bound: number[] = [];
    const asked: string[] = [];
    const answers = [...(over.answers ?? [])];
    const events = new EventEmitter();
    const modules: PepperKeeperModules = {
      view: {
        pepperEpoch: () => 2,
        isActive: (address) => address !== self.address || over.selfActive !== false,
        activeMembers: () => [self, bankB, bankC],
      },
      keys: { pepper: async (epoch) => kept.get(epoch), putPepper: async (epoch, pepper) => void kept.set(epoch, pepper) },
      store: { bindPepperEpoch: async (epoch: number) => void bound.push(epoch) },
      peppers: {
        fetchPepper: async (peer, epoch) => {
          asked.push(`${peer.toString()}@${epoch}`);
          events.emit("asked");
          const answer = answers.shift() ?? new RiskshareError("E_PEER_UNREACHABLE", "down");
          if (answer instanceof RiskshareError) throw answer;
          return answer;
        },
      },
      logger: silentLogger(),
    };
    return { keeper: new PepperKeeper({ selfAddress: self.address, retryMs: 0 }, modules), kept, bound, asked, events };
  }

  it("takes the pepper from the key store at start and binds the store to its epoch", async () => {
    const { keeper: k, bound, asked } = keeper({ stored: PEPPER });
    expect(k.hasher).to.equal(undefined);
    expect(await k.load()).to.equal(true);
    expect(k.hasher?.epoch).to.equal(2);
    expect(bound).to.deep.equal([2]);
    await k.fetchUntilHeld(new AbortController().signal);
    expect(asked, "a held pepper is not fetched").to.deep.equal([]);
  });

  it("asks the other Active members in turn until one gives it, then keeps it", async () => {
    const { keeper: k, kept, bound, asked } = keeper({ answers: [new RiskshareError("E_PEPPER_MISSING", "not yet"), PEPPER] });
    expect(await k.load()).to.equal(false);
    await k.fetchUntilHeld(new AbortController().signal);
    expect(asked.map((a) => a.split("@")[1])).to.deep.equal(["2", "2"]);
    expect(asked).to.have.length(2, "asked B, then C, never itself");
    expect(kept.get(2)).to.deep.equal(PEPPER);
    expect(bound).to.deep.equal([2]);
    expect(k.hasher?.epoch).to.equal(2);
  });

  it("asks nobody while this node is not Active, and stops when its signal aborts", async () => {
    const { keeper: k, asked } = keeper({ selfActive: false });
    const controller = new AbortController();
    const running = k.fetchUntilHeld(controller.signal);
    controller.abort();
    await running;
    expect(asked).to.deep.equal([]);
    expect(k.hasher).to.equal(undefined);
  });

  it("goes round again after every peer failed, until aborted", async () => {
    const { keeper: k, asked, events } = keeper();
    const controller = new AbortController();
    const running = k.fetchUntilHeld(controller.signal);
    while (asked.length < 4) await once(events, "asked");
    controller.abort();
    await running;
    expect(asked.length).to.be.at.least(4);
    expect(k.hasher).to.equal(undefined);
  });
});
