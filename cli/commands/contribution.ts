import { Command } from "commander";
import { getAddress, ZeroHash } from "ethers";
import { z } from "zod";
import { revertError, translateChainError } from "../../node/chain/index.ts";
import { RiskshareError } from "../../node/errors.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { addressArg, isoOf } from "../parse.ts";
import { table, type CliIo } from "../output.ts";
import { chainFlagsSchema, send, withChainFlags, withSession, type ChainSession } from "../chain.ts";
import { activeCategoryNamed, nextBlockTime, readCategories } from "../governance.ts";

const STATES = ["none", "open", "answered", "expired", "superseded"] as const;

/** A snapshot's spot-check state, as `contribution status` prints it. */
interface ChallengeRow {
  provider: string;
  category: string;
  categoryId: number;
  liveCount: string;
  unproven: boolean;
  challenge: "none" | "open" | "answered" | "expired" | "superseded";
  challenger: string | null;
  deadline: number | null;
}

/**
 * `riskshare contribution challenge|expire|status`: spot-checks of members' contribution
 * snapshots on chain (docs/PROTOCOL.md "Spot-checks"). A challenged provider's node answers by
 * itself, with proofs from the filter it published; unanswered within the window, anyone may
 * expire the challenge and the snapshot counts for nothing until answered or replaced.
 */
