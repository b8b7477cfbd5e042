import { Command } from "commander";
import { z } from "zod";
import { join } from "node:path";
import { access } from "node:fs/promises";
import {
  AUDIT_COLUMNS, auditModulesOf, auditRowOf, creditEvents, creditsOf, feedbackReport, formatShare, ITEM_JUMP_DEFAULTS, itemJumps, lookupKindName, memberReport, keptCommitmentInput, openCommitment, readLedger, verifyLedger, type AuditModules, type AuditRecord,
  type FeedbackReport, type HeldAnswer,
} from "../../node/chain/index.ts";
import { DATA_DIR_LAYOUT, KeyStore } from "../../node/config/index.ts";
import { createVoprf } from "../../node/identity/index.ts";
import { csvCell, openSecrets, readHeldAnswers, readSentQuery, type JournalEntry } from "../../node/store/index.ts";
import { RiskshareError } from "../../node/errors.ts";
import { contextOf, type CliContext } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { addressArg, isoOf, isoTimeArg } from "../parse.ts";
import { Output, table, type CliIo } from "../output.ts";
import { chainFlagsSchema, loadView, openChain, withChainFlags, type ChainSession } from "../chain.ts";
import { callNodeApi, readRuntime } from "../runtime.ts";

const filterSchema = chainFlagsSchema.extend({
  from: isoTimeArg.optional(),
  to: isoTimeArg.optional(),
  querier: addressArg.optional(),
  provider: addressArg.optional(),
  category: z.string().optional(),
  format: z.enum(["table", "csv", "json"]).default("table"),
});

/** `audit report`'s options: the filters, and the rule that flags a querier's daily item jump (defaults in ITEM_JUMP_DEFAULTS). */
const reportSchema = filterSchema.extend({
  jumpFactor: z.coerce.number().positive().finite().optional(),
  jumpFloor: z.coerce.number().int().nonnegative().optional(),
});

function auditModules(session: ChainSession): AuditModules {
  return auditModulesOf(session.connection, session.contracts);
}

export { AUDIT_COLUMNS };

const kindName = lookupKindName;

/** A CSV line of any cells (numbers, bigints, text). */
function csvLine(cells: readonly unknown[]): string {
  return cells.map((cell) => csvCell(String(cell ?? ""))).join(",");
}

function withFilters(command: Command): Command {
  return withChainFlags(command)
    .option("--from <iso>", "only records in blocks at or after this time (ISO 8601)")
    .option("--to <iso>", "only records in blocks at or before this time (ISO 8601)")
    .option("--querier <address>", "only this querier's queries")
    .option("--provider <address>", "only queries served by this provider")
    .option("--category <name>", "only queries that asked for this category")
    .option("--format <format>", "table | csv | json", "table");
}

async function loadRecords(ctx: CliContext, session: ChainSession, opts: z.output<typeof filterSchema>) {
  const view = await loadView(session, ctx);
  let categoryId: number | undefined;
  if (opts.category !== undefined) {
    categoryId = view.categoryIdByName(opts.category);
    if (categoryId === undefined) throw new RiskshareError("E_CATEGORY_UNKNOWN", `no category named ${opts.category} on chain`);
  }
  const ledger = await readLedger(auditModules(session), {
    ...(opts.from === undefined ? {} : { fromTime: opts.from }),
    ...(opts.to === undefined ? {} : { toTime: opts.to }),
    ...(opts.querier === undefined ? {} : { querier: opts.querier }),
    ...(opts.provider === undefined ? {} : { provider: opts.provider }),
    ...(categoryId === undefined ? {} : { categoryId }),
  });
  const categoryName = (id: number) => view.category(id)?.name ?? `#${id}`;
  const memberName = (address: string) => view.member(address)?.name ?? address;
  return { view, ledger, categoryName, memberName };
}

