import { Command } from "commander";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { RiskshareNode } from "../../node/node.ts";
import { loadConfig, writeFileAtomic } from "../../node/config/index.ts";
import { createLogger } from "../../node/logger.ts";
import { contextOf } from "../context.ts";
import { parseOptions } from "../errors.ts";
import type { CliIo } from "../output.ts";
import { RUNTIME_FILE, type NodeRuntime } from "../runtime.ts";

const startSchema = z.object({ connect: z.array(z.string()).optional() });

/** `riskshare node start`: runs the member node in the foreground until SIGINT/SIGTERM. */
export function nodeCommand(io: CliIo): Command {
  const node = new Command("node").description("run this member's node");
  node.addCommand(new Command("start")
    .description("run the node in the foreground: chain view, libp2p lookups and tag filters, ledger batcher, local API; SIGINT/SIGTERM stop it cleanly")
    .option("--connect <multiaddr...>", "peers to dial at start, in addition to the config's bootstrap list")
    .addHelpText("after", "\nExample:\n  riskshare --data-dir ./bank-a node start\n  # then, from another shell: riskshare --data-dir ./bank-a query --type phone --value 13800138000")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(startSchema, raw);
      // Logs go to stderr (stdout carries the runtime document under --json).
      // The level: --log-level, else config.json's log.level.
      const config = await loadConfig(ctx.dataDir);
      const logger = createLogger({ level: command.optsWithGlobals<{ logLevel?: string }>().logLevel ?? config.log.level });
      const instance = await RiskshareNode.open({ dataDir: ctx.dataDir, config, version: "0.1.0", env: io.env }, { logger });
      const stopped = new Promise<string>((resolve) => {
        process.once("SIGINT", () => resolve("SIGINT"));
        process.once("SIGTERM", () => resolve("SIGTERM"));
      });
      const info = await instance.start();
      if (opts.connect) await instance.connect(opts.connect);
      const runtime: NodeRuntime = {
        pid: process.pid, address: info.address, peerId: info.peerId, multiaddrs: info.multiaddrs, apiUrl: info.apiUrl, startedAt: new Date().toISOString(),
      };
      await writeFileAtomic(join(ctx.dataDir, RUNTIME_FILE), `${JSON.stringify(runtime, null, 2)}\n`, 0o600);
      ctx.out.result(runtime, (r) => [
        `node ${info.name} running (pid ${r.pid})`, `  address  ${r.address}`, `  peerId   ${r.peerId}`, `  listen   ${r.multiaddrs.join(" ")}`, `  api      ${r.apiUrl}`,
        "press Ctrl-C to stop",
      ].join("\n"));
      const signal = await stopped;
      ctx.out.note(`${signal}: stopping`);
      await instance.close();
      await rm(join(ctx.dataDir, RUNTIME_FILE), { force: true });
    }));
  return node;
}
