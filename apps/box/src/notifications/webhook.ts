import { lookup as dnsLookup, Resolver } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { forbiddenAddressReason, forbiddenHostNameReason } from "@hearth/contracts/endpoints";

/**
 * The notification webhook's POST, pinned to a checked address.
 *
 * admin checks the URL's host when it is saved, but a DNS record can change afterwards (or
 * be rebound on purpose). So box resolves the name itself at send time, checks EVERY
 * address it resolves to with the same rules as admin (`@hearth/contracts/endpoints`:
 * loopback, link-local, "this network", cloud metadata), and connects to the checked
 * address through node:http(s)'s `lookup` option — the socket cannot go anywhere the check
 * did not see. TLS still verifies the certificate against the URL's name. Redirects are
 * never followed (node:http does not follow them), and one deadline covers the lookup,
 * the connection and the response.
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
/** Every address `host` resolves to now. */
export type HostResolver = (host: string) => Promise<ResolvedAddress[]>;

export const systemHostResolver: HostResolver = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((r) => ({ address: r.address, family: r.family === 6 ? 6 : 4 }));

/** Resolves through the given nameservers ("addr" or "addr:port") instead of the system's: A and AAAA records. */
export function resolverVia(servers: string[]): HostResolver {
  const r = new Resolver({ timeout: 2_000, tries: 1 });
  r.setServers(servers);
  return async (host) => {
    const [v4, v6] = await Promise.all([r.resolve4(host).catch(() => [] as string[]), r.resolve6(host).catch(() => [] as string[])]);
    return [...v4.map((address) => ({ address, family: 4 as const })), ...v6.map((address) => ({ address, family: 6 as const }))];
  };
}

/** A refusal of the target itself (not a network failure): the message says why. */
export class EndpointRefused extends Error {
  override name = "EndpointRefused";
}

/**
 * The address to connect to for `host`: an IP literal as is, a name resolved through
 * `resolve`. Throws EndpointRefused when the name or any address it resolves to is
 * forbidden (unless `allowPrivate`), or when it resolves to nothing.
 */
export async function checkedAddress(host: string, opts: { allowPrivate: boolean; resolve: HostResolver }): Promise<ResolvedAddress> {
  const h = host.replace(/^\[|\]$/g, "").replace(/\.$/, "");
  const refuse = (why: string, address?: string) =>
    new EndpointRefused(
      `${h} ${address && address !== h ? `resolves to ${address}, ` : "is "}${why}: not posted (endpoints on this machine or its cloud's metadata service are not allowed; Setting network.allowPrivateEndpoints allows them)`,
    );
  const literal = isIP(h);
  if (literal) {
    const why = opts.allowPrivate ? null : forbiddenAddressReason(h);
    if (why) throw refuse(why);
    return { address: h, family: literal === 6 ? 6 : 4 };
  }
  const nameWhy = opts.allowPrivate ? null : forbiddenHostNameReason(h);
  if (nameWhy) throw refuse(nameWhy);
  const addresses = await opts.resolve(h);
  if (addresses.length === 0) throw new EndpointRefused(`${h} does not resolve`);
  if (!opts.allowPrivate) {
    for (const a of addresses) {
      const why = forbiddenAddressReason(a.address);
      if (why) throw refuse(why, a.address);
    }
  }
  return addresses[0]!;
}

export interface PinnedPost {
  url: string;
  headers: Record<string, string>;
  body: string;
  allowPrivate: boolean;
  resolve?: HostResolver;
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * POSTs `body` to `url` connecting only to a checked address; resolves to the HTTP status
 * (a 3xx is returned as is, not followed). Throws EndpointRefused, an Error named
 * "TimeoutError" after `timeoutMs`, or the network error.
 */
export async function pinnedPost(p: PinnedPost): Promise<number> {
  const url = new URL(p.url);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new EndpointRefused(`${url.protocol} is not http or https`);
  const timeout = AbortSignal.timeout(p.timeoutMs);
  const signal = p.signal ? AbortSignal.any([p.signal, timeout]) : timeout;
  const aborted = () => (timeout.aborted ? Object.assign(new Error("timed out"), { name: "TimeoutError" }) : new Error("cancelled: box is stopping"));
  const racing = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(aborted());
    signal.addEventListener("abort", () => reject(aborted()), { once: true });
  });
  racing.catch(() => {});
  const target = await Promise.race([checkedAddress(url.hostname, { allowPrivate: p.allowPrivate, resolve: p.resolve ?? systemHostResolver }), racing]);
  // the one address checked above, whatever the name resolves to by now
  const lookup: LookupFunction = (_host, options, cb) => {
    if (options.all) cb(null, [target]);
    else cb(null, target.address, target.family);
  };
  const mod = url.protocol === "https:" ? https : http;
  return await Promise.race([
    racing,
    new Promise<number>((resolve, reject) => {
      const req = mod.request(url, { method: "POST", headers: { ...p.headers, "content-length": String(Buffer.byteLength(p.body)) }, lookup, signal, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", (e) => reject(e));
      req.end(p.body);
    }),
  ]);
}