/** The feedback part of `audit report`: the ledger's weekly counts in the records' block range, narrowed like the records. */
async function loadFeedback(session: ChainSession, ledger: Awaited<ReturnType<typeof loadRecords>>["ledger"], view: Awaited<ReturnType<typeof loadView>>, opts: z.output<typeof filterSchema>): Promise<FeedbackReport> {
  const events = ledger.blocks === undefined ? [] : await creditEvents(session.contracts.ledger, { ...ledger.blocks, names: ["FeedbackReported", "BonusPaid", "CreditsBurned"] });
  const same = (a: string, b: string | undefined) => b === undefined || a.toLowerCase() === b.toLowerCase();
  const counts = events.flatMap((e) => (e.name === "FeedbackReported" && same(e.reporter, opts.querier) && same(e.provider, opts.provider) ? [e] : []));
  const bonus = new Map<string, number>();
  const burned = new Map<string, number>();
  for (const e of events) {
    if (e.name === "BonusPaid") bonus.set(e.provider, (bonus.get(e.provider) ?? 0) + Number(e.amount));
    if (e.name === "CreditsBurned") burned.set(e.provider, (burned.get(e.provider) ?? 0) + Number(e.amount));
  }
  return feedbackReport(counts, ledger.records, view, { bonus, burned });
}

function renderFeedback(f: FeedbackReport): string {
  if (f.reporters.length === 0 && f.providers.every((p) => p.confirmed + p.falsePositive + p.outdated === 0)) return "no feedback reported on chain in this period";
  return [
    `feedback reported on chain (weekly counts; the consortium confirms ${formatShare(f.consortiumConfirmShare)} of its confirmed/false-positive reports; 95 % Wilson intervals):`,
    table(["REPORTER", "CONFIRMED", "FALSE POS.", "OUTDATED", "CONFIRM SHARE", "OTHERS' SHARE", "FLAG"],
      f.reporters.map((r) => [r.member, r.confirmed, r.falsePositive, r.outdated, formatShare(r.confirmShare), formatShare(r.othersConfirmShare), r.flag === "low" ? "confirms less than the others" : r.flag === "high" ? "confirms more than the others" : ""])),
    "",
    table(["PROVIDER", "ITEMS SERVED", "CONFIRMED", "FALSE POS.", "OUTDATED", "FALSE-POSITIVE SHARE", "CONFIRMED / 1000 ITEMS", "BONUS", "BURNED", "FLAG"],
      f.providers.map((p) => [p.member, p.itemsServed, p.confirmed, p.falsePositive, p.outdated, formatShare(p.falsePositiveShare), p.confirmedPerThousandItems === null ? "–" : p.confirmedPerThousandItems.toFixed(2), p.bonus ?? 0, p.burned ?? 0, p.flag === "high_false_positives" ? "false positives above the consortium's" : ""])),
  ].join("\n");
}

function rowOf(r: AuditRecord, categoryName: (id: number) => string): unknown[] {
  return auditRowOf(r, categoryName);
}

