/**
 * Warninglists (node/identity/warninglist.ts): the shipped files are well-formed and every entry is
 * an identifier its type accepts; matching by exact value, domain and pattern; an import refuses a
 * warninglisted row by line; a check asks nobody about a warninglisted identifier.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { CheckService, type CheckItem } from "../../node/api/index.ts";
import { shippedWarninglists, tryNormalise, Warninglists, type Warninglist } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { importList, Store } from "../../node/store/index.ts";
import { FIXTURE_BINDING, FIXTURE_CATEGORIES, fixtureEvaluator } from "../fixtures/riskList.ts";

const list = (over: Partial<Warninglist>): Warninglist => ({
  name: "a-list", description: "d", type: "email", match: "domain", entries: [{ value: "example.com", note: "n", source: "https://example.org/source" }], ...over,
});

describe("warninglists", () => {
  it("ships lists whose every exact entry is an identifier its type accepts, as normalised, with an https source; patterns are anchored", () => {
    const shipped = shippedWarninglists();
    expect(shipped.lists.map((l) => l.name)).to.have.members(["documentation-domains", "fictional-phone-numbers", "test-card-numbers"]);
    expect(shipped.hash).to.match(/^0x[0-9a-f]{64}$/);
    for (const l of shipped.lists) {
      for (const entry of l.entries) {
        expect(entry.source, `${l.name} ${entry.value}`).to.match(/^https:\/\//);
        if (l.match === "exact") {
          const normalised = tryNormalise(l.type, entry.value, { defaultRegion: "CN" });
          expect(normalised, `${l.name}: ${entry.value} (${entry.note})`).to.deep.equal({ ok: true, value: entry.value });
          expect(shipped.match(l.type, entry.value)?.list, entry.value).to.equal(l.name);
        }
        if (l.match === "pattern") expect(entry.value, l.name).to.match(/^\^.*\$$/);
      }
    }
  });

  it("matches a card number exactly, an address under a documentation domain, a fictional number by pattern; nothing else", () => {
    const shipped = shippedWarninglists();
    expect(shipped.match("bank_card", "4242424242424242")).to.deep.include({ list: "test-card-numbers", note: "Visa" });
    expect(shipped.match("bank_card", "4242424242424241")).to.equal(undefined);
    expect(shipped.match("email", "someone@example.com")?.list).to.equal("documentation-domains");
    expect(shipped.match("email", "someone@mail.example.org")?.list, "a subdomain").to.equal("documentation-domains");
    expect(shipped.match("email", "someone@shop.test")?.list, "a reserved top-level domain").to.equal("documentation-domains");
    expect(shipped.match("email", "someone@notexample.com"), "a look-alike domain").to.equal(undefined);
    expect(shipped.match("phone", "+12025550123")?.list).to.equal("fictional-phone-numbers");
    expect(shipped.match("phone", "+12025550200"), "555-0200 is no fictional number").to.equal(undefined);
    expect(shipped.match("device_id", "4242424242424242"), "another type").to.equal(undefined);
  });

  it("refuses two lists of one name, and a pattern that is not anchored or not a regular expression", () => {
    expect(() => new Warninglists([list({}), list({})])).to.throw(/two warninglists are named a-list/);
    expect(() => new Warninglists([list({ type: "phone", match: "pattern", entries: [{ value: "\\+1555", note: "n", source: "https://example.org" }] })])).to.throw(/not anchored/);
    expect(() => new Warninglists([list({ type: "phone", match: "pattern", entries: [{ value: "^(+$", note: "n", source: "https://example.org" }] })])).to.throw(/not a regular expression/);
  });

  it("refuses a warninglisted row at import, by line, and keeps the others", async () => {
    const dir = await mkdtemp(join(tmpdir(), "riskshare-warninglist-"));
    const store = new Store({ location: join(dir, "db"), categories: FIXTURE_CATEGORIES, binding: FIXTURE_BINDING }, { logger: silentLogger() });
    await store.open();
    try {
      const file = join(dir, "list.csv");
      await writeFile(file, [
        "type,value,category,level,reason,reported_at",
        "bank_card,4242 4242 4242 4242,fraud_confirmed,5,R1,2025-01-01",
        "email,fraudster@example.com,fraud_confirmed,5,R1,2025-01-01",
        "email,fraudster@real-mail.cn,fraud_confirmed,5,R1,2025-01-01",
        "phone,+1 202 555 0123,fraud_confirmed,5,R1,2025-01-01",
        "",
      ].join("\n"));
      // In this thread, and on the worker threads a large import (or a running node's) reads and keys rows in.
      for (const workers of [0, 1]) {
        const summary = await importList({ path: file }, { nowSec: 1_750_000_000, workers, resume: false }, { store, evaluator: await fixtureEvaluator(), logger: silentLogger() });
        expect(summary, `workers ${workers}`).to.include({ rows: 4, imported: workers === 0 ? 1 : 0, rejected: 3 });
        expect(summary.errors, `workers ${workers}`).to.deep.equal([
          { line: 2, field: "value", reason: "warninglisted" },
          { line: 3, field: "value", reason: "warninglisted" },
          { line: 5, field: "value", reason: "warninglisted" },
        ]);
      }
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("asks nobody about a warninglisted identifier at a check and reports it a miss, naming the list", async () => {
    const asked: CheckItem[][] = [];
    const shipped = shippedWarninglists();
    const service = new CheckService({
      prepareItem: (type, raw) => {
        const normalised = tryNormalise(type, raw, { defaultRegion: "CN" });
        if (!normalised.ok) return { ok: false, reason: normalised.reason };
        const listed = shipped.match(type, normalised.value);
        return { ok: true, item: { type, value: normalised.value }, ...(listed === undefined ? {} : { warninglisted: listed.list }) };
      },
      ownLookup: async (items) => { asked.push(items); return items.map(() => ({ hit: false as const })); },
      fanOut: async (_providers, items) => {
        asked.push(items);
        return [{ address: "0x0000000000000000000000000000000000000002", name: "Bank B", status: "answered" as const, results: items.map(() => ({ hit: true as const, category: 1, level: 5, reason: "R1", reportedAt: 1 })) }];
      },
      activeCategories: () => new Map([["fraud_confirmed", 1]]),
      peerAddresses: () => ["0x0000000000000000000000000000000000000002"],
      assertReady: () => undefined,
      nowSec: () => 1_750_000_000,
      defaultTimeoutMsPerPeer: 1_000,
    });
    const answer = await service.check({ items: [{ type: "bank_card", value: "4242424242424242" }, { type: "phone", value: "13800138000" }] }, new AbortController().signal);
    expect(asked.map((items) => items.map((i) => i.value)), "only the other identifier went out, to the own list and to the peer").to.deep.equal([["+8613800138000"], ["+8613800138000"]]);
    expect(answer.items[0]).to.deep.equal({ index: 0, type: "bank_card", verdict: "miss", warninglisted: "test-card-numbers", hits: [] });
    expect(answer.items[1]).to.include({ verdict: "hit" });
  });
});
