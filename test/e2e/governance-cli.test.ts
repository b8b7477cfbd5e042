/**
 * Governance from the CLI, as a compliance officer runs it: every proposal kind the registry has is
 * proposed, listed and shown with its decoded payload (text and --json), voted by enough members,
 * executed, enacted after the timelock for the kinds it holds, and its effect read back from the
 * chain (a Hardhat node over JSON-RPC). Bad input is refused with a stable code before any
 * transaction is sent.
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startChain, type LocalChain } from "../../scripts/devnet/chain.ts";
import { createMember, createMembers, deployFor, devAccount, writeContracts, type DevMember } from "../../scripts/devnet/consortium.ts";
import { connectChain, connectContracts, MemberStatus, type ChainConnection, type ConsortiumContracts, type ContractAddresses } from "../../node/chain/index.ts";
import { shippedWarninglists } from "../../node/identity/index.ts";
import { cli } from "./support/cli.ts";

/** Every ProposalKind of RiskshareTypes.sol, by the name `proposal list` prints. */
const ALL_KINDS = ["Admit", "Suspend", "Reinstate", "Remove", "AddRegulator", "RemoveRegulator", "SetPolicy", "AddCategory", "RetireCategory", "SetKeyEpochLength", "SetQuorum", "Unpause", "SetWarninglistHash"];

/** The kinds an execution only queues: they take effect when enacted, after the timelock. */
const TIMELOCKED = new Set(["Remove", "AddRegulator", "RemoveRegulator", "SetPolicy", "RetireCategory", "SetQuorum"]);

/** The registry's timelock in this test: an hour, which the test skips on the chain's clock. */
const TIMELOCK_DELAY_SECONDS = 3_600;

