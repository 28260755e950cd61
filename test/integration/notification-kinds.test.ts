import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthReleaseState, type HearthManifest } from "@hearth/contracts";
import { appRunStatus, getSetting, listNotifications, putBackupConfig, queueAppBackup, sealSecret, setSetting, type Db } from "@hearth/db";
import { containerNameOf } from "../../apps/box/src/apps/container-spec";
import { HealthMonitor } from "../../apps/box/src/apps/monitor";
import { backupTasks } from "../../apps/box/src/backups/backup-tasks";
import { BackupService } from "../../apps/box/src/backups/backups.service";
import { dataPaths } from "../../apps/box/src/paths";
import { TaskRegistry } from "../../apps/box/src/tasks/registry";
import { prismaTaskStore } from "../../apps/box/src/tasks/task-store";
import { TaskRunner } from "../../apps/box/src/tasks/tasks.service";
import { APP_LABEL, createDocker, MANAGED_LABEL, type DockerApi } from "../../apps/box/src/docker/docker";
import { createLogger } from "../../apps/box/src/logger";
import {
  BACKUP_OVERDUE_MS,
  closeAppNotices,
  closeAppRecovered,
  HEARTH_UPDATE_SUBJECT,
  RESTART_LOOP_WINDOW_MS,
  raiseRestartLoop,
  sweep,
  taskOutcomeNotifier,
} from "../../apps/box/src/notifications/notices";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { ensureTestImages, TEST_HTTPD_IMAGE } from "../helpers/test-images";

/**
 * The four kinds that box raises besides certificates, down/OOM, disk and failed tasks
 * (apps/box/src/notifications/notices.ts), on a real MariaDB, and for the restart loop a real
 * Docker container under the `unless-stopped` policy Hearth's containers have: restarting
 * in a loop, updates available (a catalog with a newer version, the release check's newer
 * Hearth), backup failed (through the task runner's hook), backups overdue.
 */
let t: TestDatabase & { db: Db };
let docker: DockerApi;
const DOMAIN = `kinds-${randomBytes(3).toString("hex")}.example`;
const containers: string[] = [];
const log = createLogger("silent", "test");

async function app(subdomain: string, o: { storeId?: string; version?: string; autoUpdate?: boolean; createdAt?: Date; httpHostPort?: number } = {}): Promise<string> {
  const id = randomUUID();
  await t.db.app.create({
    data: {
      id,
      manifestId: o.storeId ?? "org.example.kinds",
      storeId: o.storeId ?? null,
      manifest: { id: o.storeId ?? "org.example.kinds", title: "Kinds", healthCheckPath: "/" },
      version: o.version ?? "1.0.0",
      subdomain,
      domain: DOMAIN,
      installState: "installed",
      memoryLimit: BigInt(64 << 20),
      env: {},
      autoUpdate: o.autoUpdate ?? false,
      ...(o.createdAt ? { createdAt: o.createdAt } : {}),
      ...(o.httpHostPort ? { httpHostPort: o.httpHostPort } : {}),
    },
  });
  return id;
}

const open = async (kind: string) => (await listNotifications(t.db, { state: "open" })).filter((n) => n.kind === kind);
const openItems = async (kind: string) => (await open(kind)).flatMap((g) => g.items);
const baseDeps = () => ({ db: t.db, certificateState: async () => "gone" as const, appStatus: (id: string) => appRunStatus(t.db, id) });

beforeAll(async () => {
  t = await migratedDatabase("notifykinds");
  docker = createDocker();
  await t.db.domain.create({ data: { domain: DOMAIN, provider: "noop" } });
});

afterAll(async () => {
  for (const c of containers) await docker.removeContainer(c).catch(() => {});
  await t?.drop();
});

