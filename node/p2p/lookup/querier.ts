/**
 * The querier's side of a check across providers: it asks a provider only what the provider would
 * answer. A category this member may not ask for under reciprocity is refused here (nothing sent,
 * nothing recorded); each provider is asked only for the categories its on-chain snapshots list
 * anything in (one that lists nothing in any of them is a miss without a request); a filter not held,
 * or held for an older key epoch, is synced first, and a provider whose filters still are not here
 * is reported `E_FILTER_MISSING` without an evaluation being charged to anyone. When this member's
 * credits do not cover the items of every Evaluate the check would send, none is sent: those
 * providers are reported `skipped` (E_CREDITS_EXHAUSTED).
 */
import type { DialTarget } from "@libp2p/interface";
import { RiskshareError, type ErrorCode } from "../../errors.ts";
import { RECIPROCITY_ERROR_CODES, type ReciprocityDecision, type SelectionPlan } from "../../policy/index.ts";
import type { LookupOutcome, LookupQuery, LookupResult } from "./client.ts";
import type { FanOutOptions, FanOutTarget } from "./fanout.ts";
import { evaluateShape } from "./shapes.ts";

/** A member as the querier reads it from the chain. */
export interface ProviderInfo {
  address: string;
  name: string;
  peerId: string;
  keyEpoch: number;
}

/** Dependencies of {@link QuerierFanOut}. */
export interface QuerierFanOutModules {
  /** The chain's view of members and their contribution snapshots (ConsortiumView fits). */
  view: {
    member(address: string): ProviderInfo | undefined;
    contribution(address: string, categoryId: number): { liveCount: bigint } | undefined;
  };
  /** Whether this member may ask for these categories at all (ReciprocityGate.mayAsk, bound to this member). */
  mayAsk(categoryIds: readonly number[]): ReciprocityDecision;
  /** The filters this node holds (FilterSync fits). */
  filters: {
    held(provider: string, categoryId: number): { epoch: number } | undefined;
    syncOnce(signal: AbortSignal | undefined, opts: { retryNow: boolean }): Promise<unknown>;
  };
  /** Where to reach a provider: its PeerId bytes as a dial target. */
  dialTarget(peerIdHex: string): DialTarget;
  /** The lookup service's fan-out. */
  fanOut(targets: readonly FanOutTarget[], query: Omit<LookupQuery, "providerAddress">, opts: FanOutOptions): Promise<LookupOutcome[]>;
  /** Whom it pays to ask (policy's ProviderSelection): the request's plan, and what each answer showed. */
  selection?: {
    plan(nowSec: number): SelectionPlan;
    observe(provider: string, categoryIds: readonly number[], items: number, hitsByCategory: ReadonlyMap<number, number>): void;
  };
  /** Unix seconds now (for the selection's plan). */
  nowSec?(): number;
  /**
   * This member's own credits (balance + overdraft on the QueryLedger), undefined when unknown:
   * nothing is sent when they do not cover the items the Evaluates would carry. No gate when absent.
   */
  ownCredits?(): Promise<bigint | undefined>;
}

/** One provider's part of a check, as the API merges it. */
export type QuerierOutcome =
  | { address: string; name: string; status: "answered"; results: LookupResult[]; queryId?: string; fetchQueryIds?: string[]; coverFetchQueryId?: string }
  | { address: string; name: string; status: "denied" | "timeout" | "error" | "skipped"; code: ErrorCode | string; queryId?: string };

/** Asks providers what they would answer, and reports every one of them. */
export class QuerierFanOut {
  private readonly modules: QuerierFanOutModules;

  constructor(modules: QuerierFanOutModules) {
    this.modules = modules;
  }

