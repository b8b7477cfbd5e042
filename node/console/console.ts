/**
 * The console's composition: the ledger index and the loop that keeps it current, the verifier and
 * the web server, started in that order and stopped in reverse under one AbortController.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { AuditModules } from "../chain/index.ts";
import { readSecretFile, writeFileAtomic } from "../config/index.ts";
import type { Logger } from "../logger.ts";
import { LedgerIndex } from "./ledger-index.ts";
import { CONSOLE_DEFAULTS } from "./options.ts";
import { ConsoleServer, type ConsoleProposal, type ConsoleView } from "./server.ts";
import { LedgerVerifier } from "./verify.ts";

/** Options of {@link WebConsole}; defaults in CONSOLE_DEFAULTS. */
export interface WebConsoleOptions {
  /** Where the index lives (console/ in the data directory). */
  dir: string;
  token: string;
  host?: string;
  port?: number;
  pageSize?: number;
  pollIntervalMs?: number;
  reorgMarginBlocks?: number;
  chunkBlocks?: number;
}

/** Dependencies of {@link WebConsole}: the chain, read-only, and the registry view (already started). */
export interface WebConsoleModules {
  audit: AuditModules;
  ledgerAddress: string;
  view: ConsoleView;
  proposals(): Promise<ConsoleProposal[]>;
  logger: Logger;
}

/** The index file of one chain's ledger: a console pointed at another consortium keeps its own. */
export function indexLocation(dir: string, chainId: bigint, ledgerAddress: string): string {
  return join(dir, `index-${chainId}-${ledgerAddress.toLowerCase()}.sqlite`);
}

/**
 * The console's read-only token: read from `file`, or created there (32 random bytes, base64url,
 * mode 0600) when it does not exist. `created` says which.
 */
export async function loadOrCreateToken(file: string): Promise<{ token: string; created: boolean }> {
  const existing = (await readSecretFile(file))?.trim();
  if (existing) return { token: existing, created: false };
  const token = randomBytes(32).toString("base64url");
  await writeFileAtomic(file, `${token}\n`, 0o600);
  return { token, created: true };
}

/** The console: index, poll loop, verifier and server. */
export class WebConsole {
  private readonly opts: Required<WebConsoleOptions>;
  private readonly modules: WebConsoleModules;
  private readonly controller = new AbortController();
  private readonly log: Logger;
  private index: LedgerIndex | undefined;
  private server: ConsoleServer | undefined;
  private loop: Promise<void> | undefined;
  private headBlock = -1;
  private lastError: string | undefined;
  private closed = false;

  constructor(opts: WebConsoleOptions, modules: WebConsoleModules) {
    this.opts = {
      host: CONSOLE_DEFAULTS.host, port: CONSOLE_DEFAULTS.port, pageSize: CONSOLE_DEFAULTS.pageSize, pollIntervalMs: CONSOLE_DEFAULTS.pollIntervalMs,
      reorgMarginBlocks: CONSOLE_DEFAULTS.reorgMarginBlocks, chunkBlocks: CONSOLE_DEFAULTS.chunkBlocks, ...opts,
    };
    this.modules = modules;
    this.log = modules.logger.child({ module: "console" });
  }

  /** The index file. */
  get indexFile(): string {
    return indexLocation(this.opts.dir, this.modules.audit.chainId, this.modules.ledgerAddress);
  }

  /** Opens the index, starts following the chain and listens; returns the URL (without the token). */
  async start(): Promise<string> {
    const index = new LedgerIndex({
      location: this.indexFile, chainId: this.modules.audit.chainId, ledgerAddress: this.modules.ledgerAddress,
      reorgMarginBlocks: this.opts.reorgMarginBlocks, chunkBlocks: this.opts.chunkBlocks,
    });
    this.index = index;
    const verifier = new LedgerVerifier({ chunkBlocks: this.opts.chunkBlocks }, { audit: this.modules.audit, logger: this.log });
    this.server = new ConsoleServer(
      { host: this.opts.host, port: this.opts.port, token: this.opts.token, pageSize: this.opts.pageSize, cookieName: CONSOLE_DEFAULTS.cookieName, requestTimeoutMs: CONSOLE_DEFAULTS.requestTimeoutMs },
      {
        index, view: this.modules.view, audit: this.modules.audit, ledgerAddress: this.modules.ledgerAddress, verifier, proposals: this.modules.proposals,
        indexStatus: () => ({ ...index.status(), headBlock: this.headBlock, ...(this.lastError === undefined ? {} : { lastError: this.lastError }) }),
        signal: this.controller.signal, logger: this.log,
      },
    );
    this.loop = this.follow(index);
    return this.server.start();
  }

  /** Brings the index up to the chain head now (the poll loop does this every pollIntervalMs). */
  async catchUp(): Promise<void> {
    const index = this.index;
    if (index === undefined) return;
    const head = await this.modules.audit.provider.getBlockNumber();
    this.headBlock = head;
    await index.sync(this.modules.audit, head, undefined, this.controller.signal);
  }

  private async follow(index: LedgerIndex): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      const started = index.indexedBlock;
      try {
        await this.catchUp();
        this.lastError = undefined;
        if (index.indexedBlock > started + this.opts.reorgMarginBlocks) this.log.info({ indexedBlock: index.indexedBlock }, "ledger index caught up");
      } catch (err) {
        if (signal.aborted) break;
        this.lastError = (err as { code?: string }).code ?? "E_INTERNAL";
        this.log.warn({ err }, "ledger index poll failed; retrying");
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.opts.pollIntervalMs);
        signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
      });
    }
  }

  /** Stops the server, the loop and closes the index (idempotent). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.controller.abort(new Error("console closing"));
    await this.server?.stop();
    await this.loop?.catch(() => undefined);
    this.index?.close();
  }
}
