/**
 * Bad input, property-based (fast-check), against a real member node: a `riskshare node start`
 * process on a Hardhat chain, fed malformed, oversized and random frames on both p2p protocols of
 * v2 (`/riskshare/lookup/2` and `/riskshare/filter/1`) and on the retired `/riskshare/lookup/1`,
 * and random bodies on its HTTP API, while an honest member's lookups (an Evaluate and a cover
 * Fetch each) and filter downloads go on being served; and random CSV files into the list importer.
 *
 * Sizes: RISKSHARE_HARDENING_FULL=1 runs 10,000 cases per protocol (and 10× the API and CSV
 * cases, one CSV file in 8 through the import's worker threads); the default run (CI) takes 1,000
 * per protocol (a quarter of that on lookup/1), and one CSV file in 40 through the workers.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { Stream } from "@libp2p/interface";
import { lpStream } from "@libp2p/utils";
import { multiaddr } from "@multiformats/multiaddr";
import { expect } from "chai";
import fc from "fast-check";
import { hexlify, randomBytes } from "ethers";
import { API_DEFAULTS, checkRequestSchema } from "../../node/api/index.ts";
import { QueryOutcome, recoverDigestSigner, REFUSAL_ERROR_CODES, type LookupRequest, type TagPrefix } from "../../node/chain/index.ts";
import { KeyStore, updateConfig } from "../../node/config/index.ts";
import { isRiskshareError } from "../../node/errors.ts";
import { IDENTIFIER_REJECT_REASONS, tryNormalise } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import {
  baseFilterHash, FILTER_MAX_FRAME_BYTES, FILTER_PROTOCOL, filterResponseFrame, filterStateDigest, fromWireRequest, LOOKUP_PROTOCOL, LOOKUP_PROTOCOL_V1,
  lookupRequestFrame, lookupResponseFrame, MAX_FETCH_PREFIXES, MAX_FRAME_BYTES, MAX_INBOUND_STREAMS, MAX_ITEMS_PER_REQUEST, TIMEOUT_MS,
  type FilterAnswerFrame,
} from "../../node/p2p/index.ts";
import { ENTRY_REJECT_REASONS, importList, Store, type ImportSummary } from "../../node/store/index.ts";
import { startNodeProcess, type NodeProcess } from "../../scripts/devnet/processes.ts";
import type { DevMember } from "../../scripts/devnet/consortium.ts";
import { CSV_HEADER, FIXTURE_BINDING, FIXTURE_CATEGORIES, fixtureEvaluator } from "../fixtures/riskList.ts";
import { csvFileCase, IMPORT_NOW, randomCellsCase, type CsvFileCase } from "./support/csv-cases.ts";
import {
  apiClient, expectLedgerMatches, FULL, LIST_HEADER, pollUntil, randomElements, rawExchange, recordedQueryId, signedRequestFrame, startConsortium, startMemberPeer,
  type ApiClient, type Consortium, type MemberPeer, type RawPayload, type RawReply, type SignedFrame,
} from "./support/consortium.ts";

/** Cases per p2p protocol. */
const PROTOCOL_RUNS = FULL ? 10_000 : 1_000;
/** Cases on the retired protocol, whose handler reads nothing but answers every stream alike. */
const V1_RUNS = PROTOCOL_RUNS / 4;
/** Random bodies sent to the HTTP API. */
const API_RUNS = FULL ? 5_000 : 500;
/** Random CSV files imported (each of the three kinds). */
const CSV_RUNS = FULL ? 2_000 : 200;
/**
 * One CSV file in this many goes through the import's worker threads (the rest in this thread):
 * starting them costs ~0.5-1 s per file, 30 times the import itself, so the default run sends 5
 * files of each kind that way (the unit tests hold the worker path to the in-thread one).
 */
const CSV_WORKER_EVERY = FULL ? 8 : 40;
/** An honest request goes alongside every this many fuzz cases. */
const HONEST_EVERY = 20;

/** Reciprocity within reach of one contributed entry; quotas (counted per item) the honest member cannot exhaust. */
const POLICY = { minEntries: 1n, maxSnapshotAgeSeconds: 86_400n, quotaBase: 1_000_000n, quotaRatioBps: 0n, quotaCeiling: 1_000_000n };

/** Refusals the provider records on chain (the request parsed; spec section 3, steps 2-5). Others are not recorded. */
const RECORDED_REFUSALS = new Set(["E_BAD_SIGNATURE", "E_BAD_REQUEST", "E_EXPIRED", "E_REPLAY", "E_RECIPROCITY", "E_QUOTA", "E_CATEGORY_UNKNOWN"]);

/** A point that is not a canonical ristretto255 encoding (all bits set: above the field prime). */
const NOT_AN_ELEMENT = Uint8Array.from({ length: 32 }, () => 0xff);
/** The identity element's encoding: canonical, but never a blinded element. */
const IDENTITY = new Uint8Array(32);

const utf8 = (text: string) => new TextEncoder().encode(text);

/** An unsigned LEB128 varint, as libp2p's length prefix (to claim a length the bytes do not have). */
function varint(value: number): Uint8Array {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}

/** Replaces (or deletes, for `undefined`) the value at `path` of a deep copy of `value`. */
function mutate(value: object, path: readonly (string | number)[], replacement: unknown): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== "object" || node[key] === null) return copy;
    node = node[key] as Record<string | number, unknown>;
  }
  if (replacement === undefined) delete node[path.at(-1)!];
  else node[path.at(-1)!] = replacement;
  return copy;
}

