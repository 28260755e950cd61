import { isIP } from "node:net";

/**
 * Server-only (node:net): imported as `@hearth/contracts/endpoints`, never from the index.
 *
 * The address rules for endpoints an admin supplies (DNS provider APIs and nameservers, the
 * ACME directory, the mail smarthost, registries, the notification webhook): they must not
 * point at this machine or its cloud's metadata service. Loopback, link-local (which holds
 * 169.254.169.254), "this network", the unspecified address and the known metadata
 * addresses are refused, unless the Setting `network.allowPrivateEndpoints` is true (tests
 * with local peers; a lab). Private LAN ranges (10/8, 192.168/16 …) are allowed: a
 * nameserver there is normal.
 *
 * admin applies them when an endpoint is saved (apps/admin/lib/endpoints.ts); box applies
 * them again to every address it is about to connect to (the notification webhook resolves
 * the name itself at send time and connects to the checked address), so a DNS record
 * changed after saving (or DNS rebinding) cannot point a request at loopback or metadata.
 */
export const ALLOW_PRIVATE_ENDPOINTS_KEY = "network.allowPrivateEndpoints";

/** The 8 16-bit groups of a valid IPv6 address (an embedded IPv4 tail is converted). */
function ipv6Groups(a: string): number[] {
  let s = a.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const [p, q, r, t] = v4[1]!.split(".").map(Number) as [number, number, number, number];
    s = s.slice(0, -v4[1]!.length) + `${((p << 8) | q).toString(16)}:${((r << 8) | t).toString(16)}`;
  }
  const [head, tail] = s.includes("::") ? (s.split("::") as [string, string]) : [s, null];
  const h = head ? head.split(":") : [];
  const t = tail === null ? [] : tail ? tail.split(":") : [];
  const fill = tail === null ? [] : Array<string>(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

/** Why `address` (an IP literal, brackets and zone allowed) is refused, or null when it is fine or not an address. */
export function forbiddenAddressReason(address: string): string | null {
  let a = address.trim().toLowerCase().replace(/%.*$/, "");
  if (a.startsWith("[") && a.endsWith("]")) a = a.slice(1, -1);
  const kind = isIP(a);
  if (kind === 6) {
    const g = ipv6Groups(a);
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

/** Why the host NAME itself is refused before any lookup (localhost and *.localhost), or null. */
export function forbiddenHostNameReason(host: string): string | null {
  const h = host.trim().toLowerCase().replace(/\.$/, "");
  return h === "localhost" || h.endsWith(".localhost") ? "a loopback name" : null;
}
