import { RETENTION_SETTINGS_KEY, retentionSettingsUpdate } from "@hearth/contracts";
import { readRetention, recordEvent, saveRetention } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/settings/retention → { eventDays, taskDays, keepTasksPerApp } (defaults 90, 30,
 * 50): how long box's daily housekeeping keeps events and finished tasks (with their logs),
 * and how many of each app's newest tasks it always keeps.
 */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => {
  return json(await readRetention(app.db));
});

/**
 * PUT /api/v1/settings/retention { eventDays?: 1–3650, taskDays?: 1–3650, keepTasksPerApp?:
 * 0–10000 } (at least one) → 200 with the whole setting; the next daily purge applies it.
 */
export const PUT = route({ roles: ADMIN_ROLES, body: retentionSettingsUpdate }, async ({ app, body, principal, ip }) => {
  const saved = await saveRetention(app.db, body);
  await recordEvent(app.db, { action: "settings.retention", actorId: principal.user.id, actorName: principal.user.username, sourceIp: ip, target: RETENTION_SETTINGS_KEY, data: saved });
  return json(saved);
});
