import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken, createUser, openSecret, type Db } from "@hearth/db";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { sessionCookieOf, startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { hashPassword } from "../../apps/admin/lib/passwords";
import { newApiToken, sha256Hex } from "../../apps/admin/lib/tokens";
import { newTotpSecret, totpCode } from "../../apps/admin/lib/totp";

/**
 * Accounts and sessions over real HTTP (the production build of admin, `next start`) on the
 * real MariaDB, with admin configured as installed: secure cookies (HEARTH_COOKIE_SECURE,
 * so the __Host- name; plain fetch over http://127.0.0.1 sends it back like a browser on
 * https would) and HEARTH_SECRET_KEY. Password change, "log out everywhere", and TOTP
 * secrets stored in clear by an older version sealed at start.
 */
let t: TestDatabase & { db: Db };
let admin: RunningAdmin;
let tmp = "";
const SECRET_KEY = randomBytes(32);
const OWNER = { username: "owner", email: "owner@example.com", password: "correct horse battery staple" };
const LEGACY = { username: "legacy", email: "legacy@example.com", password: "legacy user's long password" };
const LEGACY_TOTP = newTotpSecret();
let ownerCookie = "";

const call = (method: string, url: string, c: Call = {}) => admin.call(method, url, c);
const browser = (cookie: string, extra: Call = {}) => admin.browser(cookie, extra);
const login = (username: string, password: string, ip: string, totp?: string) => call("POST", "/api/v1/auth/login", { body: { username, password, ...(totp ? { totp } : {}) }, ip });

beforeAll(async () => {
  t = await migratedDatabase("accounts");
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-accounts-"));
  // a user whose TOTP secret an older admin stored in clear
  await createUser(t.db, { id: randomUUID(), ...LEGACY, role: "user", passwordHash: await hashPassword(LEGACY.password) });
  await t.db.user.update({ where: { username: LEGACY.username }, data: { totpSecret: LEGACY_TOTP } });
  admin = await startAdmin({
    HEARTH_DATABASE_URL: t.url,
    HEARTH_BOX_SOCKET: path.join(tmp, "box.sock"),
    HEARTH_SECRET_KEY: SECRET_KEY.toString("base64"),
    HEARTH_COOKIE_SECURE: "true",
  });
  const setup = await admin.setupOwner(OWNER);
  expect(setup.status).toBe(201);
  ownerCookie = sessionCookieOf(setup);
}, 400_000);

afterAll(async () => {
  await admin?.stop();
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("the session cookie as installed (https)", () => {
  it("is __Host-hearth_session: Secure, Path=/, no Domain", async () => {
    const r = await login(OWNER.username, OWNER.password, "10.20.0.1");
    expect(r.status).toBe(200);
    const set = r.headers.get("set-cookie")!;
    expect(set).toMatch(/^__Host-hearth_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; /);
    expect(set).toMatch(/; Secure$/);
    expect(set).not.toMatch(/domain=/i);
    const cookie = sessionCookieOf(r);
    expect((await call("GET", "/api/v1/profile", { cookie })).status).toBe(200);
    // the same value under the unprefixed name (as a subdomain could set it) is not a session
    expect((await call("GET", "/api/v1/profile", { cookie: cookie.replace("__Host-", "") })).status).toBe(401);
    // logging out clears the prefixed cookie
    const out = await call("POST", "/api/v1/auth/logout", browser(cookie));
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^__Host-hearth_session=; Path=\/; .*Max-Age=0.*; Secure$/);
  });
});

describe("two-factor secrets from before sealing", () => {
  it("are sealed when admin starts, and still open: the user logs in with a code", async () => {
    const row = await t.db.user.findUniqueOrThrow({ where: { username: LEGACY.username } });
    expect(row.totpSecret).toMatch(/^v1:/);
    expect(row.totpSecret).not.toContain(LEGACY_TOTP);
    expect(openSecret(SECRET_KEY, row.totpSecret!)).toBe(LEGACY_TOTP);
    expect((await login(LEGACY.username, LEGACY.password, "10.21.0.1")).status).toBe(401);
    const ok = await login(LEGACY.username, LEGACY.password, "10.21.0.1", totpCode(LEGACY_TOTP));
    expect(ok.status).toBe(200);
  });
});

describe("password change", () => {
  let other = "";
  let token = "";

  beforeAll(async () => {
    other = sessionCookieOf(await login(OWNER.username, OWNER.password, "10.22.0.1"));
    const tok = newApiToken();
    const owner = await t.db.user.findUniqueOrThrow({ where: { username: OWNER.username } });
    await createApiToken(t.db, { id: tok.id, userId: owner.id, name: "cli", scope: "read_write", secretHash: tok.secretHash });
    token = tok.token;
  });

  it("a wrong current password → 403 naming it; nothing changes", async () => {
    const hash = (await t.db.user.findUniqueOrThrow({ where: { username: OWNER.username } })).passwordHash;
    const r = await call("POST", "/api/v1/profile/password", browser(ownerCookie, { body: { currentPassword: "not my password", newPassword: "a brand new long password" } }));
    expect(r.status).toBe(403);
    expect(r.body.error.details[0].path).toEqual(["currentPassword"]);
    expect((await t.db.user.findUniqueOrThrow({ where: { username: OWNER.username } })).passwordHash).toBe(hash);
    expect((await call("GET", "/api/v1/profile", { cookie: other })).status).toBe(200);
  });

  it("a short new password or the same one → 400; an API token → 403", async () => {
    const short = await call("POST", "/api/v1/profile/password", browser(ownerCookie, { body: { currentPassword: OWNER.password, newPassword: "short" } }));
    expect(short.status).toBe(400);
    expect(short.body.error.details[0].path).toEqual(["newPassword"]);
    const same = await call("POST", "/api/v1/profile/password", browser(ownerCookie, { body: { currentPassword: OWNER.password, newPassword: OWNER.password } }));
    expect(same.status).toBe(400);
    expect(same.body.error.details[0].path).toEqual(["newPassword"]);
    const viaToken = await call("POST", "/api/v1/profile/password", { token, body: { currentPassword: OWNER.password, newPassword: "a brand new long password" } });
    expect(viaToken.status).toBe(403);
  });

  it("changes the password and ends every other session; this one and API tokens stay", async () => {
    const sessionsBefore = await t.db.session.count({ where: { user: { username: OWNER.username } } });
    expect(sessionsBefore).toBeGreaterThanOrEqual(2);
    const r = await call("POST", "/api/v1/profile/password", browser(ownerCookie, { body: { currentPassword: OWNER.password, newPassword: "a brand new long password" }, ip: "10.22.0.2" }));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ endedSessions: sessionsBefore - 1 });
    expect((await call("GET", "/api/v1/profile", { cookie: other })).status).toBe(401);
    expect((await call("GET", "/api/v1/profile", { cookie: ownerCookie })).status).toBe(200);
    expect(await t.db.session.count({ where: { user: { username: OWNER.username } } })).toBe(1);
    expect((await call("GET", "/api/v1/profile", { token })).status).toBe(200);
    expect((await login(OWNER.username, OWNER.password, "10.22.0.3")).status).toBe(401);
    expect((await login(OWNER.username, "a brand new long password", "10.22.0.3")).status).toBe(200);
    const ev = await t.db.event.findFirstOrThrow({ where: { action: "user.password_change" } });
    expect(ev).toMatchObject({ sourceIp: "10.22.0.2", target: OWNER.username });
    expect(JSON.stringify(ev.data)).not.toContain("brand new");
    OWNER.password = "a brand new long password";
  });

  it("wrong current passwords are throttled: the 6th try in 15 minutes → 429, even when right", async () => {
    // one wrong try already counted above
    for (let i = 0; i < 4; i++) {
      expect((await call("POST", "/api/v1/profile/password", browser(ownerCookie, { body: { currentPassword: `wrong ${i}`, newPassword: "yet another long password" } }))).status).toBe(403);
    }
    const r = await call("POST", "/api/v1/profile/password", browser(ownerCookie, { body: { currentPassword: OWNER.password, newPassword: "yet another long password" } }));
    expect(r.status).toBe(429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await login(OWNER.username, OWNER.password, "10.22.0.4")).status).toBe(200);
  });
});

