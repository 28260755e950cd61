import { queueAppTask, recordEvent } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { ADMIN_ROLES, appViewById, wakeBox } from "../../../../../lib/server/apps";
import { appIdOf } from "../../../../../lib/server/app-ops";

export const dynamic = "force-dynamic";

/** GET /api/v1/apps/:id → AppView */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app, params }) => {
  return json(await appViewById(app, params.id ?? ""));
});

/**
 * DELETE /api/v1/apps/:id → 202 {taskId}: uninstall; pending_uninstall. The container, network,
 * vhost and DNS records go; the data (volume, databases, Redis) is kept for
 * apps.uninstallRetentionDays (default 7) under /api/v1/uninstalled-apps (restore / delete now).
 */
export const DELETE = route({ roles: ADMIN_ROLES }, async ({ app, params, principal, ip }) => {
  const id = appIdOf(params);
  const { app: row, task } = await queueAppTask(app.db, id, "app.uninstall", {}, principal.user.id);
  await recordEvent(app.db, {
    action: "app.uninstall",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: id,
    data: { appId: id, taskId: task.id, manifestId: row.manifestId, subdomain: row.subdomain, domain: row.domain },
  });
  await wakeBox(app);
  return json({ taskId: task.id }, 202);
});
