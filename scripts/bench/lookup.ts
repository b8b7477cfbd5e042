/**
 * Suite 3, private lookups over libp2p (`/riskshare/lookup/2` and `/riskshare/filter/1`): a querier
 * and a provider on 127.0.0.1 in this process (members.ts: real hosts, services, store v2, outbox,
 * FilterSync). The provider's store holds 1M entries (100k with --quick): synthetic keys through
 * the real write path, plus listed identifiers keyed by its real OPRF key; its base filters are
 * built and published, and the querier takes them over filter/1 before any clock runs.
 *
 * - lookup.p99_ms: one identifier that is not listed (blind, Evaluate, proof, filter test, and the
 *   default share of cover fetches), one after another; baseline: a bare libp2p echo with the
 *   Evaluate's frame sizes on the same connection.
 * - lookup.hit_p99_ms: one listed identifier, through the Fetch of its bucket and the opening of its
 *   metadata; baseline: two echoes, of the Evaluate's and of the Fetch's frame sizes.
 * - lookup.items_per_s: blinded elements evaluated a second by the provider (schema, signature,
 *   commitment, element checks, one batch proof, answer signature, outbox fsync), 1,000-element
 *   requests blinded beforehand and sent raw (their answers not parsed), a few in flight; baseline: echo of the same frames.
 *   lookup.primitive_ratio = that rate ÷ raw libsodium scalar multiplications a second on one
 *   thread (the provider answers on one), measured in the same run.
 * - lookup.p99_beside_batches_ms: the same misses while the querier keeps IN_FLIGHT 1,000-element
 *   Evaluates at the provider (a member's batch screening beside real-time checks): the provider
 *   evaluates such batches on a worker thread, so a single-item lookup does not wait ~0.3 s behind
 *   one; baseline: the misses with no batch in flight.
 * - filter.delta_visible_s: an entry upserted at the provider just after the querier's FilterSync
 *   (default poll interval) took its filters, until the querier's lookup hits it; baseline: the poll interval.
 */
import type { Multiaddr } from "@multiformats/multiaddr";
import { lpStream } from "@libp2p/utils";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { evaluateCommitment, isDigestSignedBy, nonceToBytes32, refusalDigest, lookupRequestDigestBytes, type LookupRequest } from "../../node/chain/index.ts";
import { hexlify } from "ethers";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { expandEntryKeys, oprfInput } from "../../node/identity/index.ts";
import {
  BUCKET_RECORD_BYTES, bucketBits, decodeFrame, encodeBucket, digestSignerFromEvmKey, encodeFrame, FILTER_POLL_MS, LOOKUP_DEFAULTS, LOOKUP_PROTOCOL, lookupRequestFrame, lookupResponseFrame, MAX_FRAME_BYTES,
  MAX_ITEMS_PER_REQUEST, maskOfCategories, prefixOfTag, fromWireRequest, storeBuckets, toWireRequest, type AnsweredLookup, type LookupOutcome, type QueryItem,
} from "../../node/p2p/index.ts";
import { createMetadataCipher, METADATA_SEALED_BYTES, metadataAssociatedData } from "../../node/store/index.ts";
import { Prng } from "./data.ts";
import { echoFrame, echoOnce, startEcho, type EchoLimits } from "./echo.ts";
import {
  BENCH_CATEGORY_IDS, BENCH_CHAIN_ID, BENCH_LEDGER, benchWallet, BenchChain, fillStore, identifiers, listedEntry, nowSec, startMember, stopMembers, syncFilters,
  type BenchMember, type ListedItem,
} from "./members.ts";
import { sodiumScalarmultPerSecond } from "./oprf.ts";
import { result, type ReportedResult } from "./report.ts";
import { perSecond, runConcurrent, summarise } from "./stats.ts";
import type { Suite, SuiteContext } from "./suite.ts";

/** 1,000-element requests in flight for the throughput figure (the provider answers on one thread). */
export const IN_FLIGHT = 4;
/** Stream limits of the echo baseline: the lookup service's defaults. */
export const BENCH_STREAM_LIMITS: EchoLimits = { maxInboundStreams: 64, maxOutboundStreams: 64 };
/** Identifier types of the generated queries. */
export const QUERY_TYPES = ["phone", "bank_card", "national_id", "email", "device_id"] as const;
/** Where the generator's indexes of never-listed identifiers start (listed ones use the first). */
export const UNLISTED_FROM = 10_000_000;
const TARGET_P99_MS = 15;
const TARGET_HIT_P99_MS = 30;
const TARGET_PRIMITIVE_RATIO = 0.45;
const TARGET_DELTA_VISIBLE_S = 60;
/** How often the querier retries the new entry while waiting for it to become visible. */
const VISIBLE_PROBE_MS = 250;

