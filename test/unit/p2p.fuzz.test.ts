import { expect } from "chai";
import fc from "fast-check";
import type { LookupRequestFrame } from "../../node/p2p/index.ts";
import { buildRequestFrame, FakeChain, FakeFilters, randomElements, randomItem, rawExchange, startNode, stopAll, testVoprf, type Member } from "./p2p.fixtures.ts";

/** 500 cases in the unit suite; a hardening run sets RISKSHARE_FUZZ_RUNS=10000. */
const RUNS = Number(process.env.RISKSHARE_FUZZ_RUNS ?? 500);

const utf8 = (text: string) => new TextEncoder().encode(text);

/** Replaces the value at `path` of a deep copy of `frame` (adds the key when it is new). */
function mutate(frame: LookupRequestFrame, path: readonly (string | number)[], value: unknown): unknown {
  const copy = structuredClone(frame) as unknown as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path.at(-1)!] = value;
  return copy;
}

const PATHS: readonly (readonly (string | number)[])[] = [
  ["request"], ["request", "querier"], ["request", "provider"], ["request", "categoryMask"], ["request", "itemCount"],
  ["request", "itemsCommitment"], ["request", "nonce"], ["request", "deadline"], ["request", "kind"], ["request", "extra"],
  ["signature"], ["elements"], ["elements", 0], ["elements", 1], ["prefixes"], ["extra"],
];

describe("p2p: the lookup/2 provider survives malformed and hostile frames", function () {
  this.timeout(30_000 + RUNS * 50);
  const membership = new FakeChain();
  const filters = new FakeFilters();
  let querier: Member, provider: Member;
  let template: LookupRequestFrame;

  before(async () => {
    [querier, provider] = await Promise.all([startNode(membership, { filters }), startNode(membership, { filters })]);
    template = await buildRequestFrame(querier.wallet, { provider: provider.address, elements: randomElements(2, await testVoprf()) });
  });
  after(async () => {
    await stopAll([querier, provider]);
  });

  it(`answers ${RUNS} random frames with an error frame or a closed stream, never a crash or a hang`, async () => {
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 600 }).map((raw) => ({ raw })),
      fc.uint8Array({ maxLength: 4_096 }).map((framed) => ({ framed })),
      fc.jsonValue({ maxDepth: 4 }).map((value) => ({ framed: utf8(JSON.stringify(value) ?? "null") })),
      fc.string({ unit: "binary", maxLength: 300 }).map((text) => ({ framed: utf8(text) })),
      fc.record({ path: fc.constantFrom(...PATHS), value: fc.jsonValue({ maxDepth: 3 }) }).map(({ path, value }) => ({ framed: utf8(JSON.stringify(mutate(template, path, value))) })),
    );
    let frames = 0;
    let closed = 0;
    await fc.assert(
      fc.asyncProperty(payload, async (input) => {
        // rawExchange throws if the provider neither answers nor closes within 5 s, or answers off-schema
        const reply = await rawExchange(querier, provider, input, { timeoutMs: 5_000 });
        if (reply.kind === "frame") frames += 1;
        else closed += 1;
      }),
      { numRuns: RUNS },
    );
    expect(frames + closed).to.equal(RUNS);
    console.log(`      (${frames} error frames, ${closed} closed streams)`);
    expect(frames, "most cases reach the parser and get a typed error").to.be.greaterThan(RUNS / 3);
    // and it still serves a well-formed lookup
    const outcome = await querier.lookup.lookupPeer(provider.host.getMultiaddrs(), { providerAddress: provider.address, items: [randomItem()], categoryIds: [1] });
    expect(outcome.status).to.equal("answered");
  });
});
