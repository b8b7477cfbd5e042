import { readFile, writeFile } from "node:fs/promises";
import { Command } from "commander";
import { encodeBytes32String, getBytes, hexlify } from "ethers";
import { z } from "zod";
import {
  admitArgs, createAdmissionRequest, MAX_MEMBER_NAME_BYTES, MemberStatus, memberStatusName, parseAdmissionRequest, ProposalKind, revertError, translateChainError,
  type ConsortiumView, type MemberInfo,
} from "../../node/chain/index.ts";
import { KeyStore } from "../../node/config/index.ts";
import { createVoprf } from "../../node/identity/index.ts";
import { isRiskshareError, RiskshareError } from "../../node/errors.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { addressArg, isoOf } from "../parse.ts";
import { table, type CliIo } from "../output.ts";
import { chainFlagsSchema, loadView, send, withChainFlags, withSession } from "../chain.ts";
import { ballotCommands, lookupOf, nextBlockTime, printCreated, propose } from "../governance.ts";
import { peerIdText } from "../../node/p2p/index.ts";

/** The key epoch of a new member's first OPRF key (ConsortiumRegistry: 1 at a first admission). */
const INITIAL_KEY_EPOCH = 1;

/** A veto reason is stored as a bytes32 short string: at most 31 bytes of UTF-8. */
const MAX_VETO_REASON_BYTES = 31;

const memberNameArg = z.string().trim().min(1, "must not be empty")
  .refine((name) => Buffer.byteLength(name, "utf8") <= MAX_MEMBER_NAME_BYTES, `must be at most ${MAX_MEMBER_NAME_BYTES} bytes`);

const vetoReasonArg = z.string().trim().min(1, "must not be empty")
  .refine((reason) => Buffer.byteLength(reason, "utf8") <= MAX_VETO_REASON_BYTES, `must be at most ${MAX_VETO_REASON_BYTES} bytes (a code or a few words; details go to the members off chain)`);

/** Awaits `sent`; a refusal named `revert` gets `detail` (a time, in ISO 8601) added to its message. */
async function withTimeDetail<T>(sent: Promise<T>, revert: string, detail: string): Promise<T> {
  try {
    return await sent;
  } catch (err) {
    if (isRiskshareError(err) && err.meta.revert === revert) {
      throw new RiskshareError(err.code, `${err.message}; ${detail}`, err.meta, { cause: err });
    }
    throw err;
  }
}

/** A member's status for people: a dormant member (no vote until it acts; it still looks up) says so. */
function statusText(m: MemberInfo, dormant: boolean): string {
  return dormant ? `${memberStatusName(m.status)} (dormant)` : memberStatusName(m.status);
}

/** The accounts a member key rotation linked to `m`'s: the one it moved to, the one it moved from. */
interface MemberLinks {
  successor?: string | undefined;
  predecessor?: string | undefined;
}

function linksOf(view: ConsortiumView, address: string): MemberLinks {
  return { successor: view.successorOf(address), predecessor: view.predecessorOf(address) };
}

function memberRow(m: MemberInfo, dormant: boolean, links: MemberLinks = {}): unknown[] {
  const moved = links.successor === undefined ? "" : ` → ${links.successor}`;
  return [m.address, m.name, `${statusText(m, dormant)}${moved}`, isoOf(m.joinedAt), peerIdText(m.peerId)];
}

function memberJson(m: MemberInfo, dormant: boolean, links: MemberLinks = {}): { address: string; name: string; status: string; dormant: boolean; joinedAt: number; peerId: string; successor?: string; predecessor?: string } {
  return {
    address: m.address, name: m.name, status: memberStatusName(m.status), dormant, joinedAt: m.joinedAt, peerId: peerIdText(m.peerId),
    ...(links.successor === undefined ? {} : { successor: links.successor }), ...(links.predecessor === undefined ? {} : { predecessor: links.predecessor }),
  };
}