interface Sizes {
  entries: number;
  listed: number;
  misses: number;
  /** Misses measured while 1,000-element Evaluates keep the provider busy. */
  missesBesideBatches: number;
  hits: number;
  batches: number;
  deltaSamples: number;
}

function sizes(quick: boolean): Sizes {
  return quick
    ? { entries: 100_000, listed: 1_000, misses: 400, missesBesideBatches: 150, hits: 150, batches: 24, deltaSamples: 1 }
    : { entries: 1_000_000, listed: 2_000, misses: 2_000, missesBesideBatches: 600, hits: 600, batches: 120, deltaSamples: 3 };
}

/** "100k", "1m". */
export function sizeLabel(n: number): string {
  return n >= 1_000_000 ? `${n / 1_000_000}m` : `${n / 1_000}k`;
}

/** Throws unless the provider answered: a figure of failed lookups would be meaningless. */
export function answered(outcome: LookupOutcome): AnsweredLookup {
  if (outcome.status !== "answered") throw new Error(`lookup ${outcome.status}: ${outcome.code} ${outcome.message}`);
  return outcome;
}

/** Listed identifiers spread over the categories. */
export function listedItems(seed: number, count: number): ListedItem[] {
  return identifiers(seed, QUERY_TYPES, 0, count).map((item, i) => ({ ...item, categoryId: BENCH_CATEGORY_IDS[i % BENCH_CATEGORY_IDS.length]! }));
}

const hexOf = (n: number) => `0x${"ab".repeat(n)}`;
const json = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

/**
 * Bytes of the JSON frames of an Evaluate of `elements` and of a Fetch of one bucket of
 * `bucketEntries`: the wire shapes with values of their real lengths (hex is fixed-length).
 */
export function frameBytes(elements: number, bucketEntries: number): { evaluate: [number, number]; fetch: [number, number] } {
  const request = (kind: 0 | 1, itemCount: number) => ({
    querier: hexOf(20), provider: hexOf(20), kind, categoryMask: "30", itemCount, itemsCommitment: hexOf(32), nonce: hexOf(32), deadline: "1767225660",
  });
  const answer = (itemCount: number) => ({ queryId: hexOf(32), provider: hexOf(20), keyEpoch: 1, itemCount, answerDigest: hexOf(32) });
  return {
    evaluate: [
      json({ request: request(0, elements), signature: hexOf(65), elements: Array.from({ length: elements }, () => hexOf(32)) }),
      json({ ok: true, answer: answer(elements), answerSignature: hexOf(65), evaluated: Array.from({ length: elements }, () => hexOf(32)), proof: hexOf(64) }),
    ],
    fetch: [
      json({ request: request(1, 1), signature: hexOf(65), prefixes: [{ bits: 10, value: "abababababababab" }] }),
      json({ ok: true, answer: answer(1), answerSignature: hexOf(65), buckets: [{ entries: Buffer.alloc(bucketEntries * BUCKET_RECORD_BYTES, 0xab).toString("base64") }] }),
    ],
  };
}

/** A signed Evaluate frame of `elements` from `querier` to `provider`, encoded (what the client sends). */
async function signedEvaluateFrame(querier: BenchMember, provider: BenchMember, elements: Uint8Array[]): Promise<Uint8Array> {
  const request: LookupRequest = {
    querier: querier.address, provider: provider.address, kind: 0, categoryMask: maskOfCategories(BENCH_CATEGORY_IDS), itemCount: elements.length,
    itemsCommitment: evaluateCommitment(elements), nonce: nonceToBytes32(await querier.nonces.next(provider.address)), deadline: BigInt(nowSec() + 60),
  };
  const signature = digestSignerFromEvmKey(querier.wallet.privateKey).signDigest(lookupRequestDigestBytes(BENCH_CHAIN_ID, BENCH_LEDGER, request));
  const frame = { request: toWireRequest(request), signature, elements: elements.map((e) => `0x${Buffer.from(e).toString("hex")}`) };
  return encodeFrame(frame, lookupRequestFrame, MAX_FRAME_BYTES);
}

