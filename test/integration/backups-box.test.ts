import { execFileSync, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest } from "@hearth/contracts";
import { createTask, getTask, putBackupConfig, queueAppBackup, queueBackupRestore, queueBackupTest, sealSecret, type Db } from "@hearth/db";
import { containerNameOf } from "../../apps/box/src/apps/container-spec";
import { taskLogPath } from "../../apps/box/src/tasks/task-log";
import { insertPendingApp } from "../helpers/app-rows";
import { killBox, startTestBox, waitFor, type TestBoxProcess } from "../helpers/box-process";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";
import { removeTestDockerObjects } from "../helpers/teardown";
import { ensureTestImages, testHttpdManifest } from "../helpers/test-images";

/**
 * The backup tasks in a real box process (HEARTH_SERVICES=off: localstorage only): main.ts
 * registers them, the runner claims backup.app and backup.restore from the rows admin makes,
 * restic runs as box's child. Then box is killed with -9 while restic sends a backup: the row
 * is never good before the snapshot is read back, and the resumed task ends with a good
 * backup that restores.
 */
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), "hearth-backups-box-"));
const dataDir = path.join(tmpRoot, "box-data");
const siteDir = path.join(tmpRoot, "site");
const secretKey = randomBytes(32);
const PASSPHRASE = `pp-${randomBytes(10).toString("hex")}`;
let t: TestDatabase & { db: Db };
let db: Db;
let box: ChildProcess | null = null;
const appId = randomUUID();
const DOMAIN = "backups-box.example";

function startBox(): TestBoxProcess {
  const b = startTestBox({ databaseUrl: t.url, dataDir, boxId: "backups-box-test", env: { HEARTH_SECRET_KEY: secretKey.toString("base64") } });
  box = b.child;
  return b;
}
const readLog = (taskId: string) => (existsSync(taskLogPath(dataDir, taskId)) ? readFileSync(taskLogPath(dataDir, taskId), "utf8") : "");
const finished = (id: string) =>
  waitFor(
    `task ${id} to finish`,
    async () => {
      const tk = await getTask(db, id);
      return tk && (tk.state === "succeeded" || tk.state === "failed") ? tk : null;
    },
    180_000,
  );
const inApp = (script: string) => execFileSync("docker", ["exec", containerNameOf(appId), "/bin/busybox", "sh", "-c", script], { encoding: "utf8" }).trim();
const hashes = () => inApp("cd /app/data && /bin/busybox find . -type f | /bin/busybox sort | /bin/busybox xargs /bin/busybox sha256sum");

beforeAll(async () => {
  ensureTestImages();
  const r = spawnSync(path.join(REPO_ROOT, "setup/images/base/build.sh"), [], { encoding: "utf8", timeout: 900_000 });
  if (r.status !== 0) throw new Error(`base image: ${r.stdout}${r.stderr}`);
  t = await migratedDatabase("backupsbox");
  db = t.db;
  await db.domain.create({ data: { domain: DOMAIN, provider: "noop", isDashboardDomain: true } });
  mkdirSync(dataDir, { recursive: true });
  await putBackupConfig(db, { site: { type: "filesystem", path: siteDir }, passphraseEnc: sealSecret(secretKey, PASSPHRASE), schedule: "02:30", retention: { daily: 7, weekly: 4, monthly: 6 } });
}, 900_000);

afterAll(async () => {
  if (box) await killBox(box);
  await removeTestDockerObjects({ appIds: [appId], dataDir: tmpRoot, database: t });
}, 120_000);

