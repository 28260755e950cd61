import { getSetting } from "@hearth/db";
import type { AdminContext } from "./context";
import { ALLOW_PRIVATE_ENDPOINTS_KEY, checkEndpointHost, hostOfUrl, type Resolver } from "../endpoints";

/**
 * Refuses an admin-supplied endpoint (400 naming `field`) on loopback, link-local or cloud
 * metadata addresses (lib/endpoints.ts), unless the Setting network.allowPrivateEndpoints
 * is true. `target` is a host ("smtp.example.com", "[::1]") or, with `url: true`, an
 * http(s) URL.
 */
export async function guardEndpoint(app: AdminContext, target: string, field: readonly (string | number)[], opts: { url?: boolean; resolve?: Resolver } = {}): Promise<void> {
  if ((await getSetting<unknown>(app.db, ALLOW_PRIVATE_ENDPOINTS_KEY)) === true) return;
  const host = opts.url ? hostOfUrl(target) : target;
  await checkEndpointHost(host, field, opts.resolve);
}
