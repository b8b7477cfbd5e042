/**
 * Governance proposals for people: every kind's arguments survive the payload round trip and come
 * back described (category names, durations, the quorum as a fraction, checksummed addresses);
 * the inputs the CLI takes are checked against the registry's bounds with a code naming the input.
 */
import { expect } from "chai";
import {
  checkCategoryName, checkKeyEpochLength, checkPolicy, checkQuorum, checkWarninglistHash, decodeProposalPayload, describeProposal, encodeProposalPayload,
  formatDuration, isTimelocked, MAX_KEY_EPOCH_LENGTH_SECONDS, MIN_KEY_EPOCH_LENGTH_SECONDS, ProposalKind, ProposalStatus, type ProposalArgsInput, type ProposalLookup,
} from "../../node/chain/index.ts";
import { isRiskshareError, RiskshareError } from "../../node/errors.ts";
import { parseDuration, parseFraction, parseUint64 } from "../../cli/parse.ts";
import { isPending, latestTimestamp, nextBlockTime, proposalState } from "../../cli/governance.ts";
import type { ChainSession } from "../../cli/chain.ts";

const ACCOUNT = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const LOOKUP: ProposalLookup = { categoryName: (id) => ({ 1: "fraud_confirmed", 7: "account_takeover" } as Record<number, string>)[id] };

/** Each kind: the arguments given, the sentence and details a person is shown. */
const KINDS: Array<{ kind: ProposalKind; args: ProposalArgsInput<ProposalKind>; summary: string; details: Record<string, unknown> }> = [
  {
    kind: ProposalKind.Admit,
    args: {
      account: ACCOUNT.toLowerCase(), name: "Bank D", peerId: "0x0025080212210279be66", oprfKey: `0x${"ab".repeat(32)}`,
      publicKey: `0x${"cd".repeat(64)}`, signature: `0x${"ef".repeat(65)}`,
    },
    summary: `admit Bank D (${ACCOUNT})`,
    details: {
      account: ACCOUNT, name: "Bank D", peerId: "0x0025080212210279be66", oprfKey: `0x${"ab".repeat(32)}`,
      publicKey: `0x${"cd".repeat(64)}`, signature: `0x${"ef".repeat(65)}`,
    },
  },
  { kind: ProposalKind.Suspend, args: { account: ACCOUNT.toLowerCase() }, summary: `suspend member ${ACCOUNT}`, details: { account: ACCOUNT } },
  { kind: ProposalKind.Reinstate, args: { account: ACCOUNT }, summary: `reinstate member ${ACCOUNT}`, details: { account: ACCOUNT } },
  { kind: ProposalKind.Remove, args: { account: ACCOUNT }, summary: `remove member ${ACCOUNT}`, details: { account: ACCOUNT } },
  { kind: ProposalKind.AddRegulator, args: { account: ACCOUNT.toLowerCase() }, summary: `add regulator ${ACCOUNT}`, details: { account: ACCOUNT } },
  { kind: ProposalKind.RemoveRegulator, args: { account: ACCOUNT }, summary: `remove regulator ${ACCOUNT}`, details: { account: ACCOUNT } },
  {
    kind: ProposalKind.SetPolicy,
    args: { categoryId: 7, policy: { minEntries: 50n, maxSnapshotAge: 259_200n, quotaBase: 2_000n, quotaRatioBps: 5_000n, quotaCeiling: 200_000n } },
    summary: "set the policy of account_takeover: at least 50 live entries, snapshot at most 3d old, quota 2000 + 0.5 per contributed entry a day, at most 200000",
    details: { category: "account_takeover", categoryId: 7, minEntries: 50n, maxSnapshotAge: "3d", maxSnapshotAgeSeconds: 259_200n, quotaBase: 2_000n, quotaRatioBps: 5_000n, quotaCeiling: 200_000n },
  },
  { kind: ProposalKind.AddCategory, args: { name: "account_takeover" }, summary: "add category account_takeover", details: { category: "account_takeover" } },
  { kind: ProposalKind.RetireCategory, args: { categoryId: 1 }, summary: "retire category fraud_confirmed", details: { category: "fraud_confirmed", categoryId: 1 } },
  {
    kind: ProposalKind.SetKeyEpochLength, args: { keyEpochLengthSeconds: 129_600n },
    summary: "set the key epoch length to 1d12h", details: { keyEpochLength: "1d12h", keyEpochLengthSeconds: 129_600n },
  },
  { kind: ProposalKind.SetQuorum, args: { numerator: 3, denominator: 4 }, summary: "set the quorum fraction to 3/4 of the voting members", details: { quorum: "3/4", numerator: 3, denominator: 4 } },
  { kind: ProposalKind.Unpause, args: {}, summary: "lift the regulator's pause of lookups", details: {} },
  {
    kind: ProposalKind.SetWarninglistHash, args: { hash: `0x${"A1".repeat(32)}` },
    summary: `pin the warninglists members should ship to hash 0x${"a1".repeat(32)}`, details: { warninglistHash: `0x${"a1".repeat(32)}` },
  },
];

