import type { AbstractSublevel } from "abstract-level";

/** The sublevel of seen request nonces: key `querier:nonce`, value the request's deadline (unix seconds). */
export type NonceLevel = AbstractSublevel<any, any, string, number>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * Remembers every request nonce until its deadline passes, so a replayed request is refused even
 * across restarts (a write survives a killed process; LevelDB's log holds it). A sweep forgets
 * nonces whose deadline has passed: such requests are refused as expired anyway.
 */
export class NonceStore {
  private readonly db: NonceLevel;
  private readonly inFlight = new Set<string>();

  constructor(modules: { db: NonceLevel }) {
    this.db = modules.db;
  }

  /** True when the nonce was unseen (and is now remembered); false for a replay. */
  async checkAndRemember(querier: string, nonce: string, deadline: bigint): Promise<boolean> {
    const key = `${querier.toLowerCase()}:${nonce.toLowerCase()}`;
    if (this.inFlight.has(key)) return false;
    this.inFlight.add(key);
    try {
      if ((await this.db.get(key)) !== undefined) return false;
      await this.db.put(key, Number(deadline));
      return true;
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Forgets nonces whose deadline is before `nowSec`; returns how many. */
  async sweep(nowSec: number): Promise<number> {
    const stale: string[] = [];
    for await (const [key, deadline] of this.db.iterator()) if (deadline < nowSec) stale.push(key);
    if (stale.length > 0) await this.db.batch(stale.map((key) => ({ type: "del" as const, key })));
    return stale.length;
  }
}
