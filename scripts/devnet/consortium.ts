/**
 * Building a local consortium: member data directories (as `riskshare init` makes them), the
 * deployment (each founder seeded with its own OPRF public key). Used by `riskshare devnet up` and the e2e tests.
 *
 * @example
 *   const chain = await startChain({ kind: "hardhat" });
 *   const members = await createMembers({ baseDir, rpcUrl: chain.rpcUrl, names: ["Bank A", "Bank B", "Bank C"] });
 *   const deployment = await deployFor(members, { rpcUrl: chain.rpcUrl });
 */
import { randomBytes as randomNodeBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { HDNodeWallet, hexlify, randomBytes, Wallet } from "ethers";
import {
  connectChain, connectContracts, connectSigner, deployConsortium, DEFAULT_CATEGORIES, DEFAULT_POLICY, type CategoryPolicyInput, type ContractAddresses, type CreditParams, type DeploymentResult,
} from "../../node/chain/index.ts";
import { KeyStore, newConfig, saveConfig, updateConfig, writeFileAtomic } from "../../node/config/index.ts";
import { createVoprf, DEFAULT_NORMALISE_OPTIONS, shippedWarninglists } from "../../node/identity/index.ts";
import { peerIdBytes, peerIdFromEvmKey } from "../../node/p2p/index.ts";
import { silentLogger, type Logger } from "../../node/logger.ts";
import { DEV_MNEMONIC, freePort } from "./chain.ts";
import { DEVNET_ADMISSION_DELAY_SECONDS, DEVNET_TIMELOCK_DELAY_SECONDS } from "./options.ts";

/** The dev account at `index` of the well-known mnemonic (prefunded on Hardhat and anvil). */
export function devAccount(index: number): HDNodeWallet {
  return HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, `m/44'/60'/0'/0/${index}`);
}

/** A member's data directory and identity. */
export interface DevMember {
  name: string;
  dataDir: string;
  address: string;
  privateKey: string;
  peerId: string;
  /** 0x-hex PeerId bytes as the registry stores them. */
  peerIdHex: string;
  /** Its OPRF public key of key epoch 1 (0x-hex), the secret half in keys/oprf-1.key. */
  oprfKey: string;
  /** Its libp2p listen address, with /p2p/<PeerId>. */
  multiaddr: string;
  /** The 0600 file holding the passphrase its keys are encrypted under (`<dataDir>.passphrase`, named in its config.json). */
  passphraseFile: string;
}

/** Options of {@link createMember}. */
export interface CreateMemberOptions {
  dataDir: string;
  name: string;
  rpcUrl: string;
  /** Dev account index whose key the member uses (so it has gas on the dev chain). */
  accountIndex: number;
  region?: string;
  flushIntervalMs?: number;
  bootstrap?: string[];
}

/** Initialises one member's data directory (key, token, config) as `riskshare init` would. */
export async function createMember(opts: CreateMemberOptions): Promise<DevMember> {
  await mkdir(opts.dataDir, { recursive: true });
  const account = devAccount(opts.accountIndex);
  // Keys are encrypted as `init` writes them, with the dev-only light scrypt cost (dozens of nodes start
  // in the tests) under a random passphrase in a 0600 file beside the data dir, which its config names.
  const passphraseFile = `${opts.dataDir}.passphrase`;
  const passphrase = randomNodeBytes(24).toString("base64url");
  await writeFileAtomic(passphraseFile, `${passphrase}\n`, 0o600);
  const keys = new KeyStore({ dataDir: opts.dataDir, passphrase, kdf: "light" });
  await keys.initNodeKey(account.privateKey);
  await keys.initApiTokens();
  const voprf = await createVoprf();
  const { secretKey: oprfSecretKey, publicKey: oprfPublicKey } = voprf.generateKeyPair();
  await keys.putOprfKey(1, hexlify(oprfSecretKey));
  // The journal key too, at the light cost: a node would create it at its first start at the standard
  // cost (about a second of scrypt per node).
  await keys.journalKey();
  const port = await freePort();
  const peerId = peerIdFromEvmKey(account.privateKey);
  await saveConfig(opts.dataDir, newConfig({
    name: opts.name,
    chain: { rpcUrl: opts.rpcUrl, pollIntervalMs: 250 },
    p2p: { listen: [`/ip4/127.0.0.1/tcp/${port}`], bootstrap: opts.bootstrap ?? [] },
    identity: { defaultRegion: opts.region ?? DEFAULT_NORMALISE_OPTIONS.defaultRegion },
    ledger: { flushIntervalMs: opts.flushIntervalMs ?? 1_000 },
    keys: { passphraseFile },
  }));
  return {
    name: opts.name, dataDir: opts.dataDir, address: account.address, privateKey: account.privateKey,
    peerId: peerId.toString(), peerIdHex: hexlify(peerIdBytes(peerId)), oprfKey: hexlify(oprfPublicKey),
    multiaddr: `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId.toString()}`, passphraseFile,
  };
}

