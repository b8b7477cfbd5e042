/**
 * Fixed numbers of the reciprocity rule. They are part of the consortium's agreed semantics
 * (the same numbers the contracts document), not tunables: tunables live in options.ts.
 */

/** quotaRatioBps is in basis points: 10,000 bps = one extra query per contributed entry. */
export const BPS_DENOMINATOR = 10_000n;

/** Category ids are 1..63: bit i of a request's uint64 categoryMask stands for category i. */
export const MIN_CATEGORY_ID = 1;
export const MAX_CATEGORY_ID = 63;

/** The rolling window of the per-provider daily quota. */
export const QUOTA_WINDOW_SECONDS = 86_400;
