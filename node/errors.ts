/**
 * The one error type every part of riskshare throws at a user-facing boundary.
 *
 * @example
 *   throw new RiskshareError("E_NOT_MEMBER", "peer is not an Active member", { peerId });
 *   if (isRiskshareError(err, "E_NOT_MEMBER")) …
 *
 * Codes are stable (callers, scripts and the CLI branch on them, never on message text); each has
 * a hint that tells the user what to do. Messages and metadata never carry a secret or a raw
 * identifier: a caller may log both as they are.
 */

/** Every error code riskshare can raise, with the sentence that tells the user what to do. */
export const ERROR_HINTS = {
  // generic
  E_INTERNAL: "This is a bug in riskshare; report it with the log lines around it.",
  E_BAD_INPUT: "Correct the input named in the message and try again.",
  E_CONFIG: "Fix the configuration file named in the message (see the README's configuration section).",
  E_ABORTED: "The operation was cancelled; run it again when ready.",
  E_TIMEOUT: "The operation took too long; check that the other side is up and try again.",

  // identity (normalisation and hashing)
  E_IDENTIFIER_INVALID: "Correct the identifier: it does not have the form its type requires.",
  E_IDENTIFIER_TYPE: "Use one of the identifier types listed in the message.",
  E_METADATA_OPEN: "The sealed entry metadata did not open under the key derived for it: a filter false positive or an altered answer. Treat it as a miss.",

  // identity: private matching (RFC 9497 VOPRF)
  E_OPRF_PROOF: "The provider's answer failed its proof: it was not computed under the provider's published OPRF key. Discard it and report the provider.",
  E_OPRF_ELEMENT: "A group element is not a valid ristretto255 encoding (or is the identity); check both nodes run compatible riskshare versions.",
  E_OPRF_KEY: "The OPRF key pair is malformed or its halves do not match; restore it from the key store.",

  // keys at rest
  E_KEY_LOCKED: "The keys are encrypted and no passphrase was given: set RISKSHARE_PASSPHRASE_FILE to a 0600 file holding it (or config.json keys.passphraseFile, or RISKSHARE_PASSPHRASE); never pass it as an argument.",
  E_KEY_PASSPHRASE: "The key file named does not open with the passphrase given: check the passphrase file or variable; if the passphrase is right, restore the file from the backup of keys/.",
  E_KEY_PERMISSIONS: "A key or passphrase file must be readable by its owner only: run `chmod 600` on the file named (and `chmod 700` on its directory), then retry.",
  E_KEY_FORMAT: "The key file named is damaged or was copied from another file's name; restore keys/ from its backup.",

  // store
  E_STORE_CLOSED: "The store is closed or in use by another process; stop the other process or reopen the node.",
  E_STORE_SCHEMA: "The data directory was written by another riskshare version; migrate or use a fresh data directory.",
  E_ENTRY_INVALID: "Correct the entry fields named in the message.",
  E_CATEGORY_UNKNOWN: "Use a category that is active on chain; `riskshare proposal category add NAME` proposes a new one.",
  E_IMPORT_FORMAT: "Check the file's header row and format (CSV or JSON Lines) against the README.",
  E_STORE_EPOCH: "The store holds entries keyed under another chain, provider or OPRF key epoch; re-import the lists into a fresh store under the current key (riskshare list import).",
  E_STORE_FORMAT: "This store holds pepper hashes from an older riskshare; move it aside and re-import your lists (riskshare list import).",
  E_NOT_FOUND: "Check the name or id given; nothing with it exists.",

  // chain
  E_CHAIN_UNREACHABLE: "Check that the chain RPC URL is right and the chain node is running.",
  E_CHAIN_REVERTED: "The contract refused the transaction; the message names the rule it broke.",
  E_TIMELOCKED: "The proposal passed and waits out the registry's timelock; enact it (riskshare proposal enact ID) from the time in the message.",
  E_CONTRACTS_MISSING: "Deploy the contracts (riskshare deploy) or set their addresses in the config.",
  E_NOT_MEMBER: "Only Active members may do this; ask the consortium to admit or reinstate the account.",
  E_NOT_AUTHORIZED: "This account lacks the role this action needs; use an account that has it.",
  E_ADMISSION_REQUEST: "The admission request file is wrong in the field the message names; the candidate creates a fresh one with `riskshare member request` for this chain and registry.",
  E_LEDGER_OTHER_WRITER: "Another node sends ledger batches under this member's key (a second node, or a data dir restored from a backup): stop the node that should not run; to make this one the writer, stop the other for good, then run `riskshare node take-over` on this data dir with this node stopped, and start it.",
  E_LEDGER_TX_PENDING: "A ledger batch transaction this node sent still waits in the chain's pool and could land later; wait until it is mined or dropped (a few blocks), then run the command again.",
  E_LEDGER_CLOSED: "This node's account was removed and the QueryLedger no longer takes its batches (its 7-day window is over, or a record's deadline falls after its removal); the records left in the outbox cannot land, so keep the data directory for the consortium's audit.",

  // credits (QueryLedger)
  E_FEEDBACK_EXCEEDS_EVALUATED: "Feedback on a provider may count at most the items this member was metered for there (all reports ever); report only items you evaluated, and wait until the batches carrying them have landed on chain.",
  E_BONUS_NOT_SETTLEABLE: "A week's bonus is settled once per provider, after the week has ended and within the 13 weeks after it; the message names which rule the call broke.",

  // p2p lookup protocol
  E_PEER_UNREACHABLE: "Check that the peer's node is running and its address is right.",
  E_PROTOCOL: "The peer sent a malformed message; check both nodes run compatible riskshare versions.",
  E_FRAME_TOO_LARGE: "Send fewer items per request (the limit is in the message).",
  E_BAD_SIGNATURE: "The request's signature does not match its sender; check the node's key.",
  E_EXPIRED: "The request's deadline passed; check the clocks of both nodes and retry.",
  E_REPLAY: "That request was already answered; send a new request with a fresh nonce.",
  E_RECIPROCITY: "Publish a contribution snapshot for the category (riskshare list publish) before asking for it.",
  E_QUOTA: "The daily quota for this provider is used up; contribute more entries or wait for the window to roll.",
  E_CREDITS_EXHAUSTED: "This member's credits on the QueryLedger (balance + overdraft) do not cover the items of the request: earn credits by answering other members' lookups, or wait for the decay of the debt; see `riskshare credits`.",
  E_BACKLOG: "The node's ledger outbox is full because the chain is unreachable; lookups resume once it drains.",
  E_CONSORTIUM_PAUSED: "A regulator paused every lookup of the consortium until the time in the message; lookups resume then, or earlier if the members pass an Unpause vote (riskshare proposal unpause).",
  E_RATE_LIMITED: "This peer sent more items than the provider serves it per second (lookup.peerItemsPerSecond, burst lookup.peerBurstItems); wait the seconds the message names and retry with fewer or smaller requests.",
  E_BAD_REQUEST: "The request's fields disagree with each other (provider, deadline, item count or commitment); rebuild and re-sign it.",
  E_PROTOCOL_VERSION: "The peer speaks another version of the lookup protocol; both nodes must run a riskshare that speaks /riskshare/lookup/2.",
  E_JOURNAL_OPEN: "The journal record does not open with this data dir's keys/journal.key: run the command on the data dir of the member that sent the query.",
  E_ROTATION_NOT_PREPARED: "No complete store of the next key epoch waits in db-next: run `riskshare key rotate-oprf --prepare FILES` (or `key rotate-member --prepare FILES` for a move to a new member key; the node may serve meanwhile) before `--commit`, or rotate in one go with the node stopped (the same command with FILES and no flag).",
  E_ROTATION_STALE: "The store prepared in db-next no longer matches this member or this rotation: pass the files of the lists imported meanwhile to `--commit FILES`, commit it with the command that prepared it (`key rotate-oprf` or `key rotate-member`), or run `--prepare FILES` again.",
  E_OPRF_KEY_MISSING: "This data dir holds no OPRF key for the member's current key epoch: restore keys/ from the backup of this data dir, or run `riskshare init` for a new member.",
  E_OPRF_KEY_UNKNOWN: "The chain view does not know the provider's OPRF key for the epoch it answered under; wait for the view to catch up and retry.",
  E_FILTER_MISSING: "This node holds no tag filter of the provider for the category and key epoch yet; wait for the filter sync (a minute) and retry.",
  E_FILTER_INVALID: "The provider's filter failed its checks (signature or on-chain hash); it was discarded, report the provider if this persists.",
  E_LOW_HIT_RATE: "This node did not ask the provider: its observed hit rate in the categories asked is below lookup.hitRateFloor. Name it in providers (query --provider) to ask it anyway, or lower the floor.",
  E_SNAPSHOT_STALE: "The provider's list grew far past the live count of its published snapshot, which sizes lookup buckets; it answers again once it publishes (riskshare list publish; a running node publishes by itself after a large import unless lists.publishEveryHours is 0).",
  E_CONTRIBUTION_IMPLAUSIBLE: "The provider's on-chain live count is not the key count of the filter it committed to, so its filter is not used and its lists are not checked; if this persists, challenge its snapshot on chain (riskshare contribution challenge), which it must answer with proofs within a day.",
  E_CHALLENGE_UNANSWERABLE: "A spot-check of this member's snapshot names a filter this node no longer holds; publish a new snapshot (riskshare list publish): it supersedes the challenge and clears the unproven mark.",

  // feedback on hits (/riskshare/feedback/1)
  E_FEEDBACK_UNKNOWN_HIT: "Report only a hit this node keeps: use the hitId a check returned (POST /v1/check, riskshare query --json) within lookup.journalRetentionDays and before the provider's next key rotation.",
  E_FEEDBACK_DUPLICATE: "This hit already has a report queued or sent; `riskshare feedback list` shows it.",
  E_FEEDBACK_MAC: "The report's MAC does not verify under the entry's key: it was altered, or built for another entry, provider or key epoch; the provider refused it.",
  E_FEEDBACK_UNKNOWN_ENTRY: "The provider lists no entry with that category, tag, key epoch and version (it was removed, rotated or never listed): the report is refused.",

  // local HTTP API
  E_API_TOKEN: "Send one of the node's API tokens as `Authorization: Bearer <token>`: keys/api-read.token (read), keys/api-check.token (checks) or keys/api.token (admin) in its data directory.",
  E_API_SCOPE: "This token's scope does not allow the call: checks need the check token (keys/api-check.token), list updates, export and publish the admin token (keys/api.token); see docs/OPERATIONS.md.",
  E_IMPORT_BUSY: "The node is importing another list; wait for it to finish (riskshare node status shows its progress) and send this one again.",
  E_API_BODY: "Fix the request body as the message says; the schema is served at /v1/openapi.json.",
  E_NODE_NOT_READY: "The node is starting or refusing lookups; GET /v1/health says why.",

  // web console
  E_CONSOLE_TOKEN: "Open the console with the URL `riskshare console` printed (it carries ?token= once and sets a cookie), or send `Authorization: Bearer <token>` with the token from console/console.token in the data directory (or the --token-file given).",

  // cli
  E_USAGE: "Run the command with --help to see its options.",
} as const;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_HINTS;

