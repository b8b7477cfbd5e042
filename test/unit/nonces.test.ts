import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Level } from "level";
import {
  EMPTY_NONCE_WINDOW, isNonceValue, MAX_NONCE, nextNonceWindow, nonceFromBytes32, nonceToBytes32, type NonceVerdict, type NonceWindow,
} from "../../node/chain/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { Bucket, NONCE_BLOCK_SIZE, Store } from "../../node/store/index.ts";

const QUERIER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const PROVIDER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const OTHER_PROVIDER = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const CATEGORIES = new Map([["fraud_confirmed", 1]]);
const NOW_MS = 1_750_000_000_000;

/** Applies nonces in order from an empty window; the verdicts and the final state. */
function run(nonces: readonly bigint[]): { verdicts: NonceVerdict[]; state: NonceWindow } {
  let state = EMPTY_NONCE_WINDOW;
  const verdicts = nonces.map((nonce) => {
    const next = nextNonceWindow(state, nonce);
    state = next.state;
    return next.verdict;
  });
  return { verdicts, state };
}

describe("request nonces: a counter per (querier, provider), a 256-bit window on the provider", () => {
  describe("the window rule (the ledger's too)", () => {
    const table: [string, bigint[], NonceVerdict[]][] = [
      ["counting up", [1n, 2n, 3n], ["fresh", "fresh", "fresh"]],
      ["gaps are allowed", [5n, 1_000n, 1_000_000n], ["fresh", "fresh", "fresh"]],
      ["out of order inside the window", [10n, 8n, 9n, 3n], ["fresh", "fresh", "fresh", "fresh"]],
      ["the highest again", [10n, 10n], ["fresh", "replay"]],
      ["one inside the window again", [10n, 8n, 8n], ["fresh", "fresh", "replay"]],
      ["255 below the highest is the window's last bit", [300n, 45n], ["fresh", "fresh"]],
      ["256 below the highest is stale", [300n, 44n], ["fresh", "stale"]],
      ["a jump of 256 or more forgets the old window", [1n, 2n, 1_000n, 2n], ["fresh", "fresh", "fresh", "stale"]],
      ["a jump inside the window keeps what it saw", [1n, 2n, 200n, 2n, 1n, 3n], ["fresh", "fresh", "fresh", "replay", "replay", "fresh"]],
    ];
    for (const [name, nonces, verdicts] of table) {
      it(`${name}: ${nonces.join(", ")} → ${verdicts.join(", ")}`, () => {
        expect(run(nonces).verdicts).to.deep.equal(verdicts);
      });
    }

    it("keeps bit i for highest - i, and never more than 256 bits", () => {
      const { state } = run([1n, 3n]);
      expect(state).to.deep.equal({ highest: 3n, window: 0b101n });
      const many = run(Array.from({ length: 600 }, (_, i) => BigInt(i + 1))).state;
      expect(many.highest).to.equal(600n);
      expect(many.window).to.equal((1n << 256n) - 1n);
    });

    it("takes 1 <= n < 2^64 as a counter value, carried as a uint256 big-endian", () => {
      expect([0n, 1n, MAX_NONCE, MAX_NONCE + 1n].map(isNonceValue)).to.deep.equal([false, true, true, false]);
      expect(nonceToBytes32(258n)).to.equal(`0x${"0".repeat(60)}0102`);
      expect(nonceFromBytes32(nonceToBytes32(MAX_NONCE))).to.equal(MAX_NONCE);
    });
  });

  describe("in the store", () => {
    let dir: string;

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), "riskshare-nonces-"));
    });

    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    async function openStore(): Promise<Store> {
      const store = new Store({ location: dir, categories: CATEGORIES }, { logger: silentLogger(), clock: () => NOW_MS });
      await store.open();
      return store;
    }

    it("the querier's counter starts from the clock, counts per provider and reserves a block in one write", async () => {
      const store = await openStore();
      try {
        const counters = store.nonceCounters();
        const seed = BigInt(NOW_MS) << 20n;
        expect([await counters.next(PROVIDER), await counters.next(PROVIDER), await counters.next(OTHER_PROVIDER)]).to.deep.equal([seed, seed + 1n, seed]);
        const marks = await store.sublevel<string>(Bucket.nonceCounters).values().all();
        expect(marks, "one reserved mark per provider").to.deep.equal([(seed + BigInt(NONCE_BLOCK_SIZE) - 1n).toString(), (seed + BigInt(NONCE_BLOCK_SIZE) - 1n).toString()]);
      } finally {
        await store.close();
      }
    });

    it("never hands out a value twice: concurrent requests, block ends, and a kill (a new counter on the same database, nothing saved at stop)", async () => {
      const store = await openStore();
      const handed = new Set<bigint>();
      try {
        const first = store.nonceCounters({ blockSize: 8 });
        const values = await Promise.all(Array.from({ length: 30 }, () => first.next(PROVIDER)));
        for (const value of values) handed.add(value);
        expect(handed.size, "30 concurrent requests, 30 distinct nonces across 4 blocks").to.equal(30);
        // Killed here: the next process finds only the reserved mark.
        const second = store.nonceCounters({ blockSize: 8 });
        const after = await second.next(PROVIDER);
        expect(handed.has(after), "a value handed out before the kill").to.equal(false);
        expect([...handed].every((v) => after > v), "above every value handed out").to.equal(true);
      } finally {
        await store.close();
      }
      // And after a clean reopen of the database.
      const reopened = await openStore();
      try {
        const next = await reopened.nonceCounters({ blockSize: 8 }).next(PROVIDER);
        expect([...handed].every((v) => next > v), "above every value handed out").to.equal(true);
      } finally {
        await reopened.close();
      }
    });

    it("the provider's window takes in-window nonces out of order, refuses a replay and one below the window, and keeps that across a reopen", async () => {
      const store = await openStore();
      try {
        const windows = store.nonceWindows();
        const verdicts = [];
        for (const nonce of [10n, 300n, 299n, 45n, 300n, 44n]) verdicts.push(await windows.accept(QUERIER, nonce));
        expect(verdicts).to.deep.equal(["fresh", "fresh", "fresh", "fresh", "replay", "stale"]);
        expect(await windows.accept(PROVIDER, 10n), "another querier has its own window").to.equal("fresh");
      } finally {
        await store.close();
      }
      const reopened = await openStore();
      try {
        const windows = reopened.nonceWindows();
        expect(await windows.accept(QUERIER.toLowerCase(), 299n), "seen before the reopen").to.equal("replay");
        expect(await windows.accept(QUERIER, 44n)).to.equal("stale");
        expect(await windows.accept(QUERIER, 298n), "unseen, in the window").to.equal("fresh");
      } finally {
        await reopened.close();
      }
    });

    it("of concurrent requests with one nonce, exactly one is fresh (also on a window not yet loaded)", async () => {
      const store = await openStore();
      try {
        const windows = store.nonceWindows();
        const verdicts = await Promise.all(Array.from({ length: 8 }, () => windows.accept(QUERIER, 7n)));
        expect(verdicts.filter((v) => v === "fresh")).to.have.length(1);
        const mixed = await Promise.all([5n, 6n, 6n, 5n, 8n].map((n) => windows.accept(QUERIER, n)));
        expect(mixed).to.deep.equal(["fresh", "fresh", "replay", "replay", "fresh"]);
      } finally {
        await store.close();
      }
      const reopened = await openStore();
      try {
        expect(await reopened.nonceWindows().windowOf(QUERIER), "every fresh nonce was written through").to.deep.equal({ highest: 8n, window: 0b1111n });
      } finally {
        await reopened.close();
      }
    });

    it("empties the retired bucket of random nonces when it opens", async () => {
      const first = await openStore();
      await first.close();
      const raw = new Level<string, string>(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
      await raw.open();
      const old = raw.sublevel<string, number>("nonces", { keyEncoding: "utf8", valueEncoding: "json" });
      await old.put(`${QUERIER.toLowerCase()}:0x${"ab".repeat(32)}`, 1_750_000_060);
      await raw.close();
      const store = await openStore();
      await store.close();
      const check = new Level<string, string>(dir, { keyEncoding: "utf8", valueEncoding: "utf8" });
      await check.open();
      try {
        expect(await check.sublevel<string, number>("nonces", { keyEncoding: "utf8", valueEncoding: "json" }).keys().all()).to.deep.equal([]);
      } finally {
        await check.close();
      }
    });
  });
});
