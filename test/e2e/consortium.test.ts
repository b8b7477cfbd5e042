/**
 * Three member nodes (real LevelDB, libp2p on 127.0.0.1, a Hardhat node over JSON-RPC) answer each
 * other's private lookups (/riskshare/lookup/2, /riskshare/filter/1) under the consortium's rules,
 * and every query lands on chain exactly once.
 */
import { expect } from "chai";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { mkdtemp } from "node:fs/promises";
import { multiaddr } from "@multiformats/multiaddr";
import { getBytes, hexlify, randomBytes, Wallet } from "ethers";
import { Level } from "level";
import { startChain, type LocalChain } from "../../scripts/devnet/chain.ts";
import { createMember, createMembers, deployFor, devAccount, writeContracts, type DevMember } from "../../scripts/devnet/consortium.ts";
import { RiskshareNode } from "../../node/node.ts";
import {
  connectChain, connectContracts, connectSigner, DEFAULT_CATEGORIES, evaluateCommitment, fetchCommitment, lookupRequestDigest, lookupRequestDigestBytes, nonceToBytes32,
  readLedger, rotateOprfKey, toQueryRecord, verifyLedger, type AuditRecord, type ContractAddresses, type LookupRequest, type TagPrefix,
} from "../../node/chain/index.ts";
import {
  createHost, digestSignerFromEvmKey, frameStream, LOOKUP_PROTOCOL, MAX_FRAME_BYTES, maskOfCategories, toWirePrefix, toWireRequest,
} from "../../node/p2p/index.ts";
import { createVoprf, expandEntryKeys, oprfInput, type Voprf } from "../../node/identity/index.ts";
import { DATA_DIR_LAYOUT, KeyStore, updateConfig } from "../../node/config/index.ts";
import { createMetadataCipher, metadataAssociatedData, Store, type StoredEntry } from "../../node/store/index.ts";
import { decodeBucket } from "../../node/p2p/index.ts";
import { silentLogger } from "../../node/logger.ts";
import { cli } from "./support/cli.ts";

const TEST_POLICY = { minEntries: 2n, maxSnapshotAgeSeconds: 86_400n, quotaBase: 1_000n, quotaRatioBps: 0n, quotaCeiling: 1_000n };
/** How long an executed Admit waits before activation on this test's chain: seconds, waited out for real. */
const ADMISSION_DELAY_SECONDS = 2n;
const FRAUD_PHONE = "13800138000";
/** Listed by both Bank A and Bank C: each keys it under its own OPRF key. */
const SHARED_PHONE = "13600136000";
const FRAUD = DEFAULT_CATEGORIES.indexOf("fraud_confirmed") + 1;
const C_LIST = `type,value,category,level,reason,reported_at,expires_at,ref\nphone,+86 ${FRAUD_PHONE},fraud_confirmed,4,R01,2026-03-01,,C-77\nbank_card,6222 0200 0000 0015,fraud_confirmed,5,R09,2026-03-02,,C-78\nphone,${SHARED_PHONE},fraud_confirmed,3,R04,2026-03-03,,C-79\n`;

/** A reply frame as it came off a raw stream (or a closed/refused stream). */
type RawReply = { ok: true; answer: { queryId: string; keyEpoch: number; itemCount: number }; evaluated?: string[]; proof?: string; buckets?: { entries: string }[] }
  | { ok: false; error: { code: string } };

