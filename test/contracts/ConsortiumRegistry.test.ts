import { expect } from "chai";
import { network } from "hardhat";
import { AbiCoder, ZeroAddress, ZeroHash, concat, id as keccakOfText } from "ethers";
import {
  MemberStatus,
  ProposalKind,
  ProposalStatus,
  decodeProposalPayload,
  encodeProposalPayload,
} from "../../node/chain/governance.ts";
import {
  ADMISSION_DELAY_SECONDS,
  CATEGORY_NAMES,
  HOLDS_ARGS,
  LEDGER_ARGS,
  MAX_OPEN_PROPOSALS,
  MAX_REGULATOR_SUSPENSION_SECONDS,
  POLICY,
  REGISTRY_ARGS,
  REGULATOR_COOLDOWN_SECONDS,
  SEED_WINDOW_SECONDS,
  TIMELOCK_DELAY_SECONDS,
  VOTING_PERIOD_SECONDS,
  advanceTime,
  admitArgsFor,
  admitMember,
  consortiumFixture,
  deployRegistry,
  nameFor,
  oprfKeyFor,
  passProposal,
  peerIdFor,
  propose,
  renouncedConsortiumFixture,
  registryFactory,
  regulatorSuspend,
  sendProposal,
  CONTRIBUTION_ARGS,
} from "./fixtures.ts";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const { loadFixture, time } = networkHelpers;

const abi = AbiCoder.defaultAbiCoder();

/** The ABI types of an Admit payload, for hand-made payloads the TypeScript encoder would refuse. */
const ADMIT_TYPES = ["address", "string", "bytes", "bytes32", "bytes", "bytes"];

/** An Admit's arguments in payload order. */
function admitValues(args: Awaited<ReturnType<typeof admitArgsFor>>): unknown[] {
  return [args.account, args.name, args.peerId, args.oprfKey, args.publicKey, args.signature];
}

/** A SetKeyEpochLength payload that differs from the default (90 days). */
const ONE_DAY = { keyEpochLengthSeconds: 86_400n } as const;
const NINETY_DAYS = 90n * 86_400n;

/** A policy that differs from the fixture's. */
const OTHER_POLICY = { minEntries: 50n, maxSnapshotAge: 24n * 3600n, quotaBase: 200n, quotaRatioBps: 10_000n, quotaCeiling: 50_000n };

