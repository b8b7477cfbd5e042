import { expect } from "chai";
import { network } from "hardhat";
import { ZeroHash, hexlify, randomBytes } from "ethers";
import { ProposalKind } from "../../node/chain/governance.ts";
import { admitArgsFor, consortiumFixture, oprfKeyFor, passProposal, renouncedConsortiumFixture } from "./fixtures.ts";

const { networkHelpers } = await network.create();
const { loadFixture, time } = networkHelpers;

describe("ContributionRegistry", function () {
  it("points at its registry", async function () {
    const { contributions, registry } = await loadFixture(consortiumFixture);
    expect(await contributions.registry()).to.equal(await registry.getAddress());
  });

  it("stores an Active member's latest snapshot per category and emits each one", async function () {
    const { contributions, alice, outsider } = await loadFixture(consortiumFixture);
    const filterHash = hexlify(randomBytes(32));
    const tx = await contributions.connect(alice).publish(1, 1, 1_250, filterHash);
    const publishedAt = (await tx.getBlock())!.timestamp;
    await expect(tx).to.emit(contributions, "ContributionPublished").withArgs(alice.address, 1, 1, 1_250, filterHash, publishedAt);
    const snapshot = await contributions.connect(outsider).latest(alice.address, 1);
    expect([snapshot.liveCount, snapshot.filterHash, snapshot.keyEpoch, snapshot.publishedAt]).to.deep.equal([1_250n, filterHash, 1n, BigInt(publishedAt)]);
  });

  it("takes a snapshot only under the member's key epoch in force, before and after a rotation", async function () {
    const { registry, contributions, alice } = await loadFixture(renouncedConsortiumFixture);
    const filterHash = hexlify(randomBytes(32));
    for (const epoch of [0, 2]) {
      await expect(contributions.connect(alice).publish(1, epoch, 10, filterHash), `epoch ${epoch}`)
        .to.be.revertedWithCustomError(contributions, "ContributionRegistryWrongKeyEpoch")
        .withArgs(alice.address, 1, epoch);
    }
    await registry.connect(alice).rotateOprfKey(oprfKeyFor(alice.address, 2));
    await expect(contributions.connect(alice).publish(1, 1, 10, filterHash))
      .to.be.revertedWithCustomError(contributions, "ContributionRegistryWrongKeyEpoch")
      .withArgs(alice.address, 2, 1);
    await expect(contributions.connect(alice).publish(1, 2, 10, filterHash)).to.emit(contributions, "ContributionPublished");
    expect((await contributions.latest(alice.address, 1)).keyEpoch).to.equal(2n);
  });

  it("replaces the latest snapshot, while the events keep the history", async function () {
    const { contributions, alice } = await loadFixture(consortiumFixture);
    const roots = [hexlify(randomBytes(32)), hexlify(randomBytes(32))];
    await contributions.connect(alice).publish(2, 1, 100, roots[0]!);
    await time.increase(3600);
    await contributions.connect(alice).publish(2, 1, 90, roots[1]!);
    const snapshot = await contributions.latest(alice.address, 2);
    expect([snapshot.liveCount, snapshot.filterHash]).to.deep.equal([90n, roots[1]]);
    const history = await contributions.queryFilter(contributions.filters.ContributionPublished(alice.address, 2));
    expect(history.map((event) => [event.args.liveCount, event.args.filterHash])).to.deep.equal([[100n, roots[0]], [90n, roots[1]]]);
    expect(history[1]!.args.publishedAt - history[0]!.args.publishedAt).to.be.greaterThanOrEqual(3600n);
  });

  it("keeps members' snapshots apart: nobody publishes for another", async function () {
    const { contributions, alice, bob } = await loadFixture(consortiumFixture);
    const aliceRoot = hexlify(randomBytes(32));
    await contributions.connect(alice).publish(1, 1, 500, aliceRoot);
    await expect(contributions.connect(bob).publish(1, 1, 7, hexlify(randomBytes(32))))
      .to.emit(contributions, "ContributionPublished")
      .withArgs(bob.address, 1, 1, 7, (root: string) => root !== aliceRoot, (at: bigint) => at > 0n);
    const snapshot = await contributions.latest(alice.address, 1);
    expect([snapshot.liveCount, snapshot.filterHash]).to.deep.equal([500n, aliceRoot]);
    expect((await contributions.latest(bob.address, 1)).liveCount).to.equal(7n);
  });

  it("reads all zero where nothing was published", async function () {
    const { contributions, alice, outsider } = await loadFixture(consortiumFixture);
    const snapshot = await contributions.latest(outsider.address, 1);
    expect([snapshot.liveCount, snapshot.filterHash, snapshot.keyEpoch, snapshot.publishedAt]).to.deep.equal([0n, ZeroHash, 0n, 0n]);
    expect((await contributions.latest(alice.address, 63)).publishedAt).to.equal(0n);
  });

  it("accepts an empty list (count 0) as a snapshot", async function () {
    const { contributions, carol } = await loadFixture(consortiumFixture);
    await expect(contributions.connect(carol).publish(3, 1, 0, ZeroHash)).to.emit(contributions, "ContributionPublished");
  });

  it("refuses outsiders, members admitted but not yet in force, regulators, and members suspended by vote or removed", async function () {
    const { registry, contributions, alice, bob, carol, dave, erin, regulator, outsider } = await loadFixture(consortiumFixture);
    await passProposal(registry, [alice, bob, carol], ProposalKind.Admit, await admitArgsFor(registry, erin));
    await passProposal(registry, [alice, carol, dave], ProposalKind.Suspend, { account: bob.address });
    await passProposal(registry, [alice, carol, dave], ProposalKind.Remove, { account: dave.address });
    for (const [caller, who] of [[outsider, "outsider"], [erin, "admitted, not in force"], [regulator, "regulator"], [bob, "suspended by vote"], [dave, "removed"]] as const) {
      await expect(contributions.connect(caller).publish(1, 1, 10, hexlify(randomBytes(32))), who)
        .to.be.revertedWithCustomError(contributions, "ContributionRegistryNotActiveMember")
        .withArgs(caller.address);
    }
  });

  it("takes a snapshot from a member a regulator suspended: the suspension stops its lookups, not its contribution", async function () {
    const { registry, contributions, bob, regulator } = await loadFixture(consortiumFixture);
    await registry.connect(regulator).regulatorSuspend(bob.address, BigInt(await time.latest()) + 86_400n);
    await expect(contributions.connect(bob).publish(1, 1, 10, hexlify(randomBytes(32)))).to.emit(contributions, "ContributionPublished");
    expect((await contributions.latest(bob.address, 1)).liveCount).to.equal(10n);
  });

  it("refuses unknown and retired categories", async function () {
    const { registry, contributions, alice, bob, carol } = await loadFixture(consortiumFixture);
    await passProposal(registry, [alice, bob, carol], ProposalKind.RetireCategory, { categoryId: 2 });
    for (const categoryId of [0, 2, 4, 63, 255]) {
      await expect(contributions.connect(alice).publish(categoryId, 1, 10, hexlify(randomBytes(32))), `category ${categoryId}`)
        .to.be.revertedWithCustomError(contributions, "ContributionRegistryCategoryInactive")
        .withArgs(categoryId);
    }
  });

  describe("plausibility: a snapshot that cannot be true is refused", function () {
    it("refuses the 2^64-1 count with a zero filter hash (an unbounded quota for nothing)", async function () {
      const { contributions, alice } = await loadFixture(consortiumFixture);
      const max = 2n ** 64n - 1n;
      await expect(contributions.connect(alice).publish(1, 1, max, ZeroHash))
        .to.be.revertedWithCustomError(contributions, "ContributionRegistryCountTooLarge")
        .withArgs(max, 2n ** 32n);
      expect((await contributions.latest(alice.address, 1)).liveCount).to.equal(0n);
    });

    it("refuses a count above the 2^32 ceiling, even with a filter hash, and takes the ceiling itself", async function () {
      const { contributions, alice } = await loadFixture(consortiumFixture);
      expect(await contributions.MAX_LIVE_COUNT()).to.equal(2n ** 32n);
      const filterHash = hexlify(randomBytes(32));
      await expect(contributions.connect(alice).publish(1, 1, 2n ** 32n + 1n, filterHash))
        .to.be.revertedWithCustomError(contributions, "ContributionRegistryCountTooLarge")
        .withArgs(2n ** 32n + 1n, 2n ** 32n);
      await expect(contributions.connect(alice).publish(1, 1, 2n ** 32n, filterHash)).to.emit(contributions, "ContributionPublished");
    });

    it("refuses entries without a filter hash", async function () {
      const { contributions, alice } = await loadFixture(consortiumFixture);
      await expect(contributions.connect(alice).publish(1, 1, 10, ZeroHash))
        .to.be.revertedWithCustomError(contributions, "ContributionRegistryCountWithoutFilter")
        .withArgs(10);
    });

    it("refuses a filter hash with a zero count: an empty list publishes (0, zero hash)", async function () {
      const { contributions, alice } = await loadFixture(consortiumFixture);
      const filterHash = hexlify(randomBytes(32));
      await expect(contributions.connect(alice).publish(1, 1, 0, filterHash))
        .to.be.revertedWithCustomError(contributions, "ContributionRegistryFilterWithoutCount")
        .withArgs(filterHash);
      await expect(contributions.connect(alice).publish(1, 1, 0, ZeroHash)).to.emit(contributions, "ContributionPublished");
    });
  });
});
