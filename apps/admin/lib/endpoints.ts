import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { HearthError } from "@hearth/contracts";
import { expandIPv6 } from "@hearth/db";

/**
 * Admin-supplied endpoints (DNS provider APIs and nameservers, the ACME directory, the mail
 * smarthost, registries) must not point at this machine or its cloud's metadata service:
 * loopback, link-local (which holds 169.254.169.254), "this network" and the known metadata
 * addresses are refused, for IP literals and for every address a name resolves to, unless
 * the Setting `network.allowPrivateEndpoints` is true (tests with local peers; a lab).
 * Private LAN ranges (10/8, 192.168/16 …) are allowed: a nameserver there is normal.
 *
 * What this cannot see: a name that resolves elsewhere now and to a forbidden address later
 * (DNS rebinding); box connects without re-checking.
 */
export const ALLOW_PRIVATE_ENDPOINTS_KEY = "network.allowPrivateEndpoints";

/** Why `address` is refused, or null when it is fine. */
export function forbiddenAddressReason(address: string): string | null {
  let a = address.trim().toLowerCase().replace(/%.*$/, "");
  if (a.startsWith("[") && a.endsWith("]")) a = a.slice(1, -1);
  const kind = isIP(a);
  if (kind === 6) {
    const g = expandIPv6(a);
    // IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses: judge the IPv4 one
    if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || (g[5] === 0 && g[6] !== 0))) {
      return forbiddenAddressReason(`${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`);
    }
    if (g.every((x) => x === 0)) return "the unspecified address";
    if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "a loopback address";
    if ((g[0]! & 0xffc0) === 0xfe80) return "a link-local address";
    if (g[0] === 0xfd00 && g[1] === 0x0ec2) return "a cloud metadata address";
    return null;
  }
  if (kind === 4) {
    const [p, q, r, s] = a.split(".").map(Number) as [number, number, number, number];
    if (p === 127) return "a loopback address";
    if (p === 0) return "a 'this network' address";
    if (p === 169 && q === 254) return r === 169 && s === 254 ? "the cloud metadata address" : "a link-local address";
    if (p === 100 && q === 100 && r === 100 && s === 200) return "a cloud metadata address";
    if (p === 168 && q === 63 && r === 129 && s === 16) return "a cloud metadata address";
    return null;
  }
  return null;
}

export type Resolver = (host: string) => Promise<string[]>;
export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((r) => r.address);

/**
 * Refuses `host` (a name or an address) with 400 naming `field` when it is, or resolves to,
 * a forbidden address. A name that does not resolve is let through (nothing can be reached
 * there now; the provider's own error will say so).
 */
export async function checkEndpointHost(host: string, field: readonly (string | number)[], resolve: Resolver = systemResolver): Promise<void> {
  const h = host
    .trim()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
  const refuse = (why: string, address?: string) => {
    const message = `${h} ${address ? `resolves to ${address}, ` : "is "}${why}: endpoints on this machine or its cloud's metadata service are not allowed (Setting ${ALLOW_PRIVATE_ENDPOINTS_KEY} allows them)`;
    return new HearthError("invalid", message, { details: [{ path: [...field], code: "custom", message }] });
  };
  if (h.toLowerCase() === "localhost" || h.toLowerCase().endsWith(".localhost")) throw refuse("a loopback name");
  if (isIP(h)) {
    const why = forbiddenAddressReason(h);
    if (why) throw refuse(why);
    return;
  }
  let addresses: string[];
  try {
    addresses = await resolve(h);
  } catch {
    return;
  }
  for (const address of addresses) {
    const why = forbiddenAddressReason(address);
    if (why) throw refuse(why, address);
  }
}

/** The host of an http(s) URL (brackets removed), for checkEndpointHost. */
export function hostOfUrl(url: string): string {
  return new URL(url).hostname.replace(/^\[|\]$/g, "");
}