/** Random bytes on the wire, common to every protocol (sizes around each protocol's cap). */
function wireGarbage(maxFrameBytes: number): fc.Arbitrary<RawPayload> {
  return fc.oneof(
    // no frame at all: a prefix and bytes as they come, often a truncated frame
    fc.uint8Array({ maxLength: 600 }).map((raw) => ({ raw })),
    // a well-framed blob that is not JSON, or JSON of any shape, or text with any code unit
    fc.uint8Array({ maxLength: Math.min(maxFrameBytes, 4_096) }).map((framed) => ({ framed })),
    fc.jsonValue({ maxDepth: 6 }).map((value) => ({ framed: utf8(JSON.stringify(value) ?? "null") })),
    fc.string({ unit: "binary", maxLength: 400 }).map((text) => ({ framed: utf8(text) })),
    // a prefix that claims more than the cap: refused on the prefix, before any buffering
    fc.tuple(fc.integer({ min: maxFrameBytes + 1, max: 2 ** 31 }), fc.uint8Array({ maxLength: 64 })).map(([claimed, tail]) => ({ raw: Uint8Array.from([...varint(claimed), ...tail]) })),
    // a prefix that claims more than is sent, then the end of the stream
    fc.tuple(fc.integer({ min: 2, max: maxFrameBytes }), fc.uint8Array({ maxLength: 64 })).map(([claimed, tail]) => ({ raw: Uint8Array.from([...varint(claimed), ...tail.subarray(0, claimed - 1)]) })),
  );
}

/** Where a lookup/2 request frame (an Evaluate's or a Fetch's) can be broken. */
const LOOKUP_PATHS: readonly (readonly (string | number)[])[] = [
  ["request"], ["request", "querier"], ["request", "provider"], ["request", "kind"], ["request", "categoryMask"], ["request", "itemCount"],
  ["request", "itemsCommitment"], ["request", "nonce"], ["request", "deadline"], ["request", "extra"],
  ["signature"], ["elements"], ["elements", 0], ["elements", 1], ["elements", 2], ["prefixes"], ["prefixes", 0], ["prefixes", 0, "bits"], ["prefixes", 0, "value"],
  ["prefixes", 0, "extra"], ["prefixes", 4], ["extra"],
];

/** Values that sit at the edges of what the lookup/2 and filter/1 schemas accept. */
const edgeValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    "0", "18446744073709551615", "18446744073709551616", "-1", "2", "0x", `0x${"00".repeat(32)}`, `0x${"ff".repeat(32)}`, `0x${"ff".repeat(20)}`, `0x${"1".repeat(130)}`,
    "0000000000000000", "ffffffffffffffff", "FFFFFFFFFFFFFFFF", "8000000000000000", `0x${"00".repeat(8)}`,
    0, 1, -1, 63, 64, 65, 1_000, 1_001, 2 ** 32, 2 ** 53, Number.MAX_SAFE_INTEGER, 1.5, "bank_card", "a".repeat(33), null, [], {},
  ),
  fc.constant(undefined), // the key is deleted
);

/**
 * A request that passes the schema, signed by the fuzzer, then perhaps tampered with after signing:
 * every field within its wire type, so the provider's checks after parsing are the ones exercised
 * (signature, addressee, deadline, nonce, shape, commitment, element validity, fetch rules, reciprocity).
 */
interface SignedPlan {
  kind: 0 | 1;
  categoryIds: number[];
  /** Evaluate: how many elements, and what they are. */
  elementCount: number;
  elements: "valid" | "random" | "notAnElement" | "identity";
  /** Fetch: prefixes as (bits, value); a value may have bits set below the prefix's length. */
  prefixes: { bits: number; value: bigint }[];
  deadlineOffsetSeconds: number;
  addressedTo: "provider" | "honest" | "stranger";
  claimsToBe: "fuzzer" | "honest";
  tamper: "none" | "itemCount" | "swapElements" | "element" | "prefix" | "commitment" | "categoryMask" | "nonce" | "kind";
}

const signedPlan: fc.Arbitrary<SignedPlan> = fc.record({
  kind: fc.constantFrom<0 | 1>(0, 0, 1),
  categoryIds: fc.oneof(fc.constant<number[]>([1]), fc.constant<number[]>([1]), fc.uniqueArray(fc.integer({ min: 1, max: 63 }), { minLength: 1, maxLength: 4 })),
  elementCount: fc.constantFrom(1, 1, 2, 3, 4, 5, 8, 16, 17, 64),
  elements: fc.constantFrom("valid", "valid", "valid", "random", "notAnElement", "identity"),
  prefixes: fc.array(
    fc.record({ bits: fc.constantFrom(0, 0, 0, 1, 8, 63, 64), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), canonical: fc.boolean() })
      .map(({ bits, value, canonical }) => ({ bits, value: canonical ? (bits === 0 ? 0n : (value >> BigInt(64 - bits)) << BigInt(64 - bits)) : value })),
    { minLength: 1, maxLength: MAX_FETCH_PREFIXES },
  ),
  deadlineOffsetSeconds: fc.constantFrom(-3_600, -2, 5, 60, 599, 700, 100_000),
  addressedTo: fc.constantFrom("provider", "provider", "provider", "honest", "stranger"),
  claimsToBe: fc.constantFrom("fuzzer", "fuzzer", "fuzzer", "honest"),
  tamper: fc.constantFrom("none", "none", "none", "itemCount", "swapElements", "element", "prefix", "commitment", "categoryMask", "nonce", "kind"),
});

/** The elements a plan sends. */
async function planElements(plan: SignedPlan): Promise<Uint8Array[]> {
  const valid = await randomElements(plan.elementCount);
  switch (plan.elements) {
    case "valid": return valid;
    case "random": return valid.map((e, i) => (i === 0 ? new Uint8Array(randomBytes(32)) : e));
    case "notAnElement": return valid.map((e, i) => (i === valid.length - 1 ? NOT_AN_ELEMENT : e));
    case "identity": return valid.map((e, i) => (i === 0 ? IDENTITY : e));
  }
}