function thrown(fn: () => unknown): RiskshareError {
  try {
    fn();
  } catch (err) {
    if (isRiskshareError(err)) return err;
    throw err;
  }
  throw new Error("expected a RiskshareError, nothing was thrown");
}

describe("governance proposals: payloads and descriptions", () => {
  it("covers every proposal kind", () => {
    expect(KINDS.map((k) => k.kind).sort((x, y) => x - y)).to.deep.equal(Object.values(ProposalKind));
  });

  for (const { kind, args, summary, details } of KINDS) {
    it(`${Object.keys(ProposalKind)[kind]}: encode → decode → describe gives the arguments back, for people`, () => {
      const payload = encodeProposalPayload(kind, args);
      const decoded = decodeProposalPayload(kind, payload);
      expect(encodeProposalPayload(kind, decoded as ProposalArgsInput<ProposalKind>), "re-encoding the decoded arguments gives the same payload").to.equal(payload);
      const described = describeProposal(kind, decoded, LOOKUP);
      expect(described.summary).to.equal(summary);
      expect(described.details).to.deep.equal(details);
    });
  }

  it("names a category the registry does not know by its id, and prints a PeerId through the lookup given", () => {
    expect(describeProposal(ProposalKind.RetireCategory, { categoryId: 42 }, LOOKUP).details).to.deep.equal({ category: "#42 (unknown)", categoryId: 42 });
    const admit = KINDS[0]!.args as { account: string; name: string; peerId: string; oprfKey: string; publicKey: string; signature: string };
    const described = describeProposal(ProposalKind.Admit, admit, { ...LOOKUP, peerIdText: (hex) => `text-of-${hex}` });
    expect(described.details.peerId).to.equal(`text-of-${admit.peerId}`);
  });

  it("takes a warninglist hash as 64 hex digits after 0x, lowercased, and refuses zero or anything else with E_BAD_INPUT on `hash`", () => {
    expect(checkWarninglistHash(` 0x${"AB".repeat(32)} `)).to.equal(`0x${"ab".repeat(32)}`);
    for (const text of [`0x${"00".repeat(32)}`, `0x${"ab".repeat(31)}`, "ab".repeat(32), `0x${"zz".repeat(32)}`, ""]) {
      const err = thrown(() => checkWarninglistHash(text));
      expect([err.code, err.meta.argument], JSON.stringify(text)).to.deep.equal(["E_BAD_INPUT", "hash"]);
    }
  });

  it("formats durations in the largest units that divide them", () => {
    const table: Array<[bigint, string]> = [[0n, "0s"], [59n, "59s"], [3_600n, "1h"], [5_400n, "1h30m"], [86_400n, "1d"], [7_776_000n, "90d"], [63_072_000n, "730d"], [90_061n, "1d1h1m1s"]];
    for (const [seconds, text] of table) expect(formatDuration(seconds), `${seconds}s`).to.equal(text);
  });
});