const OK_PREFIX = Buffer.from('{"ok":true');

/** Sends one encoded request frame on a new lookup stream and reads the answer's bytes (checked to be an answer, not parsed). */
async function rawLookup(querier: BenchMember, peer: Multiaddr[], frame: Uint8Array): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(30_000);
  const connection = await querier.host.libp2p.dial(peer, { signal });
  const stream = await connection.newStream(LOOKUP_PROTOCOL, { signal, maxOutboundStreams: BENCH_STREAM_LIMITS.maxOutboundStreams });
  try {
    const frames = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES });
    await frames.write(frame, { signal });
    const reply = (await frames.read({ signal })).subarray();
    await stream.close({ signal });
    if (!Buffer.from(reply.buffer, reply.byteOffset, OK_PREFIX.length).equals(OK_PREFIX)) throw new Error(`the provider refused: ${Buffer.from(reply).toString("utf8", 0, 200)}`);
    return reply;
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

/** Mean µs of a synchronous `op` over `count` calls (after a tenth as many to warm up). */
function meanUs(count: number, op: (i: number) => unknown): number {
  for (let i = 0; i < Math.ceil(count / 10); i++) op(i);
  const started = performance.now();
  for (let i = 0; i < count; i++) op(i);
  return ((performance.now() - started) * 1000) / count;
}

/** Mean µs of an asynchronous `op`, one after another. */
async function meanUsAsync(count: number, op: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.ceil(count / 10); i++) await op(i);
  const started = performance.now();
  for (let i = 0; i < count; i++) await op(i);
  return ((performance.now() - started) * 1000) / count;
}

