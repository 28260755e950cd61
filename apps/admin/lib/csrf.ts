/**
 * CSRF rule: a state-changing request (anything but GET/HEAD/OPTIONS) authenticated by the
 * session cookie must carry an Origin (or, failing that, a Referer) whose host equals the
 * request's Host header. Bearer-token requests are exempt (a browser never attaches them on
 * its own). Requests without credentials (login, setup) are checked only when the browser
 * says where they come from: a foreign Origin is refused, a missing one is allowed so that
 * CLI clients can log in.
 */
export type AuthKind = "cookie" | "bearer" | "none";

export interface CsrfInput {
  method: string;
  host: string | null;
  origin: string | null;
  referer: string | null;
  auth: AuthKind;
}

export type CsrfResult = { ok: true } | { ok: false; reason: string };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method.toUpperCase());
}

/** Host (with port) of an absolute http(s) URL, lower-cased; null for "null" or junk. */
export function hostOf(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    return u.host.toLowerCase();
  } catch {
    return null;
  }
}

export function checkCsrf(i: CsrfInput): CsrfResult {
  if (isSafeMethod(i.method) || i.auth === "bearer") return { ok: true };
  const source = i.origin ?? i.referer;
  if (source === null || source === "") {
    return i.auth === "cookie" ? { ok: false, reason: "missing Origin or Referer header" } : { ok: true };
  }
  const host = i.host?.toLowerCase() ?? null;
  const from = hostOf(source);
  if (!host || !from || from !== host) return { ok: false, reason: "cross-origin request" };
  return { ok: true };
}
