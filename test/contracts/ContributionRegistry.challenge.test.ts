import { expect } from "chai";
import { network } from "hardhat";
import { hexlify, randomBytes } from "ethers";
import { challengeChunks, chunkCount, chunkProofs, filterCommitment, verifyChunkProof, type ChunkProof } from "../../node/chain/index.ts";
import { buildTagFilter } from "../../node/store/index.ts";
import { CHALLENGE_COOLDOWN_SECONDS, CHALLENGE_RESPONSE_WINDOW_SECONDS, consortiumFixture } from "./fixtures.ts";

const { ethers, networkHelpers } = await network.create();
const { loadFixture, time } = networkHelpers;

const OPEN = 1n;
const ANSWERED = 2n;
const EXPIRED = 3n;
const SUPERSEDED = 4n;

/** A real base filter over `count` random tags: its bytes and the commitment published on chain. */
function filterOf(count: number): { bytes: Uint8Array; commitment: string; count: number } {
  const built = buildTagFilter(randomBytes(8 * count));
  return { bytes: built.bytes, commitment: filterCommitment(built.bytes), count: built.count };
}

function asCalldata(proofs: readonly ChunkProof[]): Array<{ chunk: string; siblings: string[] }> {
  return proofs.map((p) => ({ chunk: hexlify(p.chunk), siblings: p.siblings.map((s) => hexlify(s)) }));
}

async function challenged(count: number) {
  const fixture = await loadFixture(consortiumFixture);
  const { contributions, alice, bob } = fixture;
  const filter = filterOf(count);
  await contributions.connect(alice).publish(1, 1, filter.count, filter.commitment);
  await contributions.connect(bob).challenge(alice.address, 1);
  const challenge = await contributions.challengeOf(alice.address, 1);
  const indices = challengeChunks(challenge.seed, chunkCount(filter.bytes.length));
  return { ...fixture, filter, challenge, indices, proofs: chunkProofs(filter.bytes, indices) };
}

