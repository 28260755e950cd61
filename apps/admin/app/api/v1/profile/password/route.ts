import { changePasswordRequest, HearthError } from "@hearth/contracts";
import { changePassword, eventTimes, recordEvent } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { hashPassword, verifyPassword } from "../../../../../lib/passwords";
import { waitMs } from "../../../../../lib/rate-limit";

export const dynamic = "force-dynamic";

/** Wrong current passwords per user before 429 (a stolen session must not become a password oracle). */
const FAILURES = { limit: 5, windowMs: 15 * 60_000 };

/**
 * POST /api/v1/profile/password {currentPassword, newPassword} → 200 {endedSessions}: sets
 * the new password and ends every other session of the user (this one stays). Browser
 * sessions only; a wrong current password is 403, five of them in 15 minutes 429.
 */
export const POST = route({ sessionOnly: true, body: changePasswordRequest }, async ({ app, principal, body, ip }) => {
  const user = principal.user;
  return app.locks.run(`hearth.password:${user.id}`, { waitSeconds: 20 }, async () => {
    const now = new Date();
    const failures = await eventTimes(app.db, { action: "user.password_failed", target: user.username, since: new Date(now.getTime() - FAILURES.windowMs), limit: FAILURES.limit });
    const wait = waitMs(failures, FAILURES.limit, FAILURES.windowMs, now);
    if (wait > 0) {
      const s = Math.max(1, Math.ceil(wait / 1000));
      throw new HearthError("rate_limited", `Too many wrong passwords; try again in ${s} seconds`, { details: { retryAfterSeconds: s }, headers: { "Retry-After": String(s) } });
    }
    if (!(await verifyPassword(user.passwordHash, body.currentPassword))) {
      await recordEvent(app.db, { action: "user.password_failed", actorId: user.id, actorName: user.username, sourceIp: ip, target: user.username });
      throw new HearthError("forbidden", "The current password is wrong", { details: [{ path: ["currentPassword"], code: "custom", message: "wrong password" }] });
    }
    const ended = await changePassword(app.db, user.id, await hashPassword(body.newPassword), principal.sessionId);
    await recordEvent(app.db, { action: "user.password_change", actorId: user.id, actorName: user.username, sourceIp: ip, target: user.username, data: { endedSessions: ended } });
    return json({ endedSessions: ended });
  });
});