describe("fuzz: a member node under malformed, oversized and random input", function () {
  this.timeout(900_000);
  let consortium: Consortium;
  let provider: DevMember, honest: DevMember, fuzzer: DevMember;
  let providerProcess: NodeProcess;
  let honestPeer: MemberPeer, fuzzPeer: MemberPeer;
  let providerApi: ApiClient;
  /**
   * What the provider must have recorded, as `code/queryId` ("answered" or the refusal's code; a
   * refusal's id is that of the request with the connected peer as querier): honest requests and
   * the fuzz frames it parsed and answered or refused. A set: a request resent and refused again
   * for the same reason lands once.
   */
  const expectedRecords = new Set<string>();
  /** The `code/queryId` a reply to `request` from the fuzzer lands under. */
  const recordKey = (code: string, request: LookupRequest) =>
    `${code}/${recordedQueryId(consortium, code === "answered" ? request : { ...request, querier: fuzzPeer.wallet.address }, provider.address).toLowerCase()}`;
  /** Query ids of requests refused for a reason read after parsing, with the outcome they must land under. */
  const refusalsOnRecord: { queryId: string; outcome: string }[] = [];

  /** The provider process is still running (a crash would have ended it). */
  function expectProviderAlive(): void {
    let alive = true;
    try {
      process.kill(providerProcess.pid, 0);
    } catch {
      alive = false;
    }
    expect(alive, `the provider process died:\n${providerProcess.log()}`).to.equal(true);
  }

  /** One honest lookup of the provider through the real lookup/2 client (an Evaluate, then a cover Fetch): must be answered. */
  async function honestLookup(): Promise<void> {
    const outcome = await honestPeer.lookup.lookupPeer(multiaddr(provider.multiaddr), {
      providerAddress: provider.address, items: [{ type: "phone", value: `+86139${String(Math.floor(Math.random() * 1e8)).padStart(8, "0")}` }], categoryIds: [1],
    }, { timeoutMs: 10_000 });
    expect(outcome.status, outcome.status === "answered" ? "" : `${outcome.code}: ${outcome.message}`).to.equal("answered");
    if (outcome.status !== "answered") return;
    expect(outcome.fetchQueryIds, "no filter hit, no real Fetch").to.have.length(0);
    expect(outcome.coverFetchQueryId, "the honest cover fetch").to.be.a("string");
    await honestPeer.lookup.idle();
    for (const id of [outcome.queryId, ...outcome.fetchQueryIds, outcome.coverFetchQueryId!]) expectedRecords.add(`answered/${id.toLowerCase()}`);
  }

  /** One honest filter download of category 1: a state signed by the provider, with a base that hashes as sent. */
  async function honestFilterFetch(): Promise<void> {
    const reply = await rawExchange(honestPeer.host, provider.multiaddr, FILTER_PROTOCOL, { json: { provider: provider.address, category: 1, epoch: 1, baseHash: null, fromSeq: 0 } });
    expect(reply.kind).to.equal("frame");
    const frame = filterResponseFrame.parse((reply as { frame: unknown }).frame);
    expect(frame.ok, JSON.stringify(frame)).to.equal(true);
    expectSignedByProvider(frame as FilterAnswerFrame);
    const { base, state } = frame as FilterAnswerFrame;
    expect(base?.chunks, "one chunk").to.equal(1);
    expect(baseFilterHash(Buffer.from(base!.bytes, "base64")), "the base hashes to the signed baseHash").to.equal(state.baseHash);
  }

  function expectSignedByProvider(frame: FilterAnswerFrame): void {
    expect(recoverDigestSigner(filterStateDigest(frame.state), frame.signature), "the filter state's signer").to.equal(provider.address);
  }

  /** The frame a {@link SignedPlan} stands for. */
  async function buildSigned(plan: SignedPlan): Promise<object> {
    const to = { provider: provider.address, honest: honest.address, stranger: `0x${"5a".repeat(20)}` }[plan.addressedTo];
    const querier = plan.claimsToBe === "fuzzer" ? fuzzer.address : honest.address;
    const { frame } = await signedRequestFrame(consortium, fuzzPeer.wallet, {
      provider: to, querier, kind: plan.kind, categoryIds: plan.categoryIds,
      ...(plan.kind === 0 ? { elements: await planElements(plan) } : { prefixes: plan.prefixes }),
      deadline: BigInt(Math.floor(Date.now() / 1000) + plan.deadlineOffsetSeconds),
    });
    const other = hexlify(randomBytes(32));
    switch (plan.tamper) {
      case "none": return frame;
      case "itemCount": return { ...frame, request: { ...frame.request, itemCount: frame.request.itemCount === 1 ? 2 : frame.request.itemCount - 1 } };
      case "swapElements": return frame.elements ? { ...frame, elements: [...frame.elements].reverse() } : { ...frame, prefixes: [...frame.prefixes!].reverse() };
      case "element": return frame.elements ? { ...frame, elements: [hexlify((await randomElements(1))[0]!), ...frame.elements.slice(1)] } : frame;
      case "prefix": return frame.prefixes ? { ...frame, prefixes: [{ bits: 0, value: "0000000000000000" }, ...frame.prefixes.slice(1)].concat(frame.prefixes.length === 1 ? [{ bits: 0, value: "0000000000000000" }] : []) } : frame;
      case "commitment": return { ...frame, request: { ...frame.request, itemsCommitment: other } };
      case "categoryMask": return { ...frame, request: { ...frame.request, categoryMask: (BigInt(frame.request.categoryMask) ^ 4n || 2n).toString() } };
      case "nonce": return { ...frame, request: { ...frame.request, nonce: other } };
      case "kind": return { ...frame, request: { ...frame.request, kind: frame.request.kind === 0 ? 1 : 0 } };
    }
  }

  /** Runs `exchange` for `runs` generated cases, an honest request beside every HONEST_EVERY-th. */
  async function fuzzProtocol<T>(arbitrary: fc.Arbitrary<T>, runs: number, exchange: (input: T) => Promise<RawReply>, honestRequest: () => Promise<void>, judge: (reply: RawReply, input: T) => void) {
    const tally = { frames: 0, closed: 0, honest: 0 };
    let index = 0;
    await fc.assert(
      fc.asyncProperty(arbitrary, async (input) => {
        const alongside = index++ % HONEST_EVERY === 0;
        // rawExchange throws E_TIMEOUT if the node neither answers nor closes: a hang fails the case.
        const [reply] = await Promise.all([exchange(input), alongside ? honestRequest() : Promise.resolve()]);
        if (alongside) tally.honest++;
        judge(reply, input);
        if (reply.kind === "frame") tally.frames++;
        else tally.closed++;
      }),
      { numRuns: runs, endOnFailure: true },
    );
    expectProviderAlive();
    return tally;
  }

  /** A reply must be a schema-valid frame (never E_INTERNAL), or the stream closed. */
  function judgeFrame<F extends { ok: true } | { ok: false; error: { code: string; message: string } }>(reply: RawReply, schema: { safeParse(value: unknown): { success: boolean; data?: F } }): { frame: F; code: string } | undefined {
    if (reply.kind === "closed") return undefined;
    const parsed = schema.safeParse(reply.frame);
    expect(parsed.success, `an off-schema reply: ${JSON.stringify(reply.frame).slice(0, 300)}`).to.equal(true);
    const frame = parsed.data!;
    if (!frame.ok) expect(frame.error.code, frame.error.message).to.not.equal("E_INTERNAL");
    return { frame, code: frame.ok ? "answered" : frame.error.code };
  }

  /** Sends one hand-built lookup/2 frame; its error code, after checking it is `code`; records it when the provider records such a refusal. */
  async function expectRefusal(signed: SignedFrame | { frame: object }, code: string, outcome?: string): Promise<void> {
    const reply = await rawExchange(fuzzPeer.host, provider.multiaddr, LOOKUP_PROTOCOL, { json: signed.frame });
    expect(reply.kind, "a typed refusal, not a closed stream").to.equal("frame");
    const frame = lookupResponseFrame.parse((reply as { frame: unknown }).frame);
    expect(frame.ok ? "answered" : frame.error.code, JSON.stringify(frame).slice(0, 300)).to.equal(code);
    if (outcome !== undefined && "request" in signed) {
      const key = recordKey(code, signed.request);
      expectedRecords.add(key);
      refusalsOnRecord.push({ queryId: key.slice(key.indexOf("/") + 1), outcome });
    }
  }

  before(async () => {
    consortium = await startConsortium({ names: ["Provider", "Honest", "Fuzzer"], policy: POLICY, flushIntervalMs: 500 });
    [provider, honest, fuzzer] = consortium.members as [DevMember, DevMember, DevMember];
    for (const contributor of consortium.members) {
      await consortium.importAndPublish(contributor, `${LIST_HEADER}\ndevice_id,${contributor.name}-dev-1,fraud_confirmed,2,R01,2026-01-01\n`);
    }
    // Every refusal its own record (folding has its own tests), and no item bucket in the way of the fuzz's pace.
    await updateConfig(provider.dataDir, (config) => ({ ...config, lookup: { ...config.lookup, refusalFoldSeconds: 0, peerItemsPerSecond: 1_000_000, peerBurstItems: 10_000_000 } }));
    providerProcess = await startNodeProcess(provider.dataDir);
    providerApi = apiClient(providerProcess.runtime.apiUrl, await new KeyStore({ dataDir: provider.dataDir }).apiToken());
    honestPeer = await startMemberPeer(consortium, honest.privateKey);
    fuzzPeer = await startMemberPeer(consortium, fuzzer.privateKey);
  });

  after(async () => {
    await Promise.allSettled([honestPeer?.stop(), fuzzPeer?.stop()]);
    await providerProcess?.kill("SIGKILL");
    await consortium?.stop();
  });

  it(`${LOOKUP_PROTOCOL}: ${PROTOCOL_RUNS} random, malformed and oversized frames, invalid elements, wrong shapes and long prefixes each get an error frame or a closed stream; the honest member is answered meanwhile`, async () => {
    type LookupInput = RawPayload | { broken: [readonly (string | number)[], unknown, boolean, 0 | 1] } | { signed: SignedPlan };
    const arbitrary: fc.Arbitrary<LookupInput> = fc.oneof(
      { weight: 3, arbitrary: wireGarbage(MAX_FRAME_BYTES) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...LOOKUP_PATHS), edgeValue, fc.boolean(), fc.constantFrom<0 | 1>(0, 1)).map((broken) => ({ broken })) },
      { weight: 3, arbitrary: signedPlan.map((signed) => ({ signed })) },
    );
    const newTemplate = (kind: 0 | 1) => signedRequestFrame(consortium, fuzzPeer.wallet, { provider: provider.address, kind, ...(kind === 0 ? { elementCount: 2 } : {}) });
    const templates = { 0: await newTemplate(0), 1: await newTemplate(1) };
    /** The JSON frame of the current case, when it sent one. */
    let sent: unknown;
    const byCode = new Map<string, number>();
    const tally = await fuzzProtocol(
      arbitrary,
      PROTOCOL_RUNS,
      async (input) => {
        sent = undefined;
        if ("broken" in input) {
          const [path, value, fresh, kind] = input.broken;
          // A fresh signed template (unseen nonce) or the same one again (a replay once seen).
          if (fresh) templates[kind] = await newTemplate(kind);
          sent = mutate(templates[kind].frame, path, value);
        } else if ("signed" in input) {
          sent = await buildSigned(input.signed);
        }
        return rawExchange(fuzzPeer.host, provider.multiaddr, LOOKUP_PROTOCOL, sent === undefined ? (input as RawPayload) : { json: sent });
      },
      honestLookup,
      (reply) => {
        const verdict = judgeFrame(reply, lookupResponseFrame);
        if (verdict === undefined) return;
        byCode.set(verdict.code, (byCode.get(verdict.code) ?? 0) + 1);
        if (verdict.code === "answered" || RECORDED_REFUSALS.has(verdict.code)) {
          // Only a request that parsed is answered or refused this way, and it must land on chain.
          const parsed = lookupRequestFrame.safeParse(sent);
          expect(parsed.success, `a ${verdict.code} reply to a frame that is not a request: ${JSON.stringify(sent)?.slice(0, 300)}`).to.equal(true);
          expectedRecords.add(recordKey(verdict.code, fromWireRequest(parsed.data!.request)));
        }
      },
    );
    console.log(`      (${tally.frames} frames, ${tally.closed} closed streams, ${tally.honest} honest lookups answered; ${[...byCode].map(([c, n]) => `${c} ${n}`).join(", ")})`);
    expect(tally.frames, "most cases reach the parser and get a typed error").to.be.greaterThan(PROTOCOL_RUNS / 3);
    for (const code of ["E_PROTOCOL", "E_FRAME_TOO_LARGE", "E_BAD_SIGNATURE", "E_BAD_REQUEST", "E_EXPIRED", "answered"]) {
      expect(byCode.get(code) ?? 0, `cases answered ${code}`).to.be.greaterThan(0);
    }
  });

  it(`${LOOKUP_PROTOCOL}: refuses each kind of bad request with its code, and records those it parsed (invalid elements, wrong shapes, too many prefix bits, …)`, async () => {
    const wallet = fuzzPeer.wallet;
    const to = { provider: provider.address };
    const elements = (count: number) => randomElements(count);
    const prefix = (bits: number, value = 0n): TagPrefix => ({ bits, value });
    // Parsed, refused and recorded as DeniedBadRequest:
    await expectRefusal(await signedRequestFrame(consortium, wallet, { ...to, elements: [NOT_AN_ELEMENT] }), "E_BAD_REQUEST", "DeniedBadRequest");
    await expectRefusal(await signedRequestFrame(consortium, wallet, { ...to, elements: [IDENTITY] }), "E_BAD_REQUEST", "DeniedBadRequest");
    await expectRefusal(await signedRequestFrame(consortium, wallet, { ...to, elements: [...(await elements(1)), NOT_AN_ELEMENT] }), "E_BAD_REQUEST", "DeniedBadRequest");
    for (const count of [3, 5, 999]) {
      await expectRefusal(await signedRequestFrame(consortium, wallet, { ...to, elements: await elements(count) }), "E_BAD_REQUEST", "DeniedBadRequest");
    }
    await expectRefusal(await signedRequestFrame(consortium, wallet, { ...to, elementCount: 2, itemCount: 1 }), "E_BAD_REQUEST", "DeniedBadRequest");
    await expectRefusal(await signedRequestFrame(consortium, wallet, { ...to, elementCount: 1, commitment: hexlify(randomBytes(32)) }), "E_BAD_REQUEST", "DeniedBadRequest");
    // The provider lists a handful of entries: its bucket bits are 0, so any longer prefix says too much.
    for (const bits of [1, 8, 64]) {
      await expectRefusal(await signedRequestFrame(consortium, wallet, { ...to, kind: 1, prefixes: [prefix(bits)] }), "E_BAD_REQUEST", "DeniedBadRequest");
    }
    await expectRefusal(await signedRequestFrame(consortium, wallet, { ...to, kind: 1, prefixes: [prefix(0, 1n)] }), "E_BAD_REQUEST", "DeniedBadRequest");
    await expectRefusal(await signedRequestFrame(consortium, wallet, { ...to, kind: 1, categoryIds: [1, 2] }), "E_BAD_REQUEST", "DeniedBadRequest");
    const evaluate = await signedRequestFrame(consortium, wallet, { ...to });
    await expectRefusal({ ...evaluate, frame: { ...evaluate.frame, prefixes: [{ bits: 0, value: "0000000000000000" }] } }, "E_BAD_REQUEST", "DeniedBadRequest");
    // Refused by the schema, before anything is recorded:
    const fetch = await signedRequestFrame(consortium, wallet, { ...to, kind: 1 });
    await expectRefusal({ frame: { ...fetch.frame, prefixes: [{ bits: 65, value: "0000000000000000" }] } }, "E_PROTOCOL");
    await expectRefusal({ frame: { ...fetch.frame, prefixes: [{ bits: 0, value: `0x${"00".repeat(8)}` }] } }, "E_PROTOCOL");
    await expectRefusal({ frame: { ...evaluate.frame, elements: ["0x1234"] } }, "E_PROTOCOL");
    await expectRefusal({ frame: { ...fetch.frame, prefixes: Array.from({ length: MAX_FETCH_PREFIXES + 1 }, () => ({ bits: 0, value: "0000000000000000" })) } }, "E_FRAME_TOO_LARGE");
    await honestLookup();
    expectProviderAlive();
  });

  it(`${FILTER_PROTOCOL}: ${PROTOCOL_RUNS} random, malformed and oversized frames each get an error frame or a closed stream; the honest member downloads the filter meanwhile`, async () => {
    const request = { provider: provider.address, category: 1, epoch: 1, baseHash: null, fromSeq: 0 };
    const paths: readonly (readonly (string | number)[])[] = [["provider"], ["category"], ["epoch"], ["baseHash"], ["fromSeq"], ["chunk"], ["extra"]];
    const arbitrary: fc.Arbitrary<RawPayload> = fc.oneof(
      { weight: 3, arbitrary: wireGarbage(FILTER_MAX_FRAME_BYTES) },
      { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...paths), fc.oneof(edgeValue, fc.integer({ min: -5, max: 2 ** 33 }))).map(([path, value]) => ({ json: mutate(request, path, value) })) },
      // well-formed requests of every kind: other categories, epochs, held bases, sequences, chunks, addressees
      {
        weight: 2,
        arbitrary: fc.record({
          provider: fc.constantFrom(provider.address, provider.address.toLowerCase(), honest.address),
          category: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 63 })),
          epoch: fc.constantFrom(0, 1, 2, 0xffff_ffff),
          baseHash: fc.oneof(fc.constant(null), fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => hexlify(b))),
          fromSeq: fc.constantFrom(0, 1, 2 ** 40),
          chunk: fc.option(fc.constantFrom(0, 1, 1_023), { nil: undefined }),
        }).map((json) => ({ json: Object.fromEntries(Object.entries(json).filter(([, v]) => v !== undefined)) })),
      },
      // a frame just over the cap, of otherwise valid JSON
      { weight: 1, arbitrary: fc.integer({ min: 1, max: 64 }).map((over) => ({ framed: utf8(JSON.stringify({ ...request, pad: "x".repeat(FILTER_MAX_FRAME_BYTES + over) })) })) },
    );
    const byCode = new Map<string, number>();
    const tally = await fuzzProtocol(
      arbitrary,
      PROTOCOL_RUNS,
      (input) => rawExchange(fuzzPeer.host, provider.multiaddr, FILTER_PROTOCOL, input),
      honestFilterFetch,
      (reply) => {
        const verdict = judgeFrame(reply, filterResponseFrame);
        if (verdict === undefined) return;
        if (verdict.frame.ok) expectSignedByProvider(verdict.frame);
        byCode.set(verdict.code, (byCode.get(verdict.code) ?? 0) + 1);
      },
    );
    console.log(`      (${tally.frames} frames, ${tally.closed} closed streams, ${tally.honest} honest downloads served; ${[...byCode].map(([c, n]) => `${c} ${n}`).join(", ")})`);
    expect(tally.frames, "most cases reach the parser and get a typed error").to.be.greaterThan(PROTOCOL_RUNS / 3);
    for (const code of ["E_PROTOCOL", "E_FRAME_TOO_LARGE", "E_BAD_REQUEST", "answered"]) {
      expect(byCode.get(code) ?? 0, `cases answered ${code}`).to.be.greaterThan(0);
    }
    expect((byCode.get("E_RECIPROCITY") ?? 0) + (byCode.get("E_CATEGORY_UNKNOWN") ?? 0), "categories the fuzzer may not ask for").to.be.greaterThan(0);
  });

  it(`${LOOKUP_PROTOCOL_V1}: ${V1_RUNS} streams of any bytes each get E_PROTOCOL_VERSION; the honest member is answered on ${LOOKUP_PROTOCOL} meanwhile`, async () => {
    const v1Frame = { request: { querier: fuzzer.address, provider: provider.address, categoryMask: "2", itemCount: 1, itemsCommitment: `0x${"00".repeat(32)}`, nonce: `0x${"11".repeat(32)}`, deadline: "9999999999" }, signature: `0x${"22".repeat(65)}`, items: [{ type: "phone", hash: `0x${"33".repeat(32)}` }], blinding: `0x${"44".repeat(32)}` };
    const arbitrary: fc.Arbitrary<RawPayload> = fc.oneof(
      { weight: 3, arbitrary: wireGarbage(MAX_FRAME_BYTES) },
      { weight: 1, arbitrary: fc.constant<RawPayload>({ json: v1Frame }) },
    );
    const tally = await fuzzProtocol(
      arbitrary,
      V1_RUNS,
      (input) => rawExchange(fuzzPeer.host, provider.multiaddr, LOOKUP_PROTOCOL_V1, input),
      honestLookup,
      (reply) => {
        expect(reply.kind, "every stream gets a frame").to.equal("frame");
        const verdict = judgeFrame(reply, lookupResponseFrame);
        expect(verdict?.code).to.equal("E_PROTOCOL_VERSION");
      },
    );
    console.log(`      (${tally.frames} E_PROTOCOL_VERSION frames, ${tally.honest} honest lookups answered)`);
  });

  it("refuses a whole frame above the lookup cap and a request of more elements than allowed (E_FRAME_TOO_LARGE)", async () => {
    const above = await rawExchange(fuzzPeer.host, provider.multiaddr, LOOKUP_PROTOCOL, { framed: new Uint8Array(MAX_FRAME_BYTES + 1).fill(0x20) });
    expect(above.kind === "closed" || (lookupResponseFrame.parse(above.frame) as { error?: { code: string } }).error?.code === "E_FRAME_TOO_LARGE", JSON.stringify(above).slice(0, 200)).to.equal(true);
    const tooMany = await signedRequestFrame(consortium, fuzzPeer.wallet, { provider: provider.address, elementCount: MAX_ITEMS_PER_REQUEST + 1, itemCount: MAX_ITEMS_PER_REQUEST });
    const reply = await rawExchange(fuzzPeer.host, provider.multiaddr, LOOKUP_PROTOCOL, { json: tooMany.frame });
    expect(reply.kind).to.equal("frame");
    expect((lookupResponseFrame.parse((reply as { frame: unknown }).frame) as { error?: { code: string } }).error?.code).to.equal("E_FRAME_TOO_LARGE");
    const filterAbove = await rawExchange(fuzzPeer.host, provider.multiaddr, FILTER_PROTOCOL, { framed: new Uint8Array(FILTER_MAX_FRAME_BYTES + 1).fill(0x20) });
    expect(filterAbove.kind === "closed" || (filterResponseFrame.parse(filterAbove.frame) as { error?: { code: string } }).error?.code === "E_FRAME_TOO_LARGE", JSON.stringify(filterAbove).slice(0, 200)).to.equal(true);
    await honestLookup();
    expectProviderAlive();
  });

  it(`ends streams that send half a frame and wait (within its ${TIMEOUT_MS / 1000} s budget), refuses those beyond ${MAX_INBOUND_STREAMS} on a connection, and serves others meanwhile`, async () => {
    const streams = MAX_INBOUND_STREAMS + 8;
    const held: Stream[] = [];
    const connection = await fuzzPeer.host.libp2p.dial(multiaddr(provider.multiaddr));
    const opened = performance.now();
    /** How each stream ended, and when: the provider ended it, or it hung past the provider's budget. */
    const ended = Promise.all(Array.from({ length: streams }, async () => {
      try {
        // Our side lets this connection open more lookup streams than the provider accepts.
        const stream = await connection.newStream(LOOKUP_PROTOCOL, { signal: AbortSignal.timeout(10_000), maxOutboundStreams: streams });
        held.push(stream);
        stream.send(Uint8Array.from([...varint(1_000), ...utf8("{\"request\":")])); // half a frame, and no end
        await lpStream(stream).read({ signal: AbortSignal.timeout(TIMEOUT_MS + 10_000) });
        return { how: "a frame", ms: performance.now() - opened };
      } catch (err) {
        const name = (err as Error).name;
        return { how: name === "AbortError" || name === "TimeoutError" ? "hung" : "ended", ms: performance.now() - opened };
      }
    }));
    try {
      // Meanwhile the honest member, on its own connection, is served.
      for (let i = 0; i < 5; i++) await honestLookup();
      await honestFilterFetch();
      const outcomes = await ended;
      expect(outcomes.filter((o) => o.how !== "ended"), "streams the provider did not end").to.deep.equal([]);
      expect(outcomes.filter((o) => o.ms < TIMEOUT_MS / 2).length, "streams beyond the limit, refused at once").to.be.at.least(streams - MAX_INBOUND_STREAMS);
    } finally {
      for (const stream of held) stream.abort(new Error("test done"));
    }
    expectProviderAlive();
  });

  it(`answers ${API_RUNS} random and malformed HTTP bodies with a 4xx and a JSON error {code, message, hint}, never a 5xx, and still answers health after`, async () => {
    const valid = { items: [{ type: "phone", value: "13800138000" }], categories: ["fraud_confirmed"], providers: [honest.address], includeOwn: true, timeoutMsPerPeer: 2_000 };
    const paths: readonly (readonly (string | number)[])[] = [
      ["items"], ["items", 0], ["items", 0, "type"], ["items", 0, "value"], ["items", 1], ["categories"], ["categories", 0], ["providers"], ["providers", 0],
      ["includeOwn"], ["timeoutMsPerPeer"], ["extra"], ["__proto__"], ["constructor"],
    ];
    type Body = { contentType: string | undefined; body: string | Uint8Array };
    /** A body, printed short in a counterexample (some are megabytes). */
    const bodyCase = (contentType: string | undefined, body: string | Uint8Array): Body => ({
      contentType, body,
      [fc.toStringMethod]: () => `${contentType ?? "(no content type)"}: ${body.length} ${typeof body === "string" ? `chars ${JSON.stringify(body.slice(0, 200))}` : "bytes"}`,
    }) as Body;
    const json = (value: unknown, contentType: string | undefined = "application/json"): Body => bodyCase(contentType, JSON.stringify(value) ?? "null");
    const arbitrary: fc.Arbitrary<Body> = fc.oneof(
      { weight: 4, arbitrary: fc.tuple(fc.constantFrom(...paths), fc.oneof(edgeValue, fc.string({ maxLength: 600 }), fc.constantFrom(`0x${"12".repeat(20)}`, "phone", "email", "passport"))).map(([path, value]) => json(mutate(valid, path, value))) },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 5 }).map((value) => json(value)) },
      { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 300 }).map((text) => bodyCase("application/json", text)) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 600 }).map((bytes) => bodyCase("application/json", bytes)) },
      // deep nesting, in arrays and in objects
      { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 200_000 }).map((depth) => bodyCase("application/json", `${"[".repeat(depth)}${"]".repeat(depth)}`)) },
      { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 100_000 }).map((depth) => bodyCase("application/json", `{"items":${"{\"a\":".repeat(depth)}1${"}".repeat(depth)}}`)) },
      // huge strings, some above the 1 MiB body limit
      { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 1_200_000 }).map((length) => json(mutate(valid, ["items", 0, "value"], "9".repeat(length)))) },
      { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 1_200_000 }).map((length) => json({ ...valid, [`k${"x".repeat(length)}`]: 1 })) },
      // a valid body under the wrong content type (or none)
      { weight: 2, arbitrary: fc.constantFrom(undefined, "text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/json; charset=utf-16", "application/jsonx", "*/*", "").map((contentType) => json(valid, contentType)) },
    );
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(arbitrary, async ({ contentType, body }) => {
        const headers: Record<string, string> = { authorization: `Bearer ${providerApi.token}` };
        if (contentType !== undefined) headers["content-type"] = contentType;
        let response: Response;
        try {
          response = await fetch(`${providerApi.url}/v1/check`, { method: "POST", headers, body, signal: AbortSignal.timeout(30_000) });
        } catch (err) {
          // Above the body limit the server answers 413 at once and closes the connection, which
          // can reach the client while it is still sending (EPIPE): a refusal too, but only then.
          expect(Buffer.byteLength(body), `the request failed: ${(err as Error).cause ?? err}`).to.be.above(API_DEFAULTS.bodyLimitBytes);
          statuses.set(0, (statuses.get(0) ?? 0) + 1);
          return;
        }
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status, `${response.status}: ${text.slice(0, 300)}`).to.be.below(500);
        const reply = JSON.parse(text) as { error?: { code: unknown; message: unknown; hint: unknown } };
        if (response.status === 200) {
          // Only a JSON body the schema accepts may be served.
          const isJson = contentType?.split(";")[0]?.trim().toLowerCase() === "application/json";
          expect(isJson && typeof body === "string" && checkRequestSchema.safeParse(JSON.parse(body)).success, `served: ${String(body).slice(0, 200)}`).to.equal(true);
          return;
        }
        expect(response.status, text.slice(0, 300)).to.be.within(400, 499);
        expect(reply.error, text.slice(0, 300)).to.be.an("object");
        for (const field of ["code", "message", "hint"] as const) expect(reply.error![field], `error.${field}`).to.be.a("string").and.not.equal("");
        expect(reply.error!.code).to.match(/^E_[A-Z_]+$/);
      }),
      { numRuns: API_RUNS, endOnFailure: true },
    );
    console.log(`      (statuses: ${[...statuses].sort().map(([s, n]) => `${s === 0 ? "closed while sending" : s} × ${n}`).join(", ")})`);
    const health = await providerApi.health();
    expect(health.status, JSON.stringify(health.body)).to.equal(200);
    expect(health.body.status).to.equal("ok");
    const served = await providerApi.check(valid);
    expect(served.status, JSON.stringify(served.body)).to.equal(200);
    expectProviderAlive();
  });

  it("has recorded every honest request and every fuzz frame it parsed exactly once on chain (no hit count, the key epoch of each answer), and nothing else", async () => {
    const state = await pollUntil("the provider's outbox to drain to the chain", async () => {
      const health = await providerApi.health();
      if (health.body.ledger.backlog > 0) return undefined;
      const ledger = await consortium.ledger(provider.address);
      return ledger.records.length >= expectedRecords.size ? ledger : undefined;
    }, 60_000, 250);
    const expected = [...expectedRecords];
    expectLedgerMatches(state, expected.map((key) => key.slice(key.indexOf("/") + 1)), "the provider's ledger after the fuzz");
    const landed = state.records.map((r) => `${r.outcome === QueryOutcome.Answered ? "answered" : REFUSAL_ERROR_CODES[r.outcome]}/${r.queryId.toLowerCase()}`);
    expect(landed.sort(), "each under the outcome of its reply").to.deep.equal(expected.sort());
    for (const { queryId, outcome } of refusalsOnRecord) {
      expect(state.records.filter((r) => r.queryId.toLowerCase() === queryId).map((r) => r.outcomeName), `refusal ${queryId}`).to.include(outcome);
    }
    for (const record of state.records) {
      expect(record, `record ${record.queryId}`).to.not.have.property("hitCount");
      expect(record.keyEpoch, `record ${record.queryId}: key epoch of an ${record.outcomeName} record`).to.equal(record.outcomeName === "Answered" ? 1 : 0);
    }
    expect(new Set(state.records.filter((r) => r.outcomeName === "Answered").map((r) => r.kind)), "both kinds answered").to.deep.equal(new Set([0, 1]));
  });
});

