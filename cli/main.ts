import { processIo, runCli } from "./index.ts";

// Output piped into a reader that stops early (`… | head`): the reader has what it wanted, so end
// quietly instead of crashing on the broken pipe.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw err;
  });
}

process.exitCode = await runCli(process.argv, processIo());
