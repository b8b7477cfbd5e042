#!/usr/bin/env node
// Entry point of the `riskshare` command. The project pins Node 24 (npm scripts and npx put it
// first on PATH); an older Node is refused with a sentence that says what to do.
const major = Number(process.versions.node.split(".")[0]);
if (major < 22) {
  process.stderr.write(
    `error E_USAGE: riskshare needs Node.js 22 or newer (this is ${process.version}). Run it as \`npx riskshare\` from the project folder, which uses the Node 24 the project installs.\n`,
  );
  process.exit(2);
}
const { register } = await import("tsx/esm/api");
register();
await import("../cli/main.ts");
