/**
 * The read-only web console for compliance officers and regulators: a local index of the query
 * ledger (read through the audit's readLedger), pages computed with the audit's report functions,
 * served on 127.0.0.1 behind a read-only token.
 *
 * @example
 *   const index = new LedgerIndex({ location, chainId, ledgerAddress, reorgMarginBlocks: 6, chunkBlocks: 5_000 });
 *   await index.sync(auditModulesOf(connection, contracts), await connection.provider.getBlockNumber());
 *   const { records, total } = ledgerData(index, { querier }, 1, 50);
 */
export { LedgerIndex, type CreditFlow, type DailyRow, type IndexedCreditEvent, type IndexedRecord, type IndexFilter, type IndexStatus, type LedgerIndexOptions } from "./ledger-index.ts";
export { dayText, dayTotals, ledgerData, memberData, overviewData, type ConsoleConsortium, type DayRange, type DayTotals, type LedgerData, type MemberData, type OverviewData } from "./data.ts";
export { indexLocation, loadOrCreateToken, WebConsole, type WebConsoleModules, type WebConsoleOptions } from "./console.ts";
export { ConsoleServer, describeVerify, type ConsoleProposal, type ConsoleServerModules, type ConsoleServerOptions, type ConsoleView } from "./server.ts";
export { LedgerVerifier, type LedgerVerifierOptions, type VerifyState } from "./verify.ts";
export { CONSOLE_DEFAULTS } from "./options.ts";
