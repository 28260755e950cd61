import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_CODES } from "@hearth/contracts";
import { createApiToken, createUser, type Db } from "@hearth/db";
import { hashPassword } from "../../apps/admin/lib/passwords";
import { newApiToken } from "../../apps/admin/lib/tokens";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { ADMIN_DIR, startAdmin, type RunningAdmin } from "../helpers/admin";

/**
 * A fuzz of admin's REST API over real HTTP: `next start` of the production build against a
 * migrated database on the real MariaDB (box is not running). Every route file under
 * apps/admin/app/api is found on disk, with the methods it exports, so a new route is fuzzed
 * without editing this file. Each (route, method) gets hostile path segments (bad and
 * double escapes, traversal, huge, unicode), hostile bodies (wrong JSON, wrong types,
 * boundary numbers, deep and huge documents, wrong content types) and every persona
 * (anonymous, a junk cookie or token, a plain user, the owner by session, by token and from
 * another origin). A deterministic PRNG picks the mutations, so a run is repeatable.
 *
 * Every answer: below 500; an error in the wire shape { error: { code, message } }; no stack
 * trace or file path in the body. Every refused request (4xx): the row count of every table
 * is what it was before it (only the audit of failed logins may grow).
 */

const SEED = 0x4ea271;
const MIN_REQUESTS = 1000;
const API_DIR = path.join(ADMIN_DIR, "app/api");
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
type Method = (typeof METHODS)[number];

// ---- the routes, from disk ---------------------------------------------------------------

interface RouteFile {
  /** e.g. /api/v1/apps/[id]/configure */
  template: string;
  methods: Method[];
}

function routeFiles(dir = API_DIR, rel: string[] = []): RouteFile[] {
  const out: RouteFile[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...routeFiles(path.join(dir, e.name), [...rel, e.name]));
    else if (e.name === "route.ts") {
      const src = readFileSync(path.join(dir, e.name), "utf8");
      const methods = new Set<Method>();
      for (const m of src.matchAll(/export\s+(?:const|async\s+function|function)\s+(GET|POST|PUT|PATCH|DELETE)\b/g)) methods.add(m[1] as Method);
      for (const m of src.matchAll(/export\s*\{([^}]*)\}/g)) for (const a of m[1]!.matchAll(/\bas\s+(GET|POST|PUT|PATCH|DELETE)\b/g)) methods.add(a[1] as Method);
      out.push({ template: `/api/${rel.join("/")}`, methods: [...methods].sort() });
    }
  }
  return out.sort((a, b) => a.template.localeCompare(b.template));
}

const dynamicNames = (template: string) => [...template.matchAll(/\[(?:\.\.\.)?(\w+)\]/g)].map((m) => m[1]!);

// ---- deterministic randomness --------------------------------------------------------------

function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    pick<T>(xs: readonly T[]): T {
      return xs[Math.floor(next() * xs.length)]!;
    },
    sample<T>(xs: readonly T[], n: number): T[] {
      const copy = [...xs];
      const out: T[] = [];
      while (out.length < n && copy.length > 0) out.push(copy.splice(Math.floor(next() * copy.length), 1)[0]!);
      return out;
    },
  };
}

// ---- hostile inputs ----------------------------------------------------------------------------

/** Raw path segments (sent as is, not encoded again). */
const HOSTILE_SEGMENTS = [
  "%ff%fe",
  "%zz",
  "%",
  "%25zz",
  "%25",
  "%C3",
  "%ED%A0%80",
  "%00",
  "%2F",
  "%2e%2e",
  "..",
  "%5C..%5C",
  "a".repeat(300),
  "%F0%9F%94%A5",
  "%E2%80%AE",
  "null",
  "0",
  "-1",
  "99999999999999999999",
  "'%20OR%201=1--",
  "__proto__",
  "constructor",
  "x.example.com",
  "EXAMPLE.COM.",
  "%20",
];

const deep = (n: number): unknown => {
  let v: unknown = {};
  for (let i = 1; i < n; i++) v = { a: v };
  return v;
};

