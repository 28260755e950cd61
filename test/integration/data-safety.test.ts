import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import mariadb from "mariadb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest, type HearthManifestInput } from "@hearth/contracts";
import {
  createDb,
  ensureStoreIdentity,
  getSetting,
  getUninstalledApp,
  installApp,
  listOrphans,
  listUninstalledApps,
  migrate,
  ownersOf,
  queueAppPurge,
  queueAppRestore,
  queueAppTask,
  queueOrphanDelete,
  setSetting,
  type Db,
  type StoreIdentity,
} from "@hearth/db";
import type { AddonHandler } from "../../apps/box/src/addons/handler";
import { LocalStorageAddon } from "../../apps/box/src/addons/localstorage";
import { MysqlAddon } from "../../apps/box/src/addons/mysql";
import { AddonProvisioner } from "../../apps/box/src/addons/provisioner";
import { RedisAddon } from "../../apps/box/src/addons/redis";
import { createServiceDockerExtras } from "../../apps/box/src/addons/service-docker";
import { ServiceManager } from "../../apps/box/src/addons/services";
import { AppService, noopVhostSync, ownerOf } from "../../apps/box/src/apps/apps.service";
import { appLabels, containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { prismaRegistryCredentials } from "../../apps/box/src/apps/images";
import { addonSource, orphanTasks, volumeSource, type OrphanSource } from "../../apps/box/src/apps/orphans";
import { PurgeSchedule } from "../../apps/box/src/apps/purge-schedule";
import { Reconciler } from "../../apps/box/src/apps/reconciler";
import { createDocker, OWNER_LABEL } from "../../apps/box/src/docker/docker";
import { createLogger } from "../../apps/box/src/logger";
import { startTaskRunner, type InProcessTasks } from "../helpers/app-tasks";
import { emptyDatabase, migratedDatabase, MIGRATIONS_DIR, REPO_ROOT, TEST_SERVER_URL, type TestDatabase } from "../helpers/db";
import { ensureTestImages, TEST_HTTPD_IMAGE } from "../helpers/test-images";

/**
 * Data is deleted only by an admin, against real Docker, MariaDB (the store and the mysql
 * addon's service) and Redis:
 *  (a) a store database restored without an app's row: the app's volume, database and
 *      Redis data survive any number of reconciler runs, are reported as orphans, and go
 *      only by an admin's delete (the typed name, then the orphan.delete task);
 *  (b) a fresh database at the same URL: nothing is deleted, nothing taken for its own;
 *  (c) uninstall keeps the data, restore brings the app back serving its old data (409
 *      while its subdomain is taken), delete now and expiry purge it.
 * The app image serves /app/data at /data/ so "serves its old data" is checked over HTTP.
 */

const RUN = randomBytes(4).toString("hex");
const PREFIX = `hearth-t${RUN}d-`;
const DOMAIN = "data-safety.example";
const DATA_IMAGE = "hearth-test/httpd-data:1";
const docker = createDocker();
const extras = createServiceDockerExtras();
const dataDir = mkdtempSync(path.join(os.tmpdir(), "hearth-data-safety-"));
const log = createLogger(process.env.HEARTH_TEST_LOG_LEVEL ?? "silent", "data-safety-test");
const secretKey = randomBytes(32);
let t: TestDatabase & { db: Db };
let db: Db;
let store: StoreIdentity;
let services: ServiceManager;
let handlers: AddonHandler[];
let apps: AppService;
let tasks: InProcessTasks;
const appIds: string[] = [];
const otherObjects: { containers: string[]; networks: string[]; volumes: string[] } = { containers: [], networks: [], volumes: [] };
const extraDbs: TestDatabase[] = [];

const exists = (kind: "container" | "network" | "volume", name: string) => spawnSync("docker", [kind, "inspect", name], { stdio: "ignore" }).status === 0;
const rootMysql = (sql: string) => execFileSync("docker", ["exec", `${PREFIX}mariadb`, "mariadb", "-uroot", "-N", "-B", "-e", sql], { encoding: "utf8" }).trim();
const volumeFile = (volume: string, file: string) =>
  execFileSync("docker", ["run", "--rm", "--network", "none", "-v", `${volume}:/d:ro`, TEST_HTTPD_IMAGE, "/bin/busybox", "cat", `/d/${file}`], { encoding: "utf8" });
const containerEnv = (name: string): Record<string, string> =>
  Object.fromEntries((JSON.parse(execFileSync("docker", ["inspect", name], { encoding: "utf8" }))[0].Config.Env as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
function redisCli(appId: string, password: string, ...args: string[]): string {
  const r = spawnSync("docker", ["exec", "-e", "REDISCLI_AUTH", services.containerName("redis", appId), "redis-cli", "--no-auth-warning", ...args], {
    env: { ...process.env, REDISCLI_AUTH: password },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}
function get(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: p }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode!, body }));
      })
      .on("error", reject);
  });
}

