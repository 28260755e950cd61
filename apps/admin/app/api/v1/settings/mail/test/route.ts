import { mailTestRequest } from "@hearth/contracts";
import { createTask, recordEvent } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { json } from "../../../../../../lib/http";
import { ADMIN_ROLES, wakeBox } from "../../../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/settings/mail/test { to } → 202 { taskId }: box sends a short message from
 * no-reply@<dashboard domain> to `to` through the outbound path as set now (task
 * `mail.test`; follow it with GET /tasks/:id and its log). The task ends succeeded with the
 * remote's answer as its message, or failed with it as its error.
 */
export const POST = route({ roles: ADMIN_ROLES, body: mailTestRequest }, async ({ app, body, principal, ip }) => {
  const task = await createTask(app.db, { type: "mail.test", args: { to: body.to }, createdBy: principal.user.id, maxAttempts: 1 });
  await recordEvent(app.db, {
    action: "mail.test",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: body.to,
    data: { to: body.to, taskId: task.id },
  });
  await wakeBox(app);
  return json({ taskId: task.id }, 202);
});