const evaluator = await fixtureEvaluator();

describe("fuzz: list import (CSV) under random bytes and random cells", function () {
  this.timeout(600_000);
  let root: string;
  let store: Store;
  const rejectReasons = new Set<string>([...ENTRY_REJECT_REASONS, ...IDENTIFIER_REJECT_REASONS]);
  let files = 0;

  /**
   * Imports `content` as a CSV list; the summary, or the RiskshareError it threw for the whole file.
   * Every CSV_WORKER_EVERY-th file goes through the import worker with the presence filter on, the rest in this thread.
   */
  async function importCsv(content: string | Uint8Array): Promise<ImportSummary | { fileError: string }> {
    const n = files++;
    const viaWorker = n % CSV_WORKER_EVERY === 0;
    try {
      return await importList(
        { stream: Readable.from([Buffer.from(content)]), name: `fuzz-${n}.csv` },
        { nowSec: IMPORT_NOW, workers: viaWorker ? 1 : 0, presenceFilter: viaWorker, resume: false, maxErrorsListed: 10_000 },
        { store, evaluator, logger: silentLogger() },
      );
    } catch (err) {
      expect(isRiskshareError(err), `a non-RiskshareError escaped the importer: ${(err as Error)?.stack ?? String(err)}`).to.equal(true);
      return { fileError: (err as { code: string }).code };
    }
  }

  /** What every import must hold, whatever the input: counts add up, each rejection names line, field and reason. */
  function expectWellFormedSummary(summary: ImportSummary): void {
    expect(summary.imported + summary.updated + summary.unchanged + summary.rejected, "rows = imported + updated + unchanged + rejected").to.equal(summary.rows);
    expect(summary.errorsTotal).to.equal(summary.rejected);
    expect(summary.errors).to.have.length(summary.rejected);
    for (const error of summary.errors) {
      expect(error.line, JSON.stringify(error)).to.be.a("number").and.be.at.least(1);
      expect(error.field, JSON.stringify(error)).to.be.a("string").and.not.equal("");
      expect(rejectReasons.has(error.reason), `reason ${error.reason}`).to.equal(true);
    }
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), "riskshare-csv-fuzz-"));
    store = new Store({ location: join(root, "store"), categories: FIXTURE_CATEGORIES, binding: FIXTURE_BINDING }, { logger: silentLogger() });
    await store.open();
  });

  after(async () => {
    await store?.close();
    await rm(root, { recursive: true, force: true });
  });

  it(`survives ${CSV_RUNS} files of random bytes (with and without a header): a summary, or E_IMPORT_FORMAT for the file, and a consistent store`, async () => {
    const fileErrors = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.uint8Array({ maxLength: 3_000 }), async (withHeader, bytes) => {
        const content = withHeader ? Buffer.concat([Buffer.from(`${CSV_HEADER}\n`), bytes]) : bytes;
        const outcome = await importCsv(content);
        if ("fileError" in outcome) {
          expect(outcome.fileError).to.equal("E_IMPORT_FORMAT");
          fileErrors.set(outcome.fileError, (fileErrors.get(outcome.fileError) ?? 0) + 1);
          return;
        }
        expectWellFormedSummary(outcome);
      }),
      { numRuns: CSV_RUNS },
    );
    const report = await store.verify();
    expect(report.problems).to.deep.equal([]);
    expect(report.ok).to.equal(true);
  });

  it(`imports exactly the valid rows of ${CSV_RUNS} generated files whose cells are each valid or broken in a known way, and reports each broken row by line, a broken field and a reason`, async () => {
    await fc.assert(
      fc.asyncProperty(csvFileCase(), async (file: CsvFileCase) => {
        const summary = await importCsv(file.content);
        expect("fileError" in summary, JSON.stringify(summary)).to.equal(false);
        const result = summary as ImportSummary;
        expectWellFormedSummary(result);
        const invalid = file.rows.filter((row) => row.brokenFields.length > 0);
        expect(result.rows, "rows").to.equal(file.rows.length);
        expect(result.imported, `imported (expected the ${file.rows.length - invalid.length} valid rows)`).to.equal(file.rows.length - invalid.length);
        expect(result.errors.map((e) => e.line), "rejected lines").to.deep.equal(invalid.map((row) => row.line));
        for (const [i, error] of result.errors.entries()) {
          expect(invalid[i]!.brokenFields, `line ${error.line}: reported ${error.field}/${error.reason}`).to.include(error.field);
        }
        const present = await store.checkMany(file.rows.flatMap((row) => (row.key ? [{ type: row.key.type, entryId: evaluator.keysOf(row.key.type, row.key.normalised).entryId }] : [])), IMPORT_NOW);
        const keyed = file.rows.filter((row) => row.key);
        keyed.forEach((row, i) => {
          expect(present[i]!.hit, `line ${row.line} (${row.brokenFields.join(",") || "valid"}) ${row.brokenFields.length === 0 ? "must" : "must not"} be in the store`).to.equal(row.brokenFields.length === 0);
        });
      }),
      { numRuns: CSV_RUNS },
    );
    const report = await store.verify();
    expect(report.problems).to.deep.equal([]);
  });

  it(`accepts a row of ${CSV_RUNS} files of random cells only when its value normalises, and then stores it under that hash`, async () => {
    await fc.assert(
      fc.asyncProperty(randomCellsCase(), async (file) => {
        const outcome = await importCsv(file.content);
        expect("fileError" in outcome, JSON.stringify(outcome)).to.equal(false);
        const summary = outcome as ImportSummary;
        expectWellFormedSummary(summary);
        const rejectedLines = new Set(summary.errors.map((e) => e.line));
        for (const row of file.rows) {
          if (rejectedLines.has(row.line)) continue;
          const normal = tryNormalise(row.type, row.value, { defaultRegion: "CN" });
          expect(normal.ok, `line ${row.line} was accepted with a value that does not normalise`).to.equal(true);
          const [found] = await store.checkMany([{ type: row.type, entryId: evaluator.keysOf(row.type, (normal as { value: string }).value).entryId }], IMPORT_NOW);
          expect(found!.hit, `line ${row.line} accepted but not in the store`).to.equal(true);
        }
      }),
      { numRuns: CSV_RUNS },
    );
    const report = await store.verify();
    expect(report.problems).to.deep.equal([]);
  });
});
