/**
 * `npm run bench`: riskshare's benchmarks, each figure beside a baseline measured in the same run.
 *
 *   npm run bench                      full sizes (import of 1M and 10M rows…), a table on stdout
 *   npm run bench -- --quick           small sizes, a few minutes
 *   npm run bench -- --json            only the JSON report on stdout (progress goes to stderr)
 *   npm run bench -- --only lookup,fanout
 *
 * A suite that fails prints its error; the others still run, and the exit status is 1.
 */
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { checkSuite } from "./check.ts";
import { consoleSuite } from "./console.ts";
import { fanoutSuite } from "./fanout.ts";
import { importSuite } from "./import.ts";
import { ledgerSuite } from "./ledger.ts";
import { lookupImportSuite } from "./lookup-import.ts";
import { lookupSuite } from "./lookup.ts";
import { oprfSuite } from "./oprf.ts";
import { jsonReport, machineInfo, tableReport, type ReportedResult } from "./report.ts";
import type { Suite } from "./suite.ts";

/** Every suite, in the order they run. */
const SUITES: readonly Suite[] = [importSuite, checkSuite, lookupSuite, lookupImportSuite, fanoutSuite, ledgerSuite, oprfSuite, consoleSuite];
/** Seed of all generated inputs: change it only on purpose, figures are compared across runs. */
const DEFAULT_SEED = 20_260_101;

const USAGE = `usage: npm run bench -- [--quick] [--json] [--markdown] [--only ${SUITES.map((s) => s.name).join(",")}] [--seed N]`;

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        quick: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        markdown: { type: "boolean", default: false },
        only: { type: "string" },
        seed: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const wanted = args.only?.split(",").map((s) => s.trim()).filter(Boolean);
  const unknown = wanted?.filter((name) => !SUITES.some((s) => s.name === name)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`unknown suite: ${unknown.join(", ")}\n${USAGE}\n`);
    return 2;
  }
  const seed = args.seed === undefined ? DEFAULT_SEED : Number(args.seed);
  if (!Number.isSafeInteger(seed)) {
    process.stderr.write(`--seed must be an integer\n${USAGE}\n`);
    return 2;
  }

  // First Ctrl-C: stop after the running suite (which still stops what it started); second: now.
  const controller = new AbortController();
  const interrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write("bench: interrupted; stopping after this suite (again to quit now)\n");
    controller.abort(new Error("interrupted"));
  };
  process.on("SIGINT", interrupt);
  process.on("SIGTERM", interrupt);

  const log = (message: string) => process.stderr.write(`${message}\n`);
  const machine = machineInfo();
  const results: ReportedResult[] = [];
  const failed: string[] = [];
  // Other work on the machine skews every figure: say how busy it was.
  const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
  log(`riskshare bench (${args.quick ? "quick" : "full"}, seed ${seed}) on ${machine.cpus} CPUs, ${machine.memoryGiB} GiB, Node ${machine.node}; load average ${load()}`);
  for (const suite of SUITES) {
    if (wanted && !wanted.includes(suite.name)) continue;
    if (controller.signal.aborted) break;
    const started = performance.now();
    log(`── ${suite.name}`);
    try {
      results.push(...(await suite.run({ quick: args.quick, seed, signal: controller.signal, log })));
      log(`── ${suite.name} done in ${((performance.now() - started) / 1000).toFixed(1)} s; load average ${load()}`);
    } catch (err) {
      failed.push(suite.name);
      log(`── ${suite.name} FAILED after ${((performance.now() - started) / 1000).toFixed(1)} s: ${(err as Error)?.stack ?? String(err)}`);
    }
  }

  if (args.json) process.stdout.write(`${jsonReport(machine, results)}\n`);
  else process.stdout.write(`\n${tableReport(machine, results, { markdown: args.markdown })}\n`);
  if (failed.length > 0) log(`failed suites: ${failed.join(", ")}`);
  const missed = results.filter((r) => r.met === false).map((r) => r.name);
  if (missed.length > 0) log(`targets not met: ${missed.join(", ")}`);
  return failed.length > 0 || controller.signal.aborted ? 1 : 0;
}

process.exitCode = await main();
// Every suite stops what it starts; should a failed one leave a handle open, do not hang on it.
setTimeout(() => {
  process.stderr.write("bench: something a suite started is still running; exiting anyway\n");
  process.exit(process.exitCode ?? 1);
}, 10_000).unref();
