import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest, type HearthManifest, type HearthManifestInput } from "@hearth/contracts";
import type { Db } from "@hearth/db";
import { INFRA } from "../../apps/box/src/addons/infra";
import { LocalStorageAddon } from "../../apps/box/src/addons/localstorage";
import { MysqlAddon, MYSQL_DUMP_FILE } from "../../apps/box/src/addons/mysql";
import type { AddonProvisioner } from "../../apps/box/src/addons/provisioner";
import { type AppService, BACKUP_COMPLETE_FILE, ROLLBACK_FILE, type StepContext } from "../../apps/box/src/apps/apps.service";
import { containerNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import type { DockerApi } from "../../apps/box/src/docker/docker";
import { createLogger } from "../../apps/box/src/logger";
import { addonTestStack, buildCatalogImage, buildServiceImages, testAppService } from "../helpers/addon-stack";
import { insertPendingApp } from "../helpers/app-rows";
import type { TestDatabase } from "../helpers/db";
import { removeTestDockerObjects } from "../helpers/teardown";

/**
 * AppService.update on the real engine and the real services: the catalog's static-site image
 * under custom manifests. v1 (localstorage) → v2 (+ mysql: the app gets HEARTH_MYSQL_* and can
 * use its database; /app/data survives) → a failing v2.1 that drops mysql (rolled back: mysql
 * comes back with its data) → v3 without mysql (its dump is backed up, database and user
 * gone) → a failing v4 (rolled back to v3, data intact, error recorded). Resuming: an update
 * stopped mid-deploy and one stopped mid-rollback end updated / rolled back when run again.
 */

const RUN = randomBytes(4).toString("hex");
const OWNER = `app-update-${RUN}`;
const PREFIX = `hearth-t${RUN}u-`;
const DOMAIN = "update-test.example";
const IMAGE = "localhost/hearth/net.lighttpd.staticsite:1.0.0";
let docker: DockerApi;
const dataDir = mkdtempSync(path.join(os.tmpdir(), "hearth-update-"));
const logLines: string[] = [];
const log = createLogger("info", "app-update-test", { write: (s: string) => void logLines.push(s) });
const ctxLines: string[] = [];
let t: TestDatabase & { db: Db };
let db: Db;
let prov: AddonProvisioner;
let apps: AppService;
let appId = "";
let port = 0;

function ctx(taskId: string = randomUUID(), abortAt?: RegExp): StepContext {
  const ac = new AbortController();
  return {
    taskId,
    signal: ac.signal,
    log: (l) => void ctxLines.push(l),
    progress: async (_p, m) => {
      ctxLines.push(`progress: ${m}`);
      if (abortAt?.test(m)) ac.abort(new Error("box stops (test)"));
    },
  };
}

function manifest(version: string, addons: HearthManifestInput["addons"], over: Partial<HearthManifestInput> = {}): HearthManifest {
  return hearthManifest.parse({
    manifestVersion: 1,
    id: "org.hearth.test.update",
    title: "Update test",
    version,
    dockerImage: IMAGE,
    httpPort: 8000,
    healthCheckPath: "/healthz",
    memoryLimit: 128 * 1024 * 1024,
    addons,
    ...over,
  });
}
const v1 = manifest("1.0.0", { localstorage: {} });
const v2 = manifest("2.0.0", { localstorage: {}, mysql: {} });
const v21bad = manifest("2.1.0", { localstorage: {} }, { healthCheckPath: "/no-such-page" });
const v3 = manifest("3.0.0", { localstorage: {} });
const v4bad = manifest("4.0.0", { localstorage: {} }, { healthCheckPath: "/no-such-page" });

const rootMysql = (sql: string) => execFileSync("docker", ["exec", `${PREFIX}mariadb`, "mariadb", "-uroot", "-N", "-B", "-e", sql], { encoding: "utf8" }).trim();
function containerEnv(): Record<string, string> {
  const c = JSON.parse(execFileSync("docker", ["inspect", containerNameOf(appId)], { encoding: "utf8" }))[0];
  return Object.fromEntries((c.Config.Env as string[]).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}
/** SQL as the app: a client on the app's own network with the container's HEARTH_MYSQL_* (password through the environment). */
function appSql(sql: string): { code: number; out: string } {
  const e = containerEnv();
  const r = spawnSync(
    "docker",
    [
      "run",
      "--rm",
      "--network",
      networkNameOf(appId),
      "--label",
      `hearth.test=${OWNER}`,
      "-e",
      "MYSQL_PWD",
      INFRA.services.mariadb.image,
      "mariadb",
      "-h",
      e.HEARTH_MYSQL_HOST!,
      "-P",
      e.HEARTH_MYSQL_PORT!,
      `-u${e.HEARTH_MYSQL_USERNAME}`,
      "-N",
      "-B",
      "-D",
      e.HEARTH_MYSQL_DATABASE!,
      "-e",
      sql,
    ],
    { env: { ...process.env, MYSQL_PWD: e.HEARTH_MYSQL_PASSWORD! }, encoding: "utf8", timeout: 60_000 },
  );
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}`.trim() };
}
function get(p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: p, headers: { host: `site.${DOMAIN}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      })
      .on("error", reject);
  });
}
const row = () => db.app.findUniqueOrThrow({ where: { id: appId } });
const addonRows = async () => (await db.appAddon.findMany({ where: { appId }, orderBy: { name: "asc" } })).map((r) => r.name);
const backupsDir = () => path.join(dataDir, "backups", "apps", appId);
/** box's user reads the backups (they are 0600 files of box's) */
const read = (p: string) => readFileSync(p, "utf8");