function manifest(addons: HearthManifestInput["addons"]): HearthManifestInput {
  return {
    manifestVersion: 1,
    id: "org.hearth.test.data",
    title: "Data test",
    version: "1.0.0",
    dockerImage: DATA_IMAGE,
    httpPort: 8080,
    healthCheckPath: "/health",
    memoryLimit: 64 * 1024 * 1024,
    addons,
  };
}
const FULL = { mysql: {}, redis: {}, localstorage: {} };

/** Installs through admin's repository function and box's task, as the API does. */
async function install(subdomain: string, addons: HearthManifestInput["addons"] = {}): Promise<string> {
  const { app, task } = await installApp(db, { manifest: hearthManifest.parse(manifest(addons)), storeId: null, subdomain, domain: DOMAIN, memoryLimit: 64 * 1024 * 1024, env: {}, createdBy: null });
  appIds.push(app.id);
  const done = await tasks.finish(task.id);
  expect(done.state, tasks.log(task.id)).toBe("succeeded");
  return app.id;
}

/** Data in all three places: /app/data, the mysql database, redis. Returns the app's credentials. */
async function writeData(appId: string, value: string): Promise<Record<string, string>> {
  execFileSync("docker", ["exec", containerNameOf(appId), "/bin/busybox", "sh", "-c", `echo ${value} > /app/data/note.txt`]);
  const env = containerEnv(containerNameOf(appId));
  rootMysql(`CREATE TABLE \`${env.HEARTH_MYSQL_DATABASE}\`.notes (v VARCHAR(64)); INSERT INTO \`${env.HEARTH_MYSQL_DATABASE}\`.notes VALUES ('${value}')`);
  expect(redisCli(appId, env.HEARTH_REDIS_PASSWORD!, "SET", "note", value)).toBe("OK");
  return env;
}

async function finishOk(taskId: string) {
  const done = await tasks.finish(taskId);
  expect(done.state, `${done.errorCode}: ${done.errorMessage}\n${tasks.log(taskId)}`).toBe("succeeded");
  return done;
}

const addonSources = () => handlers.map(addonSource).filter((x): x is OrphanSource => x !== null);
const reconciler = (s: StoreIdentity = store, d: Db = db, sources: () => readonly OrphanSource[] = addonSources) =>
  new Reconciler({ db: d, docker, service: apps, vhosts: noopVhostSync, log, store: s, orphanSources: sources });
/** The addon sources of a box of store `s` on this machine (same object prefix and data folder as the test's box). */
function sourcesOf(s: StoreIdentity): () => readonly OrphanSource[] {
  const sm = new ServiceManager({ docker, extras, dataDir, prefix: PREFIX, owner: s.id, legacyOwners: s.legacyOwners, log, readyTimeoutMs: 120_000 });
  const deps = { docker, extras, services: sm };
  const hs = [new MysqlAddon(deps), new RedisAddon(deps), new LocalStorageAddon(deps)];
  return () => hs.map(addonSource).filter((x): x is OrphanSource => x !== null);
}

