/**
 * Warninglists (node/identity/warninglist.ts): the shipped files are well-formed and every entry is
 * an identifier its type accepts; matching by exact value, domain and pattern; an import refuses a
 * warninglisted row by line; a check asks nobody about a warninglisted identifier. A consortium's own
 * lists (data directory): an entry citing a document a shipped list of its type cites is enforced,
 * any other only informs — imported, asked about, flagged.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { mkdir } from "node:fs/promises";
import { CheckService, checkItemPreparer, type CheckItem } from "../../node/api/index.ts";
import { loadWarninglists, shippedWarninglists, tryNormalise, Warninglists, type Warninglist } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { importList, Store, type ImportSummary } from "../../node/store/index.ts";
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
    try {
      const rows = ["bank_card,4242 4242 4242 4242", "email,fraudster@example.com", "email,fraudster@real-mail.cn", "phone,+1 202 555 0123"];
      // In this thread, and on the worker threads a large import (or a running node's) reads and keys rows in.
      for (const [workers, summary] of await importBothWays(dir, rows, shippedWarninglists())) {
        expect(summary, `workers ${workers}`).to.include({ rows: 4, imported: workers === 0 ? 1 : 0, rejected: 3 });
        expect(summary.errors, `workers ${workers}`).to.deep.equal([
          { line: 2, field: "value", reason: "warninglisted" },
          { line: 3, field: "value", reason: "warninglisted" },
          { line: 5, field: "value", reason: "warninglisted" },
        ]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("asks nobody about a warninglisted identifier at a check and reports it a miss, naming the list", async () => {
    const asked: CheckItem[][] = [];
    const service = checkService(shippedWarninglists(), asked);
    const answer = await service.check({ items: [{ type: "bank_card", value: "4242424242424242" }, { type: "phone", value: "13800138000" }] }, new AbortController().signal);
    expect(asked.map((items) => items.map((i) => i.value)), "only the other identifier went out, to the own list and to the peer").to.deep.equal([["+8613800138000"], ["+8613800138000"]]);
    expect(answer.items[0]).to.deep.equal({ index: 0, type: "bank_card", verdict: "miss", warninglisted: "test-card-numbers", hits: [] });
    expect(answer.items[1]).to.include({ verdict: "hit" });
  });

  describe("the consortium's own lists (data directory)", () => {
    // Bank A's customer service line, cited from its own site: no class riskshare ships, so it only informs.
    const serviceNumbers = list({ name: "bank-service-numbers", type: "phone", match: "exact", entries: [{ value: "+8613800138000", note: "Bank A service line", source: "https://bank-a.example.cn/contact" }] });
    // Another Stripe test card, citing the document the shipped test-card list cites: enforced.
    const moreTestCards = list({ name: "more-test-cards", type: "bank_card", match: "exact", entries: [
      { value: "4000000000009995", note: "Visa, insufficient funds", source: "https://docs.stripe.com/testing#declined-payments" },
      { value: "4012888888881881", note: "Visa test card elsewhere", source: "https://developer.example.com/test-cards" },
      { value: "4242424242424242", note: "already shipped", source: "https://developer.example.com/test-cards" },
    ] });
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), "riskshare-warninglist-dd-"));
    });
    afterEach(() => rm(dir, { recursive: true, force: true }));

    it("enforces an added entry only when it cites a document a shipped list of its type cites; the hash covers the added lists", async () => {
      expect(loadWarninglists(dir).hash, "no folder: the shipped lists").to.equal(shippedWarninglists().hash);
      await mkdir(join(dir, "warninglists"));
      await writeFile(join(dir, "warninglists", "service.json"), JSON.stringify(serviceNumbers));
      await writeFile(join(dir, "warninglists", "cards.json"), JSON.stringify(moreTestCards));
      const lists = loadWarninglists(dir);
      expect(lists.hash).to.match(/^0x[0-9a-f]{64}$/).and.not.equal(shippedWarninglists().hash);
      expect(lists.originOf("bank-service-numbers")).to.equal("consortium");
      expect(lists.originOf("test-card-numbers")).to.equal("shipped");
      expect(lists.match("phone", "+8613800138000")).to.deep.include({ list: "bank-service-numbers", action: "inform" });
      expect(lists.match("bank_card", "4000000000009995")).to.deep.include({ list: "more-test-cards", action: "refuse" });
      expect(lists.match("bank_card", "4012888888881881")).to.deep.include({ list: "more-test-cards", action: "inform" });
      expect(lists.match("bank_card", "4242424242424242"), "on a shipped list too: the refusing entry wins").to.deep.include({ list: "test-card-numbers", action: "refuse" });
      expect([lists.informCount("bank-service-numbers"), lists.informCount("more-test-cards"), lists.informCount("test-card-numbers")]).to.deep.equal([1, 2, 0]);
      // The hash is over the set, whatever the file names.
      await writeFile(join(dir, "warninglists", "zz.json"), JSON.stringify(serviceNumbers));
      expect(() => loadWarninglists(dir)).to.throw(/two warninglists are named bank-service-numbers/);
      await rm(join(dir, "warninglists", "zz.json"));
      await writeFile(join(dir, "warninglists", "broken.json"), "{");
      expect(() => loadWarninglists(dir)).to.throw(/broken\.json is not JSON/);
      await writeFile(join(dir, "warninglists", "broken.json"), JSON.stringify({ ...serviceNumbers, name: "x", entries: [{ value: "1", note: "n", source: "http://insecure.example" }] }));
      expect(() => loadWarninglists(dir)).to.throw(/broken\.json is malformed: entries\.0\.source/);
    });

    it("imports an inform-only entry and refuses an enforced one, in this thread and on the worker", async () => {
      await mkdir(join(dir, "warninglists"));
      await writeFile(join(dir, "warninglists", "service.json"), JSON.stringify(serviceNumbers));
      await writeFile(join(dir, "warninglists", "cards.json"), JSON.stringify(moreTestCards));
      const rows = ["phone,+86 138 0013 8000", "bank_card,4000000000009995", "bank_card,4012888888881881"];
      for (const [workers, summary] of await importBothWays(dir, rows, loadWarninglists(dir))) {
        expect(summary, `workers ${workers}`).to.include({ rows: 3, imported: workers === 0 ? 2 : 0, rejected: 1 });
        expect(summary.errors, `workers ${workers}`).to.deep.equal([{ line: 3, field: "value", reason: "warninglisted" }]);
      }
    });

    it("asks about an inform-only identifier as usual and flags it; the enforced one goes to nobody", async () => {
      await mkdir(join(dir, "warninglists"));
      await writeFile(join(dir, "warninglists", "service.json"), JSON.stringify(serviceNumbers));
      await writeFile(join(dir, "warninglists", "cards.json"), JSON.stringify(moreTestCards));
      const asked: CheckItem[][] = [];
      const service = checkService(loadWarninglists(dir), asked);
      const answer = await service.check({ items: [{ type: "phone", value: "13800138000" }, { type: "bank_card", value: "4000000000009995" }] }, new AbortController().signal);
      expect(asked.map((items) => items.map((i) => i.value)), "to the own list and to the peer").to.deep.equal([["+8613800138000"], ["+8613800138000"]]);
      expect(answer.items[0]).to.deep.include({ verdict: "hit", warninglistNotice: "bank-service-numbers" });
      expect(answer.items[1]).to.deep.include({ verdict: "miss", warninglisted: "more-test-cards" });
    });
  });
});

/** Imports `rows` ("type,value") into a fresh store in `dir`, in this thread and then on a worker (the second finds the first's rows stored). */
async function importBothWays(dir: string, rows: readonly string[], warninglists: Warninglists): Promise<[number, ImportSummary][]> {
  const store = new Store({ location: join(dir, "db"), categories: FIXTURE_CATEGORIES, binding: FIXTURE_BINDING }, { logger: silentLogger() });
  await store.open();
  try {
    const file = join(dir, "list.csv");
    await writeFile(file, ["type,value,category,level,reason,reported_at", ...rows.map((row) => `${row},fraud_confirmed,5,R1,2025-01-01`), ""].join("\n"));
    const out: [number, ImportSummary][] = [];
    for (const workers of [0, 1]) out.push([workers, await importList({ path: file }, { nowSec: 1_750_000_000, workers, resume: false }, { store, evaluator: await fixtureEvaluator(), logger: silentLogger(), warninglists })]);
    return out;
  } finally {
    await store.close();
  }
}

/** A check service with `warninglists` whose own list holds nothing and whose one peer holds every item it is asked about; `asked` collects what went out. */
function checkService(warninglists: Warninglists, asked: CheckItem[][]): CheckService {
  return new CheckService({
    prepareItem: checkItemPreparer(warninglists, "CN"),
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
}
