import { purgeAppRequest } from "@hearth/contracts";
import { queueAppPurge, recordEvent } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { ADMIN_ROLES, wakeBox } from "../../../../../lib/server/apps";
import { idParam } from "../../../../../lib/server/data-safety";

export const dynamic = "force-dynamic";

/**
 * DELETE /api/v1/uninstalled-apps/:id {confirm} → 202 {taskId}: delete now. `confirm` must
 * be the app's address (e.g. `wiki.example.com`); box deletes its volume, databases and
 * Redis data in an `app.purge` task. 400 wrong address, 404 unknown, 409 busy.
 */
export const DELETE = route({ roles: ADMIN_ROLES, body: purgeAppRequest }, async ({ app, params, principal, ip, body }) => {
  const id = idParam(params, "uninstalled app");
  const { task, app: u } = await queueAppPurge(app.db, id, body.confirm, principal.user.id);
  await recordEvent(app.db, {
    action: "app.purge",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: id,
    data: { appId: id, taskId: task.id, manifestId: u.manifestId, subdomain: u.subdomain, domain: u.domain },
  });
  await wakeBox(app);
  return json({ taskId: task.id }, 202);
});
