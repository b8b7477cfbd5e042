/**
 * The curious provider. Claim, precisely: a provider that answers lookups honestly but records
 * everything it receives (every blinded element, every request's fields and signed metadata; timing
 * excluded) learns nothing about WHICH of its own customers a querier checked. Concretely, for a
 * provider holding 2,000 customers (phone, national ID and card each) and its own OPRF key k:
 *   1. no received element equals H(x) or k·H(x) for any customer identifier x, and no evaluated
 *      element k·E does either: the algebraic tests the provider can run with its own key find nothing;
 *   2. the same applicant checked twice (the next day, by another querier) shares no element
 *      across the two requests, nor E₂ = k·E₁: the requests cannot be linked;
 *   3. every request has the same visible shape (kind, padded item count, categories), whoever is checked;
 *   4. so a distinguisher scoring every customer by those tests scores all of them 0 and its guess is
 *      uniform: it names the checked customer with probability 1/2,000 (chance). A positive control
 *      shows the same distinguisher finds the customer at once when elements are NOT blinded;
 *   5. two colluding providers pooling their views (and both keys) do no better: no element repeats
 *      across them and none matches H(x), k₁·H(x) or k₂·H(x).
 * This follows from each blinded element being r·H(x) with a fresh uniform r: a uniform group element
 * independent of x. The test checks the consequences the provider could observe, not the theorem.
 */
import { expand_message_xmd } from "@noble/curves/abstract/hash-to-curve.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { expect } from "chai";
import { hexlify } from "ethers";
import { OPRF_CONTEXT_STRING, oprfInput, readySodium } from "../../node/identity/index.ts";
import type { QueryItem } from "../../node/p2p/index.ts";
import { FakeChain, FakeFilters, startNode, stopAll, type Member } from "./p2p.fixtures.ts";

const CUSTOMERS = 2_000;
const TRIALS = 12;
const DST = Uint8Array.of(...new TextEncoder().encode("HashToGroup-"), ...OPRF_CONTEXT_STRING);

/** Customer i's three identifiers (normalised forms). */
function customer(i: number): QueryItem[] {
  const n = String(i).padStart(6, "0");
  return [
    { type: "phone", value: `+8613800${n}` },
    { type: "national_id", value: `11010519900101${n.slice(2)}` },
    { type: "bank_card", value: `6222020000${n}` },
  ];
}

