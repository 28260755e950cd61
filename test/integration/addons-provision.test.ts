import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest, type HearthManifestInput } from "@hearth/contracts";
import type { Db } from "@hearth/db";
import { INFRA } from "../../apps/box/src/addons/infra";
import { LocalStorageAddon } from "../../apps/box/src/addons/localstorage";
import { MysqlAddon } from "../../apps/box/src/addons/mysql";
import { PostgresqlAddon } from "../../apps/box/src/addons/postgresql";
import { AddonProvisioner } from "../../apps/box/src/addons/provisioner";
import { RedisAddon } from "../../apps/box/src/addons/redis";
import { createServiceDockerExtras } from "../../apps/box/src/addons/service-docker";
import type { ServiceManager } from "../../apps/box/src/addons/services";
import type { AppService, AppWithPorts, StepContext } from "../../apps/box/src/apps/apps.service";
import { appLabels, containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { createDocker } from "../../apps/box/src/docker/docker";
import { createLogger } from "../../apps/box/src/logger";
import { addonTestStack, buildServiceImages } from "../helpers/addon-stack";
import { insertPendingApp } from "../helpers/app-rows";
import type { TestDatabase } from "../helpers/db";
import { removeTestDockerObjects } from "../helpers/teardown";
import { ensureTestImages, testHttpdManifest } from "../helpers/test-images";
import { uninstallAndPurge } from "../helpers/purge";

/**
 * Per-app addon provisioning on the real engine and the real services (images from
 * setup/images): two apps get mysql + postgresql + redis; each reaches its own from its own
 * network with its own credentials and nothing of the other's; backup → clear → restore
 * round-trips the data; removing an addon from the manifest backs it up first; service
 * restarts keep the credentials working; deprovision leaves nothing. Then one app through
 * AppService install/uninstall. Checks run in throw-away containers of the service images
 * attached to the app's network (passwords through the docker CLI's environment).
 */

const RUN = randomBytes(4).toString("hex");
const OWNER = `addon-test-${RUN}`;
const PREFIX = `hearth-t${RUN}p-`;
const DOMAIN = "addons-test.example";
const docker = createDocker();
const extras = createServiceDockerExtras();
const dataDir = mkdtempSync(path.join(os.tmpdir(), "hearth-addons-"));
const logLines: string[] = [];
const log = createLogger("info", "addons-test", { write: (s: string) => void logLines.push(s) });
let t: TestDatabase & { db: Db };
let db: Db;
let services: ServiceManager;
let prov: AddonProvisioner;
let apps: AppService;
const secretKey = randomBytes(32);
const appIds: string[] = [];
const ctxLines: string[] = [];

const ctx = (): StepContext => ({ taskId: randomUUID(), progress: async () => {}, log: (l) => void ctxLines.push(l), signal: new AbortController().signal });

function client(network: string, image: string, cmd: string[], secretEnv: Record<string, string>): { code: number; out: string } {
  const args = ["run", "--rm", "--network", network, "--label", `hearth.test=${OWNER}`];
  for (const k of Object.keys(secretEnv)) args.push("-e", k);
  const r = spawnSync("docker", [...args, image, ...cmd], { env: { ...process.env, ...secretEnv }, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}`.trim() };
}
const mysql = (net: string, e: Record<string, string>, sql: string, db = e.HEARTH_MYSQL_DATABASE!) =>
  client(net, INFRA.services.mariadb.image, ["mariadb", "-h", e.HEARTH_MYSQL_HOST!, "-P", e.HEARTH_MYSQL_PORT!, `-u${e.HEARTH_MYSQL_USERNAME}`, "-N", "-B", "-D", db, "-e", sql], {
    MYSQL_PWD: e.HEARTH_MYSQL_PASSWORD!,
  });
const psql = (net: string, e: Record<string, string>, sql: string, db = e.HEARTH_POSTGRESQL_DATABASE!) =>
  client(net, INFRA.services.postgresql.image, ["psql", "-X", "-q", "-tA", "-h", e.HEARTH_POSTGRESQL_HOST!, "-U", e.HEARTH_POSTGRESQL_USERNAME!, "-d", db, "-c", sql], {
    PGPASSWORD: e.HEARTH_POSTGRESQL_PASSWORD!,
  });
const redis = (net: string, e: Record<string, string>, ...cmd: string[]) =>
  client(net, INFRA.services.redis.image, ["timeout", "10", "redis-cli", "--no-auth-warning", "-h", e.HEARTH_REDIS_HOST!, ...cmd], { REDISCLI_AUTH: e.HEARTH_REDIS_PASSWORD! });
const rootMysql = (sql: string) => execFileSync("docker", ["exec", `${PREFIX}mariadb`, "mariadb", "-uroot", "-N", "-B", "-e", sql], { encoding: "utf8" }).trim();
const rootPsql = (sql: string) => execFileSync("docker", ["exec", `${PREFIX}postgresql`, "runuser", "-u", "postgres", "--", "psql", "-X", "-tAc", sql], { encoding: "utf8" }).trim();
const exists = (name: string) => spawnSync("docker", ["inspect", name], { stdio: "ignore" }).status === 0;
const inspect = (name: string) => JSON.parse(execFileSync("docker", ["inspect", name], { encoding: "utf8" }))[0];

function manifest(addons: HearthManifestInput["addons"]): HearthManifestInput {
  return testHttpdManifest("org.hearth.test.addons", "Addons test", { addons });
}

async function insertApp(sub: string, addons: HearthManifestInput["addons"]): Promise<AppWithPorts> {
  const id = await insertPendingApp(db, manifest(addons), { subdomain: sub, domain: DOMAIN });
  appIds.push(id);
  return (await db.app.findUnique({ where: { id }, include: { ports: true } }))!;
}
async function withNetwork(app: AppWithPorts): Promise<void> {
  await docker.createNetwork(networkNameOf(app.id), appLabels(app.id, OWNER));
  await docker.createVolume(dataVolumeNameOf(app.id), appLabels(app.id, OWNER));
}
const parsed = (addons: HearthManifestInput["addons"]) => hearthManifest.parse(manifest(addons));

beforeAll(async () => {
  buildServiceImages(["base", "mariadb", "postgresql", "redis"]);
  ensureTestImages();
  let startMs: number;
  ({ t, db, services, prov, apps, startMs } = await addonTestStack({
    dbName: "addons",
    owner: OWNER,
    prefix: PREFIX,
    dataDir,
    log,
    secretKey,
    domain: DOMAIN,
    docker,
    extras,
    handlers: (deps) => [new MysqlAddon(deps), new PostgresqlAddon(deps), new RedisAddon(deps), new LocalStorageAddon(deps)],
    apps: { healthTimeoutMs: 30_000, healthIntervalMs: 200 },
  }));
  console.log(`addons: services first start ${startMs} ms`);
}, 1_800_000);

afterAll(() => removeTestDockerObjects({ owner: OWNER, appIds, dataDir, database: t }), 300_000);

describe("addon provisioning per app", () => {
  let A: AppWithPorts;
  let B: AppWithPorts;
  let envA: Record<string, string>;
  let envB: Record<string, string>;
  const full = { mysql: {}, postgresql: { extensions: ["pg_trgm", "citext"] }, redis: {}, localstorage: {} };

  it("provisions mysql, postgresql and redis for two apps, timing each", async () => {
    A = await insertApp("a", full);
    B = await insertApp("b", { ...full, mysql: { multipleDatabases: true } });
    await withNetwork(A);
    await withNetwork(B);
    envA = await prov.provision(A, parsed(full), ctx());
    console.log(`addons: provision times app A (first): ${JSON.stringify(prov.lastTimings)}`);
    envB = await prov.provision(B, parsed({ ...full, mysql: { multipleDatabases: true } }), ctx());
    console.log(`addons: provision times app B (first): ${JSON.stringify(prov.lastTimings)}`);
    for (const e of [envA, envB]) {
      expect(Object.keys(e).sort()).toEqual(
        expect.arrayContaining([
          "HEARTH_MYSQL_URL",
          "HEARTH_MYSQL_HOST",
          "HEARTH_MYSQL_PORT",
          "HEARTH_MYSQL_USERNAME",
          "HEARTH_MYSQL_PASSWORD",
          "HEARTH_MYSQL_DATABASE",
          "HEARTH_POSTGRESQL_URL",
          "HEARTH_POSTGRESQL_HOST",
          "HEARTH_POSTGRESQL_PORT",
          "HEARTH_POSTGRESQL_USERNAME",
          "HEARTH_POSTGRESQL_PASSWORD",
          "HEARTH_POSTGRESQL_DATABASE",
          "HEARTH_REDIS_URL",
          "HEARTH_REDIS_HOST",
          "HEARTH_REDIS_PORT",
          "HEARTH_REDIS_PASSWORD",
        ]),
      );
      expect(e).toMatchObject({
        HEARTH_MYSQL_HOST: "mariadb",
        HEARTH_MYSQL_PORT: "3306",
        HEARTH_POSTGRESQL_HOST: "postgresql",
        HEARTH_POSTGRESQL_PORT: "5432",
        HEARTH_REDIS_HOST: "redis",
        HEARTH_REDIS_PORT: "6379",
      });
      for (const k of ["HEARTH_MYSQL_PASSWORD", "HEARTH_POSTGRESQL_PASSWORD", "HEARTH_REDIS_PASSWORD"]) expect(Buffer.from(e[k]!, "base64url").length * 8).toBeGreaterThanOrEqual(128);
    }
    expect(envA.HEARTH_MYSQL_DATABASE_PREFIX).toBeUndefined();
    expect(envB.HEARTH_MYSQL_DATABASE_PREFIX).toBe(`${envB.HEARTH_MYSQL_DATABASE}_`);
    expect(envA.HEARTH_MYSQL_PASSWORD).not.toBe(envB.HEARTH_MYSQL_PASSWORD);
    expect(envA.HEARTH_MYSQL_URL).toBe(`mysql://${envA.HEARTH_MYSQL_USERNAME}:${envA.HEARTH_MYSQL_PASSWORD}@mariadb:3306/${envA.HEARTH_MYSQL_DATABASE}`);
    // rows: sealed, the password nowhere in clear
    const rows = await db.appAddon.findMany({ where: { appId: A.id }, orderBy: { name: "asc" } });
    expect(rows.map((r) => r.name)).toEqual(["localstorage", "mysql", "postgresql", "redis"]);
    for (const r of rows) if (r.name !== "localstorage") expect(r.credentialsEnc).toMatch(/^v1:/);
    expect(JSON.stringify(rows)).not.toContain(envA.HEARTH_MYSQL_PASSWORD);
    // services joined the apps' own networks, not a shared one
    expect(Object.keys(inspect(`${PREFIX}mariadb`).NetworkSettings.Networks).sort()).toEqual([networkNameOf(A.id), networkNameOf(B.id), `${PREFIX}services`].sort());
    expect(Object.keys(inspect(`${PREFIX}redis-${A.id}`).NetworkSettings.Networks)).toEqual([networkNameOf(A.id)]);
  });

  it("each app writes and reads its own data with its credentials, from its own network", () => {
    const netA = networkNameOf(A.id);
    expect(mysql(netA, envA, "CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'mysql-a'); SELECT v FROM t")).toEqual({ code: 0, out: "mysql-a" });
    expect(psql(netA, envA, "CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'pg-a'); SELECT v FROM t")).toEqual({ code: 0, out: "pg-a" });
    expect(psql(netA, envA, "SELECT extname FROM pg_extension WHERE extname IN ('pg_trgm','citext') ORDER BY 1").out).toBe("citext\npg_trgm");
    expect(redis(netA, envA, "SET", "k", "redis-a")).toEqual({ code: 0, out: "OK" });
    expect(redis(netA, envA, "GET", "k")).toEqual({ code: 0, out: "redis-a" });
    const netB = networkNameOf(B.id);
    expect(
      mysql(
        netB,
        envB,
        `CREATE DATABASE ${envB.HEARTH_MYSQL_DATABASE_PREFIX}extra; CREATE TABLE ${envB.HEARTH_MYSQL_DATABASE_PREFIX}extra.x (v TEXT); INSERT INTO ${envB.HEARTH_MYSQL_DATABASE_PREFIX}extra.x VALUES ('b2'); SELECT v FROM ${envB.HEARTH_MYSQL_DATABASE_PREFIX}extra.x`,
      ),
    ).toEqual({ code: 0, out: "b2" });
    expect(mysql(netB, envB, "CREATE DATABASE otherdb").out).toMatch(/Access denied/);
    expect(mysql(netB, envB, "CREATE TABLE tb (v TEXT); INSERT INTO tb VALUES ('mysql-b')").code).toBe(0);
    expect(psql(netB, envB, "CREATE TABLE tb (v TEXT); INSERT INTO tb VALUES ('pg-b')").code).toBe(0);
    expect(redis(netB, envB, "SET", "k", "redis-b").out).toBe("OK");
  });

  it("app A's credentials reach nothing of app B's", () => {
    const netA = networkNameOf(A.id);
    const my = mysql(netA, envA, "SELECT * FROM tb", envB.HEARTH_MYSQL_DATABASE);
    expect(my.code).not.toBe(0);
    expect(my.out).toMatch(/Access denied/);
    expect(mysql(netA, envA, `SELECT * FROM ${envB.HEARTH_MYSQL_DATABASE}.tb`).out).toMatch(/denied/);
    expect(mysql(netA, envA, "SHOW DATABASES").out.split("\n").sort()).toEqual(["information_schema", envA.HEARTH_MYSQL_DATABASE].sort());
    const pg = psql(netA, envA, "SELECT 1", envB.HEARTH_POSTGRESQL_DATABASE);
    expect(pg.code).not.toBe(0);
    expect(pg.out).toMatch(/permission denied for database/);
    expect(psql(netA, envA, "SELECT 1", "postgres").out).toMatch(/permission denied for database/);
    expect(psql(netA, envA, "SELECT rolsuper OR rolcreatedb OR rolcreaterole FROM pg_roles WHERE rolname = current_user").out).toBe("f");
    // B's redis is not on A's network at all: neither its alias there nor its container name resolves to it
    expect(redis(netA, envA, "GET", "k").out).toBe("redis-a");
    const byName = client(netA, INFRA.services.redis.image, ["timeout", "10", "redis-cli", "--no-auth-warning", "-h", `${PREFIX}redis-${B.id}`, "GET", "k"], {
      REDISCLI_AUTH: envB.HEARTH_REDIS_PASSWORD!,
    });
    expect(byName.out).not.toContain("redis-b");
    expect(byName.code).not.toBe(0);
    const ipB = inspect(`${PREFIX}redis-${B.id}`).NetworkSettings.Networks[networkNameOf(B.id)].IPAddress as string;
    const byIp = client(netA, INFRA.services.redis.image, ["timeout", "5", "redis-cli", "--no-auth-warning", "-h", ipB, "GET", "k"], { REDISCLI_AUTH: envB.HEARTH_REDIS_PASSWORD! });
    expect(byIp.out).not.toContain("redis-b");
  });

  it("provisioning again (a container re-creation) gives the same credentials and keeps the data", async () => {
    const ids = { redis: inspect(`${PREFIX}redis-${A.id}`).Id };
    const again = await prov.provision(A, parsed(full), ctx());
    console.log(`addons: provision times app A (again): ${JSON.stringify(prov.lastTimings)}`);
    expect(again).toEqual(envA);
    expect(inspect(`${PREFIX}redis-${A.id}`).Id).toBe(ids.redis);
    expect(mysql(networkNameOf(A.id), envA, "SELECT v FROM t").out).toBe("mysql-a");
  });

  it("backup → clear → restore round-trips every addon's data", async () => {
    // some /app/data content, owned by a non-root user
    execFileSync("docker", [
      "run",
      "--rm",
      "--label",
      `hearth.test=${OWNER}`,
      "-v",
      `${dataVolumeNameOf(A.id)}:/data`,
      "localhost/hearth/base:bookworm",
      "sh",
      "-c",
      "echo keep-me >/data/file && mkdir /data/sub && echo x >/data/sub/y && chown -R 1234:1234 /data/sub",
    ]);
    const dir = mkdtempSync(path.join(dataDir, "bk-"));
    const t0 = Date.now();
    expect(await prov.backupApp(A.id, dir, ctx())).toEqual(["localstorage", "mysql", "postgresql", "redis"]);
    console.log(`addons: backup of app A took ${Date.now() - t0} ms`);
    for (const f of ["mysql/mysqldump.sql", "postgresql/pgdump.dump", "redis/dump.rdb", "localstorage/data.tar"]) expect(existsSync(path.join(dir, f)), f).toBe(true);

    expect(await prov.clearApp(A.id, ctx())).toEqual(["localstorage", "mysql", "postgresql", "redis"]);
    const netA = networkNameOf(A.id);
    expect(mysql(netA, envA, "SHOW TABLES")).toEqual({ code: 0, out: "" });
    expect(psql(netA, envA, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").out).toBe("0");
    expect(redis(netA, envA, "DBSIZE").out).toBe("0");
    expect(execFileSync("docker", ["run", "--rm", "-v", `${dataVolumeNameOf(A.id)}:/data`, "localhost/hearth/base:bookworm", "ls", "-A", "/data"], { encoding: "utf8" }).trim()).toBe("");
    // B untouched
    expect(mysql(networkNameOf(B.id), envB, "SELECT v FROM tb").out).toBe("mysql-b");
    expect(redis(networkNameOf(B.id), envB, "GET", "k").out).toBe("redis-b");

    const t1 = Date.now();
    await prov.restoreApp(A.id, dir, ctx());
    console.log(`addons: restore of app A took ${Date.now() - t1} ms`);
    expect(mysql(netA, envA, "SELECT v FROM t")).toEqual({ code: 0, out: "mysql-a" });
    expect(psql(netA, envA, "SELECT v FROM t")).toEqual({ code: 0, out: "pg-a" });
    expect(psql(netA, envA, "INSERT INTO t VALUES (2, 'after') RETURNING v").out).toMatch(/^after/); // still the role's table
    expect(redis(netA, envA, "GET", "k")).toEqual({ code: 0, out: "redis-a" });
    expect(
      execFileSync("docker", ["run", "--rm", "-v", `${dataVolumeNameOf(A.id)}:/data`, "localhost/hearth/base:bookworm", "sh", "-c", "cat /data/file; stat -c %u /data/sub/y"], {
        encoding: "utf8",
      }).trim(),
    ).toBe("keep-me\n1234");
  });

  it("after the services restart, the credentials still work", async () => {
    execFileSync("docker", ["restart", `${PREFIX}mariadb`, `${PREFIX}postgresql`, `${PREFIX}redis-${A.id}`], { stdio: "ignore" });
    await services.start();
    await prov.provision(A, parsed(full), ctx()); // waits for redis to be ready again, same credentials
    const netA = networkNameOf(A.id);
    expect(mysql(netA, envA, "SELECT v FROM t").out).toBe("mysql-a");
    expect(psql(netA, envA, "SELECT count(*) FROM t").out).toBe("2");
    expect(redis(netA, envA, "GET", "k").out).toBe("redis-a");
  });

  it("an addon removed from the manifest is backed up, then torn down; an unknown one is refused", async () => {
    const less = { mysql: {}, postgresql: { extensions: ["pg_trgm", "citext"] }, localstorage: {} };
    const env = await prov.provision(A, parsed(less), ctx());
    expect(env.HEARTH_REDIS_URL).toBeUndefined();
    expect(exists(`${PREFIX}redis-${A.id}`)).toBe(false);
    expect(await db.appAddon.count({ where: { appId: A.id, name: "redis" } })).toBe(0);
    const saved = readdirSync(path.join(dataDir, "backups", "apps", A.id, "addons"));
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatch(/^redis-/);
    expect(existsSync(path.join(dataDir, "backups", "apps", A.id, "addons", saved[0]!, "dump.rdb"))).toBe(true);

    const only = new AddonProvisioner({ db, secretKey, dataDir, handlers: [new LocalStorageAddon({ docker, extras, services })], unavailableReason: "HEARTH_SERVICES=off" });
    await expect(only.provision(A, parsed(less), ctx())).rejects.toMatchObject({ code: "invalid", message: expect.stringMatching(/"mysql" is not available on this box \(HEARTH_SERVICES=off\)/) });
    await expect(prov.provision(A, parsed({ ...less, postgresql: { extensions: ["plpython3u"] } }), ctx())).rejects.toMatchObject({ code: "invalid" });
  });

  it("deprovision leaves nothing of the app, and nothing of the other app is touched", async () => {
    const dbB = envB.HEARTH_MYSQL_DATABASE!;
    await prov.deprovision(B.id, ctx());
    await prov.deprovision(B.id, ctx()); // idempotent
    expect(rootMysql(`SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name LIKE '${dbB}%'`)).toBe("0");
    expect(rootMysql(`SELECT COUNT(*) FROM mysql.user WHERE user = '${dbB}'`)).toBe("0");
    expect(rootMysql(`SELECT COUNT(*) FROM mysql.db WHERE user = '${dbB}'`)).toBe("0");
    expect(rootPsql(`SELECT COUNT(*) FROM pg_database WHERE datname = '${envB.HEARTH_POSTGRESQL_DATABASE}'`)).toBe("0");
    expect(rootPsql(`SELECT COUNT(*) FROM pg_roles WHERE rolname = '${envB.HEARTH_POSTGRESQL_USERNAME}'`)).toBe("0");
    expect(exists(`${PREFIX}redis-${B.id}`)).toBe(false);
    expect(existsSync(path.join(dataDir, "services", "redis", B.id))).toBe(false);
    expect(await db.appAddon.count({ where: { appId: B.id } })).toBe(0);
    expect(Object.keys(inspect(`${PREFIX}mariadb`).NetworkSettings.Networks)).not.toContain(networkNameOf(B.id));
    expect(Object.keys(inspect(`${PREFIX}postgresql`).NetworkSettings.Networks)).not.toContain(networkNameOf(B.id));
    // the network can go now (nothing is attached any more)
    await docker.removeNetwork(networkNameOf(B.id));
    // A still works
    expect(mysql(networkNameOf(A.id), envA, "SELECT v FROM t").out).toBe("mysql-a");
    expect(psql(networkNameOf(A.id), envA, "SELECT v FROM t WHERE id = 1").out).toBe("pg-a");
  });
});

describe("through AppService", () => {
  it("install gives the container HEARTH_MYSQL_* and HEARTH_REDIS_*; uninstall then delete now removes everything", async () => {
    const addons = { mysql: {}, redis: {} };
    const app = await insertApp("e2e", addons);
    const t0 = Date.now();
    await apps.install(app.id, ctx());
    console.log(`addons: install with mysql + redis took ${Date.now() - t0} ms (addons: ${JSON.stringify(prov.lastTimings)})`);
    const c = inspect(containerNameOf(app.id));
    const env = Object.fromEntries((c.Config.Env as string[]).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    for (const k of [
      "HEARTH_MYSQL_URL",
      "HEARTH_MYSQL_HOST",
      "HEARTH_MYSQL_PORT",
      "HEARTH_MYSQL_USERNAME",
      "HEARTH_MYSQL_PASSWORD",
      "HEARTH_MYSQL_DATABASE",
      "HEARTH_REDIS_URL",
      "HEARTH_REDIS_HOST",
      "HEARTH_REDIS_PORT",
      "HEARTH_REDIS_PASSWORD",
    ])
      expect(env[k], k).toBeTruthy();
    // from the app's network, its variables work
    expect(mysql(networkNameOf(app.id), env, "SELECT 1").out).toBe("1");
    expect(redis(networkNameOf(app.id), env, "PING").out).toBe("PONG");
    // no password in the task log lines
    expect(ctxLines.join("\n")).not.toContain(env.HEARTH_MYSQL_PASSWORD);

    // uninstall keeps the database and the Redis data (their container goes) …
    await apps.uninstall(app.id, ctx());
    expect(exists(`${PREFIX}redis-${app.id}`)).toBe(false);
    expect(rootMysql(`SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '${env.HEARTH_MYSQL_DATABASE}'`)).toBe("1");
    expect(existsSync(services.redisDir(app.id))).toBe(true);
    // … the admin's delete now removes them
    await uninstallAndPurge(db, apps, app.id, ctx());
    expect(existsSync(services.redisDir(app.id))).toBe(false);
    expect(exists(containerNameOf(app.id))).toBe(false);
    expect(exists(`${PREFIX}redis-${app.id}`)).toBe(false);
    expect(spawnSync("docker", ["network", "inspect", networkNameOf(app.id)], { stdio: "ignore" }).status).not.toBe(0);
    expect(rootMysql(`SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '${env.HEARTH_MYSQL_DATABASE}'`)).toBe("0");
    expect(rootMysql(`SELECT COUNT(*) FROM mysql.user WHERE user = '${env.HEARTH_MYSQL_USERNAME}'`)).toBe("0");
    expect(await db.appAddon.count({ where: { appId: app.id } })).toBe(0);
  });

  it("no secret reached the logs", () => {
    const all = [...logLines, ...ctxLines].join("\n");
    expect(all.length).toBeGreaterThan(100);
    expect(all).not.toMatch(/HEARTH_[A-Z]+_PASSWORD=/);
  });
});
