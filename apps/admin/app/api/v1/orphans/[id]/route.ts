import { deleteOrphanRequest } from "@hearth/contracts";
import { queueOrphanDelete, recordEvent } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { ADMIN_ROLES, wakeBox } from "../../../../../lib/server/apps";
import { idParam } from "../../../../../lib/server/data-safety";

export const dynamic = "force-dynamic";

/**
 * DELETE /api/v1/orphans/:id {confirm} → 202 {taskId}: `confirm` must be the orphan's name;
 * box deletes it in an `orphan.delete` task (after checking once more that no app claims
 * it). 400 wrong name, 404 unknown, 409 already being deleted.
 */
export const DELETE = route({ roles: ADMIN_ROLES, body: deleteOrphanRequest }, async ({ app, params, principal, ip, body }) => {
  const id = idParam(params, "orphan");
  const { orphan, task } = await queueOrphanDelete(app.db, id, body.confirm, principal.user.id);
  await recordEvent(app.db, {
    action: "orphan.delete",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: orphan.name,
    data: { orphanId: orphan.id, kind: orphan.kind, name: orphan.name, appId: orphan.appId, taskId: task.id },
  });
  await wakeBox(app);
  return json({ taskId: task.id }, 202);
});
