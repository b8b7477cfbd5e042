// @ts-nocheck -- TODO(integrator): written against /riskshare/lookup/1 and /riskshare/pepper/1 (gone on the v2-p2p branch: PepperKeeper, pepper(), OwnEntries, hashed items, hitCount); rewire to lookup/2 + filter/1 and drop this line.
/**
 * Suite 3, peer lookup over libp2p: two member hosts on 127.0.0.1 in this process, the real
 * LookupService on both (signing, commitment, checks, answer signature, verification), lists and
 * ledger outbox in memory. Latency of 1-item and 1,000-item requests one after another, and
 * throughput with 64 requests in flight. Baseline: a bare echo protocol on the same connection
 * with frames of the same sizes, a new stream per request like the lookup.
 */
import type { Multiaddr } from "@multiformats/multiaddr";
import { MAX_ITEMS_PER_REQUEST, toWireRequest, type AnsweredLookup, type LookupItem, type LookupOutcome } from "../../node/p2p/index.ts";
import { Prng, TYPE_MIX } from "./data.ts";
import { echoFrame, echoOnce, startEcho, type EchoLimits } from "./echo.ts";
import { benchHit, benchWallet, MemoryMembership, startMember, stopMembers, type BenchMember } from "./members.ts";
import { result, type ReportedResult } from "./report.ts";
import { perSecond, runConcurrent, summarise, timeEach } from "./stats.ts";
import type { Suite } from "./suite.ts";

/** Requests in flight for the throughput figures. */
export const IN_FLIGHT = 64;
/**
 * Stream limits of both services in this suite: 64 requests in flight on one connection need 64
 * streams, above the protocol's default of 16 per connection (see the README).
 */
export const BENCH_STREAM_LIMITS: EchoLimits = { maxInboundStreams: IN_FLIGHT, maxOutboundStreams: IN_FLIGHT };
const CATEGORY_IDS = [1, 2, 3, 4];
const HIT_SHARE = 0.1;

interface Sizes {
  single: number;
  batch: number;
  concurrentBatches: number;
  concurrentSingles: number;
}

function sizes(quick: boolean): Sizes {
  return quick
    ? { single: 400, batch: 60, concurrentBatches: 128, concurrentSingles: 1_000 }
    : { single: 2_000, batch: 300, concurrentBatches: 640, concurrentSingles: 5_000 };
}

/** `count` items, a share of them listed by `provider`. */
export function itemsFor(provider: BenchMember, count: number, rng: Prng): LookupItem[] {
  return Array.from({ length: count }, () => {
    const item = { type: TYPE_MIX[rng.int(TYPE_MIX.length)]![0], hash: rng.hex(32) };
    if (rng.next() < HIT_SHARE) provider.list.byHash.set(item.hash, benchHit(rng, 1 + rng.int(CATEGORY_IDS.length)));
    return item;
  });
}

/** Throws unless the provider answered: a figure of failed lookups would be meaningless. */
export function answered(outcome: LookupOutcome): AnsweredLookup {
  if (outcome.status !== "answered") throw new Error(`lookup ${outcome.status}: ${outcome.code} ${outcome.message}`);
  return outcome;
}

/** Bytes of the request and answer frames of a lookup, as they went over the wire (JSON). */
export function frameSizes(outcome: AnsweredLookup, items: LookupItem[]): { requestBytes: number; replyBytes: number } {
  const bigints = (_: string, v: unknown) => (typeof v === "bigint" ? v.toString() : v);
  const request = JSON.stringify({ request: toWireRequest(outcome.request), signature: outcome.signature, items, blinding: outcome.blinding }, bigints);
  const reply = JSON.stringify({ ok: true, answer: outcome.answer, answerSignature: outcome.answerSignature, results: outcome.results }, bigints);
  return { requestBytes: Buffer.byteLength(request), replyBytes: Buffer.byteLength(reply) };
}

