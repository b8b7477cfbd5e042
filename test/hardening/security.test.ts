/**
 * Security: every door of a member node, tried with real keys against a real node (Hardhat chain,
 * LevelDB, libp2p on 127.0.0.1).
 *
 * Two kinds of refusal, as DESIGN draws them:
 * - a peer that is not an Active member (outsider, regulator, suspended member) is shut out at the
 *   connection: the provider's gater closes it right after the Noise handshake, so no stream opens
 *   on either protocol and nothing of it can reach the ledger (I-1); the querier sees the stream
 *   closed (E_PEER_UNREACHABLE), and the node of such an account refuses to look up (E_NOT_MEMBER);
 * - a request that parsed, on a connection the provider accepted, is refused with a typed error
 *   frame AND recorded on chain under the outcome that names the reason (spec section 3, steps
 *   2-5; node/chain/outcomes.ts): forged signature, replayed nonce, expired deadline, a category
 *   the querier does not contribute to — always against the connected peer, whatever querier the
 *   request claims, and folded per peer and outcome into records that carry their count.
 * And what private lookups (protocol v2) add: a provider that answers under another key than the
 * one it published is caught by the querier's proof check (E_OPRF_PROOF), and nothing that reaches
 * a provider (every byte of every stream, and what it records) names or derives from the
 * identifiers checked.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Stream, StreamMiddleware } from "@libp2p/interface";
import { lpStream } from "@libp2p/utils";
import { multiaddr } from "@multiformats/multiaddr";
import { expect } from "chai";
import { hexlify, Wallet } from "ethers";
import { connectChain, connectContracts, connectSigner, lookupRequestDigest, type LookupRequest } from "../../node/chain/index.ts";
import { DATA_DIR_LAYOUT, KeyStore } from "../../node/config/index.ts";
import { EntryKeyEvaluator, oprfInput } from "../../node/identity/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { RiskshareNode } from "../../node/node.ts";
import {
  FILTER_PROTOCOL, LOOKUP_PROTOCOL, LOOKUP_PROTOCOL_V1, lookupResponseFrame, MAX_FRAME_BYTES, MAX_INBOUND_STREAMS, MAX_ITEMS_PER_REQUEST, TIMEOUT_MS,
  type LookupOutcome, type RiskshareHost,
} from "../../node/p2p/index.ts";
import { createMember, devAccount, writeContracts, type DevMember } from "../../scripts/devnet/consortium.ts";
import {
  apiClient, expectLedgerMatches, LIST_HEADER, pollUntil, rawExchange, recordedQueryId, sharedVoprf, signedRequestFrame, startConsortium, startMemberPeer,
  type ApiClient, type Consortium, type MemberPeer,
} from "./support/consortium.ts";

/** One contributed entry suffices; quotas far above what the test uses. */
const POLICY = { minEntries: 1n, maxSnapshotAgeSeconds: 86_400n, quotaBase: 1_000n, quotaRatioBps: 0n, quotaCeiling: 1_000n };
const FRAUD_CONFIRMED = 1;
const MONEY_MULE = 3;
/** A category id no deployment defines (the default ones are 1..6). */
const UNDEFINED_CATEGORY = 40;
/** The identifier the provider lists, as a customer's systems send it, and its normalised form. */
const LISTED_PHONE = { raw: "13800138000", normalised: "+8613800138000" };
/** One the provider does not list. */
const UNLISTED_PHONE = { raw: "13912345678", normalised: "+8613912345678" };
/** Dev accounts 1..6 are the founders; these two are not members. */
const OUTSIDER_INDEX = 8;
const REGULATOR_INDEX = 9;

type Reply = { ok: boolean; error?: { code: string; message: string } };

