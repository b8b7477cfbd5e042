/**
 * The CLI checks governance inputs before sending anything (node/chain/proposals.ts); these checks
 * must accept exactly what ConsortiumRegistry accepts. Each edge is tried on both sides: the
 * TypeScript check and a real `propose` on the Hardhat network.
 */
import { expect } from "chai";
import { network } from "hardhat";
import {
  checkCategoryName, checkKeyEpochLength, checkPolicy, checkQuorum, MAX_CATEGORY_NAME_BYTES, MAX_KEY_EPOCH_LENGTH_SECONDS,
  MIN_KEY_EPOCH_LENGTH_SECONDS, ProposalKind, type CategoryPolicy,
} from "../../node/chain/index.ts";
import { consortiumFixture, POLICY, sendProposal } from "./fixtures.ts";

const { networkHelpers } = await network.create();
const { loadFixture } = networkHelpers;

function accepts(check: () => void): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

describe("governance input checks agree with ConsortiumRegistry", function () {
  it("holds the same key epoch bounds as the registry's constants", async function () {
    const { registry } = await loadFixture(consortiumFixture);
    expect(await registry.MIN_KEY_EPOCH_LENGTH()).to.equal(MIN_KEY_EPOCH_LENGTH_SECONDS);
    expect(await registry.MAX_KEY_EPOCH_LENGTH()).to.equal(MAX_KEY_EPOCH_LENGTH_SECONDS);
    expect(await registry.MAX_NAME_BYTES()).to.equal(BigInt(MAX_CATEGORY_NAME_BYTES));
  });

  it("accepts and refuses the same key epoch lengths, quorums, policies and category names as `propose`", async function () {
    const { registry, alice } = await loadFixture(consortiumFixture);
    // Each case on a fresh copy of the chain: the registry holds at most 3 open proposals per account.
    const onChain = async (send: () => Promise<unknown>): Promise<boolean> => {
      await loadFixture(consortiumFixture);
      return send().then(() => true, () => false);
    };
    const cases: Array<[string, () => void, () => Promise<unknown>]> = [];
    for (const seconds of [MIN_KEY_EPOCH_LENGTH_SECONDS - 1n, MIN_KEY_EPOCH_LENGTH_SECONDS, MAX_KEY_EPOCH_LENGTH_SECONDS, MAX_KEY_EPOCH_LENGTH_SECONDS + 1n]) {
      cases.push([`key epoch ${seconds}s`, () => checkKeyEpochLength(seconds), () => sendProposal(registry, alice, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: seconds })]);
    }
    for (const [numerator, denominator] of [[0, 3], [1, 2], [2, 3], [3, 4], [4, 5], [7, 10], [3, 3], [4, 3], [32_768, 65_535], [65_535, 65_535]] as const) {
      cases.push([`quorum ${numerator}/${denominator}`, () => checkQuorum({ numerator, denominator }), () => sendProposal(registry, alice, ProposalKind.SetQuorum, { numerator, denominator })]);
    }
    const policies: Array<[string, CategoryPolicy]> = [
      ["the fixture's policy", POLICY],
      ["zero snapshot age", { ...POLICY, maxSnapshotAge: 0n }],
      ["zero quota base and ratio", { ...POLICY, quotaBase: 0n, quotaRatioBps: 0n }],
      ["zero quota base only", { ...POLICY, quotaBase: 0n, quotaRatioBps: 1n }],
      ["zero min entries", { ...POLICY, minEntries: 0n }],
    ];
    for (const [what, policy] of policies) {
      cases.push([`policy: ${what}`, () => checkPolicy(policy), () => sendProposal(registry, alice, ProposalKind.SetPolicy, { categoryId: 1, policy })]);
    }
    for (const name of ["x".repeat(MAX_CATEGORY_NAME_BYTES), "x".repeat(MAX_CATEGORY_NAME_BYTES + 1), "é".repeat(64), "é".repeat(65)]) {
      cases.push([`category name of ${Buffer.byteLength(name)} bytes`, () => checkCategoryName(name), () => sendProposal(registry, alice, ProposalKind.AddCategory, { name })]);
    }
    for (const [what, check, send] of cases) {
      expect(accepts(check), what).to.equal(await onChain(send));
    }
  });
});