/** Where a 1-item lookup's time goes: each step alone, in this process, on the same inputs; then a hit's Fetch. */
async function breakdown(querier: BenchMember, provider: BenchMember, item: QueryItem, listed: ListedItem, echoP50Ms: number): Promise<string> {
  const { voprf } = querier;
  const key = provider.oprfKey;
  const input = oprfInput(item.type, item.value);
  const blinded = voprf.blind(input);
  const { evaluatedElements, proof } = voprf.blindEvaluateBatch(key.secretKey, key.publicKey, [blinded.blindedElement]);
  const output = voprf.finalizeBatch([input], [blinded.blind], evaluatedElements, [blinded.blindedElement], proof, key.publicKey)[0]!;
  const context = { chainId: BENCH_CHAIN_ID, providerAddress: provider.address, keyEpoch: key.epoch };
  const { tag } = expandEntryKeys(output, context);
  const signer = digestSignerFromEvmKey(querier.wallet.privateKey);
  const digest = new Uint8Array(randomBytes(32));
  const signature = signer.signDigest(digest);
  const signerKey = secp256k1.getPublicKey(hexToBytes(querier.wallet.privateKey.slice(2)), true);
  const requestBytes = await signedEvaluateFrame(querier, provider, [blinded.blindedElement]);
  const replyBytes = await rawLookup(querier, provider.host.getMultiaddrs(), await signedEvaluateFrame(querier, provider, [blinded.blindedElement]));
  // A window of its own (a querier that never asks), so the benchmark's nonces meet no real request's.
  const nonces = provider.store.nonceWindows();
  const benchQuerier = `0x${"b".repeat(40)}`;
  let benchNonce = 0n;
  const outboxRecord = { request: fromWireRequest(decodeFrame(requestBytes, lookupRequestFrame).request), signature, outcome: 1, keyEpoch: 0, count: 1, answerDigest: refusalDigest("E_NOT_MEMBER"), receivedAtMs: Date.now() };
  const us = {
    outbox: await meanUsAsync(100, () => provider.ledgerOutbox.append(outboxRecord)),
    blind: meanUs(300, () => voprf.blind(input)),
    evaluate: meanUs(300, () => voprf.blindEvaluateBatch(key.secretKey, key.publicKey, [blinded.blindedElement])),
    finalize: meanUs(300, () => voprf.finalizeBatch([input], [blinded.blind], evaluatedElements, [blinded.blindedElement], proof, key.publicKey)),
    keys: meanUs(2_000, () => expandEntryKeys(output, context)),
    filter: meanUs(20_000, () => BENCH_CATEGORY_IDS.forEach((c) => querier.sync.contains(provider.address, c, key.epoch, tag))),
    // Two signatures (request, answer) and two checks against the peer's known key (provider, querier).
    signatures: 2 * meanUs(300, () => signer.signDigest(digest)) + 2 * meanUs(300, () => isDigestSignedBy(digest, signature, signerKey)),
    // Both frames through JSON and zod, on both ends.
    frames: meanUs(1_000, () => {
      decodeFrame(requestBytes, lookupRequestFrame);
      decodeFrame(replyBytes, lookupResponseFrame);
    }),
    nonce: await meanUsAsync(200, () => nonces.accept(benchQuerier, (benchNonce += 1n))),
  };
  // A hit's Fetch: the provider reads and seals the bucket, the querier parses it and opens its entry.
  const listedKeys = provider.evaluator.keysOf(listed.type, listed.value);
  const prefix = prefixOfTag(listedKeys.tag, bucketBits(provider.chain.liveCount(provider.address, listed.categoryId) ?? 0));
  const buckets = storeBuckets(provider.store);
  const fetchNow = nowSec();
  const [bucket] = await buckets.fetchBuckets(listed.categoryId, [prefix], fetchNow);
  const fetchReply = encodeFrame({
    ok: true, answer: { queryId: hexOf(32), provider: provider.address, keyEpoch: 1, itemCount: 1, answerDigest: hexOf(32) }, answerSignature: signature,
    buckets: [{ entries: encodeBucket(bucket!) }],
  }, lookupResponseFrame, MAX_FRAME_BYTES);
  const mine = bucket!.find((e) => Buffer.from(e.tag).equals(listedKeys.tag))!;
  const cipher = await createMetadataCipher();
  const ad = metadataAssociatedData({ chainId: BENCH_CHAIN_ID, providerAddress: provider.address, keyEpoch: 1 }, listed.type, mine.version, mine.tag);
  const fetch = {
    read: await meanUsAsync(50, () => buckets.fetchBuckets(listed.categoryId, [prefix], fetchNow)),
    encode: meanUs(50, () => encodeFrame(JSON.parse(Buffer.from(fetchReply).toString("utf8")), lookupResponseFrame, MAX_FRAME_BYTES)),
    decode: meanUs(50, () => decodeFrame(fetchReply, lookupResponseFrame)),
    open: meanUs(500, () => cipher.open(mine.sealed, listedKeys.metadataKey, ad)),
  };
  const ms = (x: number) => (x / 1000).toFixed(3);
  return `querier blind ${ms(us.blind)}, finalize (proof checked) ${ms(us.finalize)}, entry keys ${ms(us.keys)}, filter test (${BENCH_CATEGORY_IDS.length} categories) ${ms(us.filter)}; ` +
    `provider evaluate + proof ${ms(us.evaluate)}, nonce store ${ms(us.nonce)}; EIP-712 sign + check ×2 ${ms(us.signatures)}; JSON + zod of both frames ${ms(us.frames)}; ` +
    `ledger outbox append (fsync) ${ms(us.outbox)}; bare echo round trip ${echoP50Ms.toFixed(3)} (all in ms; the rest is libp2p stream set-up and the event loop). ` +
    `A hit adds a Fetch: provider reads and seals the bucket of ${bucket!.length} entries ${ms(fetch.read)}, encodes its ${fetchReply.length.toLocaleString("en-US")}-byte answer (JSON + zod) ${ms(fetch.encode)}, ` +
    `querier parses it ${ms(fetch.decode)} and opens its entry ${ms(fetch.open)}, two more signatures and checks, and a second round trip`;
}

/**
 * filter.delta_visible_s: one entry per sample, upserted at the provider right after the querier's
 * FilterSync took the provider's filter of that category (the worst phase of its poll), until a
 * lookup from the querier hits it; lookups retried every {@link VISIBLE_PROBE_MS}.
 */
