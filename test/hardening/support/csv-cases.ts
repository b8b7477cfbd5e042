/**
 * Generated CSV list files for the import fuzz, each row with its own verdict: every cell is drawn
 * from a pool of values known to be valid, or known to be broken for its field, so a file's
 * expected outcome (which rows import, which are rejected and for which fields) follows from how
 * it was drawn, not from the importer's code.
 */
import fc from "fast-check";
import { tryNormalise } from "../../../node/identity/index.ts";
import { csvCell, IMPORT_COLUMNS, type ImportColumn } from "../../../node/store/index.ts";
import { fixtureValue } from "../../fixtures/riskList.ts";

/** The import's clock: 2025-06-15, so 2024 dates lie in the past and 2030 in the future. */
export const IMPORT_NOW = 1_750_000_000;

/** Structured identifier types, whose broken values are easy to make. */
const TYPES = ["phone", "national_id", "bank_card", "email", "device_id", "ip"] as const;
type StructuredType = (typeof TYPES)[number];

/** A field as the importer names it in a rejection: a column, or "row" for a wrong cell count. */
type Field = ImportColumn | "row";

/** Valid and broken cells per field (the value column is per type, below). */
const POOLS: Record<Exclude<ImportColumn, "type" | "value">, { valid: readonly string[]; broken: readonly string[] }> = {
  category: { valid: ["fraud_confirmed", "fraud_suspected", "money_mule", "1", "2", "3"], broken: ["no_such_category", "9", "", "Fraud_Confirmed"] },
  level: { valid: ["1", "2", "3", "4", "5", " 3 "], broken: ["0", "6", "3.5", "high", "", "-1"] },
  reason: { valid: ["R01", "chargeback", "a.b:c-d_e", "x".repeat(32)], broken: ["", "has space", "x".repeat(33), "R01!", "ré"] },
  reported_at: { valid: ["2024-05-01", "1714521600", "2024-05-01T08:00:00+08:00", "2024-05-01 08:30"], broken: ["yesterday", "2023-02-29", "", "1714521600000", "2030-01-01", "2024-13-01"] },
  // expires_at is optional: blank is valid; 2020 is both before reported-at and already past.
  expires_at: { valid: ["", "2099-01-01", "4102444800"], broken: ["2020-01-01", "not-a-date", "2024-02-30"] },
  ref: { valid: ["", "case-1", "ticket, 42", "say \"hi\"", "x".repeat(128)], broken: ["x".repeat(129), "bell\u0007", "zero\u200bwidth"] },
};

/** A broken raw value of each type (blank is broken for every type). */
function brokenValue(type: StructuredType, valid: string, variant: number): string {
  const specific: Record<StructuredType, string> = {
    phone: "12345",
    national_id: `${valid.slice(0, 17)}${valid.endsWith("0") ? "1" : "0"}`, // a wrong check character
    bank_card: `${valid.slice(0, -1)}${(Number(valid.at(-1)) + 1) % 10}`, // a wrong Luhn digit
    email: `${valid.replace("@", "@@")}`,
    device_id: "dev\u0000id",
    ip: "10.0.0.256",
  };
  return variant % 3 === 0 ? "" : specific[type];
}

/** How one row is drawn: its type, which fields are broken (and with which pool entry), its cell count. */
interface RowPlan {
  type: StructuredType;
  /** Per field: -1 for a valid draw (pool index from `pick`), or a broken variant. */
  broken: Partial<Record<ImportColumn, number>>;
  pick: number;
  /** 0: right cell count; -1: one cell short; 1: one too many. */
  cells: -1 | 0 | 1;
}

/** How one file is drawn. */
export interface CsvFilePlan {
  columns: ImportColumn[];
  headerUpperCase: boolean;
  lineEnding: "\n" | "\r\n";
  rows: RowPlan[];
}

/** One rendered row with its verdict. */
export interface CsvRowCase {
  /** Line of the file (the header is line 1). */
  line: number;
  /** The fields drawn broken; empty for a row that must import. */
  brokenFields: Field[];
  /** The identifier it stores under, when its type and value are valid. */
  key: { type: string; normalised: string } | undefined;
}

/** A rendered file. */
export interface CsvFileCase {
  content: string;
  rows: CsvRowCase[];
}

const brokenFieldArbitrary = fc.constantFrom<ImportColumn>(...IMPORT_COLUMNS);

const rowPlan: fc.Arbitrary<RowPlan> = fc.record({
  type: fc.constantFrom(...TYPES),
  // Most rows valid; a broken row has one to three broken fields.
  broken: fc.oneof(
    { weight: 3, arbitrary: fc.constant({}) },
    { weight: 2, arbitrary: fc.dictionary(brokenFieldArbitrary.map(String), fc.nat(99), { minKeys: 1, maxKeys: 3 }) as fc.Arbitrary<Partial<Record<ImportColumn, number>>> },
  ),
  pick: fc.nat(999),
  cells: fc.oneof({ weight: 20, arbitrary: fc.constant(0 as const) }, { weight: 1, arbitrary: fc.constantFrom(-1 as const, 1 as const) }),
});

