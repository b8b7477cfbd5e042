/**
 * Member key rotation (docs/GOVERNANCE.md "Member key rotation"): an Active member moves its
 * membership to a fresh account, signed by the old key (the transaction) and the new one (an
 * EIP-712 KeyRotation checked as an admission request is). The same member: name, joinedAt, vote
 * and the counts unchanged; the old account is Rotated and keeps its history (its PeerId, its OPRF
 * keys per epoch, its last ledger batches for the removed provider's window).
 */
import { expect } from "chai";
import { network } from "hardhat";
import { TypedDataEncoder, ZeroAddress } from "ethers";
import { MemberStatus, ProposalKind } from "../../node/chain/governance.ts";
import { KEY_ROTATION_TYPES, KEY_ROTATION_TYPE_STRING, createKeyRotation, rotateMemberKeyArgs } from "../../node/chain/rotation.ts";
import { mutable } from "../../node/chain/eip712.ts";
import {
  MAX_REQUEST_LIFETIME_SECONDS,
  REMOVED_GRACE_SECONDS,
  admitArgsFor,
  boundConsortiumFixture,
  consortiumFixture,
  deployRegistry,
  oprfKeyFor,
  passProposal,
  peerIdFor,
  propose,
  randomQueryRecord,
  regulatorSuspend,
  renouncedConsortiumFixture,
  rotationArgsFor,
  sendProposal,
} from "./fixtures.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { loadFixture, time } = networkHelpers;

/** alice (key epoch 2 after one OPRF rotation) moves to erin's key. */
async function rotatedAliceFixture() {
  const fixture = await boundConsortiumFixture(connection);
  const { registry, ledger, alice, erin } = fixture;
  await registry.connect(alice).rotateOprfKey(oprfKeyFor(alice.address, 1));
  await ledger.connect(alice).recordBatch(1, [randomQueryRecord(BigInt(await time.latest()) + 300n)]);
  const before = {
    record: await registry.member(alice.address),
    active: await registry.activeMemberCount(),
    voting: await registry.votingMemberCount(),
    listed: await registry.memberCount(),
  };
  const args = await rotationArgsFor(registry, alice.address, erin);
  const tx = await registry.connect(alice).rotateMemberKey(...args);
  const rotatedAt = BigInt(await time.latest());
  return { ...fixture, before, args, tx, rotatedAt };
}

