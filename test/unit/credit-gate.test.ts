import { expect } from "chai";
import { silentLogger } from "../../node/logger.ts";
import { availableCredits, CreditGate, type MemberCredits } from "../../node/policy/index.ts";

const MEMBER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

/** A gate over a fake ledger: `ledger` is what creditsOf returns now (or throws when `down`), `reads` counts the calls. */
function gate(ledger: { credits: MemberCredits; down?: boolean }) {
  let nowMs = 1_000_000;
  let reads = 0;
  const credits = new CreditGate({ maxAgeMs: 5_000 }, {
    reader: {
      creditsOf: async () => {
        reads++;
        if (ledger.down === true) throw Object.assign(new Error("connection refused"), { code: "E_CHAIN_UNREACHABLE" });
        return ledger.credits;
      },
    },
    logger: silentLogger(),
    nowMs: () => nowMs,
  });
  return { credits, reads: () => reads, advance: (ms: number) => (nowMs += ms) };
}

describe("policy: the credit gate (balance + overdraft on the QueryLedger)", () => {
  it("what a member may still ask for is balance + overdraft, never below 0", () => {
    expect(availableCredits({ balance: 100n, overdraft: 0n })).to.equal(100n);
    expect(availableCredits({ balance: -30n, overdraft: 50n })).to.equal(20n);
    expect(availableCredits({ balance: -80n, overdraft: 50n })).to.equal(0n);
  });

  it("covers a request up to balance + overdraft exactly, and refuses one item more", async () => {
    const { credits } = gate({ credits: { balance: 10n, overdraft: 6n } });
    expect(await credits.covers(MEMBER, 16)).to.deep.equal({ allowed: true, available: 16n });
    expect(await credits.covers(MEMBER, 17)).to.deep.equal({ allowed: false, available: 16n });
  });

  it("reads the chain again only once the cached credits are older than maxAgeMs, or on refresh (after the view caught up)", async () => {
    const ledger = { credits: { balance: 10n, overdraft: 0n } };
    const { credits, reads, advance } = gate(ledger);
    await Promise.all([credits.covers(MEMBER, 1), credits.covers(MEMBER.toLowerCase(), 1)]);
    expect(reads(), "concurrent first reads are one").to.equal(1);
    ledger.credits = { balance: 0n, overdraft: 0n };
    expect((await credits.covers(MEMBER, 1)).allowed, "cached").to.equal(true);
    advance(5_001);
    expect((await credits.covers(MEMBER, 1)).allowed, "re-read").to.equal(false);
    ledger.credits = { balance: 5n, overdraft: 0n };
    await credits.refresh();
    expect(await credits.covers(MEMBER, 5)).to.deep.equal({ allowed: true, available: 5n });
    expect(reads()).to.equal(3);
  });

  it("while the chain cannot be read keeps the last credits read (retrying once per maxAgeMs), and lets through a member never read", async () => {
    const ledger: { credits: MemberCredits; down?: boolean } = { credits: { balance: 2n, overdraft: 0n } };
    const { credits, reads, advance } = gate(ledger);
    await credits.covers(MEMBER, 1);
    ledger.down = true;
    advance(5_001);
    expect(await credits.covers(MEMBER, 3)).to.deep.equal({ allowed: false, available: 2n });
    expect(await credits.covers(MEMBER, 3), "not retried at once").to.deep.equal({ allowed: false, available: 2n });
    expect(reads()).to.equal(2);
    expect(await credits.covers("0x90F79bf6EB2c4f870365E785982E1f101E93b906", 1_000)).to.deep.equal({ allowed: true, available: undefined });
  });

  it("waits for a read at most readWaitMs: a hanging RPC does not stall decisions", async () => {
    let release: () => void = () => undefined;
    const credits = new CreditGate({ maxAgeMs: 5_000, readWaitMs: 20 }, {
      reader: { creditsOf: () => new Promise((resolve) => (release = () => resolve({ balance: 1n, overdraft: 0n }))) },
      logger: silentLogger(),
    });
    expect(await credits.covers(MEMBER, 5), "never read, the read hangs: let through").to.deep.equal({ allowed: true, available: undefined });
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await credits.covers(MEMBER, 5), "the read landed").to.deep.equal({ allowed: false, available: 1n });
  });
});
