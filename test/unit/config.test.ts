import { expect } from "chai";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hexlify, randomBytes } from "ethers";
import { CONFIG_DEFAULTS, KeyStore, loadConfig, newConfig, parseConfig, saveConfig } from "../../node/config/index.ts";
import { isRiskshareError } from "../../node/errors.ts";
import { MAX_DEADLINE_AHEAD_SECONDS } from "../../node/p2p/index.ts";

describe("node config and key store", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "riskshare-config-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("fills every default from one place", () => {
    const config = parseConfig(newConfig({ name: "Bank A" }), "test");
    expect(config.chain.rpcUrl).to.equal(CONFIG_DEFAULTS.chain.rpcUrl);
    expect(config.p2p.listen).to.deep.equal(CONFIG_DEFAULTS.p2p.listen);
    expect(config.api).to.deep.equal({ host: "127.0.0.1", port: 0 });
    expect(config.ledger.maxBatchRecords).to.equal(CONFIG_DEFAULTS.ledger.maxBatchRecords);
    expect(config.identity.defaultRegion).to.equal("CN");
  });

  it("caps the request lifetime at what a provider accepts ahead", () => {
    expect(parseConfig({ version: 1, name: "A", lookup: { requestTtlSeconds: MAX_DEADLINE_AHEAD_SECONDS } }, "cfg.json").lookup.requestTtlSeconds).to.equal(MAX_DEADLINE_AHEAD_SECONDS);
    expect(() => parseConfig({ version: 1, name: "A", lookup: { requestTtlSeconds: MAX_DEADLINE_AHEAD_SECONDS + 1 } }, "cfg.json")).to.throw(/lookup\.requestTtlSeconds/);
  });

  it("names each wrong field and refuses unknown ones", () => {
    try {
      parseConfig({ version: 1, name: "", api: { host: "0.0.0.0" }, chain: { rpcUrl: "ftp://x" }, extra: 1 }, "cfg.json");
      expect.fail("expected E_CONFIG");
    } catch (err) {
      expect(isRiskshareError(err, "E_CONFIG")).to.equal(true);
      const message = (err as Error).message;
      for (const field of ["name", "api.host", "chain.rpcUrl", "extra"]) expect(message, field).to.contain(field === "extra" ? "extra" : field);
    }
  });

  it("round-trips through disk and rejects a broken file with its path", async () => {
    await saveConfig(dir, newConfig({ name: "Bank A", api: { port: 8080 } }));
    expect((await loadConfig(dir)).api.port).to.equal(8080);
    expect((await stat(join(dir, "config.json"))).mode & 0o777).to.equal(0o600);
    await writeFile(join(dir, "config.json"), "{ not json");
    try {
      await loadConfig(dir);
      expect.fail("expected E_CONFIG");
    } catch (err) {
      expect(isRiskshareError(err, "E_CONFIG")).to.equal(true);
      expect((err as Error).message).to.contain("config.json");
    }
  });

  it("keeps the node key, the journal key and the API token in 0600 files, never overwriting one, and a damaged key file names the file, not its contents", async () => {
    const keys = new KeyStore({ dataDir: dir, passphrase: "test passphrase", kdf: "light" });
    const wallet = await keys.initNodeKey();
    expect((await keys.initNodeKey()).address).to.equal(wallet.address);
    expect((await stat(join(dir, "keys", "node.key"))).mode & 0o777).to.equal(0o600);
    const journalKey = await keys.journalKey();
    expect(journalKey).to.have.length(32);
    expect(await keys.journalKey(), "a second call reads the same key, never a new one").to.deep.equal(journalKey);
    expect((await stat(join(dir, "keys", "journal.key"))).mode & 0o777).to.equal(0o600);
    const tokens = await keys.initApiTokens();
    expect(await keys.initApiTokens()).to.deep.equal(tokens);
    expect(await keys.apiToken()).to.equal(tokens.admin);

    const damagedJournal = "0x" + "ab".repeat(31) + "zz"; // not hex: the parser's own message would quote it
    await writeFile(join(dir, "keys", "journal.key"), `${damagedJournal}\n`);
    const oprfSecret = hexlify(randomBytes(32));
    await keys.putOprfKey(2, oprfSecret);
    const damagedOprf = oprfSecret.slice(0, 40);
    await writeFile(join(dir, "keys", "oprf-2.key"), `${damagedOprf}\n`);
    const damaged: Array<[string, () => Promise<unknown>, string, string]> = [
      ["journal.key", () => keys.journalKey(), "journal.key", damagedJournal.slice(2)],
      ["oprf-2.key", () => keys.oprfKey(2), "oprf-2.key", damagedOprf.slice(2)],
    ];
    for (const [name, read, file, contents] of damaged) {
      const err = await read().then(() => undefined, (e: unknown) => e);
      expect(isRiskshareError(err, "E_CONFIG"), name).to.equal(true);
      const told = `${(err as Error).message} ${JSON.stringify((err as { meta?: unknown }).meta)}`;
      expect(told, name).to.contain(file);
      expect(told, name).to.not.contain(contents);
    }
  });

  it("keeps the OPRF secret key of each key epoch in its own 0600 file, never overwritten by another", async () => {
    const keys = new KeyStore({ dataDir: dir, passphrase: "test passphrase", kdf: "light" });
    const secret = hexlify(randomBytes(32));
    expect(await keys.oprfKeyEpochs()).to.deep.equal([]);
    await keys.putOprfKey(1, secret);
    await keys.putOprfKey(1, secret.slice(2).toUpperCase()); // the same key, spelt otherwise: a no-op
    await keys.putOprfKey(3, hexlify(randomBytes(32)));
    expect(hexlify(await keys.oprfKey(1) ?? new Uint8Array())).to.equal(secret);
    expect(await keys.oprfKey(2)).to.equal(undefined);
    expect(await keys.oprfKeyEpochs()).to.deep.equal([1, 3]);
    expect((await stat(join(dir, "keys", "oprf-1.key"))).mode & 0o777).to.equal(0o600);
    const refusals: Array<[string, () => Promise<unknown>, string]> = [
      ["another key for epoch 1", () => keys.putOprfKey(1, hexlify(randomBytes(32))), "E_CONFIG"],
      ["31 bytes", () => keys.putOprfKey(2, hexlify(randomBytes(31))), "E_BAD_INPUT"],
      ["epoch 0", () => keys.putOprfKey(0, secret), "E_BAD_INPUT"],
    ];
    for (const [name, attempt, code] of refusals) {
      const err = await attempt().then(() => undefined, (e: unknown) => e);
      expect(isRiskshareError(err, code as "E_CONFIG"), name).to.equal(true);
      expect((err as Error).message, name).to.not.contain(secret.slice(2));
    }
  });
});
