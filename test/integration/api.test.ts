import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_JSON_BODY_BYTES } from "@hearth/contracts";
import { createApiToken, createDb, createUser, ensureSetupCode } from "@hearth/db";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { ADMIN_DIR, ADMIN_SERVER, ensureAdminBuilt, freePort, sessionCookieOf, callAdmin, issueSetupCode, TEST_PROXY_SECRET, type Call, type Reply } from "../helpers/admin";
import type { Db } from "@hearth/db";
import { hashPassword } from "../../apps/admin/lib/passwords";
import { newApiToken, sha256Hex } from "../../apps/admin/lib/tokens";
import { totpCode } from "../../apps/admin/lib/totp";

/**
 * admin's REST API over real HTTP: `next start` of the production build against a migrated
 * database on the real MariaDB. box is not running (its socket path does not exist) until
 * the task-log tests put a small stand-in on that socket, speaking box's socket protocol
 * (packages/contracts/src/box-socket.ts), to check the SSE proxy.
 */

let t: TestDatabase & { db: Db };
let server: ChildProcess | undefined;
let serverOutput = "";
let base = "";
let origin = "";
let tmp = "";
let boxSocket = "";

const OWNER = { username: "owner", email: "owner@example.com", password: "correct horse battery staple" };

// ---- helpers -----------------------------------------------------------------------------

const call = (method: string, url: string, c: Call = {}): Promise<Reply> => callAdmin(base, method, url, c);

/** What a browser sends: the session cookie plus a same-origin Origin on writes. */
const browser = (cookie: string, extra: Call = {}): Call => ({ cookie, origin, ...extra });

async function login(username: string, password: string, ip?: string, totp?: string) {
  return call("POST", "/api/v1/auth/login", { body: { username, password, ...(totp ? { totp } : {}) }, ip });
}

