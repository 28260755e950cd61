import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest, isHearthError } from "@hearth/contracts";
import { putBackupConfig, queueAppBackup, queueBackupRestore, sealSecret, type Db } from "@hearth/db";
import { LocalStorageAddon } from "../../apps/box/src/addons/localstorage";
import { MysqlAddon } from "../../apps/box/src/addons/mysql";
import { PostgresqlAddon } from "../../apps/box/src/addons/postgresql";
import { RedisAddon } from "../../apps/box/src/addons/redis";
import type { ServiceManager } from "../../apps/box/src/addons/services";
import type { AddonProvisioner } from "../../apps/box/src/addons/provisioner";
import type { AppService, StepContext } from "../../apps/box/src/apps/apps.service";
import { containerNameOf } from "../../apps/box/src/apps/container-spec";
import { BackupService } from "../../apps/box/src/backups/backups.service";
import { createLogger } from "../../apps/box/src/logger";
import { dataPaths } from "../../apps/box/src/paths";
import { addonTestStack, buildCatalogImage, buildServiceImages } from "../helpers/addon-stack";
import { insertPendingApp } from "../helpers/app-rows";
import type { TestDatabase } from "../helpers/db";
import { removeTestDockerObjects } from "../helpers/teardown";

/**
 * Backups on the real peers: the catalog's static-site image with localstorage + mysql +
 * postgresql + redis on the run's own services, restic 0.14 from Debian on a filesystem site. Backup → change the
 * data → restore → the files' hashes, MariaDB's table checksum, the PostgreSQL rows' md5 and the
 * Redis keys are those of the backup point;
 * the README's standard-tool commands restore the same snapshot with the passphrase alone; a
 * wrong passphrase is refused (and the backup marked failed, with backup.failed); a corrupted
 * pack makes the restore refuse before the app is touched (it keeps running, data unchanged).
 */

const RUN = randomBytes(4).toString("hex");
const OWNER = `backups-${RUN}`;
const PREFIX = `hearth-t${RUN}b-`;
const DOMAIN = "backups-test.example";
const IMAGE = "localhost/hearth/net.lighttpd.staticsite:1.0.0";
const PASSPHRASE = `pass-${randomBytes(12).toString("hex")}`;
const secretKey = randomBytes(32);
const dataDir = mkdtempSync(path.join(os.tmpdir(), "hearth-backups-"));
const siteDir = path.join(mkdtempSync(path.join(os.tmpdir(), "hearth-backup-site-")), "repo");
const log = createLogger("info", "backups-test", { write: () => {} });
const ctxLines: string[] = [];
let t: TestDatabase & { db: Db };
let db: Db;
let prov: AddonProvisioner;
let apps: AppService;
let backups: BackupService;
let services: ServiceManager;
let appId = "";

const manifest = hearthManifest.parse({
  manifestVersion: 1,
  id: "org.hearth.test.backups",
  title: "Backups test",
  version: "1.0.0",
  dockerImage: IMAGE,
  httpPort: 8000,
  healthCheckPath: "/healthz",
  memoryLimit: 128 * 1024 * 1024,
  addons: { localstorage: {}, mysql: {}, postgresql: {}, redis: {} },
});

function ctx(): StepContext {
  return { taskId: randomUUID(), signal: new AbortController().signal, log: (l) => void ctxLines.push(l), progress: async (_p, m) => void ctxLines.push(`progress: ${m}`) };
}
const inApp = (script: string) => execFileSync("docker", ["exec", containerNameOf(appId), "sh", "-c", script], { encoding: "utf8" }).trim();
/** sha256 of every file under /app/data, as the app sees it */
const dataHashes = () => inApp("cd /app/data && find . -type f | sort | xargs sha256sum");
const dbName = () => inApp("echo $HEARTH_MYSQL_DATABASE");
const rootSql = (sql: string) => execFileSync("docker", ["exec", `${PREFIX}mariadb`, "mariadb", "-uroot", "-N", "-B", "-D", dbName(), "-e", sql], { encoding: "utf8" }).trim();
const checksum = () => rootSql("CHECKSUM TABLE notes");
/** SQL on the app's PostgreSQL database as the app's own role (psql as postgres in the service container, SET ROLE) */
const pg = (sql: string) =>
  execFileSync(
    "docker",
    [
      "exec",
      `${PREFIX}postgresql`,
      "runuser",
      "-u",
      "postgres",
      "--",
      "psql",
      "-X",
      "-tA",
      "-v",
      "ON_ERROR_STOP=1",
      "-d",
      inApp("echo $HEARTH_POSTGRESQL_DATABASE"),
      "-c",
      `SET ROLE "${inApp("echo $HEARTH_POSTGRESQL_USERNAME")}"; ${sql}`,
    ],
    { encoding: "utf8" },
  )
    .trim()
    .replace(/^SET\n?/, "");
