import { deleteSession, recordEvent } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { noContent } from "../../../../../lib/http";
import { clearSessionCookie } from "../../../../../lib/tokens";

export const dynamic = "force-dynamic";

/** POST /api/v1/auth/logout → 204; the session row is deleted and the cookie cleared. */
export const POST = route({}, async ({ app, principal, ip }) => {
  if (principal.sessionId) await deleteSession(app.db, principal.sessionId);
  await recordEvent(app.db, { action: "user.logout", actorId: principal.user.id, actorName: principal.user.username, sourceIp: ip, target: principal.user.username });
  return noContent({ "set-cookie": clearSessionCookie({ secure: app.config.cookieSecure }) });
});
