import { markAllNotificationsRead } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/** POST /api/v1/notifications/read-all → 200 { marked }: every open notification read for the calling admin. */
export const POST = route({ roles: ADMIN_ROLES }, async ({ app, principal }) => {
  return json({ marked: await markAllNotificationsRead(app.db, principal.user.id) });
});