/** `riskshare audit …`: the compliance view of the on-chain query ledger; needs only --rpc and the contract addresses. */
export function auditCommand(io: CliIo): Command {
  const audit = new Command("audit").description("audit the on-chain query ledger (read-only; any account, no node needed)");

  audit.addCommand(withFilters(new Command("queries"))
    .description("list query records: who asked whom, when, for which categories, with what outcome (csv and json carry every field)")
    .addHelpText("after", "\nExamples:\n  riskshare audit queries --from 2026-11-01 --to 2026-11-30 --format csv > november.csv\n  riskshare audit queries --rpc http://127.0.0.1:8545 --registry 0x… --contributions 0x… --ledger 0x… --querier 0x…")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(filterSchema, raw);
      const session = await openChain(ctx, opts, false);
      try {
        const { ledger, categoryName, memberName } = await loadRecords(ctx, session, opts);
        const records = ledger.records;
        if (opts.format === "csv" && !ctx.json) {
          io.stdout.write(`${AUDIT_COLUMNS.join(",")}\n`);
          for (const r of records) io.stdout.write(`${csvLine(rowOf(r, categoryName))}\n`);
          return;
        }
        const json = records.map((r) => ({ ...r, categories: r.categoryIds.map(categoryName) }));
        const out = opts.format === "json" ? new Output(io, true) : ctx.out;
        const short = (hex: string) => `${hex.slice(0, 10)}…${hex.slice(-4)}`;
        out.result({ records: json }, () => records.length === 0 ? "no query records match" : table(
          ["TIME", "QUERY", "QUERIER", "PROVIDER", "SEQ", "CATEGORIES", "KIND", "ITEMS", "EPOCH", "OUTCOME"],
          records.map((r) => [isoOf(r.timestamp), short(r.queryId), memberName(r.querier), memberName(r.provider), r.seq, r.categoryIds.map(categoryName).join(","), kindName(r.kind), r.itemCount, r.keyEpoch, r.outcomeName]),
        ));
      } finally {
        session.close();
      }
    }));

  audit.addCommand(withChainFlags(new Command("verify"))
    .description("re-check every record: its querier is attested (the signature recovers it, or for a refusal made before the signature check it was an Active member), both parties were Active, no query id is recorded twice (beyond one replay and one expiry), each refusal is bound to its error code, batch sequences have no gap; on a member's data dir, each answer its providers signed and sent (kept in its query journal) matches their record; exits 1 listing each failure by name (forged_querier, duplicate_query_id, answer_mismatch, …)")
    .addHelpText("after", "\nExamples:\n  riskshare audit verify\n  riskshare audit verify --rpc http://127.0.0.1:8545 --registry 0xREGISTRY --json")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(filterSchema, raw);
      const session = await openChain(ctx, opts, false);
      try {
        const modules = auditModules(session);
        const held = await heldAnswers(ctx);
        const ledger = await readLedger(modules);
        const failures = await verifyLedger(modules, ledger, held.compared ? held.answers : []);
        const answers = held.compared ? { compared: true, held: held.answers.length } : { compared: false, reason: held.reason };
        const answersLine = held.compared
          ? `answers compared: ${held.answers.length} provider-signed answer(s) from this node's query journal held against their records`
          : `answers NOT compared with the ledger: ${held.reason}`;
        ctx.out.result(
          { ok: failures.length === 0, records: ledger.records.length, batches: ledger.batches.length, answers, failures },
          (r) => [r.ok
            ? `ledger verified: ${r.records} records in ${r.batches} batches; every attribution, membership, query id, answer digest and sequence checks out`
            : [`ledger verification FAILED: ${failures.length} problem(s) in ${r.records} records`, ...failures.map((f) => `  ${f.kind}: ${f.detail}${f.queryId ? ` (query ${f.queryId})` : ""}`)].join("\n"), answersLine].join("\n"),
        );
        if (failures.length > 0) throw new AuditFailed(failures.length);
      } finally {
        session.close();
      }
    }));

  audit.addCommand(withFilters(new Command("report"))
    .description("per member: queries made, answered, denied, served, items evaluated, fetches, contribution per category and credits now; then every querier day whose items jumped far above its own trailing median; then the feedback reported on chain: each reporter's confirm share against everyone else's and each provider's false-positive share, with 95% intervals (--querier/--provider narrow it to that reporter/provider; --category does not apply: feedback counts carry none)")
    .option("--jump-factor <n>", `flag a querier's day when its items exceed this many times its trailing ${ITEM_JUMP_DEFAULTS.trailingDays}-day median (default ${ITEM_JUMP_DEFAULTS.factor})`)
    .option("--jump-floor <items>", `…and reach at least this many items (default ${ITEM_JUMP_DEFAULTS.floorItems})`)
    .addHelpText("after", "\nExamples:\n  riskshare audit report --from 2026-11-01 --to 2026-11-30\n  riskshare audit report --format csv > report.csv\n  riskshare audit report --from 2026-10-25 --jump-factor 5 --jump-floor 500 --json")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(reportSchema, raw);
      const rule = {
        ...ITEM_JUMP_DEFAULTS,
        ...(opts.jumpFactor === undefined ? {} : { factor: opts.jumpFactor }),
        ...(opts.jumpFloor === undefined ? {} : { floorItems: opts.jumpFloor }),
      };
      const session = await openChain(ctx, opts, false);
      try {
        const { view, ledger } = await loadRecords(ctx, session, opts);
        const rows = memberReport(ledger.records, view);
        if (opts.format === "csv" && !ctx.json) {
          const categories = view.categories().map((c) => c.name);
          io.stdout.write(`member,address,queries_made,answered,denied,served,items_evaluated,fetches,${categories.join(",")}\n`);
          for (const r of rows) io.stdout.write(`${csvLine([r.member, r.address, r.queriesMade, r.answered, r.denied, r.served, r.itemsEvaluated, r.fetches, ...categories.map((c) => r.contributions[c])])}\n`);
          return;
        }
        const jumps = itemJumps(ledger.records, view, rule);
        const ruleText = `items > ${rule.factor}× the trailing ${rule.trailingDays}-day median and ≥ ${rule.floorItems}`;
        const credits = await Promise.all(rows.map(async (r) => ({ address: r.address, ...(await creditsOf(session.contracts.ledger, r.address)) })));
        const members = rows.map((r, i) => ({ ...r, credits: { balance: credits[i]!.balance.toString(), overdraft: credits[i]!.overdraft.toString() } }));
        const feedback = await loadFeedback(session, ledger, view, opts);
        ctx.out.result({ members, itemJumpRule: rule, itemJumps: jumps, feedback }, () => [
          table(
            ["MEMBER", "MADE", "ANSWERED", "DENIED", "SERVED", "EVALUATED", "FETCHES", "CREDITS NOW", "CONTRIBUTION"],
            members.map((r) => [r.member, r.queriesMade, r.answered, r.denied, r.served, r.itemsEvaluated, r.fetches, `${r.credits.balance} (overdraft ${r.credits.overdraft})`, Object.entries(r.contributions).filter(([, n]) => n > 0).map(([c, n]) => `${c}:${n}`).join(" ")]),
          ),
          "",
          jumps.length === 0
            ? `no querier's daily items jumped (${ruleText})`
            : [`querier days whose items jumped (${ruleText}):`, table(["DAY", "QUERIER", "ITEMS", "MEDIAN", "HISTORY DAYS"], jumps.map((j) => [j.day, j.member, j.items, j.baselineMedian, j.historyDays]))].join("\n"),
          "",
          renderFeedback(feedback),
        ].join("\n"));
      } finally {
        session.close();
      }
    }));
  audit.addCommand(withChainFlags(new Command("open"))
    .argument("<queryId>", "a query this node sent (its id as the ledger shows it)")
    .description("open the commitment of a query this node sent: which identifiers it asked (from the sealed journal), proven against the on-chain record")
    .addHelpText("after", "\nExample:\n  riskshare audit open 0x1f8fa1eb39bcc0dc9133df6bacd2f4c42a64bbff6dfe610ff43f7ac9ba788999")
    .action(async (queryIdArg: string, raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(filterSchema, raw);
      const queryId = parseOptions(z.object({ queryId: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a 0x-prefixed 32-byte query id") }), { queryId: queryIdArg }).queryId.toLowerCase();
      const entry = await readJournal(ctx, queryId);
      const session = await openChain(ctx, opts, false);
      try {
        const { view, ledger, categoryName } = await loadRecords(ctx, session, { ...opts, querier: entry.querier });
        const secrets = openSecrets(await new KeyStore({ dataDir: ctx.dataDir, env: ctx.io.env }).journalKey({ create: false }), entry);
        const kept = keptCommitmentInput(entry, secrets, await createVoprf());
        const { ok, checks, records } = openCommitment(queryId, kept, ledger.records, { chainId: session.connection.chainId, address: session.contracts.addresses.ledger });
        const prefixes = (secrets.prefixes ?? []).map((p) => ({ bits: p.bits, value: `0x${p.value.toString(16).padStart(16, "0")}` }));
        const result = {
          ok, queryId, provider: entry.provider, providerName: view.member(entry.provider)?.name ?? entry.provider, kind: entry.kind === 1 ? "Fetch" : "Evaluate",
          categories: records[0]!.categoryIds.map(categoryName), outcomes: records.map((r) => r.outcomeName), blockNumber: records[0]!.blockNumber,
          items: secrets.items, padding: secrets.paddingInputs.length, prefixes, checks,
        };
        ctx.out.result(result, (r) => [
          `${r.kind} ${r.queryId} to ${r.providerName}: ${r.outcomes.join(", ")} (block ${r.blockNumber}, categories ${r.categories.join(",")})`,
          `commitment ${r.checks.commitmentOpens ? "OPENS" : "DOES NOT OPEN"} with the journal's ${r.kind === "Fetch" ? "prefixes and salt" : "identifiers and blinds"}; query id ${r.checks.queryIdMatches ? "matches" : "DOES NOT match"} the signed request`,
          r.kind === "Fetch"
            ? table(["#", "PREFIX BITS", "PREFIX"], r.prefixes.map((p, i) => [i + 1, p.bits, p.value]))
            : table(["#", "TYPE", "IDENTIFIER"], [...r.items.map((item, i) => [i + 1, item.type, item.value]), ...(r.padding > 0 ? [["", "padding", `${r.padding} random input(s)`]] : [])]),
        ].join("\n"));
        if (!ok) throw new AuditFailed(1);
      } finally {
        session.close();
      }
    }));
  return audit;
}

/** The journal entry of a query this node sent: from the running node's API, or from its store when it is stopped. */
async function readJournal(ctx: CliContext, queryId: string): Promise<JournalEntry> {
  const runtime = await readRuntime(ctx.dataDir).catch(() => undefined);
  let entry: JournalEntry | undefined;
  if (runtime) {
    const response = await callNodeApi(ctx.dataDir, runtime, { method: "GET", path: `/v1/queries/${queryId}`, scope: "read", timeoutMs: 10_000 });
    if (response.ok) entry = (await response.json()) as JournalEntry;
    else if (response.status !== 404) throw new RiskshareError("E_NODE_NOT_READY", `the node answered ${response.status}`);
  } else {
    entry = await readSentQuery({ location: join(ctx.dataDir, DATA_DIR_LAYOUT.dbDir) }, { logger: ctx.logger }, queryId);
  }
  if (!entry) throw new RiskshareError("E_NOT_FOUND", `this node sent no query ${queryId}`);
  return entry;
}

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/);
/** GET /v1/answers, validated at the edge. */
const heldAnswersSchema = z.object({
  answers: z.array(z.object({
    answer: z.object({ queryId: hex32, provider: z.string().regex(/^0x[0-9a-fA-F]{40}$/), keyEpoch: z.number().int().nonnegative(), itemCount: z.number().int().nonnegative(), answerDigest: hex32 }),
    answerSignature: z.string().regex(/^0x[0-9a-fA-F]{130}$/),
  })),
});

/** The answers `audit verify` holds against the ledger, or why it holds none. */
type HeldAnswers = { compared: true; answers: HeldAnswer[] } | { compared: false; reason: string };

/**
 * The provider-signed answers this data dir's node received, from its query journal: read from the
 * store of a stopped node, or from a running node's API (it holds the store's lock). A data dir without
 * a store (a regulator's, an outsider's) holds none: verify then says that it compared no answers, and why.
 */
async function heldAnswers(ctx: CliContext): Promise<HeldAnswers> {
  const location = join(ctx.dataDir, DATA_DIR_LAYOUT.dbDir);
  const hasStore = await access(location).then(() => true, () => false);
  if (!hasStore) {
    return { compared: false, reason: "this data dir holds no query journal (a regulator's or an outsider's): only a querier's own node keeps the answers its providers signed; run verify on a member's data dir to compare them" };
  }
  const runtime = await readRuntime(ctx.dataDir).catch(() => undefined);
  if (runtime === undefined) return { compared: true, answers: await readHeldAnswers({ location }, { logger: ctx.logger }) };
  const response = await callNodeApi(ctx.dataDir, runtime, { method: "GET", path: "/v1/answers", scope: "read", timeoutMs: 30_000 });
  if (!response.ok) {
    throw new RiskshareError("E_NODE_NOT_READY", `the running node answered ${response.status} when asked for the answers its journal keeps; check the node's log (or GET /v1/health) and run verify again`);
  }
  const parsed = heldAnswersSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) throw new RiskshareError("E_NODE_NOT_READY", "the running node's list of held answers is malformed; restart the node with this version of riskshare and run verify again");
  return { compared: true, answers: parsed.data.answers };
}

/** Raised after `audit verify` printed its failures: exit status 1 without a second message. */
export class AuditFailed extends Error {
  readonly failures: number;
  override readonly name = "AuditFailed";
  constructor(failures: number) {
    super(`${failures} ledger verification failure(s)`);
    this.failures = failures;
  }
}
