import { expect } from "chai";
import { filterDirectory, QuerierFanOut, type LookupOutcome, type ProviderInfo, type QuerierFanOutModules } from "../../node/p2p/index.ts";
import type { FanOutTarget } from "../../node/p2p/index.ts";
import type { ReciprocityDecision } from "../../node/policy/index.ts";

const A: ProviderInfo = { address: "0x00000000000000000000000000000000000000aa", name: "Bank A", peerId: "0xaa", keyEpoch: 2 };
const C: ProviderInfo = { address: "0x00000000000000000000000000000000000000cc", name: "Bank C", peerId: "0xcc", keyEpoch: 1 };
const FRAUD = 1;
const MULES = 3;
const ALLOWED: ReciprocityDecision = { allowed: true, quotaRemaining: 100 };
const ITEMS = [{ type: "phone", value: "+8613800138000" }, { type: "bank_card", value: "6222000000000000012" }];

/** A consortium where A lists fraud (epoch 2) and C lists only mules (epoch 1); `held` is what filters this node holds. */
function fanOut(over: { mayAsk?: ReciprocityDecision; held?: Map<string, number>; syncGives?: Map<string, number>; ownCredits?: bigint } = {}) {
  const held = over.held ?? new Map([[`${A.address}/${FRAUD}`, 2], [`${A.address}/${MULES}`, 2], [`${C.address}/${MULES}`, 1]]);
  const asked: FanOutTarget[][] = [];
  let syncs = 0;
  const lists = new Map([[`${A.address}/${FRAUD}`, 50n], [`${A.address}/${MULES}`, 10n], [`${C.address}/${MULES}`, 200n], [`${C.address}/${FRAUD}`, 0n]]);
  const modules: QuerierFanOutModules = {
    view: {
      member: (address) => [A, C].find((m) => m.address === address.toLowerCase()),
      contribution: (address, categoryId) => {
        const liveCount = lists.get(`${address}/${categoryId}`);
        return liveCount === undefined ? undefined : { liveCount };
      },
    },
    mayAsk: () => over.mayAsk ?? ALLOWED,
    filters: {
      held: (provider, categoryId) => {
        const epoch = held.get(`${provider}/${categoryId}`);
        return epoch === undefined ? undefined : { epoch };
      },
      syncOnce: async () => {
        syncs++;
        for (const [key, epoch] of over.syncGives ?? []) held.set(key, epoch);
      },
    },
    dialTarget: (peerIdHex) => ({ peerIdHex }) as never,
    ...(over.ownCredits === undefined ? {} : { ownCredits: async () => over.ownCredits }),
    fanOut: async (targets, query) => {
      asked.push([...targets]);
      return targets.map((t): LookupOutcome => ({
        status: "answered", providerAddress: t.providerAddress, queryId: `0x${t.providerAddress.slice(-2)}`, keyEpoch: 1, fetchQueryIds: [],
        results: query.items.map(() => ({ hit: false })),
      }));
    },
  };
  return { querier: new QuerierFanOut(modules), asked, syncs: () => syncs };
}

