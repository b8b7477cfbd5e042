/**
 * A member's own lists as one service, the same whether the CLI holds the store (no node running) or
 * the running node does (its local API hands the CLI's and the institution's calls to it): import,
 * check, remove, stats, export and publish, with the progress of the import in flight.
 *
 * One import runs at a time (a second gets E_IMPORT_BUSY); lookups, checks and removals go on while it
 * runs, each batch of the import being one atomic write (importer.ts), so a reader sees whole batches.
 */
import { RiskshareError } from "../errors.ts";
import { assertPhoneRegion, normalise, type EntryKeyEvaluator, type EntryKeys, type Warninglists } from "../identity/index.ts";
import type { Logger } from "../logger.ts";
import { categoryUnknown } from "./errors.ts";
import { exportEntries } from "./export.ts";
import { importList, type ImportSource, type ImportSummary } from "./import/importer.ts";
import type { ImportOptions, ImportProgress } from "./options.ts";
import { publishSnapshots, type ContributionPublisher } from "./publish.ts";
import type { Store, StoreStats } from "./store.ts";

/** An import's summary as the CLI prints it and the API answers it: plain arrays, no undefined fields. */
export function importSummaryView(summary: ImportSummary): Omit<ImportSummary, "errors" | "resumedAfterLine"> & { errors: ImportSummary["errors"][number][]; resumedAfterLine?: number } {
  const { resumedAfterLine, ...rest } = summary;
  return { ...rest, errors: [...rest.errors], ...(resumedAfterLine === undefined ? {} : { resumedAfterLine }) };
}

/** The import in flight: its source, when it started and where it is. */
export interface ImportStatus extends ImportProgress {
  readonly source: string;
  /** ISO 8601. */
  readonly startedAt: string;
}

/** One own-list check, as `list check` and `POST /v1/entries/check` answer it. */
export type OwnCheck =
  | { readonly hit: false }
  | {
    readonly hit: true; readonly category: string | undefined; readonly level: number; readonly reason: string;
    readonly reportedAt: number; readonly expiresAt: number | null; readonly ref: string | null;
  };

/** One removal, as `list remove` and `POST /v1/entries/remove` answer it. */
export type RemoveOutcome = { readonly removed: false } | { readonly removed: true; readonly category: string | undefined; readonly reason: string };

/** The store's figures as the CLI and the API show them. */
export interface ListOverview {
  entries: number;
  keyEpoch: number | null;
  expiredAwaitingSweep: number;
  perCategory: { categoryId: number; name: string | null; entries: number }[];
}

/** One snapshot published. */
export interface PublishedRow {
  readonly category: string | undefined;
  readonly keyEpoch: number;
  readonly liveCount: number;
  readonly filterHash: string;
  readonly txHash: string;
}

/** What the chain holds of this member's snapshot of a category (for "publish when changed"). */
export interface PublishedSnapshotInfo {
  readonly filterHash: string;
  readonly keyEpoch: number;
}

/**
 * Which changed categories a running node publishes now: those whose list outgrew the bucket size
 * their snapshot on chain sets (`bits` of the stored count above those of the published one: lookups
 * would be refused), and the others once `everySec` passed since their snapshot (or at once with
 * none). Nothing when `everySec` is 0 (publishing by hand only).
 */
export function categoriesDue(opts: {
  readonly changed: readonly number[];
  readonly storedCount: (categoryId: number) => number;
  readonly published: (categoryId: number) => { readonly liveCount: number; readonly publishedAt: number } | undefined;
  readonly bits: (liveCount: number) => number;
  readonly nowSec: number;
  readonly everySec: number;
}): number[] {
  if (opts.everySec <= 0) return [];
  return opts.changed.filter((categoryId) => {
    const published = opts.published(categoryId);
    if (opts.bits(opts.storedCount(categoryId)) > opts.bits(published?.liveCount ?? 0)) return true;
    return opts.nowSec >= (published?.publishedAt ?? 0) + opts.everySec;
  });
}

/** Dependencies of {@link ListService}. */
export interface ListServiceModules {
  readonly store: Store;
  /** The member's entry key evaluator of the store's key epoch; undefined while the node holds none. */
  evaluator(): EntryKeyEvaluator | undefined;
  /** The region phone numbers without a country code are read in (config identity.defaultRegion, checked). */
  readonly region: string;
  /** Sends a snapshot on chain; without one, publish is refused. */
  readonly publisher?: ContributionPublisher | undefined;
  readonly logger: Logger;
  /** The warninglists imports are checked against (loadWarninglists of the data directory); the shipped ones when absent. */
  readonly warninglists?: Warninglists | undefined;
}

/** The member's own lists: see the module comment. */
export class ListService {
  readonly #modules: ListServiceModules;
  readonly #region: ReturnType<typeof regionOf>;
  #current: ImportStatus | undefined;
  #publishing: Promise<unknown> = Promise.resolve();

  constructor(modules: ListServiceModules) {
    this.#modules = modules;
    this.#region = regionOf(modules.region);
  }

  /** The import in flight, if any. */
  importStatus(): ImportStatus | undefined {
    return this.#current;
  }