describe("governance inputs: checked before anything is sent", () => {
  it("parses durations in s, m, h, d, w and combinations, and round-trips them through formatDuration", () => {
    const table: Array<[string, bigint]> = [["90d", 7_776_000n], ["12h", 43_200n], ["1d12h", 129_600n], ["45m", 2_700n], ["3600s", 3_600n], ["2w", 1_209_600n], ["3600", 3_600n], [" 7D ", 604_800n]];
    for (const [text, seconds] of table) expect(parseDuration(text, "--max-snapshot-age"), text).to.equal(seconds);
    for (const seconds of [1n, 61n, 3_600n, 129_600n, 7_776_000n]) expect(parseDuration(formatDuration(seconds), "d"), `${seconds}`).to.equal(seconds);
  });

  it("refuses a duration that does not parse with E_USAGE naming the argument", () => {
    for (const text of ["", "d", "90 days", "1.5d", "-3d", "90y", "1d 12h", "1d12", "P90D"]) {
      const err = thrown(() => parseDuration(text, "--max-snapshot-age"));
      expect(err.code, JSON.stringify(text)).to.equal("E_USAGE");
      expect(err.message, JSON.stringify(text)).to.match(/^--max-snapshot-age must be a duration such as 90d/);
      expect(err.meta.argument, JSON.stringify(text)).to.equal("--max-snapshot-age");
    }
  });

  it("parses a quorum fraction in (0, 1] and refuses others with E_USAGE naming the argument", () => {
    expect(parseFraction("2/3", "fraction")).to.deep.equal({ numerator: 2, denominator: 3 });
    expect(parseFraction(" 1/1 ", "fraction")).to.deep.equal({ numerator: 1, denominator: 1 });
    for (const text of ["4/3", "0/3", "1/0", "2/", "0.66", "2/3/4", "1/65536"]) {
      const err = thrown(() => parseFraction(text, "fraction"));
      expect(err.code, text).to.equal("E_USAGE");
      expect(err.message, text).to.match(/^fraction must be a fraction above 0 and at most 1/);
      expect(err.meta.argument, text).to.equal("fraction");
    }
  });

  it("parses uint64 counts and refuses the rest with E_USAGE naming the option", () => {
    expect(parseUint64("10_000", "--quota-base")).to.equal(10_000n);
    expect(parseUint64(String((1n << 64n) - 1n), "--quota-base")).to.equal((1n << 64n) - 1n);
    for (const text of ["-1", "1.5", "ten", "", String(1n << 64n)]) {
      const err = thrown(() => parseUint64(text, "--quota-base"));
      expect(err.code, text).to.equal("E_USAGE");
      expect(err.message, text).to.match(/^--quota-base must be a whole number/);
    }
  });

  it("holds the quorum to the registry's bounds (1/2 < n/d ≤ 3/4, d ≤ 65535) with E_BAD_INPUT on `quorum`", () => {
    for (const ok of [{ numerator: 2, denominator: 3 }, { numerator: 3, denominator: 4 }, { numerator: 7, denominator: 10 }, { numerator: 32_768, denominator: 65_535 }]) expect(() => checkQuorum(ok), JSON.stringify(ok)).to.not.throw();
    const badQuorums = [
      { numerator: 0, denominator: 3 }, { numerator: 1, denominator: 2 }, { numerator: 4, denominator: 5 }, { numerator: 1, denominator: 1 }, { numerator: 4, denominator: 3 },
      { numerator: 2, denominator: 65_536 }, { numerator: 1.5, denominator: 3 }, { numerator: 1, denominator: 0 },
    ];
    for (const bad of badQuorums) {
      const err = thrown(() => checkQuorum(bad));
      expect(err.code, JSON.stringify(bad)).to.equal("E_BAD_INPUT");
      expect(err.meta.argument, JSON.stringify(bad)).to.equal("quorum");
      expect(err.message, JSON.stringify(bad)).to.contain("outside the registry's bounds");
    }
  });

  it("holds the key epoch length to 1 hour .. 730 days with E_BAD_INPUT on `keyEpochLength`", () => {
    expect(() => checkKeyEpochLength(MIN_KEY_EPOCH_LENGTH_SECONDS)).to.not.throw();
    expect(() => checkKeyEpochLength(MAX_KEY_EPOCH_LENGTH_SECONDS)).to.not.throw();
    for (const seconds of [0n, MIN_KEY_EPOCH_LENGTH_SECONDS - 1n, MAX_KEY_EPOCH_LENGTH_SECONDS + 1n]) {
      const err = thrown(() => checkKeyEpochLength(seconds));
      expect(err.code, `${seconds}`).to.equal("E_BAD_INPUT");
      expect(err.meta.argument, `${seconds}`).to.equal("keyEpochLength");
      expect(err.message, `${seconds}`).to.contain("bounds of 1h to 730d");
    }
  });

  it("refuses a policy that admits nobody, has no ceiling or one below its base, or does not fit uint64, naming the field", () => {
    const good = { minEntries: 0n, maxSnapshotAge: 1n, quotaBase: 0n, quotaRatioBps: 1n, quotaCeiling: 1n };
    expect(() => checkPolicy(good)).to.not.throw();
    const table: Array<[Partial<typeof good>, string]> = [
      [{ maxSnapshotAge: 0n }, "maxSnapshotAge"],
      [{ quotaBase: 0n, quotaRatioBps: 0n }, "quotaBase"],
      [{ minEntries: 1n << 64n }, "minEntries"],
      [{ quotaRatioBps: -1n }, "quotaRatioBps"],
      [{ quotaCeiling: 0n }, "quotaCeiling"],
      [{ quotaBase: 2n }, "quotaCeiling"],
      [{ quotaCeiling: 1n << 64n }, "quotaCeiling"],
    ];
    for (const [change, field] of table) {
      const err = thrown(() => checkPolicy({ ...good, ...change }));
      expect(err.code, field).to.equal("E_BAD_INPUT");
      expect(err.meta.argument, field).to.equal(field);
    }
  });

  it("refuses a category name that is empty, over 128 bytes or padded with spaces", () => {
    expect(() => checkCategoryName("account_takeover")).to.not.throw();
    expect(() => checkCategoryName("é".repeat(64))).to.not.throw(); // 128 bytes
    for (const name of ["", "é".repeat(65), " spaced", "x".repeat(129)]) {
      const err = thrown(() => checkCategoryName(name));
      expect(err.code, name).to.equal("E_BAD_INPUT");
      expect(err.meta.argument, name).to.equal("name");
    }
  });
});

