import { Command } from "commander";
import { getAddress } from "ethers";
import { z } from "zod";
import { bonusEventRange, creditsOf, dueBonuses, pairState, settleDueBonuses, translateChainError } from "../../node/chain/index.ts";
import { KeyStore } from "../../node/config/index.ts";
import { availableCredits } from "../../node/policy/index.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { addressArg } from "../parse.ts";
import { table, type CliIo } from "../output.ts";
import { chainFlagsSchema, loadView, withChainFlags, withSession, type ChainSession } from "../chain.ts";

/** What `riskshare credits` prints: a member's credits and its metered items, from chain. */
export interface CreditsReport {
  member: string;
  name: string | null;
  /** Credits held, decay applied (negative: in debt). */
  balance: bigint;
  /** How far below zero it may go now. */
  overdraft: bigint;
  /** balance + overdraft, at least 0: the evaluated items it may still ask for. */
  available: bigint;
  /** Evaluated items it was metered for as a querier, over every other member. */
  meteredItems: bigint;
  /** Evaluated items it served as a provider, over every other member. */
  servedItems: bigint;
  /** Per other member: items metered to this member by it (as provider) and served to it (as querier). */
  pairs: { member: string; name: string; metered: bigint; served: bigint }[];
}

/** Reads `member`'s credits and its pair counts with every other member from the QueryLedger. */
export async function readCreditsReport(session: ChainSession, members: readonly { address: string; name: string }[], member: string): Promise<CreditsReport> {
  const { ledger } = session.contracts;
  const action = `read the credits of ${member}`;
  try {
    const { balance, overdraft } = await creditsOf(ledger, member);
    const others = members.filter((m) => m.address.toLowerCase() !== member.toLowerCase());
    const pairs = await Promise.all(others.map(async (other) => {
      const [asQuerier, asProvider] = await Promise.all([pairState(ledger, member, other.address), pairState(ledger, other.address, member)]);
      return { member: other.address, name: other.name, metered: asQuerier.evaluatedItems, served: asProvider.evaluatedItems };
    }));
    return {
      member, name: members.find((m) => m.address.toLowerCase() === member.toLowerCase())?.name ?? null,
      balance, overdraft, available: availableCredits({ balance, overdraft }),
      meteredItems: pairs.reduce((sum, p) => sum + p.metered, 0n), servedItems: pairs.reduce((sum, p) => sum + p.served, 0n),
      pairs: pairs.filter((p) => p.metered > 0n || p.served > 0n),
    };
  } catch (err) {
    throw translateChainError(err, action);
  }
}

/**
 * `riskshare credits [--member ADDRESS]`: a member's balance, overdraft and what it can still ask
 * (balance + overdraft, in evaluated items), with the items it was metered for and served, read
 * from the QueryLedger (docs/PROTOCOL.md "Credit gate").
 */
export function creditsCommand(io: CliIo): Command {
  const credits = withChainFlags(new Command("credits"))
    .description("a member's credits on the QueryLedger: balance (decay applied), overdraft, what it can still ask, and the evaluated items it was metered for and served")
    .option("--member <address>", "the member to show (default: this data dir's member key)")
    .addHelpText("after", "\nExamples:\n  riskshare --data-dir ./bank-b credits\n  riskshare credits --rpc http://127.0.0.1:8545 --registry 0xREGISTRY --member 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --json")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ member: addressArg.optional() }), raw);
      await withSession(ctx, opts, false, async (session) => {
        const member = opts.member ?? getAddress((await new KeyStore({ dataDir: ctx.dataDir, env: ctx.io.env }).nodeKey()).address);
        const view = await loadView(session, ctx);
        const report = await readCreditsReport(session, view.allMembers(), member);
        ctx.out.result(report, renderCredits);
      });
    });
  credits.addCommand(withChainFlags(new Command("settle"))
    .description("claim a provider's weekly bonus from the pool for every ended week of the last 13 in which members confirmed its entries and that nobody settled yet (a running node does this by itself every 6 hours; anyone may settle, the transaction is signed with this data dir's member key)")
    .option("--provider <address>", "the provider whose bonus to settle (default: this data dir's member)")
    .option("--dry-run", "only list the weeks that are due, with their reporters; send nothing")
    .addHelpText("after", "\nExamples:\n  riskshare --data-dir ./bank-a credits settle --dry-run\n  riskshare --data-dir ./bank-a credits settle --provider 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --json")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema.extend({ provider: addressArg.optional(), dryRun: z.boolean().optional() }), raw);
      await withSession(ctx, opts, opts.dryRun !== true, async (session) => {
        const provider = opts.provider ?? getAddress((await new KeyStore({ dataDir: ctx.dataDir, env: ctx.io.env }).nodeKey()).address);
        const range = await bonusEventRange(session.connection.provider);
        if (opts.dryRun === true) {
          const due = await dueBonuses(session.contracts.ledger, provider, range);
          ctx.out.result({ provider, due }, (r) => (r.due.length === 0 ? `no bonus of ${provider} is due` : table(["WEEK", "REPORTERS"], r.due.map((d) => [d.week, d.reporters.join(" ")]))));
          return;
        }
        const paid = await settleDueBonuses(session.contracts.ledger, provider, range);
        ctx.out.result({ provider, settled: paid.map((p) => ({ week: p.week, amount: p.amount.toString(), txHash: p.txHash })) }, (r) =>
          (r.settled.length === 0 ? `no bonus of ${provider} was due` : table(["WEEK", "BONUS", "TX"], r.settled.map((s) => [s.week, s.amount, s.txHash]))));
      });
    }));
  return credits;
}

function renderCredits(r: CreditsReport): string {
  const lines = [
    `credits of ${r.name ?? r.member} (${r.member})`,
    `  balance     ${r.balance}`,
    `  overdraft   ${r.overdraft}`,
    `  can ask     ${r.available} evaluated items`,
    `  metered     ${r.meteredItems} items asked of others`,
    `  served      ${r.servedItems} items answered for others`,
  ];
  if (r.pairs.length > 0) lines.push("", table(["MEMBER", "NAME", "METERED", "SERVED"], r.pairs.map((p) => [p.member, p.name, p.metered, p.served])));
  if (r.available === 0n) lines.push("", "no credits left to ask with: answer other members' lookups to earn credits, or wait for the debt to decay");
  return lines.join("\n");
}
