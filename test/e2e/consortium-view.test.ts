/**
 * The node's registry cache against a real chain: the in-process Hardhat network, reached the way a
 * node reaches any chain (ethers' JsonRpcProvider over HTTP, through connectChain), so that an RPC
 * outage is a real refused connection. The other members act on the chain directly.
 */
import { expect } from "chai";
import { EventEmitter, once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { ZeroAddress, encodeBytes32String, hexlify, randomBytes } from "ethers";
import {
  connectChain, connectContracts, ConsortiumView, DEFAULT_CATEGORIES, DEFAULT_GOVERNANCE, DEFAULT_POLICY, deployConsortium,
  encodeProposalPayload, isTimelocked, MemberStatus, ProposalKind, rotateOprfKey, translateChainError, type ChainConnection, type ConsortiumContracts, type ConsortiumViewOptions,
  type ContractAddresses, type MemberInfo, type ProposalArgsInput,
} from "../../node/chain/index.ts";
import { isRiskshareError } from "../../node/errors.ts";
import { silentLogger } from "../../node/logger.ts";
import { admitArgsFor, oprfKeyFor, peerIdFor, rotationArgsFor } from "../contracts/fixtures.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { loadFixture, time } = networkHelpers;

/** The EIP-1193 side of the in-process chain, which the relay forwards to. */
type Eip1193 = { request(args: { method: string; params?: unknown[] }): Promise<unknown> };

/**
 * A JSON-RPC endpoint on loopback in front of the in-process chain. `stop()` closes its port, so
 * calls fail with a refused connection as when a chain's RPC is down; `start()` opens the same port
 * again. `holdAnswers()` lets requests reach the chain but keeps their answers until `release()`.
 */
class RpcRelay extends EventEmitter<{ held: [] }> {
  private server: Server | undefined;
  private port = 0;
  private heldAnswers: (() => void)[] | undefined;

  constructor(private readonly chain: Eip1193) {
    super();
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => void this.answer(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  holdAnswers(): void {
    this.heldAnswers = [];
  }

  release(): void {
    const held = this.heldAnswers ?? [];
    this.heldAnswers = undefined;
    for (const send of held) send();
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as RpcRequest | RpcRequest[];
    const reply = Array.isArray(body) ? await Promise.all(body.map((r) => this.call(r))) : await this.call(body);
    const held = this.heldAnswers;
    if (held) {
      await new Promise<void>((resolve) => {
        held.push(resolve);
        this.emit("held");
      });
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(reply));
  }

  private async call({ id, method, params }: RpcRequest): Promise<unknown> {
    try {
      return { jsonrpc: "2.0", id, result: await this.chain.request({ method, params: params ?? [] }) };
    } catch (err) {
      const e = err as { code?: unknown; message?: string; data?: unknown };
      return { jsonrpc: "2.0", id, error: { code: typeof e.code === "number" ? e.code : -32603, message: e.message ?? String(err), data: e.data } };
    }
  }
}

interface RpcRequest {
  id: number;
  method: string;
  params?: unknown[];
}

/** Four founders (quorum 3 of 4), a regulator, the default categories; alice has published for category 1. */
async function consortiumFixture() {
  const [admin, alice, bob, carol, dave, erin, frank, regulator] = await ethers.getSigners() as HardhatEthersSigner[];
  const founders = { alice: alice!, bob: bob!, carol: carol!, dave: dave! };
  const deployment = await deployConsortium(admin!, {
    founders: Object.entries(founders).map(([label, s]) => ({ address: s.address, name: `${label} Bank`, peerId: peerIdFor(s.address), oprfKey: oprfKeyFor(s.address) })),
    regulators: [regulator!.address],
  }, silentLogger());
  const aliceRoot = hexlify(randomBytes(32));
  await (await connectContracts(deployment.addresses, alice!).contributions.publish(1, 1, 120, aliceRoot)).wait();
  return { addresses: deployment.addresses, ...founders, erin: erin!, frank: frank!, regulator: regulator!, aliceRoot };
}

describe("ConsortiumView: the registry cache follows the chain over JSON-RPC", () => {
  const relay = new RpcRelay(connection.provider as Eip1193);
  let chain: ChainConnection;
  let addresses: ContractAddresses;
  const views: ConsortiumView[] = [];

  before(async () => {
    await relay.start();
    chain = await connectChain({ rpcUrl: relay.url, rpcTimeoutMs: 5_000, pollIntervalMs: 1_000 });
  });
  afterEach(async () => {
    await Promise.all(views.splice(0).map((view) => view.stop()));
    relay.release();
    await relay.start(); // after a test that stopped it and failed midway
  });
  after(async () => {
    chain.provider.destroy();
    await relay.stop();
  });

  /** A loaded view over the relay, as a node builds it; stopped after the test. */
  async function startView(opts: Partial<ConsortiumViewOptions> = {}): Promise<ConsortiumView> {
    const view = new ConsortiumView(
      { pollIntervalMs: 60_000, ...opts },
      { contracts: connectContracts(addresses, chain.provider), provider: chain.provider, logger: silentLogger() },
    );
    views.push(view);
    await view.start();
    return view;
  }

  /** The consortium's contracts as `signer` sends to them. */
  function as(signer: HardhatEthersSigner): ConsortiumContracts {
    return connectContracts(addresses, signer);
  }

  /**
   * Has `voters[0]` propose, the others vote, and `voters[0]` execute; a time-locked kind is then
   * enacted once its delay is over, unless `enact` is false. Returns the proposal id.
   */
  async function passByVote<K extends ProposalKind>(voters: HardhatEthersSigner[], kind: K, args: ProposalArgsInput<K>, enact = true): Promise<bigint> {
    const [proposer, ...others] = voters;
    const registry = as(proposer!).registry;
    await (await registry.propose(kind, encodeProposalPayload(kind, args))).wait();
    const proposalId = await registry.proposalCount();
    for (const voter of others) await (await as(voter).registry.vote(proposalId)).wait();
    await (await registry.execute(proposalId)).wait();
    if (enact && isTimelocked(kind)) await enactQueued(proposer!, proposalId);
    return proposalId;
  }

  /** Waits out a queued proposal's timelock on the chain's clock, and enacts it from `caller`. */
  async function enactQueued(caller: HardhatEthersSigner, proposalId: bigint): Promise<void> {
    await time.increaseTo((await as(caller).registry.proposal(proposalId)).eta);
    await (await as(caller).registry.enact(proposalId)).wait();
  }

  /** Admits `candidate` by a vote of `voters` with its own signed request, waits out the admission delay and activates it. */
  async function admitByVote(voters: HardhatEthersSigner[], candidate: HardhatEthersSigner, name: string): Promise<void> {
    const registry = as(voters[0]!).registry;
    await passByVote(voters, ProposalKind.Admit, await admitArgsFor(registry, candidate, name));
    await time.increase(await registry.admissionDelay());
    await (await registry.activate(candidate.address)).wait();
  }

  /** Records every memberChanged event of `view`. */
  function recordChanges(view: ConsortiumView): MemberInfo[] {
    const changes: MemberInfo[] = [];
    view.on("memberChanged", (member) => changes.push(member));
    return changes;
  }

  /** The fixture's regulator suspends `account`'s lookups for a day (it keeps its vote). */
  async function suspendByRegulator(regulator: HardhatEthersSigner, account: string): Promise<void> {
    await (await as(regulator).registry.regulatorSuspend(account, BigInt(await time.latest()) + 86_400n)).wait();
  }

  async function loadConsortium() {
    const fixture = await loadFixture(consortiumFixture);
    addresses = fixture.addresses;
    return fixture;
  }

  it("loads the members by address and by PeerId with their OPRF keys, the categories with their policy, the key epoch length and the contributions", async () => {
    const { alice, bob, carol, dave, aliceRoot } = await loadConsortium();
    const view = await startView();

    const founders = [alice, bob, carol, dave];
    expect(view.allMembers().map((m) => m.address)).to.deep.equal(founders.map((s) => s.address));
    for (const [index, founder] of founders.entries()) {
      const member = view.member(founder.address.toLowerCase());
      expect(member, founder.address).to.deep.include({
        address: founder.address, name: `${["alice", "bob", "carol", "dave"][index]} Bank`, peerId: peerIdFor(founder.address), status: MemberStatus.Active,
        oprfKey: oprfKeyFor(founder.address), keyEpoch: 1,
      });
      expect(member!.keyRotatedAt, founder.address).to.equal(member!.joinedAt);
      expect(view.oprfKeyAt(founder.address, 1), founder.address).to.equal(oprfKeyFor(founder.address));
      expect(view.oprfKeyAt(founder.address, 2), founder.address).to.equal(undefined);
      expect(member!.joinedAt, founder.address).to.be.greaterThan(0);
      expect(view.memberByPeerId(peerIdFor(founder.address).toUpperCase().replace("0X", "0x"))?.address, founder.address).to.equal(founder.address);
      expect(view.isActive(founder.address), founder.address).to.equal(true);
    }
    expect(view.activeMembers()).to.have.length(4);
    expect(view.member(ZeroAddress)).to.equal(undefined);

    expect(view.categories().map((c) => [c.id, c.name, c.active])).to.deep.equal(DEFAULT_CATEGORIES.map((name, i) => [i + 1, name, true]));
    for (const category of view.categories()) {
      expect(category.policy, category.name).to.deep.equal({
        minEntries: DEFAULT_POLICY.minEntries, maxSnapshotAgeSeconds: DEFAULT_POLICY.maxSnapshotAgeSeconds,
        quotaBase: DEFAULT_POLICY.quotaBase, quotaRatioBps: DEFAULT_POLICY.quotaRatioBps, quotaCeiling: DEFAULT_POLICY.quotaCeiling,
      });
    }
    expect(view.categoryIdByName("money_mule")).to.equal(3);
    expect(view.activeCategoryMap().get("fraud_confirmed")).to.equal(1);
    expect(view.keyEpochLength()).to.equal(90 * 86_400);

    const published = view.contribution(alice.address, 1);
    expect(published).to.deep.include({ liveCount: 120n, filterHash: aliceRoot, keyEpoch: 1 });
    expect(published!.publishedAt).to.be.greaterThan(0);
    expect(view.contribution(bob.address, 1)).to.equal(undefined);
    expect(view.contribution(alice.address, 2)).to.equal(undefined);

    const health = view.health();
    expect(health).to.deep.include({ syncedBlock: await ethers.provider.getBlockNumber(), stale: false });
    expect(health).not.to.have.property("lastError");
  });

  it("knows the bootstrap admin while one holds the registry (a deployment that kept it), follows a two-step hand-over only once accepted, and forgets it once it renounces", async () => {
    const { alice } = await loadConsortium();
    expect((await startView()).bootstrapAdmin(), "the fixture's deployment renounced").to.equal(undefined);
    const [admin] = await ethers.getSigners() as HardhatEthersSigner[];
    const kept = await deployConsortium(admin!, {
      founders: [{ address: alice.address, name: "alice Bank", peerId: peerIdFor(alice.address), oprfKey: oprfKeyFor(alice.address) }],
      renounceAdmin: false,
    }, silentLogger());
    addresses = kept.addresses;
    const view = await startView();
    expect(view.bootstrapAdmin()).to.equal(admin!.address);
    await (await as(admin!).registry.transferAdmin(alice.address)).wait();
    await view.sync();
    expect(view.bootstrapAdmin(), "a nomination moves nothing").to.equal(admin!.address);
    await (await as(alice).registry.acceptAdmin()).wait();
    await view.sync();
    expect(view.bootstrapAdmin(), "after the nominee accepted").to.equal(alice.address);
    await (await as(alice).registry.renounceAdmin()).wait();
    await view.sync();
    expect(view.bootstrapAdmin(), "after AdminTransferred to the zero address").to.equal(undefined);
  });

  it("follows a regulator's pause of lookups and its lifting by an Unpause vote", async () => {
    const { alice, bob, carol, regulator } = await loadConsortium();
    const view = await startView();
    const chainNow = await time.latest();
    expect(view.pausedUntil(chainNow)).to.equal(undefined);
    const until = BigInt(chainNow) + 3_600n;
    await (await as(regulator).registry.regulatorPause(until)).wait();
    await view.sync();
    expect(view.pausedUntil(chainNow), "paused").to.equal(Number(until));
    expect(view.pausedUntil(Number(until)), "over at its end").to.equal(undefined);
    expect((await startView()).pausedUntil(chainNow), "a view loaded during the pause").to.equal(Number(until));
    await passByVote([alice, bob, carol], ProposalKind.Unpause, {});
    await view.sync();
    expect(view.pausedUntil(chainNow), "after ConsortiumUnpaused").to.equal(undefined);
  });

  it("reads the warninglist hash the registry pins (zero when none) and follows a SetWarninglistHash vote", async () => {
    const { alice, bob, carol } = await loadConsortium();
    const view = await startView();
    expect(view.warninglistHash(), "the fixture's deployment pinned none").to.equal(`0x${"00".repeat(32)}`);
    const hash = `0x${"7c".repeat(32)}`;
    await passByVote([alice, bob, carol], ProposalKind.SetWarninglistHash, { hash });
    await view.sync();
    expect(view.warninglistHash(), "after WarninglistHashSet").to.equal(hash);
    expect((await startView()).warninglistHash(), "a view loaded after the vote").to.equal(hash);
  });

  it("knows which members are dormant and which were removed, from the load and from events", async () => {
    const { alice, bob, carol, dave } = await loadConsortium();
    const view = await startView();
    await time.increase(DEFAULT_GOVERNANCE.dormancyPeriodSeconds);
    await (await as(alice).registry.markDormant(dave.address)).wait();
    await view.sync();
    expect(view.isDormant(dave.address)).to.equal(true);
    expect(view.isDormant(alice.address)).to.equal(false);
    expect(view.member(dave.address)?.status, "dormancy is about votes only").to.equal(MemberStatus.Active);
    expect((await startView()).isDormant(dave.address), "a view loaded while dormant").to.equal(true);
    await passByVote([alice, bob, carol], ProposalKind.Remove, { account: dave.address });
    await view.sync();
    expect(view.isDormant(dave.address), "removed: no longer dormant").to.equal(false);
    expect(view.removedAt(dave.address)).to.equal(await time.latest());
  });

  it("sees a member suspended by a regulator after sync, and says so with memberChanged", async () => {
    const { dave, regulator } = await loadConsortium();
    const view = await startView();
    const changes = recordChanges(view);
    await suspendByRegulator(regulator, dave.address);
    expect(view.isActive(dave.address), "before sync").to.equal(true);

    await view.sync();
    expect(view.isActive(dave.address)).to.equal(false);
    expect(view.member(dave.address)?.status).to.equal(MemberStatus.Suspended);
    expect(view.activeMembers()).to.have.length(3);
    expect(changes.map((m) => [m.address, m.status])).to.deep.equal([[dave.address, MemberStatus.Suspended]]);
  });

  it("sees a regulator's suspension ended once its time is over, by anyone's endSuspension", async () => {
    const { alice, dave, regulator } = await loadConsortium();
    const view = await startView();
    const changes = recordChanges(view);
    const until = BigInt(await time.latest()) + 3_600n;
    await (await as(regulator).registry.regulatorSuspend(dave.address, until)).wait();
    await view.sync();
    expect(view.isActive(dave.address), "suspended: no lookups").to.equal(false);
    await time.increaseTo(until);
    await (await as(alice).registry.endSuspension(dave.address)).wait();

    await view.sync();
    expect(view.isActive(dave.address)).to.equal(true);
    expect(changes.map((m) => [m.address, m.status])).to.deep.equal([
      [dave.address, MemberStatus.Suspended],
      [dave.address, MemberStatus.Active],
    ]);
  });

  it("sees a member suspended by vote reinstated by vote", async () => {
    const { alice, bob, carol, dave } = await loadConsortium();
    const view = await startView();
    const changes = recordChanges(view);
    await passByVote([alice, bob, carol], ProposalKind.Suspend, { account: dave.address });
    await view.sync();
    await passByVote([alice, bob], ProposalKind.Reinstate, { account: dave.address });

    await view.sync();
    expect(view.isActive(dave.address)).to.equal(true);
    expect(changes.map((m) => [m.address, m.status])).to.deep.equal([
      [dave.address, MemberStatus.Suspended],
      [dave.address, MemberStatus.Active],
    ]);
  });

  it("knows nothing of a candidate until its admission executes, then sees it Admitted, Active once activated, and finds it by its PeerId", async () => {
    const { alice, bob, carol, erin } = await loadConsortium();
    const view = await startView();
    const changes = recordChanges(view);
    const registry = as(alice).registry;
    const request = await admitArgsFor(registry, erin, "erin Pay");
    const peerId = request.peerId as string;
    await (await registry.propose(ProposalKind.Admit, encodeProposalPayload(ProposalKind.Admit, request))).wait();
    const proposalId = await registry.proposalCount();

    await view.sync();
    expect(view.member(erin.address)).to.equal(undefined);
    expect(view.memberByPeerId(peerId)).to.equal(undefined);
    expect(view.isActive(erin.address)).to.equal(false);

    for (const voter of [bob, carol]) await (await as(voter).registry.vote(proposalId)).wait();
    await (await registry.execute(proposalId)).wait();
    await view.sync();
    expect(view.memberByPeerId(peerId)).to.deep.include({ address: erin.address, name: "erin Pay", status: MemberStatus.Admitted, joinedAt: 0 });
    expect(view.isActive(erin.address)).to.equal(false);
    expect(view.oprfKeyAt(erin.address, 1), "no key in force before activation").to.equal(undefined);
    expect(stateOf(await startView()), "a fresh view loads the same").to.deep.equal(stateOf(view));

    await time.increase(await registry.admissionDelay());
    await (await registry.activate(erin.address)).wait();
    await view.sync();
    const admitted = view.memberByPeerId(peerId);
    expect(admitted).to.deep.include({ address: erin.address, name: "erin Pay", status: MemberStatus.Active });
    expect(admitted!.joinedAt).to.equal(await time.latest());
    expect(view.oprfKeyAt(erin.address, 1), "the key comes into force at activation").to.equal(oprfKeyFor(erin.address));
    expect(view.activeMembers()).to.have.length(5);
    expect(changes.map((m) => [m.address, m.status])).to.deep.equal([[erin.address, MemberStatus.Admitted], [erin.address, MemberStatus.Active]]);
  });

  it("sees a regulator veto an admission: the account is back to None and its PeerId free", async () => {
    const { alice, bob, carol, erin, regulator } = await loadConsortium();
    const view = await startView();
    const request = await admitArgsFor(as(alice).registry, erin, "erin Pay");
    await passByVote([alice, bob, carol], ProposalKind.Admit, request);
    await view.sync();
    expect(view.memberByPeerId(request.peerId as string)?.status).to.equal(MemberStatus.Admitted);
    await (await as(regulator).registry.vetoAdmission(erin.address, encodeBytes32String("sanctions"))).wait();
    await view.sync();
    expect(view.member(erin.address)?.status).to.equal(MemberStatus.None);
    expect(view.memberByPeerId(request.peerId as string)).to.equal(undefined);
    expect(stateOf(await startView())).to.deep.equal(stateOf(view));
  });

  it("sees a contribution as soon as it is published", async () => {
    const { bob } = await loadConsortium();
    const view = await startView();
    const root = hexlify(randomBytes(32));
    await (await as(bob).contributions.publish(2, 1, 42, root)).wait();

    await view.sync();
    expect(view.contribution(bob.address, 2)).to.deep.equal({ liveCount: 42n, filterHash: root, keyEpoch: 1, publishedAt: await time.latest(), unproven: false, challenge: undefined });
  });

  it("follows a spot-check of a snapshot: open, expired (unproven), then superseded by a new snapshot", async () => {
    const { alice, bob } = await loadConsortium();
    const view = await startView();
    const root = hexlify(randomBytes(32));
    await (await as(bob).contributions.publish(3, 1, 77, root)).wait();
    await (await as(alice).contributions.challenge(bob.address, 3)).wait();
    await view.sync();
    const opened = view.contribution(bob.address, 3)!;
    expect(opened.unproven).to.equal(false);
    expect(opened.challenge).to.deep.include({ state: "open", challenger: alice.address, liveCount: 77n, filterHash: root });
    expect(view.challengesOf(bob.address).map((c) => c.categoryId)).to.deep.equal([3]);

    await time.increaseTo(opened.challenge!.deadline + 1);
    await (await as(alice).contributions.expireChallenge(bob.address, 3)).wait();
    await view.sync();
    expect(view.contribution(bob.address, 3)).to.deep.include({ unproven: true });
    expect(view.contribution(bob.address, 3)!.challenge!.state).to.equal("expired");

    await (await as(bob).contributions.publish(3, 1, 78, hexlify(randomBytes(32)))).wait();
    await view.sync();
    expect(view.contribution(bob.address, 3)).to.deep.include({ liveCount: 78n, unproven: false });
    expect(view.contribution(bob.address, 3)!.challenge!.state).to.equal("superseded");
    expect(view.challengesOf(bob.address)).to.deep.equal([]);
  });

  it("sees a member rotate its OPRF key, keeps the earlier key by epoch, and says so", async () => {
    const { bob } = await loadConsortium();
    const view = await startView();
    const rotated: MemberInfo[] = [];
    view.on("keyRotated", (m) => rotated.push(m));
    const { keyEpoch } = await rotateOprfKey(as(bob).registry, oprfKeyFor(bob.address, 2));
    expect(keyEpoch).to.equal(2);

    await view.sync();
    expect(view.member(bob.address)).to.deep.include({ oprfKey: oprfKeyFor(bob.address, 2), keyEpoch: 2, keyRotatedAt: await time.latest() });
    expect(view.oprfKeyAt(bob.address, 1)).to.equal(oprfKeyFor(bob.address));
    expect(view.oprfKeyAt(bob.address, 2)).to.equal(oprfKeyFor(bob.address, 2));
    expect(rotated.map((m) => [m.address, m.keyEpoch])).to.deep.equal([[bob.address, 2]]);
    // A fresh view reads the same history from the registry.
    const restarted = await startView();
    expect(restarted.oprfKeyAt(bob.address, 1)).to.equal(oprfKeyFor(bob.address));
    expect(restarted.oprfKeyAt(bob.address, 2)).to.equal(oprfKeyFor(bob.address, 2));
    const unchanged = await rotateOprfKey(as(bob).registry, oprfKeyFor(bob.address, 2)).then(() => undefined, (err: unknown) => err);
    expect(isRiskshareError(unchanged, "E_CHAIN_REVERTED"), String(unchanged)).to.equal(true);
  });

  it("sees a member move to a new account: the old one Rotated with its PeerId and keys, the new one Active under its own PeerId, linked both ways", async () => {
    const { bob, erin } = await loadConsortium();
    const view = await startView();
    const changes = recordChanges(view);
    const args = await rotationArgsFor(as(bob).registry, bob.address, erin, oprfKeyFor(erin.address, 3));
    await (await as(bob).registry.rotateMemberKey(...args)).wait();
    const rotatedAt = await time.latest();

    await view.sync();
    expect(view.member(bob.address)).to.deep.include({ status: MemberStatus.Rotated, keyEpoch: 1, peerId: peerIdFor(bob.address) });
    expect(view.member(erin.address)).to.deep.include({ status: MemberStatus.Active, name: "bob Bank", keyEpoch: 2, oprfKey: oprfKeyFor(erin.address, 3), keyRotatedAt: rotatedAt });
    expect(view.isActive(bob.address)).to.equal(false);
    expect(view.memberByPeerId(args[1])?.address).to.equal(erin.address);
    expect(view.memberByPeerId(peerIdFor(bob.address))?.address).to.equal(bob.address);
    expect(view.oprfKeyAt(bob.address, 1)).to.equal(oprfKeyFor(bob.address));
    expect(view.oprfKeyAt(erin.address, 2)).to.equal(oprfKeyFor(erin.address, 3));
    expect(view.successorOf(bob.address)).to.equal(erin.address);
    expect(view.predecessorOf(erin.address)).to.equal(bob.address);
    expect(view.firstAccountOf(erin.address), "quota usage is counted per member").to.equal(bob.address);
    expect(view.firstAccountOf(bob.address)).to.equal(bob.address);
    expect(view.removedAt(bob.address)).to.equal(rotatedAt);
    expect(changes.map((m) => [m.address, m.status]).sort()).to.deep.equal([[bob.address, MemberStatus.Rotated], [erin.address, MemberStatus.Active]].sort());
    // A fresh view reads the same from the registry.
    const restarted = await startView();
    expect(restarted.member(erin.address)).to.deep.equal(view.member(erin.address));
    expect(restarted.member(bob.address)).to.deep.equal(view.member(bob.address));
    expect(restarted.successorOf(bob.address)).to.equal(erin.address);
    expect(restarted.firstAccountOf(erin.address)).to.equal(bob.address);
    expect(restarted.oprfKeyAt(erin.address, 2)).to.equal(oprfKeyFor(erin.address, 3));
    expect(restarted.memberByPeerId(args[1])?.address).to.equal(erin.address);
  });

  it("sees a policy change by vote, and a new key epoch length", async () => {
    const { alice, bob, carol } = await loadConsortium();
    const view = await startView();
    const policy = { minEntries: 50n, maxSnapshotAge: 24n * 3600n, quotaBase: 200n, quotaRatioBps: 2_500n, quotaCeiling: 10_000n };
    const queued = await passByVote([alice, bob, carol], ProposalKind.SetPolicy, { categoryId: 4, policy }, false);
    await view.sync();
    expect(view.category(4)?.policy.minEntries, "executed, but queued behind the timelock").to.equal(DEFAULT_POLICY.minEntries);
    await enactQueued(alice, queued);
    await passByVote([alice, bob, carol], ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 86_400n });

    await view.sync();
    expect(view.category(4)?.policy).to.deep.equal({ minEntries: 50n, maxSnapshotAgeSeconds: 24n * 3600n, quotaBase: 200n, quotaRatioBps: 2_500n, quotaCeiling: 10_000n });
    expect(view.category(3)?.policy.minEntries).to.equal(DEFAULT_POLICY.minEntries);
    expect(view.keyEpochLength()).to.equal(86_400);
  });

  it("follows the chain by itself once started", async () => {
    const { dave, regulator } = await loadConsortium();
    const view = await startView({ pollIntervalMs: 20 });
    const changed = once(view, "memberChanged") as Promise<[MemberInfo]>;
    await suspendByRegulator(regulator, dave.address);
    const [member] = await changed;
    expect([member.address, member.status]).to.deep.equal([dave.address, MemberStatus.Suspended]);
  });

  it("still sees the caller's transaction when it asks for a sync while another one runs", async () => {
    const { dave, regulator } = await loadConsortium();
    const view = await startView();
    relay.holdAnswers();
    const held = once(relay, "held");
    const running = view.sync(); // reads the head before the transaction below lands
    await held;
    await suspendByRegulator(regulator, dave.address);
    const mine = view.sync();
    relay.release();
    await Promise.all([running, mine]);
    expect(view.isActive(dave.address)).to.equal(false);
  });

  it("after a restart, a new view over the same chain holds the same state", async () => {
    const { alice, bob, carol, dave, erin, regulator } = await loadConsortium();
    const view = await startView();
    await suspendByRegulator(regulator, dave.address);
    await admitByVote([alice, bob, carol], erin, "erin Pay");
    await (await as(erin).contributions.publish(5, 1, 7, hexlify(randomBytes(32)))).wait();
    // Dave, suspended by the regulator, still counts in E = 5: quorum 4.
    await passByVote([alice, bob, carol, erin], ProposalKind.RetireCategory, { categoryId: 6 });
    await view.sync();

    const restarted = await startView();
    expect(stateOf(restarted)).to.deep.equal(stateOf(view));
    expect(restarted.category(6)?.active).to.equal(false);
    expect(restarted.health().syncedBlock).to.equal(view.health().syncedBlock);
  });

  it("binds a PeerId only when an admission executes, and no other candidacy can name it", async () => {
    const { alice, bob, carol, dave, erin, frank } = await loadConsortium();
    const view = await startView();
    const request = await admitArgsFor(as(alice).registry, erin, "candidate");
    const peerId = request.peerId as string;
    await (await as(alice).registry.propose(ProposalKind.Admit, encodeProposalPayload(ProposalKind.Admit, request))).wait();
    const forErin = await as(alice).registry.proposalCount();
    // A squatter's candidacy naming erin's PeerId is not frank's own key: refused when proposed.
    const squat = { ...(await admitArgsFor(as(bob).registry, frank, "candidate")), peerId };
    const refused = await as(bob).registry.propose(ProposalKind.Admit, encodeProposalPayload(ProposalKind.Admit, squat)).then(() => undefined, (err: unknown) => err);
    expect(translateChainError(refused, "propose").meta.revert, String(refused)).to.equal("ConsortiumRegistryPeerIdNotKey");
    await view.sync();
    expect(view.memberByPeerId(peerId)).to.equal(undefined);
    for (const voter of [bob, carol]) await (await as(voter).registry.vote(forErin)).wait();
    await (await as(dave).registry.execute(forErin)).wait();
    await view.sync();
    expect(view.memberByPeerId(peerId)?.address).to.equal(erin.address);
    expect(view.member(frank.address)).to.equal(undefined);
    expect(stateOf(await startView())).to.deep.equal(stateOf(view));
  });

  it("during an RPC outage fails to sync with E_CHAIN_UNREACHABLE and keeps its state; once back, one sync catches up with every event", async () => {
    const { alice, bob, carol, dave, erin, regulator } = await loadConsortium();
    const view = await startView({ logChunkBlocks: 2 }); // so catching up takes several log ranges
    const changes = recordChanges(view);
    const before = stateOf(view);
    const syncedBefore = view.health().syncedBlock;

    await relay.stop();
    const failed = await view.sync().then(() => undefined, (err: unknown) => err);
    expect(isRiskshareError(failed, "E_CHAIN_UNREACHABLE"), String(failed)).to.equal(true);
    expect(view.health().lastError).to.equal("E_CHAIN_UNREACHABLE");

    // Meanwhile, the consortium goes on.
    const root = hexlify(randomBytes(32));
    await suspendByRegulator(regulator, dave.address);
    await (await as(bob).contributions.publish(2, 1, 33, root)).wait();
    await admitByVote([alice, bob, carol], erin, "erin Pay");
    const policy = { minEntries: 1n, maxSnapshotAge: 3600n, quotaBase: 5n, quotaRatioBps: 0n, quotaCeiling: 5n };
    await passByVote([alice, bob, carol, erin], ProposalKind.SetPolicy, { categoryId: 2, policy });
    await passByVote([alice, bob, carol, erin], ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 7n * 86_400n });

    const stillFailing = await view.sync().then(() => undefined, (err: unknown) => err);
    expect(isRiskshareError(stillFailing, "E_CHAIN_UNREACHABLE"), String(stillFailing)).to.equal(true);
    expect(stateOf(view), "state kept during the outage").to.deep.equal(before);
    expect(view.health().syncedBlock).to.equal(syncedBefore);

    await relay.start();
    await view.sync();
    const head = await ethers.provider.getBlockNumber();
    expect(head - syncedBefore, "blocks missed").to.be.greaterThan(10);
    expect(view.health().syncedBlock).to.equal(head);
    expect(view.health()).not.to.have.property("lastError");
    expect(view.member(dave.address)?.status).to.equal(MemberStatus.Suspended);
    expect(view.member(erin.address)?.status).to.equal(MemberStatus.Active);
    expect(view.contribution(bob.address, 2)).to.deep.include({ liveCount: 33n, filterHash: root });
    expect(view.category(2)?.policy).to.deep.equal({ minEntries: 1n, maxSnapshotAgeSeconds: 3600n, quotaBase: 5n, quotaRatioBps: 0n, quotaCeiling: 5n });
    expect(view.keyEpochLength()).to.equal(7 * 86_400);
    expect(view.oprfKeyAt(erin.address, 1)).to.equal(oprfKeyFor(erin.address));
    // Caught up range by range, it passes through erin's admission and her activation.
    expect(changes.map((m) => [m.address, m.status])).to.deep.equal([
      [dave.address, MemberStatus.Suspended],
      [erin.address, MemberStatus.Admitted],
      [erin.address, MemberStatus.Active],
    ]);
    // And it is what a view loaded from scratch sees.
    expect(stateOf(view)).to.deep.equal(stateOf(await startView()));
  });

  it("refuses to vouch for membership (E_CHAIN_UNREACHABLE) once older than maxStaleMs", async () => {
    const { dave, regulator } = await loadConsortium();
    const maxStaleMs = 1_000;
    const view = await startView({ maxStaleMs });
    const { lastSyncAtMs } = view.health();
    expect(() => view.assertFresh(lastSyncAtMs + maxStaleMs)).not.to.throw();
    expect(view.health(lastSyncAtMs + maxStaleMs).stale).to.equal(false);

    await relay.stop();
    await view.sync().catch(() => undefined);
    expect(view.health().lastSyncAtMs, "a failed sync does not count").to.equal(lastSyncAtMs);
    const later = lastSyncAtMs + maxStaleMs + 1;
    expect(view.health(later).stale).to.equal(true);
    const refused = (() => {
      try {
        view.assertFresh(later);
        return undefined;
      } catch (err) {
        return err;
      }
    })();
    expect(isRiskshareError(refused, "E_CHAIN_UNREACHABLE"), String(refused)).to.equal(true);

    await relay.start();
    await suspendByRegulator(regulator, dave.address);
    await view.sync();
    const refreshed = view.health().lastSyncAtMs;
    expect(refreshed).to.be.at.least(lastSyncAtMs);
    expect(() => view.assertFresh(refreshed + maxStaleMs)).not.to.throw();
  });
});

/** Everything a view answers, in a form deep.equal compares. */
function stateOf(view: ConsortiumView) {
  const members = view.allMembers().sort((a, b) => a.address.localeCompare(b.address));
  return {
    members,
    byPeerId: members.map((m) => view.memberByPeerId(m.peerId)?.address),
    categories: view.categories(),
    keyEpochLength: view.keyEpochLength(),
    oprfKeys: members.map((m) => Array.from({ length: m.keyEpoch }, (_, i) => view.oprfKeyAt(m.address, i + 1))),
    contributions: members.flatMap((m) => view.categories().map((c) => [m.address, c.id, view.contribution(m.address, c.id)])),
  };
}
