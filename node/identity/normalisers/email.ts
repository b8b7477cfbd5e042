/**
 * Email addresses: trimmed and lower-cased whole (providers treat local parts case-insensitively
 * in practice); exactly one "@"; an internationalised domain is stored in its ASCII (punycode) form
 * so "例子.中国" and "xn--fsqu00a.xn--fiqs8s" are one domain. No provider-specific folding (dots,
 * "+tags"): that would merge addresses that are distinct elsewhere.
 */
import { domainToASCII } from "node:url";
import { accept, reject, type NormaliseResult } from "../errors.ts";

/** RFC 5321 limits: 64 characters of local part, 254 for the whole path. */
const MAX_LOCAL_CHARS = 64;
const MAX_EMAIL_CHARS = 254;
/** Whitespace, controls, and characters RFC 5322 never allows unquoted; quoted local parts are refused. */
const LOCAL_FORBIDDEN = /[\s\p{C}"(),:;<>[\]\\]/u;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Normalises an email address to lower case with an ASCII domain. */
export function normaliseEmail(raw: string): NormaliseResult {
  const text = raw.normalize("NFKC").trim();
  if (text.length === 0) return reject("empty");
  if (text.length > MAX_EMAIL_CHARS) return reject("too_long");
  const at = text.indexOf("@");
  if (at < 0 || text.indexOf("@", at + 1) >= 0) return reject("at_sign");
  const local = text.slice(0, at).toLowerCase();
  const domainText = text.slice(at + 1);
  if (local.length === 0 || local.length > MAX_LOCAL_CHARS) return reject("format");
  if (LOCAL_FORBIDDEN.test(local) || local.startsWith(".") || local.endsWith(".") || local.includes("..")) return reject("characters");
  if (/\s/.test(domainText)) return reject("characters");
  // domainToASCII lower-cases, applies IDNA (UTS #46) mapping and returns "" for an invalid name.
  const domain = domainToASCII(domainText);
  if (domain.length === 0 || !domain.includes(".")) return reject("domain");
  const labels = domain.split(".");
  if (!labels.every((label) => LABEL.test(label))) return reject("domain");
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) return reject("domain"); // an IP literal is no mail domain here
  const email = `${local}@${domain}`;
  return email.length > MAX_EMAIL_CHARS ? reject("too_long") : accept(email);
}
