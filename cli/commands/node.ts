import { Command } from "commander";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { RiskshareNode } from "../../node/node.ts";
import { healthResponseSchema, type HealthResponse } from "../../node/api/index.ts";
import { auditModulesOf, recordedOnChain, takeOverLedger, transactionState, type LedgerTakeOver } from "../../node/chain/index.ts";
import { DATA_DIR_LAYOUT, KeyStore, loadConfig, writeFileAtomic } from "../../node/config/index.ts";
import { isRiskshareError, RiskshareError } from "../../node/errors.ts";
import { createLogger } from "../../node/logger.ts";
import { Store } from "../../node/store/index.ts";
import { chainFlagsSchema, loadView, withChainFlags, withSession } from "../chain.ts";
import { contextOf } from "../context.ts";
import { parseOptions, ReportedFailure } from "../errors.ts";
import type { CliIo } from "../output.ts";
import { callNodeApi, readRuntime, RUNTIME_FILE, type NodeRuntime } from "../runtime.ts";

const startSchema = z.object({ connect: z.array(z.string()).optional() });

/** `riskshare node start | status | take-over`: run the member node, see how it is, make it the ledger writer. */
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
  node.addCommand(new Command("status")
    .description("show how the running node is (GET /v1/health): whether it serves lookups and why not, the ledger outbox's depth and oldest record, the last batch on chain, which node writes the member's batches, the chain head and lag, connected peers, the key epochs and any list import in progress; exits 1 while the node refuses lookups, E_NODE_NOT_READY when no node runs")
    .addHelpText("after", "\nExample:\n  riskshare --data-dir ./bank-a node status\n  riskshare --data-dir ./bank-a --json node status   # the health document as JSON")
    .action(async (_raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const runtime = await readRuntime(ctx.dataDir);
      const response = await callNodeApi(ctx.dataDir, runtime, { method: "GET", path: "/v1/health", timeoutMs: 10_000 });
      const parsed = healthResponseSchema.safeParse(await response.json().catch(() => undefined));
      if (!parsed.success) throw new RiskshareError("E_NODE_NOT_READY", `the node at ${runtime.apiUrl} answered its health malformed; restart it with this version of riskshare`);
      ctx.out.result(parsed.data, renderStatus);
      if (parsed.data.status === "refusing") throw new ReportedFailure("the node refuses lookups");
    }));
  node.addCommand(withChainFlags(new Command("take-over"))
    .description("make this data dir's node the one that writes this member's ledger batches (after E_LEDGER_OTHER_WRITER, or to fail over to a standby): run it with this node stopped and only once the other node is stopped for good. It adopts the member's last batch on chain, keeps this node's batches found on chain, queues the records of those that never landed again and drops the records the chain holds already (a restored backup's); the records the other node did not land stay in its own data dir")
    .addHelpText("after", "\nExample:\n  # on the old primary: stop its node (and keep it stopped)\n  riskshare --data-dir ./bank-a-standby node take-over\n  riskshare --data-dir ./bank-a-standby node start")
    .action(async (raw: unknown, command: Command) => {
      const ctx = contextOf(command, io);
      const opts = parseOptions(chainFlagsSchema, raw);
      const address = (await new KeyStore({ dataDir: ctx.dataDir, env: ctx.io.env }).nodeKey()).address;
      const result = await withSession(ctx, opts, false, async (session) => {
        const view = await loadView(session, ctx);
        // A running node holds the store's lock: opening it tells.
        const store = new Store({ location: join(ctx.dataDir, DATA_DIR_LAYOUT.dbDir), categories: view.activeCategoryMap() }, { logger: ctx.logger });
        await store.open().catch((err: unknown) => {
          if (isRiskshareError(err, "E_STORE_CLOSED") && err.meta.locked === true) throw new RiskshareError("E_STORE_CLOSED", "this data dir's node is running: stop it, then take over", { locked: true }, { cause: err });
          throw err;
        });
        try {
          const outbox = store.outbox({ maxBacklog: Number.MAX_SAFE_INTEGER });
          await outbox.open();
          const { ledger } = session.contracts;
          const done = await takeOverLedger(address, {
            chain: { lastSequence: () => ledger.lastSequence(address), transactionState: (txHash) => transactionState(session.connection.rpc, txHash) },
            outbox,
            onChain: recordedOnChain(auditModulesOf(session.connection, session.contracts), address, session.contracts.addresses.ledger),
          });
          return { address, ...done, previousSeq: done.previousSeq ?? null, backlog: outbox.backlog() };
        } finally {
          await store.close();
        }
      });
      ctx.out.result(result, renderTakeOver);
    }));
  return node;
}

