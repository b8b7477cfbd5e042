/**
 * Deterministic benchmark inputs: a seeded PRNG and valid raw identifiers of every structured type
 * (E.164-valid Chinese mobiles, resident ids with their check character, Luhn-valid cards…).
 * The same seed gives the same bytes on every machine, so two runs measure the same work.
 *
 * @example
 *   const rng = new Prng(42);
 *   const rows = new RowGenerator(42);
 *   const line = rows.csvLine(0);   // "phone,+86 138 0013 8000,fraud_confirmed,4,R07,…"
 */
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { luhnValid, nationalIdCheckChar } from "../../node/identity/index.ts";

/** mulberry32: a tiny 32-bit PRNG, good enough to spread benchmark inputs (never for secrets). */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Next uint32. */
  nextU32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 4_294_967_296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of `list`. */
  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)]!;
  }

  /** `n` pseudo-random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const word = this.nextU32();
      for (let j = 0; j < 4 && i + j < n; j++) out[i + j] = (word >>> (8 * j)) & 0xff;
    }
    return out;
  }

  /** A 0x-hex string of `n` bytes. */
  hex(n: number): string {
    return `0x${Buffer.from(this.bytes(n)).toString("hex")}`;
  }
}

/** Identifier types and their share of a generated list (phones and cards dominate real lists). */
export const TYPE_MIX: readonly (readonly [type: string, weight: number])[] = [
  ["phone", 30],
  ["bank_card", 20],
  ["national_id", 15],
  ["email", 10],
  ["device_id", 15],
  ["ip", 5],
  ["merchant_id", 5],
];

/** Categories the generated rows use (ids as the store is configured in every suite). */
export const BENCH_CATEGORIES: ReadonlyMap<string, number> = new Map([
  ["fraud_confirmed", 1],
  ["fraud_suspected", 2],
  ["money_mule", 3],
  ["stolen_card", 4],
]);

/** The CSV header of a generated import file. */
export const CSV_HEADER = "type,value,category,level,reason,reported_at,expires_at,ref";

/** Mobile prefixes that libphonenumber's full metadata accepts for CN. */
const MOBILE_PREFIXES = ["138", "139", "150", "186", "199", "135", "177", "182"] as const;
/** Real county-level region codes (Beijing, Shanghai, Guangdong, Sichuan, Zhejiang). */
const REGION_CODES = ["110105", "310115", "440305", "510104", "330106", "440106"] as const;
const CATEGORY_NAMES = [...BENCH_CATEGORIES.keys()];
const DAY_MS = 86_400_000;
const FIRST_BIRTH_MS = Date.UTC(1950, 0, 1);
const BIRTH_DAYS = 20_000; // 1950 … 2004
/** Odd multipliers co-prime to the moduli below: i → (i × k) mod m is a bijection, so values never repeat. */
const SPREAD = { phone: 48_271, card: 16_807, device: 2_654_435_761 } as const;

/**
 * Raw identifiers, each valid for its type and unique per (type, index): a value is a bijective
 * function of its index, and the seeded PRNG only decides formatting and the other columns.
 */
export class RowGenerator {
  readonly #rng: Prng;
  readonly #cumulative: number[];
  readonly #totalWeight: number;

  constructor(seed: number) {
    this.#rng = new Prng(seed);
    let sum = 0;
    this.#cumulative = TYPE_MIX.map(([, weight]) => (sum += weight));
    this.#totalWeight = sum;
  }

  /** A type drawn from {@link TYPE_MIX}. */
  type(): string {
    const r = this.#rng.int(this.#totalWeight);
    const index = this.#cumulative.findIndex((c) => r < c);
    return TYPE_MIX[index]![0];
  }