describe("backups through a real box", () => {
  let firstId = "";
  let firstHashes = "";
  let bigId = "";
  let firstRestoreTaskId = "";
  let bigHashes = "";

  it("box runs backup.app and backup.restore from the rows admin records", async () => {
    await insertPendingApp(db, hearthManifest.parse(testHttpdManifest("org.hearth.test.backups-box", "Backups box")), { id: appId, subdomain: "bb", domain: DOMAIN });
    const install = await createTask(db, { type: "app.install", appId, args: { appId } });
    const b = startBox();
    await b.ready;
    expect((await finished(install.id)).state).toBe("succeeded");
    // only the site test makes the repository (a backup refuses a folder without one)
    const siteTest = await queueBackupTest(db, null);
    expect((await finished(siteTest.id)).state, readLog(siteTest.id)).toBe("succeeded");
    expect((await db.backupConfig.findUniqueOrThrow({ where: { id: "default" } })).repoId).toMatch(/^[0-9a-f]{64}$/);
    inApp(`echo first-${appId} > /app/data/one.txt`);
    firstHashes = hashes();
    const { backup, task } = await queueAppBackup(db, appId, null);
    firstId = backup.id;
    const done = await finished(task.id);
    expect(done.state, `${done.errorMessage}\n${readLog(task.id)}`).toBe("succeeded");
    expect(await db.backup.findUniqueOrThrow({ where: { id: firstId } })).toMatchObject({ state: "good" });
    expect(readLog(task.id)).toMatch(/good: snapshot \w+ read back from the site/);
    expect(readLog(task.id)).not.toContain(PASSPHRASE);

    inApp("echo changed > /app/data/one.txt; echo more > /app/data/two.txt");
    const restore = await queueBackupRestore(db, appId, firstId, null);
    firstRestoreTaskId = restore.task.id;
    const r = await finished(restore.task.id);
    expect(r.state, `${r.errorMessage}\n${readLog(restore.task.id)}`).toBe("succeeded");
    expect(hashes()).toBe(firstHashes);
    expect(await db.app.findUniqueOrThrow({ where: { id: appId } })).toMatchObject({ installState: "installed", runState: "running" });
  }, 600_000);

  it("killed with -9 while restic sends: the row is not good until a resumed attempt read the snapshot back", async () => {
    // enough data that restic is still sending when box dies
    inApp("/bin/busybox head -c 314572800 /dev/urandom > /app/data/big.bin");
    bigHashes = hashes();
    const { backup, task } = await queueAppBackup(db, appId, null);
    bigId = backup.id;
    await waitFor('"sending to the site" in the task log', () => readLog(task.id).includes("sending to the site"), 180_000);
    await killBox(box!);
    box = null;
    const row = await db.backup.findUniqueOrThrow({ where: { id: backup.id } });
    expect(row.state).toBe("creating");
    expect(row.snapshotId).toBeNull();
    const b = startBox();
    await b.ready;
    const done = await finished(task.id);
    expect(done.state, `${done.errorMessage}\n${readLog(task.id)}`).toBe("succeeded");
    expect(done.attempts).toBe(2);
    const good = await db.backup.findUniqueOrThrow({ where: { id: backup.id } });
    expect(good.state).toBe("good");
    expect(Number(good.sizeBytes)).toBeGreaterThan(314572800);
    // exactly one snapshot carries this backup's tag
    const snaps = JSON.parse(
      execFileSync("restic", ["-r", siteDir, "snapshots", "--json", "--tag", `backup:${backup.id}`], {
        env: { ...process.env, RESTIC_PASSWORD: PASSPHRASE, RESTIC_CACHE_DIR: path.join(tmpRoot, "cache") },
        encoding: "utf8",
      }),
    );
    expect(snaps.map((s: { id: string }) => s.id)).toEqual([good.snapshotId]);
    console.log(`backups-box: resumed after kill -9: ${readLog(task.id).includes("an earlier attempt stored snapshot") ? "found the snapshot the killed attempt stored" : "sent again"}`);
  }, 600_000);

  it("killed with -9 while a restore replaces the data: the resumed task finishes the restore and the app runs with the backup's data", async () => {
    expect(bigId).not.toBe("");
    inApp("/bin/busybox rm /app/data/big.bin; echo after-the-backup > /app/data/one.txt");
    expect(hashes()).not.toBe(bigHashes);
    const { task } = await queueBackupRestore(db, appId, bigId, null);
    expect(task.maxAttempts).toBeGreaterThan(1);
    await waitFor("the restore to reach its replace phase", async () => (await getTask(db, task.id))?.message === "replacing the app's data", 300_000);
    await killBox(box!);
    box = null;
    // killed past the stop: the app's container is not running, its data half-replaced or not yet
    const running = spawnSync("docker", ["inspect", "-f", "{{.State.Running}}", containerNameOf(appId)], { encoding: "utf8" }).stdout.trim();
    expect(running).not.toBe("true");
    expect((await getTask(db, task.id))?.state).toBe("running");
    // plaintext left by finished tasks (as a crash leaves it): box removes it at start; the
    // interrupted restore's own staging and marker stay for its resumed run
    const staging = path.join(dataDir, "backups", "staging");
    const stale = [firstId, `restore-${firstRestoreTaskId}`, `restore-${firstRestoreTaskId}.json`, "not-a-task"];
    mkdirSync(path.join(staging, firstId), { recursive: true });
    writeFileSync(path.join(staging, firstId, "mysqldump.sql"), "secret rows");
    mkdirSync(path.join(staging, `restore-${firstRestoreTaskId}`));
    writeFileSync(path.join(staging, `restore-${firstRestoreTaskId}.json`), '{"wasRunning":true}');
    writeFileSync(path.join(staging, "not-a-task"), "x");
    expect(existsSync(path.join(staging, `restore-${task.id}.json`))).toBe(true);
    const b = startBox();
    await b.ready;
    expect(readdirSync(staging).filter((n) => stale.includes(n))).toEqual([]);
    const done = await finished(task.id);
    expect(done.state, `${done.errorMessage}\n${readLog(task.id)}`).toBe("succeeded");
    expect(done.attempts).toBe(2);
    expect(readLog(task.id)).toContain("started again from its start");
    expect(hashes()).toBe(bigHashes);
    expect(await db.app.findUniqueOrThrow({ where: { id: appId } })).toMatchObject({ installState: "installed", runState: "running" });
  }, 900_000);
});
