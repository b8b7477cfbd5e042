/**
 * The OPRF's errors: E_OPRF_PROOF (an answer whose batch proof does not verify), E_OPRF_ELEMENT
 * (a malformed or identity group element), E_OPRF_KEY (a malformed or mismatched key pair).
 * Metadata names the argument and index, never an input, a blind or a key.
 */
import { RiskshareError } from "../../errors.ts";

/** The batch proof did not verify under `providerPublicKey`: the answer must be discarded whole. */
export function oprfProofFailed(items: number, cause?: unknown): RiskshareError<"E_OPRF_PROOF"> {
  return new RiskshareError("E_OPRF_PROOF", "the provider's batch proof does not verify under its public key", { items }, { cause });
}

/** `argument` (at `index` for arrays) is not a valid, non-identity ristretto255 encoding. */
export function oprfElementInvalid(argument: string, index?: number, cause?: unknown): RiskshareError<"E_OPRF_ELEMENT"> {
  const where = index === undefined ? argument : `${argument}[${index}]`;
  return new RiskshareError("E_OPRF_ELEMENT", `${where} is not a valid ristretto255 element`, { argument, index }, { cause });
}

/** The key named `argument` is malformed, or the public key is not the secret key's. */
export function oprfKeyInvalid(argument: string, reason: "length" | "range" | "zero" | "mismatch" | "element"): RiskshareError<"E_OPRF_KEY"> {
  return new RiskshareError("E_OPRF_KEY", `${argument} is not a valid OPRF key: ${reason}`, { argument, reason });
}
