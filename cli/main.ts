import { processIo, runCli } from "./index.ts";

process.exitCode = await runCli(process.argv, processIo());