describe("p2p: a curious provider cannot tell which of its customers was checked", function () {
  this.timeout(120_000);
  const chain = new FakeChain();
  const filters = new FakeFilters();
  let q1: Member, q2: Member, p1: Member, p2: Member;
  /** Per provider, per customer identifier: H(x) and k·H(x), as hex → customer index. */
  const tables = new Map<Member, { hashed: Map<string, number>; keyed: Map<string, number>; k: Uint8Array }>();
  let sodium: Awaited<ReturnType<typeof readySodium>>;
  const hashToGroup = (item: QueryItem) => sodium.crypto_core_ristretto255_from_hash(expand_message_xmd(oprfInput(item.type, item.value), DST, 64, sha512));

  before(async () => {
    sodium = await readySodium();
    const started = await Promise.all([0, 1, 2, 3].map(() => startNode(chain, { filters, lookup: { coverFetchRate: 0.25 } })));
    [q1, q2, p1, p2] = started as [Member, Member, Member, Member];
    for (const provider of [p1, p2]) {
      const hashed = new Map<string, number>();
      const keyed = new Map<string, number>();
      for (let i = 0; i < CUSTOMERS; i += 1) {
        for (const item of customer(i)) {
          const h = hashToGroup(item);
          hashed.set(hexlify(h), i);
          keyed.set(hexlify(sodium.crypto_scalarmult_ristretto255(provider.oprfKey.secretKey, h)), i);
        }
      }
      tables.set(provider, { hashed, keyed, k: provider.oprfKey.secretKey });
    }
  });
  after(async () => {
    await stopAll([q1, q2, p1, p2]);
  });

  /** The distinguisher: per customer, how many received elements relate to its identifiers by any test the providers can run. */
  function scores(view: Uint8Array[], providers: Member[]): Map<number, number> {
    const score = new Map<number, number>();
    const bump = (i: number | undefined) => i !== undefined && score.set(i, (score.get(i) ?? 0) + 1);
    for (const element of view) {
      for (const provider of providers) {
        const { hashed, keyed, k } = tables.get(provider)!;
        bump(hashed.get(hexlify(element))); // E = H(x)
        bump(keyed.get(hexlify(element))); // E = k·H(x)
        bump(keyed.get(hexlify(sodium.crypto_scalarmult_ristretto255(k, element)))); // k·E = k·H(x)
      }
    }
    return score;
  }

  it("the distinguisher's algebra is right: k·H(x) finalizes to the provider's own OPRF output, and unblinded elements are caught at once", async () => {
    const item = customer(17)[0]!;
    const { keyed } = tables.get(p1)!;
    const kh = [...keyed.entries()].find(([, i]) => i === 17)![0];
    const input = oprfInput(item.type, item.value);
    const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);
    const finalize = sha512(new Uint8Array([...u16(input.length), ...input, ...u16(32), ...Buffer.from(kh.slice(2), "hex"), ...new TextEncoder().encode("Finalize")]));
    const voprf = (await import("../../node/identity/index.ts")).createVoprf;
    expect(hexlify(finalize)).to.equal(hexlify((await voprf()).evaluate(p1.oprfKey.secretKey, input)));
    // positive control: a querier that sent H(x) unblinded would be identified
    const unblinded = customer(1234).map(hashToGroup);
    const control = scores(unblinded, [p1]);
    expect([...control.entries()].sort((a, b) => b[1] - a[1])[0]).to.deep.equal([1234, 6]); // each identifier caught by E = H(x) and by k·E = k·H(x)
  });

  it(`over ${TRIALS} checks of random customers (each also re-checked the next day by another querier), finds nothing: its guess is chance`, async () => {
    const views1: Uint8Array[][] = [];
    const views2: Uint8Array[][] = [];
    let correct = 0;
    const shapes = new Set<string>();
    for (let trial = 0; trial < TRIALS; trial += 1) {
      const applicant = Math.floor(Math.random() * CUSTOMERS);
      const items = customer(applicant);
      const day1 = { p1: p1.received.length, p2: p2.received.length, o: p1.outbox.records.length };
      for (const provider of [p1, p2]) {
        const outcome = await q1.lookup.lookupPeer(provider.host.getMultiaddrs(), { providerAddress: provider.address, items, categoryIds: [1] });
        expect(outcome.status, `trial ${trial}`).to.equal("answered");
      }
      const firstDay = p1.received.slice(day1.p1).flat();
      for (const m of [q1, q2, p1, p2]) m.clock.now += 86_400; // the next day, everywhere
      const day2 = p1.received.length;
      for (const provider of [p1, p2]) {
        const outcome = await q2.lookup.lookupPeer(provider.host.getMultiaddrs(), { providerAddress: provider.address, items, categoryIds: [1] });
        expect(outcome.status, `trial ${trial}, next day`).to.equal("answered");
      }
      const secondDay = p1.received.slice(day2).flat();
      views1.push(p1.received.slice(day1.p1).flat());
      views2.push(p2.received.slice(day1.p2).flat());
      for (const record of p1.outbox.records.slice(day1.o)) shapes.add(`${record.kind}/${record.kind === 0 ? record.itemCount : "fetch"}/${record.request.categoryMask}`);

      // 1 and 4: the single provider's distinguisher
      const single = scores([...firstDay, ...secondDay], [p1]);
      expect(single.size, `trial ${trial}: customers linked to the elements`).to.equal(0);
      // with every score 0 the best guess is uniform; count its successes anyway
      if (Math.floor(Math.random() * CUSTOMERS) === applicant) correct += 1;
      // 2: the two requests for the same applicant share nothing and are not related by the key
      const firstHex = new Set(firstDay.map((e) => hexlify(e)));
      for (const e of secondDay) {
        expect(firstHex.has(hexlify(e)), `trial ${trial}: a shared element`).to.equal(false);
        expect(firstHex.has(hexlify(sodium.crypto_scalarmult_ristretto255(p1.oprfKey.secretKey, e))), `trial ${trial}: E2 = k·E1`).to.equal(false);
      }
    }
    // 3: every request looks the same whoever is checked (an Evaluate of 4 for 3 identifiers, category 1; fetches are cover only)
    expect([...shapes].filter((s) => s.startsWith("0/"))).to.deep.equal(["0/4/2"]);
    expect(correct, "successes of a uniform guess").to.be.at.most(2);

    // 5: colluding providers pool views and keys
    const pooled = [...views1.flat(), ...views2.flat()];
    expect(new Set(pooled.map((e) => hexlify(e))).size, "an element repeated across providers or requests").to.equal(pooled.length);
    expect(scores(pooled, [p1, p2]).size, "customers linked by the pooled view").to.equal(0);
  });
});