/** `riskshare member …`: membership and its governance. */
export function memberCommand(io: CliIo): Command {
  const member = new Command("member").description("consortium members: list, show, and the votes that change them");

  member.addCommand(withChainFlags(new Command("list"))
    .description("every member the registry knows, with status")
    .addHelpText("after", "\nExamples:\n  riskshare member list\n  riskshare member list --rpc http://127.0.0.1:8545 --registry 0xREGISTRY --json")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      await withSession(ctx, flags, false, async (session) => {
        const view = await loadView(session, ctx);
        const members = view.allMembers();
        const dormant = (m: MemberInfo) => view.isDormant(m.address);
        ctx.out.result({ members: members.map((m) => memberJson(m, dormant(m), linksOf(view, m.address))) }, () => table(["ADDRESS", "NAME", "STATUS", "JOINED", "PEER ID"], members.map((m) => memberRow(m, dormant(m), linksOf(view, m.address)))));
      });
    }));

  member.addCommand(withChainFlags(new Command("show"))
    .argument("<address>", "the member's EVM address")
    .description("one member, with its latest contribution per category")
    .addHelpText("after", "\nExample:\n  riskshare member show 0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
    .action(async (address: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      const account = parseOptions(z.object({ address: addressArg }), { address }).address;
      await withSession(ctx, flags, false, async (session) => {
        const view = await loadView(session, ctx);
        const m = view.member(account);
        if (!m) throw new RiskshareError("E_NOT_FOUND", `no member ${account} in the registry`);
        const contributions = view.categories().map((c) => ({ category: c.name, ...view.contribution(account, c.id) }));
        // An admission not yet in force: when `member activate` may bring it in (a regulator may veto until then).
        const activeFrom = m.status === MemberStatus.Admitted ? Number(await session.contracts.registry.admissionActiveFrom(account)) : undefined;
        const dormant = view.isDormant(account);
        const links = linksOf(view, account);
        const oprf = { keyEpoch: m.keyEpoch, oprfKey: m.oprfKey, ...(m.keyRotatedAt === 0 ? {} : { keyInForceFrom: m.keyRotatedAt }) };
        ctx.out.result({ ...memberJson(m, dormant, links), ...(activeFrom === undefined ? {} : { activeFrom }), ...oprf, contributions }, (r) => [
          `${r.name} (${r.address})`, `  status   ${statusText(m, dormant)}${dormant ? ": no vote until its next on-chain action; it still looks up" : ""}`,
          ...(links.successor === undefined ? [] : [`  moved to ${links.successor} (member key rotation); this account keeps its history only`]),
          ...(links.predecessor === undefined ? [] : [`  moved from ${links.predecessor} (member key rotation)`]),
          ...(activeFrom === undefined ? [`  joined   ${isoOf(m.joinedAt)}`] : [`  in force from ${isoOf(activeFrom)} (riskshare member activate ${r.address})`]),
          `  peerId   ${r.peerId}`,
          `  OPRF key ${r.oprfKey}, key epoch ${r.keyEpoch}${r.keyInForceFrom === undefined ? "" : ` (in force from ${isoOf(r.keyInForceFrom)})`}`,
          "  contributions:",
          ...contributions.map((c) => `    ${c.category.padEnd(24)} ${c.liveCount === undefined ? "none" : `${c.liveCount} entries, published ${isoOf(c.publishedAt ?? 0)}`}`),
        ].join("\n"));
      });
    }));

  member.addCommand(withChainFlags(new Command("request"))
    .requiredOption("--name <name>", "the institution's display name, as the registry will show it")
    .option("--out <file>", "write the request to this file (default: print it)")
    .description("as a candidate: sign an admission request with this data directory's member key (its PeerId and OPRF key of key epoch 1) for the registry; hand it to a member, who proposes it with `member admit`")
    .addHelpText("after", "\nExample:\n  riskshare --data-dir ./bank-d member request --name \"Bank D\" --out bank-d-request.json   # after `riskshare init --registry 0xREGISTRY`")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ name: memberNameArg, out: z.string().min(1).optional() }), raw);
      const keys = new KeyStore({ dataDir: ctx.dataDir, env: ctx.io.env });
      const wallet = await keys.nodeKey();
      const oprfSecretKey = await keys.oprfKey(INITIAL_KEY_EPOCH);
      if (oprfSecretKey === undefined) {
        throw new RiskshareError("E_OPRF_KEY_MISSING", `this data dir holds no OPRF key for key epoch ${INITIAL_KEY_EPOCH}; run \`riskshare init\` first`, { keyEpoch: INITIAL_KEY_EPOCH });
      }
      const oprfKey = hexlify((await createVoprf()).publicKey(oprfSecretKey));
      const request = await withSession(ctx, opts, false, async (session) => createAdmissionRequest(getBytes(wallet.privateKey), {
        name: opts.name, oprfKey, chainId: session.connection.chainId, registry: session.contracts.registry.target as string,
      }));
      if (opts.out !== undefined) await writeFile(opts.out, `${JSON.stringify(request, null, 2)}\n`);
      ctx.out.result({ ...request, ...(opts.out === undefined ? {} : { file: opts.out }) }, (r) => opts.out === undefined
        ? JSON.stringify(request, null, 2)
        : `admission request of ${r.name} (${r.account}) for registry ${r.registry} on chain ${r.chainId} written to ${opts.out}\n  peerId  ${peerIdText(r.peerId)}\nA member proposes it with: riskshare member admit --request ${opts.out}`);
    }));

  member.addCommand(withChainFlags(new Command("admit"))
    .requiredOption("--request <file>", "the candidate's signed admission request (written by its `riskshare member request`)")
    .description("propose to admit the candidate whose signed request is given (your vote counts at once); once executed, it comes into force after the admission delay")
    .addHelpText("after", "\nExample:\n  riskshare member admit --request bank-d-request.json")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ request: z.string().min(1) }), raw);
      const text = await readFile(opts.request, "utf8").catch((cause: unknown) => {
        throw new RiskshareError("E_ADMISSION_REQUEST", `admission request: cannot read ${opts.request}`, { field: "request" }, { cause });
      });
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (cause) {
        throw new RiskshareError("E_ADMISSION_REQUEST", `admission request: ${opts.request} is not JSON`, { field: "request" }, { cause });
      }
      await withSession(ctx, opts, true, async (session) => {
        const request = parseAdmissionRequest(json, { chainId: session.connection.chainId, registry: session.contracts.registry.target as string });
        const result = await propose(session, ProposalKind.Admit, admitArgs(request), lookupOf([]));
        printCreated(ctx, result);
      });
    }));

  member.addCommand(withChainFlags(new Command("activate"))
    .argument("<address>", "the admitted member")
    .description("bring an executed admission into force once the admission delay is over (anyone may, the new member itself typically)")
    .addHelpText("after", "\nExample:\n  riskshare member activate 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65")
    .action(async (address: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      const account = parseOptions(z.object({ address: addressArg }), { address }).address;
      await withSession(ctx, flags, true, async (session) => {
        const { registry } = session.contracts;
        const action = `activate ${account}`;
        // Foresee the status before paying for a transaction; the time is the next block's, which the
        // registry judges (a chain that mines on demand has no recent block to read it from).
        const status = Number(await registry.memberStatus(account));
        if (status !== MemberStatus.Admitted) throw revertError(action, "ConsortiumRegistryInvalidStatus", [account, status], { detail: `its status is ${memberStatusName(status)}, not Admitted` });
        const activeFrom = await registry.admissionActiveFrom(account);
        const receipt = await withTimeDetail(send(action, () => registry.activate(account)), "ConsortiumRegistryAdmissionPending", `it comes into force at ${isoOf(Number(activeFrom))}; run this again from then`);
        ctx.out.result({ account, activated: true, txHash: receipt.txHash }, (r) => `${account} is an Active member now (tx ${r.txHash})`);
      });
    }));

  member.addCommand(withChainFlags(new Command("veto"))
    .argument("<address>", "the admitted member, not yet in force")
    .requiredOption("--reason <text>", `why, at most ${MAX_VETO_REASON_BYTES} bytes (recorded on chain in the AdmissionVetoed event)`)
    .description("as a regulator: veto an executed admission before it comes into force; the account may be proposed again later")
    .addHelpText("after", "\nExample:\n  riskshare member veto 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65 --reason AML-2026-114")
    .action(async (address: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ reason: vetoReasonArg }), raw);
      const account = parseOptions(z.object({ address: addressArg }), { address }).address;
      await withSession(ctx, opts, true, async (session) => {
        const { registry } = session.contracts;
        const self = await session.signer!.getAddress();
        const action = `veto the admission of ${account}`;
        if (!(await registry.isRegulator(self))) throw revertError(action, "ConsortiumRegistryNotRegulator", [self]);
        const status = Number(await registry.memberStatus(account));
        if (status !== MemberStatus.Admitted) throw revertError(action, "ConsortiumRegistryInvalidStatus", [account, status], { detail: `its status is ${memberStatusName(status)}, not Admitted` });
        const activeFrom = await registry.admissionActiveFrom(account);
        const receipt = await withTimeDetail(send(action, () => registry.vetoAdmission(account, encodeBytes32String(opts.reason))), "ConsortiumRegistryVetoWindowClosed", `the window closed at ${isoOf(Number(activeFrom))}`);
        ctx.out.result({ account, vetoed: true, reason: opts.reason, txHash: receipt.txHash }, (r) => `the admission of ${account} is vetoed ("${r.reason}"); it may be proposed again later (tx ${r.txHash})`);
      });
    }));

  for (const ballot of ballotCommands(io, "member")) member.addCommand(ballot);

  const lifecycle = [
    ["suspend", ProposalKind.Suspend, "suspend a member (a regulator suspends at once; a member proposes)"],
    ["reinstate", ProposalKind.Reinstate, "propose to reinstate a suspended member"],
    ["remove", ProposalKind.Remove, "propose to remove a member for good (once executed, it takes effect when enacted, after the registry's timelock)"],
  ] as const;
  for (const [name, kind, description] of lifecycle) {
    const lifecycleCommand = withChainFlags(new Command(name));
    if (kind === ProposalKind.Suspend) {
      lifecycleCommand.option("--days <days>", "a regulator's suspension: how many days it lasts (default and most: the registry's limit, 14 days at deployment)");
    }
    member.addCommand(lifecycleCommand
      .argument("<address>", "the member's EVM address")
      .description(description)
      .addHelpText("after", `\nExample:\n  riskshare member ${name} 0x90F79bf6EB2c4f870365E785982E1f101E93b906`)
      .action(async (address: string, raw: unknown, command: Command) => {
        const ctx = contextOf(command, io);
        const flags = parseOptions(chainFlagsSchema, raw);
        const { days } = parseOptions(z.object({ days: z.coerce.number().positive().optional() }), raw);
        const account = parseOptions(z.object({ address: addressArg }), { address }).address;
        await withSession(ctx, flags, true, async (session) => {
          const { registry } = session.contracts;
          const self = await session.signer!.getAddress();
          if (kind === ProposalKind.Suspend && (await registry.isRegulator(self))) {
            // A regulator's suspension stops the member's lookups until a time (it keeps its vote).
            const [maxSeconds] = await registry.governanceLimits();
            const latest = await session.connection.provider.getBlock("latest");
            if (!latest) throw new RiskshareError("E_CHAIN_UNREACHABLE", "the chain did not return its latest block");
            const until = BigInt(latest.timestamp) + (days === undefined ? maxSeconds : BigInt(Math.round(days * 86_400)));
            const receipt = await send(`suspend ${account}`, () => registry.regulatorSuspend(account, until));
            ctx.out.result(
              { account, suspended: true, by: "regulator", until: Number(until), txHash: receipt.txHash },
              (r) => `${account} suspended by regulator ${self} until ${isoOf(r.until)} (its vote stays; after that anyone ends it on chain with endSuspension)`,
            );
            return;
          }
          const created = await propose(session, kind, { account }, lookupOf([]));
          if (await registry.hasVoted(created.proposalId, self)) printCreated(ctx, { account, ...created });
          else ctx.out.result({ account, ...created }, (r) => `proposal ${r.proposalId} created: ${r.summary}; a regulator does not vote: the members decide.\nMembers vote with: riskshare proposal vote ${r.proposalId}`);
        });
      }));
  }
  member.addCommand(withChainFlags(new Command("end-suspension"))
    .argument("<address>", "the member a regulator suspended")
    .description("end a regulator's suspension once its time is over: the member is Active again (anyone may, the member itself typically)")
    .addHelpText("after", "\nExample:\n  riskshare member end-suspension 0x90F79bf6EB2c4f870365E785982E1f101E93b906   # `member suspend` printed when it ends")
    .action(async (address: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      const account = parseOptions(z.object({ address: addressArg }), { address }).address;
      await withSession(ctx, flags, true, async (session) => {
        const { registry } = session.contracts;
        const action = `end the suspension of ${account}`;
        // Foresee the contract's refusals from its own view, and say when the suspension ends, before paying for a transaction.
        const [until] = await registry.regulatorSuspension(account);
        if (until === 0n) throw revertError(action, "ConsortiumRegistryNotRegulatorSuspended", [account]);
        const now = await nextBlockTime(session);
        if (BigInt(now) < until) {
          throw revertError(action, "ConsortiumRegistrySuspensionNotOver", [account, until], { detail: `it ends at ${isoOf(Number(until))} (chain time now ${isoOf(now)}); run this again from then` });
        }
        const receipt = await send(action, () => registry.endSuspension(account));
        ctx.out.result(
          { account, reinstated: true, suspendedUntil: Number(until), txHash: receipt.txHash },
          (r) => `${account} is Active again: the regulator's suspension ended ${isoOf(r.suspendedUntil)} (tx ${r.txHash})`,
        );
      });
    }));
  member.addCommand(withChainFlags(new Command("mark-dormant"))
    .argument("<address>", "a voting member that took no on-chain action for the dormancy period (180 days by default)")
    .description("mark a long-silent member dormant: it leaves the electorate of new proposals until its next on-chain action (anyone may; never below 2 voting members)")
    .addHelpText("after", "\nExample:\n  riskshare member mark-dormant 0x90F79bf6EB2c4f870365E785982E1f101E93b906   # `member list` then says (dormant)")
    .action(async (address: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      const account = parseOptions(z.object({ address: addressArg }), { address }).address;
      await withSession(ctx, flags, true, async (session) => {
        const { registry } = session.contracts;
        const action = `mark ${account} dormant`;
        // Foresee the registry's refusals (no vote, too early with the time it may be marked from, the floor) by simulating the call.
        await registry.markDormant.staticCall(account).catch((err: unknown) => { throw translateChainError(err, action); });
        const receipt = await send(action, () => registry.markDormant(account));
        ctx.out.result(
          { account, dormant: true, txHash: receipt.txHash },
          (r) => `${account} is dormant: it has no vote on proposals made from now on until its next on-chain action (tx ${r.txHash})`,
        );
      });
    }));
  return member;
}
