import type { AbstractSublevel } from "abstract-level";

/** What the querier keeps of each query it sent, so its compliance officer can open the commitment later. */
export interface JournalEntry {
  queryId: string;
  provider: string;
  querier: string;
  categoryMask: string;
  itemCount: number;
  itemsCommitment: string;
  nonce: string;
  deadline: string;
  /** The 32-byte blinding (0x-hex): with the item hashes it opens the on-chain commitment. */
  blinding: string;
  /** The items asked, as sent: type and salted hash, never the raw value. */
  items: { type: string; hash: string }[];
  sentAtMs: number;
}

/** The sublevel of the query journal: key = query id. */
export type JournalLevel = AbstractSublevel<any, any, string, JournalEntry>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The querier's journal of sent queries (QUERIES sublevel). */
export class QueryJournal {
  private readonly db: JournalLevel;

  constructor(modules: { db: JournalLevel }) {
    this.db = modules.db;
  }

  /** Records a query before it is sent. */
  async record(entry: JournalEntry): Promise<void> {
    await this.db.put(entry.queryId.toLowerCase(), entry);
  }

  /** The journal entry of a query this node sent, if any. */
  async get(queryId: string): Promise<JournalEntry | undefined> {
    return this.db.get(queryId.toLowerCase());
  }

  /** How many queries the journal holds. */
  async count(): Promise<number> {
    let n = 0;
    for await (const _key of this.db.keys()) n++;
    return n;
  }
}
