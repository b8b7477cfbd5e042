import { resolve } from "node:path";
import type { Command } from "commander";
import { createLogger, silentLogger, type Logger } from "../node/logger.ts";
import { Output, type CliIo } from "./output.ts";

/** Global options every command receives. */
export interface GlobalOptions {
  dataDir?: string;
  json?: boolean;
  logLevel?: string;
}

/** What a command action works with: the resolved data dir, output and a logger. */
export interface CliContext {
  dataDir: string;
  json: boolean;
  out: Output;
  logger: Logger;
  io: CliIo;
}

/** The default data directory: $RISKSHARE_DATA_DIR, else ./.riskshare. */
export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  return env.RISKSHARE_DATA_DIR ?? "./.riskshare";
}

/** Builds the context from the global options of the command being run. */
export function contextOf(command: Command, io: CliIo): CliContext {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const json = globals.json === true;
  const level = globals.logLevel ?? (json ? "silent" : "warn");
  return {
    dataDir: resolve(globals.dataDir ?? defaultDataDir(io.env)),
    json,
    out: new Output(io, json),
    logger: level === "silent" ? silentLogger() : createLogger({ level }),
    io,
  };
}
