/**
 * ConsortiumRegistry's timelock (docs/GOVERNANCE.md, "Timelock"): an executed Remove, AddRegulator,
 * RemoveRegulator, SetPolicy, RetireCategory or SetQuorum is only queued; anyone enacts it once its
 * delay is over, and the registry checks it again then.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroAddress, getAddress } from "ethers";
import { MemberStatus, ProposalKind, ProposalStatus, TIMELOCKED_KINDS, type ProposalArgsInput } from "../../node/chain/governance.ts";
import {
  POLICY,
  REGISTRY_ARGS,
  TIMELOCK_DELAY_SECONDS,
  VOTING_PERIOD_SECONDS,
  ADMISSION_DELAY_SECONDS,
  HOLDS_ARGS,
  admitArgsFor,
  admitMember,
  deployRegistry,
  registryFactory,
  enactProposal,
  executeProposal,
  oprfKeyFor,
  passProposal,
  peerIdFor,
  propose,
  renouncedConsortiumFixture,
  sendProposal,
} from "./fixtures.ts";

const { ethers, networkHelpers } = await network.create();
const { loadFixture, time } = networkHelpers;

describe("ConsortiumRegistry: timelock", function () {
  it("queues a Remove at execute, refuses to enact it before its eta, and applies it after", async function () {
    const { registry, alice, bob, carol, dave, outsider } = await loadFixture(renouncedConsortiumFixture);
    const removeDave = await propose(registry, alice, ProposalKind.Remove, { account: dave.address });
    for (const voter of [bob, carol]) await registry.connect(voter).vote(removeDave);
    await expect(registry.enact(removeDave)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryProposalNotQueued").withArgs(removeDave);

    const executed = registry.execute(removeDave);
    await expect(executed).to.emit(registry, "ProposalExecuted").withArgs(removeDave);
    const eta = BigInt(await time.latest()) + TIMELOCK_DELAY_SECONDS;
    await expect(executed).to.emit(registry, "ProposalQueued").withArgs(removeDave, eta);
    await expect(executed).not.to.emit(registry, "MemberRemoved");
    const queued = await registry.proposal(removeDave);
    expect([queued.executed, queued.status, queued.eta]).to.deep.equal([true, BigInt(ProposalStatus.Queued), eta]);
    expect((await registry.member(dave.address)).status).to.equal(MemberStatus.Active);
    expect(await registry.votingMemberCount()).to.equal(4n);
    await expect(registry.execute(removeDave)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryProposalExecuted");

    // The member keeps its vote meanwhile: the delay is there for the members to react.
    await time.setNextBlockTimestamp(eta - 1n);
    await expect(registry.connect(outsider).enact(removeDave))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryProposalTimelocked")
      .withArgs(removeDave, eta);
    await time.setNextBlockTimestamp(eta);
    const enacted = registry.connect(outsider).enact(removeDave);
    await expect(enacted).to.emit(registry, "MemberRemoved").withArgs(dave.address);
    await expect(enacted).to.emit(registry, "ProposalEnacted").withArgs(removeDave);
    expect((await registry.member(dave.address)).status).to.equal(MemberStatus.Removed);
    expect((await registry.proposal(removeDave)).status).to.equal(BigInt(ProposalStatus.Enacted));
    await expect(registry.enact(removeDave)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryProposalNotQueued").withArgs(removeDave);
  });

  it("queues exactly the rule-changing kinds; the others apply at execute", async function () {
    const { registry, alice, bob, carol, dave, erin, regulator } = await loadFixture(renouncedConsortiumFixture);
    const cases: Array<[ProposalKind, ProposalArgsInput<ProposalKind>]> = [
      [ProposalKind.Admit, await admitArgsFor(registry, erin, "Erin")],
      [ProposalKind.Suspend, { account: dave.address }],
      [ProposalKind.Reinstate, { account: dave.address }],
      [ProposalKind.AddCategory, { name: "account_takeover" }],
      [ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 86_400n }],
      [ProposalKind.SetWarninglistHash, { hash: `0x${"ab".repeat(32)}` }],
      [ProposalKind.SetPolicy, { categoryId: 1, policy: { ...POLICY, quotaBase: 7n } }],
      [ProposalKind.RetireCategory, { categoryId: 2 }],
      [ProposalKind.SetQuorum, { numerator: 3, denominator: 4 }],
      [ProposalKind.AddRegulator, { account: "0x00000000000000000000000000000000000000aa" }],
      [ProposalKind.RemoveRegulator, { account: regulator.address }],
      [ProposalKind.Remove, { account: erin.address }],
    ];
    for (const [kind, args] of cases) {
      // Erin votes from the proposal after her admission on: five voting members need four votes.
      const voters = kind === ProposalKind.Admit ? [alice, bob, carol] : [alice, bob, carol, erin];
      const proposalId = await executeProposal(registry, voters, kind, args as never);
      // An executed Admit comes into force after the admission delay (no timelock: its own window).
      if (kind === ProposalKind.Admit) {
        await time.increase(ADMISSION_DELAY_SECONDS);
        await registry.activate(erin.address);
      }
      const { status, eta } = await registry.proposal(proposalId);
      if (TIMELOCKED_KINDS.has(kind)) {
        expect([status, eta > 0n], `kind ${kind}`).to.deep.equal([BigInt(ProposalStatus.Queued), true]);
        await enactProposal(registry, alice, proposalId);
        expect((await registry.proposal(proposalId)).status, `kind ${kind}`).to.equal(BigInt(ProposalStatus.Enacted));
      } else {
        expect([status, eta], `kind ${kind}`).to.deep.equal([BigInt(ProposalStatus.Executed), 0n]);
        await expect(registry.enact(proposalId), `kind ${kind}`).to.be.revertedWithCustomError(registry, "ConsortiumRegistryProposalNotQueued");
      }
    }
    expect(await registry.quorumFraction()).to.deep.equal([3n, 4n]);
    expect(await registry.isActiveCategory(2)).to.equal(false);
    expect(await registry.regulators()).to.deep.equal([getAddress("0x00000000000000000000000000000000000000aa")]);
    expect((await registry.member(erin.address)).status).to.equal(MemberStatus.Removed);
  });

  it("checks a queued proposal again at enact: one that no longer applies reverts and may be retried while its window lasts", async function () {
    const { registry, alice, bob, carol, dave } = await loadFixture(renouncedConsortiumFixture);
    // A policy queued for category 3, then category 3 retired (queued later, enacted first).
    const setPolicy = await executeProposal(registry, [alice, bob, carol], ProposalKind.SetPolicy, { categoryId: 3, policy: { ...POLICY, quotaBase: 9n } });
    const retire = await executeProposal(registry, [alice, bob, carol], ProposalKind.RetireCategory, { categoryId: 3 });
    await enactProposal(registry, dave, retire);
    await expect(registry.enact(setPolicy)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryInactive").withArgs(3);
    expect((await registry.proposal(setPolicy)).status).to.equal(BigInt(ProposalStatus.Queued));

    // Two removals among 4 (quorum 3), both queued: the second would leave 2 < 3 and stays refused.
    const first = await executeProposal(registry, [alice, bob, carol], ProposalKind.Remove, { account: dave.address });
    const second = await executeProposal(registry, [alice, bob, dave], ProposalKind.Remove, { account: carol.address });
    const { eta } = await registry.proposal(second);
    await enactProposal(registry, alice, first);
    await time.increaseTo(eta);
    await expect(registry.enact(second)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryVotingFloor").withArgs(2, 3);
    expect(await registry.votingMemberCount()).to.equal(3n);
    // It lapses one voting period after its eta; the same removal may then be proposed again.
    await expect(sendProposal(registry, alice, ProposalKind.Remove, { account: carol.address }))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryDuplicateProposal")
      .withArgs(second);
    await time.increaseTo(eta + VOTING_PERIOD_SECONDS);
    await expect(registry.enact(second))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryProposalLapsed")
      .withArgs(second, eta + VOTING_PERIOD_SECONDS);
    await expect(sendProposal(registry, alice, ProposalKind.Remove, { account: carol.address })).to.emit(registry, "ProposalCreated");
  });

  it("counts a queued proposal as open for duplicates, not against its proposer's open-proposal slots", async function () {
    const { registry, alice, bob, carol } = await loadFixture(renouncedConsortiumFixture);
    const quorum = await executeProposal(registry, [alice, bob, carol], ProposalKind.SetQuorum, { numerator: 3, denominator: 4 });
    await expect(sendProposal(registry, bob, ProposalKind.SetQuorum, { numerator: 3, denominator: 4 }))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryDuplicateProposal")
      .withArgs(quorum);
    // Alice's queued proposal asks no more votes of anyone: her three slots are free.
    for (const seconds of [3_600n, 7_200n, 10_800n]) await propose(registry, alice, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: seconds });
    await expect(sendProposal(registry, alice, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 14_400n }))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryTooManyOpenProposals");
    // Once enacted, the same change may be proposed again.
    await enactProposal(registry, carol, quorum);
    await expect(sendProposal(registry, bob, ProposalKind.SetQuorum, { numerator: 3, denominator: 4 })).to.emit(registry, "ProposalCreated");
  });

  it("applies a queued quorum change only at enact: proposals made meanwhile keep the old fraction", async function () {
    const { registry, alice, bob, carol, dave, erin } = await loadFixture(renouncedConsortiumFixture);
    await admitMember(registry, [alice, bob, carol], erin, "Erin");
    // Five voting members: at 2/3 their quorum is 4; at 51/100 it is 3.
    const lower = await executeProposal(registry, [alice, bob, carol, dave], ProposalKind.SetQuorum, { numerator: 51, denominator: 100 });
    const meanwhile = await propose(registry, alice, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 86_400n });
    expect((await registry.proposal(meanwhile)).quorum).to.equal(4n);
    await enactProposal(registry, erin, lower);
    const after = await propose(registry, bob, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 2n * 86_400n });
    expect((await registry.proposal(after)).quorum).to.equal(3n);
  });

  it("refuses a zero timelock delay or seeding window at deployment, and reports both", async function () {
    const [admin] = await ethers.getSigners();
    const factory = await registryFactory({ ethers });
    const [numerator, denominator, period, suspension, cooldown, open, delay, window, admission] = REGISTRY_ARGS;
    for (const [d, w] of [[0n, window], [delay, 0n]] as const) {
      await expect(factory.deploy(admin!.address, numerator, denominator, period, suspension, cooldown, open, d, w, admission, ...HOLDS_ARGS), `${d}/${w}`)
        .to.be.revertedWithCustomError(factory, "ConsortiumRegistryInvalidDelays");
    }
    const registry = await deployRegistry({ ethers }, admin!.address);
    expect(await registry.timelockDelay()).to.equal(TIMELOCK_DELAY_SECONDS);
    expect(await registry.pendingAdmin()).to.equal(ZeroAddress);
  });
});
