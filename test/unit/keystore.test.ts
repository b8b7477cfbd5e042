import { expect } from "chai";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encryptKeystoreJson, hexlify, randomBytes, Wallet } from "ethers";
import { KEYSTORE_DEFAULTS, KeyStore, kdfStrengthFromEnv, newConfig, saveConfig, type KeyStoreOptions } from "../../node/config/index.ts";
import { isRiskshareError, type ErrorCode } from "../../node/errors.ts";

const PASSPHRASE = "correct horse battery staple";

/** The error `attempt` rejects with (fails the test when it resolves). */
async function failure(attempt: Promise<unknown>, what: string): Promise<Error & { code?: string; meta?: unknown }> {
  const err = await attempt.then(() => undefined, (e: unknown) => e);
  expect(err, `${what} should fail`).to.be.instanceOf(Error);
  return err as Error & { code?: string };
}

/** Expects `attempt` to fail with `code`, naming `file` and never `secret` in its message or metadata. */
async function expectRefused(attempt: Promise<unknown>, code: ErrorCode, what: string, opts: { file?: string; never?: readonly string[] } = {}): Promise<string> {
  const err = await failure(attempt, what);
  expect(isRiskshareError(err, code), `${what}: ${err.message}`).to.equal(true);
  const told = `${err.message} ${JSON.stringify((err as { meta?: unknown }).meta)}`;
  if (opts.file !== undefined) expect(told, what).to.contain(opts.file);
  for (const secret of opts.never ?? []) expect(told, `${what} must not carry a secret`).to.not.contain(secret);
  return err.message;
}

