import { EMAIL_NOTIFICATION_KINDS, notificationPreferencesRequest, type NotificationPreferencesView } from "@hearth/contracts";
import { getEmailKinds, recordEvent, setEmailKinds } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/** GET /api/v1/profile/notifications → { emailKinds, chosen }: which notification kinds the caller gets by email (never chosen: every kind). */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app, principal }) => {
  const kinds = await getEmailKinds(app.db, principal.user.id);
  return json({ emailKinds: (kinds ?? [...EMAIL_NOTIFICATION_KINDS]) as NotificationPreferencesView["emailKinds"], chosen: kinds !== null } satisfies NotificationPreferencesView);
});

/** PUT { emailKinds } → 200 the GET shape; [] turns notification mail off for the caller. */
export const PUT = route({ roles: ADMIN_ROLES, body: notificationPreferencesRequest }, async ({ app, body, principal, ip }) => {
  const kinds = [...new Set(body.emailKinds)].sort();
  await setEmailKinds(app.db, principal.user.id, kinds);
  await recordEvent(app.db, {
    action: "user.notification_preferences",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: principal.user.username,
    data: { emailKinds: kinds },
  });
  return json({ emailKinds: kinds, chosen: true } satisfies NotificationPreferencesView);
});