describe("log out everywhere", () => {
  it("ends every session of the user, this one too (cookie cleared); other users' sessions and API tokens stay", async () => {
    const a = sessionCookieOf(await login(OWNER.username, OWNER.password, "10.23.0.1"));
    const b = sessionCookieOf(await login(OWNER.username, OWNER.password, "10.23.0.2"));
    const legacy = sessionCookieOf(await login(LEGACY.username, LEGACY.password, "10.23.0.3", totpCode(LEGACY_TOTP, Date.now() + 30_000)));
    const owner = await t.db.user.findUniqueOrThrow({ where: { username: OWNER.username } });
    const tok = newApiToken();
    await createApiToken(t.db, { id: tok.id, userId: owner.id, name: "stays", scope: "read", secretHash: tok.secretHash });
    const mine = await t.db.session.count({ where: { userId: owner.id } });
    expect((await call("DELETE", "/api/v1/profile/sessions", { cookie: a })).status).toBe(403); // CSRF applies
    const r = await call("DELETE", "/api/v1/profile/sessions", browser(a, { ip: "10.23.0.1" }));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ ended: mine });
    expect(r.headers.get("set-cookie")).toMatch(/^__Host-hearth_session=; .*Max-Age=0/);
    for (const c of [a, b, ownerCookie]) expect((await call("GET", "/api/v1/profile", { cookie: c })).status).toBe(401);
    expect(await t.db.session.count({ where: { userId: owner.id } })).toBe(0);
    expect((await call("GET", "/api/v1/profile", { cookie: legacy })).status).toBe(200);
    expect((await call("GET", "/api/v1/profile", { token: tok.token })).status).toBe(200);
    const ev = await t.db.event.findFirstOrThrow({ where: { action: "user.logout_everywhere" } });
    expect(ev).toMatchObject({ sourceIp: "10.23.0.1", target: OWNER.username, data: { ended: mine, via: "session" } });
    expect(await t.db.session.count({ where: { id: sha256Hex(a.split("=")[1]!) } })).toBe(0);
  });
});