describe("restarting in a loop", () => {
  it("a container that exits at once under unless-stopped raises one item; answering does not close it; stopping the app does", async () => {
    ensureTestImages();
    const id = await app("loop", { httpHostPort: 40_000 + Math.floor(Math.random() * 20_000) });
    const name = containerNameOf(id);
    containers.push(name);
    await docker.createContainer({
      name,
      Image: TEST_HTTPD_IMAGE,
      Cmd: ["/bin/busybox", "sh", "-c", "echo crashing; exit 1"],
      Labels: { [MANAGED_LABEL]: "true", [APP_LABEL]: id },
      // what container-spec.ts gives every app container
      HostConfig: { RestartPolicy: { Name: "unless-stopped", MaximumRetryCount: 0 }, NetworkMode: "none" },
    });
    // the real monitor: Docker's `die` events make it check the app (the probe: nothing answers)
    const monitor = new HealthMonitor({ db: t.db, docker, log, intervalMs: 60_000, probe: async () => null });
    await monitor.start();
    try {
      await docker.startContainer(name);
      const t0 = Date.now();
      while ((await openItems("app_restarting")).length === 0 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 250));
      const groups = await open("app_restarting");
      expect(groups).toHaveLength(1);
      expect(groups[0]!.title).toBe("1 app is restarting in a loop");
      expect(groups[0]!.items.map((i) => i.subject)).toEqual([id]);
      expect(groups[0]!.items[0]!.label).toBe(`loop.${DOMAIN}`);
      expect(groups[0]!.items[0]!.message).toMatch(/restarted \d+ times in the last 10 minutes/);
      const restarts = Number(/RestartCount (\d+)/.exec(groups[0]!.items[0]!.details)![1]);
      expect(restarts).toBeGreaterThanOrEqual(3);
      console.log(`restart loop noticed after ${Date.now() - t0} ms (RestartCount ${restarts})`);
    } finally {
      await monitor.stop();
    }
    // the app answering between crashes (app.up) closes "down", not the loop
    await closeAppRecovered(t.db, id);
    expect(await openItems("app_restarting")).toHaveLength(1);
    // still running and restarting: the sweep keeps it
    await sweep(baseDeps());
    expect(await openItems("app_restarting")).toHaveLength(1);
    // the admin stops the app: the container stops and the sweep closes the item
    await docker.stopContainer(name, 1);
    await t.db.app.update({ where: { id }, data: { runState: "stopped" } });
    await sweep(baseDeps());
    expect(await open("app_restarting")).toHaveLength(0);
    expect((await listNotifications(t.db, { state: "closed" })).find((n) => n.kind === "app_restarting")!.dismissedBy).toBe("system");
  }, 90_000);

  it("closes after a window without a restart while the app runs", async () => {
    const id = await app("quiet");
    await raiseRestartLoop(t.db, id, 3, 3);
    await sweep({ ...baseDeps(), now: new Date(Date.now() + RESTART_LOOP_WINDOW_MS / 2) });
    expect((await openItems("app_restarting")).map((i) => i.subject)).toEqual([id]);
    await sweep({ ...baseDeps(), now: new Date(Date.now() + RESTART_LOOP_WINDOW_MS + 1000) });
    expect(await openItems("app_restarting")).toHaveLength(0);
  });
});

const manifest = (id: string, version: string, minHearthVersion?: string) => ({ id, version, ...(minHearthVersion ? { minHearthVersion } : {}) }) as unknown as HearthManifest;

