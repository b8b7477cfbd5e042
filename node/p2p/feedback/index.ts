/**
 * `/riskshare/feedback/1`: a member reports on hits it found (confirmed / false positive /
 * outdated) to the providers that listed them, in shuffled batches, each report proving with a MAC
 * that the sender evaluated the identifier (docs/PROTOCOL.md "Feedback").
 *
 * @example
 *   const service = feedback()({ registrar: host.libp2p, membership, self: address, sink: store, logger });
 *   const sender = new FeedbackSender({ minBatch: 5, maxWaitDays: 30 }, { dialer: host.libp2p, queue: keptHits, target, logger });
 *   await service.start(); sender.start(abort.signal);
 *   await sender.sendDue();   // one round now
 *   await sender.stop(); await service.stop();
 */
export * from "./constants.ts";
export { FEEDBACK_DEFAULTS, FEEDBACK_SENDER_DEFAULTS, type FeedbackInit, type FeedbackSenderOptions } from "./options.ts";
export type {
  FeedbackComponents, FeedbackCounts, FeedbackOutcome, FeedbackQueue, FeedbackSenderModules, FeedbackSink, IncomingReport, OutgoingReport,
} from "./components.ts";
export {
  feedbackAnswerFrame, feedbackReport, feedbackRequestFrame, feedbackResponseFrame,
  type FeedbackAnswerFrame, type FeedbackReportFrame, type FeedbackRequestFrame, type FeedbackResponseFrame,
} from "./messages.ts";
export { dueFeedbackBatches, shuffled } from "./batching.ts";
export { feedback, FeedbackService } from "./service.ts";
export { countsOf, FeedbackSender, type FeedbackRound } from "./sender.ts";
