/**
 * A provider's side of spot-checks (ContributionRegistry, docs/PROTOCOL.md "Spot-checks"): when
 * another member challenges one of this member's snapshots, the node answers on chain with proofs
 * from the base filter it published, without anyone's help. It answers an expired challenge too
 * (a late answer clears the unproven mark). If the filter it holds is not the one challenged (a
 * base rebuilt but never published, say), it cannot answer: health says so, and publishing a new
 * snapshot (`riskshare list publish`) supersedes the challenge.
 */
import { RiskshareError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { challengeChunks, chunkCount, chunkProofs, type ChunkProof } from "./filter-commitment.ts";
import type { ChallengeInfo, ContributionInfo } from "./view.ts";

/** One challenge this node could not answer (yet), for health. */
export interface ChallengeProblem {
  categoryId: number;
  deadline: number;
  state: ChallengeInfo["state"];
  /** Why: E_CHALLENGE_UNANSWERABLE (the filter held is not the one challenged) or the last send's error code. */
  code: string;
}

/** Dependencies of {@link ChallengeResponder}. */
export interface ChallengeResponderModules {
  /** This member's challenged snapshots, from the chain view. */
  view: { challengesOf(member: string): Array<{ categoryId: number; snapshot: ContributionInfo; challenge: ChallengeInfo }> };
  /** The base filter this node holds for a category (bytes and their commitment), if one was built. */
  filters: { baseFilter(categoryId: number): Promise<{ bytes: Uint8Array; hash: string } | undefined> };
  /** Sends ContributionRegistry.answerChallenge from this member's key; resolves to the tx hash once mined. */
  answer(categoryId: number, byteLength: number, proofs: readonly ChunkProof[]): Promise<string>;
  logger: Logger;
}

/** Answers this member's challenged snapshots; {@link check} after each chain sync. */
export class ChallengeResponder {
  private readonly self: string;
  private readonly modules: ChallengeResponderModules;
  private readonly log: Logger;
  private running: Promise<void> | undefined;
  private readonly problems = new Map<number, ChallengeProblem>();
  /** Challenges answered by this node (category/commitment/openedAt), so a sync that lags is not answered twice. */
  private readonly answered = new Set<string>();

  constructor(self: string, modules: ChallengeResponderModules) {
    this.self = self;
    this.modules = modules;
    this.log = modules.logger.child({ module: "challenges" });
  }

  /** Answers every challenge open or expired against this member; one pass at a time. */
  check(): Promise<void> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Challenges this node has not been able to answer. */
  pending(): ChallengeProblem[] {
    return [...this.problems.values()];
  }

  private async pass(): Promise<void> {
    const current = this.modules.view.challengesOf(this.self);
    const categories = new Set(current.map((c) => c.categoryId));
    for (const categoryId of this.problems.keys()) if (!categories.has(categoryId)) this.problems.delete(categoryId);
    for (const { categoryId, challenge } of current) {
      const key = `${categoryId}/${challenge.filterHash}/${challenge.openedAt}`;
      if (this.answered.has(key)) continue;
      const problem = (code: string): void => void this.problems.set(categoryId, { categoryId, deadline: challenge.deadline, state: challenge.state, code });
      const base = await this.modules.filters.baseFilter(categoryId);
      if (base === undefined || base.hash.toLowerCase() !== challenge.filterHash) {
        if (this.problems.get(categoryId)?.code !== "E_CHALLENGE_UNANSWERABLE") {
          this.log.warn({ categoryId, deadline: challenge.deadline, code: "E_CHALLENGE_UNANSWERABLE" }, "a spot-check of this member's snapshot cannot be answered: the filter held is not the one published; publish a new snapshot");
        }
        problem("E_CHALLENGE_UNANSWERABLE");
        continue;
      }
      try {
        const proofs = chunkProofs(base.bytes, challengeChunks(challenge.seed, chunkCount(base.bytes.length)));
        const tx = await this.modules.answer(categoryId, base.bytes.length, proofs);
        this.answered.add(key);
        this.problems.delete(categoryId);
        this.log.info({ categoryId, challenger: challenge.challenger, tx }, "answered a spot-check of this member's snapshot on chain");
      } catch (err) {
        const code = err instanceof RiskshareError ? err.code : "E_INTERNAL";
        this.log.warn({ categoryId, code }, "answering a spot-check failed; will retry at the next chain sync");
        problem(code);
      }
    }
  }
}