beforeAll(async () => {
  for (const script of ["base", "mariadb", "redis"].map((s) => path.join(REPO_ROOT, "setup/images", s, "build.sh"))) {
    const r = spawnSync(script, [], { encoding: "utf8", timeout: script.includes("/base/") ? 900_000 : 300_000 });
    if (r.status !== 0) throw new Error(`${script} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  }
  ensureTestImages();
  if (spawnSync("docker", ["image", "inspect", DATA_IMAGE], { stdio: "ignore" }).status !== 0) {
    execFileSync("docker", ["build", "-q", "-t", DATA_IMAGE, "-"], {
      input: `FROM ${TEST_HTTPD_IMAGE}\nRUN ["/bin/busybox", "ln", "-s", "/app/data", "/www/data"]\n`,
      stdio: ["pipe", "ignore", "pipe"],
    });
  }
  t = await migratedDatabase("dsafe");
  db = t.db;
  await db.domain.create({ data: { domain: DOMAIN, provider: "noop", isDashboardDomain: true } });
  store = await ensureStoreIdentity(db, { legacyOwner: ownerOf(t.url) });
  services = new ServiceManager({ docker, extras, dataDir, prefix: PREFIX, owner: store.id, legacyOwners: store.legacyOwners, log, readyTimeoutMs: 120_000 });
  await services.ensure("mariadb");
  const deps = { docker, extras, services };
  handlers = [new MysqlAddon(deps), new RedisAddon(deps), new LocalStorageAddon(deps)];
  const prov = new AddonProvisioner({ db, secretKey, dataDir, handlers });
  apps = new AppService({
    db,
    docker,
    vhosts: noopVhostSync,
    registries: prismaRegistryCredentials(db, undefined),
    catalogDirs: [],
    owner: store.id,
    healthTimeoutMs: 30_000,
    healthIntervalMs: 200,
    addons: prov,
  });
  tasks = await startTaskRunner({ db, service: apps, dataDir, extraTasks: orphanTasks({ db, sources: () => [volumeSource(docker, ownersOf(store)), ...addonSources()] }) });
}, 1_800_000);

afterAll(async () => {
  await tasks?.stop();
  const ids = (args: string[]) => execFileSync("docker", args, { encoding: "utf8" }).split("\n").filter(Boolean);
  const containers = [...(store ? ids(["ps", "-aq", "--filter", `label=${OWNER_LABEL}=${store.id}`]) : []), ...otherObjects.containers];
  for (const id of appIds) if (exists("container", containerNameOf(id))) containers.push(containerNameOf(id));
  if (containers.length) spawnSync("docker", ["rm", "-f", "-v", ...containers], { stdio: "ignore" });
  for (const id of appIds) {
    spawnSync("docker", ["network", "rm", networkNameOf(id)], { stdio: "ignore" });
    spawnSync("docker", ["volume", "rm", dataVolumeNameOf(id)], { stdio: "ignore" });
  }
  if (store) {
    const nets = ids(["network", "ls", "-q", "--filter", `label=${OWNER_LABEL}=${store.id}`]);
    if (nets.length) spawnSync("docker", ["network", "rm", ...nets], { stdio: "ignore" });
  }
  for (const n of otherObjects.networks) spawnSync("docker", ["network", "rm", n], { stdio: "ignore" });
  for (const v of otherObjects.volumes) spawnSync("docker", ["volume", "rm", v], { stdio: "ignore" });
  // the services' data belongs to their users: a root container empties it
  spawnSync("docker", ["run", "--rm", "-v", `${dataDir}:/d`, "localhost/hearth/base:bookworm", "sh", "-c", "rm -rf /d/* /d/.[!.]*"], { stdio: "ignore" });
  rmSync(dataDir, { recursive: true, force: true });
  for (const d of extraDbs) await d.drop().catch(() => {});
  await t?.drop();
}, 300_000);

describe("(a) a store database restored without an app's row", () => {
  it("keeps the app's volume, database and Redis data through any number of reconciler runs, reports them, and deletes them only on an admin's typed delete", async () => {
    await install("keeper"); // the oldest app: the App table is not empty
    const lost = await install("lost", FULL);
    const env = await writeData(lost, `lost-${RUN}`);
    const database = env.HEARTH_MYSQL_DATABASE!;

    // what a dump taken before `lost` was installed leaves once restored: the same store
    // identity, no App row for it (nor its addon rows)
    await db.app.delete({ where: { id: lost } });

    const rec = reconciler();
    const first = await rec.run();
    for (let i = 0; i < 4; i++) expect((await rec.run()).newOrphans).toEqual([]);
    // the container (no data) is younger than the oldest app: collected
    expect(first.removed.containers).toContain(containerNameOf(lost));
    // the data: all there
    expect(volumeFile(dataVolumeNameOf(lost), "note.txt").trim()).toBe(`lost-${RUN}`);
    expect(rootMysql(`SELECT v FROM \`${database}\`.notes`)).toBe(`lost-${RUN}`);
    expect(existsSync(path.join(services.redisDir(lost), "data"))).toBe(true);

    const orphans = await listOrphans(db);
    expect(orphans.map((o) => [o.kind, o.name, o.appId]).sort()).toEqual(
      [
        ["mysql", database, lost],
        ["redis", services.containerName("redis", lost), lost],
        ["volume", dataVolumeNameOf(lost), lost],
      ].sort(),
    );
    const events = await db.event.findMany({ where: { action: "orphan.found" } });
    expect(events.map((e) => e.target).sort()).toEqual(orphans.map((o) => o.name).sort());
    expect(await db.notification.count({ where: { key: "orphans", dismissedAt: null } })).toBe(1);

    // the admin's delete needs the name typed
    const vol = orphans.find((o) => o.kind === "volume")!;
    await expect(queueOrphanDelete(db, vol.id, `${vol.name}x`, null)).rejects.toMatchObject({ code: "invalid" });
    expect(exists("volume", vol.name)).toBe(true);
    for (const o of orphans) {
      const { task } = await queueOrphanDelete(db, o.id, o.name, null);
      await expect(queueOrphanDelete(db, o.id, o.name, null)).rejects.toMatchObject({ code: "conflict" });
      await finishOk(task.id);
    }
    expect(exists("volume", dataVolumeNameOf(lost))).toBe(false);
    expect(rootMysql(`SHOW DATABASES LIKE '${database}'`)).toBe("");
    expect(existsSync(services.redisDir(lost))).toBe(false);
    expect(await listOrphans(db)).toEqual([]);
    const after = await rec.run();
    expect(after.orphans).toEqual([]);
    expect(await db.notification.count({ where: { key: "orphans", dismissedAt: null } })).toBe(0);
  }, 600_000);
});

