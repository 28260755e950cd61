import { isIPv4, isIPv6 } from "node:net";
import { HearthError } from "@hearth/contracts";
import type { DnsRecordType } from "./provider.ts";

/**
 * Names, values and their canonical forms, shared by every provider so that they all
 * agree on what "the same record" means.
 */

export const RECORD_TYPES: readonly DnsRecordType[] = ["A", "AAAA", "TXT", "CNAME"];

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * An absolute name in Hearth's form: lower case, no trailing dot. A `*` is allowed as the
 * first label only (wildcard records). Throws `invalid` for anything else, so no caller can
 * smuggle a newline or a quote into an nsupdate script or a URL.
 */
export function normalizeName(name: string, what = "name"): string {
  if (typeof name !== "string") throw new HearthError("invalid", `${what} must be a string`);
  const n = name.trim().toLowerCase().replace(/\.$/, "");
  const labels = n.split(".");
  const ok = n.length > 0 && n.length <= 253 && labels.length >= 1 && labels.every((l, i) => (i === 0 && l === "*") || LABEL.test(l));
  if (!ok) throw new HearthError("invalid", `${what} "${name}" is not a valid DNS name`);
  return n;
}

/** The normalized name, which must be the zone itself or inside it. */
export function nameInZone(name: string, zone: string): string {
  const n = normalizeName(name);
  if (n !== zone && !n.endsWith(`.${zone}`)) {
    throw new HearthError("invalid", `${n} is not inside the zone ${zone}`);
  }
  return n;
}

/** The canonical text of an IPv6 address (RFC 5952: lower case, longest zero run compressed). */
export function canonicalIPv6(v: string): string {
  // WHATWG URL serializes IPv6 hosts exactly in RFC 5952 form.
  return new URL(`http://[${v}]/`).hostname.slice(1, -1);
}

/** Validates `values` for `type` and returns them canonical and de-duplicated (order kept). */
export function canonicalValues(type: DnsRecordType, values: readonly string[], name = ""): string[] {
  if (!RECORD_TYPES.includes(type)) throw new HearthError("invalid", `record type ${String(type)} is not supported`);
  if (!Array.isArray(values)) throw new HearthError("invalid", `values of ${name} ${type} must be a list`);
  const out: string[] = [];
  for (const raw of values) {
    if (typeof raw !== "string") throw new HearthError("invalid", `values of ${name} ${type} must be strings`);
    let v: string;
    switch (type) {
      case "A":
        v = raw.trim();
        if (!isIPv4(v)) throw new HearthError("invalid", `"${raw}" is not an IPv4 address (record ${name} A)`);
        break;
      case "AAAA":
        v = raw.trim();
        if (!isIPv6(v)) throw new HearthError("invalid", `"${raw}" is not an IPv6 address (record ${name} AAAA)`);
        v = canonicalIPv6(v);
        break;
      case "CNAME":
        v = normalizeName(raw, `CNAME target of ${name}`);
        break;
      case "TXT":
        v = raw;
        if (Buffer.byteLength(v, "utf8") > 4000) throw new HearthError("invalid", `TXT value for ${name} is longer than 4000 bytes`);
        break;
    }
    if (!out.includes(v)) out.push(v);
  }
  if (type === "CNAME" && out.length > 1) throw new HearthError("invalid", `a CNAME record (${name}) can have only one target`);
  return out;
}

/** Same values, in any order. Both lists must already be canonical. */
export function sameValues(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((v) => s.has(v));
}

export function validTtl(ttl: unknown, name: string): number {
  if (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 1 || ttl > 2_147_483_647) {
    throw new HearthError("invalid", `TTL of ${name} must be a whole number of seconds (1 or more)`);
  }
  return ttl;
}

/** `"a", "b"` for messages. TXT values are quoted so spaces stay visible. */
export function describeValues(values: readonly string[]): string {
  if (values.length === 0) return "nothing";
  return values.map((v) => JSON.stringify(v)).join(", ");
}
