/**
 * The querier side of `/riskshare/filter/1`: keeps a copy of every Active provider's tag filter for
 * each category this node may ask it, polls each every `filterPollMs`, and answers `contains`
 * locally. A state is taken only when the provider's signature recovers its address and, when the
 * chain view has the provider's snapshot for that category and epoch, its base hashes to the
 * published `filterHash`, and then its filter holds exactly the published `liveCount` keys: a
 * provider whose count disagrees with its own committed filter is marked (E_CONTRIBUTION_IMPLAUSIBLE,
 * see {@link FilterSync.implausibleSnapshots}) and its filter is not used. A failing (provider,
 * category) is retried with doubling backoff.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { checksumAddress, recoverDigestSigner } from "../../chain/index.ts";
import { exchangeSignal } from "../../deadline.ts";
import { ERROR_HINTS, RiskshareError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import { knownCode, toP2pError } from "../errors.ts";
import { decodeFrame, encodeFrame, frameStream, readFrameBytes, writeFrameBytes } from "../frames.ts";
import type { FilterSyncModules, FilterTarget, HeldFilter, ImplausibleSnapshot } from "./components.ts";
import { FILTER_PROTOCOL } from "./constants.ts";
import { filterRequestFrame, filterResponseFrame, type FilterAnswerFrame, type FilterRequestFrame } from "./messages.ts";
import { FILTER_SYNC_DEFAULTS, type FilterSyncOptions } from "./options.ts";
import { applyTag, baseFilterHash, filterStateDigest, tagHex } from "./state.ts";

/** A held filter in memory, its delta sets ready for lookups. */
interface LiveFilter {
  epoch: number;
  baseHash: string;
  baseCount: number;
  seq: number;
  base: Uint8Array;
  adds: Set<string>;
  removes: Set<string>;
}

/** Per (provider, category): failures in a row and when to try again (ms since epoch). */
interface Backoff {
  failures: number;
  retryAt: number;
}

/** The result of one poll of one (provider, category). */
export interface FilterPollResult {
  providerAddress: string;
  categoryId: number;
  ok: boolean;
  code?: string;
  /** Skipped because of backoff. */
  skipped?: boolean;
}

const key = (provider: string, categoryId: number) => `${provider.toLowerCase()}/${categoryId}`;

/** Keeps providers' filters; `contains` is the lookup client's `filters` component. */
export class FilterSync {
  private readonly opts: FilterSyncOptions;
  private readonly modules: FilterSyncModules;
  private readonly log: Logger;
  private readonly filters = new Map<string, LiveFilter>();
  private readonly backoff = new Map<string, Backoff>();
  private readonly implausible = new Map<string, ImplausibleSnapshot>();
  private loop: Promise<void> | undefined;
  private abort: AbortController | undefined;
  /** Injectable for tests. */
  now: () => number = () => Date.now();

