import { runCliCaptured } from "../../../cli/index.ts";
import type { CapturedRun } from "../../../cli/capture.ts";

/** Runs `riskshare …args` in this process, capturing its output (as a user would see it). */
export async function cli(...args: string[]): Promise<CapturedRun> {
  return runCliCaptured(args);
}