  /**
   * One outcome per provider named, in order; E_BAD_INPUT for an address that is no member. Unless
   * `named` (the caller chose the providers), a provider's categories its hit rate does not pay for
   * are skipped (policy's ProviderSelection); a provider all of whose listed categories are skipped
   * is reported `skipped` (E_LOW_HIT_RATE), never a miss; so is every provider that would be asked
   * when this member's credits do not cover the Evaluates' items (E_CREDITS_EXHAUSTED).
   */
  async ask(providers: readonly string[], query: Omit<LookupQuery, "providerAddress">, opts: FanOutOptions = {}, choice: { named?: boolean } = {}): Promise<QuerierOutcome[]> {
    const { view } = this.modules;
    const members = providers.map((address) => {
      const member = view.member(address);
      if (!member) throw new RiskshareError("E_BAD_INPUT", `providers: ${address} is not a member of the consortium`, { argument: "providers" });
      return member;
    });
    const mayAsk = this.modules.mayAsk(query.categoryIds);
    if (!mayAsk.allowed) return members.map((m) => ({ address: m.address, name: m.name, status: "denied", code: RECIPROCITY_ERROR_CODES[mayAsk.reason] }));
    const listedAll = (m: ProviderInfo) => query.categoryIds.filter((id) => (view.contribution(m.address, id)?.liveCount ?? 0n) > 0n);
    const plan = choice.named === true ? undefined : this.modules.selection?.plan(this.modules.nowSec?.() ?? Math.floor(Date.now() / 1000));
    const listed = (m: ProviderInfo) => listedAll(m).filter((id) => plan?.skip(m.address, id) !== true);
    const missing = (m: ProviderInfo) => listed(m).some((id) => this.modules.filters.held(m.address, id)?.epoch !== m.keyEpoch);
    const withLists = members.filter((m) => listed(m).length > 0);
    if (withLists.some(missing)) await this.modules.filters.syncOnce(opts.signal, { retryNow: true }).catch(() => undefined);
    const filtered = withLists.filter((m) => !missing(m));
    // Each Evaluate is metered at its padded shape: what these providers would charge, all told.
    const needed = BigInt(filtered.length * (evaluateShape(query.items.length) ?? query.items.length));
    const available = filtered.length === 0 ? undefined : await this.modules.ownCredits?.();
    const broke = available !== undefined && available < needed;
    const asked = broke ? [] : filtered;
    const outcomes = asked.length === 0 ? [] : await this.modules.fanOut(
      asked.map((m) => ({ peer: this.modules.dialTarget(m.peerId), providerAddress: m.address, categoryIds: listed(m) })), query, opts,
    );
    const byAddress = new Map(outcomes.map((o) => [o.providerAddress.toLowerCase(), o]));
    return members.map((m): QuerierOutcome => {
      const o = byAddress.get(m.address.toLowerCase());
      if (o === undefined) {
        if (broke && filtered.includes(m)) return { address: m.address, name: m.name, status: "skipped", code: "E_CREDITS_EXHAUSTED" };
        if (listed(m).length > 0) return { address: m.address, name: m.name, status: "error", code: "E_FILTER_MISSING" };
        if (listedAll(m).length > 0) return { address: m.address, name: m.name, status: "skipped", code: "E_LOW_HIT_RATE" };
        return { address: m.address, name: m.name, status: "answered", results: query.items.map(() => ({ hit: false })) };
      }
      if (o.status === "answered") {
        const hitsByCategory = new Map<number, number>();
        for (const r of o.results) if (r.hit) hitsByCategory.set(r.category, (hitsByCategory.get(r.category) ?? 0) + 1);
        this.modules.selection?.observe(m.address, listed(m), query.items.length, hitsByCategory);
      }
      return o.status === "answered"
        ? {
          address: m.address, name: m.name, status: "answered", results: o.results, queryId: o.queryId, fetchQueryIds: o.fetchQueryIds,
          ...(o.coverFetchQueryId === undefined ? {} : { coverFetchQueryId: o.coverFetchQueryId }),
        }
        : { address: m.address, name: m.name, status: o.status, code: o.code, ...(o.queryId === undefined ? {} : { queryId: o.queryId }) };
    });
  }
}