/** Metadata attached to an error: plain values only, never secrets or raw identifiers. */
export type ErrorMeta = Readonly<Record<string, string | number | boolean | bigint | null | undefined | readonly unknown[]>>;

/** The base class of every error riskshare raises on purpose. */
export class RiskshareError<C extends ErrorCode = ErrorCode> extends Error {
  override readonly name = "RiskshareError";
  readonly code: C;
  readonly meta: ErrorMeta;

  constructor(code: C, message: string, meta: ErrorMeta = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.meta = meta;
  }

  /** The sentence that tells the user what to do about this error. */
  get hint(): string {
    return ERROR_HINTS[this.code];
  }

  /** A JSON-safe view (bigints as strings) for `--json` output and HTTP replies. */
  toJSON(): { code: C; message: string; hint: string; meta: Record<string, unknown> } {
    const meta: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this.meta)) meta[key] = typeof value === "bigint" ? value.toString() : value;
    return { code: this.code, message: this.message, hint: this.hint, meta };
  }
}

/** True when `err` is a RiskshareError, and, when `code` is given, one with that code. */
export function isRiskshareError<C extends ErrorCode>(err: unknown, code?: C): err is RiskshareError<C> {
  return err instanceof RiskshareError && (code === undefined || err.code === code);
}

/** Throws E_BAD_INPUT naming the argument unless `condition` holds (ethers' assertArgument, our codes). */
export function assertArgument(condition: unknown, message: string, name: string): asserts condition {
  if (!condition) throw new RiskshareError("E_BAD_INPUT", `${name}: ${message}`, { argument: name });
}
