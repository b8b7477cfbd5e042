import { Command } from "commander";
import { z } from "zod";
import { checkCategoryName, checkKeyEpochLength, checkPolicy, checkQuorum, checkWarninglistHash, ProposalKind, revertError, translateChainError, type CategoryPolicy } from "../../node/chain/index.ts";
import { RiskshareError } from "../../node/errors.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { addressArg, idArg, isoOf, parseDuration, parseFraction, parseUint64 } from "../parse.ts";
import { table, type CliIo } from "../output.ts";
import { chainFlagsSchema, withChainFlags, withSession } from "../chain.ts";
import {
  activeCategoryNamed, ballotCommands, isPending, latestTimestamp, lookupOf, printCreated, propose, readCategories, readProposal, renderProposal, type ProposalView,
} from "../governance.ts";

const listFlagsSchema = chainFlagsSchema.extend({ all: z.boolean().optional() });

/** A `proposal <group> <verb>` command that signs: chain flags, an example, and one action. */
function proposing(name: string, description: string, example: string): Command {
  return withChainFlags(new Command(name)).description(`${description} (your vote counts at once)`).addHelpText("after", `\nExample:\n  ${example}`);
}

/** `riskshare proposal …`: every kind of governance proposal, listed, shown, proposed, voted and executed. */
export function proposalCommand(io: CliIo): Command {
  const proposal = new Command("proposal").description("governance: propose, list, show, vote, execute and enact proposals of every kind");

  proposal.addCommand(withChainFlags(new Command("list"))
    .option("--all", "include executed, enacted, expired and lapsed proposals")
    .description("open and queued proposals (or all with --all), each with what it does and, once queued, when it may be enacted")
    .addHelpText("after", "\nExamples:\n  riskshare proposal list\n  riskshare proposal list --all --json")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(listFlagsSchema, raw);
      await withSession(ctx, flags, false, async (session) => {
        const count = await session.contracts.registry.proposalCount().catch((err: unknown) => { throw translateChainError(err, "count proposals"); });
        const now = await latestTimestamp(session);
        const lookup = lookupOf(await readCategories(session));
        const proposals: ProposalView[] = [];
        for (let id = 1n; id <= count; id++) proposals.push(await readProposal(session, id, now, lookup));
        const shown = flags.all ? proposals : proposals.filter((p) => isPending(p.state));
        ctx.out.result({ proposals: shown }, () => shown.length === 0 ? "no open or queued proposals" : table(
          ["ID", "KIND", "STATE", "VOTES", "EXPIRES", "ETA", "WHAT"],
          shown.map((p) => [p.id, p.kind, p.state, `${p.votes}/${p.quorum}`, isoOf(p.expiresAt), p.eta === null ? "-" : isoOf(p.eta), p.summary]),
        ));
      });
    }));

  proposal.addCommand(withChainFlags(new Command("show"))
    .argument("<proposalId>", "the proposal's number")
    .description("one proposal: what it does (its decoded payload), its state, and who voted")
    .addHelpText("after", "\nExample:\n  riskshare proposal show 3")
    .action(async (id: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(listFlagsSchema, raw);
      const proposalId = parseOptions(z.object({ proposalId: idArg }), { proposalId: id }).proposalId;
      await withSession(ctx, flags, false, async (session) => {
        const p = await readProposal(session, proposalId, await latestTimestamp(session), lookupOf(await readCategories(session)));
        ctx.out.result(p, renderProposal);
      });
    }));

  for (const ballot of ballotCommands(io, "proposal")) proposal.addCommand(ballot);

  const category = new Command("category").description("propose to add or retire a risk category");
  category.addCommand(proposing("add", "propose a new risk category", "riskshare proposal category add account_takeover")
    .argument("<name>", "the category's name (1 to 128 bytes; a retired name stays taken)")
    .action(async (name: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      checkCategoryName(name);
      await withSession(ctx, flags, true, async (session) => {
        const categories = await readCategories(session);
        const taken = categories.find((c) => c.name === name);
        if (taken) throw new RiskshareError("E_BAD_INPUT", `name: a category named "${name}" already exists (id ${taken.id}${taken.active ? "" : ", retired"}); names are never reused, pick another`, { argument: "name" });
        printCreated(ctx, await propose(session, ProposalKind.AddCategory, { name }, lookupOf(categories)));
      });
    }));
  category.addCommand(proposing("retire", "propose to retire an active risk category (its name stays taken; once executed, it takes effect when enacted, after the registry's timelock)", "riskshare proposal category retire gambling_merchant")
    .argument("<name>", "the active category's name")
    .action(async (name: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      await withSession(ctx, flags, true, async (session) => {
        const categories = await readCategories(session);
        const target = activeCategoryNamed(categories, name, "name");
        printCreated(ctx, await propose(session, ProposalKind.RetireCategory, { categoryId: target.id }, lookupOf(categories)));
      });
    }));
  proposal.addCommand(category);

  const policy = new Command("policy").description("propose a category's sharing policy (reciprocity and quota)");
  policy.addCommand(proposing("set", "propose a category's sharing policy; fields not given keep their value on chain; once executed, it takes effect when enacted, after the registry's timelock",
    "riskshare proposal policy set --category fraud_confirmed --min-entries 50 --max-snapshot-age 3d --quota-base 2000 --quota-ratio-bps 5000 --quota-ceiling 200000")
    .requiredOption("--category <name>", "the active category whose policy changes")
    .option("--min-entries <n>", "least live entries a querier's latest snapshot must count to query the category")
    .option("--max-snapshot-age <duration>", "oldest a querier's snapshot may be, e.g. 7d, 36h")
    .option("--quota-base <n>", "items per provider per rolling day granted to every contributing member")
    .option("--quota-ratio-bps <n>", "extra items per contributed entry, in basis points (10000 = one per entry)")
    .option("--quota-ceiling <n>", "the most items per provider per rolling day any member earns, whatever it contributes (≥ the base)")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({
        category: z.string().min(1), minEntries: z.string().optional(), maxSnapshotAge: z.string().optional(), quotaBase: z.string().optional(), quotaRatioBps: z.string().optional(), quotaCeiling: z.string().optional(),
      }), raw);
      const given: Partial<CategoryPolicy> = {
        ...(opts.minEntries === undefined ? {} : { minEntries: parseUint64(opts.minEntries, "--min-entries") }),
        ...(opts.maxSnapshotAge === undefined ? {} : { maxSnapshotAge: parseDuration(opts.maxSnapshotAge, "--max-snapshot-age") }),
        ...(opts.quotaBase === undefined ? {} : { quotaBase: parseUint64(opts.quotaBase, "--quota-base") }),
        ...(opts.quotaRatioBps === undefined ? {} : { quotaRatioBps: parseUint64(opts.quotaRatioBps, "--quota-ratio-bps") }),
        ...(opts.quotaCeiling === undefined ? {} : { quotaCeiling: parseUint64(opts.quotaCeiling, "--quota-ceiling") }),
      };
      if (Object.keys(given).length === 0) {
        throw new RiskshareError("E_USAGE", "give at least one of --min-entries, --max-snapshot-age, --quota-base, --quota-ratio-bps, --quota-ceiling", { argument: "--min-entries" });
      }
      await withSession(ctx, opts, true, async (session) => {
        const categories = await readCategories(session);
        const target = activeCategoryNamed(categories, opts.category, "--category");
        const current = await session.contracts.registry.policy(target.id).catch((err: unknown) => { throw translateChainError(err, `read the policy of ${target.name}`); });
        const next: CategoryPolicy = {
          minEntries: given.minEntries ?? current.minEntries,
          maxSnapshotAge: given.maxSnapshotAge ?? current.maxSnapshotAge,
          quotaBase: given.quotaBase ?? current.quotaBase,
          quotaRatioBps: given.quotaRatioBps ?? current.quotaRatioBps,
          quotaCeiling: given.quotaCeiling ?? current.quotaCeiling,
        };
        if (given.quotaCeiling === undefined && current.quotaCeiling === 0n) {
          throw new RiskshareError("E_USAGE", `${target.name} has no quota ceiling on chain yet (a category added by vote starts without a policy): give --quota-ceiling`, { argument: "--quota-ceiling" });
        }
        checkPolicy(next);
        printCreated(ctx, await propose(session, ProposalKind.SetPolicy, { categoryId: target.id, policy: next }, lookupOf(categories)));
      });
    }));
  proposal.addCommand(policy);

  const quorum = new Command("quorum").description("propose the quorum fraction f of the voting members (docs/GOVERNANCE.md)");
  quorum.addCommand(proposing("set", "propose a new quorum fraction (applies to proposals made after it is enacted, the timelock delay after it executes)", "riskshare proposal quorum set 3/4")
    .argument("<fraction>", "a fraction above 1/2 and at most 3/4, e.g. 2/3")
    .action(async (fraction: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      const parsed = parseFraction(fraction, "fraction");
      checkQuorum(parsed);
      await withSession(ctx, flags, true, async (session) => {
        printCreated(ctx, await propose(session, ProposalKind.SetQuorum, parsed, lookupOf([])));
      });
    }));
  proposal.addCommand(quorum);

  const regulator = new Command("regulator").description("propose to add or remove a regulator (once executed, it takes effect when enacted, after the registry's timelock)");
  for (const [name, kind, description] of [
    ["add", ProposalKind.AddRegulator, "propose an account as a regulator (it audits, may suspend a member's lookups for at most 14 days, and may propose Suspend and Remove)"],
    ["remove", ProposalKind.RemoveRegulator, "propose to take the regulator role from an account"],
  ] as const) {
    regulator.addCommand(proposing(name, description, `riskshare proposal regulator ${name} 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65`)
      .argument("<address>", "the account's EVM address")
      .action(async (address: string, raw: unknown, command: Command) => {
        const ctx = contextOf(command, io);
        const flags = parseOptions(chainFlagsSchema, raw);
        const account = parseOptions(z.object({ address: addressArg }), { address }).address;
        await withSession(ctx, flags, true, async (session) => {
          const isRegulator = await session.contracts.registry.isRegulator(account).catch((err: unknown) => { throw translateChainError(err, `read whether ${account} is a regulator`); });
          if (isRegulator === (kind === ProposalKind.AddRegulator)) {
            throw new RiskshareError("E_BAD_INPUT", `address: ${account} ${isRegulator ? "is already a regulator" : "is not a regulator"}`, { argument: "address" });
          }
          printCreated(ctx, await propose(session, kind, { account }, lookupOf([])));
        });
      }));
  }
  proposal.addCommand(regulator);

  proposal.addCommand(proposing("unpause", "propose to lift a regulator's pause of every lookup before its end (members only: a regulator may not)", "riskshare proposal unpause")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      await withSession(ctx, flags, true, async (session) => {
        const { registry } = session.contracts;
        const action = "propose to lift the regulator's pause of lookups";
        // Foresee the registry's refusals before sending: a regulator may not open it, and there must be a pause to lift.
        const self = await session.signer!.getAddress();
        if (await registry.isRegulator(self).catch((err: unknown) => { throw translateChainError(err, `read whether ${self} is a regulator`); })) {
          throw revertError(action, "ConsortiumRegistryRegulatorMayNotPropose", [ProposalKind.Unpause], { detail: "the members decide whether to lift a regulator's pause" });
        }
        const pausedUntil = Number(await registry.pausedUntil().catch((err: unknown) => { throw translateChainError(err, "read the registry's pause"); }));
        const now = await latestTimestamp(session);
        if (now >= pausedUntil) {
          throw revertError(action, "ConsortiumRegistryNotPaused", [], pausedUntil === 0 ? {} : { detail: `the last pause ended ${isoOf(pausedUntil)}` });
        }
        printCreated(ctx, await propose(session, ProposalKind.Unpause, {}, lookupOf([])));
      });
    }));

  const keyEpoch = new Command("key-epoch").description("propose how long a member's OPRF key should stay in force");
  keyEpoch.addCommand(proposing("set", "propose the recommended OPRF key epoch length (1h to 730d)", "riskshare proposal key-epoch set 90d")
    .argument("<duration>", "e.g. 90d, 2w, 36h (units s, m, h, d, w)")
    .action(async (duration: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      const seconds = parseDuration(duration, "duration");
      checkKeyEpochLength(seconds);
      await withSession(ctx, flags, true, async (session) => {
        printCreated(ctx, await propose(session, ProposalKind.SetKeyEpochLength, { keyEpochLengthSeconds: seconds }, lookupOf([])));
      });
    }));
  proposal.addCommand(keyEpoch);

  const warninglists = new Command("warninglists").description("propose which warninglists members should ship (the chain pins their hash; each node enforces its own and reports a mismatch)");
  warninglists.addCommand(proposing("set", "propose the hash of the warninglists members should ship, as `riskshare list warninglists` shows it", "riskshare proposal warninglists set 0x3f5a…(64 hex digits)")
    .argument("<hash>", "the lists' SHA-256, 0x and 64 hex digits (`riskshare list warninglists` of the version members should run)")
    .action(async (text: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema, raw);
      const hash = checkWarninglistHash(text);
      await withSession(ctx, flags, true, async (session) => {
        printCreated(ctx, await propose(session, ProposalKind.SetWarninglistHash, { hash }, lookupOf([])));
      });
    }));
  proposal.addCommand(warninglists);
  return proposal;
}
