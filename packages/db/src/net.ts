import { isIPv4, isIPv6 } from "node:net";

/**
 * The network a client address stands for when counting abuse (login throttle, setup code
 * attempts): an IPv4 address as is, an IPv6 address by its /64 (one subscriber usually
 * holds a whole /64, so counting single IPv6 addresses would let one attacker rotate
 * through 2^64 of them). IPv4-mapped IPv6 addresses count as their IPv4 address.
 *   "2001:db8:0:1:aaaa::5" → "2001:db8:0:1::/64"
 */
export function sourceNetOf(ip: string): string {
  const a = ip.trim();
  if (isIPv4(a)) return a;
  const unzoned = a.replace(/%.*$/, "");
  if (!isIPv6(unzoned)) return a.slice(0, 45);
  const mapped = /^(?:0{0,4}:){0,5}ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(unzoned.replace(/^::/, "0:"));
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  const groups = expandIPv6(unzoned);
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(":")}::/64`;
}

/** The 8 16-bit groups of a valid IPv6 address (an embedded IPv4 tail is converted). */
export function expandIPv6(a: string): number[] {
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
