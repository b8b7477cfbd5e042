import { isError } from "ethers";
import { RiskshareError, isRiskshareError, type ErrorCode } from "../errors.ts";

/** Solidity custom errors that mean "you are not allowed", mapped to our codes; every other revert is E_CHAIN_REVERTED. */
const REVERT_CODES: ReadonlyArray<[RegExp, ErrorCode]> = [
  [/NotActiveMember$/, "E_NOT_MEMBER"],
  [/(NotAdmin|NotRegulator|AdminRenounced)$/, "E_NOT_AUTHORIZED"],
];

/** Custom-error names explained in words a user acts on. */
const REVERT_SENTENCES: Readonly<Record<string, string>> = {
  ConsortiumRegistryQuorumNotReached: "the proposal does not have enough votes yet",
  ConsortiumRegistryProposalExpired: "the proposal has expired; propose it again",
  ConsortiumRegistryProposalExecuted: "the proposal was already executed",
  ConsortiumRegistryAlreadyVoted: "this account already voted on the proposal",
  ConsortiumRegistryMemberExists: "that account is already known to the registry",
  ConsortiumRegistryPeerIdTaken: "that PeerId belongs to another member",
  QueryLedgerBadSequence: "the batch sequence number is not the next one for this provider",
};

/**
 * Translates an ethers error into a RiskshareError; the one place where ethers errors are read.
 * `action` says what was being done ("vote on proposal 3"). URLs and keys never enter the message.
 */
export function translateChainError(err: unknown, action: string): RiskshareError {
  if (isRiskshareError(err)) return err;
  if (isError(err, "CALL_EXCEPTION")) {
    const name = err.revert?.name;
    if (name !== undefined) {
      const args = (err.revert?.args ?? []).map((arg: unknown) => (typeof arg === "bigint" ? arg.toString() : String(arg)));
      const code = REVERT_CODES.find(([pattern]) => pattern.test(name))?.[1] ?? "E_CHAIN_REVERTED";
      const sentence = REVERT_SENTENCES[name] ?? "the contract refused it";
      return new RiskshareError(code, `${action}: ${sentence} (${name}${args.length > 0 ? `: ${args.join(", ")}` : ""})`, { revert: name, args }, { cause: err });
    }
    return new RiskshareError("E_CHAIN_REVERTED", `${action}: the transaction reverted without a reason`, {}, { cause: err });
  }
  if (isError(err, "NETWORK_ERROR") || isError(err, "TIMEOUT") || isError(err, "SERVER_ERROR") || isConnectionRefused(err)) {
    return new RiskshareError("E_CHAIN_UNREACHABLE", `${action}: the chain RPC did not answer`, {}, { cause: err });
  }
  if (isError(err, "INSUFFICIENT_FUNDS")) {
    return new RiskshareError("E_CHAIN_REVERTED", `${action}: the account cannot pay for gas`, {}, { cause: err });
  }
  if (isError(err, "NONCE_EXPIRED") || isError(err, "REPLACEMENT_UNDERPRICED")) {
    return new RiskshareError("E_CHAIN_REVERTED", `${action}: the transaction nonce was already used; retry`, {}, { cause: err });
  }
  return new RiskshareError("E_INTERNAL", `${action}: unexpected chain error`, {}, { cause: err });
}

function isConnectionRefused(err: unknown): boolean {
  for (let cause: unknown = err, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === "ECONNREFUSED" || code === "ECONNRESET" || code === "EHOSTUNREACH" || code === "UND_ERR_SOCKET") return true;
  }
  return false;
}