export function contributionCommand(io: CliIo): Command {
  const contribution = new Command("contribution").description("spot-checks of members' contribution snapshots: challenge one, expire an unanswered one, see where they stand");

  const categoryOption = "--category <name>";
  type SnapshotWork = (ctx: ReturnType<typeof contextOf>, session: ChainSession, account: string, category: { id: number; name: string }) => Promise<void>;
  /** A command on one provider's snapshot of one category, sent from this member's key. */
  const onSnapshot = (name: string, providerHelp: string, description: string, example: string, work: SnapshotWork): Command =>
    withChainFlags(new Command(name))
      .argument("<provider>", providerHelp)
      .requiredOption(categoryOption, "the category of its snapshot")
      .description(description)
      .addHelpText("after", `\nExample:\n  ${example}`)
      .action(async (provider: string, raw: unknown, command: Command) => {
        const ctx = contextOf(command, io);
        const flags = parseOptions(chainFlagsSchema.extend({ category: z.string().min(1) }), raw);
        const account = parseOptions(z.object({ provider: addressArg }), { provider }).provider;
        await withSession(ctx, flags, true, async (session) => {
          await work(ctx, session, account, activeCategoryNamed(await readCategories(session), flags.category, "--category"));
        });
      });

  contribution.addCommand(onSnapshot(
    "challenge", "the member whose snapshot to challenge (EVM address)",
    "challenge a member's latest snapshot for a category: it must prove its filter on chain within the response window (24 h at deployment)",
    "riskshare --data-dir ./bank-b contribution challenge 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --category fraud_confirmed",
    async (ctx, session, account, category) => {
      const { contributions } = session.contracts;
      const action = `challenge the ${category.name} snapshot of ${account}`;
      // Foresee the contract's refusals before sending.
      const self = getAddress(await session.signer!.getAddress());
      const snapshot = await contributions.latest(account, category.id);
      if (self === account || snapshot.liveCount === 0n) {
        throw revertError(action, "ContributionRegistryCannotChallenge", [self, account, category.id], {
          detail: self === account ? "a member does not challenge itself" : "it published no snapshot with entries for the category",
        });
      }
      const current = await contributions.challengeOf(account, category.id);
      if (STATES[Number(current.state)] === "open") {
        throw revertError(action, "ContributionRegistryChallengeOpen", [account, category.id, current.deadline], { detail: `it must answer by ${isoOf(current.deadline)}` });
      }
      const receipt = await send(action, () => contributions.challenge(account, category.id));
      const opened = await contributions.challengeOf(account, category.id);
      ctx.out.result(
        { provider: account, category: category.name, categoryId: category.id, filterHash: opened.filterHash, liveCount: opened.liveCount.toString(), deadline: Number(opened.deadline), txHash: receipt.txHash },
        (r) => `challenged the ${r.category} snapshot of ${r.provider} (${r.liveCount} entries): it must answer on chain by ${isoOf(r.deadline)}; after that anyone may run\n  riskshare contribution expire ${r.provider} --category ${r.category}`,
      );
    },
  ));

  contribution.addCommand(onSnapshot(
    "expire", "the challenged member (EVM address)",
    "close a challenge its provider left unanswered past the deadline: its snapshot is unproven (it counts for nothing) until it answers or publishes anew",
    "riskshare contribution expire 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --category fraud_confirmed",
    async (ctx, session, account, category) => {
      const { contributions } = session.contracts;
      const action = `expire the challenge of the ${category.name} snapshot of ${account}`;
      const current = await contributions.challengeOf(account, category.id);
      if (STATES[Number(current.state)] !== "open") throw revertError(action, "ContributionRegistryNoChallenge", [account, category.id], { detail: `the challenge is ${STATES[Number(current.state)] ?? "unknown"}` });
      const now = await nextBlockTime(session);
      if (BigInt(now) <= current.deadline) {
        throw revertError(action, "ContributionRegistryChallengeNotDue", [account, category.id, current.deadline], { detail: `the deadline is ${isoOf(current.deadline)} (chain time now ${isoOf(now)})` });
      }
      const receipt = await send(action, () => contributions.expireChallenge(account, category.id));
      ctx.out.result(
        { provider: account, category: category.name, categoryId: category.id, unproven: true, txHash: receipt.txHash },
        (r) => `the ${r.category} snapshot of ${r.provider} is unproven: its lookups are refused (E_RECIPROCITY) until it answers the challenge or publishes a new snapshot`,
      );
    },
  ));

  contribution.addCommand(withChainFlags(new Command("status"))
    .argument("[provider]", "one member (EVM address); default every member")
    .option(categoryOption, "one category; default every active one")
    .description("where each published snapshot's spot-check stands: open (and its deadline), answered, expired (unproven), superseded")
    .addHelpText("after", "\nExample:\n  riskshare contribution status --json")
    .action(async (provider: string | undefined, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const flags = parseOptions(chainFlagsSchema.extend({ category: z.string().min(1).optional() }), raw);
      const only = provider === undefined ? undefined : parseOptions(z.object({ provider: addressArg }), { provider }).provider;
      await withSession(ctx, flags, false, async (session) => {
        const { registry, contributions } = session.contracts;
        const categories = await readCategories(session);
        const asked = flags.category === undefined ? categories.filter((c) => c.active) : [activeCategoryNamed(categories, flags.category, "--category")];
        const members: string[] = [];
        if (only !== undefined) members.push(only);
        else for (let i = 0n, n = await registry.memberCount(); i < n; i++) members.push(getAddress((await registry.memberAt(i)).account));
        const rows: ChallengeRow[] = [];
        for (const member of members) {
          for (const c of asked) {
            const snapshot = await contributions.latest(member, c.id);
            if (snapshot.publishedAt === 0n || snapshot.filterHash === ZeroHash) continue;
            const [challenge, unproven] = await Promise.all([contributions.challengeOf(member, c.id), contributions.isUnproven(member, c.id)]);
            const state = STATES[Number(challenge.state)] ?? "none";
            rows.push({
              provider: member, category: c.name, categoryId: c.id, liveCount: snapshot.liveCount.toString(), unproven, challenge: state,
              challenger: state === "none" ? null : getAddress(challenge.challenger), deadline: state === "none" ? null : Number(challenge.deadline),
            });
          }
        }
        ctx.out.result({ snapshots: rows }, (r) => (r.snapshots.length === 0
          ? "no member published a snapshot with entries"
          : table(["provider", "category", "entries", "spot-check", "deadline", "unproven"], r.snapshots.map((s) => [
            s.provider, s.category, s.liveCount, s.challenge, s.deadline === null ? "" : isoOf(s.deadline), s.unproven ? "yes" : "no",
          ]))));
      });
    }));
  return contribution;
}
