import { Command } from "commander";
import { z } from "zod";
import { MAX_DEVNET_MEMBERS } from "../../scripts/devnet/options.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import type { CliIo } from "../output.ts";
import type { CapturedCli } from "../capture.ts";

const schema = z.object({
  members: z.coerce.number().int().min(2).max(MAX_DEVNET_MEMBERS),
  dir: z.string().min(1),
  chain: z.enum(["hardhat", "anvil"]),
  demo: z.boolean().optional(),
  rows: z.coerce.number().int().min(100, "must be at least 100, so every member contributes enough to each category to ask for it").max(1_000_000),
  exit: z.boolean().optional(),
});

/** What `devnet up` needs from the composition root: the CLI itself, which the demo's story runs. */
export interface DevnetCommandModules {
  cli: CapturedCli;
}

/** `riskshare devnet up`: a local consortium in one command. */
export function devnetCommand(io: CliIo, modules: DevnetCommandModules): Command {
  const devnet = new Command("devnet").description("a local consortium on this machine, for trying riskshare out");
  devnet.addCommand(new Command("up")
    .description("start a chain on 127.0.0.1, deploy, create N members with synthetic lists and running nodes; stays up until Ctrl-C")
    .option("--members <n>", `how many member banks (2 to ${MAX_DEVNET_MEMBERS})`, "3")
    .option("--dir <dir>", "where the members' data directories and devnet.json go (emptied first if it holds an earlier devnet)", "./.riskshare-devnet")
    .option("--chain <kind>", "hardhat (Hardhat's node) or anvil (a block a second once deployed)", "hardhat")
    .option("--demo", "walk through the scripted story and print it")
    .option("--rows <n>", "synthetic entries per member", "200")
    .option("--exit", "stop everything and exit once the devnet is up (and the demo, with --demo, has run): for scripts and CI")
    .addHelpText("after", "\nExamples:\n  npm start                                   # = riskshare devnet up --members 3 --demo\n  npx riskshare devnet up --members 4 --chain anvil --dir /tmp/devnet")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(schema, raw);
      const stopSignal = new Promise<string>((resolve) => {
        process.once("SIGINT", () => resolve("SIGINT"));
        process.once("SIGTERM", () => resolve("SIGTERM"));
      });
      // Loaded on use: only `devnet up` needs the devnet's modules (every other command starts faster).
      const { devnetUp } = await import("../../scripts/devnet/devnet.ts");
      const devnet = await devnetUp(
        { members: opts.members, dir: opts.dir, chain: opts.chain, demo: opts.demo === true, rowsPerMember: opts.rows, stayUp: opts.exit !== true },
        { io: { say: (line) => ctx.out.say(line), note: (line) => ctx.out.note(line) }, cli: modules.cli },
      );
      try {
        if (ctx.json) ctx.out.result(devnet.manifest, () => "");
        else if (!opts.demo) ctx.out.say(`devnet up with ${devnet.manifest.members.length} members; details in ${opts.dir}/devnet.json. Press Ctrl-C to stop.`);
        if (!opts.exit) ctx.out.note(`stopping on ${await stopSignal}`);
      } finally {
        await devnet.stop();
      }
    }));
  return devnet;
}