const pgSum = () => pg("SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM items");
/** redis-cli in the app's own Redis container, the password from its mounted file (never argv) */
const redis = (...args: string[]) =>
  execFileSync("docker", ["exec", services.containerName("redis", appId), "sh", "-c", 'REDISCLI_AUTH="$(cat "$HEARTH_PASSWORD_FILE")" exec redis-cli --no-auth-warning "$@"', "redis-cli", ...args], {
    encoding: "utf8",
  }).trim();
const redisState = () => {
  const keys = redis("--scan").split("\n").filter(Boolean).sort();
  return keys.map((k) => `${k}=${redis("GET", k)}`).join(",");
};
const running = () => execFileSync("docker", ["inspect", "-f", "{{.State.Running}}", containerNameOf(appId)], { encoding: "utf8" }).trim();
/** A task admin queued: the test runs its body itself, then finishes the row as the runner would. */
const finishTasks = () => db.task.updateMany({ where: { appId, state: { in: ["pending", "running"] } }, data: { state: "succeeded", finishedAt: new Date() } });
const resticEnv = (password: string) => ({ ...process.env, RESTIC_PASSWORD: password, RESTIC_CACHE_DIR: path.join(dataDir, "std-cache") });

async function backUp(): Promise<string> {
  const { backup } = await queueAppBackup(db, appId, null);
  try {
    await backups.backupApp(appId, backup.id, ctx());
  } finally {
    await finishTasks();
  }
  return backup.id;
}

beforeAll(async () => {
  buildServiceImages(["base", "mariadb", "postgresql", "redis"]);
  buildCatalogImage("static-site");
  ({ t, db, prov, apps, services } = await addonTestStack({
    dbName: "backups",
    owner: OWNER,
    prefix: PREFIX,
    dataDir,
    log,
    secretKey,
    domain: DOMAIN,
    handlers: (deps) => [new MysqlAddon(deps), new PostgresqlAddon(deps), new RedisAddon(deps), new LocalStorageAddon(deps)],
    apps: { healthTimeoutMs: 15_000, healthIntervalMs: 300 },
  }));
  backups = new BackupService({ db, secretKey, paths: dataPaths(dataDir), addons: prov, apps: { stop: (id, c) => apps.stop(id, c), start: (id, c) => apps.start(id, c) } });
  appId = randomUUID();
  await insertPendingApp(db, manifest, { id: appId, subdomain: "site", domain: DOMAIN });
  await apps.install(appId, ctx());
  inApp(`mkdir -p /app/data/public/sub && echo kept-${RUN} > /app/data/public/kept.txt && head -c 300000 /dev/urandom > /app/data/public/sub/blob.bin`);
  rootSql(`CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(64)); INSERT INTO notes VALUES (1, 'hello-${RUN}'), (2, 'two');`);
  pg(`CREATE TABLE items (id INT PRIMARY KEY, v TEXT); INSERT INTO items VALUES (1, 'pg-${RUN}'), (2, 'second');`);
  redis("SET", "greeting", `redis-${RUN}`);
  redis("SET", "counter", "41");
}, 1_800_000);

afterAll(() => removeTestDockerObjects({ owner: OWNER, appIds: appId ? [appId] : [], dataDir, database: t }), 300_000);

