import { RiskshareError } from "../errors.ts";
import type { CheckRequest, CheckResponse } from "./schemas.ts";

/** One list's answer for one item, as the p2p layer and the store give it. */
export type ItemResult =
  | { hit: false }
  | { hit: true; category: number; level: number; reason: string; reportedAt: number; expiresAt?: number; providerRef?: string };

/** How one provider's part of a fan-out ended. */
export interface ProviderOutcome {
  address: string;
  name: string;
  status: "answered" | "denied" | "timeout" | "error";
  code?: string;
  queryId?: string;
  /** Query ids of the fetches after the evaluation (answered only). */
  fetchQueryIds?: readonly string[];
  coverFetchQueryId?: string;
  /** One per hashed item, in request order (answered only). */
  results?: readonly ItemResult[];
}

/** An identifier normalised and ready to check (it never leaves the node: only blinded elements do). */
export interface CheckItem {
  type: string;
  /** The normalised identifier. */
  value: string;
}

/** Dependencies of {@link CheckService}. */
export interface CheckServiceModules {
  /**
   * Normalises one raw identifier; a rejection names the reason, never the value. `warninglisted`
   * names the warninglist it is on: such an item is asked of nobody and reported a miss.
   */
  prepareItem(type: string, raw: string): { ok: true; item: CheckItem; warninglisted?: string } | { ok: false; reason: string };
  /** The node's own lists. */
  ownLookup(items: CheckItem[], categoryIds: number[], nowSec: number): Promise<ItemResult[]>;
  /** Asks the providers in parallel; each ends on its own (a timeout is never a miss). */
  fanOut(providers: readonly string[], items: CheckItem[], categoryIds: number[], opts: { timeoutMsPerPeer: number; signal: AbortSignal }): Promise<ProviderOutcome[]>;
  /** Active categories, name → id. */
  activeCategories(): ReadonlyMap<string, number>;
  /**
   * Categories asked when a request names none: those this node may ask for under reciprocity
   * (it contributes to them); all active ones when it may ask for none, so the denial is visible.
   */
  defaultCategoryIds?(): number[];
  /** Active members other than this node. */
  peerAddresses(): string[];
  /** Throws when the node refuses checks now, with the code of why (E_BACKLOG, E_CHAIN_UNREACHABLE, E_NOT_MEMBER, E_OPRF_KEY_MISSING: NodeHealth.assertReady). */
  assertReady(): void;
  /** Unix seconds now. */
  nowSec(): number;
  defaultTimeoutMsPerPeer: number;
}

/** Checks raw identifiers against the node's own lists and its peers', and merges one verdict. */
export class CheckService {
  private readonly modules: CheckServiceModules;

  constructor(modules: CheckServiceModules) {
    this.modules = modules;
  }

  /** Runs one POST /v1/check. */
  async check(request: CheckRequest, signal: AbortSignal): Promise<CheckResponse> {
    const m = this.modules;
    m.assertReady();
    const categories = m.activeCategories();
    const categoryIds = request.categories === undefined
      ? (m.defaultCategoryIds?.() ?? [...categories.values()])
      : request.categories.map((name) => {
          const id = categories.get(name);
          if (id === undefined) throw new RiskshareError("E_CATEGORY_UNKNOWN", `no active category named ${name}`, { category: name });
          return id;
        });
    const hashed = request.items.map((item) => m.prepareItem(item.type, item.value));
    const valid = hashed.flatMap((h) => (h.ok && h.warninglisted === undefined ? [h.item] : []));
    const peers = request.providers ?? m.peerAddresses();
    const now = m.nowSec();
    const [own, outcomes] = await Promise.all([
      request.includeOwn === false || valid.length === 0 ? Promise.resolve(undefined) : m.ownLookup(valid, categoryIds, now),
      valid.length === 0 || peers.length === 0 ? Promise.resolve([]) : m.fanOut(peers, valid, categoryIds, { timeoutMsPerPeer: request.timeoutMsPerPeer ?? m.defaultTimeoutMsPerPeer, signal }),
    ]);
    const names = new Map([...categories].map(([name, id]) => [id, name]));
    return mergeCheck(request.items.map((item, index) => {
      const h = hashed[index]!;
      return { type: item.type, rejected: h.ok ? undefined : h.reason, warninglisted: h.ok ? h.warninglisted : undefined };
    }), own, outcomes, (id) => names.get(id) ?? `#${id}`);
  }
}

/**
 * Merges own and provider results into one verdict per item and overall. Pure.
 * - An item is a hit when any list (own or an answered provider) holds it.
 * - It is a miss only when the own list (if asked) and every provider asked answered without it.
 * - Otherwise (no hit, but a provider was denied, timed out or failed) it is incomplete: a
 *   provider that did not answer is never counted as a miss.
 * - An item on a warninglist is a miss, asked of nobody (`warninglisted` names the list).
 */
export function mergeCheck(
  items: readonly { type: string; rejected: string | undefined; warninglisted?: string | undefined }[],
  own: readonly ItemResult[] | undefined,
  outcomes: readonly ProviderOutcome[],
  categoryName: (id: number) => string,
): CheckResponse {
  const allAnswered = outcomes.every((o) => o.status === "answered");
  let validIndex = 0;
  const merged = items.map((item, index) => {
    if (item.rejected !== undefined) return { index, type: item.type, verdict: "invalid" as const, invalidReason: item.rejected, hits: [] };
    if (item.warninglisted !== undefined) return { index, type: item.type, verdict: "miss" as const, warninglisted: item.warninglisted, hits: [] };
    const i = validIndex++;
    const ownResult = own?.[i];
    const hits = outcomes.flatMap((o) => {
      const r = o.status === "answered" ? o.results?.[i] : undefined;
      return r?.hit ? [{ ...describe(r, categoryName), provider: o.address, providerName: o.name }] : [];
    });
    const hit = hits.length > 0 || ownResult?.hit === true;
    const verdict = hit ? "hit" as const : allAnswered ? "miss" as const : "incomplete" as const;
    return { index, type: item.type, verdict, ...(ownResult?.hit ? { own: describe(ownResult, categoryName) } : {}), hits };
  });
  const considered = merged.filter((m) => m.verdict !== "invalid");
  const verdict = considered.some((m) => m.verdict === "hit") ? "hit" : considered.every((m) => m.verdict === "miss") ? "miss" : "incomplete";
  return {
    verdict,
    items: merged,
    providers: outcomes.map((o) => ({
      address: o.address, name: o.name, status: o.status,
      ...(o.code === undefined ? {} : { code: o.code }),
      ...(o.queryId === undefined ? {} : { queryId: o.queryId }),
      ...(o.fetchQueryIds === undefined || o.fetchQueryIds.length === 0 ? {} : { fetchQueryIds: [...o.fetchQueryIds] }),
      ...(o.coverFetchQueryId === undefined ? {} : { coverFetchQueryId: o.coverFetchQueryId }),
      ...(o.status === "answered" ? { hitCount: (o.results ?? []).filter((r) => r.hit).length } : {}),
    })),
  };
}

function describe(r: Extract<ItemResult, { hit: true }>, categoryName: (id: number) => string) {
  return {
    category: categoryName(r.category), level: r.level, reason: r.reason, reportedAt: r.reportedAt,
    ...(r.expiresAt === undefined ? {} : { expiresAt: r.expiresAt }),
    ...(r.providerRef === undefined ? {} : { providerRef: r.providerRef }),
  };
}
