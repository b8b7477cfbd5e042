import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromiumPath } from "../e2e/support/browser.ts";

describe("the browser tests' Chromium", () => {
  it("fails with a message saying how to install it when none is found, rather than skipping", async () => {
    const empty = await mkdtemp(join(tmpdir(), "riskshare-no-chromium-"));
    const saved = { path: process.env.PATH, chromium: process.env.RISKSHARE_CHROMIUM };
    try {
      process.env.PATH = empty;
      delete process.env.RISKSHARE_CHROMIUM;
      expect(() => chromiumPath()).to.throw(/no Chromium found .*apt-get install -y chromium.*RISKSHARE_CHROMIUM/);
    } finally {
      process.env.PATH = saved.path;
      if (saved.chromium !== undefined) process.env.RISKSHARE_CHROMIUM = saved.chromium;
      await rm(empty, { recursive: true, force: true });
    }
  });
});
