import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INFRA, type InfraSpec } from "../../apps/box/src/addons/infra";
import { createServiceDockerExtras } from "../../apps/box/src/addons/service-docker";
import { DEFAULT_MEMORY, INFRA_LABEL, SERVICE_LABEL, SERVICE_OWNER_LABEL, SERVICE_VERSION_LABEL, ServiceManager, type ServiceManagerOptions } from "../../apps/box/src/addons/services";
import { createDocker, OWNER_LABEL } from "../../apps/box/src/docker/docker";
import { createLogger } from "../../apps/box/src/logger";
import { REPO_ROOT } from "../helpers/db";

/**
 * The addon services on the real Docker engine, from the images setup/images builds:
 * MariaDB then PostgreSQL started with readiness checks, administered only over their
 * sockets inside the containers (no root / postgres over the network, also for data made
 * by older images), reached by apps' own users from a throw-away container on the
 * services network, a second manager (a box
 * restart) that changes nothing, per-owner Redis, and upgrades — a major one (new version:
 * dump, new data folder, import) that is interrupted twice and resumed, one whose import
 * fails and is rolled back, and an infra-only one — keeping the data every time.
 * Everything is named with a prefix and labelled with an owner of this run's own, so it
 * cannot touch a real install's services, and is removed afterwards.
 */

const RUN = randomBytes(4).toString("hex");
const OWNER = `svc-test-${RUN}`;
const docker = createDocker();
const extras = createServiceDockerExtras();
const tmpRoots: string[] = [];
const logLines: string[] = [];
const log = createLogger("info", "svc-test", { write: (s: string) => void logLines.push(s) });
const passwords: string[] = [];

function env(name: string): { prefix: string; dataDir: string } {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `hearth-svc-${name}-`));
  tmpRoots.push(dataDir);
  return { prefix: `hearth-t${RUN}${name}-`, dataDir };
}

function manager(e: { prefix: string; dataDir: string }, over: Partial<ServiceManagerOptions> = {}): ServiceManager {
  return new ServiceManager({ docker, extras, dataDir: e.dataDir, prefix: e.prefix, owner: OWNER, log, readyTimeoutMs: 120_000, ...over });
}

function infraWith(infraVersion: string, versions: { mariadb?: string; postgresql?: string } = {}): InfraSpec {
  // older versions are faked by labels only: the image is the one this machine has
  return {
    infraVersion,
    services: {
      mariadb: { ...INFRA.services.mariadb, version: versions.mariadb ?? INFRA.services.mariadb.version },
      postgresql: { ...INFRA.services.postgresql, version: versions.postgresql ?? INFRA.services.postgresql.version },
      redis: INFRA.services.redis,
    },
  };
}

/** A throw-away client container on `network`; the password goes in through the environment of the docker CLI, not its arguments. */
function client(network: string, image: string, cmd: string[], secretEnv: Record<string, string>): { code: number; out: string } {
  const args = ["run", "--rm", "--network", network, "--label", `hearth.test=${OWNER}`];
  for (const k of Object.keys(secretEnv)) args.push("-e", k);
  const r = spawnSync("docker", [...args, image, ...cmd], { env: { ...process.env, ...secretEnv }, encoding: "utf8", timeout: 60_000 });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}`.trim() };
}
const mysql = (network: string, password: string, sql: string, user = "root") =>
  client(network, INFRA.services.mariadb.image, ["mariadb", "-h", "mariadb", `-u${user}`, "-N", "-B", "-e", sql], { MYSQL_PWD: password });
const psql = (network: string, password: string, sql: string, user = "postgres", db = "postgres") =>
  client(network, INFRA.services.postgresql.image, ["psql", "-X", "-tA", "-h", "postgresql", "-U", user, "-d", db, "-c", sql], { PGPASSWORD: password });
/** Admin SQL the way box runs it: inside the container, over the socket (root by unix_socket, postgres by peer). */
const adminMysql = (container: string, sql: string) => execFileSync("docker", ["exec", container, "mariadb", "--protocol=socket", "-uroot", "-N", "-B", "-e", sql], { encoding: "utf8" }).trim();
const adminPsql = (container: string, sql: string) =>
  execFileSync("docker", ["exec", container, "runuser", "-u", "postgres", "--", "psql", "-X", "-tA", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql], { encoding: "utf8" }).trim();
const redis = (network: string, host: string, password: string, ...cmd: string[]) =>
  client(network, INFRA.services.redis.image, ["redis-cli", "--no-auth-warning", "-h", host, ...cmd], { REDISCLI_AUTH: password });

const inspect = (name: string) => JSON.parse(execFileSync("docker", ["inspect", name], { encoding: "utf8" }))[0];
const exists = (name: string) => spawnSync("docker", ["inspect", name], { stdio: "ignore" }).status === 0;
const mode = (p: string) => statSync(p).mode & 0o777;

beforeAll(() => {
  // the real build scripts, each skipped when its image is up to date; on a fresh machine
  // the Debian base comes first (debootstrap: other tests allow it 900s too)
  for (const script of ["base", "mariadb", "postgresql", "redis"].map((s) => path.join(REPO_ROOT, "setup/images", s, "build.sh"))) {
    const r = spawnSync(script, [], { encoding: "utf8", timeout: script.includes("/base/") ? 900_000 : 300_000 });
    if (r.status !== 0) throw new Error(`${script} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
    console.log(r.stdout.trim().split("\n").at(-1));
  }
}, 1_500_000);

