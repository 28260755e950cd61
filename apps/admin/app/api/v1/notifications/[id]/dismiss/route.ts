import { dismissNotification, recordEvent } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { json } from "../../../../../../lib/http";
import { notificationViewOf } from "../../../../../../lib/views";
import { ADMIN_ROLES } from "../../../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/notifications/:id/dismiss → 200 the notification (closed by this admin, for
 * everyone; recorded as `notification.dismiss`); 404 when unknown. While its cause persists
 * it stays closed; once the cause clears and comes back, a new notification opens.
 */
export const POST = route({ roles: ADMIN_ROLES }, async ({ app, params, principal, ip }) => {
  const before = await dismissNotification(app.db, (params.id ?? "").slice(0, 64), principal.user.id);
  const n = before.notification;
  if (before.dismissed) {
    await recordEvent(app.db, {
      action: "notification.dismiss",
      actorId: principal.user.id,
      actorName: principal.user.username,
      sourceIp: ip,
      target: n.id,
      targetName: n.title.slice(0, 255),
      data: { kind: n.kind, key: n.key },
    });
  }
  return json(notificationViewOf(n));
});