describe("key store: keys at rest", () => {
  let dir: string;
  let keysDir: string;
  const store = (opts: Partial<KeyStoreOptions> = {}) => new KeyStore({ dataDir: dir, passphrase: PASSPHRASE, kdf: "light", ...opts });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "riskshare-keys-"));
    keysDir = join(dir, "keys");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the member key as an Ethereum keystore v3 document that ethers' own decryption opens, and reads one ethers wrote", async () => {
    const wallet = await store().initNodeKey();
    const document = JSON.parse(await readFile(join(keysDir, "node.key"), "utf8"));
    const crypto = document.crypto ?? document.Crypto; // geth writes "crypto", ethers "Crypto"; both read either
    expect(document.version).to.equal(3);
    expect(crypto.kdf).to.equal("scrypt");
    expect(crypto.cipher).to.equal("aes-128-ctr");
    expect(crypto.kdfparams.n, "the light cost was asked for").to.equal(KEYSTORE_DEFAULTS.kdf.light.N);
    expect(JSON.stringify(document)).to.not.contain(wallet.privateKey.slice(2));
    const opened = await Wallet.fromEncryptedJson(JSON.stringify(document), PASSPHRASE);
    expect(opened.privateKey).to.equal(wallet.privateKey);

    // The other way: a keystore written by ethers (as geth or a hardware-wallet export would be) is read as the member key.
    const other = Wallet.createRandom();
    const foreign = join(dir, "other");
    await mkdir(join(foreign, "keys"), { recursive: true });
    await writeFile(join(foreign, "keys", "node.key"), await encryptKeystoreJson({ address: other.address, privateKey: other.privateKey }, PASSPHRASE, { scrypt: { N: 2 ** 12 } }), { mode: 0o600 });
    expect((await new KeyStore({ dataDir: foreign, passphrase: PASSPHRASE }).nodeKey()).address).to.equal(other.address);
  });

  it("uses geth's standard scrypt cost (N = 2^18) unless the light one is asked for, and a passphrase change lifts light keys to it", async function () {
    this.timeout(60_000);
    const wallet = await store().initNodeKey();
    expect(await store({ kdf: undefined }).changePassphrase(PASSPHRASE), "the same passphrase, a higher cost").to.deep.equal(["node.key"]);
    const document = JSON.parse(await readFile(join(keysDir, "node.key"), "utf8"));
    const { n, r, p } = (document.crypto ?? document.Crypto).kdfparams;
    expect([n, r, p]).to.deep.equal([2 ** 18, 8, 1]);
    expect((await store({ kdf: undefined }).nodeKey()).address).to.equal(wallet.address);
    expect((await store({ kdf: undefined }).files())[0]!.kdf).to.deep.equal({ N: 2 ** 18, r: 8, p: 1 });
    expect(kdfStrengthFromEnv({})).to.equal("standard");
    expect(kdfStrengthFromEnv({ RISKSHARE_KDF: "light" })).to.equal("light");
    await expectRefused(Promise.resolve().then(() => kdfStrengthFromEnv({ RISKSHARE_KDF: "fast" })), "E_BAD_INPUT", "an unknown strength");
  });

  it("seals the OPRF and journal keys in a versioned scrypt + AES-256-GCM envelope that round-trips, in 0600 files", async () => {
    const secret = hexlify(randomBytes(32));
    await store().putOprfKey(1, secret);
    const journal = await store().journalKey();
    for (const name of ["oprf-1.key", "journal.key"]) {
      const path = join(keysDir, name);
      expect((await stat(path)).mode & 0o777, name).to.equal(0o600);
      const envelope = JSON.parse(await readFile(path, "utf8"));
      expect(envelope, name).to.include({ format: "riskshare-sealed-secret", version: 1, kdf: "scrypt", cipher: "aes-256-gcm" });
      expect(Object.keys(envelope.kdfparams), name).to.have.members(["n", "r", "p", "dklen", "salt"]);
      expect(envelope.iv, name).to.match(/^[0-9a-f]{24}$/);
      expect(envelope.tag, name).to.match(/^[0-9a-f]{32}$/);
    }
    expect(JSON.parse(await readFile(join(keysDir, "oprf-1.key"), "utf8"))).to.include({ kind: "oprf", epoch: 1 });
    expect(await readFile(join(keysDir, "oprf-1.key"), "utf8")).to.not.contain(secret.slice(2));
    // A fresh store (another process) opens them with the same passphrase.
    expect(hexlify((await store().oprfKey(1))!)).to.equal(secret);
    expect(await store().journalKey()).to.deep.equal(journal);
  });

  it("refuses a sealed file altered, or copied over another secret's name, even with its label edited to match", async () => {
    const secret = hexlify(randomBytes(32));
    await store().putOprfKey(1, secret);
    await store().journalKey();
    const original = JSON.parse(await readFile(join(keysDir, "oprf-1.key"), "utf8"));

    const flipped = { ...original, ciphertext: (original.ciphertext[0] === "0" ? "1" : "0") + original.ciphertext.slice(1) };
    await writeFile(join(keysDir, "oprf-1.key"), JSON.stringify(flipped));
    await expectRefused(store().oprfKey(1), "E_KEY_PASSPHRASE", "a flipped ciphertext bit", { file: "oprf-1.key", never: [secret.slice(2), PASSPHRASE] });
    await writeFile(join(keysDir, "oprf-1.key"), JSON.stringify(original));

    await copyFile(join(keysDir, "oprf-1.key"), join(keysDir, "oprf-2.key"));
    await expectRefused(store().oprfKey(2), "E_KEY_FORMAT", "epoch 1's key under epoch 2's name", { file: "oprf-2.key" });
    await writeFile(join(keysDir, "oprf-2.key"), JSON.stringify({ ...original, epoch: 2 }), { mode: 0o600 });
    await expectRefused(store().oprfKey(2), "E_KEY_PASSPHRASE", "epoch 1's key relabelled as epoch 2 (the associated data binds the epoch)", { file: "oprf-2.key" });
    await copyFile(join(keysDir, "journal.key"), join(keysDir, "oprf-3.key"));
    await expectRefused(store().oprfKey(3), "E_KEY_FORMAT", "the journal key under an OPRF key's name", { file: "oprf-3.key" });
    await writeFile(join(keysDir, "oprf-4.key"), JSON.stringify({ ...original, epoch: 4, kdfparams: { ...original.kdfparams, n: 2 ** 30 } }), { mode: 0o600 });
    await expectRefused(store().oprfKey(4), "E_KEY_FORMAT", "an scrypt cost out of range is refused before any work", { file: "oprf-4.key" });
    expect(hexlify((await store().oprfKey(1))!)).to.equal(secret);
  });

  it("refuses a key file (or passphrase file) readable by group or others, as ssh does, naming the file and the chmod that fixes it", async function () {
    if (process.platform === "win32") this.skip();
    await store().initNodeKey();
    await store().initApiTokens();
    await store().putOprfKey(1, hexlify(randomBytes(32)));
    for (const name of ["node.key", "api.token", "oprf-1.key"]) {
      const path = join(keysDir, name);
      await chmod(path, 0o644);
      const read = name === "node.key" ? store().nodeKey() : name === "api.token" ? store().apiToken() : store().oprfKey(1);
      const message = await expectRefused(read, "E_KEY_PERMISSIONS", `${name} at 0644`, { file: path });
      expect(message, name).to.contain(`chmod 600 ${path}`).and.to.contain("0644");
      await chmod(path, 0o600);
    }
    const passphraseFile = join(dir, "passphrase");
    await writeFile(passphraseFile, `${PASSPHRASE}\n`, { mode: 0o640 });
    await chmod(passphraseFile, 0o640);
    await expectRefused(new KeyStore({ dataDir: dir, env: { RISKSHARE_PASSPHRASE_FILE: passphraseFile } }).nodeKey(), "E_KEY_PERMISSIONS", "a passphrase file at 0640", { file: passphraseFile, never: [PASSPHRASE] });
  });

  it("fails with E_KEY_PASSPHRASE naming the file, never the passphrase, when the passphrase is wrong", async () => {
    await store().initNodeKey();
    await store().putOprfKey(1, hexlify(randomBytes(32)));
    const wrong = store({ passphrase: "Tr0ub4dor&3" });
    await expectRefused(wrong.nodeKey(), "E_KEY_PASSPHRASE", "the member key", { file: join(keysDir, "node.key"), never: ["Tr0ub4dor&3", PASSPHRASE] });
    await expectRefused(wrong.oprfKey(1), "E_KEY_PASSPHRASE", "an OPRF key", { file: join(keysDir, "oprf-1.key"), never: ["Tr0ub4dor&3", PASSPHRASE] });
  });

  it("is locked without a passphrase: E_KEY_LOCKED says how to give one, and a new store writes nothing", async () => {
    const locked = new KeyStore({ dataDir: dir, kdf: "light" });
    const message = await expectRefused(locked.initNodeKey(), "E_KEY_LOCKED", "a new member key without a passphrase");
    expect(message).to.contain("RISKSHARE_PASSPHRASE_FILE");
    expect(await locked.files()).to.deep.equal([]);
    await store().initNodeKey();
    await expectRefused(locked.nodeKey(), "E_KEY_LOCKED", "an encrypted member key without a passphrase");
  });

  it("takes the passphrase from RISKSHARE_PASSPHRASE, the first line of RISKSHARE_PASSPHRASE_FILE, or config.json keys.passphraseFile", async () => {
    const wallet = await store().initNodeKey();
    await writeFile(join(dir, "pass"), `${PASSPHRASE}\nignored second line\n`, { mode: 0o600 });
    expect((await new KeyStore({ dataDir: dir, env: { RISKSHARE_PASSPHRASE: PASSPHRASE } }).nodeKey()).address).to.equal(wallet.address);
    expect((await new KeyStore({ dataDir: dir, env: { RISKSHARE_PASSPHRASE_FILE: join(dir, "pass") } }).nodeKey()).address).to.equal(wallet.address);
    await saveConfig(dir, newConfig({ name: "Bank A", keys: { passphraseFile: "pass" } }));
    expect((await new KeyStore({ dataDir: dir }).nodeKey()).address, "relative to the data dir").to.equal(wallet.address);
    await expectRefused(new KeyStore({ dataDir: dir, env: { RISKSHARE_PASSPHRASE_FILE: join(dir, "missing") } }).nodeKey(), "E_KEY_LOCKED", "a passphrase file that does not exist", { file: "missing" });
  });

  it("reads a data dir of plaintext keys (flagging them), and migrate encrypts them in place with the same values; again, it does nothing", async () => {
    const wallet = Wallet.createRandom();
    const oprf = hexlify(randomBytes(32));
    await mkdir(keysDir, { recursive: true, mode: 0o700 });
    await writeFile(join(keysDir, "node.key"), `${wallet.privateKey}\n`, { mode: 0o600 });
    await writeFile(join(keysDir, "oprf-1.key"), `${oprf}\n`, { mode: 0o600 });
    await writeFile(join(keysDir, "api.token"), "token\n", { mode: 0o600 });
    const legacy = new KeyStore({ dataDir: dir });
    expect((await legacy.nodeKey()).address, "no passphrase needed before migration").to.equal(wallet.address);
    const journal = await legacy.journalKey();
    expect(await readFile(join(keysDir, "journal.key"), "utf8"), "a new key in a dir not yet migrated, without a passphrase, stays in its form").to.match(/^0x[0-9a-f]{64}\n$/);
    expect(await legacy.plaintextFiles()).to.deep.equal(["node.key", "oprf-1.key", "journal.key"]);

    expect(await store().migrate()).to.deep.equal(["node.key", "oprf-1.key", "journal.key"]);
    expect(await store().plaintextFiles()).to.deep.equal([]);
    for (const name of ["node.key", "oprf-1.key", "journal.key"]) {
      const content = await readFile(join(keysDir, name), "utf8");
      expect(content.startsWith("{"), name).to.equal(true);
      expect((await stat(join(keysDir, name))).mode & 0o777, name).to.equal(0o600);
    }
    expect((await readFile(join(dir, "keys", "node.key"), "utf8"))).to.not.contain(wallet.privateKey.slice(2));
    expect((await store().nodeKey()).privateKey).to.equal(wallet.privateKey);
    expect(hexlify((await store().oprfKey(1))!)).to.equal(oprf);
    expect(await store().journalKey()).to.deep.equal(journal);
    expect(await store().apiToken(), "the API token is a client credential, left as it is").to.equal("token");
    expect(await store().migrate(), "a second run").to.deep.equal([]);

    // Interrupted before one file's rename: that file is still whole in plaintext (beside a stray
    // temporary file), the others whole and sealed; every key reads, and running it again finishes.
    await writeFile(join(keysDir, "oprf-1.key"), `${oprf}\n`, { mode: 0o600 });
    await writeFile(join(keysDir, ".0123456789ab.tmp"), "{\"format\":", { mode: 0o600 });
    expect(hexlify((await store().oprfKey(1))!)).to.equal(oprf);
    expect((await store().nodeKey()).privateKey).to.equal(wallet.privateKey);
    expect(await store().migrate()).to.deep.equal(["oprf-1.key"]);
    expect(await store().plaintextFiles()).to.deep.equal([]);
    await expectRefused(new KeyStore({ dataDir: dir }).migrate(), "E_KEY_LOCKED", "migrate without a passphrase");
  });

  it("changes the passphrase of every key file: the old one stops working, and an interrupted change can be run again", async () => {
    const wallet = await store().initNodeKey();
    const oprf = hexlify(randomBytes(32));
    await store().putOprfKey(1, oprf);
    await store().journalKey();
    const NEW = "a new passphrase";
    await expectRefused(store({ passphrase: "wrong" }).changePassphrase(NEW), "E_KEY_PASSPHRASE", "a change from the wrong passphrase");
    expect((await store().nodeKey()).address, "a refused change changed nothing").to.equal(wallet.address);

    const before = await readFile(join(keysDir, "oprf-1.key"), "utf8");
    expect(await store().changePassphrase(NEW)).to.deep.equal(["node.key", "oprf-1.key", "journal.key"]);
    await expectRefused(store().nodeKey(), "E_KEY_PASSPHRASE", "the old passphrase");
    expect((await store({ passphrase: NEW }).nodeKey()).address).to.equal(wallet.address);
    expect(hexlify((await store({ passphrase: NEW }).oprfKey(1))!)).to.equal(oprf);
    // As if interrupted before the OPRF key: it is still under the old passphrase; running the change again finishes it.
    await writeFile(join(keysDir, "oprf-1.key"), before);
    expect(await store().changePassphrase(NEW)).to.deep.equal(["oprf-1.key"]);
    expect(await store().changePassphrase(NEW), "everything already under the new one").to.deep.equal([]);
    expect(hexlify((await store({ passphrase: NEW }).oprfKey(1))!)).to.equal(oprf);
  });

  it("keeps one API token per scope (read, check, admin), each 0600, and rotates one without touching the others", async () => {
    const first = await store().initApiTokens();
    expect(new Set(Object.values(first)).size, "three distinct tokens").to.equal(3);
    expect(await store().initApiTokens(), "a second init keeps them").to.deep.equal(first);
    const second = await store().rotateApiToken("check");
    expect(second).to.not.equal(first.check);
    expect(second).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(await store().apiTokens()).to.deep.equal({ ...first, check: second });
    expect(await store().apiToken(), "admin by default").to.equal(first.admin);
    for (const file of ["api.token", "api-check.token", "api-read.token"]) expect((await stat(join(keysDir, file))).mode & 0o777, file).to.equal(0o600);
  });
  it("keeps the next member key of a member key rotation until it is done, then retires the old key beside the new one (0600), and a second call changes nothing", async () => {
    const old = await store().initNodeKey();
    const next = await store().nextNodeKey();
    expect(next.address).to.not.equal(old.address);
    expect((await store().nextNodeKey()).address, "an interrupted rotation resumes with the same new key").to.equal(next.address);
    expect(JSON.parse(await readFile(join(keysDir, "node-next.key"), "utf8")).version, "keystore v3, same passphrase").to.equal(3);
    expect((await store().nodeKey()).address, "the member key is unchanged until the rotation is done").to.equal(old.address);

    const keys = store();
    expect(await keys.nodeKey()).to.have.property("address", old.address);
    const retired = await keys.retireNodeKey();
    expect(retired).to.equal(`node-${old.address}.key`);
    expect((await keys.nodeKey()).address, "the same KeyStore reads the new key at once").to.equal(next.address);
    expect((await store().nodeKey()).address).to.equal(next.address);
    expect((await stat(join(keysDir, retired))).mode & 0o777).to.equal(0o600);
    expect((await Wallet.fromEncryptedJson(await readFile(join(keysDir, retired), "utf8"), PASSPHRASE)).address).to.equal(old.address);
    expect(await store().retireNodeKey(), "nothing left to retire").to.equal(`node-${next.address}.key`);
    expect((await store().nodeKey()).address).to.equal(next.address);
  });
});
