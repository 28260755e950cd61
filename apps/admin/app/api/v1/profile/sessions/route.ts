import { deleteUserSessions, recordEvent } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { clearSessionCookie } from "../../../../../lib/tokens";

export const dynamic = "force-dynamic";

/**
 * DELETE /api/v1/profile/sessions: "log out everywhere". Ends every session of the caller,
 * this browser's too (its cookie is cleared) → 200 {ended}. API tokens are not sessions:
 * they stay until deleted (DELETE /api/v1/tokens/<id>).
 */
export const DELETE = route({}, async ({ app, principal, ip }) => {
  const ended = await deleteUserSessions(app.db, principal.user.id);
  await recordEvent(app.db, {
    action: "user.logout_everywhere",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: principal.user.username,
    data: { ended, via: principal.via },
  });
  const headers: Record<string, string> = principal.via === "session" ? { "set-cookie": clearSessionCookie({ secure: app.config.cookieSecure }) } : {};
  return json({ ended }, 200, headers);
});