/** Creates N members under `baseDir` (accounts 1..N; account 0 deploys), each bootstrapping to the others. */
export async function createMembers(opts: { baseDir: string; rpcUrl: string; names: readonly string[]; flushIntervalMs?: number; firstAccount?: number }): Promise<DevMember[]> {
  const members: DevMember[] = [];
  for (const [index, name] of opts.names.entries()) {
    members.push(await createMember({
      dataDir: join(opts.baseDir, slug(name)), name, rpcUrl: opts.rpcUrl, accountIndex: (opts.firstAccount ?? 1) + index,
      ...(opts.flushIntervalMs === undefined ? {} : { flushIntervalMs: opts.flushIntervalMs }),
    }));
  }
  for (const member of members) {
    await updateConfig(member.dataDir, (c) => ({ ...c, p2p: { ...c.p2p, bootstrap: members.filter((m) => m !== member).map((m) => m.multiaddr) } }));
  }
  return members;
}

/** Options of {@link deployFor}. */
export interface DeployForOptions {
  rpcUrl: string;
  /** Dev account that deploys (bootstrap admin, renounced at the end); 0 by default. */
  deployerIndex?: number;
  regulators?: readonly string[];
  policy?: CategoryPolicyInput;
  quorumNumerator?: number;
  quorumDenominator?: number;
  votingPeriodSeconds?: bigint;
  /** Seconds between executing a time-locked proposal and enacting it (default: the devnet's few seconds). */
  timelockDelaySeconds?: bigint;
  /** How long an executed Admit waits before activation; {@link DEVNET_ADMISSION_DELAY_SECONDS} by default. */
  admissionDelaySeconds?: bigint;
  /** Keep the bootstrap admin (a staged set-up, as `deploy --keep-admin`); renounced by default. */
  keepAdmin?: boolean;
  /** The QueryLedger's credit parameters (DEFAULT_CREDITS where not given). */
  credits?: Partial<CreditParams>;
  logger?: Logger;
}

/**
 * Deploys the consortium with `founders` as its founding members, writes the addresses into every
 * founder's config. No secret is shared: each founder's OPRF key stays in its own data dir.
 */
export async function deployFor(founders: readonly DevMember[], opts: DeployForOptions): Promise<DeploymentResult> {
  const connection = await connectChain({ rpcUrl: opts.rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 250 });
  try {
    const deployer = connectSigner(new Wallet(devAccount(opts.deployerIndex ?? 0).privateKey), connection.provider);
    const policy = opts.policy ?? DEFAULT_POLICY;
    const result = await deployConsortium(deployer, {
      founders: founders.map((m) => ({ address: m.address, name: m.name, peerId: m.peerIdHex, oprfKey: m.oprfKey })),
      regulators: opts.regulators ?? [],
      categories: DEFAULT_CATEGORIES.map((name) => ({ name, policy })),
      ...(opts.quorumNumerator === undefined ? {} : { quorumNumerator: opts.quorumNumerator }),
      ...(opts.quorumDenominator === undefined ? {} : { quorumDenominator: opts.quorumDenominator }),
      ...(opts.votingPeriodSeconds === undefined ? {} : { votingPeriodSeconds: opts.votingPeriodSeconds }),
      timelockDelaySeconds: opts.timelockDelaySeconds ?? DEVNET_TIMELOCK_DELAY_SECONDS,
      admissionDelaySeconds: opts.admissionDelaySeconds ?? DEVNET_ADMISSION_DELAY_SECONDS,
      warninglistHash: shippedWarninglists().hash,
      ...(opts.keepAdmin === true ? { renounceAdmin: false } : {}),
      ...(opts.credits === undefined ? {} : { credits: opts.credits }),
    }, opts.logger ?? silentLogger());
    // No secret is handed to anyone: each member's OPRF key stays in its own data dir.
    for (const founder of founders) await writeContracts(founder.dataDir, result.addresses);
    return result;
  } finally {
    connection.provider.destroy();
  }
}

/** Writes the contract addresses into a member's config. */
export async function writeContracts(dataDir: string, addresses: ContractAddresses): Promise<void> {
  await updateConfig(dataDir, (c) => ({ ...c, chain: { ...c.chain, contracts: addresses } }));
}

/** A member's name as a folder or file name: "Bank A" → "bank-a". */
export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}
