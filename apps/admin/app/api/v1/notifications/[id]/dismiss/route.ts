import { dismissNotification } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { json } from "../../../../../../lib/http";
import { notificationViewOf } from "../../../../../../lib/views";
import { ADMIN_ROLES } from "../../../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/** POST /api/v1/notifications/:id/dismiss → 200 the notification (dismissed); 404 when unknown. */
export const POST = route({ roles: ADMIN_ROLES }, async ({ app, params, principal }) => {
  const n = await dismissNotification(app.db, (params.id ?? "").slice(0, 64), principal.user.id);
  return json(notificationViewOf(n));
});
