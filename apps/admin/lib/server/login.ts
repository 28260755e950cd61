import { eventTimes, sourceNetOf, findUserByLogin, lastLoginTime, loginFailureTimes, recordEvent, claimTotpStep, setLastLogin, type User } from "@hearth/db";
import { HearthError, type LoginRequest } from "@hearth/contracts";
import type { AdminContext } from "./context";
import { checkLoginThrottle, type ThrottleStore } from "../rate-limit";
import { verifyPassword } from "../passwords";
import { totpStep } from "../totp";
import { startSession } from "./auth";
import { openTotpSecret } from "./totp-enrol";

export function throttleStore(app: AdminContext): ThrottleStore {
  return {
    failures: (q) => loginFailureTimes(app.db, q),
    accountFailures: (q) => eventTimes(app.db, { action: "user.login_failed", target: q.target, since: q.since, limit: 64 }),
    lastSuccess: (q) => lastLoginTime(app.db, q),
  };
}

/**
 * Accepts a TOTP code for `userId` unless it is wrong or its time step was already used
 * (replay). The step is claimed with one conditional UPDATE (User.totpLastStep < step), so
 * two requests with the same code cannot both win.
 */
export async function acceptTotp(app: AdminContext, userId: string, secret: string, code: string, now: Date): Promise<boolean> {
  const step = totpStep(secret, code, now.getTime());
  if (step === null) return false;
  return claimTotpStep(app.db, userId, step);
}

/**
 * Password login. The throttle is checked before the password, so a locked-out caller with
 * the right password still gets 429. Unknown users cost one argon2 verification too.
 */
export async function login(app: AdminContext, req: LoginRequest, meta: { sourceIp: string; userAgent: string; now?: Date }): Promise<{ user: User; setCookie: string }> {
  const typed = req.username.trim().toLowerCase().slice(0, 255);
  // one throttle key per account, whether it is named by username or by email
  const found = await findUserByLogin(app.db, typed);
  const target = found ? found.username : typed;
  // Attempts from one network, and attempts on one account, run one at a time (check →
  // verify → record), so parallel requests cannot all pass the throttle before any failure
  // is recorded. Other networks on other accounts don't wait.
  const locks = [`hearth.login:${sourceNetOf(meta.sourceIp)}`, `hearth.login.account:${target}`];
  return app.locks.run(locks, { waitSeconds: 20 }, () => loginLocked(app, req, target, meta));
}

async function loginLocked(app: AdminContext, req: LoginRequest, target: string, meta: { sourceIp: string; userAgent: string; now?: Date }): Promise<{ user: User; setCookie: string }> {
  const now = meta.now ?? new Date();
  const user = await findUserByLogin(app.db, target);

  const decision = await checkLoginThrottle(throttleStore(app), { sourceIp: meta.sourceIp, username: target, now });
  if (!decision.allowed) {
    app.logger.warn({ sourceIp: meta.sourceIp, target, scope: decision.scope, retryAfterSeconds: decision.retryAfterSeconds }, "login throttled");
    throw new HearthError("rate_limited", `Too many failed logins; try again in ${decision.retryAfterSeconds} seconds`, {
      details: { retryAfterSeconds: decision.retryAfterSeconds },
      headers: { "Retry-After": String(decision.retryAfterSeconds) },
    });
  }

  const passwordOk = await verifyPassword(user?.passwordHash ?? null, req.password);
  const fail = async (reason: string) => recordEvent(app.db, { action: "user.login_failed", actorId: null, actorName: "", sourceIp: meta.sourceIp, target, data: { reason } });

  if (!user || !passwordOk || !user.active) {
    await fail(!user ? "unknown_user" : !user.active ? "disabled" : "password");
    throw new HearthError("unauthorized", "Wrong username or password");
  }

  if (user.totpSecret) {
    if (!req.totp) throw new HearthError("unauthorized", "Enter the code from your authenticator app", { details: { totpRequired: true } });
    if (!(await acceptTotp(app, user.id, openTotpSecret(app, user.totpSecret), req.totp, now))) {
      await fail("totp");
      throw new HearthError("unauthorized", "Wrong two-factor code", { details: { totpRequired: true } });
    }
  }

  const setCookie = await startSession(app, user, { sourceIp: meta.sourceIp, userAgent: meta.userAgent, now });
  await setLastLogin(app.db, user.id, now);
  await recordEvent(app.db, { action: "user.login", actorId: user.id, actorName: user.username, sourceIp: meta.sourceIp, target, data: { totp: user.totpSecret !== null } });
  return { user, setCookie };
}