afterAll(() => {
  const ids = (filter: string, kind: "ps" | "network") =>
    execFileSync("docker", kind === "ps" ? ["ps", "-aq", "--filter", filter] : ["network", "ls", "-q", "--filter", filter], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  const containers = [...ids(`label=${OWNER_LABEL}=${OWNER}`, "ps"), ...ids(`label=hearth.test=${OWNER}`, "ps")];
  if (containers.length) spawnSync("docker", ["rm", "-f", "-v", ...containers], { stdio: "ignore" });
  const networks = ids(`label=${OWNER_LABEL}=${OWNER}`, "network");
  if (networks.length) spawnSync("docker", ["network", "rm", ...networks], { stdio: "ignore" });
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
  // nothing of this run is left
  expect(ids(`label=${OWNER_LABEL}=${OWNER}`, "ps")).toEqual([]);
  expect(ids(`label=${OWNER_LABEL}=${OWNER}`, "network")).toEqual([]);
});

describe("shared services", () => {
  const e = env("a");
  let m: ServiceManager;

  it("refuses clearly when an image is missing", async () => {
    const broken = infraWith("1");
    broken.services.mariadb = { version: "0.0", image: `localhost/hearth/mariadb:missing-${RUN}` };
    await expect(manager(e, { infra: broken }).start()).rejects.toThrow(/hearth\/mariadb:missing-.* is missing: build it with setup\/images\/build-all\.sh/);
  });

  it("starts MariaDB, then PostgreSQL, each after its readiness check, hardened, on the services network", async () => {
    m = manager(e);
    const t0 = Date.now();
    const eps = await m.start();
    console.log(`addon services: first start (initialising both) took ${Date.now() - t0} ms`);
    expect(eps.map((x) => [x.container, x.host, x.port, x.network])).toEqual([
      [`${e.prefix}mariadb`, "mariadb", 3306, `${e.prefix}services`],
      [`${e.prefix}postgresql`, "postgresql", 5432, `${e.prefix}services`],
    ]);

    // in order: PostgreSQL's container was made only after MariaDB answered
    const msgs = logLines.map((l) => JSON.parse(l) as { msg: string; addon?: string });
    const ready = msgs.findIndex((x) => x.msg === "service ready" && x.addon === "mariadb");
    const pgCreated = msgs.findIndex((x) => x.msg === "creating the service's container" && x.addon === "postgresql");
    expect(ready).toBeGreaterThanOrEqual(0);
    expect(pgCreated).toBeGreaterThan(ready);

    for (const s of ["mariadb", "postgresql"] as const) {
      const c = inspect(`${e.prefix}${s}`);
      expect(c.State.Running).toBe(true);
      expect(c.Config.Labels).toMatchObject({
        "hearth.managed": "true",
        [SERVICE_LABEL]: s,
        [SERVICE_VERSION_LABEL]: INFRA.services[s].version,
        [INFRA_LABEL]: INFRA.infraVersion,
        [OWNER_LABEL]: OWNER,
      });
      expect(c.HostConfig.Memory).toBe(DEFAULT_MEMORY[s]);
      expect(c.HostConfig.MemorySwap).toBe(DEFAULT_MEMORY[s]);
      expect(c.HostConfig.RestartPolicy.Name).toBe("unless-stopped");
      expect(c.HostConfig.ReadonlyRootfs).toBe(true);
      expect(c.HostConfig.CapDrop).toEqual(["ALL"]);
      expect(c.HostConfig.SecurityOpt).toContain("no-new-privileges:true");
      expect(c.HostConfig.PortBindings ?? {}).toEqual({}); // not published: apps reach it over the network
      expect(Object.keys(c.NetworkSettings.Networks)).toEqual([`${e.prefix}services`]);
      expect(c.NetworkSettings.Networks[`${e.prefix}services`].Aliases).toContain(s);
      const dataMount = c.Mounts.find((x: { Destination: string }) => x.Destination.startsWith("/var/lib/"));
      expect(dataMount.Source).toBe(path.join(e.dataDir, "services", s, `data-${INFRA.services[s].version}`));
      // the server runs as the service's user, not root
      const procUsers = 'for p in /proc/[0-9]*; do [ "$(cat "$p/comm" 2>/dev/null)" = "$0" ] && stat -c %U "$p"; done | sort -u';
      const user = execFileSync("docker", ["exec", c.Id, "sh", "-c", procUsers, s === "mariadb" ? "mariadbd" : "postgres"], { encoding: "utf8" }).trim();
      expect(user).toBe(s === "mariadb" ? "mysql" : "postgres");
      // no admin password handed in at all
      expect((c.Config.Env as string[]).some((x) => x.startsWith("HEARTH_PASSWORD"))).toBe(false);
    }
    const net = JSON.parse(execFileSync("docker", ["network", "inspect", `${e.prefix}services`], { encoding: "utf8" }))[0];
    expect(net.Labels).toMatchObject({ "hearth.managed": "true", [OWNER_LABEL]: OWNER });

    // no admin password file: nothing to steal
    for (const s of ["mariadb", "postgresql"] as const) {
      expect(existsSync(path.join(e.dataDir, "services", s, "root-password"))).toBe(false);
      expect(mode(path.join(e.dataDir, "services", s))).toBe(0o700);
    }
  });

  it("answers apps' own users on the services network; root and postgres only over the socket inside the container", () => {
    expect(adminMysql(`${e.prefix}mariadb`, "SELECT @@version")).toMatch(new RegExp(`^${INFRA.services.mariadb.version.replace(".", "\\.")}\\.`));
    expect(adminPsql(`${e.prefix}postgresql`, "SHOW server_version")).toMatch(new RegExp(`^${INFRA.services.postgresql.version}\\.`));
    const userPw = randomBytes(18).toString("base64url");
    passwords.push(userPw);
    adminMysql(`${e.prefix}mariadb`, `CREATE USER 'netuser'@'%' IDENTIFIED BY '${userPw}'`);
    adminPsql(`${e.prefix}postgresql`, `CREATE ROLE netuser LOGIN PASSWORD '${userPw}'`);
    expect(mysql(m.network, userPw, "SELECT CURRENT_USER()", "netuser")).toEqual({ code: 0, out: "netuser@%" });
    expect(psql(m.network, userPw, "SELECT current_user", "netuser")).toEqual({ code: 0, out: "netuser" });

    // no administrator over the network, whatever the password
    expect(adminMysql(`${e.prefix}mariadb`, "SELECT COUNT(*) FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost'")).toBe("0");
    for (const guess of ["", userPw, "root"]) {
      const my = mysql(m.network, guess, "SELECT 1", "root");
      expect(my.code).not.toBe(0);
      expect(my.out).toMatch(/Access denied for user 'root'/);
      const pg = psql(m.network, guess, "SELECT 1", "postgres");
      expect(pg.code).not.toBe(0);
      expect(pg.out).toMatch(/pg_hba\.conf rejects connection .* user "postgres"/);
    }
    expect(adminPsql(`${e.prefix}postgresql`, "SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'postgres'")).toBe("t");
  });

  it("data made by the older images (root@'%', a postgres network password) loses them at the next start", async () => {
    const oldPw = randomBytes(18).toString("base64url");
    passwords.push(oldPw);
    // and the password file an earlier box kept for them
    for (const s of ["mariadb", "postgresql"]) writeFileSync(path.join(e.dataDir, "services", s, "root-password"), oldPw, { mode: 0o600 });
    // what the images before did on every start
    adminMysql(`${e.prefix}mariadb`, `CREATE USER 'root'@'%' IDENTIFIED BY '${oldPw}'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION`);
    adminPsql(`${e.prefix}postgresql`, `ALTER ROLE postgres WITH PASSWORD '${oldPw}'`);
    const pgData = path.join(e.dataDir, "services", "postgresql", `data-${INFRA.services.postgresql.version}`);
    writeFileSync(path.join(pgData, ".hearth-password.sha256"), "from-an-older-image\n");
    expect(mysql(m.network, oldPw, "SELECT 1", "root")).toEqual({ code: 0, out: "1" }); // it really was open

    for (const s of ["mariadb", "postgresql"]) execFileSync("docker", ["restart", `${e.prefix}${s}`], { stdio: "ignore" });
    await manager(e).start();
    expect(adminMysql(`${e.prefix}mariadb`, "SELECT COUNT(*) FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost'")).toBe("0");
    expect(mysql(m.network, oldPw, "SELECT 1", "root").out).toMatch(/Access denied for user 'root'/);
    expect(adminPsql(`${e.prefix}postgresql`, "SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'postgres'")).toBe("t");
    expect(existsSync(path.join(pgData, ".hearth-password.sha256"))).toBe(false);
    expect(psql(m.network, oldPw, "SELECT 1", "postgres").out).toMatch(/pg_hba\.conf rejects connection/);
    for (const s of ["mariadb", "postgresql"]) expect(existsSync(path.join(e.dataDir, "services", s, "root-password"))).toBe(false);
  });

  it("a restarted box (a new manager) keeps the same containers; a stopped service is started again", async () => {
    const before = { mariadb: inspect(`${e.prefix}mariadb`).Id, postgresql: inspect(`${e.prefix}postgresql`).Id };
    const m2 = manager(e);
    await m2.start();
    expect({ mariadb: inspect(`${e.prefix}mariadb`).Id, postgresql: inspect(`${e.prefix}postgresql`).Id }).toEqual(before);
    expect(readdirSync(path.join(e.dataDir, "services", "mariadb")).filter((f) => f.startsWith("upgrade"))).toEqual([]);

    execFileSync("docker", ["stop", `${e.prefix}postgresql`], { stdio: "ignore" });
    await manager(e).start();
    const pg = inspect(`${e.prefix}postgresql`);
    expect(pg.Id).toBe(before.postgresql);
    expect(pg.State.Running).toBe(true);
    expect(adminPsql(`${e.prefix}postgresql`, "SELECT 1")).toBe("1");
  });

  it("never touches the services of another Hearth installation that uses the same names", async () => {
    const before = inspect(`${e.prefix}mariadb`).Id;
    // same prefix, other owner: e.g. a test's box next to an installed Hearth
    const other = manager({ prefix: e.prefix, dataDir: env("o").dataDir }, { owner: `${OWNER}-other` });
    await expect(other.ensure("mariadb")).rejects.toMatchObject({ code: "conflict", message: expect.stringMatching(/belongs to another Hearth installation/) });
    expect(inspect(`${e.prefix}mariadb`).Id).toBe(before);
  });

  it("runs a Redis per owner with its password, recreates an outdated one on its data, and removes one completely", async () => {
    const pw1 = randomBytes(24).toString("base64url");
    const pw2 = randomBytes(24).toString("base64url");
    passwords.push(pw1, pw2);
    const ep = await m.ensureRedis({ ownerId: "app1", password: pw1, network: m.network, alias: `redis-app1-${RUN}` });
    expect(ep).toMatchObject({ container: `${e.prefix}redis-app1`, host: `redis-app1-${RUN}`, port: 6379 });
    const c = inspect(ep.container);
    expect(c.Config.Labels).toMatchObject({ [SERVICE_LABEL]: "redis", [SERVICE_OWNER_LABEL]: "app1", [INFRA_LABEL]: INFRA.infraVersion, [OWNER_LABEL]: OWNER });
    expect(c.HostConfig.Memory).toBe(256 * 1024 * 1024);
    expect(JSON.stringify(c)).not.toContain(pw1);
    expect(mode(path.join(e.dataDir, "services", "redis", "app1", "password"))).toBe(0o600);
    expect(redis(m.network, ep.host, pw1, "SET", "k", "v1")).toEqual({ code: 0, out: "OK" });
    expect(redis(m.network, ep.host, pw1, "GET", "k")).toEqual({ code: 0, out: "v1" });
    expect(redis(m.network, ep.host, "wrong-password-123", "GET", "k").out).toMatch(/WRONGPASS|NOAUTH/);
    // idempotent
    const again = await m.ensureRedis({ ownerId: "app1", password: pw1, network: m.network, alias: `redis-app1-${RUN}` });
    expect(inspect(again.container).Id).toBe(c.Id);

    // one made under an older infra is upgraded at start, keeping its data
    const old = manager(e, { infra: infraWith("0") });
    const ep2 = await old.ensureRedis({ ownerId: "app2", password: pw2, network: m.network, alias: `redis-app2-${RUN}` });
    expect(inspect(ep2.container).Config.Labels[INFRA_LABEL]).toBe("0");
    expect(redis(m.network, ep2.host, pw2, "SET", "kept", "yes").out).toBe("OK");
    const oldId = inspect(ep2.container).Id;
    await manager(e).start();
    const up = inspect(ep2.container);
    expect(up.Id).not.toBe(oldId);
    expect(up.Config.Labels[INFRA_LABEL]).toBe(INFRA.infraVersion);
    expect(up.State.Running).toBe(true);
    expect(redis(m.network, ep2.host, pw2, "GET", "kept")).toEqual({ code: 0, out: "yes" });
    expect(inspect(ep.container).Id).toBe(c.Id); // the up-to-date one was left alone

    // append-only file: a write a second old survives a SIGKILL
    expect(redis(m.network, ep2.host, pw2, "SET", "durable", "yes").out).toBe("OK");
    await new Promise((r) => setTimeout(r, 1500));
    execFileSync("docker", ["kill", ep2.container], { stdio: "ignore" });
    await m.ensureRedis({ ownerId: "app2", password: pw2, network: m.network, alias: `redis-app2-${RUN}` });
    expect(redis(m.network, ep2.host, pw2, "GET", "durable")).toEqual({ code: 0, out: "yes" });

    await m.removeRedis("app1");
    await m.removeRedis("app1"); // idempotent
    expect(exists(ep.container)).toBe(false);
    expect(existsSync(path.join(e.dataDir, "services", "redis", "app1"))).toBe(false);
    await m.removeRedis("app2");
    expect(exists(ep2.container)).toBe(false);
  });
});

describe("upgrades keep the data", () => {
  const e = env("u");
  const OLD = { mariadb: "10.10", postgresql: "14" };
  const oldRootPw = randomBytes(18).toString("base64url");
  const net = `${e.prefix}services`;
  const appPw = randomBytes(18).toString("base64url");

  const checkData = (tag: string) => {
    expect(mysql(net, appPw, "SELECT v FROM upg.t ORDER BY id", "appuser"), tag).toEqual({ code: 0, out: "before\nsecond" });
    expect(psql(net, appPw, "SELECT v FROM t ORDER BY id", "appuser", "upg"), tag).toEqual({ code: 0, out: "before\nsecond" });
  };
  const containerState = (s: "mariadb" | "postgresql") => {
    const c = inspect(`${e.prefix}${s}`);
    return { id: c.Id as string, version: c.Config.Labels[SERVICE_VERSION_LABEL], infra: c.Config.Labels[INFRA_LABEL], running: c.State.Running };
  };
  const dumps = (s: string) => readdirSync(path.join(e.dataDir, "services", s)).filter((f) => /^upgrade-.*\.sql$/.test(f));

  it("starts an 'older' installation and writes data, users and grants", async () => {
    passwords.push(appPw, oldRootPw);
    await manager(e, { infra: infraWith("0", OLD) }).start();
    expect(containerState("mariadb")).toMatchObject({ version: "10.10", infra: "0" });
    adminMysql(
      `${e.prefix}mariadb`,
      `CREATE DATABASE upg; CREATE TABLE upg.t (id INT PRIMARY KEY, v TEXT); INSERT INTO upg.t VALUES (1, 'before'), (2, 'second');
       CREATE USER 'appuser'@'%' IDENTIFIED BY '${appPw}'; GRANT ALL ON upg.* TO 'appuser'@'%';`,
    );
    for (const sql of [`CREATE ROLE appuser LOGIN PASSWORD '${appPw}'`, "CREATE DATABASE upg OWNER appuser"]) adminPsql(`${e.prefix}postgresql`, sql);
    // as an install made by the older images: root over the network, postgres with a password
    // (the dump carries them into the new version; the import must drop them again)
    adminMysql(`${e.prefix}mariadb`, `CREATE USER 'root'@'%' IDENTIFIED BY '${oldRootPw}'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION`);
    adminPsql(`${e.prefix}postgresql`, `ALTER ROLE postgres WITH PASSWORD '${oldRootPw}'`);
    const r = psql(net, appPw, "CREATE TABLE t (id INT PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'before'), (2, 'second')", "appuser", "upg");
    expect(r.code, r.out).toBe(0);
    checkData("before any upgrade");
  });

  it("a major upgrade whose import fails goes back to the old container, data intact", async () => {
    const before = containerState("mariadb");
    const m = manager(e, {
      onUpgradePhase: (s, phase, dumpFile) => {
        // the dump is complete and checked; spoil it so that the import fails
        if (s === "mariadb" && phase === "switch") appendFileSync(dumpFile, "\nTHIS IS NOT SQL;\n");
      },
    });
    await expect(m.ensure("mariadb")).rejects.toThrow(
      new RegExp(`upgrading mariadb 10\\.10 \\(infra 0\\) → 10\\.11 \\(infra ${INFRA.infraVersion}\\) failed: importing the dump .* failed .*; the previous container runs again with its data`, "s"),
    );
    expect(containerState("mariadb")).toEqual({ ...before, running: true });
    expect(existsSync(path.join(e.dataDir, "services", "mariadb", "upgrade.json"))).toBe(false);
    expect(existsSync(path.join(e.dataDir, "services", "mariadb", `data-${INFRA.services.mariadb.version}`))).toBe(false);
    expect(exists(`${e.prefix}mariadb-previous`)).toBe(false);
    checkData("after the rollback");
  });

  it("a major upgrade interrupted after the dump and before the cleanup resumes on the next start", async () => {
    // the rollback above restarted the old MariaDB, whose start dropped root@'%': made again,
    // so that this upgrade's dump carries it and its import has to drop it
    adminMysql(`${e.prefix}mariadb`, `CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '${oldRootPw}'; GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION`);
    expect(mysql(net, oldRootPw, "SELECT 1", "root")).toEqual({ code: 0, out: "1" });
    const before = { mariadb: containerState("mariadb"), postgresql: containerState("postgresql") };
    const crashAt: Record<string, string> = { mariadb: "cleanup", postgresql: "switch" };
    const crashing = manager(e, {
      onUpgradePhase: (s, phase) => {
        if (crashAt[s] === phase) throw new Error(`simulated crash: ${s} entering ${phase}`);
      },
    });
    await expect(crashing.ensure("mariadb")).rejects.toThrow("simulated crash: mariadb entering cleanup");
    await expect(crashing.ensure("postgresql")).rejects.toThrow("simulated crash: postgresql entering switch");
    // mid-way: MariaDB's new container runs, its old one waits aside; PostgreSQL is dumped
    expect(JSON.parse(readFileSync(path.join(e.dataDir, "services", "mariadb", "upgrade.json"), "utf8")).phase).toBe("cleanup");
    expect(inspect(`${e.prefix}mariadb-previous`).Id).toBe(before.mariadb.id);
    expect(JSON.parse(readFileSync(path.join(e.dataDir, "services", "postgresql", "upgrade.json"), "utf8")).phase).toBe("switch");
    expect(containerState("postgresql").id).toBe(before.postgresql.id);

    const t0 = Date.now();
    await manager(e).start();
    console.log(`addon services: resuming both major upgrades took ${Date.now() - t0} ms`);
    for (const s of ["mariadb", "postgresql"] as const) {
      const now = containerState(s);
      expect(now).toMatchObject({ version: INFRA.services[s].version, infra: INFRA.infraVersion, running: true });
      expect(now.id).not.toBe(before[s].id);
      expect(exists(`${e.prefix}${s}-previous`)).toBe(false);
      expect(existsSync(path.join(e.dataDir, "services", s, "upgrade.json"))).toBe(false);
      // the old data folder went after the import succeeded; the dump stays (0600)
      expect(existsSync(path.join(e.dataDir, "services", s, `data-${OLD[s]}`))).toBe(false);
      expect(existsSync(path.join(e.dataDir, "services", s, `data-${INFRA.services[s].version}`))).toBe(true);
      expect(dumps(s).length).toBeGreaterThanOrEqual(1);
      for (const d of dumps(s)) expect(mode(path.join(e.dataDir, "services", s, d))).toBe(0o600);
    }
    // users and grants came along; the network admin of the older images did not
    checkData("after the major upgrade");
    expect(adminMysql(`${e.prefix}mariadb`, "SELECT COUNT(*) FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost'")).toBe("0");
    expect(mysql(net, oldRootPw, "SELECT 1", "root").out).toMatch(/Access denied for user 'root'/);
    expect(adminPsql(`${e.prefix}postgresql`, "SELECT rolpassword IS NULL FROM pg_authid WHERE rolname = 'postgres'")).toBe("t");
    expect(psql(net, oldRootPw, "SELECT 1", "postgres").out).toMatch(/pg_hba\.conf rejects connection/);
    expect(mysql(net, appPw, "SELECT COUNT(*) FROM mysql.user", "appuser").code).not.toBe(0); // grants are still only upg.*
  });

  it("an infra-only upgrade recreates the containers on the same data, after a safety dump, on the same networks", async () => {
    // as provisioning may do: MariaDB also on an app's network, under an alias there
    const appNet = `${e.prefix}app1`;
    execFileSync("docker", ["network", "create", "--label", "hearth.managed=true", "--label", `${OWNER_LABEL}=${OWNER}`, appNet], { stdio: "ignore" });
    execFileSync("docker", ["network", "connect", "--alias", "db-of-app1", appNet, `${e.prefix}mariadb`], { stdio: "ignore" });
    const before = { mariadb: containerState("mariadb"), postgresql: containerState("postgresql") };
    const dumpsBefore = { mariadb: dumps("mariadb").length, postgresql: dumps("postgresql").length };
    await manager(e, { infra: infraWith("2-test") }).start();
    for (const s of ["mariadb", "postgresql"] as const) {
      const now = containerState(s);
      expect(now).toMatchObject({ version: INFRA.services[s].version, infra: "2-test", running: true });
      expect(now.id).not.toBe(before[s].id);
      expect(dumps(s).length).toBe(dumpsBefore[s] + 1);
      const dataMount = inspect(now.id).Mounts.find((x: { Destination: string }) => x.Destination.startsWith("/var/lib/"));
      expect(dataMount.Source).toBe(path.join(e.dataDir, "services", s, `data-${INFRA.services[s].version}`));
    }
    checkData("after the infra upgrade");
    const my = inspect(`${e.prefix}mariadb`);
    expect(Object.keys(my.NetworkSettings.Networks).sort()).toEqual([appNet, net].sort());
    expect(my.NetworkSettings.Networks[appNet].Aliases).toContain("db-of-app1");
    expect(client(appNet, INFRA.services.mariadb.image, ["mariadb", "-h", "db-of-app1", "-uappuser", "-N", "-e", "SELECT COUNT(*) FROM upg.t"], { MYSQL_PWD: appPw })).toEqual({ code: 0, out: "2" });
    // and once up to date, another start changes nothing
    const ids = { mariadb: containerState("mariadb").id, postgresql: containerState("postgresql").id };
    await manager(e, { infra: infraWith("2-test") }).start();
    expect({ mariadb: containerState("mariadb").id, postgresql: containerState("postgresql").id }).toEqual(ids);
  });
});

describe("secrets", () => {
  it("no password ever reached the log", () => {
    expect(logLines.length).toBeGreaterThan(10);
    const all = logLines.join("\n");
    for (const p of passwords) expect(all).not.toContain(p);
    expect(passwords.length).toBeGreaterThan(4);
  });
});
