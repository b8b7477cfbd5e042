/**
 * The provider side of `/riskshare/feedback/1`: one batch of reports in, one outcome per report out.
 * Checks: the peer is an Active member (E_NOT_MEMBER), the frame parses (E_PROTOCOL), it is
 * addressed to this node (E_BAD_REQUEST); then each report's entry and MAC (the sink: node/store's
 * `receiveFeedback`). The batch's peer is the only sender the provider learns.
 */
import type { Connection } from "@libp2p/interface";
import { checksumAddress } from "../../chain/index.ts";
import { isRiskshareError, RiskshareError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { Clock } from "../components.ts";
import { decodeFrame, errorReply } from "../frames.ts";
import { activeMember } from "../membership.ts";
import { OneFrameService } from "../one-frame.ts";
import { systemClock } from "../options.ts";
import type { FeedbackComponents } from "./components.ts";
import { FEEDBACK_PROTOCOL } from "./constants.ts";
import { feedbackRequestFrame, feedbackResponseFrame, type FeedbackRequestFrame, type FeedbackResponseFrame } from "./messages.ts";
import { FEEDBACK_DEFAULTS, type FeedbackInit } from "./options.ts";

const REQUIRED: readonly (keyof FeedbackComponents)[] = ["registrar", "membership", "self", "sink", "logger"];

/** Takes members' feedback reports about this node's entries. */
export class FeedbackService extends OneFrameService<typeof feedbackResponseFrame> {
  private readonly components: FeedbackComponents;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly address: string;

  constructor(init: FeedbackInit, components: FeedbackComponents) {
    for (const name of REQUIRED) {
      if (components[name] === undefined) throw new RiskshareError("E_INTERNAL", `the feedback service needs the '${name}' component`, { component: name });
    }
    const opts = { ...FEEDBACK_DEFAULTS, ...Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined)) };
    super({ protocol: FEEDBACK_PROTOCOL, responseSchema: feedbackResponseFrame, name: "feedback service", registrar: components.registrar, ...opts });
    this.components = components;
    this.clock = components.clock ?? systemClock;
    this.log = components.logger.child({ module: "p2p.feedback" });
    this.address = checksumAddress(components.self);
  }

  /** The reply to one batch from the connection's peer. */
  async respond(bytes: Uint8Array, connection: Pick<Connection, "remotePeer">): Promise<FeedbackResponseFrame> {
    const member = activeMember(this.components.membership, connection.remotePeer);
    if (member === undefined) return errorReply("E_NOT_MEMBER", "the peer is not an Active member");
    let request: FeedbackRequestFrame;
    try {
      request = decodeFrame(bytes, feedbackRequestFrame);
    } catch (err) {
      return errorReply(isRiskshareError(err) ? err.code : "E_PROTOCOL", (err as Error).message);
    }
    try {
      if (checksumAddress(request.provider) !== this.address) return errorReply("E_BAD_REQUEST", "the batch is addressed to another provider");
      const outcomes = await this.components.sink.receiveFeedback(member.address, request.reports.map((r) => ({
        categoryId: r.category, keyEpoch: r.epoch, tag: Buffer.from(r.tag.slice(2), "hex"), version: r.version, kind: r.kind, mac: Buffer.from(r.mac.slice(2), "hex"),
      })), this.clock.nowSec());
      return { ok: true, outcomes };
    } catch (err) {
      if (isRiskshareError(err)) return errorReply(err.code, err.message);
      this.log.error({ err: (err as Error).message }, "feedback batch failed unexpectedly");
      return errorReply("E_INTERNAL", "the provider failed to take the batch");
    }
  }
}

/** The protocol factory, js-libp2p style: `feedback(init)(components)`. */
export function feedback(init: FeedbackInit = {}): (components: FeedbackComponents) => FeedbackService {
  return (components) => new FeedbackService(init, components);
}
