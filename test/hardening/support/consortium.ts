/**
 * What the hardening tests share: a local consortium on a Hardhat node (built with the devnet's
 * own helpers), member keys driven by hand over libp2p (the real `/riskshare/lookup/2` client),
 * hand-built and signed lookup/2 frames, raw frame exchanges on any riskshare protocol, the query
 * ledger read back from the chain, and bounded polling.
 *
 * @example
 *   const consortium = await startConsortium({ names: ["Provider", "Querier"], policy });
 *   await consortium.importAndPublish(consortium.members[1]!, csv);
 *   const peer = await startMemberPeer(consortium, consortium.members[1]!.privateKey);
 *   …
 *   await peer.stop(); await consortium.stop();
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Stream } from "@libp2p/interface";
import { lpStream } from "@libp2p/utils";
import { multiaddr } from "@multiformats/multiaddr";
import { expect } from "chai";
import type { HealthResponse } from "../../../node/api/index.ts";
import { getBytes, hexlify, randomBytes, Wallet } from "ethers";
import {
  connectChain, connectContracts, evaluateCommitment, fetchCommitment, LookupKind, lookupRequestDigest, lookupRequestDigestBytes, nonceToBytes32, readLedger, verifyLedger,
  type AuditBatch, type AuditFailure, type AuditRecord, type CategoryPolicyInput, type ContractAddresses, type LookupRequest, type TagPrefix,
} from "../../../node/chain/index.ts";
import { RiskshareError } from "../../../node/errors.ts";
import { createVoprf, type Voprf } from "../../../node/identity/index.ts";
import { silentLogger } from "../../../node/logger.ts";
import {
  createHost, digestSignerFromEvmKey, lookup, maskOfCategories, toWirePrefix, toWireRequest,
  type LookupInit, type LookupRequestFrame, type LookupService, type RiskshareHost, type TagFilters,
} from "../../../node/p2p/index.ts";
import { createMetadataCipher } from "../../../node/store/index.ts";
import { startChain, type LocalChain } from "../../../scripts/devnet/chain.ts";
import { createMembers, deployFor, type DevMember } from "../../../scripts/devnet/consortium.ts";
import { cli } from "../../e2e/support/cli.ts";
// One nonce counter per (querier, provider) for the whole test process, shared with the unit tests' peers.
import { nextPairNonce } from "../../unit/p2p.fixtures.ts";

/** True when the hardening tests run at their full sizes (RISKSHARE_HARDENING_FULL=1). */
export const FULL = process.env.RISKSHARE_HARDENING_FULL === "1";

/** The CSV header every list in these tests uses. */
export const LIST_HEADER = "type,value,category,level,reason,reported_at";

/** A consortium on a local Hardhat node: founders with data directories, deployed contracts. */
export interface Consortium {
  baseDir: string;
  chain: LocalChain;
  chainId: bigint;
  addresses: ContractAddresses;
  /** The founders, in the order their names were given (dev accounts 1..N). */
  members: DevMember[];
  /** Imports a CSV list into a member's store and publishes its contribution snapshots, via the CLI. */
  importAndPublish(member: DevMember, csv: string): Promise<void>;
  /** The ledger as the chain holds it (optionally one provider's records), and what `verifyLedger` finds wrong with all of it. */
  ledger(provider?: string): Promise<LedgerState>;
  /** A raw JSON-RPC call to the chain (test-only controls such as evm_setAutomine). */
  rpc(method: string, params?: unknown[]): Promise<unknown>;
  /** Stops the chain and removes the data directories. */
  stop(): Promise<void>;
}

/** The query ledger read back from the chain. */
export interface LedgerState {
  records: AuditRecord[];
  batches: AuditBatch[];
  failures: AuditFailure[];
  /** The provider's last landed batch sequence (0 when none, or when no provider was named). */
  lastSeq: bigint;
}

