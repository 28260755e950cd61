import { route } from "../../../../../../lib/server/route";
import { json } from "../../../../../../lib/http";
import { ADMIN_ROLES, wakeBox } from "../../../../../../lib/server/apps";
import { requestRenewal } from "../../../../../../lib/server/certificates";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/certificates/:id/renew (no body) → 202 { taskId }: renews this certificate now
 * even when it is not due; 404 for an unknown id. The same renewal still pending or running
 * is returned instead of a new one. Progress: GET /api/v1/tasks/:taskId.
 */
export const POST = route({ roles: ADMIN_ROLES }, async ({ app, params, principal, ip }) => {
  const { task, queued } = await requestRenewal(app, params.id ?? "", { id: principal.user.id, username: principal.user.username, ip });
  if (queued) await wakeBox(app);
  return json({ taskId: task.id }, 202);
});
