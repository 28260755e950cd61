import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { HearthError } from "@hearth/contracts";
import { ALLOW_PRIVATE_ENDPOINTS_KEY, forbiddenAddressReason, forbiddenHostNameReason } from "@hearth/contracts/endpoints";

/**
 * Admin-supplied endpoints (DNS provider APIs and nameservers, the ACME directory, the mail
 * smarthost, registries, the notification webhook) must not point at this machine or its
 * cloud's metadata service. The address rules are shared with box
 * (`@hearth/contracts/endpoints`): loopback, link-local (which holds 169.254.169.254),
 * "this network" and the known metadata addresses are refused, for IP literals and for every
 * address a name resolves to, unless the Setting `network.allowPrivateEndpoints` is true
 * (tests with local peers; a lab). Private LAN ranges (10/8, 192.168/16 …) are allowed.
 *
 * This is the check at save time. A name that resolves elsewhere now and to a forbidden
 * address later (DNS rebinding) is caught where box connects and re-checks: the
 * notification webhook (apps/box/src/notifications/webhook.ts) resolves the name itself and
 * connects only to a checked address.
 */
export { ALLOW_PRIVATE_ENDPOINTS_KEY, forbiddenAddressReason };

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
  const nameWhy = forbiddenHostNameReason(h);
  if (nameWhy) throw refuse(nameWhy);
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