describe("updates available", () => {
  it("one group with an item per app naming from → to; not for autoUpdate patches; closes when updated or uninstalled; a newer Hearth joins it", async () => {
    const store = `org.example.upd${randomBytes(3).toString("hex")}`;
    const other = `${store}.other`;
    const a = await app("upd-a", { storeId: store, version: "1.0.0" });
    const auto = await app("upd-auto", { storeId: store, version: "1.1.0", autoUpdate: true });
    const autoMinor = await app("upd-auto-minor", { storeId: other, version: "2.0.0", autoUpdate: true });
    const current = await app("upd-current", { storeId: store, version: "1.1.1" });
    // the catalog as box reads it (readCatalogManifests): a patch and a minor of `store`, a pre-release, one that needs a newer Hearth
    let catalog = new Map<string, HearthManifest[]>([
      [store, [manifest(store, "1.0.0"), manifest(store, "1.1.1"), manifest(store, "1.2.0-beta.1"), manifest(store, "9.0.0", "999.0.0")]],
      [other, [manifest(other, "2.0.1"), manifest(other, "2.1.0")]],
    ]);
    const deps = () => ({ ...baseDeps(), catalog: async () => catalog, hearthRelease: async () => null });
    await sweep(deps());
    let groups = await open("update_available");
    expect(groups).toHaveLength(1);
    expect(groups[0]!.title).toBe("2 updates are available");
    const bySubject = new Map(groups[0]!.items.map((i) => [i.subject, i]));
    expect([...bySubject.keys()].sort()).toEqual([a, autoMinor].sort());
    expect(bySubject.get(a)!.details).toBe("1.0.0 → 1.1.1");
    expect(bySubject.get(a)!.message).toBe("Version 1.1.1 is available (installed: 1.0.0).");
    expect(bySubject.get(a)!.label).toBe(`upd-a.${DOMAIN}`);
    // autoUpdate on but the newest is a minor: the nightly does not take it, so the admin is told
    expect(bySubject.get(autoMinor)!.details).toBe("2.0.0 → 2.1.0");
    expect(bySubject.has(auto)).toBe(false);
    expect(bySubject.has(current)).toBe(false);
    // a second sweep changes nothing (no new raise, the count stays)
    const count = groups[0]!.count;
    await sweep(deps());
    expect((await open("update_available"))[0]!.count).toBe(count);

    // a newer Hearth from the release check joins the group
    await setSetting(t.db, "hearth.release", { latest: { version: "99.0.0", notes: "", url: "" }, checkedAt: new Date().toISOString(), error: null });
    const release = async () => hearthReleaseState.parse(await getSetting(t.db, "hearth.release"));
    await sweep({ ...deps(), hearthRelease: release });
    groups = await open("update_available");
    expect(groups[0]!.title).toBe("3 updates are available");
    const hearth = groups[0]!.items.find((i) => i.subject === HEARTH_UPDATE_SUBJECT)!;
    expect(hearth.message).toMatch(/^Hearth 99\.0\.0 is available \(running: /);

    // updated to that version: its item closes; uninstalled: its item closes
    await t.db.app.update({ where: { id: a }, data: { version: "1.1.1" } });
    await t.db.app.delete({ where: { id: autoMinor } });
    await closeAppNotices(t.db, autoMinor);
    await sweep({ ...deps(), hearthRelease: release });
    expect((await openItems("update_available")).map((i) => i.subject)).toEqual([HEARTH_UPDATE_SUBJECT]);
    // a newer version appears in the catalog: the updated app gets an item again
    catalog = new Map([[store, [...catalog.get(store)!, manifest(store, "2.0.0")]]]);
    await sweep({ ...deps(), hearthRelease: release });
    expect((await openItems("update_available")).find((i) => i.subject === a)!.details).toBe("1.1.1 → 2.0.0");
    // Hearth runs it (no newer release any more) and the app is at 2.0.0: the group closes
    await t.db.app.update({ where: { id: a }, data: { version: "2.0.0" } });
    await sweep({ ...deps(), hearthRelease: async () => null });
    // `auto` (1.1.0, autoUpdate, newest 2.0.0 is a major, not the nightly's) and `current` (1.1.1) are now offered
    expect((await openItems("update_available")).map((i) => i.subject).sort()).toEqual([auto, current].sort());
    await t.db.app.deleteMany({ where: { id: { in: [auto, current] } } });
    await sweep({ ...deps(), hearthRelease: async () => null });
    expect(await open("update_available")).toHaveLength(0);
  });
});

describe("backups", () => {
  it("a backup.app the real task runner fails raises backup_failed through its onFinished hook", async () => {
    const key = randomBytes(32);
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "hearth-notify-kinds-"));
    await putBackupConfig(t.db, {
      site: { type: "filesystem", path: path.join(dataDir, "no-such-site") },
      passphraseEnc: sealSecret(key, "pass phrase"),
      schedule: "02:30",
      retention: { daily: 7, weekly: 4, monthly: 6 },
    });
    const id = await app("bk-runner");
    // box's real backup service and tasks, on a box without an addon provisioner: it cannot read the app's data
    const service = new BackupService({ db: t.db, secretKey: key, paths: dataPaths(dataDir), addons: undefined, apps: { stop: async () => {}, start: async () => {} } });
    const runner = new TaskRunner({
      store: prismaTaskStore(t.db),
      registry: new TaskRegistry(backupTasks(service)),
      boxId: "kinds-test",
      leasedBy: `kinds-test/${randomUUID()}`,
      dataDir,
      pollMs: 100,
      leaseMs: 30_000,
      concurrency: 1,
      log,
      onFinished: taskOutcomeNotifier(t.db),
    });
    const { task } = await queueAppBackup(t.db, id, null);
    runner.start();
    try {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && !(await openItems("backup_failed")).some((i) => i.subject === id)) await new Promise((r) => setTimeout(r, 100));
    } finally {
      await runner.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
    expect((await t.db.task.findUniqueOrThrow({ where: { id: task.id } })).state).toBe("failed");
    const item = (await openItems("backup_failed")).find((i) => i.subject === id)!;
    expect(item.label).toBe(`bk-runner.${DOMAIN}`);
    expect(item.message).toMatch(/^The app's backup failed: /);
    expect(item.details).toBe("backup.app: the backup failed: this box has no addon provisioner: it cannot read the app's data");
    expect((await openItems("task_failed")).map((i) => i.subject)).not.toContain(`${id}:backup.app`);
    // uninstalled: the item closes (the sweep too, for an app row deleted without telling)
    await t.db.app.delete({ where: { id } });
    await sweep(baseDeps());
    expect((await openItems("backup_failed")).map((i) => i.subject)).not.toContain(id);
  }, 60_000);

  it("a failed backup.app or backup.restore raises backup_failed about the app (not task_failed); its next good backup closes it", async () => {
    const key = randomBytes(32);
    await putBackupConfig(t.db, {
      site: { type: "filesystem", path: `/nonexistent/hearth-kinds-${randomUUID()}` },
      passphraseEnc: sealSecret(key, "pass phrase"),
      schedule: "02:30",
      retention: { daily: 7, weekly: 4, monthly: 6 },
    });
    const id = await app("bk");
    // the real task row admin queues; the runner's hook gets its outcome
    const { task } = await queueAppBackup(t.db, id, null);
    const hook = taskOutcomeNotifier(t.db);
    await hook(
      { id: task.id, type: task.type, appId: task.appId },
      { state: "failed", errorMessage: "Fatal: unable to open repository at /nonexistent: stat /nonexistent: no such file or directory" },
    );
    let failed = await open("backup_failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.title).toBe("1 backup failed");
    expect(failed[0]!.items[0]!.subject).toBe(id);
    expect(failed[0]!.items[0]!.label).toBe(`bk.${DOMAIN}`);
    expect(failed[0]!.items[0]!.message).toMatch(/^The app's backup failed: /);
    expect(failed[0]!.items[0]!.details).toContain("backup.app: Fatal: unable to open repository");
    expect((await openItems("task_failed")).map((i) => i.subject)).not.toContain(`${id}:backup.app`);
    // a failed restore of the same app: the same item, now about the restore
    await hook({ id: randomUUID(), type: "backup.restore", appId: id }, { state: "failed", errorMessage: "wrong password or no key found" });
    failed = await open("backup_failed");
    expect(failed[0]!.items).toHaveLength(1);
    expect(failed[0]!.items[0]!.message).toMatch(/^Restoring the app from its backup failed: /);
    // another task type succeeding closes nothing; a good backup.app does
    await hook({ id: randomUUID(), type: "app.restart", appId: id }, { state: "succeeded" });
    expect(await open("backup_failed")).toHaveLength(1);
    await hook({ id: randomUUID(), type: "backup.app", appId: id }, { state: "succeeded" });
    expect(await open("backup_failed")).toHaveLength(0);
  });

  it("overdue: one group for the apps without a good backup in 48 h; closes on a good backup or uninstall; nothing without a site", async () => {
    await t.db.backupConfig.deleteMany({});
    await t.db.app.deleteMany({});
    const old = new Date(Date.now() - BACKUP_OVERDUE_MS - 3_600_000);
    const never = await app("ov-never", { createdAt: old });
    const stale = await app("ov-stale", { createdAt: old });
    const fresh = await app("ov-fresh", { createdAt: old });
    await app("ov-new"); // installed an hour ago: not overdue yet
    const backup = async (appId: string, state: string, finishedAt: Date) =>
      t.db.backup.create({ data: { id: randomUUID(), type: "app", appId, state, site: "filesystem:/x", createdAt: finishedAt, finishedAt } });
    await backup(stale, "good", new Date(Date.now() - 50 * 3_600_000));
    await backup(stale, "failed", new Date(Date.now() - 3_600_000)); // a failed one does not count
    await backup(fresh, "good", new Date(Date.now() - 3_600_000));
    // no site configured: nothing
    await sweep(baseDeps());
    expect(await open("backup_overdue")).toHaveLength(0);
    await putBackupConfig(t.db, {
      site: { type: "filesystem", path: "/x" },
      passphraseEnc: sealSecret(randomBytes(32), "pass phrase"),
      schedule: "02:30",
      retention: { daily: 7, weekly: 4, monthly: 6 },
    });
    await sweep(baseDeps());
    let groups = await open("backup_overdue");
    expect(groups).toHaveLength(1);
    expect(groups[0]!.title).toBe("2 backups are overdue");
    const items = new Map(groups[0]!.items.map((i) => [i.subject, i]));
    expect([...items.keys()].sort()).toEqual([never, stale].sort());
    expect(items.get(never)!.message).toBe("The app has never been backed up. Check the backup schedule and the backup site.");
    expect(items.get(stale)!.message).toMatch(/^The app's last good backup is 50 hours old\./);
    // a good backup of `stale` (the row box writes, and the hook's success): closes at once, and the sweep keeps it closed
    await backup(stale, "good", new Date());
    await taskOutcomeNotifier(t.db)({ id: randomUUID(), type: "backup.app", appId: stale }, { state: "succeeded" });
    expect((await openItems("backup_overdue")).map((i) => i.subject)).toEqual([never]);
    await sweep(baseDeps());
    expect((await openItems("backup_overdue")).map((i) => i.subject)).toEqual([never]);
    // uninstalled: closes
    await t.db.app.delete({ where: { id: never } });
    await sweep(baseDeps());
    expect(await open("backup_overdue")).toHaveLength(0);
    // the site removed: every overdue item closes
    await app("ov-old2", { createdAt: old });
    await sweep(baseDeps());
    expect(await open("backup_overdue")).toHaveLength(1);
    await t.db.backupConfig.deleteMany({});
    await sweep(baseDeps());
    expect(await open("backup_overdue")).toHaveLength(0);
    groups = await listNotifications(t.db, { state: "closed" });
    expect(groups.filter((g) => g.kind === "backup_overdue").every((g) => g.dismissedBy === "system")).toBe(true);
  });
});
