import { HearthError } from "@hearth/contracts";
import { recordEvent, removeRegistry } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { noContent } from "../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/** DELETE /api/v1/registries/:id → 204; 404 when unknown. */
export const DELETE = route({ roles: ADMIN_ROLES }, async ({ app, params, principal, ip }) => {
  const id = params.id ?? "";
  const r = id.length <= 36 ? await removeRegistry(app.db, id) : null;
  if (!r) throw new HearthError("not_found", "No such registry");
  await recordEvent(app.db, { action: "registry.remove", actorId: principal.user.id, actorName: principal.user.username, sourceIp: ip, target: r.server, data: { registryId: r.id } });
  return noContent();
});