describe("(b) a fresh database at the same URL", () => {
  async function recreate(d: TestDatabase): Promise<Db> {
    const u = new URL(TEST_SERVER_URL);
    const c = await mariadb.createConnection({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password) });
    await c.query(`DROP DATABASE IF EXISTS \`${d.name}\``);
    await c.query(`CREATE DATABASE \`${d.name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await c.end();
    await migrate(d.url, { migrationsDir: MIGRATIONS_DIR });
    return createDb(d.url);
  }
  function objectsOf(owner: string): string {
    const id = randomUUID();
    const labels = appLabels(id, owner);
    spawnSync("docker", ["network", "create", ...Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]), networkNameOf(id)], { stdio: "ignore" });
    spawnSync("docker", ["volume", "create", ...Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]), dataVolumeNameOf(id)], { stdio: "ignore" });
    execFileSync("docker", ["create", "--name", containerNameOf(id), ...Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]), TEST_HTTPD_IMAGE], { stdio: "ignore" });
    otherObjects.containers.push(containerNameOf(id));
    otherObjects.networks.push(networkNameOf(id));
    otherObjects.volumes.push(dataVolumeNameOf(id));
    return id;
  }
  const allThere = (id: string) => exists("container", containerNameOf(id)) && exists("network", networkNameOf(id)) && exists("volume", dataVolumeNameOf(id));

  it("deletes nothing and takes nothing for its own, neither the old store's objects nor those labelled with the URL's hash", async () => {
    const d = await emptyDatabase("dsfresh");
    extraDbs.push(d);
    await migrate(d.url, { migrationsDir: MIGRATIONS_DIR });
    const dbA = createDb(d.url);
    const a = await ensureStoreIdentity(dbA, { legacyOwner: ownerOf(d.url) });
    expect(a.legacyOwners).toEqual([]); // a fresh database never served a pre-id Hearth
    const ofA = objectsOf(a.id);
    const ofHash = objectsOf(ownerOf(d.url)); // what boxes labelled objects with before the store id
    await dbA.$disconnect();

    const dbB = await recreate(d);
    try {
      const b = await ensureStoreIdentity(dbB, { legacyOwner: ownerOf(d.url) });
      expect(b.id).not.toBe(a.id);
      expect(b.legacyOwners).toEqual([]);
      const rec = reconciler(b, dbB, sourcesOf(b));
      for (let i = 0; i < 3; i++) {
        const r = await rec.run();
        expect(r.removed).toEqual({ containers: [], networks: [] });
        expect(r.orphans.filter((o) => o.appId === ofA || o.appId === ofHash)).toEqual([]);
      }
      expect(allThere(ofA)).toBe(true);
      expect(allThere(ofHash)).toBe(true);
      expect(await listOrphans(dbB)).toEqual([]);
    } finally {
      await dbB.$disconnect();
    }
  }, 300_000);

  it("the migration marks a database that already served a Hearth (it has users), and only such a one", async () => {
    const before = mkdtempSync(path.join(os.tmpdir(), "hearth-migrations-"));
    try {
      // the migrations up to the one that brought the store id
      for (const m of readdirSync(MIGRATIONS_DIR).filter((n) => n < "20261203110000")) cpSync(path.join(MIGRATIONS_DIR, m), path.join(before, m), { recursive: true });
      for (const withUser of [true, false]) {
        const d = await emptyDatabase("dsmig");
        extraDbs.push(d);
        await migrate(d.url, { migrationsDir: before });
        if (withUser) await d.sql("INSERT INTO `User` (id, username, email, passwordHash, updatedAt) VALUES ('u1', 'owner', 'o@example.com', 'x', UTC_TIMESTAMP(3))");
        await migrate(d.url, { migrationsDir: MIGRATIONS_DIR });
        const dm = createDb(d.url);
        try {
          expect(await getSetting(dm, "store.legacyOwner")).toBe(withUser ? true : null);
          const s = await ensureStoreIdentity(dm, { legacyOwner: ownerOf(d.url) });
          expect(s.legacyOwners).toEqual(withUser ? [ownerOf(d.url)] : []);
          expect(s.id).toMatch(/^[0-9a-f]{16}$/);
          // made once: a second start reads the same identity
          expect(await ensureStoreIdentity(dm, { legacyOwner: "something-else" })).toEqual(s);
        } finally {
          await dm.$disconnect();
        }
      }
    } finally {
      rmSync(before, { recursive: true, force: true });
    }
  }, 120_000);

  it("a database that predates the store id recognises the URL-hash labels, but with an empty App table only reports (pause rule), deleting nothing", async () => {
    const d = await emptyDatabase("dslegacy");
    extraDbs.push(d);
    const dbL = await recreate(d);
    try {
      // what the migration writes into a database that already served a Hearth
      await setSetting(dbL, "store.legacyOwner", true);
      const s = await ensureStoreIdentity(dbL, { legacyOwner: ownerOf(d.url) });
      expect(s.legacyOwners).toEqual([ownerOf(d.url)]);
      const old = objectsOf(ownerOf(d.url));
      const rec = reconciler(s, dbL, sourcesOf(s));
      for (let i = 0; i < 3; i++) {
        const r = await rec.run();
        expect(r.removed).toEqual({ containers: [], networks: [] });
        expect(r.kept).toEqual(
          expect.arrayContaining([
            { name: containerNameOf(old), reason: "the App table is empty" },
            { name: networkNameOf(old), reason: "the App table is empty" },
          ]),
        );
      }
      expect(allThere(old)).toBe(true);
      expect((await listOrphans(dbL)).map((o) => [o.kind, o.name])).toEqual([["volume", dataVolumeNameOf(old)]]);
    } finally {
      await dbL.$disconnect();
    }
  }, 300_000);
});

describe("(c) uninstall keeps the data", () => {
  let id: string;
  let env: Record<string, string>;

  it("uninstall removes the container, network and vhost but keeps the volume, database and Redis data for 7 days", async () => {
    id = await install("kept", FULL);
    env = await writeData(id, `kept-${RUN}`);
    const { task } = await queueAppTask(db, id, "app.uninstall");
    await finishOk(task.id);
    expect(await db.app.findUnique({ where: { id } })).toBeNull();
    const u = (await getUninstalledApp(db, id))!;
    expect(u).toMatchObject({ state: "kept", subdomain: "kept", domain: DOMAIN, title: "Data test" });
    const days = (u.purgeAfter.getTime() - u.uninstalledAt.getTime()) / 86_400_000;
    expect(days).toBe(7);
    expect(exists("container", containerNameOf(id))).toBe(false);
    expect(exists("network", networkNameOf(id))).toBe(false);
    expect(exists("container", services.containerName("redis", id))).toBe(false);
    expect(volumeFile(dataVolumeNameOf(id), "note.txt").trim()).toBe(`kept-${RUN}`);
    expect(rootMysql(`SELECT v FROM \`${env.HEARTH_MYSQL_DATABASE}\`.notes`)).toBe(`kept-${RUN}`);
    // kept data is not an orphan
    const r = await reconciler().run();
    expect(r.orphans.filter((o) => o.appId === id)).toEqual([]);
  }, 300_000);

  it("restore is refused with 409 while another app holds the subdomain; delete now of that app needs its address typed and deletes its data", async () => {
    const taker = await install("kept", { localstorage: {} });
    await expect(queueAppRestore(db, id, null)).rejects.toMatchObject({ code: "conflict", message: expect.stringContaining(`kept.${DOMAIN}`) });
    expect((await getUninstalledApp(db, id))!.state).toBe("kept");
    expect(await db.app.findUnique({ where: { id } })).toBeNull();

    const un = await queueAppTask(db, taker, "app.uninstall");
    await finishOk(un.task.id);
    expect(exists("volume", dataVolumeNameOf(taker))).toBe(true);
    await expect(queueAppPurge(db, taker, "kept", null)).rejects.toMatchObject({ code: "invalid" });
    const { task } = await queueAppPurge(db, taker, `kept.${DOMAIN}`, null);
    await expect(queueAppRestore(db, taker, null)).rejects.toMatchObject({ code: "conflict" });
    await finishOk(task.id);
    expect(exists("volume", dataVolumeNameOf(taker))).toBe(false);
    expect(await getUninstalledApp(db, taker)).toBeNull();
  }, 300_000);

  it("restore brings the app back as it was: same credentials, serving its old data", async () => {
    const { task } = await queueAppRestore(db, id, null);
    expect(await getUninstalledApp(db, id)).toBeNull();
    await finishOk(task.id);
    const app = (await db.app.findUniqueOrThrow({ where: { id } }))!;
    expect(app.installState).toBe("installed");
    expect(app.subdomain).toBe("kept");
    const res = await get(app.httpHostPort!, "/data/note.txt");
    expect(res).toEqual({ status: 200, body: `kept-${RUN}\n` });
    const now = containerEnv(containerNameOf(id));
    for (const k of ["HEARTH_MYSQL_PASSWORD", "HEARTH_MYSQL_DATABASE", "HEARTH_REDIS_PASSWORD"]) expect(now[k]).toBe(env[k]);
    expect(rootMysql(`SELECT v FROM \`${now.HEARTH_MYSQL_DATABASE}\`.notes`)).toBe(`kept-${RUN}`);
    expect(redisCli(id, now.HEARTH_REDIS_PASSWORD!, "GET", "note")).toBe(`kept-${RUN}`);
  }, 300_000);

  it("the daily purge deletes what has expired, and only that", async () => {
    const fresh = await install("fresh", { localstorage: {} });
    for (const x of [id, fresh]) await finishOk((await queueAppTask(db, x, "app.uninstall")).task.id);
    await db.uninstalledApp.update({ where: { id }, data: { purgeAfter: new Date(Date.now() - 1000) } });
    const schedule = new PurgeSchedule({ db, wake: () => tasks.runner.wake(), log });
    expect(await schedule.run("test")).toBe(1);
    const purge = await db.task.findFirstOrThrow({ where: { appId: id, type: "app.purge" } });
    await finishOk(purge.id);
    expect(await getUninstalledApp(db, id)).toBeNull();
    expect(exists("volume", dataVolumeNameOf(id))).toBe(false);
    expect(rootMysql(`SHOW DATABASES LIKE '${env.HEARTH_MYSQL_DATABASE}'`)).toBe("");
    expect(existsSync(services.redisDir(id))).toBe(false);
    expect(await db.event.count({ where: { action: "app.purge", target: id } })).toBe(1);
    // the other one is not due
    expect((await listUninstalledApps(db)).map((u) => u.id)).toEqual([fresh]);
    expect(exists("volume", dataVolumeNameOf(fresh))).toBe(true);
    expect(await schedule.run("test")).toBe(0);
  }, 300_000);
});