/** The text of `node take-over`. */
function renderTakeOver(r: Omit<LedgerTakeOver, "previousSeq"> & { address: string; previousSeq: bigint | null; backlog: number }): string {
  return [
    `this data dir's node now writes the ledger batches of ${r.address}: from batch ${r.chainSeq + 1n} on (the chain's last, ${r.chainSeq}, adopted)`,
    `  its own batches before: ${r.previousSeq === null ? "none" : `up to ${r.previousSeq}`}; its pending batches found on chain: ${r.landedBatches}; records queued again: ${r.requeuedRecords}; records dropped as on chain already: ${r.droppedRecords}; records waiting: ${r.backlog}`,
    "Keep the other node stopped: should it run again, it stops flushing and refuses lookups (E_LEDGER_OTHER_WRITER). The records it did not land stay in its data dir.",
    "Start this node: riskshare node start",
  ].join("\n");
}

/** The text of `node status` (exported for its tests). */
export function renderStatus(h: HealthResponse): string {
  const { ledger, chain, keyEpoch } = h;
  const lines = [`node ${h.address}: ${h.status === "refusing" ? "REFUSING lookups" : h.status}`, `  peerId     ${h.peerId}`];
  for (const reason of h.reasons) lines.push(`  ! ${reason}`);
  lines.push(`  outbox     ${ledger.backlog} record(s) not on chain (max ${ledger.maxBacklog})${ledger.oldestRecordAt === undefined ? "" : `, the oldest from ${ledger.oldestRecordAt}`}`);
  const last = ledger.lastBatch;
  lines.push(`  last batch ${last === undefined ? "none yet" : `${last.seq}, ${last.adopted ? "adopted at a take-over" : "landed"} ${last.at}${last.txHash === undefined ? "" : ` (tx ${last.txHash})`}`}`);
  const writer = ledger.writer;
  lines.push(`  writer     ${writer.state === "writing" ? "this node" : writer.state === "closed" ? "none: the QueryLedger closed to this removed member" : `ANOTHER NODE: the chain holds batches up to ${writer.chainSeq}, this node's own end at ${writer.ownSeq} (riskshare node take-over)`}${ledger.lastError === undefined ? "" : `; last flush error ${ledger.lastError}`}`);
  lines.push(`  chain      ${chain.headBlock === undefined ? `synced to block ${chain.syncedBlock}` : `block ${chain.syncedBlock} of ${chain.headBlock} (${chain.lagBlocks ?? 0} behind)`}${chain.stale ? ", STALE" : ""}${chain.lastError === undefined ? "" : `, last error ${chain.lastError}`}`);
  lines.push(`  peers      ${h.peers.connected} connected, of ${h.peers.activeMembers} Active member(s)`);
  lines.push(`  key epoch  ${keyEpoch.answering === undefined ? "no OPRF key held" : `answering under ${keyEpoch.answering}`}, on chain ${keyEpoch.onChain ?? "none (not a member)"}`);
  const prepared = keyEpoch.prepared;
  if (prepared !== undefined) {
    const command = prepared.newAccount === undefined ? "rotate-oprf" : "rotate-member";
    lines.push(`  rotation   the store of key epoch ${prepared.keyEpoch}${prepared.newAccount === undefined ? "" : ` for the move to ${prepared.newAccount}`} ${prepared.complete
      ? `is prepared (${prepared.preparedAt ?? prepared.startedAt}): stop the node once the outbox is empty and run riskshare key ${command} --commit`
      : `is being prepared since ${prepared.startedAt} (riskshare key ${command} --prepare; an interrupted one resumes when run again with the same files)`}`);
  }
  const im = h.import;
  lines.push(`  import     ${!im.inProgress ? "none in progress" : [
    im.source ?? im.importId ?? "in progress",
    im.rows === undefined ? undefined : `${im.rows} rows`,
    im.bytes === undefined ? undefined : `${im.bytes}${im.totalBytes === undefined ? "" : ` of ${im.totalBytes}`} bytes${im.totalBytes ? ` (${Math.floor((im.bytes / im.totalBytes) * 100)}%)` : ""}`,
    im.startedAt === undefined ? undefined : `since ${im.startedAt}`,
  ].filter((part) => part !== undefined).join(", ")}`);
  return lines.join("\n");
}
