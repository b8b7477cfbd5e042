import { CHAIN_DEFAULTS } from "../chain/index.ts";

/** Defaults of the console (the CLI maps its flags onto them). */
export const CONSOLE_DEFAULTS = {
  /** Loopback only: the console shows who asked whom; exposing it is a decision, not a default. */
  host: "127.0.0.1",
  port: 8650,
  /** Records per ledger page. */
  pageSize: 50,
  /** How often the index looks for new blocks (as the node's chain view polls). */
  pollIntervalMs: 2_000,
  /** Blocks below the last indexed one read again on every poll: a reorganisation this shallow is repaired. */
  reorgMarginBlocks: 6,
  /** Blocks per eth_getLogs step of the index and of a verification. */
  chunkBlocks: CHAIN_DEFAULTS.logChunkBlocks,
  /** The console's files under the data directory. */
  dir: "console",
  /** The read-only token's file in that directory (0600), unless --token-file names another. */
  tokenFile: "console.token",
  /** The session cookie a `?token=` page load sets (HttpOnly, SameSite=Strict). */
  cookieName: "riskshare_console",
  /** Longest a request may take. */
  requestTimeoutMs: 30_000,
} as const;