/** Values put in place of a field of a valid body. */
const HOSTILE_VALUES: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  -0.0,
  1023,
  1024,
  2525,
  3000,
  65535,
  65536,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 53 + 2,
  -(2 ** 63),
  1e308,
  "",
  " ",
  "a".repeat(300),
  "b".repeat(5000),
  "\u0000",
  "\ud800",
  "🔥".repeat(40),
  "\u202eevil",
  "Ünïcödé ☃",
  "../../etc/passwd",
  "<script>alert(1)</script>",
  "' OR '1'='1",
  "%ff%fe",
  "${jndi:ldap://x}",
  "9999-12-31T23:59:59-01:00",
  "10000-01-01T00:00:00Z",
  `1.0.0-${"a".repeat(70)}`,
  "256.1.1.1",
  "registry.example.com:99999999999999999999",
  [],
  {},
  [1, "2", null],
  JSON.parse('{"__proto__":{"polluted":true}}'),
  deep(33),
];

/** Raw bodies for every method that may take one. */
const HOSTILE_RAW_BODIES: (string | Buffer)[] = [
  "",
  "null",
  "[]",
  "{}",
  '"str"',
  "123",
  "{bad json",
  '{"a":1e999}',
  '{"port":99999999999999999999}',
  "[".repeat(33) + "]".repeat(33),
  "[".repeat(10_000) + "]".repeat(10_000),
  '{"a":' + "[".repeat(5000),
  JSON.stringify({ s: "x".repeat(70 * 1024) }),
  '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"x":1}}}',
  Buffer.from([0xff, 0xfe, 0x7b, 0x7d]),
  "\ufeff{}",
  '{"a":"\\ud800"}',
];

const CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1", "application/vnd.api+json", ""];

const HOSTILE_QUERIES = [
  "page=0",
  "page=-1",
  "page=1e309",
  "page=99999999999999999999",
  "page=2147483648",
  "per_page=201",
  "per_page=abc",
  "action=%25",
  "action=user_login",
  "action=%ff",
  "action=" + "a".repeat(65),
  "lines=10001",
  "lines=-1",
  "follow=2",
  "search=" + "s".repeat(200),
  "tag=%00",
  "version=" + "9".repeat(70),
  "all=2",
  "unknown=1",
  "a=1&a=2&a=3",
  "%ff=1",
];

// ---- the client ---------------------------------------------------------------------------------

interface Persona {
  name: string;
  headers: Record<string, string>;
}

interface Sent {
  method: string;
  path: string;
  persona: string;
  note: string;
}

