/**
 * ConsortiumRegistry against a hostile member or regulator (issue 13, docs/GOVERNANCE.md): each
 * "attack" test is a way to take over or freeze governance that the registry used to allow.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { MemberStatus, ProposalKind } from "../../node/chain/governance.ts";
import { ADMISSION_TYPES, admissionDomain } from "../../node/chain/admission.ts";
import { mutable } from "../../node/chain/eip712.ts";
import {
  MAX_OPEN_PROPOSALS,
  MAX_REGULATOR_SUSPENSION_SECONDS,
  REGULATOR_COOLDOWN_SECONDS,
  VOTING_PERIOD_SECONDS,
  admitArgsFor,
  admitMember,
  consortiumFixture,
  enactProposal,
  oprfKeyFor,
  passProposal,
  propose,
  randomQueryRecord,
  regulatorSuspend,
  renouncedConsortiumFixture,
  sendProposal,
} from "./fixtures.ts";

const { networkHelpers } = await network.create();
const { loadFixture, time } = networkHelpers;

const ONE_DAY = { keyEpochLengthSeconds: 86_400n } as const;

describe("ConsortiumRegistry: governance bounds", function () {
  describe("attacks", function () {
    it("1: a regulator cannot suspend three of four members, and the fourth alone cannot remove them or set the quorum to 1/255", async function () {
      const { registry, alice, bob, carol, dave, regulator } = await loadFixture(renouncedConsortiumFixture);
      await regulatorSuspend(registry, regulator, alice.address);
      for (const member of [bob, carol]) {
        await expect(regulatorSuspend(registry, regulator, member.address), member.address)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryRegulatorSuspensionLimit")
          .withArgs(1);
      }
      // The suspended member keeps its place in E: dave's proposals still need 3 of 4.
      const removal = await propose(registry, dave, ProposalKind.Remove, { account: alice.address });
      expect([(await registry.proposal(removal)).electorate, (await registry.proposal(removal)).quorum]).to.deep.equal([4n, 3n]);
      await expect(registry.execute(removal))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryQuorumNotReached")
        .withArgs(removal, 1, 3);
      await expect(sendProposal(registry, dave, ProposalKind.SetQuorum, { numerator: 1, denominator: 255 }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidQuorum")
        .withArgs(1, 255);
      expect(await registry.votingMemberCount()).to.equal(4n);
    });

    it("2: a regulator's suspensions never stop the members from proposing, voting and passing proposals", async function () {
      const { registry, alice, bob, carol, dave, regulator } = await loadFixture(renouncedConsortiumFixture);
      await regulatorSuspend(registry, regulator, alice.address);
      for (const member of [bob, carol, dave]) {
        await expect(regulatorSuspend(registry, regulator, member.address), member.address)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryRegulatorSuspensionLimit");
      }
      // Even the suspended member proposes and votes; its lookups are what stop.
      expect(await registry.isActiveMember(alice.address)).to.equal(false);
      await passProposal(registry, [alice, bob, carol], ProposalKind.SetKeyEpochLength, ONE_DAY);
      expect(await registry.keyEpochLength()).to.equal(ONE_DAY.keyEpochLengthSeconds);
    });

    it("3: votes cast by members suspended or removed by vote afterwards no longer count", async function () {
      const { registry, alice, bob, carol, dave } = await loadFixture(renouncedConsortiumFixture);
      const proposalId = await propose(registry, alice, ProposalKind.SetKeyEpochLength, ONE_DAY);
      await registry.connect(bob).vote(proposalId);
      await registry.connect(carol).vote(proposalId);
      expect(await registry.countedVotes(proposalId)).to.equal(3n);
      await passProposal(registry, [alice, bob, dave], ProposalKind.Suspend, { account: carol.address });
      expect([await registry.countedVotes(proposalId), await registry.isEntitled(proposalId, carol.address)]).to.deep.equal([2n, false]);
      await expect(registry.execute(proposalId))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryQuorumNotReached")
        .withArgs(proposalId, 2, 3);
      // Reinstated, carol has a vote again, but not on what was proposed before: her old vote stays void.
      await passProposal(registry, [alice, bob], ProposalKind.Reinstate, { account: carol.address });
      expect(await registry.countedVotes(proposalId)).to.equal(2n);
      await expect(registry.connect(carol).vote(proposalId))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotEntitled")
        .withArgs(proposalId, carol.address);
      await registry.connect(dave).vote(proposalId);
      await expect(registry.execute(proposalId)).to.emit(registry, "ProposalExecuted").withArgs(proposalId);
    });

    it("3: a removed member's votes no longer count either", async function () {
      const { registry, alice, bob, carol, dave } = await loadFixture(renouncedConsortiumFixture);
      const proposalId = await propose(registry, alice, ProposalKind.SetKeyEpochLength, ONE_DAY);
      await registry.connect(dave).vote(proposalId);
      await passProposal(registry, [alice, bob, carol], ProposalKind.Remove, { account: dave.address });
      await registry.connect(bob).vote(proposalId);
      await expect(registry.execute(proposalId))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryQuorumNotReached")
        .withArgs(proposalId, 2, 3);
    });

    it("4: an Admit needs the candidate's own signature, so no member can squat another institution's account or PeerId", async function () {
      const { registry, alice, bob, carol, dave, erin, frank } = await loadFixture(renouncedConsortiumFixture);
      const genuine = await admitArgsFor(registry, erin, "Erin Pay");
      // The candidate's request with other fields, or the same fields signed by the proposer, are refused.
      await expect(sendProposal(registry, alice, ProposalKind.Admit, { ...genuine, name: "Not Erin" }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotSignedByCandidate");
      const { account, name, peerId, publicKey, oprfKey } = genuine;
      const domain = admissionDomain((await alice.provider!.getNetwork()).chainId, await registry.getAddress());
      const forged = { ...genuine, signature: await alice.signTypedData(domain, mutable(ADMISSION_TYPES), { account, name, peerId, publicKey, oprfKey }) };
      await expect(sendProposal(registry, alice, ProposalKind.Admit, forged))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotSignedByCandidate")
        .withArgs(erin.address, alice.address);
      expect((await registry.member(erin.address)).status).to.equal(MemberStatus.None);

      await passProposal(registry, [bob, carol, dave], ProposalKind.Admit, genuine);
      const record = await registry.member(erin.address);
      expect([record.name, record.status, record.oprfKey]).to.deep.equal(["Erin Pay", BigInt(MemberStatus.Admitted), oprfKeyFor(erin.address)]);
      await passProposal(registry, [bob, carol, dave], ProposalKind.AddRegulator, { account: frank.address });
      expect(await registry.isRegulator(frank.address)).to.equal(true);
    });

    it("4: an Admit naming a Removed account is refused, and its remaining ledger batches still land", async function () {
      const { registry, ledger, alice, bob, carol, dave } = await loadFixture(renouncedConsortiumFixture);
      await passProposal(registry, [alice, bob, carol], ProposalKind.Remove, { account: dave.address });
      await expect(sendProposal(registry, alice, ProposalKind.Admit, await admitArgsFor(registry, dave, "Dave", oprfKeyFor(dave.address, 1))))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryMemberRemoved")
        .withArgs(dave.address);
      expect((await registry.member(dave.address)).status).to.equal(MemberStatus.Removed);
      const deadline = BigInt(await time.latest()) + 300n;
      await expect(ledger.connect(dave).recordBatch(1, [randomQueryRecord(deadline)])).to.emit(ledger, "BatchRecorded");
    });

    it("5: no vote takes the voting members below max(2, quorum)", async function () {
      const { registry, alice, bob, carol, dave, regulator } = await loadFixture(renouncedConsortiumFixture);
      // Two removals proposed among 4 (quorum 3): the first leaves 3, the second would leave 2 < 3.
      const first = await propose(registry, alice, ProposalKind.Remove, { account: dave.address });
      const second = await propose(registry, regulator, ProposalKind.Remove, { account: carol.address });
      for (const voter of [bob, carol]) await registry.connect(voter).vote(first);
      for (const voter of [alice, bob, carol]) await registry.connect(voter).vote(second);
      // Both pass and are queued (neither is applied yet); the floor is checked again at enact.
      await registry.execute(first);
      await registry.execute(second);
      await enactProposal(registry, alice, first);
      await expect(registry.enact(second))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryVotingFloor")
        .withArgs(2, 3);
      // Among 3 (quorum 2) one more may go, by suspension; then nobody: 2 is the floor.
      await passProposal(registry, [alice, bob], ProposalKind.Suspend, { account: carol.address });
      expect(await registry.votingMemberCount()).to.equal(2n);
      for (const kind of [ProposalKind.Suspend, ProposalKind.Remove]) {
        await expect(sendProposal(registry, alice, kind, { account: bob.address }), `kind ${kind}`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryVotingFloor")
          .withArgs(1, 2);
      }
      // A member without a vote (suspended by vote) may still be removed: it is not in E (once the
      // regulator's identical proposal has lapsed: no duplicate is opened while it is open).
      await time.increase(VOTING_PERIOD_SECONDS);
      await passProposal(registry, [alice, bob], ProposalKind.Remove, { account: carol.address });
      expect(await registry.votingMemberCount()).to.equal(2n);
    });
  });

  describe("regulator suspensions", function () {
    it("last at most the registry's limit, and end only once over, by anyone", async function () {
      const { registry, bob, outsider, regulator } = await loadFixture(renouncedConsortiumFixture);
      const now = BigInt(await time.latest());
      for (const until of [now, now + 1n + MAX_REGULATOR_SUSPENSION_SECONDS + 1n]) {
        await expect(registry.connect(regulator).regulatorSuspend(bob.address, until), `until ${until}`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidSuspensionEnd");
      }
      await time.setNextBlockTimestamp(now + 10n);
      const until = now + 10n + MAX_REGULATOR_SUSPENSION_SECONDS;
      await expect(registry.connect(regulator).regulatorSuspend(bob.address, until))
        .to.emit(registry, "MemberSuspended")
        .withArgs(bob.address, regulator.address, until);
      await expect(registry.connect(outsider).endSuspension(bob.address))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistrySuspensionNotOver")
        .withArgs(bob.address, until);
      await time.setNextBlockTimestamp(until);
      await expect(registry.connect(outsider).endSuspension(bob.address)).to.emit(registry, "MemberReinstated").withArgs(bob.address);
      expect([await registry.isActiveMember(bob.address), await registry.activeMemberCount(), await registry.regulatorSuspendedCount()]).to.deep.equal([true, 4n, 0n]);
      await expect(registry.endSuspension(bob.address))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotRegulatorSuspended")
        .withArgs(bob.address);
    });

    it("cannot be repeated on the same member until the cooldown after the lapse", async function () {
      const { registry, bob, regulator } = await loadFixture(renouncedConsortiumFixture);
      await regulatorSuspend(registry, regulator, bob.address, 3_600n);
      const [until, notBefore] = await registry.regulatorSuspension(bob.address);
      expect(notBefore).to.equal(until + REGULATOR_COOLDOWN_SECONDS);
      await time.increaseTo(until);
      await registry.endSuspension(bob.address);
      await expect(regulatorSuspend(registry, regulator, bob.address))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistrySuspensionCooldown")
        .withArgs(bob.address, notBefore);
      await time.setNextBlockTimestamp(notBefore);
      await expect(registry.connect(regulator).regulatorSuspend(bob.address, notBefore + 60n)).to.emit(registry, "MemberSuspended");
    });

    it("are capped at max(1, ⌊N/3⌋) for all regulators together; ending one frees its place", async function () {
      const { registry, alice, bob, carol, dave, erin, frank, regulator } = await loadFixture(renouncedConsortiumFixture);
      await passProposal(registry, [alice, bob, carol], ProposalKind.AddRegulator, { account: frank.address });
      await admitMember(registry, [alice, bob, carol], erin);
      // Five voting members: ⌊5/3⌋ = 1.
      await regulatorSuspend(registry, regulator, alice.address, 3_600n);
      await expect(regulatorSuspend(registry, frank, bob.address))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryRegulatorSuspensionLimit")
        .withArgs(1);
      await time.increase(3_600n);
      await registry.endSuspension(alice.address);
      await regulatorSuspend(registry, frank, bob.address);
      expect(await registry.regulatorSuspendedCount()).to.equal(1n);
      expect(await registry.isVotingMember(dave.address)).to.equal(true);
    });

    it("end when the members suspend the member by vote, which takes its vote", async function () {
      const { registry, alice, bob, carol, dave, regulator } = await loadFixture(renouncedConsortiumFixture);
      await regulatorSuspend(registry, regulator, dave.address);
      const suspension = await propose(registry, alice, ProposalKind.Suspend, { account: dave.address });
      for (const voter of [bob, carol]) await registry.connect(voter).vote(suspension);
      await expect(registry.execute(suspension))
        .to.emit(registry, "MemberSuspended")
        .withArgs(dave.address, await registry.getAddress(), 0);
      expect((await registry.regulatorSuspension(dave.address))[0]).to.equal(0n);
      expect([await registry.isVotingMember(dave.address), await registry.votingMemberCount(), await registry.regulatorSuspendedCount()]).to.deep.equal([false, 3n, 0n]);
      await expect(registry.endSuspension(dave.address)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotRegulatorSuspended");
    });
  });

  describe("proposals", function () {
    it(`are limited to ${MAX_OPEN_PROPOSALS} open per account; an executed or expired one frees its place`, async function () {
      const { registry, alice, bob, carol, regulator } = await loadFixture(renouncedConsortiumFixture);
      const ids = [];
      for (let i = 1n; i <= BigInt(MAX_OPEN_PROPOSALS); i++) ids.push(await propose(registry, alice, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 86_400n * i }));
      await expect(sendProposal(registry, alice, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 3_600n }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryTooManyOpenProposals")
        .withArgs(alice.address, MAX_OPEN_PROPOSALS);
      // Others are not held up by alice's.
      await propose(registry, bob, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 3_600n });
      for (const voter of [bob, carol]) await registry.connect(voter).vote(ids[0]!);
      await registry.execute(ids[0]!);
      await propose(registry, alice, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 7_200n });
      await expect(sendProposal(registry, alice, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 10_800n }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryTooManyOpenProposals");
      await time.increase(VOTING_PERIOD_SECONDS);
      for (let i = 0; i < MAX_OPEN_PROPOSALS; i++) await propose(registry, alice, ProposalKind.AddCategory, { name: `category_${i}` });
      // A regulator's proposals count the same way.
      const members = await Promise.all([alice, bob, carol].map(async (m) => m.address));
      for (const account of members) await propose(registry, regulator, ProposalKind.Suspend, { account });
      await expect(sendProposal(registry, regulator, ProposalKind.Remove, { account: members[0]! }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryTooManyOpenProposals")
        .withArgs(regulator.address, MAX_OPEN_PROPOSALS);
    });

    it("are refused while one with the same kind and payload is open, by anyone; allowed again once it closed", async function () {
      const { registry, alice, bob, carol, dave } = await loadFixture(renouncedConsortiumFixture);
      const first = await propose(registry, alice, ProposalKind.SetKeyEpochLength, ONE_DAY);
      await expect(sendProposal(registry, bob, ProposalKind.SetKeyEpochLength, ONE_DAY))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryDuplicateProposal")
        .withArgs(first);
      await time.increase(VOTING_PERIOD_SECONDS);
      const second = await propose(registry, bob, ProposalKind.SetKeyEpochLength, ONE_DAY);
      for (const voter of [carol, dave]) await registry.connect(voter).vote(second);
      await registry.execute(second);
      await expect(sendProposal(registry, carol, ProposalKind.SetKeyEpochLength, ONE_DAY)).to.emit(registry, "ProposalCreated");
    });
  });
});
