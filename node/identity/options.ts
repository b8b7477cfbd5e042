/**
 * Options of identifier normalisation, with their defaults.
 */
import type { CountryCode } from "libphonenumber-js/max";

/** Options that change how raw identifiers are read. */
export interface NormaliseOptions {
  /**
   * Region assumed for phone numbers written without a country code ("138 0013 8000") and whose
   * international call prefix ("00" in CN, "011" in US) is recognised. `undefined` accepts only
   * numbers written with "+" and a country code.
   */
  readonly defaultRegion?: CountryCode | undefined;
  /** The current time in unix milliseconds, used to reject birth dates in the future (tests pin it). */
  readonly nowMs?: number | undefined;
}

/** Default normalisation options: the pilot consortium is Chinese, so national numbers are read as CN. */
export const DEFAULT_NORMALISE_OPTIONS = {
  defaultRegion: "CN",
} as const satisfies NormaliseOptions;

/** Bounds on the free-form (opaque) identifier types, in characters after trimming. */
export const OPAQUE_MAX_CHARS = {
  device_id: 256,
  merchant_id: 128,
  account: 128,
} as const;

/** Longest raw input any normaliser looks at, in characters: longer input is rejected before parsing. */
export const MAX_RAW_CHARS = 512;
