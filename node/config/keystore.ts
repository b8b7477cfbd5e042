import { randomBytes } from "node:crypto";
import { chmod, readdir } from "node:fs/promises";
import { join } from "node:path";
import { Wallet, hexlify, getBytes } from "ethers";
import { RiskshareError } from "../errors.ts";
import { createVoprf, EntryKeyEvaluator, type EntryKeyContext } from "../identity/index.ts";

/** The OPRF key a member answers and imports under. */
export interface MemberOprfKey {
  epoch: number;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  evaluator: EntryKeyEvaluator;
}
import { DATA_DIR_LAYOUT } from "./options.ts";
import { readFileIfExists, writeFileAtomic } from "./files.ts";

/** A journal key: one AES-256 key. */
const JOURNAL_KEY_BYTES = 32;
/** An OPRF secret key: one ristretto255 scalar (RFC 9497 SerializeScalar). */
const OPRF_SECRET_KEY_BYTES = 32;

/**
 * The secrets of one node, each in its own 0600 file under `<dataDir>/keys`: the member's EVM key
 * (which also derives the libp2p identity), the local API bearer token, the member's OPRF secret
 * key per key epoch, and the journal key that seals what opens the queries it sent.
 * Nothing here is ever logged; errors name files, never contents.
 */
export class KeyStore {
  private readonly dir: string;

  constructor(opts: { dataDir: string }) {
    this.dir = join(opts.dataDir, DATA_DIR_LAYOUT.keysDir);
  }

  /** Creates the member key if there is none (or imports `privateKey`), and returns the wallet. */
  async initNodeKey(privateKey?: string): Promise<Wallet> {
    const existing = await this.readNodeKey();
    if (existing) {
      if (privateKey !== undefined && existing.privateKey !== new Wallet(privateKey).privateKey) {
        throw new RiskshareError("E_CONFIG", "the data directory already holds a different node key", { file: this.nodeKeyPath });
      }
      return existing;
    }
    const wallet = privateKey === undefined ? new Wallet(hexlify(randomBytes(32))) : parseKey(privateKey, "privateKey");
    await writeFileAtomic(this.nodeKeyPath, `${wallet.privateKey}\n`);
    return wallet;
  }

  /** The member's EVM wallet (not connected to a provider). */
  async nodeKey(): Promise<Wallet> {
    const wallet = await this.readNodeKey();
    if (!wallet) throw new RiskshareError("E_CONFIG", "no node key in the data directory; run `riskshare init` first", { file: this.nodeKeyPath });
    return wallet;
  }

  /** Creates the local API token if there is none, and returns it. */
  async initApiToken(): Promise<string> {
    const existing = await readFileIfExists(this.apiTokenPath);
    if (existing) return existing.toString("utf8").trim();
    const token = randomBytes(32).toString("base64url");
    await writeFileAtomic(this.apiTokenPath, `${token}\n`);
    return token;
  }

  /** The local API bearer token. */
  async apiToken(): Promise<string> {
    const existing = await readFileIfExists(this.apiTokenPath);
    if (!existing) throw new RiskshareError("E_CONFIG", "no API token in the data directory; run `riskshare init` first", { file: this.apiTokenPath });
    return existing.toString("utf8").trim();
  }

  /**
   * The member's journal key (32 bytes), created on first use: it seals what opens the commitments
   * of the queries this node sends (the identifiers asked and their blinds).
   */
  async journalKey(opts: { create?: boolean } = {}): Promise<Uint8Array> {
    const existing = await readFileIfExists(this.journalKeyPath);
    if (existing) {
      // ethers' parse error quotes the value: never let the key file's contents reach a message.
      const bytes = (() => { try { return getBytes(existing.toString("utf8").trim()); } catch { return undefined; } })();
      if (bytes?.length !== JOURNAL_KEY_BYTES) throw new RiskshareError("E_CONFIG", "the journal key file is damaged", { file: this.journalKeyPath });
      return bytes;
    }
    if (opts.create === false) {
      throw new RiskshareError("E_JOURNAL_OPEN", "this data dir holds no journal key (keys/journal.key): its queries cannot be opened here", { file: this.journalKeyPath });
    }
    const key = new Uint8Array(randomBytes(JOURNAL_KEY_BYTES));
    await writeFileAtomic(this.journalKeyPath, `${hexlify(key)}\n`);
    return key;
  }

  /**
   * Stores the OPRF secret key of a key epoch (32 bytes as hex, with or without 0x); refuses to
   * overwrite a different one: a key once published for an epoch must stay the one that answers.
   */
  async putOprfKey(keyEpoch: number, secretHex: string): Promise<void> {
    checkKeyEpoch(keyEpoch);
    const secretKey = parseOprfSecret(secretHex, keyEpoch);
    const existing = await this.oprfKey(keyEpoch);
    if (existing) {
      if (Buffer.from(existing).equals(Buffer.from(secretKey))) return;
      throw new RiskshareError("E_CONFIG", "a different OPRF key for this key epoch is already stored", { keyEpoch });
    }
    await writeFileAtomic(this.oprfKeyPath(keyEpoch), `${hexlify(secretKey)}\n`);
  }

