import { RiskshareError } from "../errors.ts";
import type { CheckRequest, CheckResponse } from "./schemas.ts";
import { assertPhoneRegion, tryNormalise, type Warninglists } from "../identity/index.ts";

/** One list's answer for one item, as the p2p layer and the store give it. */
export type ItemResult =
  | { hit: false }
  | {
    hit: true; category: number; level: number; reason: string; reportedAt: number; expiresAt?: number; providerRef?: string;
    /** Distinct confirmations (feedback) and the last one's time, unix seconds. */
    confirmations?: number; lastConfirmedAt?: number;
    /** The kept hit's id (a provider's hit): what a feedback report names. */
    hitId?: string;
  };

/** How one provider's part of a fan-out ended. */
export interface ProviderOutcome {
  address: string;
  name: string;
  status: "answered" | "denied" | "timeout" | "error" | "skipped";
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
   * `warninglistNotice` names an inform-only list it is on (a consortium addition): asked as usual, flagged.
   */
  prepareItem(type: string, raw: string): { ok: true; item: CheckItem; warninglisted?: string; warninglistNotice?: string } | { ok: false; reason: string };
  /** The node's own lists. */
  ownLookup(items: CheckItem[], categoryIds: number[], nowSec: number): Promise<ItemResult[]>;
  /** Asks the providers in parallel; each ends on its own (a timeout is never a miss). */
  fanOut(providers: readonly string[], items: CheckItem[], categoryIds: number[], opts: { timeoutMsPerPeer: number; signal: AbortSignal; named: boolean }): Promise<ProviderOutcome[]>;
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
  /** A hit's decay score (0–100) now, by category name, raised by its confirmations; without it hits carry no score and minScore is refused. */
  score?(category: string, level: number, reportedAtSec: number, nowSec: number, confirmed?: { confirmations: number; lastConfirmedAtSec: number }): number;
}

/**
 * The node's {@link CheckServiceModules.prepareItem}: normalises in `defaultRegion`; an identifier on
 * a `refuse` warninglist entry is `warninglisted` (asked of nobody), on an `inform` one flagged.
 */
export function checkItemPreparer(warninglists: Warninglists, defaultRegion: string): CheckServiceModules["prepareItem"] {
  assertPhoneRegion(defaultRegion);
  return (type, raw) => {
    const normalised = tryNormalise(type, raw, { defaultRegion });
    if (!normalised.ok) return { ok: false, reason: normalised.reason };
    const item = { type, value: normalised.value };
    const listed = warninglists.match(type, normalised.value);
    if (listed === undefined) return { ok: true, item };
    return listed.action === "refuse" ? { ok: true, item, warninglisted: listed.list } : { ok: true, item, warninglistNotice: listed.list };
  };
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
    if (request.minScore !== undefined && m.score === undefined) throw new RiskshareError("E_API_BODY", "this node scores no hits, so minScore cannot be applied");
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
      valid.length === 0 || peers.length === 0 ? Promise.resolve([]) : m.fanOut(peers, valid, categoryIds, { timeoutMsPerPeer: request.timeoutMsPerPeer ?? m.defaultTimeoutMsPerPeer, signal, named: request.providers !== undefined }),
    ]);
    const names = new Map([...categories].map(([name, id]) => [id, name]));
    const score = m.score;
    return mergeCheck(request.items.map((item, index) => {
      const h = hashed[index]!;
      return { type: item.type, rejected: h.ok ? undefined : h.reason, warninglisted: h.ok ? h.warninglisted : undefined, warninglistNotice: h.ok ? h.warninglistNotice : undefined };
    }), own, outcomes, (id) => names.get(id) ?? `#${id}`, score === undefined ? undefined : { score: (category, level, reportedAt, confirmed) => score(category, level, reportedAt, now, confirmed), minScore: request.minScore ?? 0 });
  }
}

/**
 * Merges own and provider results into one verdict per item and overall. Pure.
 * - An item is a hit when any list (own or an answered provider) holds it.
 * - It is a miss only when the own list (if asked) and every provider asked answered without it.
 * - Otherwise (no hit, but a provider was denied, timed out or failed) it is incomplete: a
 *   provider that did not answer is never counted as a miss.
 * - An item on a warninglist is a miss, asked of nobody (`warninglisted` names the list); one on
 *   an inform-only list (a consortium addition) is asked as usual and flagged (`warninglistNotice`).
 * - With `decay`, each hit carries its decay score, and a hit scoring below `minScore` is dropped
 *   as if its list did not hold the item.
 */
export function mergeCheck(
  items: readonly { type: string; rejected: string | undefined; warninglisted?: string | undefined; warninglistNotice?: string | undefined }[],
  own: readonly ItemResult[] | undefined,
  outcomes: readonly ProviderOutcome[],
  categoryName: (id: number) => string,
  decay?: { score(category: string, level: number, reportedAtSec: number, confirmed?: { confirmations: number; lastConfirmedAtSec: number }): number; minScore: number },
): CheckResponse {
  const scored = (r: Extract<ItemResult, { hit: true }>): ReturnType<typeof describe> & { score?: number } => {
    const described = describe(r, categoryName);
    const confirmed = r.confirmations === undefined ? undefined : { confirmations: r.confirmations, lastConfirmedAtSec: r.lastConfirmedAt ?? 0 };
    return decay === undefined ? described : { ...described, score: decay.score(described.category, r.level, r.reportedAt, confirmed) };
  };
  const kept = (hit: { score?: number | undefined }): boolean => decay === undefined || (hit.score ?? 0) >= decay.minScore;
  // A provider skipped for its hit rate was not asked, by this member's own choice: it makes nothing incomplete.
  // One skipped because this member's credits ran out would have been asked: the check is incomplete.
  const allAnswered = outcomes.every((o) => o.status === "answered" || (o.status === "skipped" && o.code !== "E_CREDITS_EXHAUSTED"));
  let validIndex = 0;
  const merged = items.map((item, index) => {
    if (item.rejected !== undefined) return { index, type: item.type, verdict: "invalid" as const, invalidReason: item.rejected, hits: [] };
    if (item.warninglisted !== undefined) return { index, type: item.type, verdict: "miss" as const, warninglisted: item.warninglisted, hits: [] };
    const i = validIndex++;
    const ownResult = own?.[i];
    const ownHit = ownResult?.hit ? scored(ownResult) : undefined;
    const ownKept = ownHit !== undefined && kept(ownHit) ? ownHit : undefined;
    const hits = outcomes.flatMap((o) => {
      const r = o.status === "answered" ? o.results?.[i] : undefined;
      return r?.hit ? [{ ...scored(r), provider: o.address, providerName: o.name }] : [];
    }).filter(kept);
    const hit = hits.length > 0 || ownKept !== undefined;
    const verdict = hit ? "hit" as const : allAnswered ? "miss" as const : "incomplete" as const;
    return { index, type: item.type, verdict, ...(item.warninglistNotice === undefined ? {} : { warninglistNotice: item.warninglistNotice }), ...(ownKept === undefined ? {} : { own: ownKept }), hits };
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
    ...(r.confirmations === undefined ? {} : { confirmations: r.confirmations, lastConfirmedAt: r.lastConfirmedAt ?? 0 }),
    ...(r.hitId === undefined ? {} : { hitId: r.hitId }),
  };
}
