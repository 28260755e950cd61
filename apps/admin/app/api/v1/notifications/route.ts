import { notificationsQuery } from "@hearth/contracts";
import { listNotifications, notificationCounts } from "@hearth/db";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { notificationViewOf } from "../../../../lib/views";
import { ADMIN_ROLES } from "../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/notifications[?state=open|closed|all] → { notifications, open, unread }: what
 * admins should act on, one per kind + cause with its subjects as items (box raises and
 * closes them), newest raised first, at most 100; `unread` is for the caller. Open ones
 * unless `state` (or the older `all=1`) says otherwise.
 */
export const GET = route({ roles: ADMIN_ROLES, query: notificationsQuery }, async ({ app, query, principal }) => {
  const state = query.state ?? (query.all === "1" ? "all" : "open");
  const [rows, counts] = await Promise.all([listNotifications(app.db, { state, userId: principal.user.id, limit: 100 }), notificationCounts(app.db, principal.user.id)]);
  return json({ notifications: rows.map(notificationViewOf), ...counts });
});
