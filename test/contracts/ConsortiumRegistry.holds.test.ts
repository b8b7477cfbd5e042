/**
 * Issue 13's holds against a hostile regulator or member, one rule per test: the regulator's pause of
 * every lookup (bounded, once per cooldown for the whole consortium, lifted by a vote the regulator
 * may not open), dormancy (a member with no on-chain action for the dormancy period loses its vote
 * until it acts, never below the floor), and a removed provider's last batches (for 7 days, only
 * requests it could have served before its removal).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { ZeroHash, hexlify, randomBytes } from "ethers";
import { ProposalKind } from "../../node/chain/governance.ts";
import {
  DORMANCY_PERIOD_SECONDS,
  MAX_PAUSE_SECONDS,
  MAX_REQUEST_LIFETIME_SECONDS,
  PAUSE_COOLDOWN_SECONDS,
  REMOVED_GRACE_SECONDS,
  boundConsortiumFixture,
  consortiumFixture,
  passProposal,
  propose,
  randomQueryRecord,
  renouncedConsortiumFixture,
  sendProposal,
} from "./fixtures.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { loadFixture, time } = networkHelpers;

async function now(): Promise<bigint> {
  return BigInt(await time.latest());
}

describe("ConsortiumRegistry: the regulator's pause", function () {
  it("pauses every lookup until a time at most the longest pause ahead, and says so", async function () {
    const { registry, regulator } = await loadFixture(renouncedConsortiumFixture);
    expect(await registry.pausedUntil()).to.equal(0n);
    const until = (await now()) + 24n * 3600n;
    await expect(registry.connect(regulator).regulatorPause(until)).to.emit(registry, "ConsortiumPaused").withArgs(regulator.address, until);
    expect(await registry.pausedUntil()).to.equal(until);
  });

  it("refuses an end in the past, now, or past the longest pause", async function () {
    const { registry, regulator } = await loadFixture(renouncedConsortiumFixture);
    const start = await now();
    // The next block is one second later: the latest end it allows is start + 1 + MAX_PAUSE.
    const latest = start + 1n + MAX_PAUSE_SECONDS;
    await time.setNextBlockTimestamp(start + 1n);
    await expect(registry.connect(regulator).regulatorPause(latest + 1n))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidPauseEnd")
      .withArgs(latest + 1n, latest);
    await time.setNextBlockTimestamp(start + 2n);
    await expect(registry.connect(regulator).regulatorPause(start + 2n))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidPauseEnd")
      .withArgs(start + 2n, start + 2n + MAX_PAUSE_SECONDS);
    await time.setNextBlockTimestamp(start + 3n);
    await expect(registry.connect(regulator).regulatorPause(start + 3n + MAX_PAUSE_SECONDS)).to.emit(registry, "ConsortiumPaused");
  });

  it("refuses anyone but a regulator: members, the admin, outsiders", async function () {
    const { registry, alice, admin, outsider } = await loadFixture(consortiumFixture);
    const until = (await now()) + 3600n;
    for (const caller of [alice, admin, outsider]) {
      await expect(registry.connect(caller).regulatorPause(until), caller.address)
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotRegulator")
        .withArgs(caller.address);
    }
  });

  it("allows one pause per cooldown for the whole consortium: a second regulator cannot chain another", async function () {
    const { registry, regulator, members, outsider } = await loadFixture(renouncedConsortiumFixture);
    await passProposal(registry, members, ProposalKind.AddRegulator, { account: outsider.address });
    const start = (await now()) + 1n;
    await time.setNextBlockTimestamp(start);
    await registry.connect(regulator).regulatorPause(start + MAX_PAUSE_SECONDS);
    const notBefore = start + PAUSE_COOLDOWN_SECONDS;
    await time.increaseTo(start + MAX_PAUSE_SECONDS + 1n);
    for (const who of [regulator, outsider]) {
      await expect(registry.connect(who).regulatorPause((await now()) + 3600n), who.address)
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryPauseCooldown")
        .withArgs(notBefore);
    }
    await time.setNextBlockTimestamp(notBefore);
    await expect(registry.connect(outsider).regulatorPause(notBefore + 3600n)).to.emit(registry, "ConsortiumPaused");
  });

  it("is lifted by an Unpause vote of the members", async function () {
    const { registry, regulator, alice, bob, carol } = await loadFixture(renouncedConsortiumFixture);
    await registry.connect(regulator).regulatorPause((await now()) + MAX_PAUSE_SECONDS);
    const id = await propose(registry, alice, ProposalKind.Unpause, {});
    await registry.connect(bob).vote(id);
    await registry.connect(carol).vote(id);
    await expect(registry.execute(id)).to.emit(registry, "ConsortiumUnpaused").and.to.emit(registry, "ProposalExecuted").withArgs(id);
    expect(await registry.pausedUntil()).to.equal(0n);
    // Lifting does not reset the cooldown: the regulator still waits from the pause's start.
    await expect(registry.connect(regulator).regulatorPause((await now()) + 3600n)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryPauseCooldown");
  });

  it("refuses an Unpause while not paused, at proposal and again at execution, and one with a payload", async function () {
    const { registry, regulator, alice, bob, carol } = await loadFixture(renouncedConsortiumFixture);
    await expect(sendProposal(registry, alice, ProposalKind.Unpause, {})).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotPaused");
    const until = (await now()) + 3600n;
    await registry.connect(regulator).regulatorPause(until);
    await expect(registry.connect(alice).propose(ProposalKind.Unpause, "0x00"))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidPayload")
      .withArgs(ProposalKind.Unpause);
    const id = await propose(registry, alice, ProposalKind.Unpause, {});
    await registry.connect(bob).vote(id);
    await registry.connect(carol).vote(id);
    await time.increaseTo(until);
    await expect(registry.execute(id)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotPaused");
  });

  it("cannot be lifted by the regulator: it may not open an Unpause proposal", async function () {
    const { registry, regulator } = await loadFixture(renouncedConsortiumFixture);
    await registry.connect(regulator).regulatorPause((await now()) + 3600n);
    await expect(sendProposal(registry, regulator, ProposalKind.Unpause, {}))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryRegulatorMayNotPropose")
      .withArgs(ProposalKind.Unpause);
  });
});

describe("ConsortiumRegistry: dormancy", function () {
  it("refuses to mark a member dormant before the dormancy period has passed since its last action", async function () {
    const { registry, alice, dave } = await loadFixture(renouncedConsortiumFixture);
    const [lastActionAt, dormant, removedAt] = await registry.activityOf(dave.address);
    expect(dormant).to.equal(false);
    expect(removedAt).to.equal(0n);
    const dormantFrom = lastActionAt + DORMANCY_PERIOD_SECONDS;
    await time.setNextBlockTimestamp(dormantFrom - 1n);
    await expect(registry.connect(alice).markDormant(dave.address))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotDormant")
      .withArgs(dave.address, dormantFrom);
    await time.setNextBlockTimestamp(dormantFrom);
    await expect(registry.connect(alice).markDormant(dave.address)).to.emit(registry, "MemberDormant").withArgs(dave.address);
  });

  it("takes a dormant member out of E for proposals made afterwards, and out of the vote", async function () {
    const { registry, alice, bob, carol, dave, outsider } = await loadFixture(renouncedConsortiumFixture);
    await time.increase(DORMANCY_PERIOD_SECONDS);
    // Alice, Bob and Carol act; Dave does not. Anyone (an outsider here) may mark him.
    const before = await propose(registry, alice, ProposalKind.AddCategory, { name: "before" });
    await registry.connect(bob).vote(before);
    await registry.connect(carol).vote(before);
    await registry.connect(outsider).markDormant(dave.address);
    expect(await registry.votingMemberCount()).to.equal(3n);
    expect(await registry.isVotingMember(dave.address)).to.equal(false);
    expect((await registry.activityOf(dave.address))[1]).to.equal(true);
    expect(await registry.activeMemberCount(), "dormancy is about votes only: Dave still looks up").to.equal(4n);
    const after = await propose(registry, alice, ProposalKind.AddCategory, { name: "after" });
    const p = await registry.proposal(after);
    expect(p.electorate).to.equal(3n);
    expect(p.quorum).to.equal(2n);
    await expect(registry.connect(dave).vote(after)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotVotingMember");
    await registry.connect(bob).vote(after);
    await expect(registry.execute(after)).to.emit(registry, "CategoryAdded");
    // The proposal made before keeps its E (4) and quorum (3).
    expect((await registry.proposal(before)).electorate).to.equal(4n);
    await expect(registry.execute(before)).to.emit(registry, "CategoryAdded");
  });

  it("wakes a dormant member at its next action: its vote is back for proposals made from then on", async function () {
    const { registry, alice, dave } = await loadFixture(renouncedConsortiumFixture);
    await time.increase(DORMANCY_PERIOD_SECONDS);
    await registry.markDormant(dave.address);
    const open = await propose(registry, alice, ProposalKind.AddCategory, { name: "while_dormant" });
    await expect(registry.connect(dave).rotateOprfKey(hexlify(randomBytes(32)))).to.emit(registry, "MemberAwake").withArgs(dave.address);
    expect(await registry.votingMemberCount()).to.equal(4n);
    expect(await registry.isVotingMember(dave.address)).to.equal(true);
    expect((await registry.activityOf(dave.address))[0]).to.equal(await now());
    // Not on the proposal made while it was dormant (its E left it out)…
    await expect(registry.connect(dave).vote(open)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotEntitled");
    // …but on the next one.
    const next = await propose(registry, alice, ProposalKind.AddCategory, { name: "awake" });
    expect((await registry.proposal(next)).electorate).to.equal(4n);
    await expect(registry.connect(dave).vote(next)).to.emit(registry, "Voted");
  });

  it("wakes a dormant member that proposes, and counts its vote on its proposal", async function () {
    const { registry, dave } = await loadFixture(renouncedConsortiumFixture);
    await time.increase(DORMANCY_PERIOD_SECONDS);
    await registry.markDormant(dave.address);
    const tx = sendProposal(registry, dave, ProposalKind.AddCategory, { name: "dave_is_back" });
    await expect(tx).to.emit(registry, "MemberAwake").withArgs(dave.address);
    await expect(tx).to.emit(registry, "Voted");
    expect((await registry.proposal(await registry.proposalCount())).electorate).to.equal(4n);
  });

  it("refuses a mark that would leave fewer than max(2, quorum) voting members", async function () {
    const { registry, bob, carol, dave } = await loadFixture(renouncedConsortiumFixture);
    await time.increase(DORMANCY_PERIOD_SECONDS);
    await registry.markDormant(dave.address);
    await registry.markDormant(carol.address);
    expect(await registry.votingMemberCount()).to.equal(2n);
    await expect(registry.markDormant(bob.address))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryVotingFloor")
      .withArgs(1, 2);
  });

  it("refuses to mark a member without a vote, or one already dormant", async function () {
    const { registry, alice, bob, carol, dave, outsider } = await loadFixture(renouncedConsortiumFixture);
    await passProposal(registry, [alice, bob, carol], ProposalKind.Suspend, { account: dave.address });
    await time.increase(DORMANCY_PERIOD_SECONDS);
    for (const account of [dave.address, outsider.address]) {
      await expect(registry.markDormant(account), account).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotVotingMember").withArgs(account);
    }
    await registry.markDormant(carol.address);
    await expect(registry.markDormant(carol.address)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotVotingMember");
  });

  it("lets the members remove a dormant member, keeping the counters exact", async function () {
    const { registry, alice, bob, dave } = await loadFixture(renouncedConsortiumFixture);
    await time.increase(DORMANCY_PERIOD_SECONDS);
    await registry.markDormant(dave.address);
    await passProposal(registry, [alice, bob], ProposalKind.Remove, { account: dave.address });
    expect(await registry.votingMemberCount()).to.equal(3n);
    expect(await registry.activeMemberCount()).to.equal(3n);
    const [, dormant, removedAt] = await registry.activityOf(dave.address);
    expect(dormant).to.equal(false);
    expect(removedAt).to.equal(await now());
  });

  it("counts a ledger batch and a contribution snapshot as actions, reported by the companions only", async function () {
    const { registry, ledger, contributions, alice, dave } = await loadFixture(boundConsortiumFixture);
    await time.increase(DORMANCY_PERIOD_SECONDS - 100n);
    await ledger.connect(dave).recordBatch(1, [randomQueryRecord((await now()) + 300n)]);
    expect((await registry.activityOf(dave.address))[0]).to.equal(await now());
    await contributions.connect(alice).publish(1, 1, 0, ZeroHash);
    expect((await registry.activityOf(alice.address))[0]).to.equal(await now());
    await time.increase(200n);
    await expect(registry.markDormant(dave.address)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotDormant");
    await expect(registry.markDormant(alice.address)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotDormant");
    // Anyone else calling the companions' entry point records nothing.
    const before = (await registry.activityOf(dave.address))[0];
    await registry.connect(dave).noteCompanionActivity(dave.address);
    expect((await registry.activityOf(dave.address))[0]).to.equal(before);
  });

  it("wakes a dormant provider at its next ledger batch (a dormant member still serves lookups)", async function () {
    const { registry, ledger, dave } = await loadFixture(boundConsortiumFixture);
    await time.increase(DORMANCY_PERIOD_SECONDS);
    await registry.markDormant(dave.address);
    await expect(ledger.connect(dave).recordBatch(1, [randomQueryRecord((await now()) + 300n)])).to.emit(registry, "MemberAwake").withArgs(dave.address);
    expect(await registry.votingMemberCount()).to.equal(4n);
  });

  it("costs a ledger batch a few thousand gas to report the provider's activity", async function () {
    const deadline = (await now()) + 3_600n;
    const records = Array.from({ length: 10 }, () => randomQueryRecord(deadline));
    const gas = async (f: Awaited<ReturnType<typeof consortiumFixture>>) => {
      await (await f.ledger.connect(f.alice).recordBatch(1, records)).wait();
      return (await (await f.ledger.connect(f.alice).recordBatch(2, records)).wait())!.gasUsed;
    };
    // Without companions named, the registry records nothing for the ledger (the same code path otherwise).
    const withoutReport = await gas(await loadFixture(renouncedConsortiumFixture));
    const withReport = await gas(await loadFixture(boundConsortiumFixture));
    const extra = withReport - withoutReport;
    if (process.env.RISKSHARE_GAS_LOG) console.log(`activity report: +${extra} gas per batch (${withoutReport} → ${withReport})`);
    expect(extra > 0n && extra < 10_000n, `${extra} gas`).to.equal(true);
  });
});

describe("QueryLedger: a removed provider's last batches", function () {
  async function removedDaveFixture() {
    const fixture = await boundConsortiumFixture(connection);
    const { registry, ledger, alice, bob, carol, dave } = fixture;
    await ledger.connect(dave).recordBatch(1, [randomQueryRecord(BigInt(await time.latest()) + 300n)]);
    await passProposal(registry, [alice, bob, carol], ProposalKind.Remove, { account: dave.address });
    const removedAt = BigInt(await time.latest());
    return { ...fixture, removedAt };
  }

  it("exposes when the member was removed", async function () {
    const { registry, dave, removedAt } = await loadFixture(removedDaveFixture);
    expect((await registry.activityOf(dave.address))[2]).to.equal(removedAt);
  });

  it("lands records with deadline ≤ removal + the longest request lifetime, for 7 days after the removal", async function () {
    const { ledger, dave, removedAt } = await loadFixture(removedDaveFixture);
    const latest = removedAt + MAX_REQUEST_LIFETIME_SECONDS;
    await time.setNextBlockTimestamp(removedAt + REMOVED_GRACE_SECONDS);
    await expect(ledger.connect(dave).recordBatch(2, [randomQueryRecord(latest), randomQueryRecord(removedAt - 5n)]))
      .to.emit(ledger, "BatchRecorded")
      .withArgs(dave.address, 2, 2);
  });

  it("refuses a record whose deadline is after removal + the longest request lifetime, naming it", async function () {
    const { ledger, dave, removedAt } = await loadFixture(removedDaveFixture);
    const latest = removedAt + MAX_REQUEST_LIFETIME_SECONDS;
    await expect(ledger.connect(dave).recordBatch(2, [randomQueryRecord(latest), randomQueryRecord(latest + 1n)]))
      .to.be.revertedWithCustomError(ledger, "QueryLedgerDeadlineAfterRemoval")
      .withArgs(1, latest);
  });

  it("refuses every batch once 7 days have passed since the removal", async function () {
    const { ledger, dave, removedAt } = await loadFixture(removedDaveFixture);
    await time.setNextBlockTimestamp(removedAt + REMOVED_GRACE_SECONDS + 1n);
    await expect(ledger.connect(dave).recordBatch(2, [randomQueryRecord(removedAt)]))
      .to.be.revertedWithCustomError(ledger, "QueryLedgerRemovalWindowClosed")
      .withArgs(dave.address, removedAt, removedAt + REMOVED_GRACE_SECONDS);
  });

  it("says its limits", async function () {
    const { ledger } = await loadFixture(removedDaveFixture);
    expect(await ledger.removalLimits()).to.deep.equal([REMOVED_GRACE_SECONDS, MAX_REQUEST_LIFETIME_SECONDS]);
  });
});