describe("backups and restore of an app (restic, filesystem site)", () => {
  let goodId = "";
  let hashesAtBackup = "";
  let checksumAtBackup = "";
  let pgAtBackup = "";
  let redisAtBackup = "";

  it("refuses to back up before a site is configured", async () => {
    await expect(queueAppBackup(db, appId, null)).rejects.toMatchObject({ code: "bad_state", message: expect.stringMatching(/not set up/) });
  });

  it("the site test makes the repository and writes, reads and deletes a probe", async () => {
    // a path through a symlink is refused before anything is written
    mkdirSync(`${siteDir}-real`, { mode: 0o700 });
    symlinkSync(`${siteDir}-real`, `${siteDir}-link`);
    await putBackupConfig(db, {
      site: { type: "filesystem", path: `${siteDir}-link` },
      passphraseEnc: sealSecret(secretKey, PASSPHRASE),
      schedule: "02:30",
      retention: { daily: 7, weekly: 4, monthly: 6 },
    });
    await expect(backups.test(ctx())).rejects.toMatchObject({ code: "invalid", message: expect.stringMatching(/-link is a symbolic link/) });
    expect(readdirSync(`${siteDir}-real`)).toEqual([]);
    await putBackupConfig(db, { site: { type: "filesystem", path: siteDir }, passphraseEnc: sealSecret(secretKey, PASSPHRASE), schedule: "02:30", retention: { daily: 7, weekly: 4, monthly: 6 } });
    // both under os.tmpdir(): the same disk, which the test names as not a backup
    const c = ctx();
    expect(await backups.test(c)).toEqual({ repository: "created", probe: "ok", sameDiskAsData: true });
    expect(ctxLines.join("\n")).toMatch(/same disk as Hearth's data/);
    expect(await backups.test(ctx())).toEqual({ repository: "existing", probe: "ok", sameDiskAsData: true });
    expect(readdirSync(siteDir).sort()).toEqual(["config", "data", "index", "keys", "locks", "snapshots"]);
  }, 120_000);

  it("backs up /app/data, the mysql, postgresql and redis dumps and app.json into a snapshot, good only once read back", async () => {
    hashesAtBackup = dataHashes();
    checksumAtBackup = checksum();
    pgAtBackup = pgSum();
    redisAtBackup = redisState();
    expect(redisAtBackup).toBe(`counter=41,greeting=redis-${RUN}`);
    const t0 = Date.now();
    goodId = await backUp();
    console.log(`backups: first backup ${Date.now() - t0} ms`);
    const row = await db.backup.findUniqueOrThrow({ where: { id: goodId } });
    expect(row).toMatchObject({ state: "good", appId, version: "1.0.0", reason: null });
    expect(Number(row.sizeBytes)).toBeGreaterThan(300_000);
    const snaps = JSON.parse(execFileSync("restic", ["-r", siteDir, "snapshots", "--json", "--tag", `backup:${goodId}`], { env: resticEnv(PASSPHRASE), encoding: "utf8" }));
    expect(snaps).toHaveLength(1);
    expect(snaps[0].id).toBe(row.snapshotId);
    expect(snaps[0].tags).toEqual(expect.arrayContaining(["hearth", `app:${appId}`, "version:1.0.0", `backup:${goodId}`]));
    expect(ctxLines.join("\n")).not.toContain(PASSPHRASE);
    expect(readdirSync(path.join(dataDir, "backups", "staging"))).toEqual([]);
  }, 600_000);

  it("the README's standard-tool commands restore it with the passphrase alone", () => {
    const target = mkdtempSync(path.join(os.tmpdir(), "hearth-std-restore-"));
    // README.md, "Restoring an app with restic alone"
    execFileSync("restic", ["-r", siteDir, "snapshots", "--tag", `app:${appId}`], { env: resticEnv(PASSPHRASE) });
    execFileSync("restic", ["-r", siteDir, "restore", "latest", "--tag", `backup:${goodId}`, "--target", target], { env: resticEnv(PASSPHRASE) });
    const files = execFileSync("tar", ["-tf", path.join(target, "localstorage", "data.tar")], { encoding: "utf8" });
    expect(files).toContain("./public/kept.txt");
    const out = path.join(target, "files");
    execFileSync("mkdir", ["-p", out]);
    execFileSync("tar", ["-xf", path.join(target, "localstorage", "data.tar"), "-C", out]);
    expect(readFileSync(path.join(out, "public", "kept.txt"), "utf8").trim()).toBe(`kept-${RUN}`);
    const dump = readFileSync(path.join(target, "mysql", "mysqldump.sql"), "utf8");
    expect(dump).toContain(`hello-${RUN}`);
    expect(JSON.parse(readFileSync(path.join(target, "app.json"), "utf8")).app).toMatchObject({ id: appId, version: "1.0.0", manifestId: manifest.id });
    // the wrong passphrase opens nothing
    const bad = spawnSync("restic", ["-r", siteDir, "snapshots"], { env: resticEnv("not-the-passphrase"), encoding: "utf8" });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/wrong password/);
  }, 120_000);

  it("restores the app to the backup point: file hashes, table checksums and Redis keys are those of the backup", async () => {
    inApp("echo changed > /app/data/public/kept.txt && rm /app/data/public/sub/blob.bin && echo new > /app/data/public/new.txt");
    rootSql("UPDATE notes SET body = 'changed' WHERE id = 1; INSERT INTO notes VALUES (3, 'three');");
    pg("UPDATE items SET v = 'changed' WHERE id = 1; DELETE FROM items WHERE id = 2;");
    redis("SET", "counter", "99");
    redis("SET", "extra", "x");
    expect(dataHashes()).not.toBe(hashesAtBackup);
    expect(checksum()).not.toBe(checksumAtBackup);
    expect(pgSum()).not.toBe(pgAtBackup);
    expect(redisState()).not.toBe(redisAtBackup);
    const { task } = await queueBackupRestore(db, appId, goodId, null);
    expect(task.type).toBe("backup.restore");
    const t0 = Date.now();
    try {
      expect(await backups.restoreApp(appId, goodId, ctx())).toEqual({ backupId: goodId, restored: expect.arrayContaining(["localstorage", "mysql", "postgresql", "redis"]) });
    } finally {
      await finishTasks();
    }
    console.log(`backups: restore ${Date.now() - t0} ms`);
    expect(dataHashes()).toBe(hashesAtBackup);
    expect(checksum()).toBe(checksumAtBackup);
    expect(pgSum()).toBe(pgAtBackup);
    expect(redisState()).toBe(redisAtBackup);
    expect(running()).toBe("true");
    expect(await db.app.findUniqueOrThrow({ where: { id: appId } })).toMatchObject({ installState: "installed", runState: "running", health: "healthy" });
  }, 600_000);

  it("a wrong passphrase is refused: the site test fails, a backup is marked failed with the reason and backup.failed", async () => {
    // stored behind putBackupConfig's back: it refuses a different passphrase for the same site
    await db.backupConfig.update({ where: { id: "default" }, data: { passphraseEnc: sealSecret(secretKey, "a-wrong-passphrase") } });
    try {
      await expect(backups.test(ctx())).rejects.toSatisfy((e: unknown) => isHearthError(e) && e.code === "forbidden" && /passphrase does not open/.test(e.message));
      const { backup } = await queueAppBackup(db, appId, null);
      await expect(backups.backupApp(appId, backup.id, ctx())).rejects.toMatchObject({ code: "backup_failed", message: expect.stringMatching(/passphrase does not open/) });
      await finishTasks();
      expect(await db.backup.findUniqueOrThrow({ where: { id: backup.id } })).toMatchObject({ state: "failed", reason: expect.stringMatching(/passphrase/) });
      const ev = await db.event.findFirst({ where: { action: "backup.failed", target: appId } });
      expect(ev?.data).toMatchObject({ backupId: backup.id });
      // a failed backup cannot be restored
      await expect(queueBackupRestore(db, appId, backup.id, null)).rejects.toMatchObject({ code: "bad_state" });
    } finally {
      await db.backupConfig.update({ where: { id: "default" }, data: { passphraseEnc: sealSecret(secretKey, PASSPHRASE) } });
    }
  }, 300_000);

  it("a missing or empty site folder (an unmounted disk) or another repository there: backup and restore refuse, nothing is made", async () => {
    const recorded = (await db.backupConfig.findUniqueOrThrow({ where: { id: "default" } })).repoId;
    const actual = JSON.parse(execFileSync("restic", ["-r", siteDir, "cat", "config"], { env: resticEnv(PASSPHRASE), encoding: "utf8" })).id;
    expect(recorded).toBe(actual);
    const hashesBefore = dataHashes();
    const away = `${siteDir}.away`;
    renameSync(siteDir, away);
    try {
      // the folder is gone
      const gone = await queueAppBackup(db, appId, null);
      await expect(backups.backupApp(appId, gone.backup.id, ctx())).rejects.toMatchObject({
        code: "backup_failed",
        message: expect.stringMatching(/no backup repository at .*is the backup disk mounted/),
      });
      await finishTasks();
      expect(existsSync(siteDir)).toBe(false);
      expect(await db.backup.findUniqueOrThrow({ where: { id: gone.backup.id } })).toMatchObject({ state: "failed", reason: expect.stringMatching(/no backup repository/) });
      await queueBackupRestore(db, appId, goodId, null);
      try {
        await expect(backups.restoreApp(appId, goodId, ctx())).rejects.toThrow(/no backup repository at .*is the backup disk mounted/);
      } finally {
        await finishTasks();
      }
      expect(running()).toBe("true");
      expect(dataHashes()).toBe(hashesBefore);
      // an empty folder (the mount point of a disk that is not mounted): nothing is made in it, not even by the site test
      mkdirSync(siteDir);
      const empty = await queueAppBackup(db, appId, null);
      await expect(backups.backupApp(appId, empty.backup.id, ctx())).rejects.toMatchObject({ code: "backup_failed", message: expect.stringMatching(/no backup repository/) });
      await finishTasks();
      await expect(backups.test(ctx())).rejects.toThrow(/is not at .* any more/);
      expect(readdirSync(siteDir)).toEqual([]);
      // another repository in the folder (the same passphrase): refused by its id
      execFileSync("restic", ["-r", siteDir, "init"], { env: resticEnv(PASSPHRASE), stdio: "ignore" });
      const other = await queueAppBackup(db, appId, null);
      await expect(backups.backupApp(appId, other.backup.id, ctx())).rejects.toMatchObject({ code: "backup_failed", message: expect.stringMatching(/holds another restic repository/) });
      await finishTasks();
      expect(readdirSync(path.join(siteDir, "snapshots"))).toEqual([]);
    } finally {
      rmSync(siteDir, { recursive: true, force: true });
      renameSync(away, siteDir);
    }
  }, 300_000);

  it("packs gone from the site between the upload and the read-back: the backup is failed, not good (the read-back does not trust box's cache)", async () => {
    const copy = `${siteDir}.intact`;
    cpSync(siteDir, copy, { recursive: true });
    inApp(`head -c 200000 /dev/urandom > /app/data/public/fresh-${RUN}.bin`);
    const t0 = Date.now() - 1000;
    const removed: string[] = [];
    const tampered = new BackupService({
      db,
      secretKey,
      paths: dataPaths(dataDir),
      addons: prov,
      apps: { stop: (id, c) => apps.stop(id, c), start: (id, c) => apps.start(id, c) },
      // what a site that lost the upload looks like: the packs this backup wrote are not there
      beforeReadBack: async () => {
        for (const e of readdirSync(path.join(siteDir, "data"), { recursive: true, withFileTypes: true })) {
          const f = path.join(e.parentPath, e.name);
          if (e.isFile() && statSync(f).mtimeMs >= t0) {
            rmSync(f);
            removed.push(f);
          }
        }
      },
    });
    try {
      const { backup } = await queueAppBackup(db, appId, null);
      try {
        await expect(tampered.backupApp(appId, backup.id, ctx())).rejects.toMatchObject({ code: "backup_failed" });
      } finally {
        await finishTasks();
      }
      expect(removed.length).toBeGreaterThan(0);
      const row = await db.backup.findUniqueOrThrow({ where: { id: backup.id } });
      expect(row.state).toBe("failed");
      expect(row.reason).toMatch(/checking the repository on the site|reading the snapshot back|listing the snapshot/);
      console.log(`backups: read-back after removing ${removed.length} pack(s): ${row.reason?.slice(0, 200)}`);
    } finally {
      rmSync(siteDir, { recursive: true, force: true });
      renameSync(copy, siteDir);
      inApp(`rm -f /app/data/public/fresh-${RUN}.bin`);
    }
  }, 300_000);

  it("a corrupted pack file: the restore refuses before touching the app, which keeps running with its data", async () => {
    // flip bytes in the middle of every data pack (the repository's files are read-only 0400/0600: open as root or owner)
    const packs = readdirSync(path.join(siteDir, "data"), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(packs.length).toBeGreaterThan(0);
    for (const p of packs) {
      const f = path.join(p.parentPath, p.name);
      const size = statSync(f).size;
      const fd = openSync(f, "r+");
      writeSync(fd, randomBytes(64), 0, 64, Math.floor(size / 2));
      closeSync(fd);
    }
    inApp(`echo after-backup-${RUN} > /app/data/public/after.txt`);
    rootSql("INSERT INTO notes VALUES (4, 'after');");
    const before = dataHashes();
    const sumBefore = checksum();
    await queueBackupRestore(db, appId, goodId, null);
    try {
      await expect(backups.restoreApp(appId, goodId, ctx())).rejects.toMatchObject({
        code: "backup_check_failed",
        message: expect.stringMatching(/did not pass its check, the app was not touched: .*ciphertext verification failed/),
      });
    } finally {
      await finishTasks();
    }
    expect(running()).toBe("true");
    expect(dataHashes()).toBe(before);
    expect(checksum()).toBe(sumBefore);
    expect(createHash("sha256").update(before).digest("hex")).not.toBe(createHash("sha256").update(hashesAtBackup).digest("hex"));
  }, 300_000);
});
