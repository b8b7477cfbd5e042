/**
 * The credit gate: an Evaluate costs its querier one credit per item on the QueryLedger (metered
 * when the provider's record lands), so neither side lets one go out that the querier's credits —
 * balance + overdraft, as `creditsOf` reads them — do not cover. The balances are the chain's,
 * cached and re-read at most every `maxAgeMs` (and after each view catch-up, see {@link refresh}).
 *
 * A balance is never known exactly in advance: records in flight (in providers' outboxes) are not
 * yet metered, so a querier can overshoot by what it was served meanwhile — the ledger lets it,
 * and so does this gate. While the chain cannot be read (an outage, or a ledger without credits)
 * the last balance read stands; a member never read is let through (the chain meters it anyway).
 *
 * @example
 *   const credits = new CreditGate({ maxAgeMs: 5_000 }, { reader: { creditsOf: (m) => ledger.creditsOf(m) }, logger });
 *   if (!(await credits.covers(querier, itemCount)).allowed) refuse("E_CREDITS_EXHAUSTED");
 */
import type { Logger } from "../logger.ts";

/** A member's credits as the ledger reports them. */
export interface MemberCredits {
  /** Credits held, decay applied; negative while in debt. */
  balance: bigint;
  /** How far below zero the member may go now. */
  overdraft: bigint;
}

/** Reads a member's credits from the chain (QueryLedger.creditsOf). */
export interface CreditsReader {
  creditsOf(member: string): Promise<MemberCredits>;
}

/** Options of {@link CreditGate}. */
export interface CreditGateOptions {
  /** A cached balance older than this is read again before it decides. */
  maxAgeMs?: number;
  /**
   * The longest a decision waits for a read (a slow or cut RPC must not stall lookups): past it the
   * credits last read stand, and a read already running that long is not waited for at all.
   */
  readWaitMs?: number;
}

/** Dependencies of {@link CreditGate}. */
export interface CreditGateModules {
  reader: CreditsReader;
  logger: Logger;
  /** Unix milliseconds now (tests pin it). */
  nowMs?: () => number;
}

/** Default {@link CreditGateOptions.maxAgeMs}: about a ledger batch interval. */
export const CREDIT_GATE_MAX_AGE_MS = 5_000;

/** Default {@link CreditGateOptions.readWaitMs}. */
export const CREDIT_GATE_READ_WAIT_MS = 500;

/** The gate's verdict: allowed or not, with the credits it went by (undefined when none could be read). */
export interface CreditDecision {
  allowed: boolean;
  /** balance + overdraft: the items the member may still be sent. */
  available: bigint | undefined;
}

interface Cached {
  credits: MemberCredits | undefined;
  readAtMs: number;
  reading: Promise<void> | undefined;
  readStartedAtMs: number;
}

/** What a member may still ask for (balance + overdraft, never below 0). */
export function availableCredits(credits: MemberCredits): bigint {
  const available = credits.balance + credits.overdraft;
  return available > 0n ? available : 0n;
}

/** Caches members' credits and decides whether they cover a request's items. */
export class CreditGate {
  private readonly maxAgeMs: number;
  private readonly readWaitMs: number;
  private readonly modules: CreditGateModules;
  private readonly log: Logger;
  private readonly cache = new Map<string, Cached>();
  private failing = false;

  constructor(opts: CreditGateOptions, modules: CreditGateModules) {
    this.maxAgeMs = opts.maxAgeMs ?? CREDIT_GATE_MAX_AGE_MS;
    this.readWaitMs = opts.readWaitMs ?? CREDIT_GATE_READ_WAIT_MS;
    this.modules = modules;
    this.log = modules.logger.child({ module: "policy.credits" });
  }

  /** Whether `member`'s credits cover `items` more evaluated items (re-read first when the cached ones are older than maxAgeMs). */
  async covers(member: string, items: number): Promise<CreditDecision> {
    const credits = await this.credits(member);
    if (credits === undefined) return { allowed: true, available: undefined };
    const available = availableCredits(credits);
    return { allowed: available >= BigInt(items), available };
  }

  /**
   * `member`'s credits, fresh within maxAgeMs when the chain answers within readWaitMs; else the
   * last ones read; undefined if none were ever read.
   */
  async credits(member: string): Promise<MemberCredits | undefined> {
    const key = member.toLowerCase();
    let cached = this.cache.get(key);
    if (cached === undefined) {
      cached = { credits: undefined, readAtMs: Number.NEGATIVE_INFINITY, reading: undefined, readStartedAtMs: 0 };
      this.cache.set(key, cached);
    }
    if (this.now() - cached.readAtMs > this.maxAgeMs) {
      const reading = this.read(member, cached);
      const waitMs = this.readWaitMs - (this.now() - cached.readStartedAtMs);
      if (waitMs > 0) await waitAtMost(reading, waitMs);
    }
    return cached.credits;
  }

  /** Reads again every member read before (after the chain view caught up: a batch may have moved credits). */
  async refresh(): Promise<void> {
    await Promise.all([...this.cache.entries()].map(([member, cached]) => this.read(member, cached)));
  }

  private read(member: string, cached: Cached): Promise<void> {
    if (cached.reading === undefined) cached.readStartedAtMs = this.now();
    cached.reading ??= this.modules.reader.creditsOf(member).then(
      (credits) => {
        cached.credits = credits;
        cached.readAtMs = this.now();
        if (this.failing) this.log.info({}, "credits readable again");
        this.failing = false;
      },
      (err: unknown) => {
        // Not retried before maxAgeMs either: an outage must not make every request wait for a read.
        cached.readAtMs = this.now();
        if (!this.failing) this.log.warn({ code: (err as { code?: string }).code, err: (err as Error)?.message }, "credits could not be read; the last balances read stand");
        this.failing = true;
      },
    ).finally(() => {
      cached.reading = undefined;
    });
    return cached.reading;
  }

  private now(): number {
    return this.modules.nowMs?.() ?? Date.now();
  }
}

/** Resolves when `work` settles or after `ms`, whichever comes first. */
async function waitAtMost(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  })]);
  clearTimeout(timer);
}
