import { restoreBackupRequest } from "@hearth/contracts";
import { queueBackupRestore, recordEvent } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { json } from "../../../../../../lib/http";
import { ADMIN_ROLES, wakeBox } from "../../../../../../lib/server/apps";
import { appIdOf } from "../../../../../../lib/server/app-ops";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/apps/:id/restore { backupId } → 202 { taskId }: task `backup.restore`. box
 * reads and checks the whole snapshot first; only when it passes is the app stopped, its
 * data and addon contents replaced and the app started again. A failed check touches nothing.
 */
export const POST = route({ roles: ADMIN_ROLES, body: restoreBackupRequest }, async ({ app, params, body, principal, ip }) => {
  const id = appIdOf(params);
  const { task } = await queueBackupRestore(app.db, id, body.backupId, principal.user.id);
  await recordEvent(app.db, {
    action: "backup.restore",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: id,
    targetType: "app",
    data: { appId: id, backupId: body.backupId, taskId: task.id, requested: true },
  });
  await wakeBox(app);
  return json({ taskId: task.id }, 202);
});
