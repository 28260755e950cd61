import { HearthError } from "@hearth/contracts";
import { deleteSession, recordEvent } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { noContent } from "../../../../../lib/http";
import { clearSessionCookie } from "../../../../../lib/tokens";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/auth/logout → 204; the session row is deleted and the cookie cleared. An API
 * token is not a session: with one, 400 and nothing is written (a token is revoked with
 * DELETE /api/v1/tokens/<id>).
 */
export const POST = route({}, async ({ app, principal, ip }) => {
  if (principal.via !== "session" || !principal.sessionId) {
    throw new HearthError("invalid", "Logging out ends a browser session; an API token is not one. Revoke a token with DELETE /api/v1/tokens/<id>");
  }
  await deleteSession(app.db, principal.sessionId);
  await recordEvent(app.db, { action: "user.logout", actorId: principal.user.id, actorName: principal.user.username, sourceIp: ip, target: principal.user.username });
  return noContent({ "set-cookie": clearSessionCookie({ secure: app.config.cookieSecure }) });
});
