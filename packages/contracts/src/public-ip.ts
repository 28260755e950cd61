import { createSocket } from "node:dgram";
import { BlockList, isIPv4, isIPv6 } from "node:net";
import { networkInterfaces, type NetworkInterfaceInfo } from "node:os";

/** RFC 5952 text of an IPv6 address (WHATWG URL serializes IPv6 hosts that way). */
function canonicalIPv6(v: string): string {
  return new URL(`http://[${v}]/`).hostname.slice(1, -1);
}

/**
 * Server-only (node:os, node:dgram): imported as `@hearth/contracts/public-ip`, never from
 * the index, so browser bundles do not pull it in. admin (the records it shows) and box (the
 * records it writes) must agree on the address, hence one module.
 *
 * The server's public address, from its own interfaces: there is no "what is my IP" web
 * service to ask (and an offline or firewalled box must still work). The admin can always
 * set the address instead; this is only the default.
 */

// Addresses that are not globally reachable (IANA special-purpose registries, RFC 6890).
const NOT_GLOBAL = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24], // documentation (TEST-NET-1)
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  NOT_GLOBAL.addSubnet(net, prefix, "ipv4");
}
const GLOBAL_V6 = new BlockList();
GLOBAL_V6.addSubnet("2000::", 3, "ipv6");
const NOT_GLOBAL_V6 = new BlockList();
for (const [net, prefix] of [
  ["2001::", 32], // Teredo
  ["2001:db8::", 32], // documentation
  ["2002::", 16], // 6to4
] as const) {
  NOT_GLOBAL_V6.addSubnet(net, prefix, "ipv6");
}

/** True for a globally routable unicast address (not private, loopback, link-local, documentation…). */
export function isPublicAddress(ip: string): boolean {
  if (isIPv4(ip)) return !NOT_GLOBAL.check(ip, "ipv4");
  if (isIPv6(ip)) return GLOBAL_V6.check(ip, "ipv6") && !NOT_GLOBAL_V6.check(ip, "ipv6");
  return false;
}

export interface PublicIps {
  ipv4?: string;
  ipv6?: string;
}

/** The first public IPv4 and IPv6 address of the given interfaces (`os.networkInterfaces()` shape). */
export function pickPublicIps(interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): PublicIps {
  const out: PublicIps = {};
  for (const list of Object.values(interfaces)) {
    for (const i of list ?? []) {
      if (i.internal) continue;
      if (i.family === "IPv4" && !out.ipv4 && isPublicAddress(i.address)) out.ipv4 = i.address;
      // scopeid 0: a global-scope address (link-local ones carry their interface index)
      if (i.family === "IPv6" && !out.ipv6 && (i.scopeid ?? 0) === 0 && isPublicAddress(i.address)) out.ipv6 = canonicalIPv6(i.address);
    }
  }
  return out;
}

/**
 * The source address the kernel would use for traffic to the internet (the default
 * route's), found by connecting a UDP socket: connect() on UDP only picks a route, it sends
 * nothing. Undefined when there is no such route.
 */
export function defaultRouteSource(family: 4 | 6): Promise<string | undefined> {
  // Any address outside local networks selects the default route; no packet is sent to it.
  const target = family === 4 ? "8.8.8.8" : "2001:4860:4860::8888";
  return new Promise((resolve) => {
    const sock = createSocket(family === 4 ? "udp4" : "udp6");
    const done = (v: string | undefined) => {
      try {
        sock.close();
      } catch {
        /* already closed */
      }
      resolve(v);
    };
    sock.on("error", () => done(undefined));
    try {
      sock.connect(53, target, () => {
        try {
          const a = sock.address().address;
          done(a && a !== "0.0.0.0" && a !== "::" ? (family === 6 ? canonicalIPv6(a) : a) : undefined);
        } catch {
          done(undefined);
        }
      });
    } catch {
      done(undefined);
    }
  });
}

/**
 * The server's public IPv4 and IPv6: the first global-scope, non-private address of its
 * interfaces; for a family with none (a server behind NAT), the default route's source
 * address, which may be private: the admin should then set the public address by hand.
 */
export async function detectPublicIp(): Promise<PublicIps & { source: { ipv4?: "interface" | "default-route"; ipv6?: "interface" | "default-route" } }> {
  const found = pickPublicIps(networkInterfaces());
  const source: { ipv4?: "interface" | "default-route"; ipv6?: "interface" | "default-route" } = {};
  if (found.ipv4) source.ipv4 = "interface";
  else {
    found.ipv4 = await defaultRouteSource(4);
    if (found.ipv4) source.ipv4 = "default-route";
  }
  if (found.ipv6) source.ipv6 = "interface";
  else {
    const v6 = await defaultRouteSource(6);
    // a link-local or loopback source is no use to anyone outside
    if (v6 && !v6.startsWith("fe80") && v6 !== "::1") {
      found.ipv6 = v6;
      source.ipv6 = "default-route";
    }
  }
  if (!found.ipv4) delete found.ipv4;
  if (!found.ipv6) delete found.ipv6;
  return { ...found, source };
}
