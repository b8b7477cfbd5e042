/**
 * Export of the store's entries as CSV or JSON Lines: tags and metadata only (the store never held a
 * raw identifier). The entry id (the provider's private store key) and the metadata key (a secret)
 * stay out: the tag is what names an entry in the published filter and in fetch answers.
 * Streaming: memory stays flat however many entries there are.
 *
 * Columns / fields: type, tag (16 hex), category (name; the id when the category is no longer
 * active), level, reason, reported_at, expires_at, ref, added_at, version — times in unix seconds.
 */
import type { ExportOptions } from "./options.ts";
import type { StoredEntry } from "./entry.ts";
import type { Store } from "./store.ts";

/** Export columns, in order. */
export const EXPORT_COLUMNS = ["type", "tag", "category", "level", "reason", "reported_at", "expires_at", "ref", "added_at", "version"] as const;

/** Entries grouped per yielded chunk: fewer, larger writes. */
const LINES_PER_CHUNK = 1000;

/** The export as text chunks (each ends with a newline), for `Readable.from(...)` or a loop. */
export async function* exportEntries(store: Store, opts: ExportOptions): AsyncGenerator<string> {
  const format = (entry: StoredEntry): string => {
    const category = store.categoryName(entry.categoryId) ?? String(entry.categoryId);
    const tag = Buffer.from(entry.tag).toString("hex");
    if (opts.format === "jsonl") {
      return JSON.stringify({
        type: entry.type, tag, category, level: entry.level, reason: entry.reason, reported_at: entry.reportedAtSec,
        expires_at: entry.expiresAtSec ?? null, ref: entry.ownRef ?? null, added_at: entry.addedAtSec, version: entry.version,
      });
    }
    return [entry.type, tag, csvCell(category), entry.level, csvCell(entry.reason), entry.reportedAtSec, entry.expiresAtSec ?? "", csvCell(entry.ownRef ?? ""), entry.addedAtSec, entry.version].join(",");
  };
  let lines: string[] = opts.format === "csv" ? [EXPORT_COLUMNS.join(",")] : [];
  for await (const entry of store.entries({ categoryId: opts.categoryId, includeExpired: opts.includeExpired, nowSec: opts.nowSec })) {
    lines.push(format(entry));
    if (lines.length >= LINES_PER_CHUNK) {
      yield `${lines.join("\n")}\n`;
      lines = [];
    }
  }
  if (lines.length > 0) yield `${lines.join("\n")}\n`;
}

/** A CSV cell, quoted (RFC 4180) when it holds a comma, quote, line break or edge spaces. */
export function csvCell(text: string): string {
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