describe("ContributionRegistry: spot-checks of snapshots", function () {
  it("builds commitments and proofs the contract accepts, for filters of one chunk to many (node and contract agree)", async function () {
    for (const count of [1, 400, 5_000]) {
      const { contributions, alice, filter, challenge, indices, proofs } = await challenged(count);
      expect(await contributions.challengeChunks(challenge.seed, chunkCount(filter.bytes.length))).to.deep.equal(indices.map(BigInt));
      for (const proof of proofs) expect(verifyChunkProof(filter.commitment, filter.bytes.length, proof), `count ${count}`).to.equal(true);
      await expect(contributions.connect(alice).answerChallenge(1, filter.bytes.length, asCalldata(proofs)))
        .to.emit(contributions, "ChallengeAnswered").withArgs(alice.address, 1, filter.commitment);
      expect((await contributions.challengeOf(alice.address, 1)).state).to.equal(ANSWERED);
      expect(await contributions.isUnproven(alice.address, 1)).to.equal(false);
    }
  });

  it("records who challenged, the commitment and the deadline, and lets one challenge be open at a time", async function () {
    const { contributions, alice, bob, carol, filter, challenge } = await challenged(300);
    expect(challenge.challenger).to.equal(bob.address);
    expect(challenge.state).to.equal(OPEN);
    expect(challenge.filterHash).to.equal(filter.commitment);
    expect(challenge.liveCount).to.equal(BigInt(filter.count));
    expect(challenge.deadline - challenge.openedAt).to.equal(CHALLENGE_RESPONSE_WINDOW_SECONDS);
    await expect(contributions.connect(carol).challenge(alice.address, 1))
      .to.be.revertedWithCustomError(contributions, "ContributionRegistryChallengeOpen").withArgs(alice.address, 1, challenge.deadline);
  });

  it("refuses challenges from outsiders, of oneself, and of an empty or missing snapshot", async function () {
    const { contributions, alice, bob, outsider } = await loadFixture(consortiumFixture);
    const filter = filterOf(50);
    await contributions.connect(alice).publish(1, 1, filter.count, filter.commitment);
    await contributions.connect(alice).publish(2, 1, 0, `0x${"0".repeat(64)}`);
    const refusals: Array<[typeof alice, string, number]> = [[outsider, alice.address, 1], [alice, alice.address, 1], [bob, alice.address, 2], [bob, alice.address, 3]];
    for (const [who, provider, category] of refusals) {
      await expect(contributions.connect(who).challenge(provider, category), `${who.address} → ${category}`)
        .to.be.revertedWithCustomError(contributions, "ContributionRegistryCannotChallenge").withArgs(who.address, provider, category);
    }
  });

  it("refuses proofs that do not open the commitment: a changed chunk, a wrong length, a missing proof, another index", async function () {
    const { contributions, alice, filter, proofs } = await challenged(5_000);
    const send = (length: number, given: readonly ChunkProof[]) => contributions.connect(alice).answerChallenge(1, length, asCalldata(given));
    const spoiled = proofs.map((p, i) => (i === 2 ? { ...p, chunk: Uint8Array.from(p.chunk, (b, j) => (j === 7 ? b ^ 1 : b)) } : p));
    await expect(send(filter.bytes.length, spoiled)).to.be.revertedWithCustomError(contributions, "ContributionRegistryBadProof").withArgs(1, 2);
    await expect(send(filter.bytes.length + 2, proofs)).to.be.revertedWithCustomError(contributions, "ContributionRegistryBadProof");
    await expect(send(filter.bytes.length, proofs.slice(1))).to.be.revertedWithCustomError(contributions, "ContributionRegistryBadProof").withArgs(1, proofs.length - 1);
    const shifted = chunkProofs(filter.bytes, proofs.map((p) => (p.index + 1) % chunkCount(filter.bytes.length)));
    await expect(send(filter.bytes.length, shifted)).to.be.revertedWithCustomError(contributions, "ContributionRegistryBadProof").withArgs(1, 0);
  });

  it("refuses a filter whose header states another count than the snapshot: a commitment over fewer entries does not pass", async function () {
    const { contributions, alice, bob } = await loadFixture(consortiumFixture);
    const real = filterOf(200);
    // The provider claims 10,000 entries but committed to a filter of 200.
    await contributions.connect(alice).publish(1, 1, 10_000, real.commitment);
    await contributions.connect(bob).challenge(alice.address, 1);
    const challenge = await contributions.challengeOf(alice.address, 1);
    const proofs = chunkProofs(real.bytes, challengeChunks(challenge.seed, chunkCount(real.bytes.length)));
    await expect(contributions.connect(alice).answerChallenge(1, real.bytes.length, asCalldata(proofs)))
      .to.be.revertedWithCustomError(contributions, "ContributionRegistryBadHeader").withArgs(1);
  });

  it("an unanswered challenge expires after the window: the snapshot is unproven until the provider answers, even late", async function () {
    const { contributions, alice, carol, filter, proofs, challenge } = await challenged(1_000);
    await expect(contributions.connect(carol).expireChallenge(alice.address, 1))
      .to.be.revertedWithCustomError(contributions, "ContributionRegistryChallengeNotDue").withArgs(alice.address, 1, challenge.deadline);
    await time.increaseTo(challenge.deadline + 1n);
    await expect(contributions.connect(carol).expireChallenge(alice.address, 1))
      .to.emit(contributions, "ChallengeExpired").withArgs(alice.address, 1, filter.commitment);
    expect(await contributions.isUnproven(alice.address, 1)).to.equal(true);
    expect((await contributions.challengeOf(alice.address, 1)).state).to.equal(EXPIRED);
    await expect(contributions.connect(carol).expireChallenge(alice.address, 1))
      .to.be.revertedWithCustomError(contributions, "ContributionRegistryNoChallenge");
    await contributions.connect(alice).answerChallenge(1, filter.bytes.length, asCalldata(proofs));
    expect(await contributions.isUnproven(alice.address, 1)).to.equal(false);
    await expect(contributions.connect(alice).answerChallenge(1, filter.bytes.length, asCalldata(proofs)))
      .to.be.revertedWithCustomError(contributions, "ContributionRegistryNoChallenge").withArgs(alice.address, 1);
  });

  it("a new snapshot supersedes the challenge and clears the unproven mark; it can be challenged again", async function () {
    const { contributions, alice, bob, carol, challenge } = await challenged(100);
    await time.increaseTo(challenge.deadline + 1n);
    await contributions.connect(bob).expireChallenge(alice.address, 1);
    const next = filterOf(120);
    await expect(contributions.connect(alice).publish(1, 1, next.count, next.commitment))
      .to.emit(contributions, "ChallengeSuperseded").withArgs(alice.address, 1, challenge.filterHash);
    expect((await contributions.challengeOf(alice.address, 1)).state).to.equal(SUPERSEDED);
    expect(await contributions.isUnproven(alice.address, 1)).to.equal(false);
    await expect(contributions.connect(carol).challenge(alice.address, 1)).to.emit(contributions, "ChallengeOpened");
  });

  it("a challenger waits the cooldown before challenging the same provider and category again", async function () {
    const { contributions, alice, bob, filter, proofs, challenge } = await challenged(100);
    await contributions.connect(alice).answerChallenge(1, filter.bytes.length, asCalldata(proofs));
    const notBefore = challenge.openedAt + CHALLENGE_COOLDOWN_SECONDS;
    await expect(contributions.connect(bob).challenge(alice.address, 1))
      .to.be.revertedWithCustomError(contributions, "ContributionRegistryChallengeTooSoon").withArgs(alice.address, 1, notBefore);
    await time.increaseTo(notBefore);
    await expect(contributions.connect(bob).challenge(alice.address, 1)).to.emit(contributions, "ChallengeOpened");
  });

  it("an answer for a filter of 10^6 tags (2.3 MB, 2,250 chunks) costs under 350,000 gas: five chunks and their paths", async function () {
    const { contributions, alice, bob } = await loadFixture(consortiumFixture);
    const filter = filterOf(1_000_000);
    await contributions.connect(alice).publish(1, 1, filter.count, filter.commitment);
    await contributions.connect(bob).challenge(alice.address, 1);
    const challenge = await contributions.challengeOf(alice.address, 1);
    const proofs = chunkProofs(filter.bytes, challengeChunks(challenge.seed, chunkCount(filter.bytes.length)));
    const receipt = await (await contributions.connect(alice).answerChallenge(1, filter.bytes.length, asCalldata(proofs))).wait();
    expect(receipt!.gasUsed).to.be.lessThan(350_000n); // 275,830 measured: calldata (7 KiB) is most of it
  });

  it("refuses zero challenge parameters at deployment", async function () {
    const { registry } = await loadFixture(consortiumFixture);
    const factory = await ethers.getContractFactory("ContributionRegistry");
    await expect(factory.deploy(await registry.getAddress(), 0n, CHALLENGE_COOLDOWN_SECONDS)).to.be.revertedWithCustomError(factory, "ContributionRegistryInvalidChallengeParameters");
    await expect(factory.deploy(await registry.getAddress(), CHALLENGE_RESPONSE_WINDOW_SECONDS, 0n)).to.be.revertedWithCustomError(factory, "ContributionRegistryInvalidChallengeParameters");
  });
});