describe("security: every door of a member node, tried with real keys", function () {
  this.timeout(120_000);
  let consortium: Consortium;
  let provider: DevMember, querier: DevMember, freerider: DevMember, suspended: DevMember, rogue: DevMember, asker: DevMember;
  let providerNode: RiskshareNode;
  const nodes: RiskshareNode[] = [];
  /** One hand-driven host per key: two hosts with one PeerId would fight over the connection. */
  const peers = new Map<string, MemberPeer>();
  /**
   * Every request the provider answered, or refused after parsing it, with the outcome it must carry
   * on chain; a refusal with the connected peer it is attributed to, and its id as attributed.
   */
  const recorded: { queryId: string; outcome: string; querier?: string }[] = [];
  const outsider = devAccount(OUTSIDER_INDEX);
  const regulator = devAccount(REGULATOR_INDEX);

  async function peer(privateKey: string): Promise<MemberPeer> {
    let started = peers.get(privateKey);
    if (started === undefined) {
      started = await startMemberPeer(consortium, privateKey);
      peers.set(privateKey, started);
    }
    return started;
  }

  /** Sends a hand-built frame over `from`'s connection to the provider; the reply frame. */
  async function send(from: MemberPeer, frame: object): Promise<Reply> {
    const reply = await rawExchange(from.host, provider.multiaddr, LOOKUP_PROTOCOL, { json: frame });
    expect(reply.kind, "the provider answers a parsed request with a frame").to.equal("frame");
    return (reply as { frame: Reply }).frame;
  }

  /** Sends a request that must be refused with `code`, and remembers it must land as `outcome`. */
  async function expectRefusedAndRecorded(from: MemberPeer, frame: object, queryId: string, code: string, outcome: string): Promise<void> {
    const reply = await send(from, frame);
    expect(reply.ok, JSON.stringify(reply)).to.equal(false);
    expect(reply.error?.code, reply.error?.message).to.equal(code);
    recorded.push({ queryId, outcome, querier: from.wallet.address });
  }

  /** The id a refused request lands under: that of the request with the connected peer as its querier. */
  function attributedQueryId(request: LookupRequest, connected: MemberPeer): string {
    return lookupRequestDigest(consortium.chainId, consortium.addresses.ledger, { ...request, querier: connected.wallet.address });
  }

  /** A lookup through the real lookup/2 client with `from`'s key: an Evaluate, then a cover Fetch. */
  function lookupFrom(from: MemberPeer, categoryIds = [FRAUD_CONFIRMED]): Promise<LookupOutcome> {
    return from.lookup.lookupPeer(multiaddr(provider.multiaddr), {
      providerAddress: provider.address, items: [{ type: "phone", value: UNLISTED_PHONE.normalised }], categoryIds,
    }, { timeoutMs: 10_000 });
  }

  /** Expects an answered lookup, and remembers its Evaluate and Fetches as answered on the provider's record. */
  function expectAnswered(outcome: LookupOutcome, what: string): void {
    expect(outcome.status, `${what}: ${outcome.status === "answered" ? "" : `${outcome.code} ${outcome.message}`}`).to.equal("answered");
    if (outcome.status !== "answered") return;
    for (const queryId of [outcome.queryId, ...outcome.fetchQueryIds, ...(outcome.coverFetchQueryId === undefined ? [] : [outcome.coverFetchQueryId])]) recorded.push({ queryId, outcome: "Answered" });
  }

  /**
   * libp2p refuses more than 5 inbound connections per second from one IP address (its
   * inboundConnectionThreshold), and every hand-driven peer here dials from 127.0.0.1. A test that
   * opens refused connections waits that one-second window out before and after, so the
   * connections of the next ones are not the ones refused. (A rate limiter's window has no event.)
   */
  async function outsideRateLimitWindow(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 1_100));
  }

  /** Expects `from` to be shut out at the connection on both protocols, holding no connection after. */
  async function expectShutOut(from: MemberPeer): Promise<void> {
    await outsideRateLimitWindow();
    const outcome = await lookupFrom(from);
    expect(outcome, "lookup").to.deep.include({ status: "error", code: "E_PEER_UNREACHABLE" });
    // No filter stream opens either: the dial or the stream fails, or the stream ends without a frame.
    const filter = await rawExchange(from.host, provider.multiaddr, FILTER_PROTOCOL, { json: { provider: provider.address, category: FRAUD_CONFIRMED, epoch: 1, baseHash: null, fromSeq: 0 } }, 10_000)
      .catch((err: unknown) => ({ kind: "failed", name: (err as Error).name }));
    expect(filter.kind, `filter: ${JSON.stringify(filter)}`).to.not.equal("frame");
    await pollUntil("the provider to have closed the connection", () =>
      from.host.libp2p.getConnections().some((c) => c.remotePeer.toString() === provider.peerId) ? undefined : true, 10_000);
    await outsideRateLimitWindow();
  }

  /** Starts a node on `dataDir`; its API client. */
  async function startNode(dataDir: string): Promise<{ node: RiskshareNode; api: ApiClient }> {
    const node = await RiskshareNode.open({ dataDir }, { logger: silentLogger() });
    nodes.push(node);
    const info = await node.start();
    return { node, api: apiClient(info.apiUrl, await new KeyStore({ dataDir }).apiToken()) };
  }

  let asker_: { node: RiskshareNode; api: ApiClient } | undefined;
  /** The asker's node (a real member node: chain view, filter sync, lookup/2 client), started once. */
  async function askerNode(): Promise<{ node: RiskshareNode; api: ApiClient }> {
    asker_ ??= await startNode(asker.dataDir);
    return asker_;
  }

  /** Expects a node's own API to refuse lookups because its account is not an Active member. */
  async function expectNodeRefusesAsNonMember(api: ApiClient): Promise<void> {
    const health = await api.health();
    expect(health.body.status).to.equal("refusing");
    expect(health.body.reasons.join(" ")).to.contain("not an Active member");
    const check = await api.check({ items: [{ type: "phone", value: "13800138000" }], providers: [provider.address] });
    expect(check.status, JSON.stringify(check.body)).to.equal(503);
    expect(check.body.error?.code).to.equal("E_NOT_MEMBER");
  }

  before(async () => {
    consortium = await startConsortium({ names: ["Provider", "Querier", "Freerider", "Suspended", "Rogue", "Asker"], policy: POLICY, regulators: [regulator.address] });
    [provider, querier, freerider, suspended, rogue, asker] = consortium.members as [DevMember, DevMember, DevMember, DevMember, DevMember, DevMember];
    for (const contributor of [querier, suspended, asker]) {
      await consortium.importAndPublish(contributor, `${LIST_HEADER}\ndevice_id,${contributor.name}-dev-1,fraud_confirmed,2,R01,2026-01-01\n`);
    }
    // The provider and the rogue list the same phone number, each under its own OPRF key.
    for (const lister of [provider, rogue]) {
      await consortium.importAndPublish(lister, `${LIST_HEADER}\nphone,${LISTED_PHONE.raw},fraud_confirmed,4,R02,2026-01-01\ndevice_id,${lister.name}-dev-1,fraud_confirmed,2,R01,2026-01-01\n`);
    }
    ({ node: providerNode } = await startNode(provider.dataDir));
  });

  after(async () => {
    await Promise.allSettled([...peers.values()].map((p) => p.stop()));
    for (const node of nodes.reverse()) await node.close();
    await consortium?.stop();
  });

  it("answers an Active member that contributes (the control case each refusal below differs from in one thing)", async () => {
    expectAnswered(await lookupFrom(await peer(querier.privateKey)), "the control lookup");
  });

  it("shuts an outsider's PeerId out at the connection, on both protocols (I-1)", async () => {
    await expectShutOut(await peer(outsider.privateKey));
  });

  it("refuses a regulator's key: its node will not look up (E_NOT_MEMBER), its PeerId is shut out, a request it signs is refused (E_BAD_SIGNATURE)", async () => {
    const member = await createMember({ dataDir: join(consortium.baseDir, "regulator"), name: "Regulator", rpcUrl: consortium.chain.rpcUrl, accountIndex: REGULATOR_INDEX });
    await writeContracts(member.dataDir, consortium.addresses);
    const { node, api } = await startNode(member.dataDir);
    await expectNodeRefusesAsNonMember(api);
    await node.close();
    await expectShutOut(await peer(regulator.privateKey));
    // Carried over an Active member's connection: a request naming the regulator as querier is
    // recorded against that member, the connected peer…
    const viaMember = await peer(querier.privateKey);
    const regulatorWallet = new Wallet(regulator.privateKey);
    const asRegulator = await signedRequestFrame(consortium, regulatorWallet, { provider: provider.address });
    await expectRefusedAndRecorded(viaMember, asRegulator.frame, attributedQueryId(asRegulator.request, viaMember), "E_BAD_SIGNATURE", "DeniedBadSignature");
    // …and one naming the member as querier, signed with the regulator's key.
    const inMembersName = await signedRequestFrame(consortium, regulatorWallet, { provider: provider.address, querier: querier.address });
    await expectRefusedAndRecorded(viaMember, inMembersName.frame, inMembersName.queryId, "E_BAD_SIGNATURE", "DeniedBadSignature");
  });

  it("refuses a forged signature (E_BAD_SIGNATURE): another request's, garbage, or a genuine one relayed by another member", async () => {
    const member = await peer(querier.privateKey);
    const genuine = await signedRequestFrame(consortium, member.wallet, { provider: provider.address });
    const other = await signedRequestFrame(consortium, member.wallet, { provider: provider.address });
    await expectRefusedAndRecorded(member, { ...genuine.frame, signature: other.frame.signature }, genuine.queryId, "E_BAD_SIGNATURE", "DeniedBadSignature");
    const garbage = await signedRequestFrame(consortium, member.wallet, { provider: provider.address });
    await expectRefusedAndRecorded(member, { ...garbage.frame, signature: `0x${"11".repeat(65)}` }, garbage.queryId, "E_BAD_SIGNATURE", "DeniedBadSignature");
    // A member that got hold of another member's signed request cannot spend it as its own.
    const relayed = await signedRequestFrame(consortium, member.wallet, { provider: provider.address });
    const relayer = await peer(freerider.privateKey);
    await expectRefusedAndRecorded(relayer, relayed.frame, attributedQueryId(relayed.request, relayer), "E_BAD_SIGNATURE", "DeniedBadSignature");
  });

  it("refuses a genuine request addressed to another provider (E_BAD_REQUEST), recorded under the provider that refused it", async () => {
    const member = await peer(querier.privateKey);
    const forOther = await signedRequestFrame(consortium, member.wallet, { provider: freerider.address });
    // The ledger names the provider that recorded a refusal (the batch's sender), so its query id is
    // the digest of the request as this provider holds it on chain.
    await expectRefusedAndRecorded(member, forOther.frame, recordedQueryId(consortium, forOther.request, provider.address), "E_BAD_REQUEST", "DeniedBadRequest");
  });

  it("refuses a replayed nonce (E_REPLAY): the first frame is answered, the same frame again is refused", async () => {
    const member = await peer(querier.privateKey);
    const first = await signedRequestFrame(consortium, member.wallet, { provider: provider.address });
    const answered = await send(member, first.frame);
    expect(answered.ok, JSON.stringify(answered)).to.equal(true);
    recorded.push({ queryId: first.queryId, outcome: "Answered" });
    await expectRefusedAndRecorded(member, first.frame, first.queryId, "E_REPLAY", "DeniedReplay");
  });

  it("refuses a request past its deadline (E_EXPIRED)", async () => {
    const member = await peer(querier.privateKey);
    const late = await signedRequestFrame(consortium, member.wallet, { provider: provider.address, deadline: BigInt(Math.floor(Date.now() / 1000) - 5) });
    await expectRefusedAndRecorded(member, late.frame, late.queryId, "E_EXPIRED", "DeniedExpired");
  });

  it("refuses a category the querier does not contribute to (E_RECIPROCITY), and one no deployment defines (E_CATEGORY_UNKNOWN)", async () => {
    const nothingShared = await peer(freerider.privateKey);
    const freeride = await signedRequestFrame(consortium, nothingShared.wallet, { provider: provider.address, categoryIds: [FRAUD_CONFIRMED] });
    await expectRefusedAndRecorded(nothingShared, freeride.frame, freeride.queryId, "E_RECIPROCITY", "DeniedReciprocity");
    const member = await peer(querier.privateKey);
    const notItsCategory = await signedRequestFrame(consortium, member.wallet, { provider: provider.address, categoryIds: [MONEY_MULE] });
    await expectRefusedAndRecorded(member, notItsCategory.frame, notItsCategory.queryId, "E_RECIPROCITY", "DeniedReciprocity");
    const undefinedCategory = await signedRequestFrame(consortium, member.wallet, { provider: provider.address, categoryIds: [UNDEFINED_CATEGORY] });
    await expectRefusedAndRecorded(member, undefinedCategory.frame, undefinedCategory.queryId, "E_CATEGORY_UNKNOWN", "DeniedCategory");
  });

  it(`ends a stream that sends half a frame within its ${TIMEOUT_MS / 1000} s budget, refuses streams beyond ${MAX_INBOUND_STREAMS} on one connection at once, and serves another member meanwhile`, async () => {
    const from = await peer(freerider.privateKey);
    const streams = MAX_INBOUND_STREAMS + 4;
    const connection = await from.host.libp2p.dial(multiaddr(provider.multiaddr));
    const held: Stream[] = [];
    const opened = performance.now();
    const ended = Promise.all(Array.from({ length: streams }, async () => {
      try {
        const stream = await connection.newStream(LOOKUP_PROTOCOL, { signal: AbortSignal.timeout(10_000), maxOutboundStreams: streams });
        held.push(stream);
        stream.send(Uint8Array.from([0xe8, 0x07, ...new TextEncoder().encode("{\"request\":")])); // claims 1,000 bytes, sends 11, never ends
        await lpStream(stream).read({ signal: AbortSignal.timeout(TIMEOUT_MS + 10_000) });
        return { how: "a frame", ms: performance.now() - opened };
      } catch (err) {
        const name = (err as Error).name;
        return { how: name === "AbortError" || name === "TimeoutError" ? "hung" : "ended", ms: performance.now() - opened };
      }
    }));
    try {
      expectAnswered(await lookupFrom(await peer(querier.privateKey)), "a member on its own connection, meanwhile");
      const outcomes = await ended;
      expect(outcomes.filter((o) => o.how !== "ended"), "streams the provider did not end").to.deep.equal([]);
      expect(outcomes.filter((o) => o.ms < TIMEOUT_MS / 2).length, "streams beyond the limit, refused at once").to.be.at.least(streams - MAX_INBOUND_STREAMS);
    } finally {
      for (const stream of held) stream.abort(new Error("test done"));
    }
  });

  it("refuses oversized frames (E_FRAME_TOO_LARGE or a closed stream, nothing recorded), and answers the retired lookup/1 with E_PROTOCOL_VERSION", async () => {
    const member = await peer(querier.privateKey);
    const above = await rawExchange(member.host, provider.multiaddr, LOOKUP_PROTOCOL, { framed: new Uint8Array(MAX_FRAME_BYTES + 1).fill(0x20) });
    expect(above.kind === "closed" || (lookupResponseFrame.parse(above.frame) as { error?: { code: string } }).error?.code === "E_FRAME_TOO_LARGE", JSON.stringify(above).slice(0, 200)).to.equal(true);
    const tooMany = await signedRequestFrame(consortium, member.wallet, { provider: provider.address, elementCount: MAX_ITEMS_PER_REQUEST + 1, itemCount: MAX_ITEMS_PER_REQUEST });
    expect((await send(member, tooMany.frame)).error?.code).to.equal("E_FRAME_TOO_LARGE");
    const v1 = await rawExchange(member.host, provider.multiaddr, LOOKUP_PROTOCOL_V1, { json: { request: {}, items: [] } });
    expect(v1.kind).to.equal("frame");
    expect((lookupResponseFrame.parse((v1 as { frame: unknown }).frame) as { error?: { code: string } }).error?.code).to.equal("E_PROTOCOL_VERSION");
  });

  it("catches a provider answering under another key than the one it published: the querier's proof check fails (E_OPRF_PROOF) and nothing of the answer is kept, while an honest provider's hit is found", async () => {
    // The rogue's store and filter were built under its published key; it now answers under another.
    const voprf = await sharedVoprf();
    await writeFile(join(rogue.dataDir, DATA_DIR_LAYOUT.keysDir, `${DATA_DIR_LAYOUT.oprfKeyPrefix}1.key`), `${hexlify(voprf.generateKeyPair().secretKey)}\n`, { mode: 0o600 });
    await startNode(rogue.dataDir);
    const { api } = await askerNode();
    const { status, body } = await api.check({ items: [{ type: "phone", value: LISTED_PHONE.raw }], providers: [provider.address, rogue.address], categories: ["fraud_confirmed"], includeOwn: false });
    expect(status, JSON.stringify(body)).to.equal(200);
    const byAddress = new Map((body.providers ?? []).map((p) => [p.address.toLowerCase(), p]));
    const honestOutcome = byAddress.get(provider.address.toLowerCase());
    expect(honestOutcome?.status, JSON.stringify(body)).to.equal("answered");
    for (const queryId of [honestOutcome!.queryId!, ...(honestOutcome!.fetchQueryIds ?? []), ...(honestOutcome!.coverFetchQueryId === undefined ? [] : [honestOutcome!.coverFetchQueryId])]) recorded.push({ queryId, outcome: "Answered" });
    const hitsFrom = (address: string) => body.items![0]!.hits.filter((hit) => hit.provider.toLowerCase() === address.toLowerCase());
    expect(hitsFrom(provider.address).map((hit) => hit.category), "the honest provider's hit").to.deep.equal(["fraud_confirmed"]);
    expect(byAddress.get(rogue.address.toLowerCase()), JSON.stringify(body)).to.deep.include({ status: "error", code: "E_OPRF_PROOF" });
    expect(hitsFrom(rogue.address), "nothing of the rogue's answer is kept, though it lists the number too").to.deep.equal([]);
  });

  it("lets nothing reach the provider that names or derives from the identifiers checked: not the raw or normalised value, its OPRF input, its hash to the group, the provider's own evaluation of it, nor the tag, keys or entry id it derives", async () => {
    // Every byte of every lookup/2, filter/1 and lookup/1 stream the provider's node receives,
    // tapped with a libp2p stream middleware on its host (a test-only reach into the node).
    const providerHost = (providerNode as unknown as { host: RiskshareHost }).host;
    const received: Uint8Array[] = [];
    const tap: StreamMiddleware = (stream, connection, next) => {
      const dispatch = stream.dispatchEvent.bind(stream);
      stream.dispatchEvent = (event: Event) => {
        const data = (event as Event & { data?: { subarray(): Uint8Array } }).data;
        if (event.type === "message" && data !== undefined) received.push(Uint8Array.from(data.subarray()));
        return dispatch(event);
      };
      next(stream, connection);
    };
    for (const protocol of [LOOKUP_PROTOCOL, FILTER_PROTOCOL, LOOKUP_PROTOCOL_V1]) providerHost.libp2p.use(protocol, tap);
    try {
      const { api } = await askerNode();
      const { status, body } = await api.check({
        items: [{ type: "phone", value: LISTED_PHONE.raw }, { type: "phone", value: UNLISTED_PHONE.raw }], providers: [provider.address], categories: ["fraud_confirmed"], includeOwn: false,
      });
      expect(status, JSON.stringify(body)).to.equal(200);
      const outcome = body.providers![0]!;
      expect(outcome.status, JSON.stringify(body)).to.equal("answered");
      for (const queryId of [outcome.queryId!, ...(outcome.fetchQueryIds ?? []), ...(outcome.coverFetchQueryId === undefined ? [] : [outcome.coverFetchQueryId])]) recorded.push({ queryId, outcome: "Answered" });
      expect(body.items!.map((item) => item.verdict), "the querier learns the hit").to.deep.equal(["hit", "miss"]);
      expect(outcome.fetchQueryIds, "one Fetch, for the hit").to.have.length(1);
    } finally {
      for (const protocol of [LOOKUP_PROTOCOL, FILTER_PROTOCOL, LOOKUP_PROTOCOL_V1]) providerHost.libp2p.unuse(protocol);
    }
    const bytes = Buffer.concat(received);
    const text = bytes.toString("latin1").toLowerCase();
    // Not vacuous: the tap saw the Evaluate (two blinded elements, the padded shape of two items) and the Fetch.
    expect(text, "an Evaluate reached the provider").to.contain("\"elements\"");
    expect(text, "a Fetch reached the provider").to.contain("\"prefixes\"");
    expect(text, "the querier's address").to.contain(asker.address.slice(2).toLowerCase());

    // What the provider could compute from each identifier with its own key: none of it may appear.
    const voprf = await sharedVoprf();
    const secretKey = (await new KeyStore({ dataDir: provider.dataDir }).oprfKey(1))!;
    const evaluator = await EntryKeyEvaluator.create({ secretKey, context: { chainId: consortium.chainId, providerAddress: provider.address, keyEpoch: 1 } });
    const one = new Uint8Array(32);
    one[0] = 1;
    for (const phone of [LISTED_PHONE, UNLISTED_PHONE]) {
      const input = oprfInput("phone", phone.normalised);
      const keys = evaluator.keysOf("phone", phone.normalised);
      const derived: Record<string, Uint8Array> = {
        "OPRF input": input,
        "hash to the group": voprf.blindWith(input, one),
        "the provider's unblinded evaluation": voprf.blindWith(input, secretKey),
        "OPRF output": voprf.evaluate(secretKey, input),
        ...Object.fromEntries(Object.entries(keys).filter(([, v]) => v instanceof Uint8Array)) as Record<string, Uint8Array>,
      };
      expect(Object.keys(derived), "the entry keys checked").to.include.members(["tag", "metadataKey", "entryId"]);
      for (const value of [phone.raw, phone.normalised, phone.normalised.slice(1)]) {
        expect(text.includes(value.toLowerCase()), `${phone.raw}: the value ${value} reached the provider`).to.equal(false);
      }
      for (const [what, value] of Object.entries(derived)) {
        expect(bytes.includes(Buffer.from(value)), `${phone.raw}: its ${what} reached the provider as bytes`).to.equal(false);
        expect(text.includes(Buffer.from(value).toString("hex")), `${phone.raw}: its ${what} reached the provider as hex`).to.equal(false);
        expect(text.includes(Buffer.from(value).toString("base64").toLowerCase()), `${phone.raw}: its ${what} reached the provider as base64`).to.equal(false);
      }
    }
  });

  it("refuses a member suspended by the regulator from the next block on: its open connection is closed, its PeerId shut out, its node will not look up", async () => {
    const suspendedPeer = await peer(suspended.privateKey);
    expectAnswered(await lookupFrom(suspendedPeer), "answered while Active");

    const connection = await connectChain({ rpcUrl: consortium.chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
    try {
      const { registry } = connectContracts(consortium.addresses, connectSigner(new Wallet(regulator.privateKey), connection.provider));
      await (await registry.regulatorSuspend(suspended.address, BigInt((await connection.provider.getBlock("latest"))!.timestamp) + 86_400n)).wait();
    } finally {
      connection.provider.destroy();
    }
    await providerNode.syncChain();
    await pollUntil("the provider to close the suspended member's open connection", () =>
      suspendedPeer.host.libp2p.getConnections().some((c) => c.remotePeer.toString() === provider.peerId) ? undefined : true, 10_000);
    await expectShutOut(suspendedPeer);
    // Its own node (the same key, so the hand-driven host goes first) refuses to look up at all.
    await suspendedPeer.stop();
    peers.delete(suspended.privateKey);
    const { api } = await startNode(suspended.dataDir);
    await expectNodeRefusesAsNonMember(api);
  });

  it("has recorded each parsed request exactly once, under the outcome naming its refusal, and nothing from a peer it shut out", async () => {
    // Cover fetches are answered in the background: let every querier's decoys land first.
    await Promise.all([...nodes.map((node) => node.settleLookups()), ...[...peers.values()].map((peer) => peer.lookup.idle())]);
    await providerNode.flushLedger();
    const ledger = await consortium.ledger(provider.address);
    // Answers: each once. Refusals: per connected peer and outcome, records whose counts add up to
    // the refusals sent, each naming one of those requests (as attributed to that peer).
    const answeredIds = recorded.filter((r) => r.outcome === "Answered").map((r) => r.queryId);
    const answeredRecords = ledger.records.filter((r) => r.outcomeName === "Answered");
    expect(answeredRecords.map((r) => r.queryId.toLowerCase()).sort(), "answers on chain, each once").to.deep.equal(answeredIds.map((id) => id.toLowerCase()).sort());
    expect(ledger.failures, "verifyLedger").to.deep.equal([]);
    expect(ledger.batches.map((b) => b.seq), "batch sequence").to.deep.equal(ledger.batches.map((_, i) => BigInt(i + 1)));
    expect(ledger.batches.reduce((sum, b) => sum + b.recordCount, 0), "records per batch").to.equal(ledger.records.length);
    const sent = new Map<string, Set<string>>();
    const sentCount = new Map<string, number>();
    for (const r of recorded.filter((x) => x.outcome !== "Answered")) {
      const key = `${r.querier}/${r.outcome}`;
      sent.set(key, (sent.get(key) ?? new Set<string>()).add(r.queryId.toLowerCase()));
      sentCount.set(key, (sentCount.get(key) ?? 0) + 1);
    }
    const landedCount = new Map<string, number>();
    for (const record of ledger.records.filter((r) => r.outcomeName !== "Answered")) {
      const key = `${record.querier}/${record.outcomeName}`;
      expect(sent.get(key)?.has(record.queryId.toLowerCase()), `${key}: record ${record.queryId} names a request sent`).to.equal(true);
      landedCount.set(key, (landedCount.get(key) ?? 0) + record.count);
    }
    expect(Object.fromEntries(landedCount), "refusals counted per connected peer and outcome").to.deep.equal(Object.fromEntries(sentCount));
    const byOutcome = new Map<string, number>();
    for (const record of ledger.records) byOutcome.set(record.outcomeName, (byOutcome.get(record.outcomeName) ?? 0) + record.count);
    expect(Object.fromEntries(byOutcome)).to.deep.equal({ Answered: answeredIds.length, DeniedBadSignature: 5, DeniedReplay: 1, DeniedExpired: 1, DeniedReciprocity: 2, DeniedCategory: 1, DeniedBadRequest: 1 });
    // Nothing on record says whether anything was found: a kind, an item count and a key epoch only.
    for (const record of ledger.records) {
      expect(record, `record ${record.queryId}`).to.not.have.property("hitCount");
      expect(record.keyEpoch, `record ${record.queryId}`).to.equal(record.outcomeName === "Answered" ? 1 : 0);
    }
    expect(ledger.records.filter((r) => r.querier === outsider.address), "outsider").to.deep.equal([]);
    // The one request naming the regulator as querier came over a member's connection: it is that member's.
    expect(ledger.records.filter((r) => r.querier === regulator.address).map((r) => r.outcomeName), "regulator").to.deep.equal([]);
    // The suspended member's one lookup dates from before its suspension; nothing after it
    // (an Evaluate and its cover Fetch).
    expect(ledger.records.filter((r) => r.querier === suspended.address).map((r) => `${r.outcomeName} kind ${r.kind}`).sort(), "suspended").to.deep.equal(["Answered kind 0", "Answered kind 1"]);
  });
});
