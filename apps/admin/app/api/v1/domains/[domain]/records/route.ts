import { HearthError } from "@hearth/contracts";
import { getDomain } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { json } from "../../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../../lib/server/apps";
import { domainParam, domainRecords } from "../../../../../../lib/server/domains";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/domains/:domain/records → { domain, provider, managed, addresses: { ipv4,
 * ipv6, source: "settings" | "detected" }, records: [{ name, type: "A" | "AAAA", value,
 * managed }] }; 404 when unknown.
 *
 * The records that must point at this server: my.<domain> when it serves the dashboard, then
 * each app's name, aliases and redirects on it (names fully qualified). Provider manual: the
 * admin creates them; wildcard: the one `*.<domain>` record (and `<domain>` when an app uses
 * the bare domain); API providers: Hearth manages them (managed: true); noop: shown for
 * reference, nothing is checked. Addresses come from PUT /api/v1/settings/network, else are
 * detected (lib/server/public-ip.ts); a family without an address has no records.
 */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app, params }) => {
  const name = domainParam(params);
  const row = await getDomain(app.db, name);
  if (!row) throw new HearthError("not_found", `No domain ${name}`);
  return json(await domainRecords(app, row));
});