async function waitForServer(timeoutMs = 90_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (server?.exitCode !== null && server?.exitCode !== undefined) throw new Error(`admin exited (${server.exitCode}):\n${serverOutput}`);
    try {
      const r = await fetch(`${base}/api/v1/status`);
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`admin did not come up:\n${serverOutput}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// ---- lifecycle ---------------------------------------------------------------------------

beforeAll(async () => {
  ensureAdminBuilt();
  t = await migratedDatabase("api");
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-api-"));
  boxSocket = path.join(tmp, "box.sock");
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  origin = base;
  server = spawn(process.execPath, [ADMIN_SERVER, "-H", "127.0.0.1", "-p", String(port)], {
    cwd: ADMIN_DIR,
    env: {
      ...process.env,
      NODE_ENV: "production",
      NEXT_TELEMETRY_DISABLED: "1",
      HEARTH_DATABASE_URL: t.url,
      HEARTH_COOKIE_SECURE: "false",
      HEARTH_BOX_SOCKET: boxSocket,
      // TOTP secrets are stored sealed with it
      HEARTH_SECRET_KEY: randomBytes(32).toString("base64"),
      HEARTH_LOG_LEVEL: "info",
      // what nginx's X-Hearth-Proxy-Secret carries (callAdmin sends it with X-Real-IP)
      HEARTH_PROXY_SECRET: TEST_PROXY_SECRET,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout!.on("data", (d) => (serverOutput += d));
  server.stderr!.on("data", (d) => (serverOutput += d));
  await waitForServer();
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once("exit", r));
    server.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (server.exitCode === null) server.kill("SIGKILL");
  }
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// ---- tests (in order: the first ones do the first-run setup) ----------------------------

let ownerCookie = "";
let setupCode = "";

describe("status and first-run setup", () => {
  it("status answers without auth before setup; box is down", async () => {
    const r = await call("GET", "/api/v1/status");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ version: expect.any(String), setupDone: false, box: "down" });
    expect(r.headers.get("cache-control")).toBe("no-store");
  });

  it("refuses an invalid owner with 400 invalid and zod details", async () => {
    const r = await call("POST", "/api/v1/setup/owner", { body: { username: "Bad Name", email: "nope", password: "short" } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid");
    const paths = (r.body.error.details as { path: string[] }[]).map((d) => d.path[0]).sort();
    expect(paths).toEqual(["email", "password", "username"]);
  });

  it("without a stored setup code nobody can set up: 403, nothing created", async () => {
    const r = await call("POST", "/api/v1/setup/owner", { body: { ...OWNER, setupCode: "ABCD-EFGH-JKMN" } });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("forbidden");
    expect(r.body.error.message).toMatch(/setup\/install\.sh/);
    expect(await t.db.user.count()).toBe(0);
    expect(await t.db.session.count()).toBe(0);
  });

  it("setup code: missing or wrong → 403 naming the field, nothing created, the attempt recorded", async () => {
    setupCode = await issueSetupCode(t.url);
    expect(setupCode).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    // only its hash is stored
    const row = await t.db.setting.findUnique({ where: { key: "setup.code" } });
    expect(JSON.stringify(row?.value)).not.toContain(setupCode.replace(/-/g, ""));
    expect(JSON.stringify(row?.value)).not.toContain(setupCode);
    const other = setupCode.startsWith("A") ? `B${setupCode.slice(1)}` : `A${setupCode.slice(1)}`;
    for (const body of [OWNER, { ...OWNER, setupCode: other }, { ...OWNER, setupCode: "" }, { ...OWNER, setupCode: "not a code at all" }]) {
      const r = await call("POST", "/api/v1/setup/owner", { body, ip: "10.77.1.1" });
      expect(r.status, JSON.stringify(body)).toBe(403);
      expect(r.body.error).toMatchObject({ code: "forbidden", details: { field: "setupCode" } });
      expect(r.headers.get("set-cookie")).toBeNull();
    }
    expect(await t.db.user.count()).toBe(0);
    expect(await t.db.session.count()).toBe(0);
    expect(await t.db.setting.count({ where: { key: "setup.owner" } })).toBe(0);
    expect(await t.db.event.count({ where: { action: "setup.code_failed", sourceIp: "10.77.1.1" } })).toBe(4);
    expect((await call("GET", "/api/v1/status")).body.setupDone).toBe(false);
  });

  it("wrong setup codes are throttled per network (an IPv6 /64 counts as one) → 429, even with the right code", async () => {
    const ips = Array.from({ length: 10 }, (_, i) => `2001:db8:77:1::${(i + 1).toString(16)}`);
    for (const ip of ips) expect((await call("POST", "/api/v1/setup/owner", { body: { ...OWNER, setupCode: "AAAA-AAAA-AAAA" }, ip })).status).toBe(403);
    // another address of the same /64, with the right code
    const locked = await call("POST", "/api/v1/setup/owner", { body: { ...OWNER, setupCode }, ip: "2001:db8:77:1:ffff::99" });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe("rate_limited");
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await t.db.user.count()).toBe(0);
    // the code still works from elsewhere (checked in the next test)
  });

  it("re-running the installer keeps the code; a new code replaces an old one", async () => {
    const db = createDb(t.url, { connectionLimit: 1 });
    try {
      expect(await ensureSetupCode(db, setupCode)).toBe(setupCode);
      expect(await ensureSetupCode(db, ` ${setupCode.toLowerCase()}\n`)).toBe(setupCode);
      const fresh = await ensureSetupCode(db, "WRONG-CODE-HERE");
      expect(fresh).not.toBe(setupCode);
      const old = await call("POST", "/api/v1/setup/owner", { body: { ...OWNER, setupCode }, ip: "10.77.2.1" });
      expect(old.status).toBe(403);
      setupCode = fresh!;
    } finally {
      await db.$disconnect();
    }
  });

  it("two concurrent setups with the setup code create exactly one owner", async () => {
    const [a, b] = await Promise.all([
      call("POST", "/api/v1/setup/owner", { body: { ...OWNER, setupCode: ` ${setupCode.toLowerCase()} ` } }),
      call("POST", "/api/v1/setup/owner", { body: { username: "mallory", email: "mallory@example.com", password: "another long password", setupCode } }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([201, 409]);
    const created = a.status === 201 ? a : b;
    const refused = a.status === 201 ? b : a;
    expect(refused.body.error.code).toBe("conflict");
    expect(created.body).toMatchObject({ role: "owner", totpEnabled: false });
    const owners = await t.db.user.findMany({ where: { role: "owner" } });
    expect(owners).toHaveLength(1);
    // the test continues with OWNER; if mallory won the race, give OWNER's name to the winner
    if (created.body.username !== OWNER.username) {
      await t.db.user.update({
        where: { id: created.body.id },
        data: { username: OWNER.username, email: OWNER.email, passwordHash: await hashPassword(OWNER.password) },
      });
    }
    const cookie = created.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^hearth_session=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Lax");
    expect(cookie).toContain("Path=/");
    expect(cookie).toContain("Max-Age=1209600");
    expect(cookie).not.toContain("Secure"); // HEARTH_COOKIE_SECURE=false
    ownerCookie = sessionCookieOf(created);
    // the cookie value is not what the database stores
    const value = ownerCookie.split("=")[1]!;
    expect(await t.db.session.count({ where: { id: value } })).toBe(0);
    expect(await t.db.session.count({ where: { id: sha256Hex(value) } })).toBe(1);
    // the code is used up
    expect(await t.db.setting.count({ where: { key: "setup.code" } })).toBe(0);
    const db = createDb(t.url, { connectionLimit: 1 });
    try {
      // the installer run again: the owner exists, so no code
      expect(await ensureSetupCode(db, setupCode)).toBeNull();
      expect(await t.db.setting.count({ where: { key: "setup.code" } })).toBe(0);
    } finally {
      await db.$disconnect();
    }
  });

  it("setup answers 409 forever after", async () => {
    const r = await call("POST", "/api/v1/setup/owner", { body: { username: "late", email: "late@example.com", password: "yet another password", setupCode } });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ error: { code: "conflict", message: expect.any(String) } });
    expect((await call("GET", "/api/v1/status")).body.setupDone).toBe(true);
  });

  it("the setup cookie is a working session", async () => {
    const r = await call("GET", "/api/v1/profile", { cookie: ownerCookie });
    expect(r.status).toBe(200);
    expect(r.body.role).toBe("owner");
  });
});

describe("login", () => {
  it("200 with a session cookie and the profile", async () => {
    const r = await login(OWNER.username, OWNER.password);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ username: OWNER.username, email: OWNER.email, role: "owner", totpEnabled: false });
    expect(r.body.passwordHash).toBeUndefined();
    const cookie = sessionCookieOf(r);
    expect((await call("GET", "/api/v1/profile", { cookie })).status).toBe(200);
    // by email too
    expect((await login(OWNER.email, OWNER.password)).status).toBe(200);
  });

  it("401 unauthorized for a wrong password or an unknown user, without a cookie", async () => {
    for (const r of [await login(OWNER.username, "not the password", "10.9.0.1"), await login("nobody", "whatever password", "10.9.0.1")]) {
      expect(r.status).toBe(401);
      expect(r.body.error.code).toBe("unauthorized");
      expect(r.headers.get("set-cookie")).toBeNull();
    }
  });

  it("no cookie, a junk cookie or an unknown session → 401 on the profile", async () => {
    expect((await call("GET", "/api/v1/profile")).status).toBe(401);
    expect((await call("GET", "/api/v1/profile", { cookie: "hearth_session=junk" })).status).toBe(401);
    expect((await call("GET", "/api/v1/profile", { cookie: `hearth_session=${"A".repeat(43)}` })).status).toBe(401);
  });

  it("5 failures for one user from one IP → 429 with Retry-After, even for the right password", async () => {
    const ip = "10.1.0.1";
    // by username or by email: the same account, the same count
    for (let i = 0; i < 5; i++) expect((await login(i % 2 ? OWNER.email : OWNER.username, `wrong password ${i}`, ip)).status).toBe(401);
    const locked = await login(OWNER.username, "wrong again", ip);
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe("rate_limited");
    const retry = Number(locked.headers.get("retry-after"));
    expect(retry).toBeGreaterThan(14 * 60);
    expect(retry).toBeLessThanOrEqual(15 * 60);
    const right = await login(OWNER.username, OWNER.password, ip);
    expect(right.status).toBe(429);
    expect((await login(OWNER.email, OWNER.password, ip)).status).toBe(429);
    expect(right.headers.get("set-cookie")).toBeNull();
    // locked-out attempts are not counted as more failures
    expect(await t.db.event.count({ where: { action: "user.login_failed", sourceIp: ip } })).toBe(5);
    // another IP is not locked out
    expect((await login(OWNER.username, OWNER.password, "10.1.0.2")).status).toBe(200);
  });

  it("an IPv6 /64 is one source: failures from its addresses add up", async () => {
    const u = { username: "v6user", email: "v6@example.com", password: "v6 user's long password" };
    await createUser(t.db, { id: randomUUID(), ...u, role: "user", passwordHash: await hashPassword(u.password) });
    for (let i = 0; i < 5; i++) expect((await login(u.username, "wrong v6 password", `2001:db8:10:1::${i + 1}`)).status).toBe(401);
    // another address of the same /64: the per-user-and-network limit (15 minutes), not the account's short backoff
    const r = await login(u.username, u.password, "2001:db8:10:1:abcd::7");
    expect(r.status).toBe(429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(14 * 60);
    const ev = await t.db.event.findMany({ where: { action: "user.login_failed", target: u.username } });
    expect(new Set(ev.map((e) => e.sourceNet))).toEqual(new Set(["2001:db8:10:1::/64"]));
    expect(ev.map((e) => e.sourceIp)).toContain("2001:db8:10:1::3");
  });

  it("failures on one account from many addresses → exponential backoff for that account (capped, not a lock-out)", async () => {
    const u = { username: "sprayed", email: "sprayed@example.com", password: "sprayed user's long password" };
    await createUser(t.db, { id: randomUUID(), ...u, role: "user", passwordHash: await hashPassword(u.password) });
    // one failure from each of 10 addresses: none of them is over its own limit
    for (let i = 0; i < 10; i++) expect((await login(u.username, `wrong ${i}`, `198.51.100.${i + 1}`)).status).toBe(401);
    // the 11th attempt, from a fresh address and with the right password, waits for the account's backoff
    const r = await login(u.username, u.password, "198.51.100.77");
    expect(r.status).toBe(429);
    expect(r.body.error.code).toBe("rate_limited");
    expect(Number(r.headers.get("retry-after"))).toBe(1);
    // the refused attempt is not a failure: the delay does not grow by asking
    expect(await t.db.event.count({ where: { action: "user.login_failed", target: u.username } })).toBe(10);
    // many more failures only reach the cap (5 minutes), never a permanent lock
    const since = Date.now() - 60_000;
    for (let i = 0; i < 20; i++) {
      await t.sql("INSERT INTO `Event` (action, sourceIp, sourceNet, target, createdAt) VALUES ('user.login_failed', ?, ?, ?, ?)", [
        `192.0.2.${i + 1}`,
        `192.0.2.${i + 1}`,
        u.username,
        new Date(since + i * 1000),
      ]);
    }
    const capped = await login(u.username, u.password, "198.51.100.78");
    expect(capped.status).toBe(429);
    const wait = Number(capped.headers.get("retry-after"));
    expect(wait).toBeGreaterThan(4 * 60);
    expect(wait).toBeLessThanOrEqual(5 * 60);
    // once the cap has passed since the latest failure, the right password works, and resets the count
    await t.sql("UPDATE `Event` SET createdAt = createdAt - INTERVAL 6 MINUTE WHERE action = 'user.login_failed' AND target = ?", [u.username]);
    expect((await login(u.username, u.password, "198.51.100.78")).status).toBe(200);
    expect((await login(u.username, "wrong once more", "198.51.100.79")).status).toBe(401);
    expect((await login(u.username, u.password, "198.51.100.80")).status).toBe(200);
  });

  it("parallel wrong passwords cannot slip past the throttle", async () => {
    const ip = "10.3.0.1";
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => login(OWNER.username, `parallel wrong ${i}`, ip)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    expect(await t.db.event.count({ where: { action: "user.login_failed", sourceIp: ip } })).toBe(5);
  });

  it("caps one IP at 20 failures across usernames (password spraying)", async () => {
    const ip = "10.2.0.1";
    for (let i = 0; i < 20; i++) expect((await login(`user${i}`, "spray password", ip)).status).toBe(401);
    const r = await login("user20", "spray password", ip);
    expect(r.status).toBe(429);
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await login(OWNER.username, OWNER.password, ip)).status).toBe(429);
  });

  it("refuses a login posted from a foreign page (Origin present and wrong)", async () => {
    const r = await call("POST", "/api/v1/auth/login", { body: { username: OWNER.username, password: OWNER.password }, origin: "https://evil.example" });
    expect(r.status).toBe(403);
  });
});

describe("CSRF", () => {
  const tokenBody = { name: "csrf", scope: "read" };

  it("a cookie POST without Origin or Referer → 403 forbidden", async () => {
    const r = await call("POST", "/api/v1/tokens", { cookie: ownerCookie, body: tokenBody });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("forbidden");
  });

  it("a cookie POST with a foreign Origin → 403", async () => {
    expect((await call("POST", "/api/v1/tokens", { cookie: ownerCookie, body: tokenBody, origin: "https://evil.example" })).status).toBe(403);
    expect((await call("POST", "/api/v1/tokens", { cookie: ownerCookie, body: tokenBody, origin: "null" })).status).toBe(403);
  });

  it("a cookie POST with the matching Origin (or Referer) is fine", async () => {
    expect((await call("POST", "/api/v1/tokens", browser(ownerCookie, { body: tokenBody }))).status).toBe(201);
    expect((await call("POST", "/api/v1/tokens", { cookie: ownerCookie, body: tokenBody, referer: `${base}/settings` })).status).toBe(201);
  });

  it("a bearer POST needs no Origin", async () => {
    const created = await call("POST", "/api/v1/tokens", browser(ownerCookie, { body: { name: "rw", scope: "read-write" } }));
    const r = await call("POST", "/api/v1/tokens", { token: created.body.token, body: tokenBody });
    expect(r.status).toBe(201);
  });
});

describe("API tokens", () => {
  it("are shown once: the create answer has the token, the list never", async () => {
    const r = await call("POST", "/api/v1/tokens", browser(ownerCookie, { body: { name: "ci", scope: "read" } }));
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      id: expect.any(String),
      name: "ci",
      scope: "read",
      createdAt: expect.any(String),
      expiresAt: null,
      lastUsedAt: null,
      token: expect.stringMatching(/^hth_[0-9a-f-]{36}_[A-Za-z0-9_-]{43}$/),
    });
    const list = await call("GET", "/api/v1/tokens", { cookie: ownerCookie });
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(r.body.token);
    expect(list.text).not.toContain(r.body.token.split("_").slice(2).join("_"));
    expect(list.text).not.toContain("secretHash");
    expect(list.body.tokens.find((x: { id: string }) => x.id === r.body.id)).toMatchObject({ name: "ci", scope: "read" });
  });

  it("a read token may GET but not POST; lastUsedAt is recorded", async () => {
    const { body: created } = await call("POST", "/api/v1/tokens", browser(ownerCookie, { body: { name: "reader", scope: "read" } }));
    const profile = await call("GET", "/api/v1/profile", { token: created.token });
    expect(profile.status).toBe(200);
    expect(profile.body.username).toBe(OWNER.username);
    const write = await call("POST", "/api/v1/tokens", { token: created.token, body: { name: "escalate", scope: "read-write" } });
    expect(write.status).toBe(403);
    expect(write.body.error.code).toBe("forbidden");
    const del = await call("DELETE", `/api/v1/tokens/${created.id}`, { token: created.token });
    expect(del.status).toBe(403);
    const row = await t.db.apiToken.findUnique({ where: { id: created.id } });
    expect(row?.lastUsedAt).toBeInstanceOf(Date);
  });

  it("a token cannot create a token that outlives it; without an expiry the new one ends with it", async () => {
    const parentExpiry = new Date(Date.now() + 2 * 3600_000);
    const { body: parent } = await call("POST", "/api/v1/tokens", browser(ownerCookie, { body: { name: "parent", scope: "read-write", expiresAt: parentExpiry.toISOString() } }));
    const before = await t.db.apiToken.count();
    const longer = await call("POST", "/api/v1/tokens", { token: parent.token, body: { name: "outliver", scope: "read", expiresAt: new Date(parentExpiry.getTime() + 60_000).toISOString() } });
    expect(longer.status).toBe(400);
    expect(longer.body.error.code).toBe("invalid");
    expect(longer.body.error.details[0].path).toEqual(["expiresAt"]);
    const forever = await call("POST", "/api/v1/tokens", { token: parent.token, body: { name: "child", scope: "read-write" } });
    expect(forever.status).toBe(201);
    expect(Date.parse(forever.body.expiresAt)).toBe(parentExpiry.getTime());
    const shorter = new Date(Date.now() + 3600_000).toISOString();
    const ok = await call("POST", "/api/v1/tokens", { token: parent.token, body: { name: "child2", scope: "read", expiresAt: shorter } });
    expect(ok.status).toBe(201);
    expect(await t.db.apiToken.count()).toBe(before + 2);
  });

  it("an expiry past the year 9999 (UTC) → 400, not a database error", async () => {
    for (const expiresAt of ["9999-12-31T23:00:00-05:00", "+010000-01-01T00:00:00Z", "9999-12-31T23:59:59.999-00:01"]) {
      const r = await call("POST", "/api/v1/tokens", browser(ownerCookie, { body: { name: "far", scope: "read", expiresAt } }));
      expect(r.status, expiresAt).toBe(400);
      expect(r.body.error.code).toBe("invalid");
    }
    const edge = await call("POST", "/api/v1/tokens", browser(ownerCookie, { body: { name: "edge", scope: "read", expiresAt: "9999-12-31T23:59:59Z" } }));
    expect(edge.status).toBe(201);
    expect(edge.body.expiresAt).toBe("9999-12-31T23:59:59.000Z");
  });

  it("a token with an expiry in the future works; once expired → 401", async () => {
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    const { status, body } = await call("POST", "/api/v1/tokens", browser(ownerCookie, { body: { name: "short-lived", scope: "read", expiresAt } }));
    expect(status).toBe(201);
    expect(Date.parse(body.expiresAt)).toBe(Date.parse(expiresAt));
    expect((await call("GET", "/api/v1/profile", { token: body.token })).status).toBe(200);
    await t.sql("UPDATE `ApiToken` SET expiresAt = NOW(3) - INTERVAL 1 SECOND WHERE id = ?", [body.id]);
    const r = await call("GET", "/api/v1/profile", { token: body.token });
    expect(r.status).toBe(401);
    expect(r.body.error.code).toBe("unauthorized");
  });

  it("an expiry in the past is refused", async () => {
    const r = await call("POST", "/api/v1/tokens", browser(ownerCookie, { body: { name: "old", scope: "read", expiresAt: "2020-01-01T00:00:00Z" } }));
    expect(r.status).toBe(400);
  });

  it("revoked → 401; revoking again → 404", async () => {
    const { body } = await call("POST", "/api/v1/tokens", browser(ownerCookie, { body: { name: "revoke-me", scope: "read-write" } }));
    expect((await call("GET", "/api/v1/tokens", { token: body.token })).status).toBe(200);
    const del = await call("DELETE", `/api/v1/tokens/${body.id}`, browser(ownerCookie));
    expect(del.status).toBe(204);
    expect((await call("GET", "/api/v1/profile", { token: body.token })).status).toBe(401);
    expect((await call("DELETE", `/api/v1/tokens/${body.id}`, browser(ownerCookie))).status).toBe(404);
  });

  it("a wrong secret, a malformed token or another scheme → 401", async () => {
    const { body } = await call("POST", "/api/v1/tokens", browser(ownerCookie, { body: { name: "x", scope: "read" } }));
    const forged = body.token.slice(0, -4) + (body.token.endsWith("AAAA") ? "BBBB" : "AAAA");
    expect((await call("GET", "/api/v1/profile", { token: forged })).status).toBe(401);
    expect((await call("GET", "/api/v1/profile", { token: "hth_nope" })).status).toBe(401);
    const basic = await fetch(`${base}/api/v1/profile`, { headers: { authorization: "Basic Zm9vOmJhcg==" } });
    expect(basic.status).toBe(401);
  });

  it("someone else's token is a 404 for you", async () => {
    const other = await createUser(t.db, { id: randomUUID(), username: "bob", email: "bob@example.com", role: "user", passwordHash: await hashPassword("bob's long password") });
    const tok = newApiToken();
    await createApiToken(t.db, { id: tok.id, userId: other.id, name: "bob's", scope: "read_write", secretHash: tok.secretHash });
    expect((await call("DELETE", `/api/v1/tokens/${tok.id}`, browser(ownerCookie))).status).toBe(404);
    expect((await call("GET", "/api/v1/profile", { token: tok.token })).body.username).toBe("bob");
    const mine = await call("GET", "/api/v1/tokens", { cookie: ownerCookie });
    expect(mine.body.tokens.some((x: { id: string }) => x.id === tok.id)).toBe(false);
  });
});

describe("request validation", () => {
  it("malformed JSON → 400 invalid", async () => {
    const r = await call("POST", "/api/v1/tokens", browser(ownerCookie, { raw: '{"name": "x",' }));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid");
  });

  it("a body larger than MAX_JSON_BODY_BYTES → 400 invalid", async () => {
    const r = await call("POST", "/api/v1/tokens", browser(ownerCookie, { body: { name: "x", scope: "read", pad: "x".repeat(MAX_JSON_BODY_BYTES) } }));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid");
    expect(r.body.error.message).toMatch(/larger than/);
  });

  it("unknown fields → 400 invalid with zod details", async () => {
    const r = await call("POST", "/api/v1/auth/login", { body: { username: "a", password: "b", admin: true } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid");
    expect(r.body.error.details).toEqual([expect.objectContaining({ code: "unrecognized_keys" })]);
  });

  it("a non-JSON content type → 400 invalid, even when the body is valid JSON that would log in", async () => {
    // the body is the owner's real credentials as JSON: only the content type is wrong, so a
    // route that ignored it would answer 200 with a session (a cross-site form can send
    // text/plain without a preflight)
    const raw = JSON.stringify({ username: OWNER.username, password: OWNER.password });
    const sessionsBefore = await t.db.session.count();
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const r = await call("POST", "/api/v1/auth/login", { raw, contentType, ip: "10.7.0.1" });
      expect(r.status, contentType).toBe(400);
      expect(r.body.error).toEqual({ code: "invalid", message: "Content-Type must be application/json" });
      expect(r.headers.get("set-cookie"), contentType).toBeNull();
    }
    expect(await t.db.session.count()).toBe(sessionsBefore);
    // the same body as application/json logs in: the refusal above was for the content type alone
    const ok = await call("POST", "/api/v1/auth/login", { raw, contentType: "application/json", ip: "10.7.0.1" });
    expect(ok.status).toBe(200);
    expect((await call("POST", "/api/v1/auth/logout", browser(sessionCookieOf(ok), { ip: "10.7.0.1" }))).status).toBe(204);
  });

  it("an unknown /api path → JSON 404", async () => {
    const r = await call("GET", "/api/v1/nope");
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("not_found");
  });
});

describe("event log", () => {
  it("records logins, failed logins (with the attempted name and source IP) and token creation", async () => {
    const r = await call("GET", "/api/v1/eventlog?per_page=200", { cookie: ownerCookie });
    expect(r.status).toBe(200);
    expect(r.body.page).toBe(1);
    expect(r.body.perPage).toBe(200);
    const events = r.body.events as { action: string; sourceIp: string; target: string; actorName: string; createdAt: string }[];
    expect(r.body.total).toBe(events.length);
    const actions = new Set(events.map((e) => e.action));
    for (const a of ["user.setup_owner", "user.login", "user.login_failed", "token.create", "token.delete"]) expect(actions).toContain(a);
    expect(events.find((e) => e.action === "user.login_failed" && e.sourceIp === "10.1.0.1")?.target).toBe(OWNER.username);
    expect(events.find((e) => e.action === "user.login_failed" && e.target === "nobody")?.sourceIp).toBe("10.9.0.1");
    expect(events.find((e) => e.action === "user.login" && e.sourceIp === "10.1.0.2")?.actorName).toBe(OWNER.username);
    expect(events.find((e) => e.action === "token.create")).toMatchObject({ actorName: OWNER.username, sourceIp: "127.0.0.1" });
    // newest first
    const times = events.map((e) => Date.parse(e.createdAt));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("filters by exact action or by prefix", async () => {
    const exact = await call("GET", "/api/v1/eventlog?action=token.create&per_page=200", { cookie: ownerCookie });
    expect(exact.body.events.length).toBeGreaterThan(0);
    expect(new Set(exact.body.events.map((e: { action: string }) => e.action))).toEqual(new Set(["token.create"]));
    const prefix = await call("GET", "/api/v1/eventlog?action=user.&per_page=200", { cookie: ownerCookie });
    const actions = new Set(prefix.body.events.map((e: { action: string }) => e.action));
    expect(actions.has("user.login")).toBe(true);
    expect(actions.has("user.login_failed")).toBe(true);
    expect([...actions].every((a) => String(a).startsWith("user."))).toBe(true);
  });

  it("pages", async () => {
    const all = await call("GET", "/api/v1/eventlog?per_page=200", { cookie: ownerCookie });
    const p2 = await call("GET", "/api/v1/eventlog?page=2&per_page=3", { cookie: ownerCookie });
    expect(p2.body).toMatchObject({ page: 2, perPage: 3, total: all.body.total });
    expect(p2.body.events.map((e: { id: string }) => e.id)).toEqual(all.body.events.slice(3, 6).map((e: { id: string }) => e.id));
  });

  it("bad query parameters → 400 invalid", async () => {
    for (const q of ["per_page=1000", "page=0", "page=abc", "sort=asc"]) {
      const r = await call("GET", `/api/v1/eventlog?${q}`, { cookie: ownerCookie });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("invalid");
    }
  });

  it("a plain user gets 403", async () => {
    await createUser(t.db, { id: randomUUID(), username: "carol", email: "carol@example.com", role: "user", passwordHash: await hashPassword("carol's long password") });
    const r = await login("carol", "carol's long password", "10.3.0.1");
    expect(r.status).toBe(200);
    const cookie = sessionCookieOf(r);
    expect((await call("GET", "/api/v1/profile", { cookie })).body.role).toBe("user");
    const ev = await call("GET", "/api/v1/eventlog", { cookie });
    expect(ev.status).toBe(403);
    expect(ev.body.error.code).toBe("forbidden");
  });
});

describe("sessions", () => {
  it("slide: an old session is extended and its cookie re-sent", async () => {
    const r = await login(OWNER.username, OWNER.password, "10.4.0.1");
    const cookie = sessionCookieOf(r);
    const id = sha256Hex(cookie.split("=")[1]!);
    await t.sql("UPDATE `Session` SET lastSeenAt = NOW(3) - INTERVAL 2 HOUR, expiresAt = NOW(3) + INTERVAL 1 DAY WHERE id = ?", [id]);
    const p = await call("GET", "/api/v1/profile", { cookie });
    expect(p.status).toBe(200);
    expect(p.headers.get("set-cookie")).toContain("Max-Age=1209600");
    const row = await t.db.session.findUnique({ where: { id } });
    expect(row!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 13 * 24 * 3600_000);
  });

  it("an expired session is refused", async () => {
    const r = await login(OWNER.username, OWNER.password, "10.4.0.1");
    const cookie = sessionCookieOf(r);
    await t.sql("UPDATE `Session` SET expiresAt = NOW(3) - INTERVAL 1 SECOND WHERE id = ?", [sha256Hex(cookie.split("=")[1]!)]);
    expect((await call("GET", "/api/v1/profile", { cookie })).status).toBe(401);
  });

  it("logout → 204, deletes the session and clears the cookie", async () => {
    const r = await login(OWNER.username, OWNER.password, "10.4.0.2");
    const cookie = sessionCookieOf(r);
    expect((await call("POST", "/api/v1/auth/logout", { cookie })).status).toBe(403); // CSRF applies
    const out = await call("POST", "/api/v1/auth/logout", browser(cookie, { ip: "10.4.0.2" }));
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    expect(await t.db.session.count({ where: { id: sha256Hex(cookie.split("=")[1]!) } })).toBe(0);
    expect((await call("GET", "/api/v1/profile", { cookie })).status).toBe(401);
    const ev = await call("GET", "/api/v1/eventlog?action=user.logout", { cookie: ownerCookie });
    expect(ev.body.events.some((e: { sourceIp: string }) => e.sourceIp === "10.4.0.2")).toBe(true);
  });

  it("logout with an API token → 400 saying why; nothing written, the token still works", async () => {
    const { body } = await call("POST", "/api/v1/tokens", browser(ownerCookie, { body: { name: "logout-probe", scope: "read-write" } }));
    const before = await t.db.event.count({ where: { action: "user.logout" } });
    const r = await call("POST", "/api/v1/auth/logout", { token: body.token, ip: "10.4.0.3" });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid");
    expect(r.body.error.message).toMatch(/API token/);
    expect(r.headers.get("set-cookie")).toBeNull();
    expect(await t.db.event.count({ where: { action: "user.logout" } })).toBe(before);
    expect((await call("GET", "/api/v1/profile", { token: body.token })).status).toBe(200);
  });

  it("end 30 days after login however much they are used (the absolute lifetime)", async () => {
    const r = await login(OWNER.username, OWNER.password, "10.4.0.4");
    const cookie = sessionCookieOf(r);
    const id = sha256Hex(cookie.split("=")[1]!);
    // used a minute ago, not idle-expired, but made 30 days ago
    await t.sql("UPDATE `Session` SET createdAt = NOW(3) - INTERVAL 30 DAY, lastSeenAt = NOW(3) - INTERVAL 1 MINUTE, expiresAt = NOW(3) + INTERVAL 10 DAY WHERE id = ?", [id]);
    expect((await call("GET", "/api/v1/profile", { cookie })).status).toBe(401);
    expect(await t.db.session.count({ where: { id } })).toBe(0);
    // 29 days old and used: extended only up to the 30th day
    const r2 = await login(OWNER.username, OWNER.password, "10.4.0.4");
    const cookie2 = sessionCookieOf(r2);
    const id2 = sha256Hex(cookie2.split("=")[1]!);
    await t.sql("UPDATE `Session` SET createdAt = NOW(3) - INTERVAL 29 DAY, lastSeenAt = NOW(3) - INTERVAL 2 HOUR, expiresAt = NOW(3) + INTERVAL 1 HOUR WHERE id = ?", [id2]);
    const p = await call("GET", "/api/v1/profile", { cookie: cookie2 });
    expect(p.status).toBe(200);
    const row = await t.db.session.findUnique({ where: { id: id2 } });
    const left = row!.expiresAt.getTime() - Date.now();
    expect(left).toBeGreaterThan(23 * 3600_000);
    expect(left).toBeLessThanOrEqual(24 * 3600_000 + 5_000);
    const maxAge = Number(/Max-Age=(\d+)/.exec(p.headers.get("set-cookie") ?? "")?.[1]);
    expect(maxAge).toBeGreaterThan(23 * 3600);
    expect(maxAge).toBeLessThanOrEqual(24 * 3600 + 5);
  });
});

describe("two-factor authentication", () => {
  let secret = "";
  const ip = "10.5.0.1";

  it("enrols: a pending secret, then confirmed with a code", async () => {
    const start = await call("POST", "/api/v1/profile/totp", browser(ownerCookie));
    expect(start.status).toBe(200);
    secret = start.body.secret;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(start.body.otpauthUrl).toMatch(/^otpauth:\/\/totp\//);
    // not on until confirmed
    expect((await call("GET", "/api/v1/profile", { cookie: ownerCookie })).body.totpEnabled).toBe(false);
    expect((await call("POST", "/api/v1/profile/totp/enable", browser(ownerCookie, { body: { code: "000000" } }))).status).toBe(400);
    const ok = await call("POST", "/api/v1/profile/totp/enable", browser(ownerCookie, { body: { code: totpCode(secret) } }));
    expect(ok.status).toBe(200);
    expect(ok.body.totpEnabled).toBe(true);
  });

  it("the secret is stored sealed, never in clear", async () => {
    const row = await t.db.user.findFirstOrThrow({ where: { username: OWNER.username } });
    expect(row.totpSecret).toMatch(/^v1:/);
    expect(row.totpSecret).not.toContain(secret);
    const settings = await t.db.setting.findMany();
    expect(JSON.stringify(settings.map((x) => x.value))).not.toContain(secret);
  });

  it("API tokens cannot change two-factor settings", async () => {
    const { body } = await call("POST", "/api/v1/tokens", browser(ownerCookie, { body: { name: "rw2", scope: "read-write" } }));
    expect((await call("DELETE", "/api/v1/profile/totp", { token: body.token, body: { password: OWNER.password } })).status).toBe(403);
  });

  it("login then needs the code: 401 totpRequired without it, 401 when wrong, 200 when right, no replay", async () => {
    const none = await login(OWNER.username, OWNER.password, ip);
    expect(none.status).toBe(401);
    expect(none.body.error).toMatchObject({ code: "unauthorized", details: { totpRequired: true } });
    expect(none.headers.get("set-cookie")).toBeNull();
    const wrongCode = totpCode(secret, Date.now() + 10 * 60_000);
    expect((await login(OWNER.username, OWNER.password, ip, wrongCode)).status).toBe(401);
    // the enrol code used this time step; the next step's code is within the ±1 window
    const code = totpCode(secret, Date.now() + 30_000);
    const ok = await login(OWNER.username, OWNER.password, ip, code);
    expect(ok.status).toBe(200);
    expect((await login(OWNER.username, OWNER.password, ip, code)).status).toBe(401);
  });

  it("one code is accepted once even when sent in parallel from different networks", async () => {
    // forget the steps used so far, so the current code is fresh
    await t.sql("UPDATE `User` SET totpLastStep = NULL WHERE username = ?", [OWNER.username]);
    const code = totpCode(secret);
    const results = await Promise.all(["10.5.1.1", "10.5.2.1", "2001:db8:5:1::1", "2001:db8:5:2::1"].map((a) => login(OWNER.username, OWNER.password, a, code)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401]);
  });

  it("turns off with the password", async () => {
    expect((await call("DELETE", "/api/v1/profile/totp", browser(ownerCookie, { body: { password: "wrong password" } }))).status).toBe(403);
    const r = await call("DELETE", "/api/v1/profile/totp", browser(ownerCookie, { body: { password: OWNER.password } }));
    expect(r.status).toBe(204);
    expect((await login(OWNER.username, OWNER.password, "10.5.0.2")).status).toBe(200);
  });
});

describe("tasks", () => {
  let taskId = "";
  let box: http.Server | undefined;

  afterAll(async () => {
    if (box) await new Promise((r) => box!.close(r));
  });

  it("GET /tasks/:id shows the task; unknown → 404; a plain user → 403", async () => {
    taskId = randomUUID();
    await t.db.task.create({ data: { id: taskId, type: "_sleep", args: { ms: 10 }, state: "running", percent: 40, message: "step 4 of 10" } });
    const r = await call("GET", `/api/v1/tasks/${taskId}`, { cookie: ownerCookie });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: taskId, type: "_sleep", appId: null, state: "running", percent: 40, message: "step 4 of 10", error: null, attempts: 0, startedAt: null, finishedAt: null });
    expect((await call("GET", `/api/v1/tasks/${randomUUID()}`, { cookie: ownerCookie })).status).toBe(404);
    const carol = sessionCookieOf(await login("carol", "carol's long password", "10.3.0.1"));
    expect((await call("GET", `/api/v1/tasks/${taskId}`, { cookie: carol })).status).toBe(403);
  });

  it("task logs while box is down → 502 external", async () => {
    const r = await call("GET", `/api/v1/tasks/${taskId}/logs?follow=1`, { cookie: ownerCookie });
    expect(r.status).toBe(502);
    expect(r.body.error.code).toBe("external");
  });

  it("with box on its socket: status says up and task logs stream as server-sent events", async () => {
    const seen: string[] = [];
    box = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === "/health") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: true, version: "0.1.0", boxId: "test", uptimeSeconds: 1, runningTasks: 1 }));
        return;
      }
      const m = /^\/tasks\/([^/?]+)\/events\?follow=([01])$/.exec(req.url ?? "");
      if (m && m[1] === taskId) {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        const send = (type: string, data: object) => res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
        send("progress", { state: "running", percent: 40, message: "step 4 of 10", error: null });
        send("log", { line: "sleeping 1 ms" });
        setTimeout(() => {
          send("progress", { state: "succeeded", percent: 100, message: "done", error: null });
          send("end", { state: "succeeded" });
          res.end();
        }, 200);
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => box!.listen(boxSocket, r));

    // /status remembers box's health for up to 2 s (lib/server/status.ts)
    let boxState = "";
    for (let i = 0; i < 50 && boxState !== "up"; i++) {
      boxState = (await call("GET", "/api/v1/status")).body.box;
      if (boxState !== "up") await new Promise((r) => setTimeout(r, 100));
    }
    expect(boxState).toBe("up");

    const res = await fetch(`${base}/api/v1/tasks/${taskId}/logs?follow=1`, { headers: { cookie: ownerCookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(text).toContain('event: log\ndata: {"line":"sleeping 1 ms"}');
    expect(text).toContain("event: end");
    expect(seen).toContain(`GET /tasks/${taskId}/events?follow=1`);

    const once = await fetch(`${base}/api/v1/tasks/${taskId}/logs?follow=0`, { headers: { cookie: ownerCookie } });
    await once.text();
    expect(seen).toContain(`GET /tasks/${taskId}/events?follow=0`);
  });
});

describe("logging", () => {
  it("never writes passwords, tokens or cookies to the log", () => {
    expect(serverOutput).not.toContain(OWNER.password);
    expect(serverOutput).not.toContain("hth_");
    expect(serverOutput).not.toContain(ownerCookie.split("=")[1]);
    expect(serverOutput).not.toContain(setupCode);
  });
});

describe("the client's address", () => {
  it("X-Real-IP without nginx's secret (a local process) is not believed: the peer, 127.0.0.1, is recorded", async () => {
    const send = (secret: string | null, username: string) =>
      fetch(`${base}/api/v1/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-real-ip": "192.0.2.77", ...(secret === null ? {} : { "x-hearth-proxy-secret": secret }) },
        body: JSON.stringify({ username, password: "not the password" }),
      });
    expect((await send(null, "nobody-no-secret")).status).toBe(401);
    expect((await send("forged", "nobody-forged")).status).toBe(401);
    expect((await send(TEST_PROXY_SECRET, "nobody-via-nginx")).status).toBe(401);
    const ipOf = async (target: string) => (await t.db.event.findFirst({ where: { action: "user.login_failed", target } }))?.sourceIp;
    expect(await ipOf("nobody-no-secret")).toBe("127.0.0.1");
    expect(await ipOf("nobody-forged")).toBe("127.0.0.1");
    expect(await ipOf("nobody-via-nginx")).toBe("192.0.2.77");
  });
});