  /** The `index`-th raw value of `type`, written as an operator's file would (spaces, case). */
  value(type: string, index: number): string {
    const rng = this.#rng;
    switch (type) {
      case "phone": {
        const prefix = MOBILE_PREFIXES[index % MOBILE_PREFIXES.length]!;
        const digits = String((Math.floor(index / MOBILE_PREFIXES.length) * SPREAD.phone) % 100_000_000).padStart(8, "0");
        const style = rng.int(3);
        if (style === 0) return `${prefix}${digits}`;
        if (style === 1) return `${prefix} ${digits.slice(0, 4)} ${digits.slice(4)}`;
        return `+86 ${prefix}-${digits.slice(0, 4)}-${digits.slice(4)}`;
      }
      case "national_id": {
        const region = REGION_CODES[index % REGION_CODES.length]!;
        const rest = Math.floor(index / REGION_CODES.length);
        const birth = new Date(FIRST_BIRTH_MS + (rest % BIRTH_DAYS) * DAY_MS);
        const date = `${birth.getUTCFullYear()}${String(birth.getUTCMonth() + 1).padStart(2, "0")}${String(birth.getUTCDate()).padStart(2, "0")}`;
        const head = `${region}${date}${String(Math.floor(rest / BIRTH_DAYS) % 1000).padStart(3, "0")}`;
        const id = head + nationalIdCheckChar(head);
        return rng.int(4) === 0 ? id.toLowerCase() : id;
      }
      case "bank_card": {
        const body = `6222${String((index * SPREAD.card) % 100_000_000_000).padStart(11, "0")}`;
        let card = "";
        for (let d = 0; d < 10; d++) {
          if (luhnValid(body + d)) {
            card = body + d;
            break;
          }
        }
        return rng.int(2) === 0 ? card : `${card.slice(0, 4)} ${card.slice(4, 8)} ${card.slice(8, 12)} ${card.slice(12)}`;
      }
      case "email":
        return `${rng.int(2) === 0 ? "User" : "user"}.${index.toString(36)}@${["Bench-Mail.cn", "mail.example.cn", "corp.bench-mail.net"][index % 3]}`;
      case "device_id":
        return `dev-${((index * SPREAD.device) >>> 0).toString(16).padStart(8, "0")}-${index.toString(16)}`;
      case "ip":
        return `10.${(index >>> 16) & 255}.${(index >>> 8) & 255}.${index & 255}`;
      default:
        return `${type.toUpperCase()}-${index.toString(36)}`;
    }
  }

  /** One CSV data row; `index` numbers the row, the type's own counter keeps values unique. */
  csvLine(index: number, counters: Map<string, number>): string {
    const rng = this.#rng;
    const type = this.type();
    const n = counters.get(type) ?? 0;
    counters.set(type, n + 1);
    const category = CATEGORY_NAMES[rng.int(CATEGORY_NAMES.length)]!;
    const level = 1 + rng.int(5);
    const reportedAt = 1_704_067_200 + rng.int(365 * 86_400); // during 2024
    const expiresAt = rng.int(3) === 0 ? String(2_000_000_000 + rng.int(365 * 86_400)) : ""; // some rows expire, in 2033
    return `${type},${this.value(type, n)},${category},${level},R${String(rng.int(40)).padStart(2, "0")},${reportedAt},${expiresAt},case-${index}`;
  }
}

/**
 * Writes a CSV import file of `rows` generated rows; resolves with its size in bytes. Each type's
 * values start at its `firstValueIndex`-th (default 0), so that files written from index ranges
 * far enough apart share no identifier.
 */
export async function writeCsv(path: string, rows: number, seed: number, opts: { firstValueIndex?: number } = {}): Promise<number> {
  const generator = new RowGenerator(seed);
  const counters = new Map<string, number>(TYPE_MIX.map(([type]) => [type, opts.firstValueIndex ?? 0]));
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let bytes = 0;
  let chunk: string[] = [CSV_HEADER];
  const flush = async () => {
    const text = `${chunk.join("\n")}\n`;
    chunk = [];
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, "drain");
  };
  for (let i = 0; i < rows; i++) {
    chunk.push(generator.csvLine(i, counters));
    if (chunk.length >= 10_000) await flush();
  }
  if (chunk.length > 0) await flush();
  out.end();
  await once(out, "finish");
  return bytes;
}
