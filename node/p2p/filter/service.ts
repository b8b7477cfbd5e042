/**
 * The provider side of `/riskshare/filter/1`: one request frame in, one signed state (with a base
 * chunk when the querier's copy is missing or stale) out. Checks: the peer is an Active member
 * (E_NOT_MEMBER), the frame parses (E_PROTOCOL), it asks this node (E_BAD_REQUEST), the querier
 * qualifies for the category under reciprocity (no quota: a filter reveals no entry), a filter is
 * built (E_NOT_FOUND).
 */
import type { Connection } from "@libp2p/interface";
import { checksumAddress } from "../../chain/index.ts";
import { isRiskshareError, RiskshareError, type ErrorCode } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import { RECIPROCITY_ERROR_CODES, reciprocityError } from "../../policy/index.ts";
import type { Clock } from "../components.ts";
import { decodeFrame, errorReply } from "../frames.ts";
import { activeMember } from "../membership.ts";
import { OneFrameService } from "../one-frame.ts";
import { systemClock } from "../options.ts";
import type { FilterComponents } from "./components.ts";
import { FILTER_BASE_CHUNK_BYTES, FILTER_PROTOCOL, FILTER_MAX_DELTA_NOTICES, FILTER_MAX_DELTA_TAGS } from "./constants.ts";
import { filterRequestFrame, filterResponseFrame, type FilterRequestFrame, type FilterResponseFrame, type FilterState } from "./messages.ts";
import { FILTER_DEFAULTS, type FilterInit } from "./options.ts";
import { filterStateDigest, netDeltas } from "./state.ts";

const REQUIRED: readonly (keyof FilterComponents)[] = ["registrar", "membership", "signer", "source", "reciprocity", "logger"];

/** Serves this node's tag filters to members that may ask for them. */
export class FilterService extends OneFrameService<typeof filterResponseFrame> {
  private readonly components: FilterComponents;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly address: string;

  constructor(init: FilterInit, components: FilterComponents) {
    for (const name of REQUIRED) {
      if (components[name] === undefined) throw new RiskshareError("E_INTERNAL", `the filter service needs the '${name}' component`, { component: name });
    }
    const opts = { ...FILTER_DEFAULTS, ...Object.fromEntries(Object.entries(init).filter(([, v]) => v !== undefined)) };
    super({ protocol: FILTER_PROTOCOL, responseSchema: filterResponseFrame, name: "filter service", registrar: components.registrar, ...opts });
    this.components = components;
    this.clock = components.clock ?? systemClock;
    this.log = components.logger.child({ module: "p2p.filter" });
    this.address = checksumAddress(components.signer.address);
  }

  /** The reply to one request from the connection's peer. */
  async respond(bytes: Uint8Array, connection: Pick<Connection, "remotePeer">): Promise<FilterResponseFrame> {
    const member = activeMember(this.components.membership, connection.remotePeer);
    if (member === undefined) return errorReply("E_NOT_MEMBER", "the peer is not an Active member");
    let request: FilterRequestFrame;
    try {
      request = decodeFrame(bytes, filterRequestFrame);
    } catch (err) {
      return errorReply(isRiskshareError(err) ? err.code : "E_PROTOCOL", (err as Error).message);
    }
    try {
      if (checksumAddress(request.provider) !== this.address) return errorReply("E_BAD_REQUEST", "the request is addressed to another provider");
      const decision = await this.components.reciprocity.eligible(member.address, request.category, this.clock.nowSec());
      if (!decision.allowed) return errorReply(RECIPROCITY_ERROR_CODES[decision.reason] as ErrorCode, reciprocityError(decision).message);
      const { source } = this.components;
      const current = await source.filterState(request.category);
      if (current === undefined) return errorReply("E_NOT_FOUND", `no filter is built for category ${request.category}`);
      const upToDate = request.chunk === undefined && request.epoch === current.epoch && request.baseHash === current.baseHash.toLowerCase() && request.fromSeq <= current.seq;
      let deltas = upToDate ? await source.deltasSince(request.category, request.fromSeq) : undefined;
      let net = deltas === undefined ? undefined : netDeltas(deltas);
      if (net !== undefined && net.adds.length + net.removes.length > FILTER_MAX_DELTA_TAGS) net = undefined;
      const withBase = net === undefined;
      if (withBase) {
        deltas = (await source.deltasSince(request.category, 0)) ?? [];
        net = netDeltas(deltas);
        if (net.adds.length + net.removes.length > FILTER_MAX_DELTA_TAGS) throw new RiskshareError("E_INTERNAL", "the delta log since the base is too long: rebuild the base filter");
      }
      const state: FilterState = {
        provider: this.address, category: request.category, epoch: current.epoch, baseHash: current.baseHash.toLowerCase(), baseCount: current.baseCount,
        fromSeq: withBase ? 0 : request.fromSeq, seq: current.seq, adds: net!.adds, removes: net!.removes,
        // Past the cap, removals go without their notices: the frame stays bounded.
        ...(net!.notices.length === 0 ? {} : { notices: net!.notices.slice(0, FILTER_MAX_DELTA_NOTICES) }),
      };
      const signature = this.components.signer.signDigest(filterStateDigest(state));
      if (!withBase) return { ok: true, state, signature };
      const base = await source.baseFilter(request.category);
      const chunks = Math.max(1, Math.ceil(base.length / FILTER_BASE_CHUNK_BYTES));
      const chunk = request.chunk ?? 0;
      if (chunk >= chunks) return errorReply("E_BAD_REQUEST", `the base has ${chunks} chunks`);
      const bytesOut = Buffer.from(base.subarray(chunk * FILTER_BASE_CHUNK_BYTES, (chunk + 1) * FILTER_BASE_CHUNK_BYTES)).toString("base64");
      return { ok: true, state, base: { chunk, chunks, bytes: bytesOut }, signature };
    } catch (err) {
      if (isRiskshareError(err)) return errorReply(err.code, err.message);
      this.log.error({ err }, "filter request failed unexpectedly");
      return errorReply("E_INTERNAL", "the provider failed to answer");
    }
  }
}

/** The protocol factory, js-libp2p style: `filter(init)(components)`. */
export function filter(init: FilterInit = {}): (components: FilterComponents) => FilterService {
  return (components) => new FilterService(init, components);
}
