import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { ADMIN_ROLES, wakeBox } from "../../../../../lib/server/apps";
import { requestRenewal } from "../../../../../lib/server/certificates";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/certificates/renew (no body) → 202 { taskId }: renews every certificate that
 * is due (30 days or less left, or failed and past its retry time), as the twice-daily job
 * does. A renewal of all already pending or running is returned instead of a new one.
 */
export const POST = route({ roles: ADMIN_ROLES }, async ({ app, principal, ip }) => {
  const { task, queued } = await requestRenewal(app, null, { id: principal.user.id, username: principal.user.username, ip });
  if (queued) await wakeBox(app);
  return json({ taskId: task.id }, 202);
});