/** Starts a Hardhat node and deploys a consortium whose founders are `names`. */
export async function startConsortium(opts: {
  names: readonly string[];
  policy: CategoryPolicyInput;
  regulators?: readonly string[];
  flushIntervalMs?: number;
}): Promise<Consortium> {
  const baseDir = await mkdtemp(join(tmpdir(), "riskshare-hardening-"));
  let chain: LocalChain | undefined;
  try {
    chain = await startChain({ kind: "hardhat" });
    const members = await createMembers({
      baseDir, rpcUrl: chain.rpcUrl, names: opts.names, ...(opts.flushIntervalMs === undefined ? {} : { flushIntervalMs: opts.flushIntervalMs }),
    });
    const deployment = await deployFor(members, { rpcUrl: chain.rpcUrl, policy: opts.policy, regulators: opts.regulators ?? [] });
    const rpcUrl = chain.rpcUrl;
    const localChain = chain;
    const chainId = BigInt(await rpcCall(rpcUrl, "eth_chainId", []) as string);
    let lists = 0;
    return {
      baseDir, chain, chainId, addresses: deployment.addresses, members,
      importAndPublish: async (member, csv) => {
        const file = join(baseDir, `list-${lists++}.csv`);
        await writeFile(file, csv);
        for (const args of [["list", "import", file], ["list", "publish"]]) {
          const run = await cli("--data-dir", member.dataDir, "--json", ...args);
          expect(run.status, `${args.join(" ")} for ${member.name}: ${run.stdout}${run.stderr}`).to.equal(0);
        }
      },
      ledger: (provider) => readLedgerState(rpcUrl, deployment.addresses, provider),
      rpc: (method, params = []) => rpcCall(rpcUrl, method, params),
      stop: async () => {
        await localChain.stop();
        await rm(baseDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await chain?.stop();
    await rm(baseDir, { recursive: true, force: true });
    throw err;
  }
}

/** The part of a ledger read that concerns one provider (failures stay those of the whole ledger). */
export function forProvider(state: LedgerState, provider: string): LedgerState {
  const mine = (address: string) => address.toLowerCase() === provider.toLowerCase();
  return { ...state, records: state.records.filter((r) => mine(r.provider)), batches: state.batches.filter((b) => mine(b.provider)) };
}

async function readLedgerState(rpcUrl: string, addresses: ContractAddresses, provider?: string): Promise<LedgerState> {
  try {
    return await readLedgerStateOnce(rpcUrl, addresses, provider);
  } catch (err) {
    // A keep-alive socket the chain closed (after 5 s idle) while this process was too busy to
    // notice is reset when reused: a race of the HTTP client, not a fault under test. A read is
    // safe to repeat, once, on a fresh socket.
    if (!resetByPeer(err)) throw err;
    return readLedgerStateOnce(rpcUrl, addresses, provider);
  }
}

function resetByPeer(err: unknown): boolean {
  for (let cause = err; cause instanceof Error; cause = cause.cause) {
    if ((cause as { code?: string }).code === "ECONNRESET") return true;
  }
  return false;
}

async function readLedgerStateOnce(rpcUrl: string, addresses: ContractAddresses, provider?: string): Promise<LedgerState> {
  const connection = await connectChain({ rpcUrl, rpcTimeoutMs: 30_000, pollIntervalMs: 250 });
  try {
    const contracts = connectContracts(addresses, connection.provider);
    const modules = { provider: connection.provider, registry: contracts.registry, ledger: contracts.ledger, chainId: connection.chainId };
    const all = await readLedger(modules);
    const records = provider === undefined ? all.records : all.records.filter((r) => r.provider.toLowerCase() === provider.toLowerCase());
    const batches = provider === undefined ? all.batches : all.batches.filter((b) => b.provider.toLowerCase() === provider.toLowerCase());
    const lastSeq = provider === undefined ? 0n : await contracts.ledger.lastSequence(provider);
    return { records, batches, failures: await verifyLedger(modules, all), lastSeq };
  } finally {
    connection.provider.destroy();
  }
}

async function rpcCall(rpcUrl: string, method: string, params: unknown[]): Promise<unknown> {
  const response = await fetch(rpcUrl, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }), signal: AbortSignal.timeout(10_000),
  });
  const body = await response.json() as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/**
 * Checks the ledger invariant for one provider: the records are exactly `expectedQueryIds` (as a
 * multiset: a replayed request is recorded twice under one id), and its batches run 1, 2, 3… with
 * no gap and no batch twice, and nothing in the whole ledger fails verification.
 *
 * `uncertainQueryIds` are requests whose answer the querier never saw (the exchange failed after
 * it was sent): the provider may have recorded them before the answer was lost (I-5 puts the
 * record first), so each may be on chain once, or not at all, but never twice.
 */
export function expectLedgerMatches(state: LedgerState, expectedQueryIds: readonly string[], what: string, uncertainQueryIds: readonly string[] = []): void {
  const landed = countBy(state.records.map((r) => r.queryId.toLowerCase()));
  const uncertain = new Set(uncertainQueryIds.map((id) => id.toLowerCase()));
  for (const id of uncertain) expect(landed.get(id) ?? 0, `${what}: query ${id}, whose answer was lost, on chain`).to.be.at.most(1);
  const landedUncertain = [...uncertain].filter((id) => landed.has(id));
  expectedQueryIds = [...expectedQueryIds, ...landedUncertain];
  const expected = countBy(expectedQueryIds.map((id) => id.toLowerCase()));
  const missing = [...expected].filter(([id, n]) => (landed.get(id) ?? 0) < n).map(([id]) => id);
  const extra = [...landed].filter(([id, n]) => (expected.get(id) ?? 0) < n).map(([id]) => id);
  expect(missing, `${what}: served but not on chain`).to.deep.equal([]);
  expect(extra, `${what}: on chain more often than served`).to.deep.equal([]);
  expect(state.records.length, `${what}: records`).to.equal(expectedQueryIds.length);
  expect(state.batches.map((b) => b.seq), `${what}: batch sequence`).to.deep.equal(state.batches.map((_, i) => BigInt(i + 1)));
  expect(state.batches.reduce((sum, b) => sum + b.recordCount, 0), `${what}: records per batch`).to.equal(state.records.length);
  expect(state.failures, `${what}: verifyLedger`).to.deep.equal([]);
}

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

let voprfReady: Promise<Voprf> | undefined;
/** The VOPRF (libsodium), made once per process. */
export function sharedVoprf(): Promise<Voprf> {
  voprfReady ??= createVoprf();
  return voprfReady;
}

/**
 * A member's key driven by hand: a bare libp2p host (its own view admits everyone, so only the
 * node on the other side decides) with the real `/riskshare/lookup/2` client on it. It knows the
 * founders' OPRF keys of epoch 1 (what the chain published at deployment) and, unless told
 * otherwise, holds an empty filter of every provider: each lookup is one Evaluate and, with
 * `coverFetchRate` 1 (the default here), one cover Fetch, so both kinds of request go out.
 */
export interface MemberPeer {
  host: RiskshareHost;
  wallet: Wallet;
  lookup: LookupService;
  stop(): Promise<void>;
}

/** Starts a {@link MemberPeer} with `privateKey`, signing for the consortium's ledger. */
export async function startMemberPeer(
  consortium: Pick<Consortium, "chainId" | "addresses" | "members">,
  privateKey: string,
  opts: { lookup?: Partial<LookupInit>; filters?: TagFilters } = {},
): Promise<MemberPeer> {
  const logger = silentLogger();
  const everyone = { isActivePeer: () => true };
  const wallet = new Wallet(privateKey);
  const voprf = await sharedVoprf();
  const host = await createHost({ privateKey, listen: ["/ip4/127.0.0.1/tcp/0"] }, { logger, membership: everyone });
  await host.start();
  const ownKey = voprf.generateKeyPair();
  const publishedKeys = new Map(consortium.members.map((m) => [m.address.toLowerCase(), getBytes(m.oprfKey)]));
  const lookupService = lookup({ chainId: consortium.chainId, queryLedgerAddress: consortium.addresses.ledger, coverFetchRate: 1, ...opts.lookup })({
    registrar: host.libp2p, dialer: host.libp2p, membership: everyone, signer: digestSignerFromEvmKey(privateKey), voprf,
    // Provider side (nobody asks a hand-driven peer): answers nothing of substance.
    outbox: { append: async () => undefined }, nonceGuard: { accept: async () => "fresh" },
    // Its requests and hand-built frames (signedRequestFrame) count on one counter per provider.
    nonceSource: { next: async (provider) => nextPairNonce(wallet.address, provider) },
    reciprocity: { decide: () => ({ allowed: true, quotaRemaining: 1 }) },
    oprfKeys: { current: () => ({ epoch: 1, ...ownKey }) },
    store: { fetchBuckets: async (_categoryId, prefixes) => prefixes.map(() => []) },
    // Querier side: no snapshot read (bucket bits 0: a cover fetch names the whole category).
    snapshots: { liveCount: () => undefined },
    providerKeys: { keyAt: (provider, epoch) => (epoch === 1 ? publishedKeys.get(provider.toLowerCase()) : undefined) },
    filters: opts.filters ?? { contains: () => false },
    metadata: await createMetadataCipher(),
    journal: { record: async () => undefined, recordAnswer: async () => undefined },
    logger,
  });
  await lookupService.start();
  return {
    host, wallet, lookup: lookupService,
    stop: async () => {
      await lookupService.stop();
      await host.stop();
    },
  };
}

/** What came back on a raw stream: a JSON frame, or the stream ended without one. */
export type RawReply = { kind: "frame"; frame: unknown } | { kind: "closed" };

/** What a raw exchange sends: JSON (one frame), bytes behind a correct length prefix, or bytes as they are. */
export type RawPayload = { json: unknown } | { framed: Uint8Array } | { raw: Uint8Array };

/**
 * Opens a `protocol` stream from `host` to `target` (a multiaddr with /p2p/), sends `payload`,
 * closes the writable end and reads one reply frame. E_TIMEOUT when the other side neither answers
 * nor closes within `timeoutMs` (a hang); a reply that is not JSON is returned as the text it is.
 */
export async function rawExchange(host: RiskshareHost, target: string, protocol: string, payload: RawPayload, timeoutMs = 15_000): Promise<RawReply> {
  const signal = AbortSignal.timeout(timeoutMs);
  const connection = await host.libp2p.dial(multiaddr(target), { signal });
  const stream: Stream = await connection.newStream(protocol, { signal });
  // The reader allows more than any protocol's cap, so an oversized reply would show, not hide.
  const lp = lpStream(stream, { maxDataLength: 8 * 1024 * 1024 });
  try {
    if ("raw" in payload) stream.send(payload.raw);
    else await lp.write("framed" in payload ? payload.framed : new TextEncoder().encode(JSON.stringify(payload.json)), { signal });
    await stream.close({ signal }).catch(() => undefined); // the provider may have reset the stream already
    let bytes: Uint8Array;
    try {
      bytes = (await lp.read({ signal })).subarray();
    } catch (err) {
      if (signal.aborted) throw new RiskshareError("E_TIMEOUT", `no reply and no close on ${protocol} within ${timeoutMs} ms: the node hung`, {}, { cause: err });
      return { kind: "closed" };
    }
    const text = new TextDecoder().decode(bytes);
    try {
      return { kind: "frame", frame: JSON.parse(text) };
    } catch {
      return { kind: "frame", frame: text };
    }
  } finally {
    stream.abort(new Error("exchange done"));
  }
}

/** Polls `condition` every `everyMs` until it returns a value other than undefined; throws after `timeoutMs`. */
export async function pollUntil<T>(what: string, condition: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** A node's local HTTP API, as an institution's systems call it. */
export interface ApiClient {
  url: string;
  token: string;
  /** POST /v1/check; the status and the parsed body. */
  check(body: unknown): Promise<{ status: number; body: CheckBody }>;
  health(): Promise<{ status: number; body: HealthResponse }>;
}

/** The parts of a /v1/check reply the tests read. */
export interface CheckBody {
  verdict?: string;
  /** Per item, in request order: its verdict and the hits each provider's answer opened. */
  items?: { index: number; verdict: string; hits: { provider: string; category: string }[] }[];
  /** Per provider; an answered lookup names its Evaluate's query id and those of the Fetches after it. */
  providers?: { address: string; name: string; status: string; code?: string; queryId?: string; fetchQueryIds?: string[]; coverFetchQueryId?: string }[];
  error?: { code: string; message: string; hint: string };
}

/** An {@link ApiClient} for the API at `url` with `token`. */
export function apiClient(url: string, token: string): ApiClient {
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
  return {
    url, token,
    check: (body) => withTimeout(60_000, async (signal) => {
      const response = await fetch(`${url}/v1/check`, { method: "POST", headers, body: JSON.stringify(body), signal });
      return { status: response.status, body: await response.json() as CheckBody };
    }),
    health: () => withTimeout(10_000, async (signal) => {
      const response = await fetch(`${url}/v1/health`, { headers, signal });
      return { status: response.status, body: await response.json() as HealthResponse };
    }),
  };
}

/**
 * Runs `work` with a signal that aborts after `timeoutMs`, and clears the timer when it is done:
 * unlike AbortSignal.timeout(), nothing of a finished call lives on until the timer fires (the
 * soak test counts what stays in memory per lookup).
 */
async function withTimeout<T>(timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError")), timeoutMs);
  try {
    return await work(controller.signal);
  } finally {
    clearTimeout(timer);
  }
}


/** A lookup request frame built and signed by hand (to forge, replay or break it), and its query id. */
export interface SignedFrame {
  frame: LookupRequestFrame;
  request: LookupRequest;
  queryId: string;
}

/** What a hand-built request may set; everything else is an honest querier's. */
export interface SignedFrameOptions {
  provider: string;
  /** Defaults to the signer. */
  querier?: string;
  /** Evaluate (0, the default) or Fetch (1). */
  kind?: 0 | 1;
  categoryIds?: number[];
  /** An Evaluate's blinded elements; `elementCount` valid random ones by default (1). */
  elements?: Uint8Array[];
  elementCount?: number;
  /** A Fetch's prefixes; one of 0 bits (the whole category) by default. */
  prefixes?: TagPrefix[];
  deadline?: bigint;
  nonce?: string;
  /** Signed as the request's itemCount (defaults to what is sent). */
  itemCount?: number;
  /** Signed as the request's itemsCommitment (defaults to the commitment of what is sent). */
  commitment?: string;
}

/** Valid random blinded elements: what an honest querier sends, of inputs nobody knows. */
export async function randomElements(count: number): Promise<Uint8Array[]> {
  const voprf = await sharedVoprf();
  return Array.from({ length: count }, () => voprf.blind(randomBytes(32)).blindedElement);
}

/**
 * Builds a `/riskshare/lookup/2` request frame for `over.provider`, signed by `signer` under the
 * consortium's EIP-712 domain. Every field can be overridden; `querier` defaults to the signer.
 */
export async function signedRequestFrame(consortium: Pick<Consortium, "chainId" | "addresses">, signer: Wallet, over: SignedFrameOptions): Promise<SignedFrame> {
  const kind = over.kind ?? LookupKind.Evaluate;
  const elements = kind === LookupKind.Evaluate ? (over.elements ?? (await randomElements(over.elementCount ?? 1))) : undefined;
  const prefixes = kind === LookupKind.Fetch ? (over.prefixes ?? [{ bits: 0, value: 0n }]) : undefined;
  const salt = getBytes(randomBytes(32));
  const request: LookupRequest = {
    querier: over.querier ?? signer.address,
    provider: over.provider,
    kind,
    categoryMask: maskOfCategories(over.categoryIds ?? [1]),
    itemCount: over.itemCount ?? (elements ?? prefixes!).length,
    itemsCommitment: over.commitment ?? (elements ? evaluateCommitment(elements) : fetchCommitment(prefixes!, salt)),
    nonce: over.nonce ?? nonceToBytes32(nextPairNonce(over.querier ?? signer.address, over.provider)),
    deadline: over.deadline ?? BigInt(Math.floor(Date.now() / 1000) + 60),
  };
  const signature = digestSignerFromEvmKey(signer.privateKey).signDigest(lookupRequestDigestBytes(consortium.chainId, consortium.addresses.ledger, request));
  return {
    frame: {
      request: toWireRequest(request), signature,
      ...(elements ? { elements: elements.map((e) => hexlify(e)) } : {}),
      ...(prefixes ? { prefixes: prefixes.map(toWirePrefix), salt: hexlify(salt) } : {}),
    },
    request,
    queryId: lookupRequestDigest(consortium.chainId, consortium.addresses.ledger, request),
  };
}

/**
 * The query id under which a provider records a request it parsed: the ledger names the provider
 * that recorded it (the batch's sender), so a request addressed to another is recorded as if
 * addressed to it.
 */
export function recordedQueryId(consortium: Pick<Consortium, "chainId" | "addresses">, request: LookupRequest, recordedBy: string): string {
  return lookupRequestDigest(consortium.chainId, consortium.addresses.ledger, { ...request, provider: recordedBy });
}
