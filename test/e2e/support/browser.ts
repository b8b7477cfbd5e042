/**
 * A real browser for end-to-end tests: Debian's Chromium driven by playwright-core. Without a
 * Chromium the tests that need it fail with a message saying how to install one (never skip).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";

/** Where tests keep their screenshots (gitignored). */
export const ARTIFACTS_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "test-artifacts");

/** The Chromium to drive: $RISKSHARE_CHROMIUM, else `chromium` (or `chromium-browser`) on PATH. */
export function chromiumPath(): string {
  if (process.env.RISKSHARE_CHROMIUM) return process.env.RISKSHARE_CHROMIUM;
  for (const name of ["chromium", "chromium-browser"]) {
    try {
      const found = execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim();
      if (found !== "") return found;
    } catch {
      // not on PATH
    }
  }
  throw new Error("no Chromium found for the browser tests: install Debian's chromium (`apt-get install -y chromium`; .ci/run does this) or set RISKSHARE_CHROMIUM to a Chromium binary");
}

/** Launches a headless Chromium without network access beyond loopback pages. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"] });
}

/** The path of screenshot `name` under test-artifacts/<group>/ (the folder is created). */
export function artifactPath(group: string, name: string): string {
  const dir = join(ARTIFACTS_DIR, group);
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
