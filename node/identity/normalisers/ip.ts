/**
 * IP addresses: IPv4 as dotted-quad without leading zeros, IPv6 in RFC 5952 canonical text
 * (lower-case hex, no leading zeros, the longest run of two or more zero groups as "::", first run
 * on a tie). An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 host a dual-stack server saw,
 * so it normalises to the plain IPv4 form: both spellings are one identifier.
 */
import { isIPv6 } from "node:net";
import { accept, reject, type NormaliseResult } from "../errors.ts";

const IPV4 = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$/;

/** Normalises an IPv4 or IPv6 address to its canonical text. */
export function normaliseIp(raw: string): NormaliseResult {
  const text = raw.trim();
  if (text.length === 0) return reject("empty");
  if (text.length > 64) return reject("too_long");
  if (text.includes(":")) return normaliseIpv6(text);
  const v4 = parseIpv4(text);
  return typeof v4 === "string" ? reject(v4) : accept(v4.join("."));
}

/** The four octets of a dotted-quad, or the reason it is not one. */
function parseIpv4(text: string): number[] | "format" | "leading_zero" {
  const match = IPV4.exec(text);
  if (match === null) return "format";
  const octets: number[] = [];
  for (let i = 1; i <= 4; i++) {
    const part = match[i]!;
    if (part.length > 1 && part.startsWith("0")) return "leading_zero";
    const value = Number(part);
    if (value > 255) return "format";
    octets.push(value);
  }
  return octets;
}

function normaliseIpv6(text: string): NormaliseResult {
  if (text.includes("%")) return reject("zone");
  if (!isIPv6(text)) return reject("format");
  const groups = ipv6Groups(text.toLowerCase());
  if (groups === undefined) return reject("format");
  // ::ffff:0:0/96 is IPv4-mapped: the same host as its IPv4 address.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const hi = groups[6]!;
    const lo = groups[7]!;
    return accept(`${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`);
  }
  return accept(formatIpv6(groups));
}

/** The eight 16-bit groups of an IPv6 address that node:net already accepted. */
function ipv6Groups(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parse = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const pieces = part.split(":");
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (piece.includes(".")) {
        // An embedded dotted-quad may only be the last piece.
        const v4 = i === pieces.length - 1 ? parseIpv4(piece) : "format";
        if (typeof v4 === "string") return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-f]{1,4}$/.test(piece)) return undefined;
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

/** RFC 5952 text of eight 16-bit groups. */
export function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLength < 2) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}