describe("a proposal's state, from its on-chain status and the chain's clock", () => {
  const times = { expiresAt: 1_000, quorum: 3, eta: 2_000, lapsesAt: 2_500 };
  const cases: Array<[string, number, number, number, ReturnType<typeof proposalState>]> = [
    // [what, status, now, votes, state]
    ["open, short of votes", ProposalStatus.Open, 500, 2, "open"],
    ["open, with enough votes", ProposalStatus.Open, 500, 3, "passable"],
    ["never executed, past its voting period", ProposalStatus.Open, 1_000, 3, "expired"],
    ["applied at execute", ProposalStatus.Executed, 5_000, 3, "executed"],
    ["queued, before its eta", ProposalStatus.Queued, 1_999, 3, "queued"],
    ["queued, from its eta", ProposalStatus.Queued, 2_000, 3, "enactable"],
    ["queued, not enacted a voting period after its eta", ProposalStatus.Queued, 2_500, 3, "lapsed"],
    ["enacted", ProposalStatus.Enacted, 9_000, 3, "enacted"],
  ];
  for (const [what, status, nowSec, votes, state] of cases) {
    it(`${what}: ${state}`, () => {
      const queued = status === ProposalStatus.Queued || status === ProposalStatus.Enacted;
      expect(proposalState(status, { ...times, nowSec, votes, eta: queued ? times.eta : null, lapsesAt: queued ? times.lapsesAt : null })).to.equal(state);
    });
  }

  it("only open and queued proposals are pending", () => {
    expect(["open", "passable", "queued", "enactable", "executed", "expired", "enacted", "lapsed"].filter((s) => isPending(s as Parameters<typeof isPending>[0])))
      .to.deep.equal(["open", "passable", "queued", "enactable"]);
  });

  it("the time-locked kinds are the rule changes: Remove, the regulators, policy, category retirement and the quorum", () => {
    const names = Object.entries(ProposalKind).filter(([, kind]) => isTimelocked(kind)).map(([name]) => name);
    expect(names).to.deep.equal(["Remove", "AddRegulator", "RemoveRegulator", "SetPolicy", "RetireCategory", "SetQuorum"]);
  });
});

describe("the time a transaction sent now is judged by (cli/governance.ts nextBlockTime)", () => {
  const sessionAt = (timestamp: number) => ({ connection: { provider: { getBlock: async () => ({ timestamp }) } } }) as unknown as ChainSession;

  it("is the wall clock on a chain that mines on demand and has made no block for a while", async () => {
    const now = Math.floor(Date.now() / 1000);
    const judged = await nextBlockTime(sessionAt(now - 3_600));
    expect(judged).to.be.within(now, now + 2);
    // The latest block alone would say an hour ago: a timelock that ended since would still look pending.
    expect(await latestTimestamp(sessionAt(now - 3_600))).to.equal(now - 3_600);
  });

  it("is the latest block's time on a chain whose clock runs ahead of this machine's", async () => {
    const ahead = Math.floor(Date.now() / 1000) + 600;
    expect(await nextBlockTime(sessionAt(ahead))).to.equal(ahead);
  });
});
