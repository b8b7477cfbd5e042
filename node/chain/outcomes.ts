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
} as const;

/** A query outcome code. */
export type QueryOutcomeCode = (typeof QueryOutcome)[keyof typeof QueryOutcome];

const NAMES = new Map<number, string>(Object.entries(QueryOutcome).map(([name, code]) => [code, name]));

/** The outcome's name, or `Unknown(n)` for a code this version does not know. */
export function outcomeName(code: number): string {
  return NAMES.get(code) ?? `Unknown(${code})`;
}
