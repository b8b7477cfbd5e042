import { Command } from "commander";
import { join, resolve } from "node:path";
import { z } from "zod";
import { auditModulesOf, ConsortiumView, translateChainError } from "../../node/chain/index.ts";
import { CONSOLE_DEFAULTS, loadOrCreateToken, WebConsole, type ConsoleProposal } from "../../node/console/index.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import { chainFlagsSchema, openChain, withChainFlags } from "../chain.ts";
import { latestTimestamp, lookupOf, readCategories, readProposal } from "../governance.ts";
import type { CliIo } from "../output.ts";

const consoleSchema = chainFlagsSchema.extend({
  port: z.coerce.number().int().min(0).max(65_535).default(CONSOLE_DEFAULTS.port),
  host: z.string().min(1).default(CONSOLE_DEFAULTS.host),
  tokenFile: z.string().min(1).optional(),
});

/** `riskshare console`: the read-only web console over the chain (ledger, verification, governance, members). */
export function consoleCommand(io: CliIo): Command {
  return withChainFlags(new Command("console"))
    .description("serve a read-only web console for compliance officers and regulators: overview, ledger with filters and CSV, verification, governance, members; reads only the chain (like audit), keeps a local index under <data-dir>/console/; SIGINT/SIGTERM stop it")
    .option("--port <n>", `port to listen on (0: any free port; default ${CONSOLE_DEFAULTS.port})`)
    .option("--host <address>", `address to bind (default ${CONSOLE_DEFAULTS.host}; anything else exposes who asked whom)`)
    .option("--token-file <file>", `the read-only token's file, created if missing (default <data-dir>/${CONSOLE_DEFAULTS.dir}/${CONSOLE_DEFAULTS.tokenFile})`)
    .addHelpText("after", [
      "",
      "Examples:",
      "  riskshare --data-dir ./bank-a console",
      "  riskshare --data-dir ./regulator-console console --rpc http://127.0.0.1:8545 --registry 0xREGISTRY --token-file ./console.token",
      "  curl -H \"Authorization: Bearer $(cat ./bank-a/console/console.token)\" http://127.0.0.1:8650/api/status",
    ].join("\n"))
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(consoleSchema, raw);
      const session = await openChain(ctx, opts, false);
      const view = new ConsortiumView({ pollIntervalMs: session.config?.chain.pollIntervalMs ?? CONSOLE_DEFAULTS.pollIntervalMs }, { contracts: session.contracts, provider: session.connection.provider, logger: ctx.logger });
      let instance: WebConsole | undefined;
      try {
        await view.start();
        const dir = join(ctx.dataDir, CONSOLE_DEFAULTS.dir);
        const tokenFile = resolve(opts.tokenFile ?? join(dir, CONSOLE_DEFAULTS.tokenFile));
        const { token, created } = await loadOrCreateToken(tokenFile);
        const proposals = async (): Promise<ConsoleProposal[]> => {
          const count = await session.contracts.registry.proposalCount().catch((err: unknown) => { throw translateChainError(err, "count proposals"); });
          const now = await latestTimestamp(session);
          const lookup = lookupOf(await readCategories(session));
          const list: ConsoleProposal[] = [];
          for (let id = 1n; id <= count; id++) list.push(await readProposal(session, id, now, lookup));
          return list;
        };
        const stopped = new Promise<string>((resolveStop) => {
          process.once("SIGINT", () => resolveStop("SIGINT"));
          process.once("SIGTERM", () => resolveStop("SIGTERM"));
        });
        instance = new WebConsole(
          { dir, token, host: opts.host, port: opts.port },
          { audit: auditModulesOf(session.connection, session.contracts), ledgerAddress: session.contracts.addresses.ledger, view, proposals, logger: ctx.logger },
        );
        if (!["127.0.0.1", "::1", "localhost"].includes(opts.host)) ctx.logger.warn({ host: opts.host }, "the console listens beyond loopback: anyone who reaches it with the token sees who asked whom");
        const url = await instance.start();
        ctx.out.result(
          { url, openUrl: `${url}/?token=${token}`, tokenFile, tokenCreated: created, index: instance.indexFile, pid: process.pid },
          (r) => [
            `console: ${r.openUrl}`,
            `  read-only token ${r.tokenCreated ? "created in" : "from"} ${r.tokenFile} (open the URL once: it sets a cookie; or send Authorization: Bearer <token>)`,
            `  index ${r.index}`,
            "  Ctrl-C stops it",
          ].join("\n"),
        );
        await stopped;
      } finally {
        await instance?.close();
        await view.stop();
        session.close();
      }
    });
}
