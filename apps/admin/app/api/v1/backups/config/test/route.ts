import { queueBackupTest } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { json } from "../../../../../../lib/http";
import { ADMIN_ROLES, wakeBox } from "../../../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/backups/config/test → 202 { taskId }: box opens (or makes) the site's
 * repository with the passphrase and writes, reads and deletes a probe (task `backup.test`;
 * it ends failed with the reason: wrong passphrase, folder not writable …).
 */
export const POST = route({ roles: ADMIN_ROLES }, async ({ app, principal }) => {
  const task = await queueBackupTest(app.db, principal.user.id);
  await wakeBox(app);
  return json({ taskId: task.id }, 202);
});
