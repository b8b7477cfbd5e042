/**
 * Request nonces on both sides of a lookup (the rule is node/chain's nonces.ts).
 *
 * - {@link NonceCounters}, the querier's: a counter per provider. A block of values is reserved in
 *   one write (the mark: the highest value it may hand out) and handed out from memory; after a
 *   restart or a kill the counter continues above the mark, so no value is ever handed out twice,
 *   whatever was in flight. A counter never used starts from the clock (unix ms × 2^20), so a member
 *   whose database was lost still counts above every nonce it sent before.
 * - {@link NonceWindows}, the provider's: per querier the highest nonce seen and the 256-bit window
 *   below it, kept in memory and written through before a request is accepted.
 *
 * @example
 *   const nonce = await store.nonceCounters().next(providerAddress);         // querier
 *   const verdict = await store.nonceWindows().accept(querierAddress, nonce); // provider: "fresh" | "replay" | "stale"
 */
import type { AbstractSublevel } from "abstract-level";
import { MAX_NONCE, nextNonceWindow, EMPTY_NONCE_WINDOW, type NonceVerdict, type NonceWindow } from "../chain/index.ts";
import { RiskshareError, assertArgument } from "../errors.ts";

/** A JSON sublevel keyed by lower-case address. */
export type NonceLevel<V> = AbstractSublevel<any, any, string, V>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The stored form of a provider's window of one querier. */
export interface StoredNonceWindow {
  /** Decimal. */
  highest: string;
  /** 0x-hex. */
  window: string;
}

/** Options of {@link NonceCounters}. */
export interface NonceCountersOptions {
  /** Values reserved per write. */
  blockSize?: number;
}

/** Dependencies of {@link NonceCounters}. */
export interface NonceCountersModules {
  /** provider address → the reserved mark (decimal). */
  db: NonceLevel<string>;
  /** Unix milliseconds now; seeds a counter never used. */
  nowMs?: () => number;
}

/** Default values reserved per write. */
export const NONCE_BLOCK_SIZE = 1_024;

/** Bits a fresh counter's clock seed is shifted by: 2^20 nonces per millisecond before two seeds meet. */
const CLOCK_SEED_SHIFT = 20n;

interface Counter {
  next: bigint;
  /** The highest value the stored mark allows. */
  limit: bigint;
  reserving: Promise<void> | undefined;
}

/** The querier's nonce counter per provider (one instance per database). */
export class NonceCounters {
  private readonly blockSize: bigint;
  private readonly modules: NonceCountersModules;
  private readonly counters = new Map<string, Promise<Counter>>();

  constructor(opts: NonceCountersOptions, modules: NonceCountersModules) {
    const blockSize = opts.blockSize ?? NONCE_BLOCK_SIZE;
    assertArgument(Number.isInteger(blockSize) && blockSize >= 1, "must be a positive integer", "blockSize");
    this.blockSize = BigInt(blockSize);
    this.modules = modules;
  }

  /** The next nonce for a request to `provider`: never one handed out before, by this or an earlier process. */
  async next(provider: string): Promise<bigint> {
    const key = provider.toLowerCase();
    const counter = await this.counter(key);
    while (counter.next > counter.limit) {
      counter.reserving ??= this.reserve(key, counter).finally(() => {
        counter.reserving = undefined;
      });
      await counter.reserving;
    }
    const nonce = counter.next;
    counter.next += 1n;
    return nonce;
  }

  private counter(key: string): Promise<Counter> {
    let counter = this.counters.get(key);
    if (counter === undefined) {
      counter = this.load(key);
      this.counters.set(key, counter);
      counter.catch(() => this.counters.delete(key));
    }
    return counter;
  }

  private async load(key: string): Promise<Counter> {
    const mark = await this.modules.db.get(key);
    if (mark !== undefined) return { next: BigInt(mark) + 1n, limit: BigInt(mark), reserving: undefined };
    const seed = BigInt(Math.max(1, Math.floor(this.modules.nowMs?.() ?? Date.now()))) << CLOCK_SEED_SHIFT;
    return { next: seed, limit: seed - 1n, reserving: undefined };
  }

  /** Writes the next block's mark; only then may its values be handed out. */
  private async reserve(key: string, counter: Counter): Promise<void> {
    const limit = counter.limit + this.blockSize;
    if (limit > MAX_NONCE) throw new RiskshareError("E_INTERNAL", "the request nonce counter of this provider is exhausted", { provider: key });
    await this.modules.db.put(key, limit.toString());
    counter.limit = limit;
  }
}

/** The provider's replay windows per querier (one instance per database). */
export class NonceWindows {
  private readonly db: NonceLevel<StoredNonceWindow>;
  private readonly windows = new Map<string, Promise<{ current: NonceWindow }>>();
  private readonly writes = new Map<string, Promise<void>>();

  constructor(modules: { db: NonceLevel<StoredNonceWindow> }) {
    this.db = modules.db;
  }

  /**
   * The verdict on `nonce` (1 <= n < 2^64) from `querier`; a fresh one is marked seen and durable
   * before this resolves. Atomic: of two concurrent requests with one nonce, one is fresh.
   */
  async accept(querier: string, nonce: bigint): Promise<NonceVerdict> {
    const key = querier.toLowerCase();
    const held = await this.window(key);
    // Checked and updated without an await between: concurrent calls see each other's marks.
    const { verdict, state } = nextNonceWindow(held.current, nonce);
    if (verdict !== "fresh") return verdict;
    held.current = state;
    await this.persist(key, held);
    return verdict;
  }

  /** The window held for `querier` (tests and diagnostics). */
  async windowOf(querier: string): Promise<NonceWindow> {
    return (await this.window(querier.toLowerCase())).current;
  }

  private window(key: string): Promise<{ current: NonceWindow }> {
    let held = this.windows.get(key);
    if (held === undefined) {
      held = this.db.get(key).then((stored) => ({
        current: stored === undefined ? EMPTY_NONCE_WINDOW : { highest: BigInt(stored.highest), window: BigInt(stored.window) },
      }));
      this.windows.set(key, held);
      held.catch(() => this.windows.delete(key));
    }
    return held;
  }

  /** Writes one querier's window as it is when the write runs; writes of one querier never overtake each other. */
  private persist(key: string, held: { current: NonceWindow }): Promise<void> {
    const previous = this.writes.get(key) ?? Promise.resolve();
    const write = previous.catch(() => undefined).then(() => this.db.put(key, { highest: held.current.highest.toString(), window: `0x${held.current.window.toString(16)}` }));
    this.writes.set(key, write);
    void write.catch(() => undefined).finally(() => {
      if (this.writes.get(key) === write) this.writes.delete(key);
    });
    return write;
  }
}
