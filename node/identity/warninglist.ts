/**
 * Warninglists: identifiers that must never be listed — test card numbers, documentation e-mail
 * domains, fictional telephone numbers — shipped as data files (./warninglists/*.json), each entry
 * with its public source. An import refuses a row whose identifier is on one (`warninglisted`), and
 * a check neither asks anyone about such an identifier nor reports a hit for it. (Service short codes
 * such as 95588 are refused by the phone normaliser already: they are no subscriber number.)
 *
 * Matching is on the normalised identifier: `exact` (equal), `domain` (an e-mail address whose
 * domain is the entry or under it), `pattern` (an anchored regular expression).
 *
 * A consortium adds lists of its own without a release: files of the same form in the data
 * directory's `warninglists/` folder, adopted by a SetWarninglistHash vote on the hash of the whole
 * set (shipped and added; {@link Warninglists.hash}). An added entry is enforced (`refuse`) only when
 * it cites a source a shipped list of its type already cites (the same document: origin and path),
 * that is when it belongs to a class riskshare ships; any other added entry is `inform`: imported
 * and asked about as usual, its hits marked with the list's name. A vote may so flag identifiers,
 * never silently blind every member to them (a majority listing a competitor's customers as
 * "service numbers" would otherwise make them unlistable and unaskable).
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { RiskshareError } from "../errors.ts";

const entrySchema = z.strictObject({
  value: z.string().min(1).max(200),
  note: z.string().min(1).max(300),
  source: z.url({ protocol: /^https$/, error: "must be an https URL: every entry names its public source" }),
});

/** One warninglist file. */
export const warninglistSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]{1,64}$/, "must be 1-64 characters of a-z 0-9 -"),
  description: z.string().min(1).max(500),
  type: z.string().min(1).max(32),
  match: z.enum(["exact", "domain", "pattern"]),
  entries: z.array(entrySchema).min(1).max(100_000),
});

/** A warninglist as its file states it. */
export type Warninglist = z.output<typeof warninglistSchema>;

/** What a match does: `refuse` (never listed, asked of nobody) or `inform` (flagged only). */
export type WarninglistAction = "refuse" | "inform";

/** Why an identifier may not be listed: the list and the entry it matched (never the identifier). */
export interface WarninglistMatch {
  readonly list: string;
  readonly note: string;
  readonly source: string;
  readonly action: WarninglistAction;
}

/** Where a list comes from: shipped with riskshare, or added by the consortium (data directory). */
export type WarninglistOrigin = "shipped" | "consortium";