/** Plans of files: header in any column order and case, 1-30 rows. */
export function csvFilePlan(): fc.Arbitrary<CsvFilePlan> {
  return fc.record({
    columns: fc.shuffledSubarray([...IMPORT_COLUMNS], { minLength: IMPORT_COLUMNS.length, maxLength: IMPORT_COLUMNS.length }),
    headerUpperCase: fc.boolean(),
    lineEnding: fc.constantFrom("\n" as const, "\r\n" as const),
    rows: fc.array(rowPlan, { minLength: 1, maxLength: 30 }),
  });
}

/**
 * Renders a plan; `uniqueIndex` hands out identifier indexes never used before in the store, so a
 * valid row is always a new entry.
 */
export function renderCsvFile(plan: CsvFilePlan, uniqueIndex: () => number): CsvFileCase {
  const header = plan.columns.map((c) => (plan.headerUpperCase ? c.toUpperCase() : c)).join(",");
  const lines = [header];
  const rows: CsvRowCase[] = [];
  for (const [index, row] of plan.rows.entries()) {
    const validValue = fixtureValue(row.type, uniqueIndex());
    const cells: Record<ImportColumn, string> = { type: row.type, value: validValue, category: "", level: "", reason: "", reported_at: "", expires_at: "", ref: "" };
    const brokenFields: Field[] = [];
    for (const column of IMPORT_COLUMNS) {
      const variant = row.broken[column];
      if (column === "type") {
        if (variant !== undefined) cells.type = variant % 2 === 0 ? "passport" : "";
      } else if (column === "value") {
        if (variant !== undefined) cells.value = brokenValue(row.type, validValue, variant);
      } else {
        const pool = POOLS[column];
        cells[column] = variant === undefined ? pool.valid[row.pick % pool.valid.length]! : pool.broken[variant % pool.broken.length]!;
      }
      if (variant !== undefined) brokenFields.push(column);
    }
    let rendered = plan.columns.map((column) => csvCell(cells[column]));
    if (row.cells === -1) rendered = rendered.slice(0, -1);
    if (row.cells === 1) rendered.push("extra");
    if (row.cells !== 0) brokenFields.push("row");
    lines.push(rendered.join(","));
    const typeValid = row.broken.type === undefined;
    const normal = typeValid ? tryNormalise(row.type, cells.value, { defaultRegion: "CN" }) : undefined;
    rows.push({ line: index + 2, brokenFields, key: normal?.ok ? { type: row.type, normalised: normal.value } : undefined });
  }
  return { content: `${lines.join(plan.lineEnding)}${plan.lineEnding}`, rows };
}

/** Files as the test runs them: a plan, rendered with indexes unique across the run. */
export function csvFileCase(): fc.Arbitrary<CsvFileCase> {
  return csvFilePlan().map((plan) => renderCsvFile(plan, nextIndex));
}

let counter = 0;
/** Identifier indexes unique within this process (a valid row is always a new entry). */
function nextIndex(): number {
  counter += 1;
  return 10_000_000 + counter;
}

/** A row of random cells: a known type, anything else. */
export interface RandomCellsRow {
  line: number;
  type: StructuredType;
  value: string;
}

/** A file of random cells (no line breaks inside cells, so line numbers are row numbers). */
export function randomCellsCase(): fc.Arbitrary<{ content: string; rows: RandomCellsRow[] }> {
  const text = fc.string({ unit: "binary", maxLength: 40 }).map((s) => s.toWellFormed().replace(/[\r\n]/g, " "));
  const cell = (pool: readonly string[]) => fc.oneof(fc.constantFrom(...pool), text);
  const row = fc.record({
    type: fc.constantFrom(...TYPES),
    value: fc.oneof(text, fc.nat(99_999).map((i) => `138${String(i).padStart(8, "0")}`), fc.nat(99_999).map((i) => `u${i}@mail.example.cn`)),
    category: cell(POOLS.category.valid), level: cell(POOLS.level.valid), reason: cell(POOLS.reason.valid),
    reported_at: cell(POOLS.reported_at.valid), expires_at: cell(POOLS.expires_at.valid), ref: cell(POOLS.ref.valid),
  });
  return fc.array(row, { minLength: 1, maxLength: 20 }).map((drawn) => {
    const lines = [IMPORT_COLUMNS.join(",")];
    for (const r of drawn) lines.push(IMPORT_COLUMNS.map((column) => csvCell(r[column])).join(","));
    return { content: `${lines.join("\n")}\n`, rows: drawn.map((r, i) => ({ line: i + 2, type: r.type, value: r.value })) };
  });
}