beforeAll(async () => {
  buildServiceImages(["base", "mariadb"]);
  buildCatalogImage("static-site");
  ({ t, db, docker, prov, apps } = await addonTestStack({
    dbName: "appupdate",
    owner: OWNER,
    prefix: PREFIX,
    dataDir,
    log,
    secretKey: randomBytes(32),
    domain: DOMAIN,
    handlers: (deps) => [new MysqlAddon(deps), new LocalStorageAddon(deps)],
    apps: { healthTimeoutMs: 15_000, healthIntervalMs: 300 },
  }));
}, 1_800_000);

afterAll(() => removeTestDockerObjects({ owner: OWNER, appIds: appId ? [appId] : [], dataDir, database: t }), 300_000);

describe("updating an installed app to a new manifest", () => {
  let mysqlDb = "";
  let mysqlUser = "";

  it("v1 (localstorage only) installs; a file goes into /app/data", async () => {
    appId = randomUUID();
    await insertPendingApp(db, v1, { id: appId, subdomain: "site", domain: DOMAIN });
    port = (await apps.install(appId, ctx())).httpHostPort;
    execFileSync("docker", ["exec", containerNameOf(appId), "sh", "-c", `echo kept-${RUN} > /app/data/public/kept.txt`]);
    expect((await get("/kept.txt")).body.trim()).toBe(`kept-${RUN}`);
    expect(Object.keys(containerEnv()).filter((k) => k.startsWith("HEARTH_MYSQL"))).toEqual([]);
  }, 300_000);

  it("v2 adds mysql: backed up first, the container gets HEARTH_MYSQL_* and uses its database, the file survives", async () => {
    const c = ctx();
    const t0 = Date.now();
    const r = await apps.update(appId, c, { manifest: v2, fromManifest: v1 });
    console.log(`app-update: v1 → v2 (+mysql) ${Date.now() - t0} ms`);
    expect(r).toMatchObject({ version: "2.0.0", from: "1.0.0" });
    expect(r.backupDir).toBe(path.join(backupsDir(), `pre-update-${c.taskId}`));
    expect(existsSync(path.join(r.backupDir, BACKUP_COMPLETE_FILE))).toBe(true);
    expect(JSON.parse(read(path.join(r.backupDir, "addons.json"))).addons).toEqual(["localstorage"]);
    expect(await row()).toMatchObject({ version: "2.0.0", installState: "installed", health: "healthy", errorCode: null });
    expect(((await row()).manifest as HearthManifest).addons).toHaveProperty("mysql");
    expect(await addonRows()).toEqual(["localstorage", "mysql"]);
    const e = containerEnv();
    expect(e.HEARTH_MYSQL_HOST).toBe("mariadb");
    expect(e.HEARTH_MYSQL_PASSWORD?.length).toBeGreaterThanOrEqual(20);
    mysqlDb = e.HEARTH_MYSQL_DATABASE!;
    mysqlUser = e.HEARTH_MYSQL_USERNAME!;
    const w = appSql(`CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(64)); INSERT INTO notes VALUES (1, 'hello-${RUN}'); SELECT body FROM notes;`);
    expect(w, w.out).toMatchObject({ code: 0, out: `hello-${RUN}` });
    expect((await get("/kept.txt")).body.trim()).toBe(`kept-${RUN}`);
    // the password is not in the task log
    expect(ctxLines.join("\n")).not.toContain(e.HEARTH_MYSQL_PASSWORD);
  }, 300_000);

  it("a failing update that drops mysql is rolled back: mysql comes back with its rows, the file is there, the error says so", async () => {
    execFileSync("docker", ["exec", containerNameOf(appId), "sh", "-c", `echo before-bad > /app/data/public/state.txt`]);
    const c = ctx();
    await expect(apps.update(appId, c, { manifest: v21bad, fromManifest: v2 })).rejects.toMatchObject({
      code: "update_failed",
      message: expect.stringMatching(/from 2\.0\.0 to 2\.1\.0 failed .*no-such-page.* rolled back to 2\.0\.0/),
    });
    const r = await row();
    expect(r).toMatchObject({ version: "2.0.0", installState: "installed", health: "healthy", errorCode: "update_failed", errorTaskId: c.taskId });
    expect(r.errorMessage).toMatch(/rolled back to 2\.0\.0/);
    expect((r.manifest as HearthManifest).healthCheckPath).toBe("/healthz");
    expect(await addonRows()).toEqual(["localstorage", "mysql"]);
    // the update had torn mysql down (after its own backup); the rollback made it again and restored the rows
    expect(readdirSync(path.join(backupsDir(), "addons")).some((d) => d.startsWith("mysql-"))).toBe(true);
    const q = appSql("SELECT body FROM notes WHERE id = 1");
    expect(q, q.out).toMatchObject({ code: 0, out: `hello-${RUN}` });
    expect((await get("/kept.txt")).body.trim()).toBe(`kept-${RUN}`);
    expect((await get("/state.txt")).body.trim()).toBe("before-bad");
    expect(existsSync(path.join(backupsDir(), `pre-update-${c.taskId}`, ROLLBACK_FILE))).toBe(true);
  }, 300_000);

  it("v3 drops mysql: its dump is in the backups, the database and the user are gone, the site keeps its files", async () => {
    const r = await apps.update(appId, ctx(), { manifest: v3, fromManifest: v2 });
    expect(await row()).toMatchObject({ version: "3.0.0", installState: "installed", health: "healthy", errorCode: null, errorMessage: null });
    const dump = read(path.join(r.backupDir, "mysql", MYSQL_DUMP_FILE));
    expect(dump).toContain(`hello-${RUN}`);
    expect(JSON.parse(read(path.join(r.backupDir, "addons.json"))).addons.sort()).toEqual(["localstorage", "mysql"]);
    expect(rootMysql(`SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '${mysqlDb}'`)).toBe("0");
    expect(rootMysql(`SELECT COUNT(*) FROM mysql.user WHERE user = '${mysqlUser}'`)).toBe("0");
    expect(await addonRows()).toEqual(["localstorage"]);
    expect(Object.keys(containerEnv()).filter((k) => k.startsWith("HEARTH_MYSQL"))).toEqual([]);
    expect((await get("/kept.txt")).body.trim()).toBe(`kept-${RUN}`);
  }, 300_000);

  it("a failing v4 is rolled back to v3 with the data intact and the error recorded", async () => {
    const c = ctx();
    await expect(apps.update(appId, c, { manifest: v4bad, fromManifest: v3 })).rejects.toMatchObject({ code: "update_failed" });
    expect(await row()).toMatchObject({ version: "3.0.0", installState: "installed", health: "healthy", errorCode: "update_failed", errorTaskId: c.taskId });
    expect((await row()).errorMessage).toMatch(/update from 3\.0\.0 to 4\.0\.0 failed .* rolled back to 3\.0\.0/);
    expect((await get("/kept.txt")).body.trim()).toBe(`kept-${RUN}`);
    expect((await get("/healthz")).status).toBe(200);
  }, 300_000);

  it("an update box cannot store (a version longer than App.version's column, past admin's check) is rolled back; its log has the error in one line, no stack or path", async () => {
    const long = { ...v3, version: `4.1.0-${"a".repeat(70)}` } as HearthManifest;
    const mark = ctxLines.length;
    await expect(apps.update(appId, ctx(), { manifest: long, fromManifest: v3 })).rejects.toMatchObject({ code: "update_failed" });
    expect(await row()).toMatchObject({ version: "3.0.0", installState: "installed", errorCode: "update_failed" });
    const lines = ctxLines.slice(mark).join("\n");
    expect(lines).toMatch(/the update failed \(internal: internal error; see the task log\)/);
    expect(lines).toMatch(/^ {2}P2000: .*too long/m);
    expect(lines).not.toMatch(/^\s*at\s|\.ts:\d+|node_modules|\/work\/|\/opt\/|invocation in/m);
    expect((await get("/healthz")).status).toBe(200);
  }, 300_000);

  it("an update stopped mid-deploy (box stops) ends updated when the task runs again, reusing its backup", async () => {
    const taskId = randomUUID();
    const v5 = manifest("5.0.0", { localstorage: {}, mysql: {} });
    await expect(apps.update(appId, ctx(taskId, /^starting the container$/), { manifest: v5, fromManifest: v3 })).rejects.toThrow();
    // half way: the row has the target, the backup is complete, the state is not yet installed-and-clean
    expect((await row()).version).toBe("5.0.0");
    expect(existsSync(path.join(backupsDir(), `pre-update-${taskId}`, BACKUP_COMPLETE_FILE))).toBe(true);
    const mark = ctxLines.length;
    const r = await apps.update(appId, ctx(taskId), { manifest: v5, fromManifest: v3 });
    expect(r.version).toBe("5.0.0");
    expect(ctxLines.slice(mark).join("\n")).toContain("reusing it");
    expect(await row()).toMatchObject({ version: "5.0.0", installState: "installed", health: "healthy", errorCode: null });
    expect(await addonRows()).toEqual(["localstorage", "mysql"]);
    expect(appSql("SELECT 1").code).toBe(0);
  }, 300_000);

  it("an update stopped mid-rollback goes on rolling back when run again (never forward)", async () => {
    const taskId = randomUUID();
    const bad = manifest("6.0.0", { localstorage: {} }, { healthCheckPath: "/no-such-page" });
    appSql("CREATE TABLE t6 (x INT); INSERT INTO t6 VALUES (6);");
    await expect(apps.update(appId, ctx(taskId, /^restoring the data/), { manifest: bad, fromManifest: manifest("5.0.0", { localstorage: {}, mysql: {} }) })).rejects.toThrow();
    expect(existsSync(path.join(backupsDir(), `pre-update-${taskId}`, ROLLBACK_FILE))).toBe(true);
    const mark = ctxLines.length;
    await expect(apps.update(appId, ctx(taskId), { manifest: bad, fromManifest: manifest("5.0.0", { localstorage: {}, mysql: {} }) })).rejects.toMatchObject({ code: "update_failed" });
    expect(ctxLines.slice(mark).join("\n")).toContain("going on with the rollback");
    expect(ctxLines.slice(mark).join("\n")).not.toContain("getting the image");
    expect(await row()).toMatchObject({ version: "5.0.0", installState: "installed", health: "healthy", errorCode: "update_failed" });
    expect(appSql("SELECT x FROM t6").out).toBe("6");
    expect((await get("/kept.txt")).body.trim()).toBe(`kept-${RUN}`);
  }, 300_000);

  it("an update naming a registry image that cannot be pulled fails without building the catalog's package under that name", async () => {
    // a catalog folder for this app's id: the old fallback built it and tagged it with the foreign name
    const catalogDir = path.join(dataDir, "catalog-foreign");
    mkdirSync(path.join(catalogDir, "update"), { recursive: true });
    writeFileSync(path.join(catalogDir, "update", "HearthManifest.json"), JSON.stringify({ id: "org.hearth.test.update", dockerImage: `localhost/hearth/test-update-${RUN}:7.0.0` }));
    writeFileSync(path.join(catalogDir, "update", "Dockerfile"), "FROM localhost/hearth/base:bookworm\nRUN true\n");
    const withCatalog = testAppService({ db, docker, owner: OWNER, addons: prov, healthTimeoutMs: 15_000, healthIntervalMs: 300, catalogDirs: [catalogDir] });
    const foreign = `hearth-test/update-foreign-${RUN}:7.0.0`;
    const c = ctx();
    const mark = ctxLines.length;
    await expect(
      withCatalog.update(appId, c, { manifest: manifest("7.0.0", { localstorage: {}, mysql: {} }, { dockerImage: foreign }), fromManifest: manifest("5.0.0", { localstorage: {}, mysql: {} }) }),
    ).rejects.toThrow(new RegExp(`image ${foreign} is not on this server, could not be pulled`));
    expect(ctxLines.slice(mark).some((l) => l.startsWith("build: "))).toBe(false);
    expect(spawnSync("docker", ["image", "inspect", foreign], { stdio: "ignore" }).status).not.toBe(0);
    expect((await row()).version).toBe("5.0.0");
    expect((await get("/kept.txt")).body.trim()).toBe(`kept-${RUN}`);
  }, 300_000);
});