interface Answer {
  status: number;
  contentType: string;
  text: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function send(base: URL, method: string, rawPath: string, headers: Record<string, string>, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = { ...headers };
    if (body !== undefined) h["content-length"] = String(Buffer.byteLength(body));
    const req = http.request({ host: base.hostname, port: base.port, method, path: rawPath, headers: h, agent }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const contentType = String(res.headers["content-type"] ?? "");
      const done = () => resolve({ status: res.statusCode ?? 0, contentType, text: Buffer.concat(chunks).toString("utf8") });
      res.on("data", (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        // a stream (server-sent events) or a huge answer: the first part is enough
        if (contentType.startsWith("text/event-stream") || size > 1024 * 1024) {
          res.destroy();
          done();
        }
      });
      res.on("end", done);
      res.on("error", () => done());
    });
    req.setTimeout(20_000, () => req.destroy(new Error(`timeout: ${method} ${rawPath}`)));
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const LEAK = [/\/opt\//, /\/work\//, /node_modules/, /^\s*at\s+\S.*(:\d+:\d+\)?|<anonymous>\)?)$/m, /\bat\s+[\w$.<>]+\s+\((?:file:\/\/)?\/[^)]*:\d+:\d+\)/, /\.(?:ts|js|mjs|cjs):\d+:\d+/];

function problemsOf(a: Answer): string[] {
  const out: string[] = [];
  if (a.status >= 500) out.push(`status ${a.status}`);
  if (a.status === 0) out.push("no status");
  for (const re of LEAK) if (re.test(a.text)) out.push(`leaks ${re}: ${a.text.slice(0, 300)}`);
  if (a.status >= 400) {
    let body: unknown;
    try {
      body = JSON.parse(a.text);
    } catch {
      body = undefined;
    }
    const err = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    if (!err || typeof err.code !== "string" || !(ERROR_CODES as readonly string[]).includes(err.code) || typeof err.message !== "string" || err.message === "") {
      out.push(`not the error shape: ${a.text.slice(0, 200)}`);
    } else if (Object.keys(body as object).length !== 1) out.push(`extra top-level keys: ${Object.keys(body as object).join(",")}`);
  }
  return out;
}

// ---- lifecycle -------------------------------------------------------------------------------------

let t: TestDatabase & { db: Db };
let admin: RunningAdmin;
let base: URL;
let tables: string[] = [];
const DOMAIN = `fuzz-${randomUUID().slice(0, 8)}.example.com`;
const OWNER = { username: "fuzzowner", email: "owner@fuzz.example.com", password: "fuzz owner's long password" };
const USER = { username: "fuzzuser", email: "user@fuzz.example.com", password: "fuzz user's long password" };
const personas: Record<string, Persona> = {};
const real: Record<string, string> = {};

/** Audit rows a refused request writes on purpose (failed logins feed the login throttle). */
const AUDIT_OF_REFUSALS = ["user.login_failed"];

async function counts(): Promise<Record<string, number>> {
  const parts = tables.map((name) =>
    name === "Event" ? `(SELECT COUNT(*) FROM \`Event\` WHERE action NOT IN (${AUDIT_OF_REFUSALS.map((a) => `'${a}'`).join(",")})) AS \`Event\`` : `(SELECT COUNT(*) FROM \`${name}\`) AS \`${name}\``,
  );
  const rows = await t.db.$queryRawUnsafe<Record<string, bigint | number>[]>(`SELECT ${parts.join(", ")}`);
  return Object.fromEntries(Object.entries(rows[0]!).map(([k, v]) => [k, Number(v)]));
}

function diffOf(a: Record<string, number>, b: Record<string, number>): string {
  return Object.keys(a)
    .filter((k) => a[k] !== b[k])
    .map((k) => `${k} ${a[k]}→${b[k]}`)
    .join(", ");
}

async function loginCookie(username: string, password: string): Promise<string> {
  const res = await fetch(new URL("/api/v1/auth/login", base), { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });
  const m = /hearth_session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "");
  if (res.status !== 200 || !m) throw new Error(`login of ${username} failed: ${res.status} ${await res.text()}`);
  return `hearth_session=${m[1]}`;
}

const STATIC_MANIFEST = JSON.parse(readFileSync(path.join(ADMIN_DIR, "../../packages/catalog/apps/static-site/HearthManifest.json"), "utf8")) as Record<string, unknown>;
const fuzzManifest = (over: Record<string, unknown> = {}) => ({
  ...STATIC_MANIFEST,
  id: "org.example.fuzz",
  title: "Fuzz",
  icon: "",
  tcpPorts: { ECHO_PORT: { title: "echo", containerPort: 9000, defaultValue: 17000 } },
  ...over,
});

beforeAll(async () => {
  t = await migratedDatabase("fuzz");
  const boxSocket = path.join(os.tmpdir(), `hearth-fuzz-${randomUUID()}.sock`); // box is not running
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: boxSocket, HEARTH_LOG_LEVEL: "warn", HEARTH_SECRET_KEY: Buffer.alloc(32, 7).toString("base64") });
  base = new URL(admin.base);