  constructor(opts: Partial<FilterSyncOptions>, modules: FilterSyncModules) {
    this.opts = { ...FILTER_SYNC_DEFAULTS, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
    for (const name of ["dialer", "directory", "cache", "filterContains", "filterCount", "logger"] as const) {
      if (modules[name] === undefined) throw new RiskshareError("E_INTERNAL", `filter sync needs the '${name}' module`, { module: name });
    }
    this.modules = modules;
    this.log = modules.logger.child({ module: "p2p.filter-sync" });
  }

  /** Whether the tag is listed in the provider's filter of (category, epoch); undefined when none is held. */
  contains(providerAddress: string, categoryId: number, epoch: number, tag: Uint8Array): boolean | undefined {
    const filter = this.filters.get(key(providerAddress, categoryId));
    if (filter === undefined || filter.epoch !== epoch) return undefined;
    const hex = tagHex(tag);
    if (filter.adds.has(hex)) return true;
    if (filter.removes.has(hex)) return false;
    return this.modules.filterContains(filter.base, tag);
  }

  /** The held filter's state (no base bytes), or undefined. */
  held(providerAddress: string, categoryId: number): Omit<HeldFilter, "base" | "adds" | "removes"> | undefined {
    const filter = this.filters.get(key(providerAddress, categoryId));
    return filter && { epoch: filter.epoch, baseHash: filter.baseHash, baseCount: filter.baseCount, seq: filter.seq };
  }

  /** The providers whose on-chain live count disagreed with their filter when last checked (their filters are not used until one agrees). */
  implausibleSnapshots(): ImplausibleSnapshot[] {
    return [...this.implausible.values()].map((entry) => ({ ...entry }));
  }

  /** Loads the cached filters of the current targets, then polls every `filterPollMs` until `stop()` or `signal`. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.loop) return;
    const abort = new AbortController();
    this.abort = abort;
    const loopSignal = signal ? AbortSignal.any([signal, abort.signal]) : abort.signal;
    for (const target of this.modules.directory.targets()) {
      for (const categoryId of target.categoryIds) {
        const cached = await this.modules.cache.get(target.providerAddress, categoryId).catch(() => undefined);
        if (cached) this.filters.set(key(target.providerAddress, categoryId), live(cached));
      }
    }
    this.loop = (async () => {
      while (!loopSignal.aborted) {
        await this.syncOnce(loopSignal).catch((err) => this.log.warn({ err: (err as Error).message }, "filter poll failed"));
        await sleep(this.opts.filterPollMs, undefined, { signal: loopSignal }).catch(() => undefined);
      }
    })();
  }

  /** Stops polling and waits for the poll in flight to end. */
  async stop(): Promise<void> {
    this.abort?.abort(new RiskshareError("E_ABORTED", "filter sync stopping"));
    await this.loop;
    this.loop = undefined;
    this.abort = undefined;
  }

  /**
   * Polls every (provider, category) once — those in backoff too when `retryNow` (a lookup that needs
   * a filter it lacks, or holds for an older epoch, asks now, whatever an earlier failure said);
   * providers in parallel, a provider's categories in turn.
   */
  async syncOnce(signal?: AbortSignal, opts: { retryNow?: boolean } = {}): Promise<FilterPollResult[]> {
    const perTarget = await Promise.all(this.modules.directory.targets().map(async (target) => {
      const results: FilterPollResult[] = [];
      for (const categoryId of target.categoryIds) {
        if (signal?.aborted) break;
        results.push(await this.pollOne(target, categoryId, signal, opts.retryNow === true));
      }
      return results;
    }));
    return perTarget.flat();
  }

  private async pollOne(target: FilterTarget, categoryId: number, signal: AbortSignal | undefined, retryNow: boolean): Promise<FilterPollResult> {
    const providerAddress = checksumAddress(target.providerAddress);
    const k = key(providerAddress, categoryId);
    const backoff = this.backoff.get(k);
    if (backoff && backoff.retryAt > this.now() && !retryNow) return { providerAddress, categoryId, ok: false, skipped: true };
    try {
      await this.pull(target, providerAddress, categoryId, signal);
      this.backoff.delete(k);
      this.implausible.delete(k);
      return { providerAddress, categoryId, ok: true };
    } catch (err) {
      const error = toP2pError(err);
      // A commitment that cannot be true: no filter of this provider's for the category is used.
      if (error.code === "E_CONTRIBUTION_IMPLAUSIBLE") this.filters.delete(k);
      const failures = (backoff?.failures ?? 0) + 1;
      const waitMs = Math.min(this.opts.maxBackoffMs, this.opts.filterPollMs * 2 ** (failures - 1));
      this.backoff.set(k, { failures, retryAt: this.now() + waitMs });
      this.log.info({ providerAddress, categoryId, code: error.code, failures, waitMs }, "filter sync failed; backing off");
      return { providerAddress, categoryId, ok: false, code: error.code };
    }
  }

  /** One sync of one (provider, category): deltas onto the held copy, or a fresh base. */
  private async pull(target: FilterTarget, providerAddress: string, categoryId: number, signal: AbortSignal | undefined): Promise<void> {
    const k = key(providerAddress, categoryId);
    const current = this.filters.get(k);
    let taken: FilterAnswerFrame["state"];
    const first = await this.exchange(target, {
      provider: providerAddress, category: categoryId, epoch: current?.epoch ?? 0, baseHash: current?.baseHash ?? null, fromSeq: current?.seq ?? 0,
    }, signal);
    let next: LiveFilter;
    if (first.base === undefined) {
      const { state } = first;
      taken = state;
      if (!current || state.epoch !== current.epoch || state.baseHash !== current.baseHash || state.fromSeq !== current.seq || state.seq < current.seq) {
        throw new RiskshareError("E_PROTOCOL", "the provider sent deltas that do not follow the held filter");
      }
      next = { ...current, adds: new Set(current.adds), removes: new Set(current.removes), seq: state.seq, baseCount: state.baseCount };
      for (const tag of state.adds) applyTag(next.adds, next.removes, tag, true);
      for (const tag of state.removes) applyTag(next.adds, next.removes, tag, false);
    } else {
      const parts = [Buffer.from(first.base.bytes, "base64")];
      let last = first;
      if (first.base.chunk !== 0) throw new RiskshareError("E_PROTOCOL", "the base download did not start at chunk 0");
      for (let chunk = 1; chunk < first.base.chunks; chunk += 1) {
        last = await this.exchange(target, { provider: providerAddress, category: categoryId, epoch: 0, baseHash: null, fromSeq: 0, chunk }, signal);
        if (last.base?.chunk !== chunk || last.state.baseHash !== first.state.baseHash) throw new RiskshareError("E_PROTOCOL", "the base changed during its download");
        parts.push(Buffer.from(last.base.bytes, "base64"));
      }
      const base = new Uint8Array(Buffer.concat(parts));
      const { state } = last;
      taken = state;
      if (state.fromSeq !== 0) throw new RiskshareError("E_PROTOCOL", "a base must come with the deltas since it");
      if (baseFilterHash(base) !== state.baseHash) throw new RiskshareError("E_FILTER_INVALID", "the base filter does not hash to the signed baseHash");
      next = { epoch: state.epoch, baseHash: state.baseHash, baseCount: state.baseCount, seq: state.seq, base, adds: new Set(state.adds), removes: new Set(state.removes) };
    }
    const published = this.modules.directory.snapshot(providerAddress, categoryId);
    if (published !== undefined && published.keyEpoch === next.epoch) {
      if (published.filterHash.toLowerCase() !== next.baseHash) {
        throw new RiskshareError("E_FILTER_INVALID", "the provider's base filter is not the one it published on chain");
      }
      // The on-chain count must be the count of exactly this committed filter (the count is in its
      // header, so the hash covers it, and its layout is sized for it).
      let filterCount: number;
      try {
        filterCount = this.modules.filterCount(next.base);
      } catch (err) {
        throw new RiskshareError("E_FILTER_INVALID", "the provider's base filter is not a tag filter this node reads", {}, { cause: err });
      }
      if (BigInt(filterCount) !== published.liveCount) {
        const found = { providerAddress, categoryId, liveCount: published.liveCount.toString(), filterCount };
        this.implausible.set(k, found);
        this.log.warn({ ...found, code: "E_CONTRIBUTION_IMPLAUSIBLE" }, "provider's contribution snapshot disagrees with its filter; filter not used");
        throw new RiskshareError(
          "E_CONTRIBUTION_IMPLAUSIBLE",
          `the provider's on-chain snapshot claims ${published.liveCount} live entries but the filter it committed to holds ${filterCount}`,
          found,
        );
      }
    }
    await this.modules.cache.put(providerAddress, categoryId, {
      epoch: next.epoch, baseHash: next.baseHash, baseCount: next.baseCount, seq: next.seq, base: next.base, adds: [...next.adds], removes: [...next.removes],
    });
    this.filters.set(k, next);
    await this.tellRemovals(providerAddress, categoryId, taken);
  }

  /** Hands a taken state's removals and notices to the listener; its failure only logs (the filter is taken). */
  private async tellRemovals(providerAddress: string, categoryId: number, state: FilterAnswerFrame["state"]): Promise<void> {
    const listener = this.modules.removals;
    // Told of states without removals too: a state of a new key epoch retires the hits kept under the old one.
    if (listener === undefined) return;
    const notices = new Map((state.notices ?? []).map((notice) => [notice.tag, new Uint8Array(Buffer.from(notice.sealed, "base64"))] as const));
    try {
      await listener.applyRemovals({ providerAddress, categoryId, keyEpoch: state.epoch, removes: state.removes, notices }, this.now());
    } catch (err) {
      this.log.warn({ providerAddress, categoryId, code: (err as RiskshareError).code, err: (err as Error).message }, "matching removals against kept hits failed");
    }
  }

  /** One request/answer with the provider, its state's signature checked against its address. */
  private async exchange(target: FilterTarget, request: FilterRequestFrame, signal: AbortSignal | undefined): Promise<FilterAnswerFrame> {
    const deadline = exchangeSignal(this.opts.timeoutMs, [signal]);
    try {
      const connection = await this.modules.dialer.dial(target.peer, { signal: deadline.signal });
      const stream = await connection.newStream(FILTER_PROTOCOL, { signal: deadline.signal });
      let reply;
      try {
        const frames = frameStream(stream, this.opts.maxFrameBytes);
        await writeFrameBytes(frames, encodeFrame(request, filterRequestFrame, this.opts.maxFrameBytes), deadline.signal);
        reply = decodeFrame(await readFrameBytes(frames, deadline.signal), filterResponseFrame);
        await stream.close({ signal: deadline.signal });
      } catch (err) {
        stream.abort(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
      if (!reply.ok) throw new RiskshareError(knownCode(reply.error.code, ERROR_HINTS), reply.error.message);
      const { state, signature } = reply;
      if (checksumAddress(state.provider) !== checksumAddress(target.providerAddress) || state.category !== request.category) {
        throw new RiskshareError("E_PROTOCOL", "the filter state is of another provider or category");
      }
      let signer: string | undefined;
      try {
        signer = recoverDigestSigner(filterStateDigest(state), signature);
      } catch {
        signer = undefined;
      }
      if (signer === undefined || checksumAddress(signer) !== checksumAddress(target.providerAddress)) {
        throw new RiskshareError("E_BAD_SIGNATURE", "the filter state is not signed by the provider");
      }
      return reply;
    } catch (err) {
      throw toP2pError(err, deadline.signal);
    } finally {
      deadline.dispose();
    }
  }
}

function live(held: HeldFilter): LiveFilter {
  return { ...held, adds: new Set(held.adds), removes: new Set(held.removes) };
}
