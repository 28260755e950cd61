import { notificationsQuery } from "@hearth/contracts";
import { listNotifications } from "@hearth/db";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { notificationViewOf } from "../../../../lib/views";
import { ADMIN_ROLES } from "../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/notifications[?all=1] → { notifications: NotificationView[] }: what admins
 * should act on (box raises them, e.g. a certificate that cannot be renewed), open ones
 * only unless `all=1`; newest first, at most 50.
 */
export const GET = route({ roles: ADMIN_ROLES, query: notificationsQuery }, async ({ app, query }) => {
  const rows = await listNotifications(app.db, { includeDismissed: query.all === "1" });
  return json({ notifications: rows.map(notificationViewOf) });
});