describe("governance from the CLI: every proposal kind, proposed, listed, voted, executed, enacted", function () {
  this.timeout(300_000);
  let baseDir: string;
  let chain: LocalChain;
  let connection: ChainConnection;
  let registry: ConsortiumContracts["registry"];
  let a: DevMember;
  let b: DevMember;
  let c: DevMember;
  let d: DevMember;
  let g: DevMember;
  let regulator: DevMember;
  let addresses: ContractAddresses;
  const newRegulator = devAccount(10).address;

  before(async () => {
    baseDir = await mkdtemp(join(tmpdir(), "riskshare-gov-"));
    chain = await startChain({ kind: "hardhat" });
    [a, b, c] = await createMembers({ baseDir, rpcUrl: chain.rpcUrl, names: ["Bank A", "Bank B", "Bank C"] }) as [DevMember, DevMember, DevMember];
    d = await createMember({ dataDir: join(baseDir, "bank-d"), name: "Bank D", rpcUrl: chain.rpcUrl, accountIndex: 4 });
    g = await createMember({ dataDir: join(baseDir, "bank-g"), name: "Bank G", rpcUrl: chain.rpcUrl, accountIndex: 7 });
    regulator = await createMember({ dataDir: join(baseDir, "regulator"), name: "Regulator", rpcUrl: chain.rpcUrl, accountIndex: 9 });
    const deployed = await deployFor([a, b, c], { rpcUrl: chain.rpcUrl, regulators: [regulator.address], timelockDelaySeconds: BigInt(TIMELOCK_DELAY_SECONDS) });
    addresses = deployed.addresses;
    for (const other of [d, g, regulator]) await writeContracts(other.dataDir, deployed.addresses);
    connection = await connectChain({ rpcUrl: chain.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
    registry = connectContracts(deployed.addresses, connection.provider).registry;
  });

  after(async () => {
    connection?.provider.destroy();
    await chain?.stop();
    await rm(baseDir, { recursive: true, force: true });
  });

  /** Runs `riskshare --json …` as `who`, expecting success, and returns its document. */
  async function json(who: DevMember, ...args: string[]): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const run = await cli("--data-dir", who.dataDir, "--json", ...args);
    expect(run.status, `${who.name}: riskshare ${args.join(" ")}\n${run.stdout}${run.stderr}`).to.equal(0);
    return run.json();
  }

  /** Moves the chain's clock `seconds` ahead and mines a block there. */
  async function advance(seconds: number): Promise<void> {
    await connection.provider.send("evm_increaseTime", [seconds]);
    await connection.provider.send("evm_mine", []);
  }

  /** Moves the chain's clock `seconds` ahead (the Hardhat node's evm_increaseTime) and mines a block. */
  async function increaseTime(seconds: bigint): Promise<void> {
    await connection.provider.send("evm_increaseTime", [Number(seconds)]);
    await connection.provider.send("evm_mine", []);
  }

  /** `member request` in `candidate`'s data dir, written to a file; returns the file and its request. */
  async function requestOf(candidate: DevMember): Promise<{ file: string; request: Record<string, string> }> {
    const file = join(baseDir, `${candidate.name.replace(/\W+/g, "-")}-request.json`);
    const written = await json(candidate, "member", "request", "--name", candidate.name, "--out", file);
    expect(written, candidate.name).to.include({ account: candidate.address, peerId: candidate.peerIdHex, oprfKey: candidate.oprfKey, registry: addresses.registry, file });
    return { file, request: JSON.parse(await readFile(file, "utf8")) as Record<string, string> };
  }

  /**
   * Proposes with `proposer`, checks `proposal list` and `proposal show` (text and --json) decode it
   * as `kind` with `details`, votes with each of `voters`, executes and, for a time-locked kind,
   * checks it is queued with its eta, that `enact` is refused before the eta without sending
   * anything, then enacts it after; returns the final view.
   */
  async function walk(kind: string, proposeArgs: string[], details: Record<string, unknown>, text: RegExp, proposer: DevMember, voters: DevMember[]): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const created = await json(proposer, ...proposeArgs);
    expect(created, kind).to.include({ kind });
    expect(created.args, `${kind}: the decoded arguments the proposer is told`).to.deep.equal(details);
    const id = String(created.proposalId);

    const open = await json(proposer, "proposal", "list");
    const listed = open.proposals.find((p: { id: string }) => p.id === id);
    expect(listed, `${kind}: proposal ${id} is listed as open`).to.not.equal(undefined);
    expect(listed, kind).to.include({ kind, state: "open", votes: 1, proposer: proposer.address });
    expect(listed.args, `${kind}: list --json decodes the payload`).to.deep.equal(details);
    const listText = await cli("--data-dir", proposer.dataDir, "proposal", "list");
    expect(listText.stdout, `${kind}: the list's WHAT column`).to.match(text);

    for (const voter of voters) await json(voter, "proposal", "vote", id);
    const passable = await json(proposer, "proposal", "show", id);
    expect(passable.state, `${kind}: enough votes`).to.equal("passable");
    const executed = await json(voters.at(-1)!, "proposal", "execute", id);
    expect(executed, kind).to.include({ executed: true, kind });
    if (TIMELOCKED.has(kind)) await enactAfterTimelock(kind, id, proposer, executed);
    const final = TIMELOCKED.has(kind) ? "enacted" : "executed";
    const shown = await json(proposer, "proposal", "show", id);
    expect(shown, kind).to.include({ kind, state: final, timelocked: TIMELOCKED.has(kind) });
    expect(shown.args, `${kind}: show --json decodes the payload`).to.deep.equal(details);
    expect(shown.voters, kind).to.have.members([proposer.address, ...voters.map((v) => v.address)]);
    const showText = await cli("--data-dir", proposer.dataDir, "proposal", "show", id);
    expect(showText.stdout, `${kind}: show as text`).to.match(text);
    expect(showText.stdout, kind).to.contain(final);
    return shown;
  }

  /** A time-locked proposal just executed: queued with its eta (list and show), enact refused before it, enacted after. */
  async function enactAfterTimelock(kind: string, id: string, proposer: DevMember, executed: { state: string; eta: number }): Promise<void> {
    const block = await connection.provider.getBlock("latest");
    expect(executed, `${kind}: executing queues it`).to.include({ state: "queued", eta: block!.timestamp + TIMELOCK_DELAY_SECONDS });
    const queued = await json(proposer, "proposal", "show", id);
    expect(queued, kind).to.include({ state: "queued", eta: executed.eta, lapsesAt: executed.eta + 7 * 86_400 });
    const listed = (await json(proposer, "proposal", "list")).proposals.find((p: { id: string }) => p.id === id);
    expect(listed, `${kind}: a queued proposal is listed as pending`).to.include({ state: "queued", eta: executed.eta });
    const listText = await cli("--data-dir", proposer.dataDir, "proposal", "list");
    const etaText = new Date(executed.eta * 1000).toISOString();
    expect(listText.stdout, `${kind}: the list's ETA column`).to.contain(etaText);
    const showText = await cli("--data-dir", proposer.dataDir, "proposal", "show", id);
    expect(showText.stdout, `${kind}: show says when to enact`).to.match(new RegExp(`eta +${etaText.replace(/\./g, "\\.")} \\(enact from then: riskshare proposal enact ${id}\\)`));

    const nonce = await connection.provider.getTransactionCount(proposer.address);
    const early = await cli("--data-dir", proposer.dataDir, "proposal", "enact", id);
    expect(early.status, `${kind}: ${early.stderr}`).to.equal(1);
    expect(early.stderr).to.match(new RegExp(`^error E_TIMELOCKED: enact proposal ${id}: the proposal passed and is queued, but its timelock is not over; enact it from its eta`));
    expect(early.stderr).to.contain(`; its eta is ${new Date(executed.eta * 1000).toISOString()}, in ${executed.eta - (await connection.provider.getBlock("latest"))!.timestamp} s (ConsortiumRegistryProposalTimelocked: ${id}, ${executed.eta})`);
    const earlyJson = await cli("--data-dir", proposer.dataDir, "--json", "proposal", "enact", id);
    expect(earlyJson.json().error).to.include({ code: "E_TIMELOCKED" });
    expect(await connection.provider.getTransactionCount(proposer.address), `${kind}: nothing sent before the eta`).to.equal(nonce);

    await advance(TIMELOCK_DELAY_SECONDS);
    expect((await json(proposer, "proposal", "show", id)).state, kind).to.equal("enactable");
    // Anyone may enact; the member group has the same command.
    const enacted = await json(d, kind === "Remove" ? "member" : "proposal", "enact", id);
    expect(enacted, kind).to.include({ kind, state: "enacted" });
    const again = await cli("--data-dir", proposer.dataDir, "proposal", "enact", id);
    expect(again.stderr, `${kind}: enacted once only`).to.match(/^error E_CHAIN_REVERTED: enact proposal \d+: the proposal is not waiting to be enacted/);
  }

  it("adds a category, sets its policy by name, retires it: the registry holds it, with that policy, then inactive", async () => {
    const before = Number(await registry.categoryCount());
    const categoryId = before + 1;
    await walk("AddCategory", ["proposal", "category", "add", "account_takeover"], { category: "account_takeover" }, /add category account_takeover/, a, [b]);
    expect(Number(await registry.categoryCount())).to.equal(categoryId);
    expect((await registry.category(categoryId)).name).to.equal("account_takeover");
    expect(await registry.isActiveCategory(categoryId)).to.equal(true);

    await walk(
      "SetPolicy",
      ["proposal", "policy", "set", "--category", "account_takeover", "--min-entries", "50", "--max-snapshot-age", "3d", "--quota-base", "2000", "--quota-ratio-bps", "5000", "--quota-ceiling", "200000"],
      { category: "account_takeover", categoryId, minEntries: "50", maxSnapshotAge: "3d", maxSnapshotAgeSeconds: "259200", quotaBase: "2000", quotaRatioBps: "5000", quotaCeiling: "200000" },
      /set the policy of account_takeover: at least 50 live entries, snapshot at most 3d old, quota 2000 \+ 0\.5 per contributed entry a day, at most 200000/, b, [c],
    );
    const policy = await registry.policy(categoryId);
    expect([policy.minEntries, policy.maxSnapshotAge, policy.quotaBase, policy.quotaRatioBps, policy.quotaCeiling]).to.deep.equal([50n, 259_200n, 2_000n, 5_000n, 200_000n]);

    // Fields not given keep their value on chain.
    await walk("SetPolicy", ["proposal", "policy", "set", "--category", "account_takeover", "--quota-base", "1500"],
      { category: "account_takeover", categoryId, minEntries: "50", maxSnapshotAge: "3d", maxSnapshotAgeSeconds: "259200", quotaBase: "1500", quotaRatioBps: "5000", quotaCeiling: "200000" },
      /quota 1500 \+ 0\.5/, a, [c]);
    expect((await registry.policy(categoryId)).quotaBase).to.equal(1_500n);

    await walk("RetireCategory", ["proposal", "category", "retire", "account_takeover"], { category: "account_takeover", categoryId }, /retire category account_takeover/, c, [a]);
    expect(await registry.isActiveCategory(categoryId)).to.equal(false);
  });

  it("adds a regulator and removes it again, the address checksummed whatever case it was typed in", async () => {
    await walk("AddRegulator", ["proposal", "regulator", "add", newRegulator.toLowerCase()], { account: newRegulator }, new RegExp(`add regulator ${newRegulator}`), a, [b]);
    expect(await registry.isRegulator(newRegulator)).to.equal(true);
    await walk("RemoveRegulator", ["proposal", "regulator", "remove", newRegulator], { account: newRegulator }, new RegExp(`remove regulator ${newRegulator}`), b, [a]);
    expect(await registry.isRegulator(newRegulator)).to.equal(false);
  });

  it("sets the OPRF key epoch length from a duration", async () => {
    await walk("SetKeyEpochLength", ["proposal", "key-epoch", "set", "30d"], { keyEpochLength: "30d", keyEpochLengthSeconds: "2592000" }, /set the key epoch length to 30d/, a, [b]);
    expect(await registry.keyEpochLength()).to.equal(2_592_000n);
  });

  it("pins the warninglists: the deployment seeded this build's hash, a vote pins another (applied at execute, no timelock)", async () => {
    expect(await registry.warninglistHash(), "seeded at deployment").to.equal(shippedWarninglists().hash);
    const next = `0x${"5e".repeat(32)}`;
    await walk("SetWarninglistHash", ["proposal", "warninglists", "set", next.toUpperCase().replace("0X", "0x")], { warninglistHash: next }, new RegExp(`pin the warninglists members should ship to hash ${next}`), b, [c]);
    expect(await registry.warninglistHash()).to.equal(next);
  });

  it("suspends and reinstates a member, admits a fourth and removes it, voting and executing through `proposal`", async () => {
    await walk("Suspend", ["member", "suspend", c.address], { account: c.address }, new RegExp(`suspend member ${c.address}`), a, [b]);
    expect(Number(await registry.memberStatus(c.address))).to.equal(3);
    await walk("Reinstate", ["member", "reinstate", c.address], { account: c.address }, new RegExp(`reinstate member ${c.address}`), b, [a]);
    expect(Number(await registry.memberStatus(c.address))).to.equal(2);

    // The candidate signs its own request with its member key; a member proposes it.
    const { file, request } = await requestOf(d);
    await walk(
      "Admit", ["member", "admit", "--request", file],
      { account: d.address, name: "Bank D", peerId: d.peerId, oprfKey: d.oprfKey, publicKey: request.publicKey, signature: request.signature }, /admit Bank D/, a, [c],
    );
    expect(Number(await registry.memberStatus(d.address)), "admitted, not yet in force").to.equal(MemberStatus.Admitted);
    const listed = await json(a, "member", "list");
    expect(listed.members.find((m: { address: string }) => m.address === d.address).status).to.equal("Admitted");
    const pending = await json(a, "member", "show", d.address);
    expect(pending).to.include({ status: "Admitted", activeFrom: Number(await registry.admissionActiveFrom(d.address)) });
    const early = await cli("--data-dir", d.dataDir, "member", "activate", d.address);
    expect(early.status, early.stderr).to.equal(1);
    expect(early.stderr).to.match(/^error E_CHAIN_REVERTED: activate .*the admission delay is not over yet.*AdmissionPending.*; it comes into force at \d{4}-/);
    await increaseTime(await registry.admissionDelay());
    const activated = await json(d, "member", "activate", d.address);
    expect(activated).to.include({ account: d.address, activated: true });
    expect(await registry.isActiveMember(d.address)).to.equal(true);
    // Four Active members: a 2/3 quorum now takes three votes.
    await walk("Remove", ["member", "remove", d.address], { account: d.address }, new RegExp(`remove member ${d.address}`), a, [b, c]);
    expect(Number(await registry.memberStatus(d.address))).to.equal(4);
  });

  it("lets a regulator veto an admission before it comes into force, and refuses a request file that is wrong, naming the field", async () => {
    const { file, request } = await requestOf(g);
    const created = await json(a, "member", "admit", "--request", file);
    for (const voter of [b, c]) await json(voter, "proposal", "vote", String(created.proposalId));
    await json(d, "proposal", "execute", String(created.proposalId));
    expect(Number(await registry.memberStatus(g.address))).to.equal(MemberStatus.Admitted);

    const byMember = await cli("--data-dir", a.dataDir, "member", "veto", g.address, "--reason", "AML-114");
    expect(byMember.status, byMember.stderr).to.equal(1);
    expect(byMember.stderr).to.match(/^error E_NOT_AUTHORIZED: .*NotRegulator/);
    const tooLong = await cli("--data-dir", regulator.dataDir, "member", "veto", g.address, "--reason", "x".repeat(32));
    expect(tooLong.status, tooLong.stderr).to.equal(2);
    const vetoed = await json(regulator, "member", "veto", g.address, "--reason", "AML-114");
    expect(vetoed).to.include({ account: g.address, vetoed: true, reason: "AML-114" });
    expect(Number(await registry.memberStatus(g.address)), "back to None: it may be proposed again").to.equal(MemberStatus.None);
    const late = await cli("--data-dir", g.dataDir, "member", "activate", g.address);
    expect(late.status).to.equal(1);
    expect(late.stderr).to.match(/^error E_CHAIN_REVERTED: .*status is None, not Admitted/);

    const nonceBefore = await connection.provider.getTransactionCount(a.address);
    // [what is spoiled, the request, the field the error names, its message]
    const spoiled: Array<[string, Record<string, string>, string, RegExp]> = [
      ["name", { ...request, name: "Bank G2" }, "signature", /signature was not made by the account's key/],
      ["registry", { ...request, registry: d.address }, "registry", /registry was made for registry/],
      ["chainId", { ...request, chainId: "1" }, "chainId", /chainId was made for chain 1/],
      ["peerId", { ...request, peerId: d.peerIdHex }, "peerId", /peerId is not the PeerId of the public key/],
      ["publicKey", { ...request, publicKey: `0x${"11".repeat(64)}` }, "publicKey", /publicKey is not a point on secp256k1/],
      ["signature", { ...request, signature: "0x1234" }, "signature", /signature must be the 65-byte signature/],
      ["account", { ...request, account: "0x1234" }, "account", /account must be a 0x-prefixed 20-byte address/],
    ];
    for (const [what, body, field, message] of spoiled) {
      const bad = join(baseDir, `bad-${what}.json`);
      await writeFile(bad, JSON.stringify(body));
      const run = await cli("--data-dir", a.dataDir, "--json", "member", "admit", "--request", bad);
      expect(run.status, `${what}: ${run.stdout}${run.stderr}`).to.equal(2);
      const error = run.json().error;
      expect(error.code, what).to.equal("E_ADMISSION_REQUEST");
      expect(error.meta.field, what).to.equal(field);
      expect(error.message, what).to.match(message);
    }
    expect(await connection.provider.getTransactionCount(a.address), "no transaction was sent").to.equal(nonceBefore);
  });

  it("sets the quorum from a fraction", async () => {
    await walk("SetQuorum", ["proposal", "quorum", "set", "3/4"], { quorum: "3/4", numerator: 3, denominator: 4 }, /set the quorum fraction to 3\/4 of the voting members/, c, [b]);
    const [numerator, denominator] = await registry.quorumFraction();
    expect([Number(numerator), Number(denominator)]).to.deep.equal([3, 4]);
  });

  it("pauses every lookup from a regulator's CLI, refusing what the registry would refuse, and lifts it by a members' Unpause vote", async () => {
    const regulator = await createMember({ dataDir: join(baseDir, "regulator-pause"), name: "Regulator", rpcUrl: chain.rpcUrl, accountIndex: 9 });
    await writeContracts(regulator.dataDir, addresses);
    const nonceBefore = await connection.provider.getTransactionCount(a.address);
    const notRegulator = await cli("--data-dir", a.dataDir, "regulator", "pause", "--for", "24h");
    expect(notRegulator.status, notRegulator.stderr).to.equal(1);
    expect(notRegulator.stderr).to.match(/^error E_NOT_AUTHORIZED: pause every lookup of the consortium: the account is not a regulator; run this with a regulator's data directory/);
    const tooLong = await cli("--data-dir", regulator.dataDir, "regulator", "pause", "--for", "73h");
    expect(tooLong.status, tooLong.stderr).to.equal(1);
    expect(tooLong.stderr).to.match(/a regulator's pause must end after now and no later than the latest end named in the message .*ConsortiumRegistryInvalidPauseEnd/);
    const noUnpause = await cli("--data-dir", a.dataDir, "proposal", "unpause");
    expect(noUnpause.status, noUnpause.stderr).to.equal(1);
    expect(noUnpause.stderr).to.match(/lookups are not paused .*ConsortiumRegistryNotPaused/);
    expect(await connection.provider.getTransactionCount(a.address), "nothing sent").to.equal(nonceBefore);

    const paused = await json(regulator, "regulator", "pause", "--for", "24h");
    expect(paused).to.include({ paused: true, by: regulator.address });
    expect(Number(await registry.pausedUntil())).to.equal(paused.until);
    const again = await cli("--data-dir", regulator.dataDir, "regulator", "pause", "--for", "1h");
    expect(again.status, again.stderr).to.equal(1);
    expect(again.stderr).to.match(/the consortium was paused recently.*ConsortiumRegistryPauseCooldown/);
    const byRegulator = await cli("--data-dir", regulator.dataDir, "proposal", "unpause");
    expect(byRegulator.status, byRegulator.stderr).to.equal(1);
    expect(byRegulator.stderr).to.match(/^error E_NOT_AUTHORIZED: .*a regulator may open only Suspend and Remove proposals/);

    await walk("Unpause", ["proposal", "unpause"], {}, /lift the regulator's pause of lookups/, a, [b, c]);
    expect(await registry.pausedUntil(), "lifted").to.equal(0n);
  });

  it("lists every kind with --all, each decoded", async () => {
    const all = await json(a, "proposal", "list", "--all");
    expect(new Set(all.proposals.map((p: { kind: string }) => p.kind))).to.deep.equal(new Set(ALL_KINDS));
    for (const p of all.proposals) {
      expect(p.state, `proposal ${p.id} ${p.kind}`).to.equal(TIMELOCKED.has(p.kind) ? "enacted" : "executed");
      expect(p.summary, `proposal ${p.id} ${p.kind}`).to.be.a("string").and.not.match(/not decodable/);
      // Unpause alone carries no argument.
      if (p.kind !== "Unpause") expect(Object.keys(p.args).length, `proposal ${p.id} ${p.kind}`).to.be.greaterThan(0);
    }
  });

  it("refuses bad input with a stable code naming what and where, before any transaction", async () => {
    const countBefore = await registry.proposalCount();
    const nonceBefore = await connection.provider.getTransactionCount(a.address);
    const cases: Array<[string[], number, string, RegExp]> = [
      [["proposal", "category", "retire", "no_such_category"], 1, "E_CATEGORY_UNKNOWN", /name: no category "no_such_category" in the registry; active: fraud_confirmed/],
      [["proposal", "category", "retire", "account_takeover"], 1, "E_CATEGORY_UNKNOWN", /name: the retired category "account_takeover"/],
      [["proposal", "category", "add", "fraud_confirmed"], 2, "E_BAD_INPUT", /name: a category named "fraud_confirmed" already exists/],
      [["proposal", "category", "add", "x".repeat(129)], 2, "E_BAD_INPUT", /name: a category name is 1 to 128 bytes/],
      [["proposal", "policy", "set", "--category", "nope", "--min-entries", "5"], 1, "E_CATEGORY_UNKNOWN", /--category: no category "nope"/],
      [["proposal", "policy", "set", "--category", "fraud_confirmed"], 2, "E_USAGE", /give at least one of --min-entries/],
      [["proposal", "policy", "set", "--category", "fraud_confirmed", "--min-entries", "1.5"], 2, "E_USAGE", /--min-entries must be a whole number/],
      [["proposal", "policy", "set", "--category", "fraud_confirmed", "--max-snapshot-age", "a week"], 2, "E_USAGE", /--max-snapshot-age must be a duration such as 90d/],
      [["proposal", "policy", "set", "--category", "fraud_confirmed", "--max-snapshot-age", "0s"], 2, "E_BAD_INPUT", /maxSnapshotAge: must be longer than zero/],
      [["proposal", "policy", "set", "--category", "fraud_confirmed", "--quota-base", "0", "--quota-ratio-bps", "0"], 2, "E_BAD_INPUT", /quotaBase: quota base and quota ratio are both zero/],
      [["proposal", "policy", "set", "--category", "fraud_confirmed", "--quota-base", "5000", "--quota-ceiling", "4999"], 2, "E_BAD_INPUT", /quotaCeiling: 4999 is below the quota base 5000/],
      [["proposal", "quorum", "set", "4/3"], 2, "E_USAGE", /fraction must be a fraction above 0 and at most 1/],
      [["proposal", "quorum", "set", "0/3"], 2, "E_USAGE", /fraction must be a fraction above 0 and at most 1/],
      [["proposal", "quorum", "set", "two-thirds"], 2, "E_USAGE", /fraction must be a fraction/],
      [["proposal", "key-epoch", "set", "90 days"], 2, "E_USAGE", /duration must be a duration such as 90d/],
      [["proposal", "key-epoch", "set", "30m"], 2, "E_BAD_INPUT", /keyEpochLength: 30m is outside the registry's bounds of 1h to 730d/],
      [["proposal", "key-epoch", "set", "731d"], 2, "E_BAD_INPUT", /keyEpochLength: 731d is outside/],
      [["proposal", "warninglists", "set", `0x${"00".repeat(32)}`], 2, "E_BAD_INPUT", /hash: the zero hash pins no warninglists/],
      [["proposal", "warninglists", "set", "0x1234"], 2, "E_BAD_INPUT", /hash: a warninglist hash is 0x followed by 64 hex digits/],
      [["proposal", "regulator", "add", "0x1234"], 2, "E_USAGE", /--address: must be a 0x-prefixed 20-byte address/],
      [["proposal", "regulator", "add", devAccount(9).address], 2, "E_BAD_INPUT", /address: .* is already a regulator/],
      [["proposal", "regulator", "remove", newRegulator], 2, "E_BAD_INPUT", /address: .* is not a regulator/],
    ];
    for (const [args, status, code, message] of cases) {
      const run = await cli("--data-dir", a.dataDir, ...args);
      expect(run.status, `${args.join(" ")}: ${run.stderr}`).to.equal(status);
      expect(run.stderr, args.join(" ")).to.match(new RegExp(`^error ${code}: `));
      expect(run.stderr, args.join(" ")).to.match(message);
      expect(run.stderr.trim().split("\n"), `${args.join(" ")}: one line`).to.have.length(1);
      const asJson = await cli("--data-dir", a.dataDir, "--json", ...args);
      expect(asJson.status, args.join(" ")).to.equal(status);
      const error = asJson.json().error;
      expect(error.code, args.join(" ")).to.equal(code);
      expect(error.hint, args.join(" ")).to.be.a("string").and.not.equal("");
    }
    expect(await registry.proposalCount(), "no proposal was made").to.equal(countBefore);
    expect(await connection.provider.getTransactionCount(a.address), "no transaction was sent").to.equal(nonceBefore);
  });

  it("maps the registry's refusals of votes and executions to codes with a sentence that says what to do", async () => {
    const created = await json(a, "proposal", "key-epoch", "set", "60d");
    const id = String(created.proposalId);
    // Three Active members at 3/4: three votes needed, one counted.
    const early = await cli("--data-dir", b.dataDir, "proposal", "execute", id);
    expect(early.status).to.equal(1);
    expect(early.stderr).to.match(/^error E_CHAIN_REVERTED: execute proposal \d+: the proposal does not have enough counted votes yet \(votes of members since suspended by vote or removed no longer count\); other entitled members vote with `riskshare proposal vote ID` first \(ConsortiumRegistryQuorumNotReached/);
    const again = await cli("--data-dir", a.dataDir, "--json", "proposal", "vote", id);
    expect(again.status).to.equal(1);
    expect(again.json().error).to.include({ code: "E_CHAIN_REVERTED" });
    expect(again.json().error.message).to.contain("this account already voted on the proposal; other members' votes are needed now");
    const unknown = await cli("--data-dir", a.dataDir, "proposal", "vote", "999");
    expect(unknown.status).to.equal(1);
    expect(unknown.stderr).to.match(/no proposal has that id; `riskshare proposal list --all` lists them/);
    const outsider = await cli("--data-dir", d.dataDir, "proposal", "vote", id);
    expect(outsider.status).to.equal(1);
    expect(outsider.stderr).to.match(/^error E_NOT_MEMBER: /);
  });

  it("ends a regulator's suspension with `member end-suspension` only once it is over, saying when it ends, and refuses one no regulator holds", async () => {
    const none = await cli("--data-dir", b.dataDir, "member", "end-suspension", c.address);
    expect(none.status, none.stderr).to.equal(1);
    expect(none.stderr).to.match(/^error E_CHAIN_REVERTED: end the suspension of 0x[0-9a-fA-F]{40}: no regulator holds this member suspended, so there is no suspension to end \(ConsortiumRegistryNotRegulatorSuspended/);

    const suspended = await json(regulator, "member", "suspend", c.address, "--days", "1");
    expect(suspended).to.include({ suspended: true, by: "regulator" });
    expect(Number((await registry.member(c.address)).status), "Suspended").to.equal(MemberStatus.Suspended);
    const early = await cli("--data-dir", c.dataDir, "--json", "member", "end-suspension", c.address);
    expect(early.status, early.stderr).to.equal(1);
    const earlyError = (early.json() as { error: { code: string; message: string } }).error;
    expect(earlyError.code).to.equal("E_CHAIN_REVERTED");
    expect(earlyError.message).to.contain(`the regulator's suspension is not over yet`);
    expect(earlyError.message).to.contain(`it ends at ${new Date(suspended.until * 1000).toISOString()}`);
    expect(Number((await registry.member(c.address)).status), "nothing sent: still Suspended").to.equal(MemberStatus.Suspended);

    await connection.provider.send("evm_increaseTime", [86_400]);
    await connection.provider.send("evm_mine", []);
    const ended = await json(c, "member", "end-suspension", c.address);
    expect(ended).to.include({ account: c.address, reinstated: true, suspendedUntil: suspended.until });
    expect(ended.txHash).to.match(/^0x[0-9a-f]{64}$/);
    expect(Number((await registry.member(c.address)).status), "Active again").to.equal(MemberStatus.Active);
    const text = await cli("--data-dir", c.dataDir, "member", "end-suspension", c.address);
    expect(text.status, "a second time: nothing to end").to.equal(1);
    expect(text.stderr).to.match(/ConsortiumRegistryNotRegulatorSuspended/);
  });
  it("shows the bootstrap admin a staged deployment kept, refuses anyone else's renouncing, and renounces it for good", async () => {
    const e = await createMember({ dataDir: join(baseDir, "bank-e"), name: "Bank E", rpcUrl: chain.rpcUrl, accountIndex: 5 });
    const f = await createMember({ dataDir: join(baseDir, "bank-f"), name: "Bank F", rpcUrl: chain.rpcUrl, accountIndex: 6 });
    const kept = await deployFor([e, f], { rpcUrl: chain.rpcUrl, deployerIndex: 5, keepAdmin: true });
    expect(await json(e, "admin", "show")).to.deep.include({ admin: e.address, renounced: false, pendingAdmin: null, seedingOpen: true });
    expect((await cli("--data-dir", e.dataDir, "admin", "show")).stdout).to.contain(`the bootstrap admin is ${e.address}`).and.to.contain("riskshare admin renounce");

    const other = await cli("--data-dir", f.dataDir, "admin", "renounce");
    expect(other.status, other.stdout + other.stderr).to.equal(1);
    expect(other.stderr).to.match(new RegExp(`^error E_NOT_AUTHORIZED: renounce the bootstrap admin: only the bootstrap admin may do this, and this account is not it; the admin is ${e.address}; run this with its data directory`));
    expect(await connectContracts(kept.addresses, connection.provider).registry.admin(), "nothing sent").to.equal(e.address);

    // A hand-over takes two steps: e nominates f, and only f accepts.
    expect(await json(e, "admin", "transfer", f.address)).to.include({ admin: e.address, pendingAdmin: f.address });
    expect(await json(f, "admin", "show")).to.deep.include({ admin: e.address, pendingAdmin: f.address });
    expect((await cli("--data-dir", f.dataDir, "admin", "show")).stdout).to.contain(`${f.address} is nominated to take the role over: it runs \`riskshare admin accept\``);
    const nonce = await connection.provider.getTransactionCount(e.address);
    const notNominee = await cli("--data-dir", e.dataDir, "admin", "accept");
    expect(notNominee.status, notNominee.stderr).to.equal(1);
    expect(notNominee.stderr).to.match(new RegExp(`^error E_NOT_AUTHORIZED: accept the bootstrap admin: only the account the admin nominated may accept the admin role, and this account is not it .*; the nominee is ${f.address} \\(ConsortiumRegistryNotPendingAdmin: ${e.address}\\)`));
    expect(await connection.provider.getTransactionCount(e.address), "nothing sent").to.equal(nonce);
    const nomineeTransfers = await cli("--data-dir", f.dataDir, "admin", "transfer", f.address);
    expect(nomineeTransfers.stderr).to.match(/^error E_NOT_AUTHORIZED: nominate .* for the bootstrap admin: only the bootstrap admin may do this/);
    expect(await json(f, "admin", "accept")).to.include({ previousAdmin: e.address, admin: f.address });
    expect(await json(f, "admin", "show")).to.deep.include({ admin: f.address, pendingAdmin: null });
    // And back, so that e renounces below.
    await json(f, "admin", "transfer", e.address);
    await json(e, "admin", "accept");

    const renounced = await json(e, "admin", "renounce");
    expect(renounced).to.deep.include({ previousAdmin: e.address, renounced: true });
    expect(await json(e, "admin", "show")).to.deep.include({ admin: null, renounced: true, pendingAdmin: null, seedingOpen: false });
    const again = await cli("--data-dir", e.dataDir, "admin", "renounce");
    expect(again.status).to.equal(1);
    expect(again.stderr).to.match(/^error E_NOT_AUTHORIZED: renounce the bootstrap admin: the bootstrap admin has renounced/);
  });

  it("marks a long-silent member dormant (refusing too early and below the floor), and `member list` says so", async () => {
    const early = await cli("--data-dir", a.dataDir, "member", "mark-dormant", c.address);
    expect(early.status, early.stderr).to.equal(1);
    expect(early.stderr).to.match(/acted on chain within the dormancy period; it may be marked dormant only from the time in the message \(ConsortiumRegistryNotDormant/);
    await connection.provider.send("evm_increaseTime", [180 * 86_400]);
    await connection.provider.send("evm_mine", []);
    expect(await json(a, "member", "mark-dormant", c.address)).to.include({ account: c.address, dormant: true });
    const listed = await json(a, "member", "list");
    expect(listed.members.find((m: { address: string }) => m.address === c.address)).to.include({ status: "Active", dormant: true });
    expect((await cli("--data-dir", a.dataDir, "member", "list")).stdout).to.match(new RegExp(`${c.address}.*Active \\(dormant\\)`));
    const floor = await cli("--data-dir", a.dataDir, "member", "mark-dormant", b.address);
    expect(floor.status, floor.stderr).to.equal(1);
    expect(floor.stderr).to.match(/ConsortiumRegistryVotingFloor/);
  });
});
