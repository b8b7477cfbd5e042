import type { CheckResponse } from "../node/api/index.ts";
import { table } from "./output.ts";

/** The text form of a check's answer: the verdict, the own list's entry, each provider's answer. */
export function renderCheck(r: CheckResponse): string {
  const item = r.items[0];
  const lines = [`verdict: ${r.verdict.toUpperCase()}${item?.verdict === "invalid" ? ` (invalid identifier: ${item.invalidReason})` : item?.warninglisted !== undefined ? ` (on the warninglist ${item.warninglisted}: asked of nobody, never listed)` : ""}`];
  if (item?.warninglistNotice !== undefined) lines.push(`note: on the consortium's inform-only warninglist ${item.warninglistNotice} (\`riskshare list warninglists\`): weigh the verdict yourself`);
  const score = (h: { score?: number | undefined }) => (h.score === undefined ? "" : ` score ${h.score}`);
  if (item?.own) lines.push(`own list: ${item.own.category} level ${item.own.level} (${item.own.reason})${score(item.own)}`);
  if (r.providers.length === 0) return lines.join("\n");
  lines.push(table(["PROVIDER", "ADDRESS", "STATUS", "ANSWER"], r.providers.map((p) => {
    const hit = item?.hits.find((h) => h.provider === p.address);
    const answer = p.status !== "answered" ? p.code ?? "" : hit
      ? `HIT ${hit.category} level ${hit.level} reason ${hit.reason}${score(hit)}${hit.confirmations ? ` confirmed by ${hit.confirmations}` : ""}${hit.hitId ? ` (hit ${hit.hitId})` : ""}`
      : "miss";
    return [p.name, p.address, p.status, answer];
  })));
  return lines.join("\n");
}
