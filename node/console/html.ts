/**
 * The console's HTML: a layout, filter forms and tables, escaped once here. Pages are plain
 * server-rendered HTML; the only scripts are the chart library and assets/console.js, both served
 * from this process (the CSP allows nothing else).
 */
import { csvCell } from "../store/index.ts";

/** A cell: text (or a number), optionally a link, optionally a name tests and scripts can find it by. */
export type Cell = string | number | { text: string | number; href?: string; title?: string };

/** A table: every one gets a CSV link (`csvHref`), the same rows as CSV. */
export interface Table {
  id: string;
  caption: string;
  columns: readonly string[];
  rows: readonly (readonly Cell[])[];
  /** Where its CSV is; by default the page's URL with `csv=<id>`. */
  csvHref: string;
  /** Shown instead of an empty table. */
  empty?: string;
  /** A key per row (`data-key`), to find a row by member address, day or id. */
  keys?: readonly string[];
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function cellText(cell: Cell): string {
  return typeof cell === "object" ? String(cell.text) : String(cell);
}

/** A table as HTML, with its caption and CSV link. */
export function tableHtml(table: Table): string {
  const head = `<h2 id="${escapeHtml(table.id)}">${escapeHtml(table.caption)} <a class="csv" data-csv="${escapeHtml(table.id)}" href="${escapeHtml(table.csvHref)}">CSV</a></h2>`;
  if (table.rows.length === 0) return `${head}<p class="empty" data-table="${escapeHtml(table.id)}">${escapeHtml(table.empty ?? "nothing to show")}</p>`;
  const th = table.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = table.rows.map((row, i) => {
    const key = table.keys?.[i];
    const cells = row.map((cell, j) => {
      const numeric = typeof cell === "number" || (typeof cell === "object" && typeof cell.text === "number");
      const column = escapeHtml(table.columns[j] ?? "");
      const inner = typeof cell === "object" && cell.href !== undefined
        ? `<a href="${escapeHtml(cell.href)}"${cell.title ? ` title="${escapeHtml(cell.title)}"` : ""}>${escapeHtml(cell.text)}</a>`
        : escapeHtml(cellText(cell));
      return `<td data-col="${column}"${numeric ? ' class="num"' : ""}>${inner}</td>`;
    }).join("");
    return `<tr${key === undefined ? "" : ` data-key="${escapeHtml(key)}"`}>${cells}</tr>`;
  }).join("\n");
  return `${head}<table data-table="${escapeHtml(table.id)}"><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A table as CSV (header and rows; cells as their text). */
export function tableCsv(table: Pick<Table, "columns" | "rows">): string {
  const line = (cells: readonly string[]) => cells.map((c) => csvCell(c)).join(",");
  return `${[line(table.columns.map(String)), ...table.rows.map((row) => line(row.map(cellText)))].join("\n")}\n`;
}

/** The pages in the navigation bar. */
const NAV: ReadonlyArray<readonly [string, string]> = [["/", "Overview"], ["/ledger", "Ledger"], ["/verify", "Verify"], ["/governance", "Governance"]];

/** The page around `body`. */
export function layout(opts: { title: string; path: string; body: string; status: string; scripts?: boolean }): string {
  const nav = NAV.map(([href, name]) => `<a href="${href}"${href === opts.path ? ' aria-current="page"' : ""}>${name}</a>`).join("");
  const scripts = opts.scripts ? '<script src="/assets/uPlot.iife.min.js"></script><script src="/assets/console.js"></script>' : '<script src="/assets/console.js"></script>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(opts.title)} · riskshare console</title>
<link rel="stylesheet" href="/assets/uPlot.min.css"><link rel="stylesheet" href="/assets/console.css">
</head><body>
<header><strong>riskshare console</strong> <span class="ro">read-only</span><nav>${nav}</nav><span class="status" id="index-status">${escapeHtml(opts.status)}</span></header>
<main><h1>${escapeHtml(opts.title)}</h1>
${opts.body}
</main>${scripts}</body></html>`;
}

/** A GET form of filters: each field keeps its value, so the URL the form gives is the page's stable URL. */
export function filterForm(action: string, fields: ReadonlyArray<{ name: string; label: string; value: string | undefined; options?: ReadonlyArray<readonly [string, string]>; placeholder?: string }>): string {
  const inputs = fields.map((f) => {
    const control = f.options
      ? `<select name="${f.name}"><option value="">any</option>${f.options.map(([value, text]) => `<option value="${escapeHtml(value)}"${value === f.value ? " selected" : ""}>${escapeHtml(text)}</option>`).join("")}</select>`
      : `<input name="${f.name}" value="${escapeHtml(f.value ?? "")}"${f.placeholder ? ` placeholder="${escapeHtml(f.placeholder)}"` : ""}>`;
    return `<label>${escapeHtml(f.label)} ${control}</label>`;
  }).join(" ");
  return `<form class="filters" method="get" action="${escapeHtml(action)}">${inputs} <button type="submit">Apply</button> <a href="${escapeHtml(action)}">clear</a></form>`;
}

/** A URL: `path` with the non-empty `params`. */
export function urlOf(path: string, params: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== "") query.set(key, String(value));
  const text = query.toString();
  return text === "" ? path : `${path}?${text}`;
}