describe("ConsortiumRegistry: member key rotation", function () {
  it("signs the KeyRotation type string of RiskshareTypes.sol, and the node's signer matches a wallet's", async function () {
    const { registry, alice } = await loadFixture(renouncedConsortiumFixture);
    expect(TypedDataEncoder.from(mutable(KEY_ROTATION_TYPES)).encodeType("KeyRotation")).to.equal(KEY_ROTATION_TYPE_STRING);
    // createKeyRotation (the CLI's) yields arguments the registry accepts.
    const wallet = ethers.Wallet.createRandom();
    const { chainId } = await ethers.provider.getNetwork();
    const rotation = createKeyRotation(ethers.getBytes(wallet.privateKey), { oldAccount: alice.address, oprfKey: oprfKeyFor(wallet.address), chainId, registry: await registry.getAddress() });
    expect(rotation.newAccount).to.equal(wallet.address);
    await expect(registry.connect(alice).rotateMemberKey(...rotateMemberKeyArgs(rotation)))
      .to.emit(registry, "MemberKeyRotated")
      .withArgs(alice.address, wallet.address, rotation.peerId, 2, rotation.oprfKey);
  });

  it("moves the member: same name and joinedAt, new PeerId and key for the next epoch, counts unchanged", async function () {
    const { registry, alice, erin, before, args, tx, rotatedAt } = await loadFixture(rotatedAliceFixture);
    const [, peerId, , oprfKey] = args;
    await expect(tx).to.emit(registry, "MemberKeyRotated").withArgs(alice.address, erin.address, peerId, 3, oprfKey);
    const moved = await registry.member(erin.address);
    expect(moved.account).to.equal(erin.address);
    expect(moved.name).to.equal(before.record.name);
    expect(moved.joinedAt).to.equal(before.record.joinedAt);
    expect(moved.peerId).to.equal(peerId);
    expect(moved.status).to.equal(BigInt(MemberStatus.Active));
    expect(moved.keyEpoch).to.equal(3n);
    expect(moved.keyRotatedAt).to.equal(rotatedAt);
    expect(moved.oprfKey).to.equal(oprfKey);
    expect(await registry.activeMemberCount()).to.equal(before.active);
    expect(await registry.votingMemberCount()).to.equal(before.voting);
    expect(await registry.memberCount()).to.equal(before.listed + 1n);
    expect((await registry.memberAt(before.listed)).account).to.equal(erin.address);
    expect(await registry.isActiveMember(erin.address)).to.equal(true);
    expect(await registry.isVotingMember(erin.address)).to.equal(true);
    expect((await registry.memberByPeerId(peerId)).account).to.equal(erin.address);
  });

  it("keeps the old account's history: Rotated, its PeerId and every key per epoch, linked to its successor", async function () {
    const { registry, alice, erin, before, args, rotatedAt } = await loadFixture(rotatedAliceFixture);
    const old = await registry.member(alice.address);
    expect(old.status).to.equal(BigInt(MemberStatus.Rotated));
    expect(old.keyEpoch).to.equal(2n);
    expect(old.peerId).to.equal(before.record.peerId);
    expect((await registry.memberByPeerId(peerIdFor(alice.address))).account).to.equal(alice.address);
    expect(await registry.oprfKeyOf(alice.address, 1)).to.equal(oprfKeyFor(alice.address));
    expect(await registry.oprfKeyOf(alice.address, 2)).to.equal(oprfKeyFor(alice.address, 1));
    expect(await registry.oprfKeyOf(alice.address, 3)).to.equal(ethers.ZeroHash);
    expect(await registry.oprfKeyOf(erin.address, 2)).to.equal(ethers.ZeroHash);
    expect(await registry.oprfKeyOf(erin.address, 3)).to.equal(args[3]);
    expect(await registry.keyEpochOf(erin.address)).to.equal(3n);
    expect(await registry.successorOf(alice.address)).to.equal(erin.address);
    expect(await registry.predecessorOf(erin.address)).to.equal(alice.address);
    expect(await registry.successorOf(erin.address)).to.equal(ZeroAddress);
    expect(await registry.predecessorOf(alice.address)).to.equal(ZeroAddress);
    expect(await registry.isActiveMember(alice.address)).to.equal(false);
    expect(await registry.isVotingMember(alice.address)).to.equal(false);
    const [lastActionAt, dormant, removedAt] = await registry.activityOf(alice.address);
    expect([lastActionAt, dormant, removedAt]).to.deep.equal([rotatedAt, false, rotatedAt]);
    expect((await registry.activityOf(erin.address))[0]).to.equal(rotatedAt);
  });

  it("hands the vote over: the old account's votes stop counting, the new account votes on open proposals and new ones", async function () {
    const { registry, alice, bob, carol, erin, frank } = await loadFixture(renouncedConsortiumFixture);
    const open = await propose(registry, bob, ProposalKind.Admit, await admitArgsFor(registry, frank, "Frank"));
    await registry.connect(alice).vote(open);
    expect(await registry.countedVotes(open)).to.equal(2n);
    await registry.connect(alice).rotateMemberKey(...(await rotationArgsFor(registry, alice.address, erin)));
    expect(await registry.countedVotes(open)).to.equal(1n);
    await expect(registry.connect(alice).vote(open)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotVotingMember");
    expect(await registry.isEntitled(open, erin.address)).to.equal(true);
    await registry.connect(erin).vote(open);
    await registry.connect(carol).vote(open);
    expect(await registry.countedVotes(open)).to.equal(3n);
    await expect(registry.connect(erin).execute(open)).to.emit(registry, "MemberAdmitted");
    const later = await propose(registry, erin, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 86_400n });
    expect(await registry.hasVoted(later, erin.address)).to.equal(true);
    await expect(sendProposal(registry, alice, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 7_200n }))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotVotingMember");
  });

  it("refuses a signature by another key, a key that is not the account's, and a PeerId of another key", async function () {
    const { registry, alice, erin, frank } = await loadFixture(renouncedConsortiumFixture);
    const [newAccount, peerId, publicKey, oprfKey] = await rotationArgsFor(registry, alice.address, erin);
    const byFrank = await frank.signTypedData(
      { name: "riskshare", version: "1", chainId: (await ethers.provider.getNetwork()).chainId, verifyingContract: await registry.getAddress() },
      mutable(KEY_ROTATION_TYPES),
      { oldAccount: alice.address, newAccount, peerId, publicKey, oprfKey },
    );
    await expect(registry.connect(alice).rotateMemberKey(newAccount, peerId, publicKey, oprfKey, byFrank))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotSignedByCandidate")
      .withArgs(erin.address, frank.address);
    const frankArgs = await rotationArgsFor(registry, alice.address, frank);
    await expect(registry.connect(alice).rotateMemberKey(newAccount, peerId, frankArgs[2], oprfKey, byFrank))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryPublicKeyNotAccount")
      .withArgs(erin.address);
    await expect(registry.connect(alice).rotateMemberKey(newAccount, frankArgs[1], publicKey, oprfKey, byFrank))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryPeerIdNotKey");
    // Signed for bob's move, sent by alice: the old account is part of what the new key signed.
    const forBob = await rotationArgsFor(registry, (await ethers.getSigners())[2]!.address, erin);
    await expect(registry.connect(alice).rotateMemberKey(...forBob)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotSignedByCandidate");
  });

  it("refuses a signature made for another registry or another chain", async function () {
    const { registry, admin, alice, erin } = await loadFixture(renouncedConsortiumFixture);
    const other = await deployRegistry({ ethers }, admin.address);
    const otherRegistry = await rotationArgsFor(registry, alice.address, erin, undefined, { chainId: (await ethers.provider.getNetwork()).chainId, registry: await other.getAddress() });
    await expect(registry.connect(alice).rotateMemberKey(...otherRegistry)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotSignedByCandidate");
    const otherChain = await rotationArgsFor(registry, alice.address, erin, undefined, { chainId: 1n, registry: await registry.getAddress() });
    await expect(registry.connect(alice).rotateMemberKey(...otherChain)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotSignedByCandidate");
  });

  it("refuses a new account that is a member, a regulator or was ever seen, a zero key, and a PeerId bound already", async function () {
    const { registry, admin, alice, bob, erin, frank, regulator } = await loadFixture(consortiumFixture);
    await expect(registry.connect(alice).rotateMemberKey(...(await rotationArgsFor(registry, alice.address, bob))))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryMemberExists")
      .withArgs(bob.address, MemberStatus.Active);
    await expect(registry.connect(alice).rotateMemberKey(...(await rotationArgsFor(registry, alice.address, regulator))))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryRegulatorExists")
      .withArgs(regulator.address);
    const zeroKey = await rotationArgsFor(registry, alice.address, erin, ethers.ZeroHash);
    await expect(registry.connect(alice).rotateMemberKey(...zeroKey)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidOprfKey");
    // The admin seeds frank under erin's real PeerId (seeding does not check PeerIds): erin's is taken.
    const toErin = await rotationArgsFor(registry, alice.address, erin);
    await registry.connect(admin).seedMember(frank.address, "Frank", toErin[1], oprfKeyFor(frank.address));
    await expect(registry.connect(alice).rotateMemberKey(...toErin)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryPeerIdTaken");
  });

  it("refuses callers that are not Active: outsiders, a member suspended by a regulator, a rotated account", async function () {
    const { registry, alice, bob, erin, frank, outsider, regulator } = await loadFixture(renouncedConsortiumFixture);
    await expect(registry.connect(outsider).rotateMemberKey(...(await rotationArgsFor(registry, outsider.address, erin))))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
      .withArgs(outsider.address, MemberStatus.None);
    await regulatorSuspend(registry, regulator, bob.address);
    await expect(registry.connect(bob).rotateMemberKey(...(await rotationArgsFor(registry, bob.address, erin))))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
      .withArgs(bob.address, MemberStatus.Suspended);
    await registry.connect(alice).rotateMemberKey(...(await rotationArgsFor(registry, alice.address, erin)));
    await expect(registry.connect(alice).rotateMemberKey(...(await rotationArgsFor(registry, alice.address, frank))))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
      .withArgs(alice.address, MemberStatus.Rotated);
    // A replay of the same rotation is refused too: the old account is Rotated now.
  });

  it("refuses a member suspended by vote, and carries a regulator suspension's cooldown over to the new account", async function () {
    const { registry, alice, bob, carol, dave, erin, frank, regulator } = await loadFixture(renouncedConsortiumFixture);
    await passProposal(registry, [alice, bob, carol], ProposalKind.Suspend, { account: dave.address });
    await expect(registry.connect(dave).rotateMemberKey(...(await rotationArgsFor(registry, dave.address, frank))))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
      .withArgs(dave.address, MemberStatus.Suspended);
    await regulatorSuspend(registry, regulator, bob.address, 3600n);
    await time.increase(3600);
    await registry.endSuspension(bob.address);
    const [, notBefore] = await registry.regulatorSuspension(bob.address);
    await registry.connect(bob).rotateMemberKey(...(await rotationArgsFor(registry, bob.address, erin)));
    expect((await registry.regulatorSuspension(erin.address))[1]).to.equal(notBefore);
    await expect(regulatorSuspend(registry, regulator, erin.address))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistrySuspensionCooldown")
      .withArgs(erin.address, notBefore);
  });

  it("costs less than 400,000 gas (a one-off: about fifteen storage slots written, most of them new)", async function () {
    const { registry, alice, erin } = await loadFixture(renouncedConsortiumFixture);
    const receipt = await (await registry.connect(alice).rotateMemberKey(...(await rotationArgsFor(registry, alice.address, erin)))).wait();
    if (process.env.RISKSHARE_GAS_LOG) console.log(`rotateMemberKey: ${receipt!.gasUsed} gas`);
    expect(receipt!.gasUsed).to.be.lessThan(400_000n);
  });

  it("never lets a rotated account back in: no admission, no regulator, no second rotation to it", async function () {
    const { registry, alice, bob, carol, erin } = await loadFixture(renouncedConsortiumFixture);
    await registry.connect(alice).rotateMemberKey(...(await rotationArgsFor(registry, alice.address, erin)));
    await expect(sendProposal(registry, bob, ProposalKind.Admit, await admitArgsFor(registry, alice, "Alice again")))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryMemberExists")
      .withArgs(alice.address, MemberStatus.Rotated);
    await expect(sendProposal(registry, bob, ProposalKind.AddRegulator, { account: alice.address }))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryMemberExists")
      .withArgs(alice.address, MemberStatus.Rotated);
    await expect(registry.connect(carol).rotateMemberKey(...(await rotationArgsFor(registry, carol.address, alice))))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryMemberExists")
      .withArgs(alice.address, MemberStatus.Rotated);
  });

  it("is blocked while a Suspend or Remove naming the member is pending, its own included (it would shield it from a twin)", async function () {
    const { registry, alice, bob, erin } = await loadFixture(renouncedConsortiumFixture);
    const own = await propose(registry, alice, ProposalKind.Suspend, { account: alice.address });
    await expect(registry.connect(alice).rotateMemberKey(...(await rotationArgsFor(registry, alice.address, erin))))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryRotationBlocked")
      .withArgs(own);
    await time.increase(3 * 24 * 3600);
    const remove = await propose(registry, bob, ProposalKind.Remove, { account: alice.address });
    await expect(registry.connect(alice).rotateMemberKey(...(await rotationArgsFor(registry, alice.address, erin))))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryRotationBlocked")
      .withArgs(remove);
    await time.increase(3 * 24 * 3600);
    await expect(registry.connect(alice).rotateMemberKey(...(await rotationArgsFor(registry, alice.address, erin)))).to.emit(registry, "MemberKeyRotated");
  });

  it("is blocked while a Remove naming the member is queued behind its timelock", async function () {
    const { registry, alice, bob, carol, dave, erin } = await loadFixture(renouncedConsortiumFixture);
    const remove = await propose(registry, bob, ProposalKind.Remove, { account: alice.address });
    for (const voter of [carol, dave]) await registry.connect(voter).vote(remove);
    await registry.execute(remove);
    await time.increase(3 * 24 * 3600); // past the voting period, not past eta + the voting period
    await expect(registry.connect(alice).rotateMemberKey(...(await rotationArgsFor(registry, alice.address, erin))))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryRotationBlocked")
      .withArgs(remove);
  });

  it("keeps the member's open proposals against its limit: a fresh account buys no more slots", async function () {
    const { registry, alice, erin } = await loadFixture(renouncedConsortiumFixture);
    for (const name of ["one", "two", "three"]) await propose(registry, alice, ProposalKind.AddCategory, { name });
    await registry.connect(alice).rotateMemberKey(...(await rotationArgsFor(registry, alice.address, erin)));
    await expect(sendProposal(registry, erin, ProposalKind.AddCategory, { name: "four" }))
      .to.be.revertedWithCustomError(registry, "ConsortiumRegistryTooManyOpenProposals")
      .withArgs(erin.address, 3);
    await time.increase(3 * 24 * 3600);
    await expect(sendProposal(registry, erin, ProposalKind.AddCategory, { name: "four" })).to.emit(registry, "ProposalCreated");
  });

  it("wakes a dormant caller: the vote it takes along counts", async function () {
    const { registry, alice, erin } = await loadFixture(renouncedConsortiumFixture);
    const voting = await registry.votingMemberCount();
    await time.increase(180 * 24 * 3600);
    await registry.markDormant(alice.address);
    await expect(registry.connect(alice).rotateMemberKey(...(await rotationArgsFor(registry, alice.address, erin))))
      .to.emit(registry, "MemberAwake")
      .withArgs(alice.address);
    expect(await registry.votingMemberCount()).to.equal(voting);
    expect(await registry.isVotingMember(erin.address)).to.equal(true);
  });
});

describe("QueryLedger and ContributionRegistry after a member key rotation", function () {
  it("land the old account's last batches within the removed provider's window, then refuse them", async function () {
    const { ledger, alice, rotatedAt } = await loadFixture(rotatedAliceFixture);
    const latest = rotatedAt + MAX_REQUEST_LIFETIME_SECONDS;
    await expect(ledger.connect(alice).recordBatch(2, [randomQueryRecord(latest + 1n)]))
      .to.be.revertedWithCustomError(ledger, "QueryLedgerDeadlineAfterRemoval")
      .withArgs(0, latest);
    await time.setNextBlockTimestamp(rotatedAt + REMOVED_GRACE_SECONDS);
    await expect(ledger.connect(alice).recordBatch(2, [randomQueryRecord(latest)]))
      .to.emit(ledger, "BatchRecorded")
      .withArgs(alice.address, 2, 1);
    await expect(ledger.connect(alice).recordBatch(3, [randomQueryRecord(latest)]))
      .to.be.revertedWithCustomError(ledger, "QueryLedgerRemovalWindowClosed")
      .withArgs(alice.address, rotatedAt, rotatedAt + REMOVED_GRACE_SECONDS);
  });

  it("take the new account's own batches and snapshots under its key epoch, and no more snapshots from the old one", async function () {
    const { ledger, contributions, alice, erin } = await loadFixture(rotatedAliceFixture);
    await expect(ledger.connect(erin).recordBatch(1, [randomQueryRecord(BigInt(await time.latest()) + 300n)])).to.emit(ledger, "BatchRecorded");
    const filterHash = ethers.id("filter");
    await expect(contributions.connect(erin).publish(1, 3, 10, filterHash)).to.emit(contributions, "ContributionPublished");
    await expect(contributions.connect(alice).publish(1, 2, 10, filterHash)).to.be.revertedWithCustomError(contributions, "ContributionRegistryNotActiveMember");
  });
});
