/**
 * Everything riskshare does with the chain: connecting (plain JSON-RPC), typed contract handles,
 * deployment, the registry cache, the ledger batcher, credits, EIP-712 types and error translation.
 *
 * @example
 *   const { provider, chainId } = await connectChain({ rpcUrl, rpcTimeoutMs: 10_000, pollIntervalMs: 1_000 });
 *   const contracts = connectContracts(config.chain.contracts, connectSigner(wallet, provider));
 *   const view = new ConsortiumView({ pollIntervalMs: 1_000 }, { contracts, provider, logger });
 *   await view.start();
 *   const key = view.oprfKeyAt(providerAddress, answer.keyEpoch);            // finalize an Evaluate answer
 *   const itemsCommitment = evaluateCommitment(blindedElements);             // what a request signs
 */
export * from "./eip712.ts";
export * from "./digests.ts";
export * from "./outcomes.ts";
export * from "./nonces.ts";
export * from "./governance.ts";
export * from "./proposals.ts";
export * from "./admission.ts";
export { CHAIN_DEFAULTS, MAX_BATCH_RECORDS, DEFAULT_CATEGORIES, DEFAULT_CHALLENGES, DEFAULT_CREDITS, DEFAULT_GOVERNANCE, DEFAULT_POLICY, type CategoryPolicyInput, type CreditParams } from "./options.ts";
export { revertError, translateChainError } from "./errors.ts";
export { connectChain, connectSigner, type ChainConnection, type ChainConnectionOptions } from "./provider.ts";
export { connectContracts, readCompanions, type ConsortiumContracts, type ContractAddresses } from "./contracts.ts";
export { deployConsortium, type DeploymentPlan, type DeploymentResult, type FounderInput } from "./deploy.ts";
export {
  ConsortiumView, type CategoryInfo, type ConsortiumViewHealth, type ConsortiumViewModules, type ConsortiumViewOptions,
  type ChallengeInfo, type ContributionInfo, type MemberInfo,
} from "./view.ts";
export { CHALLENGE_SAMPLES, challengeChunks, chunkCount, chunkProofs, FILTER_CHUNK_BYTES, filterCommitment, verifyChunkProof, type ChunkProof } from "./filter-commitment.ts";
export { ChallengeResponder, type ChallengeProblem, type ChallengeResponderModules } from "./challenges.ts";
export { LedgerBatcher, recordedOnChain, takeOverLedger, type LedgerTakeOver, type LedgerBatch, type LedgerBatcherModules, type LedgerBatcherOptions, type LedgerHealth, type LedgerOutbox, type LedgerWriterMark } from "./ledger.ts";
export { toQueryRecord, type LedgerRecord } from "./ledger-record.ts";
export {
  RpcLedgerChannel, transactionState, type LedgerChannel, type RpcLedgerChannelModules, type RpcLedgerChannelOptions, type SubmittedBatch, type TransactionState,
} from "./ledger-channel.ts";
export { HttpJsonRpc, type HttpJsonRpcModules, type HttpJsonRpcOptions, type JsonRpcCaller } from "./rpc.ts";
export { encodeRecordBatch, recordBatchGasLimit, signRawTransaction, transactionHash, RECORD_CALLDATA_BYTES, type QueryRecordStruct, type RawTransactionFields } from "./ledger-tx.ts";
export {
  AUDIT_COLUMNS, auditRowOf, firstBlockAtOrAfter, lookupKindName, recordSignatureCheck, MAX_REQUEST_TTL_SECONDS, auditModulesOf, membershipHistory, readLedger, requestOfRecord, verifyLedger, type HeldAnswer, type MembershipHistory,
  type AuditBatch, type AuditFailure, type AuditModules, type AuditRecord, type LedgerQuery,
} from "./audit.ts";
export {
  feedbackReport, formatShare, ITEM_JUMP_DEFAULTS, itemJumps, memberReport, wilsonShare,
  type FeedbackCounts, type FeedbackReport, type ItemJump, type ItemJumpRule, type MemberReportRow, type ProviderFeedbackRow, type ReportRecord, type ReportConsortium, type ReporterFeedbackRow, type Share,
} from "./report.ts";
export { keptCommitmentInput, openCommitment, type CommitmentChecks, type CommitmentInput, type CommitmentOpening, type KeptRequest, type KeptSecrets } from "./commitment.ts";
export {
  BONUS_SETTLEMENT_WEEKS, bonusEventRange, CREDIT_EVENT_NAMES, creditEvents, creditParams, creditsOf, currentWeek, dueBonuses, pairState, reportFeedback, settleBonus, settleDueBonuses, weekState,
  type CreditBalance, type DueBonus, type CreditEvent, type CreditEventsReader, type CreditsReader, type CreditsTx, type FeedbackCounts as ReportedFeedbackCounts, type PairState, type WeekState,
} from "./credits.ts";
export { rotateMemberKey, rotateOprfKey, type MemberKeyRotation, type OprfKeyRotation } from "./member-keys.ts";
export { createKeyRotation, KEY_ROTATION_TYPES, KEY_ROTATION_TYPE_STRING, keyRotationDigest, rotateMemberKeyArgs, type KeyRotation } from "./rotation.ts";
