/**
 * Outcome codes of a query as the QueryLedger records them (a uint8 per record).
 *
 * @example
 *   const code = QueryOutcome.DeniedReciprocity; outcomeName(code) === "DeniedReciprocity"
 *
 * 0 means answered; every other value is the reason the provider refused. Values are part of the
 * on-chain format: never renumber, only append.
 */
export const QueryOutcome = {
  Answered: 0,
  DeniedNotMember: 1,
  DeniedBadSignature: 2,
  DeniedExpired: 3,
  DeniedReplay: 4,
  DeniedReciprocity: 5,
  DeniedQuota: 6,
  DeniedBadRequest: 7,
  DeniedCategory: 8,
  /** The querier's credits (balance + overdraft, QueryLedger.creditsOf) do not cover the request's items. */
  DeniedCredits: 9,
} as const;

/** A query outcome code. */
export type QueryOutcomeCode = (typeof QueryOutcome)[keyof typeof QueryOutcome];

const NAMES = new Map<number, string>(Object.entries(QueryOutcome).map(([name, code]) => [code, name]));

/** The outcome's name, or `Unknown(n)` for a code this version does not know. */
export function outcomeName(code: number): string {
  return NAMES.get(code) ?? `Unknown(${code})`;
}

/**
 * The error code a provider sends with each refusal outcome: what a refusal record's `answerDigest`
 * binds (refusalDigest(code) in digests.ts). An outcome has exactly one code; E_RATE_LIMITED and
 * E_BACKLOG refusals are never recorded, so they have no outcome.
 */
export const REFUSAL_ERROR_CODES: Readonly<Record<number, string>> = {
  [QueryOutcome.DeniedNotMember]: "E_NOT_MEMBER",
  [QueryOutcome.DeniedBadSignature]: "E_BAD_SIGNATURE",
  [QueryOutcome.DeniedExpired]: "E_EXPIRED",
  [QueryOutcome.DeniedReplay]: "E_REPLAY",
  [QueryOutcome.DeniedReciprocity]: "E_RECIPROCITY",
  [QueryOutcome.DeniedQuota]: "E_QUOTA",
  [QueryOutcome.DeniedBadRequest]: "E_BAD_REQUEST",
  [QueryOutcome.DeniedCategory]: "E_CATEGORY_UNKNOWN",
  [QueryOutcome.DeniedCredits]: "E_CREDITS_EXHAUSTED",
};

/**
 * Refusals a provider makes before, or without, checking the querier's signature: their record
 * cannot carry a signature of the querier it names (the connected peer), so `audit verify` holds
 * them to membership instead. Every other outcome's record must carry the querier's signature.
 */
export const UNSIGNED_OUTCOMES: ReadonlySet<number> = new Set([QueryOutcome.DeniedNotMember, QueryOutcome.DeniedBadSignature, QueryOutcome.DeniedBadRequest]);

/**
 * Refusals that legitimately repeat the query id of a request already recorded: the same signed
 * request sent again (a replay while it lives, a resend after its deadline). Each may appear once
 * beside the request's first record; any other repeat of an id is a duplicate.
 */
export const REPEAT_OUTCOMES: ReadonlySet<number> = new Set([QueryOutcome.DeniedReplay, QueryOutcome.DeniedExpired]);