/** The lookup suite. */
export const lookupSuite: Suite = {
  name: "lookup",
  async run(ctx) {
    const size = sizes(ctx.quick);
    const rng = new Prng(ctx.seed ^ 0x6c6b);
    const membership = new MemoryMembership();
    let querier: BenchMember | undefined;
    let provider: BenchMember | undefined;
    let stopEcho: (() => Promise<void>) | undefined;
    try {
      querier = await startMember(membership, benchWallet(rng), BENCH_STREAM_LIMITS);
      provider = await startMember(membership, benchWallet(rng), BENCH_STREAM_LIMITS);
      stopEcho = await startEcho(provider.host, BENCH_STREAM_LIMITS);
      const q = querier;
      const p = provider;
      const peer: Multiaddr[] = p.host.getMultiaddrs();
      const ask = async (items: LookupItem[]) => answered(await q.lookup.lookupPeer(peer, { providerAddress: p.address, items, categoryIds: CATEGORY_IDS }));

      // Warm up both paths (connection, JIT) and learn the frame sizes.
      const oneItem = itemsFor(p, 1, rng);
      const fullItems = itemsFor(p, MAX_ITEMS_PER_REQUEST, rng);
      for (let i = 0; i < 50; i++) await ask(itemsFor(p, 1, rng));
      for (let i = 0; i < 5; i++) await ask(itemsFor(p, MAX_ITEMS_PER_REQUEST, rng));
      const small = frameSizes(await ask(oneItem), oneItem);
      const large = frameSizes(await ask(fullItems), fullItems);
      ctx.log(`lookup: frames of ${small.requestBytes}/${small.replyBytes} bytes (1 item) and ${large.requestBytes}/${large.replyBytes} bytes (1,000 items)`);
      const smallFrame = echoFrame(small.requestBytes, small.replyBytes);
      const largeFrame = echoFrame(large.requestBytes, large.replyBytes);
      const echo = (frame: Uint8Array) => echoOnce(q.host, peer, frame, BENCH_STREAM_LIMITS);
      for (let i = 0; i < 50; i++) await echo(smallFrame);

      // Inputs drawn before any clock runs.
      const singleItems = Array.from({ length: size.single }, () => itemsFor(p, 1, rng));
      const batchItems = Array.from({ length: Math.max(size.batch, size.concurrentBatches) }, () => itemsFor(p, MAX_ITEMS_PER_REQUEST, rng));
      const concurrentSingleItems = Array.from({ length: size.concurrentSingles }, () => itemsFor(p, 1, rng));

      const lookup1 = summarise(await timeEach(size.single, (i) => ask(singleItems[i]!)));
      const echo1 = summarise(await timeEach(size.single, () => echo(smallFrame)));
      const lookup1000 = summarise(await timeEach(size.batch, (i) => ask(batchItems[i]!)));
      const echo1000 = summarise(await timeEach(size.batch, () => echo(largeFrame)));
      ctx.log(`lookup: sequential 1-item p50 ${lookup1.p50.toFixed(2)} ms (echo ${echo1.p50.toFixed(2)}), 1,000-item p50 ${lookup1000.p50.toFixed(2)} ms (echo ${echo1000.p50.toFixed(2)})`);

      const servedBefore = p.outboxRecords();
      const flood = await runConcurrent(size.concurrentBatches, IN_FLIGHT, (i) => ask(batchItems[i]!));
      const echoFlood = await runConcurrent(size.concurrentBatches, IN_FLIGHT, () => echo(largeFrame));
      const floodSingles = await runConcurrent(size.concurrentSingles, IN_FLIGHT, (i) => ask(concurrentSingleItems[i]!));
      const echoFloodSingles = await runConcurrent(size.concurrentSingles, IN_FLIGHT, () => echo(smallFrame));
      const served = p.outboxRecords() - servedBefore;
      if (served !== size.concurrentBatches + size.concurrentSingles) throw new Error(`the provider recorded ${served} lookups, expected ${size.concurrentBatches + size.concurrentSingles}`);
      const floodP99 = summarise(flood.samples).p99;

      const echoIs = "bare libp2p echo, same frame sizes";
      const results: ReportedResult[] = [
        result({ name: "lookup.p50_ms", value: lookup1.p50, unit: "ms", baseline: echo1.p50, baselineIs: `${echoIs} (1 item)` }),
        result({ name: "lookup.p99_ms", value: lookup1.p99, unit: "ms", baseline: echo1.p99, baselineIs: `${echoIs} (1 item)` }),
        result({ name: "lookup.batch_p50_ms", value: lookup1000.p50, unit: "ms", baseline: echo1000.p50, baselineIs: `${echoIs} (1,000 items)` }),
        result({ name: "lookup.batch_p99_ms", value: lookup1000.p99, unit: "ms", baseline: echo1000.p99, baselineIs: `${echoIs} (1,000 items)` }),
        result({
          name: "lookup.items_per_s", value: perSecond(size.concurrentBatches * MAX_ITEMS_PER_REQUEST, flood.elapsedMs), unit: "items/s",
          baseline: perSecond(size.concurrentBatches * MAX_ITEMS_PER_REQUEST, echoFlood.elapsedMs), baselineIs: `${echoIs}, 1,000-item frames, ${IN_FLIGHT} in flight`,
        }),
        result({
          name: "lookup.requests_per_s", value: perSecond(size.concurrentSingles, floodSingles.elapsedMs), unit: "req/s",
          baseline: perSecond(size.concurrentSingles, echoFloodSingles.elapsedMs), baselineIs: `${echoIs}, 1-item frames, ${IN_FLIGHT} in flight`,
        }),
        result({ name: "lookup.in_flight_p99_ms", value: floodP99, unit: "ms", baseline: summarise(echoFlood.samples).p99, baselineIs: `${echoIs}, 1,000-item frames, ${IN_FLIGHT} in flight` }),
      ];
      return results;
    } finally {
      await stopEcho?.().catch(() => undefined);
      await stopMembers([querier, provider]);
    }
  },
};
