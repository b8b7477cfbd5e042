/**
 * Admission (docs/GOVERNANCE.md "Admission"): an Admit carries the candidate's own request — its
 * public key and its EIP-712 signature over (account, name, PeerId, public key, OPRF key) for this
 * registry on this chain — and the registry refuses each way it can be wrong, when proposed and when
 * executed. An executed Admit is in force only after the admission delay, by `activate`; a
 * regulator may veto it until then.
 */
import { expect } from "chai";
import { readFile } from "node:fs/promises";
import { network } from "hardhat";
import { Signature, ZeroAddress, concat, dataSlice, encodeBytes32String, getBytes, toBeHex, TypedDataEncoder } from "ethers";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { MemberStatus, ProposalKind, encodeProposalPayload } from "../../node/chain/governance.ts";
import { ADMISSION_TYPES, ADMISSION_TYPE_STRING, admissionDomain, admissionPeerId, admissionTypeHash } from "../../node/chain/admission.ts";
import { mutable } from "../../node/chain/eip712.ts";
import {
  ADMISSION_DELAY_SECONDS,
  admitArgsFor,
  deployRegistry,
  oprfKeyFor,
  passProposal,
  propose,
  regulatorSuspend,
  renouncedConsortiumFixture,
  sendProposal,
  type AdmitArgs,
} from "./fixtures.ts";

const { ethers, networkHelpers } = await network.create();
const { loadFixture, time } = networkHelpers;

/** secp256k1's group order n. */
const N = secp256k1.Point.Fn.ORDER;
const REASON = encodeBytes32String("AML-2026-114");

/** Admits erin by a vote of alice, bob and carol; resolves to her request and `activeFrom`. */
async function admittedErin() {
  const fixture = await loadFixture(renouncedConsortiumFixture);
  const { registry, alice, bob, carol, erin } = fixture;
  const request = await admitArgsFor(registry, erin, "Erin Pay");
  await passProposal(registry, [alice, bob, carol], ProposalKind.Admit, request);
  return { ...fixture, request, activeFrom: await registry.admissionActiveFrom(erin.address) };
}

