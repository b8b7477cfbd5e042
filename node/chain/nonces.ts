/**
 * A LookupRequest's nonce is a per-(querier, provider) counter: a uint256 big-endian in the
 * request's bytes32, 1 <= n < 2^64, increased by the querier's node for every request it sends to
 * that provider (gaps allowed). The provider, and the QueryLedger when it meters a record, keep
 * per pair the highest value seen and a 256-bit window below it (bit i = highest - i seen): the
 * same rule on both sides, written once here.
 *
 * @example
 *   const { verdict, state } = nextNonceWindow(EMPTY_NONCE_WINDOW, 5n);  // "fresh", highest 5
 *   nextNonceWindow(state, 5n).verdict === "replay"
 */

/** Nonces are 1 <= n < 2^64. */
export const MAX_NONCE = (1n << 64n) - 1n;
/** Bits of the window kept below the highest nonce (bit 0 is the highest itself). */
export const NONCE_WINDOW_BITS = 256;
const WINDOW_MASK = (1n << BigInt(NONCE_WINDOW_BITS)) - 1n;

/** A pair's replay state: the highest nonce seen (0 before any) and the window below it. */
export interface NonceWindow {
  readonly highest: bigint;
  /** Bit i set = nonce `highest - i` was seen. */
  readonly window: bigint;
}

/** The state of a pair that never sent a request. */
export const EMPTY_NONCE_WINDOW: NonceWindow = { highest: 0n, window: 0n };

/** What a nonce is to a pair's window: new, seen before, or too far below the highest to tell. */
export type NonceVerdict = "fresh" | "replay" | "stale";

/** True when `nonce` is a counter value a request may carry (1 <= n < 2^64). */
export function isNonceValue(nonce: bigint): boolean {
  return nonce >= 1n && nonce <= MAX_NONCE;
}

/**
 * The verdict on `nonce` (a valid counter value) against `state`, and the state once it is
 * accepted (the same state unless fresh). Above the highest: fresh, the window shifts up; in the
 * window and unseen: fresh (requests may arrive out of order); seen, or 256 or more below the
 * highest: refused.
 */
export function nextNonceWindow(state: NonceWindow, nonce: bigint): { verdict: NonceVerdict; state: NonceWindow } {
  if (nonce > state.highest) {
    const shift = nonce - state.highest;
    const window = shift >= BigInt(NONCE_WINDOW_BITS) ? 1n : ((state.window << shift) | 1n) & WINDOW_MASK;
    return { verdict: "fresh", state: { highest: nonce, window } };
  }
  const below = state.highest - nonce;
  if (below >= BigInt(NONCE_WINDOW_BITS)) return { verdict: "stale", state };
  const bit = 1n << below;
  if ((state.window & bit) !== 0n) return { verdict: "replay", state };
  return { verdict: "fresh", state: { highest: state.highest, window: state.window | bit } };
}

/** The request's bytes32 of a counter value (uint256 big-endian, 0x-hex). */
export function nonceToBytes32(nonce: bigint): string {
  return `0x${nonce.toString(16).padStart(64, "0")}`;
}

/** The counter value a request's bytes32 nonce holds (any 32 bytes; check it with {@link isNonceValue}). */
export function nonceFromBytes32(bytes32: string): bigint {
  return BigInt(bytes32);
}
