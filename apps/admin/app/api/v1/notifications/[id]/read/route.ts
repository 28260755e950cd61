import { markNotificationRead } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { json } from "../../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/** POST /api/v1/notifications/:id/read → 200 { ok: true }; read for the calling admin only; 404 when unknown. */
export const POST = route({ roles: ADMIN_ROLES }, async ({ app, params, principal }) => {
  await markNotificationRead(app.db, (params.id ?? "").slice(0, 64), principal.user.id);
  return json({ ok: true });
});