describe("ConsortiumRegistry: admission", function () {
  describe("the candidate's own request", function () {
    it("uses the Admission type string and the riskshare domain bound to this registry and chain", async function () {
      const { registry } = await loadFixture(renouncedConsortiumFixture);
      // The struct TypeScript signs is the one RiskshareTypes.sol hashes (the accepted signatures below say so too).
      expect(TypedDataEncoder.from(mutable(ADMISSION_TYPES)).encodeType("Admission")).to.equal(ADMISSION_TYPE_STRING);
      expect(admissionTypeHash()).to.equal(ethers.id(ADMISSION_TYPE_STRING));
      const solidity = await readFile(new URL("../../contracts/libraries/RiskshareTypes.sol", import.meta.url), "utf8");
      expect(solidity.replace(/\s+/g, "")).to.contain(`ADMISSION_TYPEHASH=keccak256("${ADMISSION_TYPE_STRING.replace(/\s+/g, "")}")`);
      const { chainId } = await ethers.provider.getNetwork();
      expect(await registry.admissionDomainSeparator()).to.equal(TypedDataEncoder.hashDomain(admissionDomain(chainId, await registry.getAddress())));
    });

    it("carries the PeerId the registry expects: the identity multihash of the compressed key", async function () {
      const { registry, erin } = await loadFixture(renouncedConsortiumFixture);
      const request = await admitArgsFor(registry, erin);
      const compressed = secp256k1.Point.fromBytes(getBytes(concat(["0x04", request.publicKey]))).toBytes(true);
      expect(request.peerId).to.equal(concat(["0x002508021221", compressed]));
    });

    it("refuses a public key that is not the account's", async function () {
      const { registry, alice, erin, frank } = await loadFixture(renouncedConsortiumFixture);
      const request = await admitArgsFor(registry, erin);
      const frankKey = (await admitArgsFor(registry, frank)).publicKey;
      await expect(sendProposal(registry, alice, ProposalKind.Admit, { ...request, publicKey: frankKey }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryPublicKeyNotAccount")
        .withArgs(erin.address);
    });

    it("refuses a public key off the curve, or of the wrong length", async function () {
      const { registry, alice, erin } = await loadFixture(renouncedConsortiumFixture);
      const request = await admitArgsFor(registry, erin);
      const x = dataSlice(request.publicKey, 0, 32);
      const y = BigInt(dataSlice(request.publicKey, 32, 64));
      const p = secp256k1.Point.Fp.ORDER;
      const cases = {
        "y + 1": concat([x, toBeHex((y + 1n) % p, 32)]),
        "y = p (not reduced)": concat([x, toBeHex(p, 32)]),
        "zero": concat([new Uint8Array(64)]),
        "33-byte compressed": dataSlice(request.peerId, 6),
        "65-byte 0x04-prefixed": concat(["0x04", request.publicKey]),
      };
      for (const [what, publicKey] of Object.entries(cases)) {
        await expect(sendProposal(registry, alice, ProposalKind.Admit, { ...request, publicKey }), what)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidPublicKey");
      }
    });

    it("refuses the PeerId of another key, and a PeerId of the key in another form", async function () {
      const { registry, alice, erin, frank } = await loadFixture(renouncedConsortiumFixture);
      const request = await admitArgsFor(registry, erin);
      const other = (await admitArgsFor(registry, frank)).peerId;
      const flippedParity = concat([dataSlice(request.peerId, 0, 6), getBytes(request.peerId)[6] === 2 ? "0x03" : "0x02", dataSlice(request.peerId, 7)]);
      const uncompressedPeerId = concat(["0x004508021241", "0x04", request.publicKey]);
      for (const [what, peerId] of [["frank's", other], ["wrong parity", flippedParity], ["uncompressed key", uncompressedPeerId]] as const) {
        await expect(sendProposal(registry, alice, ProposalKind.Admit, { ...request, peerId }), what)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryPeerIdNotKey");
      }
    });

    it("refuses a signature by another key, or over other fields", async function () {
      const { registry, alice, erin, frank } = await loadFixture(renouncedConsortiumFixture);
      const request = await admitArgsFor(registry, erin);
      const { chainId } = await ethers.provider.getNetwork();
      const domain = admissionDomain(chainId, await registry.getAddress());
      const { account, name, peerId, publicKey, oprfKey } = request;
      const byFrank = await frank.signTypedData(domain, mutable(ADMISSION_TYPES), { account, name, peerId, publicKey, oprfKey });
      await expect(sendProposal(registry, alice, ProposalKind.Admit, { ...request, signature: byFrank }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotSignedByCandidate")
        .withArgs(erin.address, frank.address);
      for (const [what, spoiled] of [["name", { name: "Erin Two" }], ["OPRF key", { oprfKey: oprfKeyFor(erin.address, 1) }]] as const) {
        await expect(sendProposal(registry, alice, ProposalKind.Admit, { ...request, ...spoiled }), what)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotSignedByCandidate");
      }
    });

    it("refuses a request signed for another registry or another chain (the domain)", async function () {
      const { registry, admin, alice, erin } = await loadFixture(renouncedConsortiumFixture);
      const { chainId } = await ethers.provider.getNetwork();
      const other = await deployRegistry({ ethers }, admin.address);
      const forOtherRegistry = await admitArgsFor(registry, erin, "Erin", oprfKeyFor(erin.address), { chainId, registry: await other.getAddress() });
      const forOtherChain = await admitArgsFor(registry, erin, "Erin", oprfKeyFor(erin.address), { chainId: chainId + 1n, registry: await registry.getAddress() });
      for (const [what, request] of [["other registry", forOtherRegistry], ["other chain", forOtherChain]] as const) {
        await expect(sendProposal(registry, alice, ProposalKind.Admit, request), what)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotSignedByCandidate");
      }
    });

    it("refuses a malleable high-s twin, a bad v and a short signature", async function () {
      const { registry, alice, erin } = await loadFixture(renouncedConsortiumFixture);
      const request = await admitArgsFor(registry, erin);
      const signature = Signature.from(request.signature as string);
      // (r, n − s) with the other parity recovers the same key: ecrecover would take it.
      const highS = concat([signature.r, toBeHex(N - BigInt(signature.s), 32), signature.v === 27 ? "0x1c" : "0x1b"]);
      const badV = concat([signature.r, signature.s, "0x01"]);
      const compact = signature.compactSerialized;
      for (const [what, spoiled] of [["high s", highS], ["v = 1", badV], ["64-byte compact", compact]] as const) {
        await expect(sendProposal(registry, alice, ProposalKind.Admit, { ...request, signature: spoiled } as AdmitArgs), what)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryMalformedSignature");
      }
    });

    it("checks the request again at execution", async function () {
      const { registry, alice, bob, carol, dave, erin } = await loadFixture(renouncedConsortiumFixture);
      const request = await admitArgsFor(registry, erin);
      const proposalId = await propose(registry, alice, ProposalKind.Admit, request);
      await registry.connect(bob).vote(proposalId);
      await registry.connect(carol).vote(proposalId);
      // Meanwhile the same candidate is admitted through an identical-but-for-the-name request.
      await passProposal(registry, [bob, carol, dave], ProposalKind.Admit, await admitArgsFor(registry, erin, "Erin Pay"));
      await expect(registry.execute(proposalId))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryMemberExists")
        .withArgs(erin.address, MemberStatus.Admitted);
      expect(encodeProposalPayload(ProposalKind.Admit, request)).to.equal((await registry.proposal(proposalId)).payload);
    });
  });

  describe("the admission delay", function () {
    it("keeps an admitted member out of force until activated: not Active, no vote, not counted, no key", async function () {
      const { registry, alice, erin, request, activeFrom } = await admittedErin();
      expect(activeFrom).to.equal(BigInt(await time.latest()) + ADMISSION_DELAY_SECONDS);
      const record = await registry.member(erin.address);
      expect([record.status, record.joinedAt, record.keyEpoch, record.oprfKey]).to.deep.equal([BigInt(MemberStatus.Admitted), 0n, 1n, request.oprfKey]);
      expect((await registry.memberByPeerId(request.peerId)).account).to.equal(erin.address);
      expect(await registry.isActiveMember(erin.address)).to.equal(false);
      expect(await registry.isVotingMember(erin.address)).to.equal(false);
      expect(await registry.hasRole(await registry.MEMBER_ROLE(), erin.address)).to.equal(false);
      expect([await registry.activeMemberCount(), await registry.votingMemberCount(), await registry.memberCount()]).to.deep.equal([4n, 4n, 5n]);
      expect(await registry.oprfKeyOf(erin.address, 1)).to.equal(ethers.ZeroHash);
      await expect(sendProposal(registry, erin, ProposalKind.AddCategory, { name: "x" }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotVotingMember")
        .withArgs(erin.address);
      const proposalId = await propose(registry, alice, ProposalKind.AddCategory, { name: "x" });
      await expect(registry.connect(erin).vote(proposalId)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotVotingMember");
      await expect(registry.connect(erin).rotateOprfKey(oprfKeyFor(erin.address, 2)))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
        .withArgs(erin.address, MemberStatus.Admitted);
    });

    it("refuses activation before activeFrom, and takes it from anyone at activeFrom", async function () {
      const { registry, erin, outsider, activeFrom } = await admittedErin();
      await time.setNextBlockTimestamp(activeFrom - 1n);
      await expect(registry.connect(outsider).activate(erin.address))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryAdmissionPending")
        .withArgs(erin.address, activeFrom);
      await time.setNextBlockTimestamp(activeFrom);
      await expect(registry.connect(outsider).activate(erin.address)).to.emit(registry, "MemberActivated");
      expect([await registry.activeMemberCount(), await registry.votingMemberCount()]).to.deep.equal([5n, 5n]);
      expect(await registry.isVotingMember(erin.address)).to.equal(true);
      await expect(registry.activate(erin.address))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
        .withArgs(erin.address, MemberStatus.Active);
    });

    it("refuses to activate an account that is not admitted", async function () {
      const { registry, alice, frank } = await loadFixture(renouncedConsortiumFixture);
      await expect(registry.activate(frank.address)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus").withArgs(frank.address, MemberStatus.None);
      await expect(registry.activate(alice.address)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus").withArgs(alice.address, MemberStatus.Active);
    });

    it("lets no one make an admitted account a regulator, or admit it twice, while it waits", async function () {
      const { registry, alice, bob, erin, request } = await admittedErin();
      await expect(sendProposal(registry, alice, ProposalKind.AddRegulator, { account: erin.address }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryMemberExists")
        .withArgs(erin.address, MemberStatus.Admitted);
      await expect(sendProposal(registry, bob, ProposalKind.Admit, request))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryMemberExists")
        .withArgs(erin.address, MemberStatus.Admitted);
      // Nor suspend, remove or suspend by a regulator a member not in force: the veto is the way.
      await expect(sendProposal(registry, alice, ProposalKind.Remove, { account: erin.address }))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
        .withArgs(erin.address, MemberStatus.Admitted);
    });
  });

  describe("the regulator's veto", function () {
    it("returns the account to None within the window: its PeerId is free, the counters unchanged, and it may be proposed afresh", async function () {
      const { registry, alice, bob, carol, erin, regulator, request, activeFrom } = await admittedErin();
      await time.setNextBlockTimestamp(activeFrom - 1n);
      await expect(registry.connect(regulator).vetoAdmission(erin.address, REASON))
        .to.emit(registry, "AdmissionVetoed").withArgs(erin.address, regulator.address, REASON);
      const record = await registry.member(erin.address);
      expect([record.account, record.status, record.name, record.peerId, record.keyEpoch, record.oprfKey])
        .to.deep.equal([erin.address, BigInt(MemberStatus.None), "", "0x", 0n, ethers.ZeroHash]);
      expect((await registry.memberByPeerId(request.peerId)).account).to.equal(ZeroAddress);
      expect(await registry.admissionActiveFrom(erin.address)).to.equal(0n);
      expect([await registry.activeMemberCount(), await registry.votingMemberCount(), await registry.memberCount()]).to.deep.equal([4n, 4n, 5n]);
      await expect(registry.activate(erin.address)).to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus");

      // The same request, voted again, admits it again: listed once, in force after a fresh delay.
      await passProposal(registry, [alice, bob, carol], ProposalKind.Admit, request);
      const again = await registry.admissionActiveFrom(erin.address);
      expect(again).to.equal(BigInt(await time.latest()) + ADMISSION_DELAY_SECONDS);
      await time.increaseTo(again);
      await registry.activate(erin.address);
      expect((await registry.member(erin.address)).status).to.equal(MemberStatus.Active);
      expect(await registry.memberCount()).to.equal(5n);
      expect((await registry.memberAt(4)).account).to.equal(erin.address);
    });

    it("is refused once the window is over", async function () {
      const { registry, erin, regulator, activeFrom } = await admittedErin();
      await time.setNextBlockTimestamp(activeFrom);
      await expect(registry.connect(regulator).vetoAdmission(erin.address, REASON))
        .to.be.revertedWithCustomError(registry, "ConsortiumRegistryVetoWindowClosed")
        .withArgs(erin.address, activeFrom);
    });

    it("is refused from members, outsiders and the candidate", async function () {
      const { registry, alice, erin, outsider } = await admittedErin();
      for (const caller of [alice, outsider, erin]) {
        await expect(registry.connect(caller).vetoAdmission(erin.address, REASON), caller.address)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryNotRegulator")
          .withArgs(caller.address);
      }
    });

    it("names only admitted accounts: not members in force, nor strangers", async function () {
      const { registry, alice, frank, regulator } = await loadFixture(renouncedConsortiumFixture);
      await regulatorSuspend(registry, regulator, alice.address);
      for (const [account, status] of [[alice.address, MemberStatus.Suspended], [frank.address, MemberStatus.None]] as const) {
        await expect(registry.connect(regulator).vetoAdmission(account, REASON), account)
          .to.be.revertedWithCustomError(registry, "ConsortiumRegistryInvalidStatus")
          .withArgs(account, status);
      }
    });
  });
});
