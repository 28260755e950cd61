import { addDomainRequest } from "@hearth/contracts";
import { addDomain, listDomains, recordEvent } from "@hearth/db";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { domainViewOf } from "../../../../lib/views";
import { ADMIN_ROLES, withPlacementLock } from "../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/** GET /api/v1/domains */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => {
  return json({ domains: (await listDomains(app.db)).map(domainViewOf) });
});

/** POST /api/v1/domains {domain, provider} → 201; 409 when it exists. The first one serves the dashboard at my.<domain>. */
export const POST = route({ roles: ADMIN_ROLES, body: addDomainRequest }, async ({ app, body, principal, ip }) => {
  const d = await withPlacementLock(app, () => addDomain(app.db, body));
  await recordEvent(app.db, {
    action: "domain.add",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: d.domain,
    data: { provider: d.provider, isDashboardDomain: d.isDashboardDomain },
  });
  return json(domainViewOf(d), 201);
});