describe("a consortium of three member nodes", function () {
  this.timeout(300_000);
  let baseDir: string;
  let chain: LocalChain;
  let chainId: bigint;
  let voprf: Voprf;
  let members: DevMember[];
  let outsider: DevMember;
  let addresses: ContractAddresses;
  const nodes = new Map<string, RiskshareNode>();
  const apis = new Map<string, { url: string; token: string }>();
  /** Every query id a provider answered or refused (recorded), once per record expected on chain. */
  const servedQueryIds: string[] = [];
  const regulator = devAccount(9);

  async function startNode(member: DevMember): Promise<void> {
    const node = await RiskshareNode.open({ dataDir: member.dataDir }, { logger: silentLogger() });
    const info = await node.start();
    nodes.set(member.name, node);
    apis.set(member.name, { url: info.apiUrl, token: await new KeyStore({ dataDir: member.dataDir }).apiToken() });
  }

  async function stopNode(member: DevMember): Promise<void> {
    await nodes.get(member.name)?.close();
    nodes.delete(member.name);
  }

  async function syncAll(): Promise<void> {
    for (const node of nodes.values()) await node.syncChain();
  }

  async function check(member: DevMember, items: { type: string; value: string }[], extra: Record<string, unknown> = {}) {
    const api = apis.get(member.name)!;
    const response = await fetch(`${api.url}/v1/check`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${api.token}` },
      body: JSON.stringify({ items, ...extra }),
    });
    const body = await response.json() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    for (const provider of body.providers ?? []) {
      if (provider.queryId) servedQueryIds.push(provider.queryId);
      for (const id of provider.fetchQueryIds ?? []) servedQueryIds.push(id);
      if (provider.coverFetchQueryId) servedQueryIds.push(provider.coverFetchQueryId);
    }
    return { status: response.status, body };
  }

  async function importList(member: DevMember, csv: string, opts: { publish?: boolean } = {}): Promise<void> {
    const file = join(baseDir, `${member.name}-${Date.now()}.csv`);
    await writeFile(file, csv);
    const run = await cli("--data-dir", member.dataDir, "--json", "list", "import", file);
    expect(run.status, run.stdout + run.stderr).to.equal(0);
    if (opts.publish === false) return;
    const published = await cli("--data-dir", member.dataDir, "--json", "list", "publish");
    expect(published.status, published.stdout + published.stderr).to.equal(0);
  }

  /** Every entry of a stopped member's store (the running node holds its lock). */
  async function storedEntries(member: DevMember): Promise<StoredEntry[]> {
    const store = new Store({ location: join(member.dataDir, DATA_DIR_LAYOUT.dbDir), categories: new Map(DEFAULT_CATEGORIES.map((name, i) => [name, i + 1])) }, { logger: silentLogger() });
    await store.open();
    try {
      const entries: StoredEntry[] = [];
      for await (const entry of store.entries({ includeExpired: true })) entries.push(entry);
      return entries;
    } finally {
      await store.close();
    }
  }

  async function ledgerRecords(query: { querier?: string; provider?: string } = {}): Promise<AuditRecord[]> {
    for (const node of nodes.values()) await node.flushLedger();
    const connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
    try {
      const contracts = connectContracts(addresses, connection.provider);
      return (await readLedger({ provider: connection.provider, registry: contracts.registry, ledger: contracts.ledger, chainId: connection.chainId }, query)).records;
    } finally {
      connection.provider.destroy();
    }
  }

  /** Runs `member activate` for `candidate` until the admission delay is over (a few seconds in this test). */
  async function activateOnceDue(candidate: DevMember): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const run = await cli("--data-dir", candidate.dataDir, "--json", "member", "activate", candidate.address);
      if (run.status === 0) return;
      expect(run.stdout, "only the delay may hold it back").to.contain("ConsortiumRegistryAdmissionPending");
      expect(attempt, "the delay is a few seconds").to.be.lessThan(40);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  before(async () => {
    baseDir = await mkdtemp(join(tmpdir(), "riskshare-e2e-"));
    voprf = await createVoprf();
    chain = await startChain({ kind: "hardhat" });
    members = await createMembers({ baseDir, rpcUrl: chain.rpcUrl, names: ["Bank A", "Bank B", "Bank C"] });
    outsider = (await createMembers({ baseDir, rpcUrl: chain.rpcUrl, names: ["Outsider"], firstAccount: 7 }))[0]!;
    const deployment = await deployFor(members, { rpcUrl: chain.rpcUrl, policy: TEST_POLICY, regulators: [regulator.address], admissionDelaySeconds: ADMISSION_DELAY_SECONDS });
    addresses = deployment.addresses;
    const connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
    chainId = connection.chainId;
    connection.provider.destroy();
    await writeContracts(outsider.dataDir, addresses);
    const [a, , c] = members;
    await importList(a!, `type,value,category,level,reason,reported_at,expires_at,ref\nphone,13900139000,fraud_confirmed,3,R02,2026-01-01,,A-1\nemail,mule@mail.example.cn,fraud_confirmed,2,R07,2026-02-01,,A-2\nphone,${SHARED_PHONE},fraud_confirmed,2,R05,2026-02-02,,A-3\n`);
    await importList(c!, C_LIST);
    // Feedback batches of 2 (5 in use), so one test sends one batch of both its reports.
    await updateConfig(a!.dataDir, (config) => ({ ...config, feedback: { ...config.feedback, minBatch: 2 } }));
    for (const member of members) await startNode(member);
  });

  after(async () => {
    for (const node of nodes.values()) await node.close();
    await chain?.stop();
    await rm(baseDir, { recursive: true, force: true });
  });

  it("finds a fraudster's phone on another member's list, whatever its spelling: the provider's answer decrypted at the querier", async () => {
    const { status, body } = await check(members[0]!, [{ type: "phone", value: "138 0013 8000" }]);
    expect(status).to.equal(200);
    expect(body.verdict, JSON.stringify(body.providers)).to.equal("hit");
    expect(body.items[0].hits).to.have.length(1);
    expect(body.items[0].hits[0]).to.include({ providerName: "Bank C", category: "fraud_confirmed", level: 4, reason: "R01", providerRef: "C-77" });
    expect(body.providers.map((p: { name: string; status: string }) => [p.name, p.status]).sort()).to.deep.equal([["Bank B", "answered"], ["Bank C", "answered"]]);
    const bankC = body.providers.find((p: { name: string }) => p.name === "Bank C");
    expect(bankC.fetchQueryIds, "a filter hit is followed by a fetch").to.have.length.greaterThanOrEqual(1);
  });

  it("answers a miss only when every provider answered", async () => {
    const { body } = await check(members[0]!, [{ type: "phone", value: "13700137000" }, { type: "email", value: "x@y" }]);
    expect(body.verdict).to.equal("miss");
    expect(body.items.map((i: { verdict: string }) => i.verdict)).to.deep.equal(["miss", "invalid"]);
    for (const provider of body.providers) expect(provider.status, provider.name).to.equal("answered");
  });

  it("checks the node's own list too", async () => {
    const { body } = await check(members[0]!, [{ type: "email", value: "MULE@mail.example.cn " }]);
    expect(body.verdict).to.equal("hit");
    expect(body.items[0].own).to.include({ category: "fraud_confirmed", reason: "R07" });
  });

  it("lets a querier decrypt only its own hit: the fetched bucket holds other entries' sealed metadata that its key does not open", async () => {
    const [a, , c] = members;
    // A querier's steps by hand, as Bank A's node takes them: blind, Evaluate, finalize, derive the entry keys, Fetch the bucket.
    const input = oprfInput("phone", `+86${FRAUD_PHONE}`);
    const blinded = voprf.blind(input);
    const evaluated = await rawExchange(a!, c!, await requestFrame(a!, c!, { elements: [blinded.blindedElement] }));
    expect(evaluated.ok, JSON.stringify(evaluated)).to.equal(true);
    if (!evaluated.ok) return;
    servedQueryIds.push(evaluated.answer.queryId);
    expect(evaluated.answer.keyEpoch).to.equal(1);
    const [output] = voprf.finalizeBatch([input], [blinded.blind], evaluated.evaluated!.map((e) => getBytes(e)), [blinded.blindedElement], getBytes(evaluated.proof!), getBytes(c!.oprfKey));
    const context = { chainId, providerAddress: c!.address, keyEpoch: 1 };
    const { tag, metadataKey } = expandEntryKeys(output!, context);
    // Bank C lists fewer than 512 fraud entries: its bucket bits are 0, the bucket is the whole category.
    const fetched = await rawExchange(a!, c!, await requestFrame(a!, c!, { prefixes: [{ bits: 0, value: 0n }] }));
    expect(fetched.ok, JSON.stringify(fetched)).to.equal(true);
    if (!fetched.ok) return;
    servedQueryIds.push(fetched.answer.queryId);
    const entries = decodeBucket(fetched.buckets![0]!);
    const cipher = await createMetadataCipher();
    expect(entries).to.have.length(3);
    const opened = entries.map((entry) => {
      try {
        return cipher.open(entry.sealed, metadataKey, metadataAssociatedData(context, "phone", entry.version, entry.tag));
      } catch {
        return undefined;
      }
    });
    expect(opened.filter((m) => m !== undefined), "exactly one entry opens").to.have.length(1);
    const own = entries.findIndex((entry) => hexlify(entry.tag) === hexlify(tag));
    expect(opened[own]).to.deep.include({ categoryId: FRAUD, level: 4, reason: "R01", providerRef: "C-77" });
  });

  it("two members importing the same identifier store unrelated values: no shared entry id, tag or metadata key", async () => {
    const [a, , c] = members;
    await stopNode(a!);
    await stopNode(c!);
    try {
      const [atA, atC] = [await storedEntries(a!), await storedEntries(c!)];
      const sharedAtA = atA.find((e) => e.ownRef === "A-3");
      const sharedAtC = atC.find((e) => e.ownRef === "C-79");
      expect(sharedAtA, "Bank A lists the shared phone").to.not.equal(undefined);
      expect(sharedAtC, "Bank C lists the shared phone").to.not.equal(undefined);
      expect(hexlify(sharedAtA!.entryId)).to.not.equal(hexlify(sharedAtC!.entryId));
      expect(hexlify(sharedAtA!.tag)).to.not.equal(hexlify(sharedAtC!.tag));
      expect(hexlify(sharedAtA!.metadataKey)).to.not.equal(hexlify(sharedAtC!.metadataKey));
      const idsAtA = new Set(atA.map((e) => hexlify(e.entryId)));
      const tagsAtA = new Set(atA.map((e) => hexlify(e.tag)));
      for (const entry of atC) {
        expect(idsAtA.has(hexlify(entry.entryId)), `entry id of ${entry.ownRef}`).to.equal(false);
        expect(tagsAtA.has(hexlify(entry.tag)), `tag of ${entry.ownRef}`).to.equal(false);
      }
      const raw = JSON.stringify([...atA, ...atC]);
      expect(raw, "no store holds the identifier itself").to.not.contain(SHARED_PHONE);
    } finally {
      await startNode(a!);
      await startNode(c!);
    }
  });

  it("counts the quota per item: a request whose items exceed what is left is refused, a smaller one is answered", async () => {
    const [a, , c] = members;
    // quotaBase 1,000 items a day per category; Bank A has asked Bank C for a handful so far.
    const tooMany = await rawExchange(a!, c!, await requestFrame(a!, c!, { elements: freshElements(1000) }));
    expect(tooMany, "1,000 items with fewer than 1,000 left").to.deep.include({ ok: false });
    expect(!tooMany.ok && tooMany.error.code).to.equal("E_QUOTA");
    const half = await rawExchange(a!, c!, await requestFrame(a!, c!, { elements: freshElements(512) }));
    expect(half.ok, JSON.stringify(half)).to.equal(true);
    const again = await rawExchange(a!, c!, await requestFrame(a!, c!, { elements: freshElements(512) }));
    expect(!again.ok && again.error.code, "a second 512 exceeds what the first left: items are counted, not requests").to.equal("E_QUOTA");
    const one = await rawExchange(a!, c!, await requestFrame(a!, c!, { elements: freshElements(1) }));
    expect(one.ok, JSON.stringify(one)).to.equal(true);
    const ids = [tooMany, half, again, one].map(queryIdOf);
    servedQueryIds.push(...ids);
    const records = await ledgerRecords({ querier: a!.address, provider: c!.address });
    expect(ids.map((id) => records.filter((r) => r.queryId === id).map((r) => [r.outcomeName, r.itemCount]))).to.deep.equal([
      [["DeniedQuota", 1000]], [["Answered", 512]], [["DeniedQuota", 512]], [["Answered", 1]],
    ]);
  });

  it("refuses a free rider that shares nothing at the querier (nothing sent, nothing recorded), and serves it once it contributes", async () => {
    const [, b] = members;
    const denied = await check(b!, [{ type: "phone", value: FRAUD_PHONE }]);
    expect(denied.body.verdict).to.equal("incomplete");
    for (const provider of denied.body.providers) {
      expect(provider, provider.name).to.include({ status: "denied", code: "E_RECIPROCITY" });
      expect(provider, `${provider.name}: no request was sent`).to.not.have.property("queryId");
    }
    expect(await ledgerRecords({ querier: b!.address }), "no provider recorded anything from Bank B").to.deep.equal([]);
    await stopNode(b!);
    await importList(b!, "type,value,category,level,reason,reported_at,expires_at,ref\ndevice_id,dev-1,fraud_confirmed,1,R03,2026-01-01,,\ndevice_id,dev-2,fraud_confirmed,1,R03,2026-01-01,,\n");
    await startNode(b!);
    await syncAll();
    const allowed = await check(b!, [{ type: "phone", value: FRAUD_PHONE }], { categories: ["fraud_confirmed"] });
    expect(allowed.body.verdict, JSON.stringify(allowed.body.providers)).to.equal("hit");
  });

  it("refuses at the provider a request built to bypass the querier's check (E_RECIPROCITY), recorded against the connected peer", async () => {
    const [a, b] = members;
    // Bank B shares fraud_confirmed now, never money_mule: its own node would not send this.
    const mule = DEFAULT_CATEGORIES.indexOf("money_mule") + 1;
    expect(mule).to.be.greaterThan(0);
    const reply = await rawExchange(b!, a!, await requestFrame(b!, a!, { elements: freshElements(1), categoryIds: [mule] }));
    expect(!reply.ok && reply.error.code, JSON.stringify(reply)).to.equal("E_RECIPROCITY");
    const queryId = queryIdOf(reply);
    servedQueryIds.push(queryId);
    const records = (await ledgerRecords({ provider: a!.address })).filter((r) => r.queryId === queryId);
    expect(records.map((r) => [r.querier, r.outcomeName, r.keyEpoch])).to.deep.equal([[b!.address, "DeniedReciprocity", 0]]);
  });

  it("shuts the door on a node whose key is not a member's (I-1)", async () => {
    const outsiderNode = await RiskshareNode.open({ dataDir: outsider.dataDir }, { logger: silentLogger() });
    await outsiderNode.start();
    try {
      expect(outsiderNode.health().status).to.equal("refusing");
    } finally {
      await outsiderNode.close();
    }
    // A hand-built request with the outsider's key, from a host that believes everyone is a member, gets no answer.
    const reply = await rawExchange(outsider, members[0]!, await requestFrame(outsider, members[0]!, { elements: freshElements(1) }));
    expect(reply.ok).to.equal(false);
  });

  it("refuses a replayed request (same signed frame twice) with E_REPLAY, and records both", async () => {
    const [a, b] = members;
    const frame = await requestFrame(a!, b!, { elements: freshElements(1) });
    const first = await rawExchange(a!, b!, frame);
    const second = await rawExchange(a!, b!, frame);
    expect(first.ok, JSON.stringify(first)).to.equal(true);
    expect(!second.ok && second.error.code).to.equal("E_REPLAY");
    servedQueryIds.push(queryIdOf(first), queryIdOf(first));
  });

  it("admits a fourth member by vote with no secret handed over: it imports and publishes under its own OPRF key, answers and is answered", async () => {
    const [a, b, c] = members;
    const d = outsider;
    const keysBefore = await keyFiles(d);
    await updateConfig(d.dataDir, (config) => ({ ...config, p2p: { ...config.p2p, bootstrap: members.map((m) => m.multiaddr) } }));
    // The candidate signs its own admission request with its member key; a member proposes it.
    const requestFile = join(baseDir, "outsider-request.json");
    const requested = await cli("--data-dir", d.dataDir, "--json", "member", "request", "--name", d.name, "--out", requestFile);
    expect(requested.status, requested.stderr).to.equal(0);
    const proposed = await cli("--data-dir", a!.dataDir, "--json", "member", "admit", "--request", requestFile);
    expect(proposed.status, proposed.stderr).to.equal(0);
    const proposalId = String(proposed.json().proposalId);
    const voted = await cli("--data-dir", b!.dataDir, "--json", "member", "vote", proposalId);
    expect(voted.status, voted.stderr).to.equal(0);
    const executed = await cli("--data-dir", b!.dataDir, "--json", "member", "execute", proposalId);
    expect(executed.status, executed.stderr).to.equal(0);
    const shown = await cli("--data-dir", a!.dataDir, "--json", "proposal", "show", proposalId);
    expect(shown.json().voters).to.have.members([a!.address, b!.address]);
    expect(shown.json().state).to.equal("executed");
    // In force once the admission delay is over (seconds here): the new member activates itself.
    await activateOnceDue(d);
    await importList(d, "type,value,category,level,reason,reported_at\nmerchant_id,M-0042,fraud_confirmed,2,R11,2026-05-01\nmerchant_id,M-0043,fraud_confirmed,2,R11,2026-05-01\n");
    await startNode(d);
    await syncAll();
    expect(nodes.get(d.name)!.health().reasons.join(" "), "it holds the key it was admitted with").to.not.contain("OPRF key");
    // It finds another member's entry…
    const asked = await check(d, [{ type: "phone", value: FRAUD_PHONE }]);
    expect(asked.body.verdict, JSON.stringify(asked.body.providers)).to.equal("hit");
    expect(asked.body.items[0].hits[0]).to.include({ providerName: c!.name, providerRef: "C-77" });
    // …and another member finds its entry, answered under its own key.
    const found = await check(a!, [{ type: "merchant_id", value: "M-0043" }], { providers: [d.address] });
    expect(found.body.verdict, JSON.stringify(found.body.providers)).to.equal("hit");
    expect(found.body.items[0].hits[0]).to.include({ providerName: d.name, level: 2, reason: "R11" });
    // Nothing was handed over: its keys are the ones its own init made, and its OPRF secret is its own.
    expect(await keyFiles(d)).to.deep.equal(keysBefore);
    const secrets = await Promise.all([...members, d].map(async (m) => hexlify((await new KeyStore({ dataDir: m.dataDir }).oprfKey(1))!)));
    expect(new Set(secrets).size, "every member's OPRF secret is its own").to.equal(secrets.length);
  });

  it("makes a new entry visible at another member after a filter delta, without a new base or publish", async () => {
    const [a, , c] = members;
    const before = await check(a!, [{ type: "email", value: "new.mule@mail.example.cn" }], { providers: [c!.address] });
    expect(before.body.verdict).to.equal("miss");
    await stopNode(c!);
    await importList(c!, "type,value,category,level,reason,reported_at,expires_at,ref\nemail,new.mule@mail.example.cn,fraud_confirmed,3,R12,2026-06-01,,C-80\n", { publish: false });
    await startNode(c!);
    await nodes.get(a!.name)!.syncFilters();
    const after = await check(a!, [{ type: "email", value: "new.mule@mail.example.cn" }], { providers: [c!.address] });
    expect(after.body.verdict, JSON.stringify(after.body.providers)).to.equal("hit");
    expect(after.body.items[0].hits[0]).to.include({ providerName: c!.name, reason: "R12", providerRef: "C-80" });
  });

  it("tells a querier that a hit it found was delisted with the next filter delta, with no lookup sent; a fresh lookup is a plain miss", async () => {
    const [a, , c] = members;
    const item = { type: "email", value: "new.mule@mail.example.cn" };
    const hit = await check(a!, [item], { providers: [c!.address] });
    expect(hit.body.verdict, JSON.stringify(hit.body.providers)).to.equal("hit");
    const lookupId = hit.body.providers[0].queryId as string;
    const recordsBefore = (await ledgerRecords({ querier: a!.address, provider: c!.address })).length;
    const apiC = apis.get(c!.name)!;
    const removed = await fetch(`${apiC.url}/v1/entries/remove`, {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${apiC.token}` }, body: JSON.stringify({ items: [item], reason: "appeal_upheld" }),
    });
    expect(((await removed.json()) as { removed: number }).removed).to.equal(1);
    await nodes.get(a!.name)!.syncFilters();
    const apiA = apis.get(a!.name)!;
    const changes = (await (await fetch(`${apiA.url}/v1/hits/changes`, { headers: { authorization: `Bearer ${await new KeyStore({ dataDir: a!.dataDir }).apiToken("read")}` } })).json()) as { changes: Record<string, unknown>[] };
    const change = changes.changes.find((x) => x.queryId === lookupId);
    expect(change, JSON.stringify(changes)).to.deep.include({ provider: c!.address, providerName: c!.name, category: FRAUD, categoryName: "fraud_confirmed", reason: "appeal_upheld" });
    // The CLI finds the running node by its runtime file (`node start` writes it; this test's nodes run in-process).
    const runtimeFile = join(a!.dataDir, "node.json");
    await writeFile(runtimeFile, JSON.stringify({ pid: process.pid, address: a!.address, peerId: "", multiaddrs: [], apiUrl: apiA.url, startedAt: new Date().toISOString() }));
    const shown = await cli("--data-dir", a!.dataDir, "--json", "hits", "changes", "--since", String(Math.floor(Date.parse(change!.seenAt as string) / 1000))).finally(() => rm(runtimeFile, { force: true }));
    expect(shown.status, shown.stdout + shown.stderr).to.equal(0);
    expect(JSON.parse(shown.stdout).changes.map((x: { queryId: string }) => x.queryId)).to.include(lookupId);
    expect((await ledgerRecords({ querier: a!.address, provider: c!.address })).length, "no lookup was sent to learn it").to.equal(recordsBefore);
    const fresh = await check(a!, [item], { providers: [c!.address] });
    expect(fresh.body.verdict, JSON.stringify(fresh.body.providers)).to.equal("miss");
  });

  it("sends opt-in feedback on kept hits in one batch once enough are queued; the provider takes it and the next lookup scores the confirmed hit higher", async () => {
    const [a, , c] = members;
    const apiA = apis.get(a!.name)!;
    const call = async (api: { url: string; token: string }, path: string, body?: unknown) => {
      const response = await fetch(`${api.url}${path}`, {
        method: body === undefined ? "GET" : "POST", headers: { "content-type": "application/json", authorization: `Bearer ${api.token}` }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: await response.json() as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const fraud = await check(a!, [{ type: "phone", value: FRAUD_PHONE }], { providers: [c!.address] });
    const before = fraud.body.items[0].hits[0];
    expect(before, JSON.stringify(fraud.body)).to.include({ providerName: c!.name, providerRef: "C-77" });
    expect(before.hitId, "a provider's hit carries the id to report it by").to.match(/^[0-9a-f]{16}$/);
    expect(before.confirmations).to.equal(undefined);
    const shared = await check(a!, [{ type: "phone", value: SHARED_PHONE }], { providers: [c!.address] });
    const sharedHit = shared.body.items[0].hits[0];
    // Only a hit this node keeps can be reported.
    const unknown = await call(apiA, "/v1/feedback", { hitId: "0123456789abcdef", kind: "confirmed" });
    expect(unknown.status).to.equal(404);
    expect(unknown.body.error.code).to.equal("E_FEEDBACK_UNKNOWN_HIT");
    const confirmed = await call(apiA, "/v1/feedback", { hitId: before.hitId, kind: "confirmed" });
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    expect(confirmed.body.report).to.include({ hitId: before.hitId, provider: c!.address, kind: "confirmed", status: "queued" });
    const nodeA = nodes.get(a!.name)!;
    expect((await nodeA.sendFeedback()).sent, "one report waits for the batch size").to.equal(0);
    // The second report through the CLI, which finds the running node by its runtime file.
    const runtimeFile = join(a!.dataDir, "node.json");
    await writeFile(runtimeFile, JSON.stringify({ pid: process.pid, address: a!.address, peerId: "", multiaddrs: [], apiUrl: apiA.url, startedAt: new Date().toISOString() }));
    try {
      const reported = await cli("--data-dir", a!.dataDir, "--json", "feedback", "report", sharedHit.hitId, "--kind", "false-positive");
      expect(reported.status, reported.stdout + reported.stderr).to.equal(0);
      expect(JSON.parse(reported.stdout).report).to.include({ kind: "false_positive", status: "queued" });
      // The provider's ledger batch lands first: the ledger counts feedback only up to the items it metered for the pair.
      await nodes.get(c!.name)!.flushLedger();
      const round = await nodeA.sendFeedback();
      expect(round, JSON.stringify(round)).to.deep.include({ sent: 1, reports: 2, counted: 2 });
      expect((await nodeA.sendFeedback()).sent, "sent once").to.equal(0);
      const listed = await cli("--data-dir", a!.dataDir, "--json", "feedback", "list");
      expect(listed.status, listed.stdout + listed.stderr).to.equal(0);
      expect(JSON.parse(listed.stdout).reports.map((r: { kind: string; status: string; outcome: string }) => [r.kind, r.status, r.outcome]).sort())
        .to.deep.equal([["confirmed", "sent", "accepted"], ["false_positive", "sent", "accepted"]]);
    } finally {
      await rm(runtimeFile, { force: true });
    }
    const apiC = apis.get(c!.name)!;
    const received = await call({ url: apiC.url, token: await new KeyStore({ dataDir: c!.dataDir }).apiToken("read") }, "/v1/feedback/received");
    expect(received.body.received.map((r: { kind: string; ownRef: string; categoryName: string }) => [r.kind, r.ownRef, r.categoryName]).sort())
      .to.deep.equal([["confirmed", "C-77", "fraud_confirmed"], ["false_positive", "C-79", "fraud_confirmed"]]);
    expect(JSON.stringify(received.body).toLowerCase(), "the provider's operator sees no reporter").to.not.contain(a!.address.slice(2).toLowerCase());
    const again = await check(a!, [{ type: "phone", value: FRAUD_PHONE }], { providers: [c!.address] });
    const after = again.body.items[0].hits[0];
    expect(after, JSON.stringify(again.body)).to.include({ providerRef: "C-77", confirmations: 1 });
    expect(after.score, `score ${before.score} before the confirmation`).to.be.greaterThan(before.score);
    // The weekly counts are on chain: audit report shows them per reporter and provider, and the false positive burned C's credits.
    const report = await cli("--data-dir", a!.dataDir, "--json", "audit", "report");
    expect(report.status, report.stdout + report.stderr).to.equal(0);
    const feedback = JSON.parse(report.stdout).feedback;
    expect(feedback.reporters.map((r: { member: string; confirmed: number; falsePositive: number }) => [r.member, r.confirmed, r.falsePositive])).to.deep.equal([[a!.name, 1, 1]]);
    const providerC = feedback.providers.find((p: { member: string }) => p.member === c!.name);
    expect(providerC, JSON.stringify(feedback.providers)).to.deep.include({ confirmed: 1, falsePositive: 1, burned: 10 });
    expect(providerC.falsePositiveShare).to.deep.include({ value: 0.5, trials: 2 });
    expect(providerC.itemsServed).to.be.greaterThan(0);
    const text = await cli("--data-dir", a!.dataDir, "audit", "report");
    expect(text.stdout).to.match(/feedback reported on chain/).and.match(/CONFIRM SHARE/).and.match(/50\.0 % \[\d+\.\d–\d+\.\d\] of 2/);
    // C's bonus for this week is due only once the week is over (the contract tests settle it after a week).
    const due = await cli("--data-dir", c!.dataDir, "--json", "credits", "settle", "--dry-run");
    expect(due.status, due.stdout + due.stderr).to.equal(0);
    expect(JSON.parse(due.stdout)).to.deep.equal({ provider: c!.address, due: [] });
  });

  it("after a key rotation every hit still answers, under the new key epoch", async () => {
    const [a, , c] = members;
    await stopNode(c!);
    const { secretKey, publicKey } = voprf.generateKeyPair();
    await new KeyStore({ dataDir: c!.dataDir }).putOprfKey(2, hexlify(secretKey));
    const connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
    try {
      const { registry } = connectContracts(addresses, connectSigner(new Wallet(c!.privateKey), connection.provider));
      expect((await rotateOprfKey(registry, publicKey)).keyEpoch).to.equal(2);
    } finally {
      connection.provider.destroy();
    }
    // Rotation = re-import into a fresh store under the next epoch's key.
    await rename(join(c!.dataDir, DATA_DIR_LAYOUT.dbDir), join(baseDir, "bank-c-epoch-1.db"));
    await importList(c!, `${C_LIST}email,new.mule@mail.example.cn,fraud_confirmed,3,R12,2026-06-01,,C-80\n`);
    // As `key rotate-oprf` does: the journal, nonces, quota usage and ledger writer mark move to the new store.
    const categories = new Map(DEFAULT_CATEGORIES.map((name, i) => [name, i + 1]));
    const [oldStore, newStore] = [join(baseDir, "bank-c-epoch-1.db"), join(c!.dataDir, DATA_DIR_LAYOUT.dbDir)].map((location) => new Store({ location, categories }, { logger: silentLogger() }));
    await oldStore!.open();
    await newStore!.open();
    await newStore!.copyProtocolStateFrom(oldStore!);
    await Promise.all([oldStore!.close(), newStore!.close()]);
    await startNode(c!);
    await syncAll();
    await nodes.get(a!.name)!.syncFilters();
    const { body } = await check(a!, [
      { type: "phone", value: FRAUD_PHONE }, { type: "bank_card", value: "6222020000000015" }, { type: "phone", value: SHARED_PHONE }, { type: "email", value: "new.mule@mail.example.cn" },
    ], { providers: [c!.address] });
    expect(body.items.map((i: { verdict: string }) => i.verdict), JSON.stringify(body.providers)).to.deep.equal(["hit", "hit", "hit", "hit"]);
    expect(body.items.map((i: { hits: { providerRef: string }[] }) => i.hits[0]!.providerRef)).to.deep.equal(["C-77", "C-78", "C-79", "C-80"]);
    const bankC = body.providers[0];
    const records = (await ledgerRecords({ querier: a!.address, provider: c!.address })).filter((r) => r.queryId === bankC.queryId || bankC.fetchQueryIds?.includes(r.queryId));
    expect(records.length).to.be.greaterThanOrEqual(2);
    for (const record of records) expect(record, `${record.queryId} kind ${record.kind}`).to.include({ outcomeName: "Answered", keyEpoch: 2 });
  });

  it("refuses a pepper-era store at start with E_STORE_FORMAT, and says to re-import", async () => {
    const legacy = await createMember({ dataDir: join(baseDir, "legacy"), name: "Legacy", rpcUrl: chain.rpcUrl, accountIndex: 11 });
    await writeContracts(legacy.dataDir, addresses);
    // What the pepper version left on disk: schema version 1 and its pepper epoch in meta.
    const location = join(legacy.dataDir, DATA_DIR_LAYOUT.dbDir);
    await mkdir(location, { recursive: true });
    const db = new Level<Buffer, Buffer>(location, { keyEncoding: "buffer", valueEncoding: "buffer" });
    await db.open();
    const meta = db.sublevel<string, unknown>("meta", { keyEncoding: "utf8", valueEncoding: "json" });
    await meta.put("schemaVersion", 1);
    await meta.put("pepperEpoch", 1);
    await db.close();
    const node = await RiskshareNode.open({ dataDir: legacy.dataDir }, { logger: silentLogger() });
    const error = await node.start().then(() => undefined, (err: unknown) => err);
    await node.close();
    expect(error).to.have.property("code", "E_STORE_FORMAT");
    expect((error as Error).message).to.contain("re-import your lists");
  });

  it("refuses a member suspended by the regulator, from the next block on", async () => {
    const [a, , c] = members;
    const connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
    try {
      const { registry } = connectContracts(addresses, connectSigner(new Wallet(regulator.privateKey), connection.provider));
      await (await registry.regulatorSuspend(c!.address, BigInt((await connection.provider.getBlock("latest"))!.timestamp) + 86_400n)).wait();
    } finally {
      connection.provider.destroy();
    }
    await syncAll();
    const reply = await rawExchange(c!, a!, await requestFrame(c!, a!, { elements: freshElements(1) }));
    expect(reply.ok).to.equal(false);
    const { body } = await check(a!, [{ type: "phone", value: FRAUD_PHONE }]);
    expect(body.providers.map((p: { name: string }) => p.name).sort()).to.deep.equal(["Bank B", "Outsider"]);
    expect(body.verdict).to.equal("miss");
    expect(nodes.get("Bank C")!.health().status).to.equal("refusing");
  });

  it("lands every query it served on chain exactly once, and the ledger verifies", async () => {
    for (const node of nodes.values()) await node.settleLookups();
    for (const node of nodes.values()) await node.flushLedger();
    const connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
    try {
      const contracts = connectContracts(addresses, connection.provider);
      const modules = { provider: connection.provider, registry: contracts.registry, ledger: contracts.ledger, chainId: connection.chainId };
      const ledger = await readLedger(modules);
      // One record per request a provider answered or refused: a replayed request is a second
      // record under the same query id, with outcome DeniedReplay.
      const expected = new Map<string, number>();
      for (const queryId of servedQueryIds) expected.set(queryId, (expected.get(queryId) ?? 0) + 1);
      for (const [queryId, count] of expected) {
        expect(ledger.records.filter((r) => r.queryId === queryId), `query ${queryId}`).to.have.length(count);
      }
      const replayed = [...expected].filter(([, count]) => count === 2).map(([id]) => id);
      expect(replayed).to.have.length(1);
      expect(ledger.records.filter((r) => r.queryId === replayed[0]).map((r) => r.outcomeName)).to.deep.equal(["Answered", "DeniedReplay"]);
      expect(ledger.records.length).to.equal(servedQueryIds.length);
      for (const record of ledger.records) expect(record, record.queryId).to.not.have.property("hitCount");
      expect(await verifyLedger(modules, ledger)).to.deep.equal([]);
    } finally {
      connection.provider.destroy();
    }
  });

  it("stops a member's node when another node lands batches under its key: it keeps its records and refuses lookups until an operator takes over", async () => {
    const [a, b] = members;
    // Another node holding Bank B's key lands a batch (last: after this, the ledger holds a record no one served).
    const connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
    try {
      const { ledger } = connectContracts(addresses, connectSigner(new Wallet(b!.privateKey), connection.provider));
      const { frame } = await requestFrame(a!, b!, { elements: freshElements(1) });
      const request = { querier: a!.address, provider: b!.address, kind: 0, categoryMask: maskOfCategories([FRAUD]), itemCount: 1, itemsCommitment: frame.request.itemsCommitment, nonce: frame.request.nonce, deadline: BigInt(frame.request.deadline) };
      const record = toQueryRecord({ request, signature: frame.signature, outcome: 0, keyEpoch: 1, count: 1, answerDigest: hexlify(randomBytes(32)), receivedAtMs: Date.now() });
      await (await ledger.recordBatch((await ledger.lastSequence(b!.address)) + 1n, [record])).wait();
    } finally {
      connection.provider.destroy();
    }
    const flushed = await nodes.get(b!.name)!.flushLedger().then(() => undefined, (err: unknown) => err);
    expect(flushed).to.have.property("code", "E_LEDGER_OTHER_WRITER");
    const health = nodes.get(b!.name)!.health();
    expect(health.status).to.equal("refusing");
    expect(health.ledger.writer.state).to.equal("other-writer");
    expect(health.reasons.join(" ")).to.contain("riskshare node take-over");
    const refused = await rawExchange(a!, b!, await requestFrame(a!, b!, { elements: freshElements(1) }));
    expect(refused).to.deep.include({ ok: false });
    expect((refused as { error: { code: string } }).error.code).to.equal("E_LEDGER_OTHER_WRITER");

    // The operator stops the other node (here: it sends nothing more), stops this one, takes over and starts it again.
    await stopNode(b!);
    const takeOver = await cli("--data-dir", b!.dataDir, "--json", "node", "take-over");
    expect(takeOver.status, takeOver.stdout + takeOver.stderr).to.equal(0);
    expect(takeOver.json()).to.deep.include({ address: b!.address, landedBatches: 0, requeuedRecords: 0, droppedRecords: 0 });
    await startNode(b!);
    await syncAll();
    const served = await rawExchange(a!, b!, await requestFrame(a!, b!, { elements: freshElements(1) }));
    expect(served.ok, JSON.stringify(served)).to.equal(true);
    expect(await nodes.get(b!.name)!.flushLedger()).to.be.greaterThan(0);
    expect(nodes.get(b!.name)!.health().ledger.writer.state).to.equal("writing");
  });

  /** `count` blinded elements of fresh random inputs (what a querier's padding looks like). */
  function freshElements(count: number): Uint8Array[] {
    return Array.from({ length: count }, () => voprf.blind(getBytes(randomBytes(32))).blindedElement);
  }

  /** Nonces of hand-built requests from members without a running node (an outsider's, refused at the connection). */
  const handCounters = new Map<string, bigint>();

  /** The next nonce of (querier, provider): from the querier's running node, so its own requests and these never collide. */
  async function handNonce(querier: DevMember, provider: DevMember): Promise<bigint> {
    const node = nodes.get(querier.name);
    if (node !== undefined) return node.nextRequestNonce(provider.address);
    const key = `${querier.address}/${provider.address}`;
    handCounters.set(key, (handCounters.get(key) ?? 0n) + 1n);
    return handCounters.get(key)!;
  }

  /** A signed request frame built by hand, as a querier's node would build it (or one bypassing its checks). */
  async function requestFrame(querier: DevMember, provider: DevMember, body: { elements?: Uint8Array[]; prefixes?: TagPrefix[]; categoryIds?: number[] }) {
    const salt = getBytes(randomBytes(32));
    const request: LookupRequest = {
      querier: querier.address, provider: provider.address, kind: body.elements ? 0 : 1, categoryMask: maskOfCategories(body.categoryIds ?? [FRAUD]),
      itemCount: (body.elements ?? body.prefixes!).length, itemsCommitment: body.elements ? evaluateCommitment(body.elements) : fetchCommitment(body.prefixes!, salt),
      nonce: nonceToBytes32(await handNonce(querier, provider)), deadline: BigInt(Math.floor(Date.now() / 1000) + 50),
    };
    const signature = digestSignerFromEvmKey(querier.privateKey).signDigest(lookupRequestDigestBytes(chainId, addresses.ledger, request));
    return {
      queryId: lookupRequestDigest(chainId, addresses.ledger, request),
      frame: {
        request: toWireRequest(request), signature,
        ...(body.elements ? { elements: body.elements.map((e) => hexlify(e)) } : {}),
        ...(body.prefixes ? { prefixes: body.prefixes.map(toWirePrefix), salt: hexlify(salt) } : {}),
      },
    };
  }

  /** The query id of a raw exchange's request (set by {@link rawExchange} on its reply). */
  function queryIdOf(reply: RawReply): string {
    return (reply as RawReply & { sentQueryId: string }).sentQueryId;
  }

  /** Sends one request frame from a bare host with the querier's key (whose own view admits everyone) and reads the reply frame. */
  async function rawExchange(querier: DevMember, provider: DevMember, built: { queryId: string; frame: object }): Promise<RawReply> {
    const host = await createHost({ privateKey: querier.privateKey, listen: ["/ip4/127.0.0.1/tcp/0"] }, { logger: silentLogger(), membership: { isActivePeer: () => true } });
    await host.start();
    try {
      const signal = AbortSignal.timeout(10_000);
      let reply: RawReply;
      try {
        const connection = await host.libp2p.dial(multiaddr(provider.multiaddr), { signal });
        const stream = await connection.newStream(LOOKUP_PROTOCOL, { signal });
        const frames = frameStream(stream, MAX_FRAME_BYTES);
        await frames.write(new TextEncoder().encode(JSON.stringify(built.frame)), { signal });
        reply = JSON.parse(new TextDecoder().decode((await frames.read({ signal })).subarray())) as RawReply;
        await stream.close().catch(() => undefined);
      } catch (err) {
        reply = { ok: false, error: { code: `closed: ${(err as Error).message}` } };
      }
      return Object.assign(reply, { sentQueryId: built.queryId });
    } finally {
      await host.stop();
    }
  }

  /** The key files of a member's data dir and their contents. */
  async function keyFiles(member: DevMember): Promise<Record<string, string>> {
    const dir = join(member.dataDir, "keys");
    const files: Record<string, string> = {};
    for (const name of (await readdir(dir)).sort()) files[name] = await readFile(join(dir, name), "utf8");
    return files;
  }
});
