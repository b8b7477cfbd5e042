// @ts-nocheck -- TODO(integrator): written against /riskshare/lookup/1 and /riskshare/pepper/1 (gone on the v2-p2p branch: PepperKeeper, pepper(), OwnEntries, hashed items, hitCount); rewire to lookup/2 + filter/1 and drop this line.
/**
 * Member nodes for the p2p benchmarks: a real libp2p host and the real LookupService on 127.0.0.1,
 * with small in-memory stand-ins for what the node would wire behind them (registry view, outbox,
 * nonce guard, reciprocity, journal, list). The stand-ins cost next to nothing, so the figures are
 * the protocol's: framing, schema checks, EIP-712 signing and recovery, libp2p, the event loop.
 */
import { getAddress, Wallet } from "ethers";
import { silentLogger } from "../../node/logger.ts";
import {
  createHost, lookup, type HitResult, type LookupInit, type LookupItem, type LookupResult, type LookupService, type MembershipView,
  type PeerIdentity, type RiskshareHost,
} from "../../node/p2p/index.ts";
import { Prng } from "./data.ts";

/** Chain id and ledger address of the EIP-712 domain (no chain is involved in these suites). */
export const BENCH_CHAIN_ID = 31_337n;
export const BENCH_LEDGER = getAddress("0x5fbdb2315678afecb367f032d93f642f64180aa3");

/** Active members by address, shared by every node of a suite. */
export class MemoryMembership implements MembershipView {
  readonly #active = new Set<string>();
  add(address: string): void {
    this.#active.add(address.toLowerCase());
  }
  isActivePeer(peer: PeerIdentity): boolean {
    return this.#active.has(peer.address.toLowerCase());
  }
}

/** A list held in a Map: hash (lower-case 0x-hex) → hit. */
export class MemoryList {
  readonly byHash = new Map<string, HitResult>();
  async checkMany(items: LookupItem[], categoryIds: number[]): Promise<LookupResult[]> {
    return items.map((item) => {
      const hit = this.byHash.get(item.hash.toLowerCase());
      return hit && categoryIds.includes(hit.category) ? hit : MISS;
    });
  }
}
const MISS: LookupResult = { hit: false };

/** One member: host, lookup service, its list, and counts of what its stand-ins saw. */
export interface BenchMember {
  wallet: Wallet;
  address: string;
  host: RiskshareHost;
  lookup: LookupService;
  list: MemoryList;
  /** Records the provider appended to its (in-memory) outbox. */
  outboxRecords(): number;
  stop(): Promise<void>;
}

/** A wallet whose key comes from the PRNG (deterministic PeerIds across runs). */
export function benchWallet(rng: Prng): Wallet {
  return new Wallet(rng.hex(32));
}

/** Starts one member node on 127.0.0.1 and registers it as Active in `membership`. */
export async function startMember(membership: MemoryMembership, wallet: Wallet, init: Partial<LookupInit> = {}): Promise<BenchMember> {
  membership.add(wallet.address);
  const logger = silentLogger();
  const host = await createHost({ privateKey: wallet.privateKey, listen: ["/ip4/127.0.0.1/tcp/0"] }, { logger, membership });
  await host.start();
  const list = new MemoryList();
  const nonces = new Set<string>();
  let outboxRecords = 0;
  let service: LookupService | undefined;
  try {
    service = lookup({ chainId: BENCH_CHAIN_ID, queryLedgerAddress: BENCH_LEDGER, ...init })({
      registrar: host.libp2p,
      dialer: host.libp2p,
      membership,
      signer: wallet,
      outbox: {
        append: async () => {
          outboxRecords++;
        },
      },
      nonceGuard: {
        checkAndRemember: async (querier, nonce) => {
          const key = `${querier}/${nonce}`;
          if (nonces.has(key)) return false;
          nonces.add(key);
          return true;
        },
      },
      reciprocity: { decide: () => ({ allowed: true, quotaRemaining: 1_000_000 }) },
      entries: list,
      journal: { record: async () => undefined },
      logger,
    });
    await service.start();
  } catch (err) {
    await host.stop();
    throw err;
  }
  const lookupService = service;
  return {
    wallet, address: wallet.address, host, lookup: lookupService, list, outboxRecords: () => outboxRecords,
    stop: async () => {
      await lookupService.stop();
      await host.stop();
    },
  };
}

/** Stops every member given, whatever fails. */
export async function stopMembers(members: readonly (BenchMember | undefined)[]): Promise<void> {
  await Promise.allSettled(members.map((member) => member?.stop()));
}

/** A listed hit as a provider's list would hold it. */
export function benchHit(rng: Prng, category = 1): HitResult {
  return { hit: true, category, level: 1 + rng.int(5), reason: `R${rng.int(40)}`, reportedAt: 1_735_689_600 + rng.int(31_536_000), providerRef: `case-${rng.int(1_000_000)}` };
}