  /**
   * Imports a list (see importer.ts for resume and atomicity). One at a time: E_IMPORT_BUSY while
   * another runs. `onProgress` sees the same progress {@link importStatus} reports.
   */
  async import(source: ImportSource, opts: Omit<ImportOptions, "normalise">): Promise<ImportSummary> {
    if (this.#current !== undefined) throw new RiskshareError("E_IMPORT_BUSY", `an import of ${this.#current.source} is running (${this.#current.rows} rows read)`);
    const evaluator = this.#evaluator();
    const name = "path" in source ? source.path : source.name;
    const startedAt = new Date().toISOString();
    this.#current = { source: name, startedAt, rows: 0, bytes: 0, totalBytes: "path" in source ? undefined : source.sizeBytes, rowsPerSec: 0, elapsedMs: 0, imported: 0, updated: 0, unchanged: 0, rejected: 0 };
    try {
      return await importList(source, {
        ...opts, normalise: { defaultRegion: this.#region },
        onProgress: (progress) => {
          this.#current = { ...progress, source: name, startedAt };
          opts.onProgress?.(progress);
        },
      }, { store: this.#modules.store, evaluator, logger: this.#modules.logger, warninglists: this.#modules.warninglists });
    } finally {
      this.#current = undefined;
    }
  }

  /** Checks one identifier against the member's own lists. */
  async check(type: string, value: string): Promise<OwnCheck> {
    const { store } = this.#modules;
    const result = await store.checkOne({ type, entryId: this.#keysOf(type, value).entryId });
    if (!result.hit) return { hit: false };
    const entry = result.entry;
    return {
      hit: true, category: store.categoryName(entry.categoryId), level: entry.level, reason: entry.reason, reportedAt: entry.reportedAtSec,
      expiresAt: entry.expiresAtSec ?? null, ref: entry.ownRef ?? null,
    };
  }

  /** Delists one identifier; the removal and its reason go to the store's audit trail. */
  async remove(type: string, value: string, reason: string): Promise<RemoveOutcome> {
    const { store } = this.#modules;
    const result = await store.remove({ type, entryId: this.#keysOf(type, value).entryId }, { reason });
    return result.removed ? { removed: true, category: store.categoryName(result.categoryId), reason } : { removed: false };
  }

  /** Entries per category, expired ones awaiting a sweep, the key binding. */
  async stats(): Promise<StoreStats> {
    return this.#modules.store.stats();
  }

  /** {@link stats} as `list stats` and `GET /v1/entries/stats` show it: the key epoch and plain names (null when unknown). */
  async overview(): Promise<ListOverview> {
    const stats = await this.stats();
    return {
      entries: stats.entries, keyEpoch: stats.binding?.keyEpoch ?? null, expiredAwaitingSweep: stats.expiredAwaitingSweep,
      perCategory: stats.perCategory.map((c) => ({ categoryId: c.categoryId, name: c.name ?? null, entries: c.entries })),
    };
  }

  /** The export, line by line: tags and metadata, never raw identifiers. */
  export(format: "csv" | "jsonl"): AsyncGenerator<string> {
    return exportEntries(this.#modules.store, { format });
  }

  /** The ids of the named active categories (every active one when none is named); E_CATEGORY_UNKNOWN for a name that is not. */
  categoryIds(names?: readonly string[]): number[] {
    const { store } = this.#modules;
    if (names === undefined) return [...store.activeCategories().values()];
    return names.map((name) => {
      const id = store.categoryId(name);
      if (id === undefined) throw categoryUnknown([...store.activeCategories().keys()]);
      return id;
    });
  }

  /**
   * Publishes the snapshot (live count and filter commitment) of each category named (default every
   * active one), one after another. Publications never overlap: one sender, nonces in order.
   */
  async publish(categoryIds: readonly number[]): Promise<PublishedRow[]> {
    const { store, publisher } = this.#modules;
    if (publisher === undefined) throw new RiskshareError("E_CONFIG", "this list service has no chain to publish to");
    const run = this.#publishing.then(async () => {
      const published = await publishSnapshots(store, publisher, categoryIds);
      return published.map((p) => ({ category: store.categoryName(p.categoryId), keyEpoch: p.keyEpoch, liveCount: p.liveCount, filterHash: p.filterHash, txHash: p.txHash }));
    });
    this.#publishing = run.catch(() => undefined);
    return run;
  }

  /**
   * The active categories whose list changed since the snapshot the chain holds: a tag added or
   * removed since the base filter was built, no base or no snapshot yet, or a snapshot of another
   * filter or key epoch. Categories with no entry and no snapshot are left out.
   */
  changedCategories(onChain: (categoryId: number) => PublishedSnapshotInfo | undefined): number[] {
    const { store } = this.#modules;
    const changed: number[] = [];
    for (const categoryId of store.activeCategories().values()) {
      const state = store.filterState(categoryId);
      const published = onChain(categoryId);
      if (published === undefined) {
        if (state.seq > 0 || state.baseCount > 0) changed.push(categoryId);
        continue;
      }
      if (state.seq !== state.baseSeq || state.baseHash === null || state.baseHash.toLowerCase() !== published.filterHash.toLowerCase() || state.keyEpoch !== published.keyEpoch) {
        changed.push(categoryId);
      }
    }
    return changed;
  }

  #evaluator(): EntryKeyEvaluator {
    const evaluator = this.#modules.evaluator();
    if (evaluator === undefined) throw new RiskshareError("E_OPRF_KEY_MISSING", "this node holds no OPRF key of its key epoch on chain, so it cannot key list entries");
    return evaluator;
  }

  #keysOf(type: string, value: string): EntryKeys {
    return this.#evaluator().keysOf(type, normalise(type, value, { defaultRegion: this.#region }));
  }
}

/** The region, checked to be one phone numbers can be read in (E_CONFIG otherwise). */
function regionOf(region: string) {
  assertPhoneRegion(region);
  return region;
}
