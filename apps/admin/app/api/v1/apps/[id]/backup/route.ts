import { queueAppBackup, recordEvent } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { json } from "../../../../../../lib/http";
import { ADMIN_ROLES, wakeBox } from "../../../../../../lib/server/apps";
import { appIdOf } from "../../../../../../lib/server/app-ops";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/apps/:id/backup → 202 { taskId, backupId }: a Backup row (`creating`) and the
 * task `backup.app`; the app keeps running. The row becomes `good` only after box read the
 * snapshot back from the site, else `failed` with the reason.
 */
export const POST = route({ roles: ADMIN_ROLES }, async ({ app, params, principal, ip }) => {
  const id = appIdOf(params);
  const { backup, task } = await queueAppBackup(app.db, id, principal.user.id);
  await recordEvent(app.db, {
    action: "backup.create",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: id,
    targetType: "app",
    data: { appId: id, backupId: backup.id, taskId: task.id },
  });
  await wakeBox(app);
  return json({ taskId: task.id, backupId: backup.id }, 202);
});
