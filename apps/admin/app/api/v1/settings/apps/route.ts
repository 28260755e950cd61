import { appSettings } from "@hearth/contracts";
import { recordEvent, setSetting, UNINSTALL_RETENTION_KEY, uninstallRetentionDays } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/** GET /api/v1/settings/apps → { uninstallRetentionDays } (default 7): how long an uninstalled app's data is kept. */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => {
  return json({ uninstallRetentionDays: await uninstallRetentionDays(app.db) });
});

/** PUT /api/v1/settings/apps { uninstallRetentionDays: 0–3650 } → 200; applies to apps uninstalled from now on. */
export const PUT = route({ roles: ADMIN_ROLES, body: appSettings }, async ({ app, body, principal, ip }) => {
  await setSetting(app.db, UNINSTALL_RETENTION_KEY, body.uninstallRetentionDays);
  await recordEvent(app.db, { action: "settings.apps", actorId: principal.user.id, actorName: principal.user.username, sourceIp: ip, target: UNINSTALL_RETENTION_KEY, data: body });
  return json(body);
});
