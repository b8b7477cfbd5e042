/**
 * Decay: how much a hit still counts, from its level and the time since it was reported, with
 * MISP's polynomial model per category:
 *
 *   score(t) = base × (1 − (t / lifetime)^(1 / speed))   for 0 ≤ t < lifetime, 0 after
 *   base     = 20 × level                                 (level 1 → 20 … level 5 → 100)
 *
 * `speed` 1 is linear; above 1 the score holds longer and then falls fast, below 1 it falls fast at
 * first. A report dated in the future (clock skew) counts as reported now. Pure functions.
 *
 * Confirmations (feedback, docs/PROTOCOL.md "Feedback") raise it: with f(a) = 1 − (a / lifetime)^(1 / speed)
 * (0 from `lifetime` on) the decay factor at age a,
 *
 *   score = round(min(base, base × f(t) + c × (base / 4) × f(t_c)))
 *
 * where t is the time since the report, c the number of distinct members that confirmed the entry
 * (the provider counts each member once) and t_c the time since the last confirmation. Each
 * distinct confirmation adds at most base / 4, decaying like a report made on its date; the total is
 * never above base, so colluding members cannot lift an entry above a fresh report, and once they
 * stop confirming it decays away like any other.
 */

/** One category's decay model. */
export interface DecayModel {
  /** Days after which a report counts for nothing (score 0). */
  readonly lifetimeDays: number;
  /** The polynomial's speed (MISP's `decay_speed`): 1 linear, > 1 slow then fast, < 1 fast then slow. */
  readonly speed: number;
}

/** The model of a category that has none of its own. */
export const DEFAULT_DECAY_MODEL: DecayModel = { lifetimeDays: 365, speed: 1 };

/** The highest score: a level-5 report, reported now. */
export const MAX_DECAY_SCORE = 100;

/** Distinct confirmations of an entry and the age of the last one. */
export interface Confirmations {
  /** Distinct members that confirmed the entry. */
  readonly count: number;
  /** Seconds since the last confirmation. */
  readonly lastAgeSec: number;
}

/** The decay factor f(a) in [0, 1] of an age under `model` (1 now, 0 from the lifetime on). */
export function decayFactor(ageSec: number, model: DecayModel): number {
  const lifetimeSec = model.lifetimeDays * 86_400;
  const t = Math.max(0, ageSec);
  if (!(lifetimeSec > 0) || t >= lifetimeSec) return 0;
  return 1 - (t / lifetimeSec) ** (1 / model.speed);
}

/**
 * The score (0–100, a whole number) of a report of `level` that is `ageSec` seconds old under
 * `model`, raised by its `confirmations` (see the file comment), never above the level's base.
 */
export function decayScore(level: number, ageSec: number, model: DecayModel, confirmations?: Confirmations): number {
  const base = (MAX_DECAY_SCORE / 5) * Math.min(5, Math.max(1, Math.round(level)));
  const reported = base * decayFactor(ageSec, model);
  const count = Math.max(0, Math.floor(confirmations?.count ?? 0));
  const confirmed = count === 0 ? 0 : count * (base / 4) * decayFactor(confirmations!.lastAgeSec, model);
  return Math.round(Math.min(base, reported + confirmed));
}

/** The decay models of a node: one per category name, and the default for the others. */
export class DecayModels {
  readonly #default: DecayModel;
  readonly #byCategory: ReadonlyMap<string, DecayModel>;

  constructor(opts: { default?: DecayModel; categories?: Readonly<Record<string, DecayModel>> } = {}) {
    this.#default = opts.default ?? DEFAULT_DECAY_MODEL;
    this.#byCategory = new Map(Object.entries(opts.categories ?? {}));
  }

  /** The model of a category (by name). */
  model(category: string): DecayModel {
    return this.#byCategory.get(category) ?? this.#default;
  }

  /**
   * The score of a hit in `category` of `level`, reported at `reportedAtSec`, at `nowSec`; raised by
   * `confirmations` distinct confirmations, the last at `lastConfirmedAtSec`.
   */
  score(category: string, level: number, reportedAtSec: number, nowSec: number, confirmed?: { confirmations: number; lastConfirmedAtSec: number }): number {
    const confirmations = confirmed === undefined || confirmed.confirmations <= 0 ? undefined : { count: confirmed.confirmations, lastAgeSec: nowSec - confirmed.lastConfirmedAtSec };
    return decayScore(level, nowSec - reportedAtSec, this.model(category), confirmations);
  }
}