async function deltaVisible(querier: BenchMember, provider: BenchMember, items: ListedItem[], rng: Prng, ctx: SuiteContext): Promise<number[]> {
  const peer = provider.host.getMultiaddrs();
  const samples: number[] = [];
  await querier.sync.start(ctx.signal);
  try {
    for (const item of items) {
      const polled = new Promise<void>((resolve) => {
        querier.filterCache.onPut = (providerAddress, categoryId) => {
          if (providerAddress.toLowerCase() === provider.address.toLowerCase() && categoryId === item.categoryId) resolve();
        };
      });
      await polled;
      querier.filterCache.onPut = undefined;
      await provider.store.upsert([listedEntry(provider, item, rng)]);
      const started = performance.now();
      for (;;) {
        ctx.signal.throwIfAborted();
        const outcome = answered(await querier.lookup.lookupPeer(peer, { providerAddress: provider.address, items: [item], categoryIds: [...BENCH_CATEGORY_IDS] }));
        if (outcome.results[0]!.hit) break;
        if (performance.now() - started > 3 * FILTER_POLL_MS) throw new Error(`a new entry was still not visible after ${(3 * FILTER_POLL_MS) / 1000} s`);
        await sleep(VISIBLE_PROBE_MS);
      }
      samples.push((performance.now() - started) / 1000);
      ctx.log(`lookup: new entry visible to the querier after ${samples.at(-1)!.toFixed(1)} s`);
    }
  } finally {
    querier.filterCache.onPut = undefined;
    await querier.sync.stop();
  }
  return samples;
}

