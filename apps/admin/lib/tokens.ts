import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { HearthError } from "@hearth/contracts";

/**
 * Secrets that travel: API tokens `hth_<id>_<secret>` and session cookie values. Both are
 * 256-bit random, stored only as sha256 hex (a fast hash is enough for that much entropy).
 */
export const TOKEN_PREFIX = "hth_";
const TOKEN_RE = /^hth_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export function sha256Hex(s: string): string {
  return createHash("sha256").update(s, "utf8").digest("hex");
}

export function randomSecret(): string {
  return randomBytes(32).toString("base64url");
}

export interface NewToken {
  id: string;
  secret: string;
  /** what the user copies: hth_<id>_<secret> */
  token: string;
  secretHash: string;
}

export function newApiToken(): NewToken {
  const id = randomUUID();
  const secret = randomSecret();
  return { id, secret, token: formatToken(id, secret), secretHash: sha256Hex(secret) };
}

export function formatToken(id: string, secret: string): string {
  return `${TOKEN_PREFIX}${id}_${secret}`;
}

const SCOPE_RANK = { read: 0, "read-write": 1 } as const;

/**
 * The expiry of a token created by `caller` (null: a browser session): a token may not make
 * one with a wider scope (403) or one that outlives it (400 naming expiresAt); without an
 * expiry asked for, the new token ends when the caller does.
 */
export function tokenBoundsOf(caller: { scope: "read" | "read-write"; expiresAt: Date | null } | null, wanted: { scope: "read" | "read-write"; expiresAt: Date | null }): Date | null {
  if (!caller) return wanted.expiresAt;
  if (SCOPE_RANK[wanted.scope] > SCOPE_RANK[caller.scope]) {
    throw new HearthError("forbidden", `A ${caller.scope} token cannot create a ${wanted.scope} token`);
  }
  if (!caller.expiresAt) return wanted.expiresAt;
  if (!wanted.expiresAt) return caller.expiresAt;
  if (wanted.expiresAt.getTime() > caller.expiresAt.getTime()) {
    throw new HearthError("invalid", `A token cannot create one that outlives it: expiresAt must be at or before ${caller.expiresAt.toISOString()}`, {
      details: [{ path: ["expiresAt"], code: "custom", message: `must be at or before ${caller.expiresAt.toISOString()}` }],
    });
  }
  return wanted.expiresAt;
}

/** Splits a token into id and secret; null when it is not one of ours. */
export function parseToken(token: string): { id: string; secret: string } | null {
  const m = TOKEN_RE.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

/** Constant-time comparison of two hex digests of equal length. */
export function hashesEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The credential carried by `Authorization: Bearer …`, if any. */
export function bearerOf(authorization: string | null): string | null {
  if (!authorization) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m ? m[1]! : null;
}

// ---- session cookie ---------------------------------------------------------------------

/**
 * The session cookie's name. Over https (HEARTH_COOKIE_SECURE, the default) it carries the
 * `__Host-` prefix, so a browser accepts it only with Secure, Path=/ and no Domain: no
 * subdomain (an app at <app>.<domain>) and no plain-http page can set or shadow it. Plain
 * http (development, tests at http://127.0.0.1) cannot use that prefix: there it is
 * `hearth_session`.
 */
export const SESSION_COOKIE_SECURE = "__Host-hearth_session";
export const SESSION_COOKIE_PLAIN = "hearth_session";
export const SESSION_COOKIE_NAMES = [SESSION_COOKIE_SECURE, SESSION_COOKIE_PLAIN] as const;
export function sessionCookieName(secure: boolean): string {
  return secure ? SESSION_COOKIE_SECURE : SESSION_COOKIE_PLAIN;
}
/** Idle lifetime: a session unused this long ends (each use extends it, up to the absolute one). */
export const SESSION_TTL_MS = 14 * 24 * 3600_000;
/** Absolute lifetime: a session ends this long after login, however much it is used. */
export const SESSION_MAX_AGE_MS = 30 * 24 * 3600_000;

/** When a session used at `now` expires: the idle lifetime, capped by the absolute one. */
export function sessionExpiry(createdAt: Date, now: Date): Date {
  return new Date(Math.min(now.getTime() + SESSION_TTL_MS, createdAt.getTime() + SESSION_MAX_AGE_MS));
}
/** A session is extended (and its cookie re-sent) at most this often. */
export const SESSION_REFRESH_MS = 60 * 60_000;

export function newSessionSecret(): { value: string; id: string } {
  const value = randomSecret();
  return { value, id: sha256Hex(value) };
}

/** Reads one cookie from a Cookie header. */
export function cookieValue(header: string | null, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim();
      return v.length > 0 ? v : null;
    }
  }
  return null;
}

export function sessionCookie(value: string, opts: { secure: boolean; expiresAt: Date; now?: Date }): string {
  const now = opts.now ?? new Date();
  const maxAge = Math.max(0, Math.floor((opts.expiresAt.getTime() - now.getTime()) / 1000));
  const parts = [`${sessionCookieName(opts.secure)}=${value}`, "Path=/", "HttpOnly", "SameSite=Lax", `Max-Age=${maxAge}`, `Expires=${opts.expiresAt.toUTCString()}`];
  if (opts.secure) parts.push("Secure");
  return parts.join("; ");
}

export function clearSessionCookie(opts: { secure: boolean }): string {
  const parts = [`${sessionCookieName(opts.secure)}=`, "Path=/", "HttpOnly", "SameSite=Lax", "Max-Age=0", "Expires=Thu, 01 Jan 1970 00:00:00 GMT"];
  if (opts.secure) parts.push("Secure");
  return parts.join("; ");
}
