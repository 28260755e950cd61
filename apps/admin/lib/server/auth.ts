import { createSession, deleteSession, findApiToken, findSession, touchApiToken, touchSession, type User } from "@hearth/db";
import { HearthError } from "@hearth/contracts";
import type { AdminContext } from "./context";
import { SESSION_MAX_AGE_MS, SESSION_REFRESH_MS, sessionCookieName, sessionExpiry, bearerOf, cookieValue, hashesEqual, newSessionSecret, parseToken, sessionCookie, sha256Hex } from "../tokens";
import { tokenScopeToWire } from "../views";

/** Who is calling: a user through a session cookie or through an API token. */
export interface Principal {
  user: User;
  via: "session" | "token";
  sessionId?: string;
  token?: { id: string; scope: "read" | "read-write"; expiresAt: Date | null };
}

export interface AuthOutcome {
  principal: Principal | null;
  /** Set-Cookie to send back (a sliding session was extended). */
  setCookie?: string;
}

const SESSION_VALUE_RE = /^[A-Za-z0-9_-]{43}$/;
const TOKEN_TOUCH_MS = 60_000;

/**
 * Authenticates by `Authorization: Bearer hth_…` (wins when present) or the session cookie.
 * A malformed, unknown, expired or revoked bearer token is a 401 even on routes where auth
 * is optional; a bad cookie is simply "not logged in".
 */
export async function authenticate(app: AdminContext, headers: Headers, now: Date = new Date()): Promise<AuthOutcome> {
  const authz = headers.get("authorization");
  if (authz !== null) {
    const bearer = bearerOf(authz);
    const parsed = bearer ? parseToken(bearer) : null;
    if (!parsed) throw new HearthError("unauthorized", "Invalid API token");
    const t = await findApiToken(app.db, parsed.id);
    if (!t || !hashesEqual(t.secretHash, sha256Hex(parsed.secret))) throw new HearthError("unauthorized", "Invalid API token");
    if (t.expiresAt && t.expiresAt.getTime() <= now.getTime()) throw new HearthError("unauthorized", "API token expired");
    if (!t.user.active) throw new HearthError("unauthorized", "Account disabled");
    if (!t.lastUsedAt || now.getTime() - t.lastUsedAt.getTime() > TOKEN_TOUCH_MS) await touchApiToken(app.db, t.id, now);
    return { principal: { user: t.user, via: "token", token: { id: t.id, scope: tokenScopeToWire(t.scope), expiresAt: t.expiresAt } } };
  }

  const value = cookieValue(headers.get("cookie"), sessionCookieName(app.config.cookieSecure));
  if (!value || !SESSION_VALUE_RE.test(value)) return { principal: null };
  const id = sha256Hex(value);
  const s = await findSession(app.db, id);
  if (!s) return { principal: null };
  if (isOver(s, now)) {
    await deleteSession(app.db, id);
    return { principal: null };
  }
  if (!s.user.active) return { principal: null };
  const principal: Principal = { user: s.user, via: "session", sessionId: id };
  // sliding expiry: extend (and re-send the cookie) at most once per SESSION_REFRESH_MS
  if (now.getTime() - s.lastSeenAt.getTime() >= SESSION_REFRESH_MS) {
    const expiresAt = sessionExpiry(s.createdAt, now);
    await touchSession(app.db, id, now, expiresAt);
    return { principal, setCookie: sessionCookie(value, { secure: app.config.cookieSecure, expiresAt, now }) };
  }
  return { principal };
}

/** Idle too long, or older than the absolute lifetime (30 days) however much it was used. */
function isOver(s: { expiresAt: Date; createdAt: Date }, now: Date): boolean {
  return s.expiresAt.getTime() <= now.getTime() || now.getTime() - s.createdAt.getTime() >= SESSION_MAX_AGE_MS;
}

/** Session for the server-rendered pages' guards (cookies() value); no sliding there. */
export async function userFromSessionValue(app: AdminContext, value: string | undefined, now: Date = new Date()): Promise<User | null> {
  if (!value || !SESSION_VALUE_RE.test(value)) return null;
  const s = await findSession(app.db, sha256Hex(value));
  if (!s || isOver(s, now) || !s.user.active) return null;
  return s.user;
}

/** Starts a session for `user`; returns the Set-Cookie header value. */
export async function startSession(app: AdminContext, user: { id: string }, meta: { sourceIp: string; userAgent: string; now?: Date }): Promise<string> {
  const now = meta.now ?? new Date();
  const { value, id } = newSessionSecret();
  const expiresAt = sessionExpiry(now, now);
  await createSession(app.db, { id, userId: user.id, expiresAt, sourceIp: meta.sourceIp, userAgent: meta.userAgent });
  return sessionCookie(value, { secure: app.config.cookieSecure, expiresAt, now });
}