  const owner = await createUser(t.db, { id: randomUUID(), username: OWNER.username, email: OWNER.email, role: "owner", passwordHash: await hashPassword(OWNER.password) });
  await createUser(t.db, { id: randomUUID(), username: USER.username, email: USER.email, role: "user", passwordHash: await hashPassword(USER.password) });
  const ownerCookie = await loginCookie(OWNER.username, OWNER.password);
  const userCookie = await loginCookie(USER.username, USER.password);
  const tok = newApiToken();
  await createApiToken(t.db, { id: tok.id, userId: owner.id, name: "fuzz", scope: "read_write", secretHash: tok.secretHash });
  real.tokenId = tok.id;
  const origin = admin.base;
  Object.assign(personas, {
    anonymous: { name: "anonymous", headers: {} },
    junkCookie: { name: "junkCookie", headers: { cookie: `hearth_session=${"A".repeat(43)}`, origin } },
    junkBearer: { name: "junkBearer", headers: { authorization: "Bearer hth_not-a-token_%ff" } },
    user: { name: "user", headers: { cookie: userCookie, origin } },
    owner: { name: "owner", headers: { cookie: ownerCookie, origin } },
    ownerToken: { name: "ownerToken", headers: { authorization: `Bearer ${tok.token}` } },
    ownerCrossOrigin: { name: "ownerCrossOrigin", headers: { cookie: ownerCookie, origin: "https://evil.example" } },
  } satisfies Record<string, Persona>);

  // what the routes act on: a domain, an installed app (box is down: its row is set as box would), a task
  const json = { "content-type": "application/json", ...personas.owner!.headers };
  const d = await send(base, "POST", "/api/v1/domains", json, JSON.stringify({ domain: DOMAIN, provider: "manual", tlsMode: "fallback" }));
  expect(d.status, d.text).toBeLessThan(300);
  const a = await send(base, "POST", "/api/v1/apps", json, JSON.stringify({ manifest: fuzzManifest(), subdomain: "fz", domain: DOMAIN, portBindings: { ECHO_PORT: 17001 } }));
  expect(a.status, a.text).toBe(202);
  const { id: appId, taskId } = JSON.parse(a.text) as { id: string; taskId: string };
  await t.db.task.update({ where: { id: taskId }, data: { state: "succeeded", percent: 100, finishedAt: new Date() } });
  await t.db.app.update({ where: { id: appId }, data: { installState: "installed", httpHostPort: 24000 } });
  real.id = appId;
  real.taskId = taskId;
  real.domain = DOMAIN;
  tables = (await t.db.$queryRawUnsafe<{ name: string }[]>("SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME")).map((r) => r.name);
}, 300_000);

afterAll(async () => {
  agent.destroy();
  await admin?.stop();
  await t?.drop();
});

/** What box would do with queued tasks (it is not running): finish them, so the app is not busy for the next request. */
async function settle(): Promise<void> {
  await t.db.task.updateMany({ where: { state: { in: ["pending", "running"] } }, data: { state: "succeeded", percent: 100, finishedAt: new Date() } });
  await t.db.app.updateMany({
    where: { installState: { in: ["pending_install", "pending_configure", "pending_start", "pending_stop", "pending_restart", "pending_update"] } },
    data: { installState: "installed" },
  });
}

// ---- the request plan ----------------------------------------------------------------------------

