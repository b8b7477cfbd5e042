/**
 * node/chain/governance.ts: the TypeScript side of the contracts' encodings (payloads, category
 * masks, compact signatures). The contract suites check the same values against the chain.
 */
import { expect } from "chai";
import { AbiCoder, Wallet, hexlify, randomBytes } from "ethers";
import {
  MAX_CATEGORY_ID,
  MemberStatus,
  ProposalKind,
  categoryIdsFromMask,
  categoryMask,
  decodeProposalPayload,
  encodeProposalPayload,
  fromCompactSignature,
  memberStatusName,
  proposalKindName,
  toCompactSignature,
} from "../../node/chain/governance.ts";
import { isRiskshareError } from "../../node/errors.ts";

/** Asserts that `run` throws a RiskshareError with code E_BAD_INPUT. */
function expectBadInput(run: () => unknown, what: string): void {
  try {
    run();
  } catch (err) {
    expect(isRiskshareError(err, "E_BAD_INPUT"), `${what}: ${String(err)}`).to.equal(true);
    return;
  }
  expect.fail(`${what}: did not throw`);
}

describe("governance encodings (node/chain/governance.ts)", function () {
  it("numbers kinds and statuses as RiskshareTypes.sol declares them", function () {
    expect(Object.keys(ProposalKind)).to.deep.equal([
      "Admit", "Suspend", "Reinstate", "Remove", "AddRegulator", "RemoveRegulator",
      "SetPolicy", "AddCategory", "RetireCategory", "SetKeyEpochLength", "SetQuorum", "Unpause", "SetWarninglistHash",
    ]);
    expect(Object.values(ProposalKind)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(Object.entries(MemberStatus)).to.deep.equal([["None", 0], ["Proposed", 1], ["Active", 2], ["Suspended", 3], ["Removed", 4], ["Admitted", 5], ["Rotated", 6]]);
    expect(proposalKindName(6)).to.equal("SetPolicy");
    expect(memberStatusName(4)).to.equal("Removed");
    expectBadInput(() => proposalKindName(13), "kind 13");
    expect(memberStatusName(5)).to.equal("Admitted");
    expect(memberStatusName(6)).to.equal("Rotated");
    expectBadInput(() => memberStatusName(7), "status 7");
  });

  it("round-trips every kind's payload", function () {
    const account = Wallet.createRandom().address;
    const cases = [
      [ProposalKind.Admit, { account, name: "Bank A 银行", peerId: hexlify(randomBytes(39)), oprfKey: hexlify(randomBytes(32)), publicKey: hexlify(randomBytes(64)), signature: hexlify(randomBytes(65)) }],
      [ProposalKind.Suspend, { account }],
      [ProposalKind.Reinstate, { account }],
      [ProposalKind.Remove, { account }],
      [ProposalKind.AddRegulator, { account }],
      [ProposalKind.RemoveRegulator, { account }],
      [ProposalKind.SetPolicy, { categoryId: 63, policy: { minEntries: 1n, maxSnapshotAge: 2n, quotaBase: 3n, quotaRatioBps: 2n ** 64n - 1n, quotaCeiling: 2n ** 64n - 1n } }],
      [ProposalKind.AddCategory, { name: "stolen_card" }],
      [ProposalKind.RetireCategory, { categoryId: 1 }],
      [ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 90n * 86_400n }],
      [ProposalKind.SetQuorum, { numerator: 2, denominator: 3 }],
      [ProposalKind.Unpause, {}],
      [ProposalKind.SetWarninglistHash, { hash: hexlify(randomBytes(32)) }],
    ] as const;
    for (const [kind, args] of cases) {
      const payload = encodeProposalPayload(kind, args as never);
      expect(decodeProposalPayload(kind, payload), `kind ${kind}`).to.deep.equal(args);
    }
    expect(encodeProposalPayload(ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 3_600n })).to.equal(AbiCoder.defaultAbiCoder().encode(["uint64"], [3_600n]));
    expect(encodeProposalPayload(ProposalKind.Suspend, { account })).to.equal(AbiCoder.defaultAbiCoder().encode(["address"], [account]));
  });

  it("refuses invalid arguments and malformed payloads with E_BAD_INPUT", function () {
    expectBadInput(() => encodeProposalPayload(ProposalKind.Suspend, { account: "0x1234" }), "short address");
    expectBadInput(() => encodeProposalPayload(ProposalKind.AddCategory, { name: "" }), "empty category name");
    expectBadInput(() => encodeProposalPayload(ProposalKind.RetireCategory, { categoryId: 64 }), "category 64");
    expectBadInput(() => encodeProposalPayload(ProposalKind.RetireCategory, { categoryId: 0 }), "category 0");
    expectBadInput(() => encodeProposalPayload(ProposalKind.SetQuorum, { numerator: 70_000, denominator: 1 }), "uint16 overflow");
    expectBadInput(() => encodeProposalPayload(13 as ProposalKind, {} as never), "unknown kind");
    expectBadInput(() => encodeProposalPayload(ProposalKind.SetWarninglistHash, { hash: `0x${"00".repeat(32)}` }), "zero warninglist hash");
    expectBadInput(() => encodeProposalPayload(ProposalKind.SetWarninglistHash, { hash: hexlify(randomBytes(31)) }), "short warninglist hash");
    expectBadInput(() => decodeProposalPayload(ProposalKind.Admit, "0x1234"), "truncated Admit");
    expectBadInput(() => decodeProposalPayload(ProposalKind.SetKeyEpochLength, "0x"), "empty SetKeyEpochLength");
    expectBadInput(() => encodeProposalPayload(ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: 1n << 64n }), "uint64 overflow");
    const account = Wallet.createRandom().address;
    const admit = { account, name: "Bank A", peerId: hexlify(randomBytes(39)), publicKey: hexlify(randomBytes(64)), signature: hexlify(randomBytes(65)) };
    expectBadInput(() => encodeProposalPayload(ProposalKind.Admit, { ...admit, oprfKey: `0x${"00".repeat(32)}` }), "zero OPRF key");
    expectBadInput(() => encodeProposalPayload(ProposalKind.Admit, { ...admit, oprfKey: hexlify(randomBytes(31)) }), "short OPRF key");
  });

  it("maps category ids to a uint64 mask and back", function () {
    const cases: [number[], bigint][] = [
      [[], 0n],
      [[1], 2n],
      [[1, 3], 10n],
      [[63], 1n << 63n],
      [[2, 1, 2], 6n],
    ];
    for (const [ids, mask] of cases) {
      expect(categoryMask(ids), `ids ${ids.join(",")}`).to.equal(mask);
      expect(categoryIdsFromMask(mask), `mask ${mask}`).to.deep.equal([...new Set(ids)].sort((a, b) => a - b));
    }
    const all = Array.from({ length: MAX_CATEGORY_ID }, (_, index) => index + 1);
    expect(categoryIdsFromMask(categoryMask(all))).to.deep.equal(all);
    for (const id of [0, 64, -1, 1.5, Number.NaN]) expectBadInput(() => categoryMask([id]), `id ${id}`);
    for (const mask of [1n, 3n, 1n << 64n, -2n]) expectBadInput(() => categoryIdsFromMask(mask), `mask ${mask}`);
  });

  it("converts signatures to EIP-2098 (r, vs) and back", async function () {
    const wallet = Wallet.createRandom();
    for (let attempt = 0; attempt < 8; attempt++) {
      const signature = await wallet.signMessage(randomBytes(32));
      const { r, vs } = toCompactSignature(signature);
      expect(r).to.equal(signature.slice(0, 66));
      expect(fromCompactSignature(r, vs), `attempt ${attempt}`).to.equal(signature);
    }
    expectBadInput(() => toCompactSignature("0x1234"), "short signature");
    expectBadInput(() => fromCompactSignature("0x12", "0x34"), "short r and vs");
  });
});
