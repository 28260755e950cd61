import { HearthError } from "@hearth/contracts";
import { validateHostname } from "../proxy/vhost";

/**
 * Certificate names: validation, the on-disk slug, the lock key, and the wildcard rules of
 * RFC 6125 §6.4.3 as browsers apply them (`*` is a whole left-most label and matches exactly
 * one label: `*.a.b` covers `x.a.b`, not `a.b` nor `x.y.a.b`).
 */

export const WILDCARD_PREFIX = "*.";

export function isWildcard(name: string): boolean {
  return name.startsWith(WILDCARD_PREFIX);
}

/**
 * Lower-cased, trailing dot dropped, validated (wildcards only as a whole first label),
 * duplicates removed, order kept: the first name is the primary one (the subject CN and
 * the slug). Throws HearthError `invalid`.
 */
export function normalizeNames(names: readonly string[]): string[] {
  if (!Array.isArray(names) || names.length === 0) throw new HearthError("invalid", "a certificate needs at least one name");
  // Let's Encrypt's limit; other CAs are stricter, none is looser
  if (names.length > 100) throw new HearthError("invalid", `a certificate holds at most 100 names (got ${names.length})`);
  const out: string[] = [];
  for (const raw of names) {
    if (typeof raw !== "string") throw new HearthError("invalid", "certificate names must be strings");
    const name = validateHostname(raw.replace(/\.$/, ""), { wildcard: true });
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

/** The in-process lock key: the same set of names in any order is one order at a time. */
export function namesKey(names: readonly string[]): string {
  return [...names].sort().join(",");
}

/**
 * The directory name of a certificate under the cert dir: its primary name, with a leading
 * `*.` spelled `_wildcard.` (`_` is not valid in a hostname, so no real name collides).
 * Single-label names are refused by normalizeNames, so `account` (the account keys'
 * directory) can never be a slug.
 */
export function certificateSlug(names: readonly string[]): string {
  const primary = normalizeNames(names)[0]!;
  return isWildcard(primary) ? `_wildcard.${primary.slice(WILDCARD_PREFIX.length)}` : primary;
}

/** Whether a certificate name (possibly `*.x`) covers a host name (possibly `*.x` itself). */
export function nameCovers(certName: string, host: string): boolean {
  const c = certName.toLowerCase().replace(/\.$/, "");
  const h = host.toLowerCase().replace(/\.$/, "");
  if (c === h) return true;
  if (!isWildcard(c) || isWildcard(h)) return false;
  const base = c.slice(WILDCARD_PREFIX.length);
  const dot = h.indexOf(".");
  // exactly one label in place of the `*`
  return dot > 0 && h.slice(dot + 1) === base;
}

/** The names of `expected` that none of `certNames` covers. */
export function uncoveredNames(certNames: readonly string[], expected: readonly string[]): string[] {
  return expected.filter((host) => !certNames.some((c) => nameCovers(c, host)));
}