interface Planned extends Sent {
  /** "METHOD template" */
  route: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** Valid bodies (as the owner) that the mutations start from, by "METHOD template". */
function seeds(): Record<string, Record<string, unknown>> {
  return {
    "POST /api/v1/apps": { manifest: fuzzManifest(), subdomain: "fz2", domain: DOMAIN, memoryLimit: 268435456, env: { GREETING: "hi" }, portBindings: { ECHO_PORT: 17002 } },
    "POST /api/v1/apps/[id]/configure": { memoryLimit: 268435456, env: { GREETING: "hello" }, portBindings: { ECHO_PORT: 17003 }, aliases: [{ subdomain: "fzalias", domain: DOMAIN }] },
    "POST /api/v1/apps/[id]/update": { manifest: fuzzManifest({ version: "1.0.1" }), force: false },
    "POST /api/v1/auth/login": { username: OWNER.username, password: "not the password at all" },
    "POST /api/v1/domains": { domain: `b.${DOMAIN}`, provider: "manual", tlsMode: "fallback" },
    "PATCH /api/v1/domains/[domain]": { tlsMode: "fallback" },
    "POST /api/v1/registries": { server: "registry.example.com:5000", username: "u", password: "p" },
    "PUT /api/v1/settings/acme": { directoryUrl: "https://acme.example.com/directory", email: "acme@example.com" },
    "PUT /api/v1/settings/mail": { mode: "smarthost", host: "smtp.example.com", port: 587, security: "starttls", username: "u", password: "p" },
    "POST /api/v1/settings/mail/test": { to: "someone@example.com" },
    "PUT /api/v1/settings/network": { ipv4: "192.0.2.10", ipv6: null },
    "POST /api/v1/setup/owner": { username: "second", email: "second@example.com", password: "a long enough password" },
    "POST /api/v1/tokens": { name: "fz", scope: "read", expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
    "POST /api/v1/profile/totp/enable": { code: "123456" },
    "DELETE /api/v1/profile/totp": { password: "not the password" },
  };
}

/** Real values of path params (never for DELETE: the fuzz must not remove what it acts on). */
function realParam(name: string, template: string): string | undefined {
  if (name === "id" && template.includes("/tasks/")) return real.taskId;
  if (name === "id" && template.includes("/tokens/")) return real.tokenId;
  if (name === "id" && template.includes("/apps/")) return real.id;
  if (name === "domain") return real.domain;
  return undefined;
}

function fill(template: string, method: Method, segment: (name: string) => string): string {
  return template.replace(/\[(?:\.\.\.)?(\w+)\]/g, (_m, name: string) => segment(name));
}

/** Routes that stream from box: with box down a real target is 502 by contract, so only hostile targets. */
const STREAMS_FROM_BOX = /\/logs(\/download)?$/;
/** Routes that answer with what box read (the metrics): with box down a request that passes the checks is 502 `external` by contract. */
// reads admin answers from box (metrics, the file manager): 502 `external` while box is down, as in this fuzz
const READS_FROM_BOX = /^GET \/api\/v1\/(server\/metrics|apps\/\[id\]\/(metrics|files(\/[a-z]+)?))$/;

function plan(routes: RouteFile[]): Planned[] {
  const r = prng(SEED);
  const out: Planned[] = [];
  let current = "";
  const push = (q: Omit<Planned, "route">) => out.push({ ...q, route: current });
  const allSeeds = seeds();
  const json = (p: Persona) => ({ "content-type": "application/json", ...p.headers });
  const realOr = (template: string, method: Method) => (name: string) => {
    const v = method === "DELETE" || STREAMS_FROM_BOX.test(template) ? undefined : realParam(name, template);
    return v ?? r.pick(HOSTILE_SEGMENTS);
  };
  const personaFor = (template: string, method: Method) =>
    template.endsWith("/auth/logout")
      ? personas.junkCookie!
      : template.endsWith("/auth/login") || template.includes("/setup/")
        ? personas.anonymous!
        : method === "GET"
          ? personas.ownerToken!
          : personas.owner!;

  for (const route of routes) {
    const names = dynamicNames(route.template);
    for (const method of route.methods) {
      const key = `${method} ${route.template}`;
      current = key;
      const seed = allSeeds[key];
      const hasBody = method !== "GET";
      const who = personaFor(route.template, method);

      // 1. hostile path segments (each one, in every dynamic position) as the owner; some anonymous
      if (names.length > 0) {
        const anonymous = new Set(r.sample(HOSTILE_SEGMENTS, 5));
        for (const seg of HOSTILE_SEGMENTS) {
          for (const p of anonymous.has(seg) ? [who, personas.anonymous!] : [who]) {
            const rawPath = fill(route.template, method, () => seg);
            push({ method, path: rawPath, persona: p.name, note: `segment ${seg.slice(0, 20)}`, headers: hasBody ? json(p) : p.headers, body: hasBody ? JSON.stringify(seed ?? {}) : undefined });
          }
        }
      }

      // 2. every persona with the valid body (or none)
      for (const p of Object.values(personas)) {
        if (route.template.endsWith("/auth/logout") && (p.name === "owner" || p.name === "user" || p.name === "ownerToken")) continue; // would end the fuzz's own sessions
        const rawPath = fill(route.template, method, realOr(route.template, method));
        push({ method, path: rawPath, persona: p.name, note: "persona", headers: hasBody ? json(p) : p.headers, body: hasBody ? JSON.stringify(seed ?? {}) : undefined });
      }

      if (method === "GET") {
        // 3. hostile queries
        for (const q of r.sample(HOSTILE_QUERIES, 6)) {
          push({ method, path: `${fill(route.template, method, realOr(route.template, method))}?${q}`, persona: who.name, note: `query ${q.slice(0, 30)}`, headers: who.headers });
        }
        continue;
      }

      // 4. hostile raw bodies and content types
      const rawPath = fill(route.template, method, realOr(route.template, method));
      // routes that take no body get a sample; the others every one
      for (const body of seed ? HOSTILE_RAW_BODIES : r.sample(HOSTILE_RAW_BODIES, 6))
        push({ method, path: rawPath, persona: who.name, note: `raw ${String(body).slice(0, 20)}`, headers: json(who), body });
      for (const ct of seed ? CONTENT_TYPES : r.sample(CONTENT_TYPES, 3)) {
        const headers: Record<string, string> = { ...who.headers };
        if (ct) headers["content-type"] = ct;
        push({ method, path: rawPath, persona: who.name, note: `content-type ${ct}`, headers, body: JSON.stringify(seed ?? {}) });
      }

      // 5. each field of the valid body replaced by hostile values, removed, or joined by an unknown one
      if (seed) {
        const mutate = (obj: Record<string, unknown>, at: string[]): void => {
          for (const k of Object.keys(obj)) {
            for (const v of r.sample(HOSTILE_VALUES, 4)) {
              push({
                method,
                path: rawPath,
                persona: who.name,
                note: `field ${[...at, k].join(".")} = ${(JSON.stringify(v) ?? "undefined").slice(0, 40)}`,
                headers: json(who),
                body: JSON.stringify(setAt(seed, [...at, k], v)),
              });
            }
            push({ method, path: rawPath, persona: who.name, note: `without ${[...at, k].join(".")}`, headers: json(who), body: JSON.stringify(setAt(seed, [...at, k], undefined)) });
            const inner = obj[k];
            if (inner && typeof inner === "object" && !Array.isArray(inner) && at.length < 2) mutate(inner as Record<string, unknown>, [...at, k]);
          }
          push({ method, path: rawPath, persona: who.name, note: `unknown key at ${at.join(".")}`, headers: json(who), body: JSON.stringify(setAt(seed, [...at, "zzUnknown"], 1)) });
        };
        mutate(seed, []);
      }
    }
  }

  // 6. hostile paths outside any route, and source addresses
  current = "other";
  for (const seg of HOSTILE_SEGMENTS) push({ method: "GET", path: `/api/v1/${seg}/x`, persona: "owner", note: "unknown route", headers: personas.owner!.headers });
  for (const ip of ["not-an-ip", "1.2.3.4, 5.6.7.8", "::ffff:127.0.0.1", "%ff", "999.1.1.1"]) {
    push({ method: "GET", path: "/api/v1/profile", persona: "owner", note: `x-real-ip ${ip}`, headers: { ...personas.owner!.headers, "x-real-ip": ip } });
  }
  return out;
}

function setAt(obj: Record<string, unknown>, at: string[], v: unknown): Record<string, unknown> {
  const copy = structuredClone(obj);
  let cur: Record<string, unknown> = copy;
  for (const k of at.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
  const last = at.at(-1)!;
  if (v === undefined) delete cur[last];
  else cur[last] = v;
  return copy;
}

// ---- the tests -----------------------------------------------------------------------------------

describe("API fuzz", () => {
  it("finds every route file with its methods", () => {
    const routes = routeFiles();
    expect(routes.length).toBeGreaterThan(30);
    expect(routes.find((r) => r.template === "/api/v1/apps/[id]/configure")?.methods).toEqual(["POST"]);
    expect(routes.find((r) => r.template === "/api/v1/domains/[domain]")?.methods).toEqual(["DELETE", "GET", "PATCH"]);
    expect(routes.find((r) => r.template === "/api/[...path]")?.methods).toEqual(["DELETE", "GET", "PATCH", "POST", "PUT"]);
    for (const r of routes) expect(r.methods.length, r.template).toBeGreaterThan(0);
  });

  it("the findings of the first fuzz are refused with 400 and leave nothing", async () => {
    const owner = { "content-type": "application/json", ...personas.owner!.headers };
    const before = await counts();
    const cases: [string, string, unknown][] = [
      ["POST", "/api/v1/tokens", { name: "late", scope: "read", expiresAt: "9999-12-31T23:59:59-01:00" }],
      ["POST", `/api/v1/apps/${real.id}/update`, { manifest: fuzzManifest({ version: `1.0.1-${"a".repeat(70)}` }) }],
      ["POST", "/api/v1/apps", { manifest: fuzzManifest({ addons: { localstorage: deep(33) } }), subdomain: "deep", domain: DOMAIN }],
      ["POST", "/api/v1/registries", { server: "registry.example.com:99999999999999999999", username: "u", password: "p" }],
      ["PUT", "/api/v1/settings/mail", { mode: "smarthost", host: "256.1.1.1", port: 587 }],
      ["POST", "/api/v1/apps", { manifest: fuzzManifest(), subdomain: "p3000", domain: DOMAIN, portBindings: { ECHO_PORT: 3000 } }],
      ["POST", `/api/v1/apps/${real.id}/configure`, { portBindings: { ECHO_PORT: 2525 } }],
      // an unpaired surrogate escape: MariaDB refuses it in a JSON column
      ["PUT", "/api/v1/settings/mail", { mode: "smarthost", host: "smtp.example.com", username: "\ud800", password: "p" }],
      ["POST", `/api/v1/apps/${real.id}/configure`, { env: { GREETING: "\udc00" } }],
    ];
    for (const [method, p, body] of cases) {
      const a = await send(base, method, p, owner, JSON.stringify(body));
      expect(a.status, `${method} ${p}: ${a.text}`).toBe(400);
      expect(problemsOf(a)).toEqual([]);
    }
    const deepRaw = '{"manifest":' + '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000) + "}";
    const d = await send(base, "POST", "/api/v1/apps", owner, deepRaw);
    expect(d.status).toBe(400);
    expect(JSON.parse(d.text).error.message).toMatch(/nested deeper than 32/);
    for (const p of ["/api/v1/apps/%ff%fe", `/api/v1/apps/${real.id}/%ff`, "/api/v1/domains/%ff%fe/records", "/api/v1/tasks/%C3/logs"]) {
      const a = await send(base, "GET", p, personas.owner!.headers);
      expect(a.status, p).toBe(400);
      expect(JSON.parse(a.text).error.code).toBe("invalid");
    }
    const pct = await send(base, "GET", "/api/v1/domains/%25zz", personas.owner!.headers);
    expect(pct.status).toBe(404);
    expect(await counts()).toEqual(before);

    // `%` and `_` in the event log's filter are literal: there are events, none matches
    const all = JSON.parse((await send(base, "GET", "/api/v1/eventlog", personas.owner!.headers)).text) as { total: number };
    expect(all.total).toBeGreaterThan(0);
    for (const q of ["%25", "app%25", "%25.install", "app_install", "app.instal_"]) {
      const r = await send(base, "GET", `/api/v1/eventlog?action=${q}`, personas.owner!.headers);
      expect(r.status).toBe(200);
      expect((JSON.parse(r.text) as { total: number }).total, q).toBe(0);
    }
    expect((JSON.parse((await send(base, "GET", "/api/v1/eventlog?action=app.install", personas.owner!.headers)).text) as { total: number }).total).toBe(1);
    for (const q of ["page=99999999999999999999", "page=2147483648", "page=9007199254740991", "per_page=200&page=4294967296"]) {
      const r = await send(base, "GET", `/api/v1/eventlog?${q}`, personas.owner!.headers);
      expect(problemsOf(r), q).toEqual([]);
    }

    // at the depth limit a body is taken, and the manifest lands in MariaDB's JSON columns
    const at32 = { manifest: fuzzManifest({ addons: { localstorage: deep(29) } }), subdomain: "deep32", domain: DOMAIN };
    const ok = await send(base, "POST", "/api/v1/apps", owner, JSON.stringify(at32));
    expect(ok.status, ok.text).toBe(202);
    await settle();
  });

  it(`sends at least ${MIN_REQUESTS} hostile requests across every route: no 5xx, the error shape, no internals, nothing left by a refusal`, async () => {
    const routes = routeFiles();
    const requests = plan(routes);
    expect(requests.length).toBeGreaterThanOrEqual(MIN_REQUESTS);
    const perRoute = new Map<string, number>();
    for (const q of requests) perRoute.set(q.route, (perRoute.get(q.route) ?? 0) + 1);
    for (const r of routes) for (const m of r.methods) expect(perRoute.get(`${m} ${r.template}`) ?? 0, `${m} ${r.template}`).toBeGreaterThanOrEqual(7);

    const problems: string[] = [];
    const statuses = new Map<number, number>();
    // rows are counted around every request that may write (GETs never do), one query for all tables
    let baseline: Record<string, number> | null = null;
    let boxDown = 0;
    const started = performance.now();
    for (const q of requests) {
      if (q.method !== "GET" && baseline === null) baseline = await counts();
      let a: Answer;
      try {
        a = await send(base, q.method, q.path, q.headers, q.body);
      } catch (e) {
        problems.push(`${q.method} ${q.path} [${q.persona}; ${q.note}]: ${(e as Error).message}`);
        continue;
      }
      // a metrics read with box down answers 502 `external`: only that status is let off, every other check (leaks, error shape) still runs
      const boxDownAnswer = a.status === 502 && READS_FROM_BOX.test(q.route) && /"code":"external"/.test(a.text);
      if (boxDownAnswer) boxDown++;
      else statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      for (const p of problemsOf(a).filter((p) => !(boxDownAnswer && p === "status 502"))) problems.push(`${q.method} ${q.path.slice(0, 120)} [${q.persona}; ${q.note}]: ${p}`);
      if (a.status < 300) await settle();
      if (q.method === "GET" || boxDownAnswer) {
        baseline = null;
        continue;
      }
      const now = await counts();
      if (a.status >= 400) {
        const diff = diffOf(baseline!, now);
        if (diff) problems.push(`${q.method} ${q.path.slice(0, 120)} [${q.persona}; ${q.note}]: refused with ${a.status} but changed rows: ${diff}`);
      }
      baseline = now;
    }
    console.log(
      `api fuzz: ${requests.length} requests over ${routes.length} route files in ${Math.round((performance.now() - started) / 1000)} s (seed ${SEED.toString(16)}); statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((x, y) => x[0] - y[0])))}; ${boxDown} metrics reads answered 502 (box down)`,
    );
    expect(problems.slice(0, 40)).toEqual([]);
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
    // the fuzz reached the handlers, not only the gates
    expect(statuses.get(400) ?? 0).toBeGreaterThan(200);
    expect(statuses.get(404) ?? 0).toBeGreaterThan(50);
    expect(statuses.get(401) ?? 0).toBeGreaterThan(20);
    expect(statuses.get(403) ?? 0).toBeGreaterThan(20);
    expect([...statuses.keys()].some((s) => s >= 200 && s < 300)).toBe(true);
  }, 240_000);
});