/** The lookup suite. */
export const lookupSuite: Suite = {
  name: "lookup",
  async run(ctx) {
    const size = sizes(ctx.quick);
    const rng = new Prng(ctx.seed ^ 0x6c6b);
    const chain = new BenchChain();
    let querier: BenchMember | undefined;
    let provider: BenchMember | undefined;
    let stopEcho: (() => Promise<void>) | undefined;
    try {
      provider = await startMember(chain, benchWallet(rng), rng);
      querier = await startMember(chain, benchWallet(rng), rng);
      const q = querier;
      const p = provider;
      const listed = listedItems(ctx.seed, size.listed);
      const fill = await fillStore(p, { synthetic: size.entries - listed.length, listed }, rng);
      ctx.log(`lookup: provider store of ${size.entries.toLocaleString("en-US")} entries (${listed.length.toLocaleString("en-US")} listed identifiers keyed by its OPRF key, the rest synthetic keys) upserted in ${fill.upsertS.toFixed(1)} s, ${BENCH_CATEGORY_IDS.length} base filters built in ${fill.filterS.toFixed(1)} s`);
      const synced = performance.now();
      await syncFilters(q);
      ctx.log(`lookup: the querier took the provider's ${BENCH_CATEGORY_IDS.length} base filters over filter/1 in ${((performance.now() - synced) / 1000).toFixed(2)} s`);

      stopEcho = await startEcho(p.host, BENCH_STREAM_LIMITS);
      const peer = p.host.getMultiaddrs();
      const categoryIds = [...BENCH_CATEGORY_IDS];
      const ask = async (items: QueryItem[]) => answered(await q.lookup.lookupPeer(peer, { providerAddress: p.address, items, categoryIds }));
      const echo = (frame: Uint8Array) => echoOnce(q.host, peer, frame, BENCH_STREAM_LIMITS);

      // Inputs drawn before any clock runs; listed ones cycle (a repeat is a fresh lookup: fresh blinds).
      const unlisted = identifiers(ctx.seed, QUERY_TYPES, UNLISTED_FROM, size.misses + 100);
      const hitItems = Array.from({ length: size.hits + 30 }, (_, i) => listed[(i * 7) % listed.length]!);
      const bucketEntries = Math.round(Math.max(...categoryIds.map((c) => (chain.liveCount(p.address, c) ?? 0) / 2 ** bucketBits(chain.liveCount(p.address, c) ?? 0))));
      const frames = frameBytes(1, bucketEntries);
      const batchFrames = frameBytes(MAX_ITEMS_PER_REQUEST, 0).evaluate;
      ctx.log(`lookup: frames of ${frames.evaluate.join("/")} bytes (Evaluate, 1 element), ${frames.fetch.join("/")} bytes (Fetch, one bucket of ~${bucketEntries} entries), ${batchFrames.join("/")} bytes (Evaluate, 1,000 elements)`);
      const evaluateEcho = echoFrame(...frames.evaluate);
      const fetchEcho = echoFrame(...frames.fetch);
      const batchEcho = echoFrame(...batchFrames);

      // Warm up both paths (connection, JIT, LevelDB's cache of the index).
      for (let i = 0; i < 100; i++) await ask([unlisted[size.misses + i]!]);
      for (let i = 0; i < 30; i++) await ask([hitItems[size.hits + i]!]);
      for (let i = 0; i < 100; i++) await echo(evaluateEcho);

      // Misses and their echo baseline, alternating so both see the same machine state.
      const miss: number[] = [];
      const missEcho: number[] = [];
      let withFetch = 0;
      const evaluateOnly: number[] = [];
      for (let i = 0; i < size.misses; i++) {
        let t = performance.now();
        const outcome = await ask([unlisted[i]!]);
        const elapsed = performance.now() - t;
        miss.push(elapsed);
        if (outcome.results[0]!.hit) throw new Error("an identifier never listed was found");
        if (outcome.coverFetchQueryId !== undefined) withFetch++;
        else evaluateOnly.push(elapsed);
        t = performance.now();
        await echo(evaluateEcho);
        missEcho.push(performance.now() - t);
      }
      // Hits: Evaluate, then the Fetch of one bucket; baseline: the two echoes.
      const hit: number[] = [];
      const hitEcho: number[] = [];
      for (let i = 0; i < size.hits; i++) {
        let t = performance.now();
        const outcome = await ask([hitItems[i]!]);
        hit.push(performance.now() - t);
        if (!outcome.results[0]!.hit) throw new Error(`a listed identifier was not found (${JSON.stringify(outcome.results[0])})`);
        t = performance.now();
        await echo(evaluateEcho);
        await echo(fetchEcho);
        hitEcho.push(performance.now() - t);
      }
      const m = summarise(miss);
      const me = summarise(missEcho);
      const eo = summarise(evaluateOnly);
      const h = summarise(hit);
      const he = summarise(hitEcho);
      ctx.log(`lookup: miss p50 ${m.p50.toFixed(2)} / p99 ${m.p99.toFixed(2)} ms (echo ${me.p50.toFixed(2)} / ${me.p99.toFixed(2)}); ${withFetch} of ${size.misses} sent a cover fetch (coverFetchRate ${LOOKUP_DEFAULTS.coverFetchRate}, the default), without one p50 ${eo.p50.toFixed(2)} / p99 ${eo.p99.toFixed(2)} ms`);
      ctx.log(`lookup: hit p50 ${h.p50.toFixed(2)} / p99 ${h.p99.toFixed(2)} ms (two echoes ${he.p50.toFixed(2)} / ${he.p99.toFixed(2)})`);
      ctx.log(`lookup: where a miss's time goes: ${await breakdown(q, p, unlisted[0]!, listed[0]!, me.p50)}`);

      // The provider's evaluation rate: 1,000-element requests blinded beforehand, sent raw.
      const elementSets = Array.from({ length: 4 }, () => Array.from({ length: MAX_ITEMS_PER_REQUEST }, () => q.voprf.blind(new Uint8Array(randomBytes(32))).blindedElement));
      // Each frame is signed as it goes (~1% of a request's time): signed beforehand, the last ones would pass their 60 s deadline.
      const send = async (i: number) => rawLookup(q, peer, await signedEvaluateFrame(q, p, elementSets[i % elementSets.length]!));
      for (let i = 0; i < 4; i++) await send(i);
      // The primitive before and after the flood, the better one kept (the ratio errs low on a busy machine).
      const primitiveBefore = await sodiumScalarmultPerSecond(ctx.quick ? 700 : 2_000);
      const recordsBefore = p.outboxRecords();
      const flood = await runConcurrent(size.batches, IN_FLIGHT, send);
      if (p.outboxRecords() - recordsBefore !== size.batches) throw new Error(`the provider recorded ${p.outboxRecords() - recordsBefore} requests, expected ${size.batches}`);
      const echoFlood = await runConcurrent(size.batches, IN_FLIGHT, () => echo(batchEcho));
      const itemsPerS = perSecond(size.batches * MAX_ITEMS_PER_REQUEST, flood.elapsedMs);
      const scalarmultPerS = Math.max(primitiveBefore, await sodiumScalarmultPerSecond(ctx.quick ? 700 : 2_000));
      ctx.log(`lookup: the provider evaluated ${Math.round(itemsPerS).toLocaleString("en-US")} elements/s (1,000 per request, ${IN_FLIGHT} in flight; p50 ${summarise(flood.samples).p50.toFixed(0)} ms a request); libsodium scalarmult ${Math.round(scalarmultPerS).toLocaleString("en-US")}/s on one thread`);

      // Misses while the same provider serves a flood of 1,000-element Evaluates (a member's batch
      // screening): what the batch evaluation on a worker thread is for. Baseline: the misses above.
      let flooding = true;
      let floodSent = 0;
      const floodLoops = Array.from({ length: IN_FLIGHT }, async () => {
        while (flooding) await send(floodSent++);
      });
      await sleep(500);
      const besideBatches: number[] = [];
      for (let i = 0; i < size.missesBesideBatches; i++) {
        const t = performance.now();
        const outcome = await ask([unlisted[i]!]);
        besideBatches.push(performance.now() - t);
        if (outcome.results[0]!.hit) throw new Error("an identifier never listed was found");
      }
      flooding = false;
      await Promise.all(floodLoops);
      const mb = summarise(besideBatches);
      ctx.log(`lookup: beside a flood of 1,000-element Evaluates (${floodSent} sent meanwhile), miss p50 ${mb.p50.toFixed(2)} / p99 ${mb.p99.toFixed(2)} ms (alone ${m.p50.toFixed(2)} / ${m.p99.toFixed(2)})`);

      // An addition at the provider until the querier sees it, through FilterSync's own loop.
      const fresh = identifiers(ctx.seed, ["phone"], 2 * UNLISTED_FROM, size.deltaSamples).map((item) => ({ ...item, categoryId: 1 }));
      const visible = await deltaVisible(q, p, fresh, rng, ctx);
      const visibleS = Math.max(...visible);

      const echoIs = "bare libp2p echo, same frame sizes";
      const label = sizeLabel(size.entries);
      const results: ReportedResult[] = [
        result({ name: "lookup.p50_ms", value: m.p50, unit: "ms", baseline: me.p50, baselineIs: `${echoIs} (Evaluate, 1 item; miss, ${label} entries)` }),
        result({
          name: "lookup.p99_ms", value: m.p99, unit: "ms", baseline: me.p99, baselineIs: `${echoIs} (Evaluate, 1 item; miss, ${label} entries, cover fetches at the default rate)`,
          target: { text: `≤ ${TARGET_P99_MS}`, met: (v) => v <= TARGET_P99_MS },
        }),
        result({
          name: "lookup.hit_p99_ms", value: h.p99, unit: "ms", baseline: he.p99, baselineIs: `${echoIs} (Evaluate + Fetch of ~${bucketEntries} entries; hit, ${label} entries)`,
          target: { text: `≤ ${TARGET_HIT_P99_MS}`, met: (v) => v <= TARGET_HIT_P99_MS },
        }),
        result({
          name: "lookup.p99_beside_batches_ms", value: mb.p99, unit: "ms", baseline: m.p99,
          baselineIs: `the same misses with no batch in flight (1 item each, while ${IN_FLIGHT} 1,000-element Evaluates at a time keep the provider busy)`,
        }),
        result({
          name: "lookup.items_per_s", value: itemsPerS, unit: "items/s", baseline: perSecond(size.batches * MAX_ITEMS_PER_REQUEST, echoFlood.elapsedMs),
          baselineIs: `${echoIs}, 1,000-element frames, ${IN_FLIGHT} in flight`,
        }),
        result({
          name: "lookup.primitive_ratio", value: itemsPerS / scalarmultPerS, unit: "×", valueIsRatio: true, baseline: scalarmultPerS, baselineIs: "libsodium scalarmult/s, one thread, same run (best of before/after)",
          target: { text: `≥ ${TARGET_PRIMITIVE_RATIO}`, met: (v) => v >= TARGET_PRIMITIVE_RATIO },
        }),
        result({
          name: "filter.delta_visible_s", value: visibleS, unit: "s", baseline: FILTER_POLL_MS / 1000,
          baselineIs: `FilterSync's default poll interval (worst phase, ${visible.length} sample${visible.length === 1 ? "" : "s"}, max)`,
          target: { text: `≤ ${TARGET_DELTA_VISIBLE_S}`, met: (v) => v <= TARGET_DELTA_VISIBLE_S },
        }),
      ];
      return results;
    } finally {
      await stopEcho?.().catch(() => undefined);
      await stopMembers([querier, provider]);
    }
  },
};
