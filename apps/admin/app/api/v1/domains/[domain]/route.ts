import { HearthError, domainName } from "@hearth/contracts";
import { recordEvent, removeDomain } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { noContent } from "../../../../../lib/http";
import { ADMIN_ROLES, withPlacementLock } from "../../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/** DELETE /api/v1/domains/:domain → 204; 409 conflict while apps use it; 404 when unknown. */
export const DELETE = route({ roles: ADMIN_ROLES }, async ({ app, params, principal, ip }) => {
  const parsed = domainName.safeParse(decodeURIComponent(params.domain ?? ""));
  if (!parsed.success) throw new HearthError("not_found", "No such domain");
  const d = await withPlacementLock(app, () => removeDomain(app.db, parsed.data));
  await recordEvent(app.db, { action: "domain.remove", actorId: principal.user.id, actorName: principal.user.username, sourceIp: ip, target: d.domain });
  return noContent();
});
