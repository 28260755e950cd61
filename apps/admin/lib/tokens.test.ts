import { describe, expect, it } from "vitest";
import {
  SESSION_COOKIE_PLAIN as SESSION_COOKIE,
  SESSION_MAX_AGE_MS,
  sessionExpiry,
  bearerOf,
  clearSessionCookie,
  cookieValue,
  formatToken,
  hashesEqual,
  newApiToken,
  newSessionSecret,
  parseToken,
  sessionCookie,
  sha256Hex,
  tokenBoundsOf,
} from "./tokens";
import { createTokenRequest, HearthError } from "@hearth/contracts";

describe("API tokens", () => {
  it("look like hth_<uuid>_<43 base64url chars> and hash the secret", () => {
    const t = newApiToken();
    expect(t.token).toMatch(/^hth_[0-9a-f-]{36}_[A-Za-z0-9_-]{43}$/);
    expect(t.secretHash).toBe(sha256Hex(t.secret));
    expect(t.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(parseToken(t.token)).toEqual({ id: t.id, secret: t.secret });
  });

  it("parse secrets that contain underscores and dashes", () => {
    const id = "0b5e7a52-8a3e-4b8e-9a3e-2f1d3c4b5a69";
    const secret = "ab_cd-ef_gh".padEnd(43, "_");
    expect(parseToken(formatToken(id, secret))).toEqual({ id, secret });
  });

  it("reject anything else", () => {
    const good = newApiToken().token;
    for (const bad of ["", "hth_", good.slice(0, -1), `${good}x`, good.replace("hth_", "htx_"), `hth_not-a-uuid_${"a".repeat(43)}`, good.replace(/_([^_]*)$/, "_$1!")]) {
      expect(parseToken(bad)).toBeNull();
    }
  });

  it("are unique", () => {
    const a = newApiToken();
    const b = newApiToken();
    expect(a.id).not.toBe(b.id);
    expect(a.secret).not.toBe(b.secret);
  });

  it("compare hashes in constant time (and length-safely)", () => {
    expect(hashesEqual(sha256Hex("a"), sha256Hex("a"))).toBe(true);
    expect(hashesEqual(sha256Hex("a"), sha256Hex("b"))).toBe(false);
    expect(hashesEqual("abc", "abcd")).toBe(false);
  });
});

describe("bearerOf", () => {
  it("extracts the credential of a Bearer header", () => {
    expect(bearerOf("Bearer abc")).toBe("abc");
    expect(bearerOf("bearer   abc  ")).toBe("abc");
    expect(bearerOf("Basic abc")).toBeNull();
    expect(bearerOf("Bearer")).toBeNull();
    expect(bearerOf(null)).toBeNull();
  });
});

describe("session cookie", () => {
  it("is 256-bit random and stored as its sha256", () => {
    const s = newSessionSecret();
    expect(s.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.id).toBe(sha256Hex(s.value));
  });

  it("over https: __Host-hearth_session, HttpOnly, SameSite=Lax, Path=/, Secure, no Domain, 14 days", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const expiresAt = new Date(now.getTime() + 14 * 24 * 3600_000);
    const c = sessionCookie("v", { secure: true, expiresAt, now });
    expect(c).toBe(`__Host-hearth_session=v; Path=/; HttpOnly; SameSite=Lax; Max-Age=1209600; Expires=${expiresAt.toUTCString()}; Secure`);
    expect(c).not.toMatch(/Domain=/i);
    expect(clearSessionCookie({ secure: true })).toMatch(/^__Host-hearth_session=; Path=\/; .*Max-Age=0.*; Secure$/);
  });

  it("over plain http (no __Host- prefix possible): hearth_session without Secure", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    const expiresAt = new Date(now.getTime() + 14 * 24 * 3600_000);
    const c = sessionCookie("v", { secure: false, expiresAt, now });
    expect(c.startsWith(`${SESSION_COOKIE}=v; Path=/;`)).toBe(true);
    expect(c).not.toContain("Secure");
    expect(clearSessionCookie({ secure: false })).toContain("Max-Age=0");
  });

  it("expires after 14 idle days, and 30 days after login however much it is used", () => {
    const created = new Date("2026-01-01T00:00:00Z");
    expect(sessionExpiry(created, created).getTime()).toBe(created.getTime() + 14 * 24 * 3600_000);
    const day20 = new Date(created.getTime() + 20 * 24 * 3600_000);
    expect(sessionExpiry(created, day20).getTime()).toBe(created.getTime() + SESSION_MAX_AGE_MS);
    expect(SESSION_MAX_AGE_MS).toBe(30 * 24 * 3600_000);
  });

  it("is read from a Cookie header", () => {
    expect(cookieValue("a=1; hearth_session=xyz; b=2", SESSION_COOKIE)).toBe("xyz");
    expect(cookieValue("hearth_session_old=1", SESSION_COOKIE)).toBeNull();
    expect(cookieValue("hearth_session=", SESSION_COOKIE)).toBeNull();
    expect(cookieValue(null, SESSION_COOKIE)).toBeNull();
  });
});

describe("a token creating a token", () => {
  const later = new Date("2030-01-01T00:00:00Z");
  const sooner = new Date("2029-01-01T00:00:00Z");
  it("from a browser session: as asked", () => {
    expect(tokenBoundsOf(null, { scope: "read-write", expiresAt: null })).toBeNull();
    expect(tokenBoundsOf(null, { scope: "read", expiresAt: later })).toEqual(later);
  });
  it("never a wider scope", () => {
    expect(() => tokenBoundsOf({ scope: "read", expiresAt: null }, { scope: "read-write", expiresAt: null })).toThrow(HearthError);
    expect(() => tokenBoundsOf({ scope: "read", expiresAt: null }, { scope: "read-write", expiresAt: null })).toThrow(/read token cannot create a read-write token/);
    expect(tokenBoundsOf({ scope: "read-write", expiresAt: null }, { scope: "read", expiresAt: null })).toBeNull();
  });
  it("never outliving it: a later expiry is refused naming expiresAt, none asked inherits the caller's", () => {
    let err: unknown;
    try {
      tokenBoundsOf({ scope: "read-write", expiresAt: sooner }, { scope: "read", expiresAt: later });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HearthError);
    expect((err as HearthError).code).toBe("invalid");
    expect((err as HearthError).details).toEqual([expect.objectContaining({ path: ["expiresAt"] })]);
    expect(tokenBoundsOf({ scope: "read-write", expiresAt: sooner }, { scope: "read", expiresAt: null })).toEqual(sooner);
    expect(tokenBoundsOf({ scope: "read-write", expiresAt: later }, { scope: "read", expiresAt: sooner })).toEqual(sooner);
  });
  it("an expiry MariaDB's DATETIME cannot hold is refused by the request schema", () => {
    expect(createTokenRequest.safeParse({ name: "x", scope: "read", expiresAt: "9999-12-31T23:59:59Z" }).success).toBe(true);
    expect(createTokenRequest.safeParse({ name: "x", scope: "read", expiresAt: "9999-12-31T23:00:00-05:00" }).success).toBe(false);
    expect(createTokenRequest.safeParse({ name: "x", scope: "read", expiresAt: "+010000-01-01T00:00:00Z" }).success).toBe(false);
  });
});
