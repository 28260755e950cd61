import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RETENTION, hearthManifest, RETENTION_SETTINGS_KEY } from "@hearth/contracts";
import { purgeEventsBefore, purgeFinishedTasks, readRetention, saveRetention, setSetting, type Db, type Prisma } from "@hearth/db";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { purgeOldData } from "../../apps/box/src/housekeeping/purge";
import { housekeepingTasks } from "../../apps/box/src/housekeeping/purge.task";
import { HousekeepingSchedule } from "../../apps/box/src/housekeeping/schedule";
import { createLogger } from "../../apps/box/src/logger";
import { TaskRegistry } from "../../apps/box/src/tasks/registry";
import { prismaTaskStore } from "../../apps/box/src/tasks/task-store";
import { TaskRunner } from "../../apps/box/src/tasks/tasks.service";
import { taskLogPath } from "../../apps/box/src/tasks/task-log";
import { VALID_MANIFEST } from "../../packages/contracts/src/manifest.examples";

/**
 * Housekeeping against the real MariaDB and real files: a simulated stretch of busy days
 * (200 finished tasks with a log file and 200 events a day, timestamps backdated), the daily
 * purge after each day, and the data folder and the row counts that stay flat once the
 * retention is reached; what is never deleted; the batching; the task through the real runner.
 */

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const DOMAIN = "housekeeping.example";
let t: TestDatabase & { db: Db };
let db: Db;
let tmp = "";

beforeAll(async () => {
  t = await migratedDatabase("hk");
  db = t.db;
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-hk-"));
  await db.domain.create({ data: { domain: DOMAIN, provider: "noop" } });
}, 300_000);