/** The document an entry cites: its source URL's origin and path (no query, no fragment). */
export function citedDocument(source: string): string {
  const url = new URL(source);
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

/** The warninglists of one identifier type, compiled for matching. */
interface Compiled {
  readonly exact: Map<string, WarninglistMatch>;
  readonly domains: Map<string, WarninglistMatch>;
  readonly patterns: { readonly pattern: RegExp; readonly match: WarninglistMatch }[];
}

/** A set of warninglists, matched against normalised identifiers. */
export class Warninglists {
  /** Every list, shipped and added, in name order. */
  readonly lists: readonly Warninglist[];
  /** The lists the consortium added (data directory), in name order. */
  readonly consortiumLists: readonly Warninglist[];
  /**
   * SHA-256 over every list (shipped and added) in name order, each as its canonical JSON: what a
   * consortium pins. With no added list it is the shipped lists' hash.
   */
  readonly hash: string;
  readonly #byType = new Map<string, Compiled>();
  readonly #origin = new Map<string, WarninglistOrigin>();
  readonly #informCount = new Map<string, number>();

  /** `consortium`: lists the consortium added; each entry is `refuse` only when it cites a document a shipped list of its type cites. */
  constructor(lists: readonly Warninglist[], consortium: readonly Warninglist[] = []) {
    const names = new Set<string>();
    for (const list of [...lists, ...consortium]) {
      if (names.has(list.name)) throw new RiskshareError("E_CONFIG", `two warninglists are named ${list.name}: rename the one in the data directory's warninglists/ folder`, { list: list.name });
      names.add(list.name);
    }
    for (const list of lists) this.#origin.set(list.name, "shipped");
    for (const list of consortium) this.#origin.set(list.name, "consortium");
    this.lists = [...lists, ...consortium].sort((a, b) => a.name.localeCompare(b.name));
    this.consortiumLists = [...consortium].sort((a, b) => a.name.localeCompare(b.name));
    const digest = createHash("sha256");
    for (const list of this.lists) digest.update(`${JSON.stringify(list)}\n`);
    this.hash = `0x${digest.digest("hex")}`;
    // The documents shipped lists cite, per identifier type: the classes riskshare ships.
    const shippedDocuments = new Map<string, Set<string>>();
    for (const list of lists) {
      const documents = shippedDocuments.get(list.type) ?? new Set<string>();
      for (const entry of list.entries) documents.add(citedDocument(entry.source));
      shippedDocuments.set(list.type, documents);
    }
    for (const list of this.lists) {
      const added = this.#origin.get(list.name) === "consortium";
      let informs = 0;
      let compiled = this.#byType.get(list.type);
      if (compiled === undefined) {
        compiled = { exact: new Map(), domains: new Map(), patterns: [] };
        this.#byType.set(list.type, compiled);
      }
      for (const entry of list.entries) {
        const action: WarninglistAction = !added || shippedDocuments.get(list.type)?.has(citedDocument(entry.source)) === true ? "refuse" : "inform";
        if (action === "inform") informs++;
        const match = { list: list.name, note: entry.note, source: entry.source, action };
        // An entry on two lists: the one that refuses wins.
        const keep = (map: Map<string, WarninglistMatch>, key: string): void => {
          if (map.get(key)?.action !== "refuse") map.set(key, match);
        };
        if (list.match === "exact") keep(compiled.exact, entry.value);
        else if (list.match === "domain") keep(compiled.domains, entry.value.toLowerCase());
        else {
          let pattern: RegExp;
          try {
            pattern = new RegExp(entry.value, "u");
          } catch (err) {
            throw new RiskshareError("E_CONFIG", `warninglist ${list.name} holds a pattern that is not a regular expression`, { list: list.name }, { cause: err });
          }
          if (!entry.value.startsWith("^") || !entry.value.endsWith("$")) throw new RiskshareError("E_CONFIG", `warninglist ${list.name} holds a pattern that is not anchored with ^…$`, { list: list.name });
          compiled.patterns.push({ pattern, match });
        }
      }
      this.#informCount.set(list.name, informs);
    }
  }

  /** Whether a list shipped with riskshare or was added by the consortium. */
  originOf(name: string): WarninglistOrigin | undefined {
    return this.#origin.get(name);
  }

  /** How many of a list's entries only inform (an added entry citing no document a shipped list of its type cites). */
  informCount(name: string): number {
    return this.#informCount.get(name) ?? 0;
  }

  /** The entry a normalised identifier of `type` matches, if any: one that refuses before one that informs. */
  match(type: string, normalised: string): WarninglistMatch | undefined {
    const compiled = this.#byType.get(type);
    if (compiled === undefined) return undefined;
    let inform: WarninglistMatch | undefined;
    const consider = (found: WarninglistMatch | undefined): boolean => {
      if (found?.action === "refuse") return true;
      inform ??= found;
      return false;
    };
    const exact = compiled.exact.get(normalised);
    if (consider(exact)) return exact;
    if (compiled.domains.size > 0) {
      const at = normalised.lastIndexOf("@");
      const labels = normalised.slice(at + 1).toLowerCase().split(".");
      // The domain and each domain it is under: mail.example.com → mail.example.com, example.com, com.
      for (let i = 0; i < labels.length; i++) {
        const found = compiled.domains.get(labels.slice(i).join("."));
        if (consider(found)) return found;
      }
    }
    for (const p of compiled.patterns) if (p.pattern.test(normalised) && consider(p.match)) return p.match;
    return inform;
  }
}

/** The folder of the shipped warninglists. */
const SHIPPED_DIR = fileURLToPath(new URL("./warninglists/", import.meta.url));

/** The folder of a data directory that holds the consortium's own warninglists. */
export const CONSORTIUM_WARNINGLISTS_DIR = "warninglists";

let shipped: Warninglists | undefined;

/** The warninglists riskshare ships (read and checked once per process). */
export function shippedWarninglists(): Warninglists {
  shipped ??= new Warninglists(readLists(SHIPPED_DIR, "the shipped warninglist"));
  return shipped;
}

/**
 * The shipped warninglists plus the consortium's own from `<dataDir>/warninglists/*.json` (none
 * when the folder is missing). Read when called: a node reads them at start.
 */
export function loadWarninglists(dataDir: string): Warninglists {
  const dir = join(dataDir, CONSORTIUM_WARNINGLISTS_DIR);
  if (!existsSync(dir)) return shippedWarninglists();
  return new Warninglists(shippedWarninglists().lists, readLists(dir, "the consortium warninglist"));
}

/** Every *.json list in `dir`, checked; E_CONFIG names the file and what is wrong. */
function readLists(dir: string, what: string): Warninglist[] {
  return readdirSync(dir).filter((file) => file.endsWith(".json")).sort().map((file) => {
    const path = join(dir, file);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, "utf8"));
    } catch (err) {
      throw new RiskshareError("E_CONFIG", `${what} ${path} is not JSON: fix or remove the file`, { file: path }, { cause: err });
    }
    const parsed = warninglistSchema.safeParse(json);
    if (!parsed.success) throw new RiskshareError("E_CONFIG", `${what} ${path} is malformed: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, { file: path });
    return parsed.data;
  });
}
