import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest, type HearthManifest } from "@hearth/contracts";
import { openSecret, type Db } from "@hearth/db";
import { LocalStorageAddon } from "../../apps/box/src/addons/localstorage";
import { PostgresqlAddon } from "../../apps/box/src/addons/postgresql";
import type { AddonProvisioner } from "../../apps/box/src/addons/provisioner";
import { RedisAddon } from "../../apps/box/src/addons/redis";
import type { ServiceManager } from "../../apps/box/src/addons/services";
import type { AppService, StepContext } from "../../apps/box/src/apps/apps.service";
import { CAP_ADD, containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { createLogger } from "../../apps/box/src/logger";
import { addonTestStack, buildCatalogImage, buildServiceImages } from "../helpers/addon-stack";
import { AppBrowser, until } from "../helpers/app-browser";
import { insertPendingApp } from "../helpers/app-rows";
import { REPO_ROOT, type TestDatabase } from "../helpers/db";
import { removeTestDockerObjects } from "../helpers/teardown";
import { uninstallAndPurge } from "../helpers/purge";

/**
 * The built-in catalog's Pastebin (packages/catalog/apps/pastebin, our own Flask app)
 * installed by the real AppService with its real addons: postgresql on the real PostgreSQL
 * service and redis as its own Redis container (ServiceManager on a prefix of this run),
 * plus localstorage. Then, over HTTP on the app's host port with the Host, X-Forwarded-Proto
 * and X-Real-IP that Hearth's nginx sends: health, a login as admin with the password from the
 * app's log, a paste created and read back anonymously, its view counter in Redis, CSRF,
 * escaping, size and rate limits, expiry; a restart keeps the data and the session; uninstall
 * leaves nothing.
 */

const RUN = randomBytes(4).toString("hex");
const OWNER = `catalog-pb-${RUN}`;
const PREFIX = `hearth-t${RUN}b-`;
const DOMAIN = "pb-test.example";
const SUB = "paste";
const FQDN = `${SUB}.${DOMAIN}`;
const CREATE_LIMIT = 5;
const MAX_PASTE_BYTES = 8192;
const APP_DIR = path.join(REPO_ROOT, "packages/catalog/apps/pastebin");
const dataDir = mkdtempSync(path.join(os.tmpdir(), "hearth-catpb-"));
const logLines: string[] = [];
const log = createLogger("info", "catalog-pb-test", { write: (s: string) => void logLines.push(s) });
const ctxLines: string[] = [];
const ctx = (): StepContext => ({ taskId: randomUUID(), progress: async () => {}, log: (l) => void ctxLines.push(l), signal: new AbortController().signal });
const secretKey = randomBytes(32);

let t: TestDatabase & { db: Db };
let db: Db;
let services: ServiceManager;
let prov: AddonProvisioner;
let apps: AppService;
let appId = "";
const manifest: HearthManifest = hearthManifest.parse(JSON.parse(readFileSync(path.join(APP_DIR, "HearthManifest.json"), "utf8")));

const rootPsql = (sql: string) => execFileSync("docker", ["exec", `${PREFIX}postgresql`, "runuser", "-u", "postgres", "--", "psql", "-X", "-tAc", sql], { encoding: "utf8" }).trim();
const exists = (kind: string, name: string) => spawnSync("docker", [kind, "inspect", name], { stdio: "ignore" }).status === 0;
const containerLogs = (name: string) => {
  const r = spawnSync("docker", ["logs", name], { encoding: "utf8" });
  return `${r.stdout}${r.stderr}`;
};
/** redis-cli in the app's own Redis container, with the password stored for the addon (through the environment). */
async function appRedis(...args: string[]): Promise<string> {
  const row = await db.appAddon.findUnique({ where: { appId_name: { appId, name: "redis" } } });
  const { password } = JSON.parse(openSecret(secretKey, row!.credentialsEnc!)) as { password: string };
  const r = spawnSync("docker", ["exec", "-e", "REDISCLI_AUTH", services.containerName("redis", appId), "redis-cli", "--no-auth-warning", "--raw", ...args], {
    env: { ...process.env, REDISCLI_AUTH: password },
    encoding: "utf8",
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout.trim();
}

/** A browser on the app's host port: Host, X-Forwarded-Proto and the client's address as nginx sends them, a cookie jar. */
class Browser extends AppBrowser {
  constructor(port: number, ip = "203.0.113.7") {
    super(port, { host: FQDN, ip, realIp: true });
  }
  /** The CSRF token of the forms on a page (it fetches the page). */
  async csrf(p = "/"): Promise<string> {
    const page = await this.get(p);
    const token = /name="csrf_token" value="([^"]+)"/.exec(page.body)?.[1];
    if (!token) throw new Error(`no csrf_token on ${p} (${page.status}): ${page.body.slice(0, 300)}`);
    return token;
  }
  async login(password: string, username = "admin") {
    return this.post("/login", { csrf_token: await this.csrf("/login"), username, password, next: "/" });
  }
  async paste(fields: Record<string, string>) {
    return this.post("/pastes", { csrf_token: await this.csrf("/"), ...fields });
  }
}

beforeAll(async () => {
  buildServiceImages(["base", "postgresql", "redis"]);
  const b = buildCatalogImage("pastebin");
  console.log(`catalog-pastebin: image build ${b.ms} ms (${b.last})`);
  ({ t, db, services, prov, apps } = await addonTestStack({
    dbName: "catpb",
    owner: OWNER,
    prefix: PREFIX,
    dataDir,
    log,
    secretKey,
    domain: DOMAIN,
    handlers: (deps) => [new PostgresqlAddon(deps), new RedisAddon(deps), new LocalStorageAddon(deps)],
    apps: { healthTimeoutMs: 240_000, healthIntervalMs: 250 },
  }));
}, 1_800_000);

afterAll(() => removeTestDockerObjects({ owner: OWNER, appIds: appId ? [appId] : [], dataDir, database: t }), 300_000);

describe("Pastebin from the built-in catalog", () => {
  let port = 0;
  let admin: Browser;
  let password = "";
  let env: Record<string, string> = {};
  let pasteId = "";
  const body = `line one ${RUN}\n\tindented <b>not bold</b> & "quoted"\n`;

  it("installs with postgresql + redis and is healthy without a setup screen", async () => {
    appId = randomUUID();
    await insertPendingApp(db, manifest, { id: appId, subdomain: SUB, domain: DOMAIN, env: { PASTEBIN_CREATE_LIMIT: String(CREATE_LIMIT), PASTEBIN_MAX_PASTE_BYTES: String(MAX_PASTE_BYTES) } });
    const t0 = Date.now();
    const { httpHostPort } = await apps.install(appId, ctx());
    const healthy = Date.now() - t0;
    port = httpHostPort;
    admin = new Browser(port);
    const health = await admin.get("/healthz");
    const front = await admin.get("/");
    console.log(`catalog-pastebin: install → healthy ${healthy} ms, → first 200 ${Date.now() - t0} ms (addons: ${JSON.stringify(prov.lastTimings)})`);
    expect(health.status, health.body).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: "ok" });
    expect(front.status).toBe(200);
    expect(front.body).toMatch(/Log in<\/a> to create pastes/);
    expect(ctxLines.filter((l) => /^addon (postgresql|redis|localstorage) ready \(\d+ ms\)$/.test(l))).toHaveLength(3);

    const c = JSON.parse(execFileSync("docker", ["inspect", containerNameOf(appId)], { encoding: "utf8" }))[0];
    env = Object.fromEntries((c.Config.Env as string[]).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    expect(env.HEARTH_POSTGRESQL_URL).toMatch(/^postgres:\/\//);
    expect(env.HEARTH_REDIS_URL).toMatch(/^redis:\/\//);
    expect(c.HostConfig.ReadonlyRootfs).toBe(true);
    // the schema is in the app's own database, at the newest version
    const inAppDb = (sql: string) =>
      execFileSync("docker", ["exec", `${PREFIX}postgresql`, "runuser", "-u", "postgres", "--", "psql", "-X", "-tA", "-d", env.HEARTH_POSTGRESQL_DATABASE!, "-c", sql], { encoding: "utf8" }).trim();
    expect(inAppDb("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'public'")).toBe("pastes,schema_version,users");
    expect(inAppDb("SELECT max(version) FROM schema_version")).toBe("1");
    expect(inAppDb("SELECT password_hash FROM users WHERE username = 'admin'")).toMatch(/^scrypt\$16384\$8\$1\$/);
    // the admin's initial password is in the app's log, once; no addon secret is
    const logs = containerLogs(containerNameOf(appId));
    const m = /log in at https:\/\/paste\.pb-test\.example\/login as 'admin' with the password: (\S+)/.exec(logs);
    expect(m, logs).not.toBeNull();
    password = m![1]!;
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect(logs).not.toContain(env.HEARTH_POSTGRESQL_PASSWORD);
    expect(logs).not.toContain(env.HEARTH_REDIS_PASSWORD);
    // gunicorn runs as the app's user, not root
    const top = execFileSync("docker", ["top", containerNameOf(appId), "-eo", "pid,uid,comm"], { encoding: "utf8" })
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.trim().split(/\s+/));
    const gunicorn = top.filter(([, , comm]) => comm === "gunicorn");
    expect(gunicorn.length).toBeGreaterThanOrEqual(3); // the arbiter and two workers
    // (docker top names users by the host's passwd: compare the container's uid)
    const uid = execFileSync("docker", ["exec", containerNameOf(appId), "id", "-u", "pastebin"], { encoding: "utf8" }).trim();
    expect(uid).not.toBe("0");
    expect(
      gunicorn.every(([, u]) => u === uid),
      JSON.stringify(top),
    ).toBe(true);
  }, 600_000);

  it("refuses a wrong password and needs a login to create pastes", async () => {
    const anon = new Browser(port);
    const create = await anon.post("/pastes", { csrf_token: await anon.csrf("/login"), body: "x" });
    expect(create.status).toBe(303);
    expect(create.headers.location).toBe("/login?next=/pastes");
    expect((await anon.get("/admin")).status).toBe(303);
    const bad = await anon.login("wrong-password");
    expect(bad.status).toBe(401);
    expect(bad.body).toContain("Wrong user name or password.");
    expect((await anon.get("/admin")).status).toBe(303);
    // a login form without its CSRF token is refused before the password is even looked at
    const noCsrf = await new Browser(port).post("/login", { username: "admin", password });
    expect(noCsrf.status).toBe(403);
  });

  it("the admin logs in with the password from the log, in a session kept in Redis", async () => {
    await admin.get("/login");
    const anonSid = admin.cookies.get("pastebin_session");
    expect(anonSid).toBeTruthy();
    const login = await admin.login(password);
    expect(login.status, login.body.slice(0, 500)).toBe(303);
    expect(login.headers.location).toBe("/");
    const cookie = (login.headers["set-cookie"] ?? []).find((c) => c.startsWith("pastebin_session="))!;
    for (const attr of ["Secure", "HttpOnly", "Path=/", "SameSite=Lax", "Max-Age=1209600"]) expect(cookie.split("; "), cookie).toContain(attr);
    const sid = admin.cookies.get("pastebin_session")!;
    expect(sid).not.toBe(anonSid); // a new session id at login
    const stored = JSON.parse(await appRedis("GET", `pastebin:session:${sid}`)) as { uid: number; username: string };
    expect(stored).toMatchObject({ username: "admin" });
    expect(Number(await appRedis("TTL", `pastebin:session:${sid}`))).toBeGreaterThan(13 * 86400);
    expect(await appRedis("EXISTS", `pastebin:session:${anonSid}`)).toBe("0");
    const home = await admin.get("/");
    expect(home.body).toContain("New paste");
    expect(home.body).toContain("Log out admin");
  });

  it("creates a paste that anyone with the link reads, escaped, and counts its views in Redis", async () => {
    const create = await admin.paste({ title: `Hello <script>alert(${RUN})</script>`, body, syntax: "python", expiry: "never" });
    expect(create.status, create.body.slice(0, 500)).toBe(303);
    pasteId = /^\/p\/([A-Za-z0-9_-]{22})$/.exec(create.headers.location ?? "")?.[1] ?? "";
    expect(pasteId, create.headers.location).toBeTruthy();

    const anon = new Browser(port, "198.51.100.20");
    const page = await anon.get(`/p/${pasteId}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`Hello &lt;script&gt;alert(${RUN})&lt;/script&gt;`);
    expect(page.body).not.toContain("<script>");
    expect(page.body).toContain(`line one ${RUN}\n\tindented &lt;b&gt;not bold&lt;/b&gt; &amp; &#34;quoted&#34;`);
    expect(page.body).toContain('class="language-python"');
    expect(page.body).toContain(`https://${FQDN}/p/${pasteId}`); // the link from HEARTH_APP_ORIGIN
    expect(page.body).toContain("1 view<");
    expect(page.body).toContain("never expires");
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    expect(page.headers["content-security-policy"]).toMatch(/default-src 'none'/);
    expect(page.body).not.toContain("Delete this paste");
    const raw = await anon.get(`/p/${pasteId}/raw`);
    expect(raw.status).toBe(200);
    expect(raw.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(raw.body).toBe(body);
    expect(await appRedis("GET", `pastebin:views:${pasteId}`)).toBe("2");
    const again = await anon.get(`/p/${pasteId}`);
    expect(again.body).toContain("3 views<");
    expect(await appRedis("GET", `pastebin:views:${pasteId}`)).toBe("3");
    // unknown and malformed ids
    expect((await anon.get(`/p/${"A".repeat(22)}`)).status).toBe(404);
    expect((await anon.get("/p/..%2F..%2Fetc")).status).toBe(404);
    // the list shows it with its count
    const list = await admin.get("/admin");
    expect(list.status).toBe(200);
    expect(list.body).toContain(`href="/p/${pasteId}"`);
    expect(list.body).toMatch(/<td class="num">3<\/td>/);
  });

  it("refuses forms without the CSRF token, empty and too big pastes", async () => {
    const b = new Browser(port, "198.51.100.30");
    expect((await b.login(password)).status).toBe(303);
    expect((await b.post("/pastes", { body: "no token" })).status).toBe(403);
    expect((await b.post("/pastes", { csrf_token: "x".repeat(43), body: "bad token" })).status).toBe(403);
    expect((await b.post(`/p/${pasteId}/delete`, {})).status).toBe(403);
    const empty = await b.paste({ body: "  \n " });
    expect(empty.status).toBe(400);
    expect(empty.body).toContain("The paste is empty.");
    const big = await b.paste({ body: "x".repeat(MAX_PASTE_BYTES + 1) });
    expect(big.status).toBe(413);
    expect(big.body).toContain("The paste is too big: at most 8 KiB.");
    expect(big.body).toContain("x".repeat(100)); // the text is kept in the form
    // beyond the request limit the server refuses it before parsing
    const huge = await b.paste({ body: "x".repeat(4 * MAX_PASTE_BYTES + 20_000) });
    expect(huge.status).toBe(413);
    expect((await b.paste({ body: "ok", syntax: "klingon" })).status).toBe(400);
  });

  it(`answers 429 after ${CREATE_LIMIT} new pastes from one address, other addresses still paste`, async () => {
    const b = new Browser(port, "192.0.2.55");
    expect((await b.login(password)).status).toBe(303);
    for (let i = 0; i < CREATE_LIMIT; i++) expect((await b.paste({ title: `n${i}`, body: `paste ${i}` })).status).toBe(303);
    const limited = await b.paste({ title: "one too many", body: "x" });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBeGreaterThan(3500);
    expect(limited.body).toMatch(/Too many new pastes from your address/);
    // the key names an HMAC of the address, not the address
    const keys = (await appRedis("KEYS", "pastebin:rate:create:*")).split("\n");
    expect(keys.length).toBeGreaterThanOrEqual(2);
    expect(keys.join("\n")).not.toContain("192.0.2.55");
    // the same account from another address is not limited
    const other = new Browser(port, "192.0.2.56");
    other.cookies.set("pastebin_session", b.cookies.get("pastebin_session")!);
    expect((await other.paste({ title: "elsewhere", body: "y" })).status).toBe(303);
  });

  it("hides an expired paste and deletes pastes from the list", async () => {
    const c = await admin.paste({ title: "short-lived", body: "bye", expiry: "1d" });
    const id = c.headers.location!.split("/").pop()!;
    const page = await new Browser(port).get(`/p/${id}`);
    expect(page.body).toMatch(/expires \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(Number(await appRedis("TTL", `pastebin:views:${id}`))).toBeGreaterThan(86000); // the counter expires with it
    execFileSync("docker", [
      "exec",
      `${PREFIX}postgresql`,
      "runuser",
      "-u",
      "postgres",
      "--",
      "psql",
      "-X",
      "-q",
      "-d",
      env.HEARTH_POSTGRESQL_DATABASE!,
      "-c",
      `UPDATE pastes SET expires_at = now() - interval '1 minute' WHERE id = '${id}'`,
    ]);
    expect((await new Browser(port).get(`/p/${id}`)).status).toBe(404);
    expect((await admin.get("/admin")).body).not.toContain(id);

    const d = await admin.paste({ title: "to delete", body: "soon gone" });
    const del = d.headers.location!.split("/").pop()!;
    expect((await new Browser(port).get(`/p/${del}`)).status).toBe(200);
    const r = await admin.post(`/p/${del}/delete`, { csrf_token: await admin.csrf("/admin") });
    expect(r.status).toBe(303);
    expect((await new Browser(port).get(`/p/${del}`)).status).toBe(404);
    expect(await appRedis("EXISTS", `pastebin:views:${del}`)).toBe("0");
  });

  it("a password change ends the other sessions; hearth-pastebin-passwd resets it from the app's terminal", async () => {
    const other = new Browser(port, "198.51.100.40");
    expect((await other.login(password)).status).toBe(303);
    const newPassword = `new-pw-${RUN}`;
    const wrong = await admin.post("/account", { csrf_token: await admin.csrf("/account"), current: "nope", new: newPassword, confirm: newPassword });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toContain("The current password is wrong.");
    const changed = await admin.post("/account", { csrf_token: await admin.csrf("/account"), current: password, new: newPassword, confirm: newPassword });
    expect(changed.status).toBe(200);
    expect(changed.body).toContain("Password changed.");
    expect((await admin.get("/admin")).status).toBe(200); // this session goes on, with a new id
    expect((await other.get("/admin")).status).toBe(303);
    expect((await new Browser(port, "198.51.100.41").login(password)).status).toBe(401);
    expect((await new Browser(port, "198.51.100.41").login(newPassword)).status).toBe(303);

    // the admin who lost it: the command in the container, the password on stdin (not argv)
    const set = spawnSync("docker", ["exec", "-i", containerNameOf(appId), "hearth-pastebin-passwd", "admin"], { input: `${password}\n`, encoding: "utf8", timeout: 60_000 });
    expect(set.status, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/password of admin set; 2 session\(s\) ended/);
    expect((await admin.get("/admin")).status).toBe(303);
    expect((await admin.login(newPassword)).status).toBe(401);
    expect((await admin.login(password)).status).toBe(303);
  });

  it("after a restart: no second admin, the paste and its count are there, the session is still valid", async () => {
    const name = containerNameOf(appId);
    execFileSync("docker", ["restart", name], { stdio: "ignore" });
    await until(
      "the app to answer again",
      async () => {
        const r = await admin.get("/healthz").catch(() => undefined);
        return r && r.status === 200 ? r : undefined;
      },
      120_000,
    );
    const logs = containerLogs(name);
    expect(logs.match(/with the password: /g)).toHaveLength(1);
    expect(logs.match(/database schema: version 1, up to date/g)).toHaveLength(1);
    const list = await admin.get("/admin"); // the same cookie, no new login
    expect(list.status).toBe(200);
    expect(list.body).toContain(`href="/p/${pasteId}"`);
    const page = await new Browser(port).get(`/p/${pasteId}`);
    expect(page.body).toContain(`line one ${RUN}`);
    expect(page.body).toContain("4 views<");
    // no tracebacks in two starts and all those requests; the access log names the client
    expect(logs).not.toMatch(/Traceback|\[ERROR\]/);
    expect(logs).toMatch(/^192\.0\.2\.55 "POST \/pastes HTTP\/1\.1" 429 /m);
  }, 180_000);

  it("health is 503 while Redis is down, and the app recovers by itself", async () => {
    const redis = services.containerName("redis", appId);
    execFileSync("docker", ["stop", "-t", "5", redis], { stdio: "ignore" });
    try {
      const h = await admin.get("/healthz");
      expect(h.status).toBe(503);
      expect(JSON.parse(h.body).problems).toEqual([expect.stringMatching(/^redis: /)]);
    } finally {
      execFileSync("docker", ["start", redis], { stdio: "ignore" });
    }
    await until("health 200 again", async () => ((await admin.get("/healthz")).status === 200 ? true : undefined), 60_000);
    expect((await admin.get("/admin")).status).toBe(200);
  }, 120_000);

  it("uninstall, then the admin's delete now, leaves nothing", async () => {
    const redis = services.containerName("redis", appId);
    expect(exists("container", redis)).toBe(true);
    await uninstallAndPurge(db, apps, appId, ctx());
    expect(exists("container", containerNameOf(appId))).toBe(false);
    expect(exists("container", redis)).toBe(false);
    expect(existsSync(services.redisDir(appId))).toBe(false);
    expect(exists("network", networkNameOf(appId))).toBe(false);
    expect(exists("volume", dataVolumeNameOf(appId))).toBe(false);
    expect(rootPsql(`SELECT count(*) FROM pg_database WHERE datname = '${env.HEARTH_POSTGRESQL_DATABASE}'`)).toBe("0");
    expect(rootPsql(`SELECT count(*) FROM pg_roles WHERE rolname = '${env.HEARTH_POSTGRESQL_USERNAME}'`)).toBe("0");
    expect(await db.appAddon.count({ where: { appId } })).toBe(0);
    expect(await db.app.count({ where: { id: appId } })).toBe(0);
  }, 300_000);

  it("no secret reached box's logs", () => {
    const all = [...logLines, ...ctxLines].join("\n");
    expect(all.length).toBeGreaterThan(100);
    for (const k of ["HEARTH_POSTGRESQL_PASSWORD", "HEARTH_REDIS_PASSWORD"]) expect(all).not.toContain(env[k]);
    expect(all).not.toContain(password);
  });
});

describe("the Pastebin image without its addons, under Hearth's hardening", () => {
  const volume = `hearth-test-pastebin-${RUN}`;
  const hardened = (env: Record<string, string>) => {
    const args = [
      "run",
      "--rm",
      "--read-only",
      "--tmpfs",
      "/run",
      "--tmpfs",
      "/tmp",
      "--security-opt",
      "no-new-privileges",
      "--cap-drop",
      "ALL",
      ...CAP_ADD.flatMap((c) => ["--cap-add", c]),
      "--memory",
      String(manifest.memoryLimit),
      "--pids-limit",
      "256",
      "--network",
      "none",
      "-v",
      `${volume}:/app/data`,
      "--label",
      `hearth.test=${OWNER}`,
    ];
    for (const k of Object.keys(env)) args.push("-e", k);
    const t0 = Date.now();
    const r = spawnSync("docker", [...args, manifest.dockerImage], { env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 });
    return { code: r.status, out: `${r.stdout}${r.stderr}`, ms: Date.now() - t0 };
  };
  beforeAll(() => void execFileSync("docker", ["volume", "create", volume], { stdio: "ignore" }));
  afterAll(() => void spawnSync("docker", ["volume", "rm", "-f", volume], { stdio: "ignore" }));

  it("stops at once with a clear error when the addons' variables are missing", () => {
    const r = hardened({});
    expect(r.code).toBe(1);
    expect(r.out).toContain("pastebin: error: no PostgreSQL settings (HEARTH_POSTGRESQL_URL): the app needs the postgresql addon");
    expect(r.out).toContain("pastebin: made /app/data/secret.key");
    expect(r.ms).toBeLessThan(15_000);
  });

  it("waits a bounded time for unreachable PostgreSQL and Redis, then stops naming both", () => {
    const r = hardened({ HEARTH_POSTGRESQL_URL: "postgres://u:secret-pg@postgresql:5432/db", HEARTH_REDIS_URL: "redis://default:secret-redis@redis:6379", PASTEBIN_WAIT_SECONDS: "3" });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/pastebin: waiting for PostgreSQL, Redis/);
    expect(r.out).toMatch(/pastebin: error: not answering after 3 s: PostgreSQL \(.+\); Redis \(.+\)/);
    expect(r.out).not.toMatch(/secret-pg|secret-redis/);
    expect(r.out).not.toMatch(/made \/app\/data\/secret\.key/); // kept from the first run
    expect(r.ms).toBeLessThan(30_000);
  });
});