describe("ConsortiumRegistry", function () {
  describe("deployment", function () {
    it("starts with the admin, the quorum, the voting period and a 90-day key epoch length, and says so in events", async function () {
      const [admin] = await ethers.getSigners();
      const registry = await deployRegistry({ ethers }, admin!.address);
      const deployment = registry.deploymentTransaction();
      await expect(deployment).to.emit(registry, "AdminTransferred").withArgs(ZeroAddress, admin!.address);
      await expect(deployment).to.emit(registry, "QuorumSet").withArgs(2, 3);
      await expect(deployment).to.emit(registry, "KeyEpochLengthSet").withArgs(NINETY_DAYS);
      expect(await registry.admin()).to.equal(admin!.address);
      expect(await registry.quorumFraction()).to.deep.equal([2n, 3n]);
      expect(await registry.votingPeriod()).to.equal(VOTING_PERIOD_SECONDS);
      expect(await registry.governanceLimits()).to.deep.equal([MAX_REGULATOR_SUSPENSION_SECONDS, REGULATOR_COOLDOWN_SECONDS, BigInt(MAX_OPEN_PROPOSALS)]);
      expect(await registry.keyEpochLength()).to.equal(NINETY_DAYS);
      expect(await registry.admissionDelay()).to.equal(ADMISSION_DELAY_SECONDS);
      expect(await registry.memberCount()).to.equal(0n);
      expect(await registry.activeMemberCount()).to.equal(0n);
      expect(await registry.categoryCount()).to.equal(0n);
      expect(await registry.proposalCount()).to.equal(0n);
      expect(await registry.regulators()).to.deep.equal([]);
    });

    it("refuses a zero admin, a quorum outside (1/2, 3/4], a zero voting period and zero limits", async function () {
      const [admin] = await ethers.getSigners();
      const factory = await registryFactory({ ethers });
      const [, , period, suspension, cooldown, open, delay, window, admission] = REGISTRY_ARGS;
      await expect(factory.deploy(ZeroAddress, ...REGISTRY_ARGS))
        .to.be.revertedWithCustomError(factory, "ConsortiumRegistryInvalidAddress")
        .withArgs(ZeroAddress);
      for (const [numerator, denominator] of [[0, 3], [4, 3], [1, 0], [0, 0], [1, 2], [1, 255], [4, 5], [3, 3], [32_767, 65_534], [49_152, 65_535]] as const) {
        await expect(factory.deploy(admin!.address, numerator, denominator, period, suspension, cooldown, open, delay, window, admission, ...HOLDS_ARGS), `${numerator}/${denominator}`)
          .to.be.revertedWithCustomError(factory, "ConsortiumRegistryInvalidQuorum")
          .withArgs(numerator, denominator);
      }
      for (const [numerator, denominator] of [[2, 3], [3, 4], [7, 10], [51, 100]] as const) {
        await expect(factory.deploy(admin!.address, numerator, denominator, period, suspension, cooldown, open, delay, window, admission, ...HOLDS_ARGS), `${numerator}/${denominator}`).not.to.revert(ethers);
      }
      await expect(factory.deploy(admin!.address, 2, 3, 0, suspension, cooldown, open, delay, window, admission, ...HOLDS_ARGS))
        .to.be.revertedWithCustomError(factory, "ConsortiumRegistryInvalidVotingPeriod")
        .withArgs(0);
      for (const limits of [[0n, cooldown, open, admission], [suspension, 0n, open, admission], [suspension, cooldown, 0, admission], [suspension, cooldown, open, 0n]] as const) {
        await expect(factory.deploy(admin!.address, 2, 3, period, limits[0], limits[1], limits[2], delay, window, limits[3], ...HOLDS_ARGS), limits.join("/"))
          .to.be.revertedWithCustomError(factory, "ConsortiumRegistryInvalidGovernanceLimits");
      }
      const [maxPause, pauseCooldown, dormancy] = HOLDS_ARGS;
      // A zero pause or dormancy period, and a pause cooldown shorter than the longest pause (pauses could chain).
      for (const holds of [[0n, pauseCooldown, dormancy], [maxPause, maxPause - 1n, dormancy], [maxPause, pauseCooldown, 0n]] as const) {
        await expect(factory.deploy(admin!.address, 2, 3, period, suspension, cooldown, open, delay, window, admission, holds[0], holds[1], holds[2]), holds.join("/"))
          .to.be.revertedWithCustomError(factory, "ConsortiumRegistryInvalidGovernanceLimits");
      }
    });
  });

  describe("bootstrap by the admin", function () {
    it("seeds founding members straight to Active, findable by address, PeerId and index", async function () {
      const { registry, alice, dave } = await loadFixture(consortiumFixture);
      const record = await registry.member(alice.address);
      expect(record.account).to.equal(alice.address);
      expect(record.name).to.equal(nameFor("alice"));
      expect(record.peerId).to.equal(peerIdFor(alice.address));
      expect(record.status).to.equal(MemberStatus.Active);
      expect(record.joinedAt).to.be.greaterThan(0n);
      expect((await registry.memberByPeerId(peerIdFor(dave.address))).account).to.equal(dave.address);
      expect(await registry.memberCount()).to.equal(4n);
      expect(await registry.activeMemberCount()).to.equal(4n);
      expect((await registry.memberAt(3)).account).to.equal(dave.address);
      expect(await registry.isActiveMember(alice.address)).to.equal(true);
      expect(await registry.hasRole(await registry.MEMBER_ROLE(), alice.address)).to.equal(true);
    });

    it("emits MemberActivated with joinedAt set to the block time", async function () {
      const { registry, erin } = await loadFixture(consortiumFixture);
      const peerId = peerIdFor(erin.address);
      await expect(registry.seedMember(erin.address, "Erin Pay", peerId, oprfKeyFor(erin.address)))
        .to.emit(registry, "MemberActivated")
        .withArgs(erin.address, "Erin Pay", peerId, oprfKeyFor(erin.address), 1);
      const record = await registry.member(erin.address);
      expect(record.joinedAt).to.equal(BigInt(await time.latest()));
      expect([record.oprfKey, record.keyEpoch, record.keyRotatedAt]).to.deep.equal([oprfKeyFor(erin.address), 1n, record.joinedAt]);
      expect(await registry.oprfKeyOf(erin.address, 1)).to.equal(oprfKeyFor(erin.address));
      expect(await registry.keyEpochOf(erin.address)).to.equal(1n);
    });

    it("refuses to seed a member that is invalid, known, a regulator, or whose PeerId is taken", async function () {
      const { registry, alice, erin, regulator } = await loadFixture(consortiumFixture);
      const peerId = peerIdFor(erin.address);
      await expect(registry.connect(alice).seedMember(erin.address, "Erin", peerId, oprfKeyFor(erin.address)))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotAdmin")
        .withArgs(alice.address);
      await expect(registry.seedMember(ZeroAddress, "Erin", peerId, oprfKeyFor(ZeroAddress)))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidAddress")
        .withArgs(ZeroAddress);
      await expect(registry.seedMember(alice.address, "Alice again", peerId, oprfKeyFor(alice.address)))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryMemberExists")
        .withArgs(alice.address, MemberStatus.Active);
      await expect(registry.seedMember(regulator.address, "Regulator", peerId, oprfKeyFor(regulator.address)))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryRegulatorExists")
        .withArgs(regulator.address);
      for (const name of ["", "x".repeat(129)]) {
        await expect(registry.seedMember(erin.address, name, peerId, oprfKeyFor(erin.address)), `name of ${name.length} bytes`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidName");
      }
      for (const badPeerId of ["0x", concat([peerId, peerId])]) {
        await expect(registry.seedMember(erin.address, "Erin", badPeerId, oprfKeyFor(erin.address)), `PeerId ${badPeerId.length} chars`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidPeerId");
      }
      const alicePeerId = peerIdFor(alice.address);
      await expect(registry.seedMember(erin.address, "Erin", peerId, ZeroHash))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidOprfKey");
      await expect(registry.seedMember(erin.address, "Erin", alicePeerId, oprfKeyFor(erin.address)))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryPeerIdTaken")
        .withArgs(alicePeerId);
      // 128 bytes of UTF-8 is the longest name (here 42 three-byte characters and 2 ASCII).
      await expect(registry.seedMember(erin.address, "银".repeat(42) + "ab", peerId, oprfKeyFor(erin.address))).to.emit(registry, "MemberActivated");
    });

    it("seeds regulators, who are not members", async function () {
      const { registry, erin, regulator } = await loadFixture(consortiumFixture);
      await expect(registry.seedRegulator(erin.address)).to.emit(registry, "RegulatorAdded").withArgs(erin.address);
      expect(await registry.regulators()).to.deep.equal([regulator.address, erin.address]);
      expect(await registry.isRegulator(erin.address)).to.equal(true);
      expect(await registry.hasRole(await registry.REGULATOR_ROLE(), erin.address)).to.equal(true);
      expect(await registry.hasRole(await registry.MEMBER_ROLE(), erin.address)).to.equal(false);
    });

    it("refuses to seed a regulator that is invalid, already one, or a member", async function () {
      const { registry, alice, erin, regulator } = await loadFixture(consortiumFixture);
      await expect(registry.connect(alice).seedRegulator(erin.address))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotAdmin")
        .withArgs(alice.address);
      await expect(registry.seedRegulator(ZeroAddress))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidAddress")
        .withArgs(ZeroAddress);
      await expect(registry.seedRegulator(regulator.address))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryRegulatorExists")
        .withArgs(regulator.address);
      await expect(registry.seedRegulator(alice.address))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryMemberExists")
        .withArgs(alice.address, MemberStatus.Active);
    });

    it("seeds categories with sequential ids and unique names", async function () {
      const { registry, alice } = await loadFixture(consortiumFixture);
      expect(await registry.categoryCount()).to.equal(3n);
      for (const [index, name] of CATEGORY_NAMES.entries()) {
        const category = await registry.category(index + 1);
        expect([category.id, category.name, category.active], name).to.deep.equal([BigInt(index + 1), name, true]);
      }
      expect(await registry.seedCategory.staticCall("gambling_merchant")).to.equal(4n);
      await expect(registry.seedCategory("gambling_merchant")).to.emit(registry, "CategoryAdded").withArgs(4, "gambling_merchant");
      await expect(registry.connect(alice).seedCategory("other"))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotAdmin")
        .withArgs(alice.address);
      await expect(registry.seedCategory("money_mule"))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryExists")
        .withArgs(2);
      await expect(registry.seedCategory("")).to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidName");
    });

    it("stops at 63 categories, because queries carry a uint64 bitmask", async function () {
      const { registry } = await loadFixture(consortiumFixture);
      for (let id = 4; id <= 63; id++) await registry.seedCategory(`category_${id}`);
      expect(await registry.categoryCount()).to.equal(63n);
      await expect(registry.seedCategory("category_64")).to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryLimit");
    });

    it("seeds policies, and emits nothing when the policy does not change", async function () {
      const { registry } = await loadFixture(consortiumFixture);
      expect(await registry.policy(1)).to.deep.equal(Object.values(POLICY));
      await expect(registry.seedPolicy(2, OTHER_POLICY)).to.emit(registry, "PolicySet").withArgs(2, Object.values(OTHER_POLICY));
      expect(await registry.policy(2)).to.deep.equal(Object.values(OTHER_POLICY));
      await expect(registry.seedPolicy(2, OTHER_POLICY)).not.to.emit(registry, "PolicySet");
    });

    it("seeds the warninglist hash (none at deployment), refuses zero, and emits nothing when it does not change", async function () {
      const { registry, alice } = await loadFixture(consortiumFixture);
      expect(await registry.warninglistHash()).to.equal(ZeroHash);
      const hash = keccakOfText("warninglists v1");
      await expect(registry.seedWarninglistHash(hash)).to.emit(registry, "WarninglistHashSet").withArgs(hash);
      expect(await registry.warninglistHash()).to.equal(hash);
      await expect(registry.seedWarninglistHash(hash)).not.to.emit(registry, "WarninglistHashSet");
      await expect(registry.seedWarninglistHash(ZeroHash)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidWarninglistHash");
      await expect(registry.connect(alice).seedWarninglistHash(hash)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotAdmin");
    });

    it("refuses a policy for an unknown category, or one that admits nobody", async function () {
      const { registry, alice } = await loadFixture(consortiumFixture);
      await expect(registry.connect(alice).seedPolicy(1, POLICY))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotAdmin")
        .withArgs(alice.address);
      for (const categoryId of [0, 4, 255]) {
        await expect(registry.seedPolicy(categoryId, POLICY), `category ${categoryId}`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryUnknown")
          .withArgs(categoryId);
      }
      await expect(registry.seedPolicy(1, { ...POLICY, maxSnapshotAge: 0n }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidPolicy")
        .withArgs(1);
      await expect(registry.seedPolicy(1, { ...POLICY, quotaBase: 0n, quotaRatioBps: 0n }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidPolicy")
        .withArgs(1);
      // A quota needs a ceiling, at least its base: nothing a snapshot claims buys more.
      for (const quotaCeiling of [0n, POLICY.quotaBase - 1n]) {
        await expect(registry.seedPolicy(1, { ...POLICY, quotaCeiling }), `ceiling ${quotaCeiling}`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidPolicy")
          .withArgs(1);
      }
      await registry.seedPolicy(1, { ...POLICY, quotaCeiling: POLICY.quotaBase });
      expect((await registry.policy(1)).quotaCeiling).to.equal(POLICY.quotaBase);
    });

    it("transfers the admin role in two steps: the nominee accepts, the new admin seeds, the old one no longer can", async function () {
      const { registry, admin, alice, erin } = await loadFixture(consortiumFixture);
      await expect(registry.transferAdmin(alice.address)).to.emit(registry, "AdminTransferStarted").withArgs(admin.address, alice.address)
        .and.not.to.emit(registry, "AdminTransferred");
      expect(await registry.admin()).to.equal(admin.address);
      expect(await registry.pendingAdmin()).to.equal(alice.address);
      await expect(registry.connect(alice).acceptAdmin()).to.emit(registry, "AdminTransferred").withArgs(admin.address, alice.address);
      expect(await registry.admin()).to.equal(alice.address);
      expect(await registry.pendingAdmin()).to.equal(ZeroAddress);
      expect(await registry.hasRole(await registry.ADMIN_ROLE(), alice.address)).to.equal(true);
      expect(await registry.hasRole(await registry.ADMIN_ROLE(), admin.address)).to.equal(false);
      await expect(registry.seedRegulator(erin.address))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotAdmin")
        .withArgs(admin.address);
      await expect(registry.connect(alice).seedRegulator(erin.address)).to.emit(registry, "RegulatorAdded");
      await expect(registry.transferAdmin(admin.address))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotAdmin")
        .withArgs(admin.address);
      await expect(registry.renounceAdmin())
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotAdmin")
        .withArgs(admin.address);
    });

    it("lets only the nominee accept; the admin renominates or withdraws, and renouncing withdraws too", async function () {
      const { registry, admin, alice, bob, outsider } = await loadFixture(consortiumFixture);
      await expect(registry.connect(alice).acceptAdmin())
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotPendingAdmin")
        .withArgs(alice.address);
      await registry.transferAdmin(alice.address);
      await expect(registry.transferAdmin(alice.address)).not.to.emit(registry, "AdminTransferStarted");
      for (const other of [outsider, bob, admin]) {
        await expect(registry.connect(other).acceptAdmin(), other.address)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotPendingAdmin")
          .withArgs(other.address);
      }
      await expect(registry.connect(alice).transferAdmin(bob.address))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotAdmin")
        .withArgs(alice.address);
      // Renominating replaces the nominee; the zero address withdraws the nomination.
      await expect(registry.transferAdmin(bob.address)).to.emit(registry, "AdminTransferStarted").withArgs(admin.address, bob.address);
      await expect(registry.connect(alice).acceptAdmin()).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotPendingAdmin");
      await expect(registry.transferAdmin(ZeroAddress)).to.emit(registry, "AdminTransferStarted").withArgs(admin.address, ZeroAddress);
      await expect(registry.connect(bob).acceptAdmin()).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotPendingAdmin");
      await registry.transferAdmin(bob.address);
      await registry.renounceAdmin();
      expect(await registry.pendingAdmin()).to.equal(ZeroAddress);
      await expect(registry.connect(bob).acceptAdmin())
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotPendingAdmin")
        .withArgs(bob.address);
      expect(await registry.admin()).to.equal(ZeroAddress);
    });

    it("ends seeding for good once a proposal executed, even an Admit (executed, not yet in force)", async function () {
      const { registry, alice, bob, carol, erin, frank } = await loadFixture(consortiumFixture);
      expect(await registry.seedingEndsAt()).to.be.greaterThan(0n);
      await passProposal(registry, [alice, bob, carol], ProposalKind.Admit, await admitArgsFor(registry, erin, "Erin"));
      expect(await registry.seedingEndsAt()).to.equal(0n);
      const seeds = {
        seedMember: () => registry.seedMember(frank.address, "Frank", peerIdFor(frank.address), oprfKeyFor(frank.address)),
        seedRegulator: () => registry.seedRegulator(frank.address),
        seedCategory: () => registry.seedCategory("late_category"),
        seedPolicy: () => registry.seedPolicy(1, POLICY),
        seedWarninglistHash: () => registry.seedWarninglistHash(keccakOfText("late lists")),
        seedCompanions: () => registry.seedCompanions(alice.address, bob.address),
      };
      for (const [name, seed] of Object.entries(seeds)) {
        await expect(seed(), name).to.be.revertedWithCustomError(registry, "ConsortiumRegistrySeedingClosed");
      }
      // The admin keeps only what does not seed: handing the role over and renouncing.
      await expect(registry.renounceAdmin()).to.emit(registry, "AdminTransferred");
    });

    it("ends seeding once the seeding window after deployment is over", async function () {
      const { registry, admin, frank } = await loadFixture(consortiumFixture);
      const deployedAt = (await ethers.provider.getBlock((await registry.deploymentTransaction()!.wait())!.blockNumber))!.timestamp;
      expect(await registry.seedingEndsAt()).to.equal(BigInt(deployedAt) + SEED_WINDOW_SECONDS);
      await time.increaseTo(BigInt(deployedAt) + SEED_WINDOW_SECONDS - 2n);
      await expect(registry.seedCategory("last_minute")).to.emit(registry, "CategoryAdded");
      await time.increaseTo(BigInt(deployedAt) + SEED_WINDOW_SECONDS);
      await expect(registry.seedCategory("too_late")).to.be.revertedWithCustomError(registry, "ConsortiumRegistrySeedingClosed");
      await expect(registry.seedMember(frank.address, "Frank", peerIdFor(frank.address), oprfKeyFor(frank.address)))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistrySeedingClosed");
      await expect(registry.seedRegulator(frank.address)).to.be.revertedWithCustomError(registry, "ConsortiumRegistrySeedingClosed");
      // The window is the admin's only: members still vote as before.
      expect(await registry.admin()).to.equal(admin.address);
    });

    it("once the admin renounced, every bootstrap call reverts and only votes change the registry", async function () {
      const { registry, contributions, ledger, admin, alice, bob, carol, erin } = await loadFixture(consortiumFixture);
      await expect(registry.renounceAdmin()).to.emit(registry, "AdminTransferred").withArgs(admin.address, ZeroAddress);
      expect(await registry.admin()).to.equal(ZeroAddress);
      expect(await registry.hasRole(await registry.ADMIN_ROLE(), ZeroAddress)).to.equal(false);
      const renounced = "ConsortiumRegistryAdminRenounced";
      for (const caller of [admin, alice]) {
        const r = registry.connect(caller);
        await expect(r.seedMember(erin.address, "Erin", peerIdFor(erin.address), oprfKeyFor(erin.address))).to.be.revertedWithCustomError(registry, renounced);
        await expect(r.seedRegulator(erin.address)).to.be.revertedWithCustomError(registry, renounced);
        await expect(r.seedCategory("new")).to.be.revertedWithCustomError(registry, renounced);
        await expect(r.seedPolicy(1, OTHER_POLICY)).to.be.revertedWithCustomError(registry, renounced);
        await expect(r.seedWarninglistHash(keccakOfText("lists"))).to.be.revertedWithCustomError(registry, renounced);
        await expect(r.seedCompanions(contributions, ledger)).to.be.revertedWithCustomError(registry, renounced);
        await expect(r.transferAdmin(caller.address)).to.be.revertedWithCustomError(registry, renounced);
        await expect(r.renounceAdmin()).to.be.revertedWithCustomError(registry, renounced);
      }
      await passProposal(registry, [alice, bob, carol], ProposalKind.SetPolicy, { categoryId: 1, policy: OTHER_POLICY });
      expect(await registry.policy(1)).to.deep.equal(Object.values(OTHER_POLICY));
    });
  });

  describe("companion contracts", function () {
    it("are unknown until the admin names them, so a reader needs only the registry's address after", async function () {
      const { registry, contributions, ledger } = await loadFixture(consortiumFixture);
      expect([await registry.contributions(), await registry.ledger()]).to.deep.equal([ZeroAddress, ZeroAddress]);
      const [contributionsAddress, ledgerAddress] = [await contributions.getAddress(), await ledger.getAddress()];
      await expect(registry.seedCompanions(contributionsAddress, ledgerAddress))
        .to.emit(registry, "CompanionsSet")
        .withArgs(contributionsAddress, ledgerAddress);
      expect(await registry.contributions()).to.equal(contributionsAddress);
      expect(await registry.ledger()).to.equal(ledgerAddress);
    });

    it("are named once for the consortium's life", async function () {
      const { registry, contributions, ledger } = await loadFixture(consortiumFixture);
      const [contributionsAddress, ledgerAddress] = [await contributions.getAddress(), await ledger.getAddress()];
      await registry.seedCompanions(contributionsAddress, ledgerAddress);
      await expect(registry.seedCompanions(contributionsAddress, ledgerAddress))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryCompanionsAlreadySet")
        .withArgs(contributionsAddress, ledgerAddress);
    });

    it("are named by the admin only", async function () {
      const { registry, contributions, ledger, alice, regulator } = await loadFixture(consortiumFixture);
      for (const caller of [alice, regulator]) {
        await expect(registry.connect(caller).seedCompanions(contributions, ledger), caller.address)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotAdmin")
          .withArgs(caller.address);
      }
    });

    it("refuse zero addresses", async function () {
      const { registry, contributions, ledger } = await loadFixture(consortiumFixture);
      await expect(registry.seedCompanions(ZeroAddress, ledger))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidAddress")
        .withArgs(ZeroAddress);
      await expect(registry.seedCompanions(contributions, ZeroAddress))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidAddress")
        .withArgs(ZeroAddress);
    });

    it("refuse contracts bound to another registry", async function () {
      const { registry, contributions, ledger, admin } = await loadFixture(consortiumFixture);
      const other = await deployRegistry({ ethers }, admin.address);
      const foreignContributions = await ethers.deployContract("ContributionRegistry", [await other.getAddress(), ...CONTRIBUTION_ARGS]);
      const foreignLedger = await ethers.deployContract("QueryLedger", [await other.getAddress(), ...LEDGER_ARGS]);
      await expect(registry.seedCompanions(foreignContributions, ledger))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotCompanion")
        .withArgs(await foreignContributions.getAddress());
      await expect(registry.seedCompanions(contributions, foreignLedger))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotCompanion")
        .withArgs(await foreignLedger.getAddress());
    });

    it("refuse accounts without code, other contracts, and the two companions swapped", async function () {
      const { registry, contributions, ledger, outsider } = await loadFixture(consortiumFixture);
      const [contributionsAddress, ledgerAddress] = [await contributions.getAddress(), await ledger.getAddress()];
      const registryAddress = await registry.getAddress();
      const cases: [string, string, string, string][] = [
        ["an account without code", outsider.address, ledgerAddress, outsider.address],
        ["a contract without registry()", contributionsAddress, registryAddress, registryAddress],
        ["the ledger as contributions", ledgerAddress, contributionsAddress, ledgerAddress],
        ["the contributions as ledger", contributionsAddress, contributionsAddress, contributionsAddress],
      ];
      for (const [label, contributionsArg, ledgerArg, refused] of cases) {
        await expect(registry.seedCompanions(contributionsArg, ledgerArg), label)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotCompanion")
          .withArgs(refused);
      }
      expect([await registry.contributions(), await registry.ledger()]).to.deep.equal([ZeroAddress, ZeroAddress]);
    });
  });

  describe("views", function () {
    it("return an empty record for unknown accounts and PeerIds", async function () {
      const { registry, outsider } = await loadFixture(consortiumFixture);
      const record = await registry.member(outsider.address);
      expect([record.account, record.name, record.peerId, record.status, record.joinedAt]).to.deep.equal([
        ZeroAddress, "", "0x", BigInt(MemberStatus.None), 0n,
      ]);
      expect((await registry.memberByPeerId(peerIdFor(outsider.address))).status).to.equal(MemberStatus.None);
      expect(await registry.isActiveMember(outsider.address)).to.equal(false);
      expect(await registry.isRegulator(outsider.address)).to.equal(false);
      expect(await registry.hasRole(keccakOfText("OTHER_ROLE"), outsider.address)).to.equal(false);
      expect(await registry.hasVoted(1, outsider.address)).to.equal(false);
      expect(await registry.isActiveCategory(0)).to.equal(false);
      expect(await registry.isActiveCategory(9)).to.equal(false);
    });

    it("revert with a custom error for an index, category or proposal out of range", async function () {
      const { registry } = await loadFixture(consortiumFixture);
      await expect(registry.memberAt(4)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryIndexOutOfRange").withArgs(4, 4);
      await expect(registry.category(0)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryUnknown").withArgs(0);
      await expect(registry.category(4)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryUnknown").withArgs(4);
      await expect(registry.policy(4)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryUnknown").withArgs(4);
      await expect(registry.proposal(0)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryProposalUnknown").withArgs(0);
      await expect(registry.proposal(1)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryProposalUnknown").withArgs(1);
    });

    it("name the roles as keccak256 of their names", async function () {
      const { registry } = await loadFixture(consortiumFixture);
      expect(await registry.MEMBER_ROLE()).to.equal(keccakOfText("MEMBER_ROLE"));
      expect(await registry.REGULATOR_ROLE()).to.equal(keccakOfText("REGULATOR_ROLE"));
      expect(await registry.ADMIN_ROLE()).to.equal(keccakOfText("ADMIN_ROLE"));
    });
  });

  describe("admission by vote", function () {
    it("holds the candidate's data in the proposal only, and counts the proposer's vote", async function () {
      const { registry, alice, erin } = await loadFixture(renouncedConsortiumFixture);
      const args = await admitArgsFor(registry, erin, "Erin Pay");
      const payload = encodeProposalPayload(ProposalKind.Admit, args);
      const tx = await registry.connect(alice).propose(ProposalKind.Admit, payload);
      const expiresAt = BigInt((await tx.getBlock())!.timestamp) + VOTING_PERIOD_SECONDS;
      await expect(tx).to.emit(registry, "ProposalCreated").withArgs(1, ProposalKind.Admit, alice.address, expiresAt, 3, payload);
      await expect(tx).to.emit(registry, "Voted").withArgs(1, alice.address, 1);

      // No member record, no PeerId binding, no key until the admission executes.
      const record = await registry.member(erin.address);
      expect([record.status, record.joinedAt, record.keyEpoch, record.oprfKey]).to.deep.equal([BigInt(MemberStatus.None), 0n, 0n, ZeroHash]);
      expect(await registry.oprfKeyOf(erin.address, 1)).to.equal(ZeroHash);
      expect((await registry.memberByPeerId(args.peerId)).account).to.equal(ZeroAddress);
      expect(await registry.memberCount()).to.equal(4n);
      expect(await registry.activeMemberCount()).to.equal(4n);
      expect(await registry.isActiveMember(erin.address)).to.equal(false);
      expect(await registry.hasVoted(1, alice.address)).to.equal(true);

      const proposal = await registry.proposal(1);
      expect(proposal.kind).to.equal(ProposalKind.Admit);
      expect(proposal.proposer).to.equal(alice.address);
      expect(proposal.expiresAt - proposal.createdAt).to.equal(VOTING_PERIOD_SECONDS);
      expect([proposal.quorum, proposal.votes, proposal.electorate, proposal.executed]).to.deep.equal([3n, 1n, 4n, false]);
      expect(decodeProposalPayload(ProposalKind.Admit, proposal.payload)).to.deep.equal(args);
      expect(await registry.proposalCount()).to.equal(1n);
    });

    it("makes the candidate Admitted once a quorum voted and anyone executes, and Active when anyone activates it after the delay", async function () {
      const { registry, alice, bob, carol, erin, outsider } = await loadFixture(renouncedConsortiumFixture);
      const args = await admitArgsFor(registry, erin, "Erin Pay");
      const proposalId = await propose(registry, alice, ProposalKind.Admit, args);
      await expect(registry.connect(bob).vote(proposalId)).to.emit(registry, "Voted").withArgs(proposalId, bob.address, 2);
      await expect(registry.connect(carol).vote(proposalId)).to.emit(registry, "Voted").withArgs(proposalId, carol.address, 3);
      const tx = registry.connect(outsider).execute(proposalId);
      const activeFrom = BigInt(await time.latest()) + 1n + ADMISSION_DELAY_SECONDS;
      await expect(tx).to.emit(registry, "MemberAdmitted").withArgs(erin.address, activeFrom);
      await expect(tx).to.emit(registry, "ProposalExecuted").withArgs(proposalId);
      await expect(tx).not.to.emit(registry, "MemberActivated");
      expect((await registry.member(erin.address)).status).to.equal(MemberStatus.Admitted);
      expect(await registry.admissionActiveFrom(erin.address)).to.equal(activeFrom);

      await time.increaseTo(activeFrom);
      await expect(registry.connect(outsider).activate(erin.address))
        .to.emit(registry, "MemberActivated").withArgs(erin.address, "Erin Pay", args.peerId, oprfKeyFor(erin.address), 1);
      const record = await registry.member(erin.address);
      expect(record.status).to.equal(MemberStatus.Active);
      expect(record.joinedAt).to.equal(BigInt(await time.latest()));
      expect([record.keyEpoch, record.keyRotatedAt]).to.deep.equal([1n, record.joinedAt]);
      expect(await registry.oprfKeyOf(erin.address, 1)).to.equal(oprfKeyFor(erin.address));
      expect(await registry.activeMemberCount()).to.equal(5n);
      expect(await registry.admissionActiveFrom(erin.address)).to.equal(0n);
      expect((await registry.proposal(proposalId)).executed).to.equal(true);
      // The new member takes part in governance once in force.
      await expect(sendProposal(registry, erin, ProposalKind.SetKeyEpochLength, ONE_DAY)).to.emit(registry, "ProposalCreated");
    });

    it("refuses to propose a known account, a regulator, or invalid fields", async function () {
      const { registry, alice, bob, erin, regulator } = await loadFixture(renouncedConsortiumFixture);
      await expect(sendProposal(registry, alice, ProposalKind.Admit, await admitArgsFor(registry, bob, "Bob again")))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryMemberExists")
        .withArgs(bob.address, MemberStatus.Active);
      await expect(sendProposal(registry, alice, ProposalKind.Admit, await admitArgsFor(registry, regulator, "Regulator")))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryRegulatorExists")
        .withArgs(regulator.address);
      const args = await admitArgsFor(registry, erin);
      // The candidate's own key must hash to the account: the zero address has no key.
      await expect(sendProposal(registry, alice, ProposalKind.Admit, { ...args, account: ZeroAddress }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryPublicKeyNotAccount")
        .withArgs(ZeroAddress);
      const unnamed = await admitArgsFor(registry, erin, "");
      await expect(registry.connect(alice).propose(ProposalKind.Admit, abi.encode(ADMIT_TYPES, admitValues(unnamed))))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidName");

      const first = await propose(registry, alice, ProposalKind.Admit, args);
      await expect(sendProposal(registry, alice, ProposalKind.Admit, args))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryDuplicateProposal")
        .withArgs(first);
      await expect(registry.connect(bob).seedMember(erin.address, "Erin", args.peerId, oprfKeyFor(erin.address)))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryAdminRenounced");
    });

    it("refuses a PeerId bound already, even the candidate's own (a seeding does not check PeerIds)", async function () {
      const { registry, admin, alice, erin, frank } = await loadFixture(consortiumFixture);
      const args = await admitArgsFor(registry, erin);
      await registry.connect(admin).seedMember(frank.address, "Frank", args.peerId, oprfKeyFor(frank.address));
      await expect(sendProposal(registry, alice, ProposalKind.Admit, args))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryPeerIdTaken")
        .withArgs(args.peerId);
    });

    it("lets a lapsed candidacy be proposed again", async function () {
      const { registry, alice, bob, carol, erin } = await loadFixture(renouncedConsortiumFixture);
      const args = await admitArgsFor(registry, erin);
      const first = await propose(registry, alice, ProposalKind.Admit, args);
      await time.increase(VOTING_PERIOD_SECONDS);
      const second = await passProposal(registry, [alice, bob, carol], ProposalKind.Admit, args);
      expect(second).to.equal(first + 1n);
      expect((await registry.member(erin.address)).status).to.equal(MemberStatus.Admitted);
      await expect(registry.execute(first)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryProposalExpired");
    });

    it("never admits or seeds a removed account again, and keeps its PeerId bound to it", async function () {
      const { registry, admin, alice, bob, carol, dave } = await loadFixture(consortiumFixture);
      await passProposal(registry, [alice, bob, carol], ProposalKind.Remove, { account: dave.address });
      await expect(sendProposal(registry, alice, ProposalKind.Reinstate, { account: dave.address }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
        .withArgs(dave.address, MemberStatus.Removed);
      await expect(sendProposal(registry, alice, ProposalKind.Admit, await admitArgsFor(registry, dave, "Dave 2", oprfKeyFor(dave.address, 1))))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryMemberRemoved")
        .withArgs(dave.address);
      // A removal is a vote, which ends seeding: the admin can no longer seed the account back either.
      await expect(registry.connect(admin).seedMember(dave.address, "Dave 2", peerIdFor(dave.address, 1), oprfKeyFor(dave.address, 1)))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistrySeedingClosed");
      expect((await registry.memberByPeerId(peerIdFor(dave.address))).status).to.equal(MemberStatus.Removed);
      expect((await registry.member(dave.address)).status).to.equal(MemberStatus.Removed);
    });

    it("refuses a Removed member's PeerId to another candidate: it is not the candidate's key", async function () {
      const { registry, alice, bob, carol, dave, erin } = await loadFixture(renouncedConsortiumFixture);
      await passProposal(registry, [alice, bob, carol], ProposalKind.Remove, { account: dave.address });
      await expect(sendProposal(registry, alice, ProposalKind.Admit, { ...(await admitArgsFor(registry, erin)), peerId: peerIdFor(dave.address) }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryPeerIdNotKey");
    });
  });

  describe("OPRF keys", function () {
    it("rotates a member's own key: next epoch, in force now, earlier keys kept", async function () {
      const { registry, alice } = await loadFixture(renouncedConsortiumFixture);
      const first = oprfKeyFor(alice.address);
      for (const epoch of [2, 3]) {
        const key = oprfKeyFor(alice.address, epoch);
        const tx = registry.connect(alice).rotateOprfKey(key);
        await expect(tx, `epoch ${epoch}`).to.emit(registry, "OprfKeyRotated").withArgs(alice.address, epoch, key);
        const record = await registry.member(alice.address);
        expect([record.oprfKey, record.keyEpoch, record.keyRotatedAt], `epoch ${epoch}`).to.deep.equal([key, BigInt(epoch), BigInt(await time.latest())]);
        expect(await registry.keyEpochOf(alice.address), `epoch ${epoch}`).to.equal(BigInt(epoch));
      }
      expect(await registry.oprfKeyOf(alice.address, 1)).to.equal(first);
      expect(await registry.oprfKeyOf(alice.address, 2)).to.equal(oprfKeyFor(alice.address, 2));
      expect(await registry.oprfKeyOf(alice.address, 3)).to.equal(oprfKeyFor(alice.address, 3));
      expect(await registry.oprfKeyOf(alice.address, 4)).to.equal(ZeroHash);
      expect(await registry.oprfKeyOf(alice.address, 0)).to.equal(ZeroHash);
      // A rotation changes nothing else: status, join time, the others' keys.
      expect((await registry.member(alice.address)).status).to.equal(MemberStatus.Active);
    });

    it("lets a suspended member rotate, and refuses candidates, removed members, regulators and outsiders", async function () {
      const { registry, alice, bob, carol, dave, erin, regulator, outsider } = await loadFixture(renouncedConsortiumFixture);
      await regulatorSuspend(registry, regulator, bob.address);
      await expect(registry.connect(bob).rotateOprfKey(oprfKeyFor(bob.address, 2))).to.emit(registry, "OprfKeyRotated").withArgs(bob.address, 2, oprfKeyFor(bob.address, 2));
      await propose(registry, alice, ProposalKind.Admit, await admitArgsFor(registry, erin));
      await passProposal(registry, [alice, carol, dave], ProposalKind.Remove, { account: dave.address });
      for (const [caller, status] of [[erin, MemberStatus.None], [dave, MemberStatus.Removed], [regulator, MemberStatus.None], [outsider, MemberStatus.None]] as const) {
        await expect(registry.connect(caller).rotateOprfKey(oprfKeyFor(caller.address, 9)), `status ${status}`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
          .withArgs(caller.address, status);
      }
    });

    it("refuses a zero key and the key already in force, without an event", async function () {
      const { registry, alice } = await loadFixture(renouncedConsortiumFixture);
      await expect(registry.connect(alice).rotateOprfKey(ZeroHash)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidOprfKey");
      await expect(registry.connect(alice).rotateOprfKey(oprfKeyFor(alice.address)))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryOprfKeyUnchanged")
        .withArgs(alice.address, 1);
      expect((await registry.member(alice.address)).keyEpoch).to.equal(1n);
    });

    it("refuses an admission with a zero key", async function () {
      const { registry, alice, erin } = await loadFixture(renouncedConsortiumFixture);
      const payload = abi.encode(ADMIT_TYPES, admitValues(await admitArgsFor(registry, erin, "Erin", ZeroHash)));
      await expect(registry.connect(alice).propose(ProposalKind.Admit, payload)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidOprfKey");
    });

    it("keeps a lapsed candidate's epoch for its next candidacy, whose key is the one that comes into force", async function () {
      const { registry, alice, bob, carol, erin } = await loadFixture(renouncedConsortiumFixture);
      await propose(registry, alice, ProposalKind.Admit, await admitArgsFor(registry, erin));
      await time.increase(VOTING_PERIOD_SECONDS);
      await admitMember(registry, [alice, bob, carol], erin, "Erin", oprfKeyFor(erin.address, 1));
      const record = await registry.member(erin.address);
      expect([record.keyEpoch, record.oprfKey]).to.deep.equal([1n, oprfKeyFor(erin.address, 1)]);
      expect(await registry.oprfKeyOf(erin.address, 1)).to.equal(oprfKeyFor(erin.address, 1));
    });
  });

  describe("quorum", function () {
    it("executes at exactly the quorum and not one vote short", async function () {
      const { registry, alice, bob, carol } = await loadFixture(renouncedConsortiumFixture);
      const proposalId = await propose(registry, alice, ProposalKind.SetKeyEpochLength, ONE_DAY);
      await registry.connect(bob).vote(proposalId);
      await expect(registry.execute(proposalId))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryQuorumNotReached")
        .withArgs(proposalId, 2, 3);
      await registry.connect(carol).vote(proposalId);
      await expect(registry.execute(proposalId)).to.emit(registry, "KeyEpochLengthSet").withArgs(ONE_DAY.keyEpochLengthSeconds);
      expect(await registry.keyEpochLength()).to.equal(ONE_DAY.keyEpochLengthSeconds);
    });

    it("is max(⌊E/2⌋+1, ⌈E·f⌉), capped at E−1 for E ≥ 3, over the voting members E", async function () {
      const signers = await ethers.getSigners();
      const [, , period, suspension, cooldown, open, delay, window, admission] = REGISTRY_ARGS;
      const cases = [
        // [voting members E, numerator, denominator, expected quorum]
        [1, 2, 3, 1], [2, 2, 3, 2], [3, 2, 3, 2], [4, 2, 3, 3], [6, 2, 3, 4], [7, 2, 3, 5], [10, 2, 3, 7],
        [2, 3, 4, 2], [3, 3, 4, 2], [4, 3, 4, 3], [5, 3, 4, 4], [8, 3, 4, 6], [5, 51, 100, 3], [4, 51, 100, 3],
      ] as const;
      for (const [voters, numerator, denominator, expected] of cases) {
        const admin = signers[0]!;
        const registry = await deployRegistry({ ethers }, admin.address, [numerator, denominator, period, suspension, cooldown, open, delay, window, admission, ...HOLDS_ARGS]);
        for (const signer of signers.slice(1, voters + 1)) {
          await registry.seedMember(signer.address, "M", peerIdFor(signer.address), oprfKeyFor(signer.address));
        }
        const proposer = signers[1]!;
        await registry.connect(proposer).propose(ProposalKind.SetKeyEpochLength, encodeProposalPayload(ProposalKind.SetKeyEpochLength, ONE_DAY));
        const what = `${voters} members at ${numerator}/${denominator}`;
        expect((await registry.proposal(1)).quorum, what).to.equal(BigInt(expected));
        expect((await registry.proposal(1)).electorate, what).to.equal(BigInt(voters));
        expect(await registry.quorumFor(voters), what).to.equal(BigInt(expected));
      }
    });

    it("matches docs/GOVERNANCE.md's table for every E and fraction", async function () {
      const [admin] = await ethers.getSigners();
      const [, , period, suspension, cooldown, open, delay, window, admission] = REGISTRY_ARGS;
      const electorates = [1, 2, 3, 4, 5, 6, 7, 8, 10];
      const table = [
        [2, 3, [1, 2, 2, 3, 4, 4, 5, 6, 7]],
        [3, 4, [1, 2, 2, 3, 4, 5, 6, 6, 8]],
        [51, 100, [1, 2, 2, 3, 3, 4, 4, 5, 6]],
      ] as const;
      for (const [numerator, denominator, quorums] of table) {
        const registry = await deployRegistry({ ethers }, admin!.address, [numerator, denominator, period, suspension, cooldown, open, delay, window, admission, ...HOLDS_ARGS]);
        for (const [index, electorate] of electorates.entries()) {
          expect(await registry.quorumFor(electorate), `E = ${electorate} at ${numerator}/${denominator}`).to.equal(BigInt(quorums[index]!));
        }
      }
    });

    it("stays as fixed at proposal time when more members join before execution", async function () {
      const { registry, alice, bob, carol, dave, erin, frank } = await loadFixture(renouncedConsortiumFixture);
      const early = await propose(registry, alice, ProposalKind.SetKeyEpochLength, ONE_DAY);
      await admitMember(registry, [alice, bob, carol], erin);
      // Five Active members now: this admission needs ceil(5 × 2/3) = 4 votes.
      await admitMember(registry, [alice, bob, carol, erin], frank, "Frank");
      expect(await registry.activeMemberCount()).to.equal(6n);
      const late = await propose(registry, alice, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 2n * 86_400n });
      expect((await registry.proposal(late)).quorum).to.equal(4n);
      // The early proposal still needs 3 of the 4 members it was proposed among, and only they vote.
      for (const newcomer of [erin, frank]) {
        await expect(registry.connect(newcomer).vote(early), newcomer.address)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotEntitled")
          .withArgs(early, newcomer.address);
      }
      await registry.connect(bob).vote(early);
      await registry.connect(dave).vote(early);
      await expect(registry.execute(early)).to.emit(registry, "ProposalExecuted").withArgs(early);
    });

    it("stays as fixed at proposal time; a regulator's suspension changes neither E nor the votes", async function () {
      const { registry, alice, bob, dave, regulator } = await loadFixture(renouncedConsortiumFixture);
      const proposalId = await propose(registry, alice, ProposalKind.SetKeyEpochLength, ONE_DAY);
      await regulatorSuspend(registry, regulator, dave.address);
      await registry.connect(bob).vote(proposalId);
      await expect(registry.execute(proposalId))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryQuorumNotReached")
        .withArgs(proposalId, 2, 3);
      // Dave's lookups are suspended, his vote is not.
      await registry.connect(dave).vote(proposalId);
      await expect(registry.execute(proposalId)).to.emit(registry, "ProposalExecuted").withArgs(proposalId);
      const next = await propose(registry, alice, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 2n * 86_400n });
      expect([(await registry.proposal(next)).electorate, (await registry.proposal(next)).quorum]).to.deep.equal([4n, 3n]);
    });

    it("closes a proposal at its expiry, for votes and for execution", async function () {
      const { registry, alice, bob, carol } = await loadFixture(renouncedConsortiumFixture);
      const proposalId = await propose(registry, alice, ProposalKind.SetKeyEpochLength, ONE_DAY);
      const { expiresAt } = await registry.proposal(proposalId);
      await registry.connect(bob).vote(proposalId);
      await time.setNextBlockTimestamp(expiresAt - 1n);
      await registry.connect(carol).vote(proposalId);
      await time.setNextBlockTimestamp(expiresAt);
      await expect(registry.execute(proposalId))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryProposalExpired")
        .withArgs(proposalId, expiresAt);
      await expect(registry.connect(carol).vote(proposalId))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryProposalExpired")
        .withArgs(proposalId, expiresAt);
    });

    it("executes a proposal once, and takes no votes after", async function () {
      const { registry, alice, bob, carol, dave } = await loadFixture(renouncedConsortiumFixture);
      const proposalId = await passProposal(registry, [alice, bob, carol], ProposalKind.SetKeyEpochLength, ONE_DAY);
      await expect(registry.execute(proposalId))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryProposalExecuted")
        .withArgs(proposalId);
      await expect(registry.connect(dave).vote(proposalId))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryProposalExecuted")
        .withArgs(proposalId);
      expect(await registry.keyEpochLength()).to.equal(ONE_DAY.keyEpochLengthSeconds);
    });

    it("counts one vote per member, the proposer's included", async function () {
      const { registry, alice, bob } = await loadFixture(renouncedConsortiumFixture);
      const proposalId = await propose(registry, alice, ProposalKind.SetKeyEpochLength, ONE_DAY);
      await expect(registry.connect(alice).vote(proposalId))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryAlreadyVoted")
        .withArgs(proposalId, alice.address);
      await registry.connect(bob).vote(proposalId);
      await expect(registry.connect(bob).vote(proposalId))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryAlreadyVoted")
        .withArgs(proposalId, bob.address);
    });

    it("refuses votes and execution of unknown proposals", async function () {
      const { registry, alice } = await loadFixture(renouncedConsortiumFixture);
      for (const proposalId of [0n, 1n]) {
        await expect(registry.connect(alice).vote(proposalId), `vote ${proposalId}`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryProposalUnknown")
          .withArgs(proposalId);
        await expect(registry.execute(proposalId), `execute ${proposalId}`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryProposalUnknown")
          .withArgs(proposalId);
      }
    });
  });

  describe("who may propose and vote", function () {
    it("refuses outsiders, the admin, regulators and candidates", async function () {
      const { registry, admin, alice, erin, regulator, outsider } = await loadFixture(consortiumFixture);
      const proposalId = await propose(registry, alice, ProposalKind.Admit, await admitArgsFor(registry, erin));
      for (const caller of [outsider, admin, erin]) {
        await expect(sendProposal(registry, caller, ProposalKind.SetKeyEpochLength, ONE_DAY), `propose by ${caller.address}`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotVotingMember")
          .withArgs(caller.address);
      }
      for (const caller of [outsider, admin, erin, regulator]) {
        await expect(registry.connect(caller).vote(proposalId), `vote by ${caller.address}`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotVotingMember")
          .withArgs(caller.address);
      }
      await expect(sendProposal(registry, regulator, ProposalKind.SetKeyEpochLength, ONE_DAY))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryRegulatorMayNotPropose")
        .withArgs(ProposalKind.SetKeyEpochLength);
    });

    it("refuses members suspended by vote and removed members", async function () {
      const { registry, alice, bob, carol, dave } = await loadFixture(renouncedConsortiumFixture);
      const proposalId = await propose(registry, alice, ProposalKind.SetKeyEpochLength, ONE_DAY);
      await passProposal(registry, [alice, bob, dave], ProposalKind.Suspend, { account: carol.address });
      await passProposal(registry, [alice, dave], ProposalKind.Remove, { account: bob.address });
      for (const [caller, status] of [[bob, "removed"], [carol, "suspended"]] as const) {
        await expect(sendProposal(registry, caller, ProposalKind.SetKeyEpochLength, ONE_DAY), `${status} proposes`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotVotingMember")
          .withArgs(caller.address);
        await expect(registry.connect(caller).vote(proposalId), `${status} votes`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotVotingMember")
          .withArgs(caller.address);
      }
    });
  });

  describe("regulator", function () {
    it("suspends an Active member's lookups until a time, keeping its vote", async function () {
      const { registry, alice, regulator } = await loadFixture(renouncedConsortiumFixture);
      const until = BigInt(await time.latest()) + 3_600n;
      await expect(registry.connect(regulator).regulatorSuspend(alice.address, until))
        .to.emit(registry, "MemberSuspended")
        .withArgs(alice.address, regulator.address, until);
      expect((await registry.member(alice.address)).status).to.equal(MemberStatus.Suspended);
      expect(await registry.activeMemberCount()).to.equal(3n);
      expect(await registry.votingMemberCount()).to.equal(4n);
      expect(await registry.isVotingMember(alice.address)).to.equal(true);
      expect(await registry.regulatorSuspension(alice.address)).to.deep.equal([until, until + REGULATOR_COOLDOWN_SECONDS]);
      expect(await registry.regulatorSuspendedCount()).to.equal(1n);
      expect(await registry.hasRole(await registry.MEMBER_ROLE(), alice.address)).to.equal(false);
    });

    it("suspends only Active members", async function () {
      const { registry, alice, erin, regulator } = await loadFixture(renouncedConsortiumFixture);
      await regulatorSuspend(registry, regulator, alice.address);
      await expect(regulatorSuspend(registry, regulator, alice.address))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
        .withArgs(alice.address, MemberStatus.Suspended);
      await expect(regulatorSuspend(registry, regulator, erin.address))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
        .withArgs(erin.address, MemberStatus.None);
    });

    it("is the only one who may suspend without a vote", async function () {
      const { registry, admin, alice, bob, outsider } = await loadFixture(consortiumFixture);
      for (const caller of [alice, admin, outsider]) {
        await expect(regulatorSuspend(registry, caller, bob.address), `by ${caller.address}`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotRegulator")
          .withArgs(caller.address);
      }
    });

    it("may open Suspend and Remove proposals, without a vote of its own; never vote or seed", async function () {
      const { registry, alice, bob, carol, erin, regulator } = await loadFixture(consortiumFixture);
      const suspend = await propose(registry, regulator, ProposalKind.Suspend, { account: alice.address });
      expect([(await registry.proposal(suspend)).votes, await registry.hasVoted(suspend, regulator.address)]).to.deep.equal([0n, false]);
      const remove = await propose(registry, regulator, ProposalKind.Remove, { account: bob.address });
      expect((await registry.proposal(remove)).proposer).to.equal(regulator.address);
      for (const kind of [ProposalKind.Reinstate, ProposalKind.AddRegulator, ProposalKind.RemoveRegulator]) {
        await expect(sendProposal(registry, regulator, kind, { account: carol.address }), `kind ${kind}`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryRegulatorMayNotPropose")
          .withArgs(kind);
      }
      const asRegulator = registry.connect(regulator);
      await expect(asRegulator.vote(suspend))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotVotingMember")
        .withArgs(regulator.address);
      const notAdmin = "ConsortiumRegistryNotAdmin";
      await expect(asRegulator.seedMember(erin.address, "Erin", peerIdFor(erin.address), oprfKeyFor(erin.address))).to.be.revertedWithCustomError(registry, notAdmin);
      await expect(asRegulator.seedRegulator(erin.address)).to.be.revertedWithCustomError(registry, notAdmin);
      await expect(asRegulator.seedCategory("x")).to.be.revertedWithCustomError(registry, notAdmin);
      await expect(asRegulator.seedPolicy(1, OTHER_POLICY)).to.be.revertedWithCustomError(registry, notAdmin);
      await expect(asRegulator.transferAdmin(regulator.address)).to.be.revertedWithCustomError(registry, notAdmin);
      await expect(asRegulator.renounceAdmin()).to.be.revertedWithCustomError(registry, notAdmin);
    });
  });

  describe("proposal kinds", function () {
    it("Suspend: an Active member becomes Suspended, by the registry itself", async function () {
      const { registry, alice, bob, carol, dave } = await loadFixture(renouncedConsortiumFixture);
      const proposalId = await propose(registry, alice, ProposalKind.Suspend, { account: dave.address });
      await registry.connect(bob).vote(proposalId);
      await registry.connect(carol).vote(proposalId);
      await expect(registry.execute(proposalId))
        .to.emit(registry, "MemberSuspended")
        .withArgs(dave.address, await registry.getAddress(), 0);
      expect((await registry.member(dave.address)).status).to.equal(MemberStatus.Suspended);
      expect(await registry.activeMemberCount()).to.equal(3n);
      expect(await registry.votingMemberCount()).to.equal(3n);
      await expect(sendProposal(registry, alice, ProposalKind.Suspend, { account: dave.address }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
        .withArgs(dave.address, MemberStatus.Suspended);
    });

    it("Suspend: re-checked at execution, so a member removed meanwhile is not suspended", async function () {
      const { registry, alice, bob, carol, dave } = await loadFixture(renouncedConsortiumFixture);
      const suspend = await propose(registry, alice, ProposalKind.Suspend, { account: dave.address });
      await registry.connect(bob).vote(suspend);
      await registry.connect(carol).vote(suspend);
      await passProposal(registry, [alice, bob, carol], ProposalKind.Remove, { account: dave.address });
      await expect(registry.execute(suspend))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
        .withArgs(dave.address, MemberStatus.Removed);
      expect((await registry.proposal(suspend)).executed).to.equal(false);
    });

    it("Reinstate: a member suspended by vote becomes Active again, keeping its joinedAt", async function () {
      const { registry, alice, bob, carol, dave, regulator } = await loadFixture(renouncedConsortiumFixture);
      const { joinedAt } = await registry.member(dave.address);
      await passProposal(registry, [alice, bob, carol], ProposalKind.Suspend, { account: dave.address });
      const proposalId = await propose(registry, alice, ProposalKind.Reinstate, { account: dave.address });
      // Proposed among the three voting members: quorum 2.
      await expect(registry.execute(proposalId))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryQuorumNotReached")
        .withArgs(proposalId, 1, 2);
      await registry.connect(bob).vote(proposalId);
      await expect(registry.execute(proposalId)).to.emit(registry, "MemberReinstated").withArgs(dave.address);
      const record = await registry.member(dave.address);
      expect([record.status, record.joinedAt]).to.deep.equal([BigInt(MemberStatus.Active), joinedAt]);
      expect([await registry.activeMemberCount(), await registry.votingMemberCount()]).to.deep.equal([4n, 4n]);
      await expect(sendProposal(registry, alice, ProposalKind.Reinstate, { account: dave.address }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
        .withArgs(dave.address, MemberStatus.Active);
      // A regulator's suspension is not ended by a vote, but by its own time (endSuspension).
      await regulatorSuspend(registry, regulator, carol.address);
      await expect(sendProposal(registry, alice, ProposalKind.Reinstate, { account: carol.address }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
        .withArgs(carol.address, MemberStatus.Suspended);
    });

    it("Remove: an Active or Suspended member is removed for good", async function () {
      const { registry, alice, bob, carol, dave, regulator, erin } = await loadFixture(renouncedConsortiumFixture);
      const removeDave = await propose(registry, alice, ProposalKind.Remove, { account: dave.address });
      await registry.connect(bob).vote(removeDave);
      await registry.connect(carol).vote(removeDave);
      await expect(registry.execute(removeDave)).to.emit(registry, "ProposalQueued").and.not.to.emit(registry, "MemberRemoved");
      expect(await registry.activeMemberCount()).to.equal(4n);
      await advanceTime(registry, TIMELOCK_DELAY_SECONDS);
      await expect(registry.enact(removeDave)).to.emit(registry, "MemberRemoved").withArgs(dave.address);
      expect(await registry.activeMemberCount()).to.equal(3n);

      await regulatorSuspend(registry, regulator, carol.address);
      await passProposal(registry, [alice, bob], ProposalKind.Remove, { account: carol.address });
      expect((await registry.member(carol.address)).status).to.equal(MemberStatus.Removed);
      expect(await registry.activeMemberCount()).to.equal(2n);

      for (const [account, status] of [[dave.address, MemberStatus.Removed], [erin.address, MemberStatus.None]] as const) {
        await expect(sendProposal(registry, alice, ProposalKind.Remove, { account }))
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
          .withArgs(account, status);
      }
    });

    it("AddRegulator and RemoveRegulator: the regulator list follows the votes", async function () {
      const { registry, alice, bob, carol, erin, frank, regulator } = await loadFixture(renouncedConsortiumFixture);
      const voters = [alice, bob, carol];
      await passProposal(registry, voters, ProposalKind.AddRegulator, { account: erin.address });
      const add = await propose(registry, alice, ProposalKind.AddRegulator, { account: frank.address });
      await registry.connect(bob).vote(add);
      await registry.connect(carol).vote(add);
      await registry.execute(add);
      await advanceTime(registry, TIMELOCK_DELAY_SECONDS);
      await expect(registry.enact(add)).to.emit(registry, "RegulatorAdded").withArgs(frank.address);
      expect(await registry.regulators()).to.deep.equal([regulator.address, erin.address, frank.address]);

      const remove = await propose(registry, alice, ProposalKind.RemoveRegulator, { account: regulator.address });
      await registry.connect(bob).vote(remove);
      await registry.connect(carol).vote(remove);
      await registry.execute(remove);
      await advanceTime(registry, TIMELOCK_DELAY_SECONDS);
      await expect(registry.enact(remove)).to.emit(registry, "RegulatorRemoved").withArgs(regulator.address);
      expect(await registry.regulators()).to.deep.equal([frank.address, erin.address]);
      await passProposal(registry, voters, ProposalKind.RemoveRegulator, { account: erin.address });
      expect(await registry.regulators()).to.deep.equal([frank.address]);

      await expect(regulatorSuspend(registry, regulator, alice.address))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotRegulator")
        .withArgs(regulator.address);
      await expect(sendProposal(registry, alice, ProposalKind.RemoveRegulator, { account: regulator.address }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotRegulator")
        .withArgs(regulator.address);
      await expect(sendProposal(registry, alice, ProposalKind.AddRegulator, { account: frank.address }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryRegulatorExists")
        .withArgs(frank.address);
      await expect(sendProposal(registry, alice, ProposalKind.AddRegulator, { account: bob.address }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryMemberExists")
        .withArgs(bob.address, MemberStatus.Active);
      await expect(registry.connect(alice).propose(ProposalKind.AddRegulator, abi.encode(["address"], [ZeroAddress])))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidAddress")
        .withArgs(ZeroAddress);
    });

    it("AddRegulator: re-checked at execution against an admission that happened meanwhile", async function () {
      const { registry, alice, bob, carol, erin } = await loadFixture(renouncedConsortiumFixture);
      const add = await propose(registry, alice, ProposalKind.AddRegulator, { account: erin.address });
      await registry.connect(bob).vote(add);
      await registry.connect(carol).vote(add);
      // An open Admit proposal writes nothing and blocks nothing; its execution does.
      const admit = await propose(registry, bob, ProposalKind.Admit, await admitArgsFor(registry, erin));
      await registry.connect(alice).vote(admit);
      await registry.connect(carol).vote(admit);
      await registry.execute(admit);
      // Admitted, not yet in force, already holds its membership.
      await expect(registry.execute(add))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryMemberExists")
        .withArgs(erin.address, MemberStatus.Admitted);
    });

    it("SetPolicy: sets a category's policy; an unchanged policy executes without PolicySet", async function () {
      const { registry, alice, bob, carol } = await loadFixture(renouncedConsortiumFixture);
      const proposalId = await propose(registry, alice, ProposalKind.SetPolicy, { categoryId: 2, policy: OTHER_POLICY });
      await registry.connect(bob).vote(proposalId);
      await registry.connect(carol).vote(proposalId);
      await registry.execute(proposalId);
      await advanceTime(registry, TIMELOCK_DELAY_SECONDS);
      await expect(registry.enact(proposalId)).to.emit(registry, "PolicySet").withArgs(2, Object.values(OTHER_POLICY));
      expect(await registry.policy(2)).to.deep.equal(Object.values(OTHER_POLICY));

      const same = await propose(registry, alice, ProposalKind.SetPolicy, { categoryId: 2, policy: OTHER_POLICY });
      await registry.connect(bob).vote(same);
      await registry.connect(carol).vote(same);
      await registry.execute(same);
      await advanceTime(registry, TIMELOCK_DELAY_SECONDS);
      const tx = registry.enact(same);
      await expect(tx).not.to.emit(registry, "PolicySet");
      await expect(tx).to.emit(registry, "ProposalEnacted").withArgs(same);
    });

    it("SetPolicy: refuses unknown and retired categories and policies that admit nobody", async function () {
      const { registry, alice, bob, carol } = await loadFixture(renouncedConsortiumFixture);
      const setPolicy = (categoryId: number, policy = OTHER_POLICY) =>
        sendProposal(registry, alice, ProposalKind.SetPolicy, { categoryId, policy });
      await expect(setPolicy(9)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryUnknown").withArgs(9);
      await expect(setPolicy(1, { ...OTHER_POLICY, maxSnapshotAge: 0n }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidPolicy")
        .withArgs(1);
      await expect(setPolicy(1, { ...OTHER_POLICY, quotaCeiling: OTHER_POLICY.quotaBase - 1n }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidPolicy")
        .withArgs(1);
      const pending = await propose(registry, alice, ProposalKind.SetPolicy, { categoryId: 1, policy: OTHER_POLICY });
      await registry.connect(bob).vote(pending);
      await registry.connect(carol).vote(pending);
      await passProposal(registry, [alice, bob, carol], ProposalKind.RetireCategory, { categoryId: 1 });
      await expect(setPolicy(1)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryInactive").withArgs(1);
      await expect(registry.execute(pending))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryInactive")
        .withArgs(1);
    });

    it("AddCategory: adds the next id; names stay unique; the limit is re-checked at execution", async function () {
      const { registry, alice, bob, carol } = await loadFixture(consortiumFixture);
      const proposalId = await propose(registry, alice, ProposalKind.AddCategory, { name: "gambling_merchant" });
      await registry.connect(bob).vote(proposalId);
      await registry.connect(carol).vote(proposalId);
      await expect(registry.execute(proposalId)).to.emit(registry, "CategoryAdded").withArgs(4, "gambling_merchant");
      expect(await registry.isActiveCategory(4)).to.equal(true);
      await expect(sendProposal(registry, alice, ProposalKind.AddCategory, { name: "gambling_merchant" }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryExists")
        .withArgs(4);
      await expect(registry.connect(alice).propose(ProposalKind.AddCategory, abi.encode(["string"], [""])))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidName");

      // Seeding ended with the first execution: the registry is filled up by votes.
      await expect(registry.seedCategory("category_5")).to.be.revertedWithCustomError(registry, "ConsortiumRegistrySeedingClosed");
      for (let id = 5; id <= 62; id++) {
        const added = await propose(registry, alice, ProposalKind.AddCategory, { name: `category_${id}` });
        await registry.connect(bob).vote(added);
        await registry.connect(carol).vote(added);
        await registry.execute(added);
      }
      const first = await propose(registry, alice, ProposalKind.AddCategory, { name: "category_63" });
      const second = await propose(registry, alice, ProposalKind.AddCategory, { name: "category_64" });
      for (const pending of [first, second]) {
        await registry.connect(bob).vote(pending);
        await registry.connect(carol).vote(pending);
      }
      await expect(registry.execute(first)).to.emit(registry, "CategoryAdded").withArgs(63, "category_63");
      await expect(registry.execute(second)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryLimit");
      await expect(sendProposal(registry, alice, ProposalKind.AddCategory, { name: "category_65" }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryLimit");
    });

    it("RetireCategory: the category stays readable but inactive, its name taken", async function () {
      const { registry, alice, bob, carol } = await loadFixture(renouncedConsortiumFixture);
      const proposalId = await propose(registry, alice, ProposalKind.RetireCategory, { categoryId: 2 });
      await registry.connect(bob).vote(proposalId);
      await registry.connect(carol).vote(proposalId);
      await registry.execute(proposalId);
      expect(await registry.isActiveCategory(2)).to.equal(true);
      await advanceTime(registry, TIMELOCK_DELAY_SECONDS);
      await expect(registry.enact(proposalId)).to.emit(registry, "CategoryRetired").withArgs(2);
      const category = await registry.category(2);
      expect([category.name, category.active]).to.deep.equal(["money_mule", false]);
      expect(await registry.isActiveCategory(2)).to.equal(false);
      await expect(sendProposal(registry, alice, ProposalKind.RetireCategory, { categoryId: 2 }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryInactive")
        .withArgs(2);
      await expect(sendProposal(registry, alice, ProposalKind.RetireCategory, { categoryId: 7 }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryUnknown")
        .withArgs(7);
      await expect(sendProposal(registry, alice, ProposalKind.AddCategory, { name: "money_mule" }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryCategoryExists")
        .withArgs(2);
    });

    it("SetWarninglistHash: pins the hash at execute (no timelock: advisory), refuses zero or a malformed payload; an unchanged one emits nothing", async function () {
      const { registry, alice, bob, carol } = await loadFixture(renouncedConsortiumFixture);
      const hash = keccakOfText("warninglists v2");
      const proposalId = await propose(registry, alice, ProposalKind.SetWarninglistHash, { hash });
      await registry.connect(bob).vote(proposalId);
      await registry.connect(carol).vote(proposalId);
      const executed = registry.execute(proposalId);
      await expect(executed).to.emit(registry, "WarninglistHashSet").withArgs(hash);
      await expect(executed).to.emit(registry, "ProposalExecuted").withArgs(proposalId);
      expect(await registry.warninglistHash()).to.equal(hash);
      expect((await registry.proposal(proposalId)).status).to.equal(BigInt(ProposalStatus.Executed));
      const same = await propose(registry, alice, ProposalKind.SetWarninglistHash, { hash });
      await registry.connect(bob).vote(same);
      await registry.connect(carol).vote(same);
      await expect(registry.execute(same)).to.emit(registry, "ProposalExecuted").and.not.to.emit(registry, "WarninglistHashSet");
      // The client refuses a zero hash before sending; the registry refuses it too.
      await expect(registry.connect(alice).propose(ProposalKind.SetWarninglistHash, abi.encode(["bytes32"], [ZeroHash])))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidWarninglistHash");
      for (const payload of ["0x", `${hash}00`]) {
        await expect(registry.connect(alice).propose(ProposalKind.SetWarninglistHash, payload), payload)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidPayload")
          .withArgs(ProposalKind.SetWarninglistHash);
      }
    });

    it("SetKeyEpochLength: sets the length within 1 hour .. 2 years; an unchanged one emits nothing", async function () {
      const { registry, alice, bob, carol } = await loadFixture(renouncedConsortiumFixture);
      const hour = 3_600n;
      const twoYears = 730n * 86_400n;
      for (const seconds of [hour, twoYears]) {
        const proposalId = await propose(registry, alice, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: seconds });
        await registry.connect(bob).vote(proposalId);
        await registry.connect(carol).vote(proposalId);
        await expect(registry.execute(proposalId), `${seconds} s`).to.emit(registry, "KeyEpochLengthSet").withArgs(seconds);
        expect(await registry.keyEpochLength()).to.equal(seconds);
      }
      const same = await propose(registry, alice, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: twoYears });
      await registry.connect(bob).vote(same);
      await registry.connect(carol).vote(same);
      await expect(registry.execute(same)).to.emit(registry, "ProposalExecuted").and.not.to.emit(registry, "KeyEpochLengthSet");
      for (const seconds of [0n, hour - 1n, twoYears + 1n, (1n << 64n) - 1n]) {
        await expect(sendProposal(registry, alice, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: seconds }), `${seconds} s`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidKeyEpochLength")
          .withArgs(seconds);
      }
    });

    it("SetQuorum: later proposals use the new fraction, in (1/2, 3/4] only; an unchanged one emits nothing", async function () {
      const { registry, alice, bob, carol, erin } = await loadFixture(renouncedConsortiumFixture);
      await admitMember(registry, [alice, bob, carol], erin);
      const proposalId = await propose(registry, alice, ProposalKind.SetQuorum, { numerator: 3, denominator: 4 });
      await registry.connect(bob).vote(proposalId);
      await registry.connect(carol).vote(proposalId);
      await registry.connect(erin).vote(proposalId);
      await registry.execute(proposalId);
      expect(await registry.quorumFraction()).to.deep.equal([2n, 3n]);
      await advanceTime(registry, TIMELOCK_DELAY_SECONDS);
      await expect(registry.enact(proposalId)).to.emit(registry, "QuorumSet").withArgs(3, 4);
      expect(await registry.quorumFraction()).to.deep.equal([3n, 4n]);
      // Five voting members: max(3, ⌈15/4⌉ = 4) = 4 (it was 4 at 2/3 too; the table test covers the rest).
      const next = await propose(registry, alice, ProposalKind.SetQuorum, { numerator: 3, denominator: 4 });
      expect((await registry.proposal(next)).quorum).to.equal(4n);
      for (const voter of [bob, carol, erin]) await registry.connect(voter).vote(next);
      await registry.execute(next);
      await advanceTime(registry, TIMELOCK_DELAY_SECONDS);
      await expect(registry.enact(next)).not.to.emit(registry, "QuorumSet");
      for (const [numerator, denominator] of [[0, 1], [3, 2], [1, 0], [1, 2], [1, 255], [4, 5], [1, 1]] as const) {
        await expect(sendProposal(registry, alice, ProposalKind.SetQuorum, { numerator, denominator }), `${numerator}/${denominator}`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidQuorum")
          .withArgs(numerator, denominator);
      }
    });

    it("refuses payloads that are not the kind's canonical encoding", async function () {
      const { registry, alice, erin } = await loadFixture(renouncedConsortiumFixture);
      const admit = encodeProposalPayload(ProposalKind.Admit, await admitArgsFor(registry, erin));
      const cases: [ProposalKind, string][] = [
        [ProposalKind.Admit, "0x"],
        [ProposalKind.Admit, concat([admit, "0x00"])],
        [ProposalKind.Admit, concat([admit, new Uint8Array(32)])],
        // The former Admit encoding, without key and signature.
        [ProposalKind.Admit, abi.encode(["address", "string", "bytes", "bytes32"], [erin.address, "Erin", peerIdFor(erin.address), oprfKeyFor(erin.address)])],
        [ProposalKind.Suspend, "0x"],
        [ProposalKind.Suspend, abi.encode(["address", "uint256"], [erin.address, 1])],
        [ProposalKind.Reinstate, "0x1234"],
        [ProposalKind.Remove, concat([abi.encode(["address"], [erin.address]), "0x00"])],
        [ProposalKind.AddRegulator, "0x"],
        [ProposalKind.RemoveRegulator, "0x"],
        [ProposalKind.SetPolicy, abi.encode(["uint8"], [1])],
        [ProposalKind.AddCategory, "0x"],
        [ProposalKind.AddCategory, concat([abi.encode(["string"], ["x"]), new Uint8Array(32)])],
        [ProposalKind.RetireCategory, abi.encode(["uint8", "uint8"], [1, 1])],
        [ProposalKind.SetKeyEpochLength, "0x"],
        [ProposalKind.SetKeyEpochLength, abi.encode(["uint64", "uint64"], [86_400, 86_400])],
        [ProposalKind.SetQuorum, abi.encode(["uint16"], [1])],
      ];
      for (const [kind, payload] of cases) {
        await expect(registry.connect(alice).propose(kind, payload), `kind ${kind}, payload ${payload.length} chars`)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidPayload")
          .withArgs(kind);
      }
    });

    it("uses the same kind and status numbers as node/chain/governance.ts", async function () {
      const { registry, alice, bob, carol, dave, erin, regulator } = await loadFixture(renouncedConsortiumFixture);
      const examples = {
        [ProposalKind.Admit]: await admitArgsFor(registry, erin),
        [ProposalKind.Suspend]: { account: alice.address },
        [ProposalKind.Reinstate]: null,
        [ProposalKind.Remove]: { account: alice.address },
        [ProposalKind.AddRegulator]: null,
        [ProposalKind.RemoveRegulator]: { account: regulator.address },
        [ProposalKind.SetPolicy]: { categoryId: 1, policy: OTHER_POLICY },
        [ProposalKind.AddCategory]: { name: "new_category" },
        [ProposalKind.RetireCategory]: { categoryId: 3 },
        [ProposalKind.SetKeyEpochLength]: ONE_DAY,
        [ProposalKind.SetQuorum]: { numerator: 3, denominator: 4 },
      } as const;
      const proposers = [alice, bob, carol, dave];
      let made = 0;
      for (const [kindText, args] of Object.entries(examples)) {
        if (args === null) continue; // needs another state; covered above
        const kind = Number(kindText) as ProposalKind;
        const proposalId = await propose(registry, proposers[made++ % proposers.length]!, kind, args as never);
        const stored = await registry.proposal(proposalId);
        expect(stored.kind, `kind ${kind}`).to.equal(kind);
        expect(decodeProposalPayload(kind, stored.payload), `payload of kind ${kind}`).to.deep.equal(args);
      }
      expect((await registry.member(erin.address)).status).to.equal(MemberStatus.None);
      expect((await registry.member(alice.address)).status).to.equal(MemberStatus.Active);
    });
  });

  describe("lookups for node caches", function () {
    it("enumerate every account ever admitted with bounded reads", async function () {
      const { registry, alice, bob, carol, dave, erin } = await loadFixture(renouncedConsortiumFixture);
      await admitMember(registry, [alice, bob, carol], erin);
      await passProposal(registry, [alice, bob, carol, erin], ProposalKind.Remove, { account: dave.address });
      const count = Number(await registry.memberCount());
      const seen = [];
      for (let index = 0; index < count; index++) {
        const record = await registry.memberAt(index);
        seen.push([record.account, Number(record.status)]);
      }
      expect(seen).to.deep.equal([
        [alice.address, MemberStatus.Active],
        [bob.address, MemberStatus.Active],
        [carol.address, MemberStatus.Active],
        [dave.address, MemberStatus.Removed],
        [erin.address, MemberStatus.Active],
      ]);
      expect(await registry.activeMemberCount()).to.equal(4n);
    });
  });
});
