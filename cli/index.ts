/**
 * The `riskshare` command line: composes one command per file and nothing else.
 *
 * @example
 *   const status = await runCli(["node", "riskshare", "--json", "list", "stats"], processIo());
 *   const run = await runCliCaptured(["--json", "member", "list"]); // run.status, run.json()
 */
import { Command } from "commander";
import { captureCli, type CapturedRun } from "./capture.ts";
import { handleError } from "./errors.ts";
import type { CliIo } from "./output.ts";
import { initCommand } from "./commands/init.ts";
import { deployCommand } from "./commands/deploy.ts";
import { adminCommand } from "./commands/admin.ts";
import { contributionCommand } from "./commands/contribution.ts";
import { memberCommand } from "./commands/member.ts";
import { regulatorCommand } from "./commands/regulator.ts";
import { proposalCommand } from "./commands/proposal.ts";
import { auditCommand } from "./commands/audit.ts";
import { nodeCommand } from "./commands/node.ts";
import { listCommand } from "./commands/list.ts";
import { devnetCommand } from "./commands/devnet.ts";
import { queryCommand } from "./commands/query.ts";
import { keyCommand } from "./commands/key.ts";
import { feedbackCommand } from "./commands/feedback.ts";
import { hitsCommand } from "./commands/hits.ts";
import { creditsCommand } from "./commands/credits.ts";
import { consoleCommand } from "./commands/console.ts";

/** Builds the program with every command. */
export function buildProgram(io: CliIo): Command {
  const program = new Command("riskshare")
    .description("riskshare: share risk lists within a permissioned consortium, with private lookups")
    .option("--data-dir <dir>", "node data directory (default $RISKSHARE_DATA_DIR or ./.riskshare)")
    .option("--json", "print one JSON document on stdout and nothing else")
    .option("--log-level <level>", "log level on stderr: fatal|error|warn|info|debug|trace|silent")
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: () => undefined, // errors go through handleError, once
    });
  program.addCommand(initCommand(io));
  program.addCommand(deployCommand(io));
  program.addCommand(adminCommand(io));
  program.addCommand(memberCommand(io));
  program.addCommand(proposalCommand(io));
  program.addCommand(regulatorCommand(io));
  program.addCommand(listCommand(io));
  program.addCommand(contributionCommand(io));
  program.addCommand(keyCommand(io));
  program.addCommand(nodeCommand(io));
  program.addCommand(queryCommand(io));
  program.addCommand(hitsCommand(io));
  program.addCommand(creditsCommand(io));
  program.addCommand(feedbackCommand(io));
  program.addCommand(auditCommand(io));
  program.addCommand(consoleCommand(io));
  // The devnet's story runs commands itself: it is handed the CLI instead of importing it.
  program.addCommand(devnetCommand(io, { cli: (args) => runCliCaptured(args) }));
  for (const command of program.commands) propagate(command);
  return program;
}

function propagate(command: Command): void {
  command.exitOverride();
  command.configureOutput({ writeErr: () => undefined });
  for (const sub of command.commands) propagate(sub);
}

/** Runs the CLI on argv; returns the exit status (never calls process.exit). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    return handleError(err, io, argv.includes("--json"));
  }
}

/** Runs `riskshare …args` in this process and captures what it prints (scripts and tests drive the CLI as a user would). */
export async function runCliCaptured(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CapturedRun> {
  return captureCli(runCli, args, env);
}

/** The process's own streams and environment. */
export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, isTTY: process.stderr.isTTY === true };
}