  /** The OPRF secret key of a key epoch, or undefined when this node does not hold it. */
  async oprfKey(keyEpoch: number): Promise<Uint8Array | undefined> {
    checkKeyEpoch(keyEpoch);
    const content = await readFileIfExists(this.oprfKeyPath(keyEpoch));
    if (!content) return undefined;
    try {
      return parseOprfSecret(content.toString("utf8").trim(), keyEpoch);
    } catch (err) {
      throw new RiskshareError("E_CONFIG", "the OPRF key file is damaged", { keyEpoch, file: this.oprfKeyPath(keyEpoch) }, { cause: err });
    }
  }

  /**
   * The member's entry key evaluator for a key epoch: its OPRF secret key of that epoch bound to
   * (chain, member address, epoch). E_OPRF_KEY_MISSING when this data dir does not hold that key.
   */
  async entryKeyEvaluator(context: EntryKeyContext): Promise<EntryKeyEvaluator> {
    const secretKey = await this.oprfKey(context.keyEpoch);
    if (!secretKey) {
      throw new RiskshareError("E_OPRF_KEY_MISSING", `this data dir holds no OPRF key for key epoch ${context.keyEpoch}`, { keyEpoch: context.keyEpoch });
    }
    return EntryKeyEvaluator.create({ secretKey, context });
  }

  /**
   * The member's OPRF key to answer and import under: that of its key epoch on chain (`onChainEpoch`),
   * or before its admission the newest this data dir holds; with its public key and entry key
   * evaluator bound to (chain, member, epoch). Undefined when this data dir does not hold that key.
   */
  async memberOprfKey(chainId: bigint, address: string, onChainEpoch: number | undefined): Promise<MemberOprfKey | undefined> {
    const epoch = onChainEpoch ?? (await this.oprfKeyEpochs()).at(-1) ?? 1;
    const secretKey = await this.oprfKey(epoch);
    if (secretKey === undefined) return undefined;
    const evaluator = await EntryKeyEvaluator.create({ secretKey, context: { chainId, providerAddress: address, keyEpoch: epoch } });
    return { epoch, secretKey, publicKey: (await createVoprf()).publicKey(secretKey), evaluator };
  }

  /** Key epochs whose OPRF secret key this node holds, ascending. */
  async oprfKeyEpochs(): Promise<number[]> {
    return this.epochsOf(DATA_DIR_LAYOUT.oprfKeyPrefix);
  }

  /** Re-applies 0600 to every key file (after a restore from backup, say). */
  async tightenPermissions(): Promise<void> {
    for (const name of await readdir(this.dir)) await chmod(join(this.dir, name), 0o600);
  }

  private get nodeKeyPath(): string {
    return join(this.dir, DATA_DIR_LAYOUT.nodeKey);
  }

  private get journalKeyPath(): string {
    return join(this.dir, DATA_DIR_LAYOUT.journalKey);
  }

  private get apiTokenPath(): string {
    return join(this.dir, DATA_DIR_LAYOUT.apiToken);
  }

  private oprfKeyPath(keyEpoch: number): string {
    return join(this.dir, `${DATA_DIR_LAYOUT.oprfKeyPrefix}${keyEpoch}.key`);
  }

  /** The epochs of the `<prefix><epoch>.key` files, ascending. */
  private async epochsOf(prefix: string): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const pattern = new RegExp(`^${prefix}(\\d+)\\.key$`);
    return names
      .map((name) => pattern.exec(name)?.[1])
      .filter((epoch): epoch is string => epoch !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  private async readNodeKey(): Promise<Wallet | undefined> {
    const content = await readFileIfExists(this.nodeKeyPath);
    return content ? parseKey(content.toString("utf8").trim(), this.nodeKeyPath) : undefined;
  }
}

function checkKeyEpoch(keyEpoch: number): void {
  if (!Number.isSafeInteger(keyEpoch) || keyEpoch < 1 || keyEpoch > 0xffff_ffff) {
    throw new RiskshareError("E_BAD_INPUT", "a key epoch is an integer from 1 to 2^32 - 1", { keyEpoch });
  }
}

function parseOprfSecret(hex: string, keyEpoch: number): Uint8Array {
  const digits = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (!/^[0-9a-fA-F]*$/.test(digits) || digits.length !== OPRF_SECRET_KEY_BYTES * 2) {
    throw new RiskshareError("E_BAD_INPUT", `an OPRF secret key is ${OPRF_SECRET_KEY_BYTES} bytes of hex`, { keyEpoch });
  }
  return getBytes(`0x${digits}`);
}

function parseKey(hex: string, where: string): Wallet {
  try {
    return new Wallet(hex);
  } catch (err) {
    throw new RiskshareError("E_CONFIG", "not a valid 32-byte secp256k1 private key", { where }, { cause: err });
  }
}