describe("p2p: the querier's fan-out asks only what a provider would answer", () => {
  it("asks each provider only for the categories its on-chain snapshots list", async () => {
    const { querier, asked, syncs } = fanOut();
    const outcomes = await querier.ask([A.address, C.address], { items: ITEMS, categoryIds: [FRAUD, MULES] });
    expect(asked).to.have.length(1);
    expect(asked[0]!.map((t) => [t.providerAddress, t.categoryIds])).to.deep.equal([[A.address, [FRAUD, MULES]], [C.address, [MULES]]]);
    expect(outcomes.map((o) => [o.name, o.status])).to.deep.equal([["Bank A", "answered"], ["Bank C", "answered"]]);
    expect(syncs(), "every filter held at its provider's epoch: no sync").to.equal(0);
  });

  it("reports a provider that lists nothing in the categories asked as a miss, without a request", async () => {
    const { querier, asked } = fanOut();
    const [c] = await querier.ask([C.address], { items: ITEMS, categoryIds: [FRAUD] });
    expect(asked, "nothing sent").to.deep.equal([]);
    expect(c).to.deep.equal({ address: C.address, name: "Bank C", status: "answered", results: [{ hit: false }, { hit: false }] });
  });

  it("sends nothing when this member's credits do not cover every Evaluate's padded items: those providers are skipped (E_CREDITS_EXHAUSTED)", async () => {
    // Two items pad to a shape of 2; A and C would each be sent one Evaluate: 4 items in all.
    const short = fanOut({ ownCredits: 3n });
    const outcomes = await short.querier.ask([A.address, C.address], { items: ITEMS, categoryIds: [FRAUD, MULES] });
    expect(short.asked, "nothing sent").to.deep.equal([]);
    for (const o of outcomes) expect(o, o.name).to.deep.include({ status: "skipped", code: "E_CREDITS_EXHAUSTED" });
    // A provider that would not be asked anyway (lists nothing asked) stays a miss without a request.
    const [c] = await short.querier.ask([C.address], { items: ITEMS, categoryIds: [FRAUD] });
    expect(c).to.deep.include({ status: "answered" });
    const enough = fanOut({ ownCredits: 4n });
    const answered = await enough.querier.ask([A.address, C.address], { items: ITEMS, categoryIds: [FRAUD, MULES] });
    expect(answered.map((o) => o.status)).to.deep.equal(["answered", "answered"]);
    const unknown = fanOut();
    expect((await unknown.querier.ask([A.address], { items: ITEMS, categoryIds: [FRAUD] }))[0]!.status, "no credit reader: no gate").to.equal("answered");
  });

  it("refuses at the querier a category this member may not ask for, with the rule's code, and sends nothing", async () => {
    const { querier, asked } = fanOut({ mayAsk: { allowed: false, reason: "no_contribution", categoryId: FRAUD } });
    const outcomes = await querier.ask([A.address, C.address], { items: ITEMS, categoryIds: [FRAUD] });
    expect(asked).to.deep.equal([]);
    for (const o of outcomes) expect(o, o.name).to.deep.include({ status: "denied", code: "E_RECIPROCITY" });
  });

  it("syncs a filter held for an older key epoch before asking, and asks once it is current", async () => {
    const held = new Map([[`${A.address}/${FRAUD}`, 1]]);
    const { querier, asked, syncs } = fanOut({ held, syncGives: new Map([[`${A.address}/${FRAUD}`, 2]]) });
    const [a] = await querier.ask([A.address], { items: ITEMS, categoryIds: [FRAUD] });
    expect(syncs()).to.equal(1);
    expect(asked.flat().map((t) => t.providerAddress)).to.deep.equal([A.address]);
    expect(a!.status).to.equal("answered");
  });

  it("does not ask a provider whose filters are still missing after a sync: E_FILTER_MISSING, no evaluation charged", async () => {
    const { querier, asked, syncs } = fanOut({ held: new Map([[`${C.address}/${MULES}`, 1]]) });
    const outcomes = await querier.ask([A.address, C.address], { items: ITEMS, categoryIds: [FRAUD, MULES] });
    expect(syncs()).to.equal(1);
    expect(asked.flat().map((t) => t.providerAddress), "only the provider whose filters are here").to.deep.equal([C.address]);
    expect(outcomes[0]).to.deep.equal({ address: A.address, name: "Bank A", status: "error", code: "E_FILTER_MISSING" });
  });

  it("refuses a provider address that is no member", async () => {
    const { querier } = fanOut();
    const error = await querier.ask(["0x00000000000000000000000000000000000000ff"], { items: ITEMS, categoryIds: [FRAUD] }).then(() => undefined, (err: unknown) => err);
    expect((error as { code?: string }).code).to.equal("E_BAD_INPUT");
  });
});

describe("p2p: the filter directory", () => {
  it("keeps every other Active member's filters for the categories this member may ask and the member lists", () => {
    const directory = filterDirectory({
      self: A.address,
      activeMembers: () => [A, C],
      contribution: (address, categoryId) => (address === C.address && categoryId === MULES ? { liveCount: 200n, keyEpoch: 1, filterHash: "0x01" } : address === C.address && categoryId === FRAUD ? { liveCount: 0n, keyEpoch: 1, filterHash: "0x02" } : undefined),
      askableCategoryIds: () => [FRAUD, MULES],
      dialTarget: (peerIdHex) => ({ peerIdHex }) as never,
    });
    expect(directory.targets().map((t) => [t.providerAddress, t.categoryIds])).to.deep.equal([[C.address, [MULES]]]);
    expect(directory.snapshot(C.address, MULES)).to.deep.equal({ keyEpoch: 1, filterHash: "0x01", liveCount: 200n });
    expect(directory.snapshot(A.address, MULES)).to.equal(undefined);
  });
});
