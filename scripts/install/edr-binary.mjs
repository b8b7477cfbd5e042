#!/usr/bin/env node
// Puts Hardhat's EDR platform binary in place when npm skipped it.
//
// Why: npm itself may run on an older Node than the project (Node 20 here; the project runs on the
// node@24 devDependency). EDR's platform packages are optional dependencies that declare
// `engines: node >= 22`, and npm silently skips an optional package whose engines do not match the
// Node that runs npm — there is no setting to change that. This step runs on the project's Node
// (npm puts node_modules/.bin first on PATH), finds the package the lockfile pins for this platform,
// fetches exactly that version through npm, checks it against the lockfile's integrity and unpacks it.
// On a Node that npm does not skip it for, or on a platform EDR does not support, it does nothing.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(join(root, "package.json"));

function isMusl() {
  if (process.platform !== "linux") return false;
  const report = process.report?.getReport?.();
  return !report?.header?.glibcVersionRuntime;
}

function platformPackage() {
  const { platform, arch } = process;
  if (platform === "linux") return `@nomicfoundation/edr-linux-${arch}-${isMusl() ? "musl" : "gnu"}`;
  if (platform === "darwin") return `@nomicfoundation/edr-darwin-${arch}`;
  if (platform === "win32") return `@nomicfoundation/edr-win32-${arch}-msvc`;
  return undefined;
}

function fail(message) {
  process.stderr.write(`riskshare install: ${message}\n`);
  process.exit(1);
}

const name = platformPackage();
const target = name && join(root, "node_modules", ...name.split("/"));
if (!name || existsSync(join(target, "package.json"))) process.exit(0);

const lock = JSON.parse(readFileSync(join(root, "package-lock.json"), "utf8"));
const pinned = lock.packages?.[`node_modules/${name}`];
if (!pinned) {
  process.stderr.write(`riskshare install: Hardhat's EDR has no binary for ${process.platform}-${process.arch}; the local chain will not run here.\n`);
  process.exit(0);
}
if (!existsSync(join(root, "node_modules", "@nomicfoundation", "edr", "package.json"))) process.exit(0);

const npmCli = process.env.npm_execpath;
const npm = (args, cwd) =>
  npmCli ? execFileSync(process.execPath, [npmCli, ...args], { cwd, encoding: "utf8" }) : execFileSync("npm", args, { cwd, encoding: "utf8", shell: process.platform === "win32" });

// Unpacked beside its destination, so the final move is a rename on one file system.
const work = mkdtempSync(join(root, "node_modules", ".riskshare-edr-"));
try {
  const packed = JSON.parse(npm(["pack", `${name}@${pinned.version}`, "--json", "--silent", "--pack-destination", work], work));
  const tarball = join(work, packed[0].filename);
  const [algorithm, expected] = pinned.integrity.split(/-(.*)/s);
  const actual = createHash(algorithm).update(readFileSync(tarball)).digest("base64");
  if (actual !== expected) fail(`${name}@${pinned.version} does not match the lockfile's integrity; refusing to install it.`);
  execFileSync("tar", ["-xzf", tarball, "-C", work]);
  rmSync(target, { recursive: true, force: true });
  renameSync(join(work, "package"), target);
  require.resolve(`${name}/package.json`);
  process.stdout.write(`riskshare install: placed ${name}@${pinned.version} (npm skipped it: its engines need Node >= 22).\n`);
} catch (err) {
  fail(`could not place ${name}@${pinned.version}: ${err.message}. Run \`npx npm@11 install\` on Node 22 or newer instead.`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