afterAll(async () => {
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function appRow(subdomain: string, extra: Partial<Prisma.AppUncheckedCreateInput> = {}): Promise<string> {
  const id = randomUUID();
  const m = hearthManifest.parse({ ...VALID_MANIFEST, id: "org.example.hk", title: "HK" });
  await db.app.create({
    data: { id, manifestId: m.id, manifest: m as object, version: m.version, subdomain, domain: DOMAIN, installState: "installed", memoryLimit: BigInt(m.memoryLimit), env: {}, ...extra },
  });
  return id;
}

/** A log file like a task's (a few KiB of timestamped lines), last written at `at`. */
function writeLog(dataDir: string, id: string, at: Date, lines = 40): void {
  const file = taskLogPath(dataDir, id);
  mkdirSync(path.dirname(file), { recursive: true });
  const ts = at.toISOString();
  writeFileSync(file, Array.from({ length: lines }, (_, i) => `${ts} step ${i}: pulling, creating, checking the health of the app (${randomBytes(8).toString("hex")})\n`).join(""));
  utimesSync(file, at, at);
}

function folderSize(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  if (!existsSync(dir)) return { bytes, files };
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    bytes += statSync(path.join(e.parentPath, e.name)).size;
    files++;
  }
  return { bytes, files };
}

interface TaskSeed {
  id?: string;
  appId: string | null;
  at: Date;
  state?: "succeeded" | "failed" | "cancelled" | "pending" | "running";
  type?: string;
}

async function insertTasks(dataDir: string, seeds: TaskSeed[], withLogs = true): Promise<string[]> {
  const rows = seeds.map((s) => {
    const state = s.state ?? "succeeded";
    const finished = state === "succeeded" || state === "failed" || state === "cancelled";
    return {
      id: s.id ?? randomUUID(),
      type: s.type ?? "app.restart",
      appId: s.appId,
      args: {},
      state,
      percent: finished ? 100 : 0,
      createdAt: s.at,
      updatedAt: new Date(s.at.getTime() + 30_000),
      startedAt: state === "pending" ? null : new Date(s.at.getTime() + 1000),
      finishedAt: finished ? new Date(s.at.getTime() + 30_000) : null,
    };
  });
  for (let i = 0; i < rows.length; i += 1000) await db.task.createMany({ data: rows.slice(i, i + 1000) });
  if (withLogs) for (const r of rows) writeLog(dataDir, r.id, r.finishedAt ?? r.createdAt);
  return rows.map((r) => r.id);
}

async function insertEvents(n: number, at: Date): Promise<void> {
  await db.event.createMany({
    data: Array.from({ length: n }, (_, i) => ({ action: "app.install", actorId: "box", actorName: "box", target: `app-${i}`, data: { i }, createdAt: new Date(at.getTime() + i * 400_000) })),
  });
}

describe("the retention setting", () => {
  it("reads the defaults, merges a partial update, ignores a stored value that is not valid", async () => {
    expect(await readRetention(db)).toEqual({ eventDays: 90, taskDays: 30, keepTasksPerApp: 50 });
    expect(await saveRetention(db, { taskDays: 14 })).toEqual({ eventDays: 90, taskDays: 14, keepTasksPerApp: 50 });
    expect(await readRetention(db)).toEqual({ eventDays: 90, taskDays: 14, keepTasksPerApp: 50 });
    await setSetting(db, RETENTION_SETTINGS_KEY, { eventDays: -3, taskDays: 7, keepTasksPerApp: "x" });
    expect(await readRetention(db)).toEqual({ eventDays: 90, taskDays: 7, keepTasksPerApp: 50 });
    await expect(saveRetention(db, { eventDays: 0 })).rejects.toThrow();
    await setSetting(db, RETENTION_SETTINGS_KEY, DEFAULT_RETENTION as object);
  });
});

describe("what the purge never deletes", () => {
  it("keeps running and pending tasks, the newest N of each app and the platform, and tasks an app's error or an orphan points at; deletes the rest, in small batches", async () => {
    const dataDir = path.join(tmp, "keep");
    const now = new Date(T0 + 400 * DAY);
    const old = (d: number) => new Date(now.getTime() - d * DAY);
    const quiet = await appRow("quiet");
    // an uninstalled app still counts as an app; one gone from both tables does not
    const uninstalled = randomUUID();
    await db.uninstalledApp.create({
      data: { id: uninstalled, manifestId: "org.example.hk", title: "HK", version: "1.0.0", subdomain: "gone", domain: DOMAIN, snapshot: {}, purgeAfter: new Date(now.getTime() + DAY) },
    });
    const vanished = randomUUID();
    // 60 old tasks each (35..94 days old), so 10 of each are past the newest 5
    const quietIds = await insertTasks(
      dataDir,
      Array.from({ length: 60 }, (_, i) => ({ appId: quiet, at: old(35 + i) })),
    );
    const uninstalledIds = await insertTasks(
      dataDir,
      Array.from({ length: 12 }, (_, i) => ({ appId: uninstalled, at: old(35 + i) })),
    );
    const vanishedIds = await insertTasks(
      dataDir,
      Array.from({ length: 12 }, (_, i) => ({ appId: vanished, at: old(35 + i) })),
    );
    const platformIds = await insertTasks(
      dataDir,
      Array.from({ length: 8 }, (_, i) => ({ appId: null, at: old(35 + i), type: "certificate.renew" })),
    );
    const [running, pending] = await insertTasks(dataDir, [
      { appId: null, at: old(300), state: "running", type: "domain.sync" },
      { appId: vanished, at: old(200), state: "pending" },
    ]);
    // the error of an app and an orphan's deletion point at old tasks (the oldest of `quiet`)
    const errorTask = quietIds[59]!;
    const orphanTask = quietIds[58]!;
    await db.app.update({ where: { id: quiet }, data: { errorCode: "update_failed", errorMessage: "x", errorTaskId: errorTask } });
    await db.orphan.create({ data: { id: randomUUID(), kind: "volume", name: "hearth-app-x-data", appId: randomUUID(), state: "deleting", taskId: orphanTask, lastSeenAt: now } });

    const deletedIds: string[] = [];
    const n = await purgeFinishedTasks(db, { before: old(30), keepPerApp: 5, batch: 7 }, (ids) => void deletedIds.push(...ids));
    const left = new Set((await db.task.findMany({ select: { id: true } })).map((x) => x.id));
    // quiet: newest 5 kept, 2 pointed at kept; uninstalled: newest 5; vanished: all finished ones go; platform: newest 5
    expect(quietIds.slice(0, 5).every((id) => left.has(id))).toBe(true);
    expect(quietIds.slice(5, 58).some((id) => left.has(id))).toBe(false);
    expect(left.has(errorTask) && left.has(orphanTask)).toBe(true);
    expect(uninstalledIds.filter((id) => left.has(id))).toEqual(uninstalledIds.slice(0, 5));
    expect(vanishedIds.some((id) => left.has(id))).toBe(false);
    expect(platformIds.filter((id) => left.has(id))).toEqual(platformIds.slice(0, 5));
    expect(left.has(running!) && left.has(pending!)).toBe(true);
    expect(n).toBe(53 + 7 + 12 + 3);
    expect(new Set(deletedIds).size).toBe(n);
    expect(left.size).toBe(7 + 5 + 5 + 2);

    // events: strictly older than the cut, 7 per statement
    await insertEvents(50, old(100));
    await insertEvents(3, old(10));
    const before = await db.event.count();
    expect(await purgeEventsBefore(db, old(90), 7)).toBe(50);
    expect(await db.event.count()).toBe(before - 50);
    await db.task.deleteMany({});
    await db.event.deleteMany({});
    await db.orphan.deleteMany({});
    await db.app.deleteMany({});
    await db.uninstalledApp.deleteMany({});
  });
});

describe("a simulated busy stretch", () => {
  it("keeps the data folder and the row counts flat once the retention is reached (200 tasks with logs and 200 events a day, daily purge)", async () => {
    const dataDir = path.join(tmp, "month");
    const apps: string[] = [];
    for (let i = 0; i < 10; i++) apps.push(await appRow(`app${i}`));
    const retention = await readRetention(db);
    expect(retention).toEqual(DEFAULT_RETENTION);
    const DAYS = 100; // past the 90 days of events, three times past the 30 of tasks
    const PER_DAY = 200;
    const samples: { day: number; tasks: number; events: number; bytes: number; files: number }[] = [];
    let orphanSeeds = 0;
    for (let day = 0; day < DAYS; day++) {
      const start = T0 + day * DAY;
      // 20 tasks a day for each of 10 apps, spread over the day
      await insertTasks(
        dataDir,
        Array.from({ length: PER_DAY }, (_, i) => ({ appId: apps[i % apps.length]!, at: new Date(start + i * 400_000), state: i % 17 === 0 ? ("failed" as const) : ("succeeded" as const) })),
      );
      await insertEvents(PER_DAY, new Date(start));
      // a log file whose row is gone (an old crash, a restored dump): the sweep removes it once old
      if (day % 10 === 0) {
        writeLog(dataDir, `orphan-${day}`, new Date(start));
        orphanSeeds++;
      }
      const now = new Date(start + DAY - 1000);
      const r = await purgeOldData({ db, dataDir }, now);
      const size = folderSize(dataDir);
      samples.push({ day, tasks: await db.task.count(), events: await db.event.count({ where: { action: "app.install" } }), ...size });
      if (day === 40) {
        // the purge at the end of day 40 deleted day 10's tasks and their logs
        expect(r.tasks).toBe(PER_DAY);
        expect(r.taskLogs).toBe(PER_DAY);
      }
    }
    const at = (d: number) => samples[d]!;
    const print = (d: number) => `day ${d}: ${at(d).tasks} tasks, ${at(d).events} events, ${at(d).files} files, ${(at(d).bytes / 1048576).toFixed(2)} MiB`;
    console.log(["housekeeping simulation (200 tasks + 200 events a day, defaults 30/90 days, 50 kept per app):", ...[0, 10, 29, 30, 45, 60, 89, 90, 95, 99].map(print)].join("\n  "));

    // it grows while inside the retention (the test can see growth)…
    expect(at(29).tasks).toBe(30 * PER_DAY);
    expect(at(29).bytes).toBeGreaterThan(at(10).bytes * 2);
    // …and stays flat after: tasks from day 30 on, events from day 90 on
    const steadyTasks = samples.slice(31).map((s) => s.tasks);
    expect(Math.max(...steadyTasks)).toBe(Math.min(...steadyTasks));
    expect(Math.max(...steadyTasks)).toBeLessThanOrEqual(31 * PER_DAY);
    const steadyEvents = samples.slice(91).map((s) => s.events);
    expect(Math.max(...steadyEvents)).toBe(Math.min(...steadyEvents));
    expect(Math.max(...steadyEvents)).toBeLessThanOrEqual(91 * PER_DAY);
    const steadyBytes = samples.slice(31).map((s) => s.bytes);
    expect(Math.max(...steadyBytes) / Math.min(...steadyBytes)).toBeLessThan(1.02);
    expect(at(DAYS - 1).bytes).toBeLessThan(at(30).bytes * 1.02);
    const steadyFiles = samples.slice(31).map((s) => s.files);
    expect(Math.max(...steadyFiles) - Math.min(...steadyFiles)).toBeLessThanOrEqual(1);
    // every log file left belongs to a task row; the old orphan logs are gone
    const files = readdirSync(path.join(dataDir, "logs", "tasks")).map((f) => f.replace(/\.log$/, ""));
    const rows = new Set((await db.task.findMany({ select: { id: true } })).map((x) => x.id));
    expect(files.filter((f) => !rows.has(f) && !f.startsWith("orphan-"))).toEqual([]);
    expect(files.filter((f) => f.startsWith("orphan-")).length).toBeLessThan(orphanSeeds);
    // the purge records what it did
    const ev = await db.event.findFirst({ where: { action: "housekeeping.purge" }, orderBy: { id: "desc" } });
    expect(ev?.data).toMatchObject({ events: PER_DAY, tasks: PER_DAY, taskLogs: PER_DAY, retention: DEFAULT_RETENTION });
  }, 600_000);
});

describe("the daily task", () => {
  it("is queued once (not while one is pending) and runs through the real task runner", async () => {
    const dataDir = path.join(tmp, "runner");
    await db.task.deleteMany({});
    await db.event.deleteMany({});
    const oldIds = await insertTasks(
      dataDir,
      Array.from({ length: 3 }, (_, i) => ({ appId: null, at: new Date(Date.now() - (40 + i) * DAY) })),
    );
    await saveRetention(db, { keepTasksPerApp: 0 });
    const logLines: string[] = [];
    const log = createLogger("info", "hk-test", { write: (s: string) => void logLines.push(s) });
    let wakes = 0;
    const schedule = new HousekeepingSchedule({ db, wake: () => void wakes++, log, expression: "0 0 1 1 *" });
    await schedule.start(); // something is past the retention: queued at start
    expect(await schedule.queue("again")).toBe(false);
    await schedule.stop();
    const queued = await db.task.findMany({ where: { type: "housekeeping.purge" } });
    expect(queued.map((q) => q.state)).toEqual(["pending"]);
    expect(wakes).toBe(1);

    const runner = new TaskRunner({
      store: prismaTaskStore(db),
      registry: new TaskRegistry(housekeepingTasks({ db, dataDir })),
      boxId: "hk-test",
      leasedBy: `hk-test/${randomUUID()}`,
      dataDir,
      pollMs: 100,
      leaseMs: 30_000,
      concurrency: 1,
      log,
    });
    runner.start();
    try {
      const deadline = Date.now() + 30_000;
      let task = queued[0]!;
      while (Date.now() < deadline) {
        task = (await db.task.findUniqueOrThrow({ where: { id: queued[0]!.id } }))!;
        if (task.state === "succeeded" || task.state === "failed") break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(task.state).toBe("succeeded");
      expect(task.result).toMatchObject({ events: 0, tasks: 3, taskLogs: 3, orphanLogs: 0 });
      expect(await db.task.count({ where: { id: { in: oldIds } } })).toBe(0);
      for (const id of oldIds) expect(existsSync(taskLogPath(dataDir, id))).toBe(false);
      expect(existsSync(taskLogPath(dataDir, task.id))).toBe(true);
      expect(await db.event.count({ where: { action: "housekeeping.purge" } })).toBe(1);
      // a restart within the day queues none, though something old is there again
      await insertTasks(dataDir, [{ appId: null, at: new Date(Date.now() - 50 * DAY) }]);
      const again = new HousekeepingSchedule({ db, wake: () => void wakes++, log, expression: "0 0 1 1 *" });
      await again.start();
      await again.stop();
      expect(await db.task.count({ where: { type: "housekeeping.purge" } })).toBe(1);
    } finally {
      await runner.stop();
      await saveRetention(db, DEFAULT_RETENTION);
    }
  });
});
