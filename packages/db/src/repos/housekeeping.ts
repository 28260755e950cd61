import { DEFAULT_RETENTION, FINISHED_TASK_STATES, RETENTION_SETTINGS_KEY, retentionSettings, type RetentionSettings, type RetentionSettingsUpdate } from "@hearth/contracts";
import type { Db, Prisma } from "../client";
import { getSetting, setSetting } from "./settings";

/**
 * Housekeeping: the retention setting and the batched deletes of box's daily
 * `housekeeping.purge`. Every delete is a short statement on at most `batch` rows (default
 * 1000), each committed on its own, so a table of a million rows is purged without one long
 * lock on it.
 */
type Client = Db | Prisma.TransactionClient;

export const PURGE_BATCH = 1000;

/** The setting as stored, each field falling back to its default when missing or invalid. */
export async function readRetention(db: Client): Promise<RetentionSettings> {
  const stored = await getSetting<Record<string, unknown>>(db, RETENTION_SETTINGS_KEY);
  const out: RetentionSettings = { ...DEFAULT_RETENTION };
  if (stored && typeof stored === "object") {
    for (const k of Object.keys(DEFAULT_RETENTION) as (keyof RetentionSettings)[]) {
      const r = retentionSettings.shape[k].safeParse(stored[k]);
      if (r.success) out[k] = r.data;
    }
  }
  return out;
}

/** Merges `update` into the stored setting; returns the whole setting. */
export async function saveRetention(db: Client, update: RetentionSettingsUpdate): Promise<RetentionSettings> {
  const next = retentionSettings.parse({ ...(await readRetention(db)), ...update });
  await setSetting(db, RETENTION_SETTINGS_KEY, next);
  return next;
}

/** Deletes Event rows created before `before`, `batch` rows per statement; returns how many. */
export async function purgeEventsBefore(db: Db, before: Date, batch = PURGE_BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await db.$executeRawUnsafe("DELETE FROM `Event` WHERE `createdAt` < ? LIMIT ?", before, batch);
    total += n;
    if (n < batch) return total;
  }
}

export interface TaskPurgeOptions {
  /** Finished tasks created (and finished) before this are deleted… */
  before: Date;
  /** …except the newest this many of each app (App and UninstalledApp rows) and of the platform (no app). */
  keepPerApp: number;
  batch?: number;
}

/**
 * Deletes finished Task rows (succeeded, failed, cancelled) older than `before`, `batch` at a
 * time, calling `onDeleted` with each batch's ids after it is committed (box removes their
 * log files there). Never deleted: pending and running tasks; the newest `keepPerApp` tasks
 * of every app that still has an App or UninstalledApp row and of the platform's own tasks
 * (appId null); a task an app's error (`App.errorTaskId`) or an orphan's deletion
 * (`Orphan.taskId`) points at. Tasks of apps gone from both tables age out like any other.
 * Returns how many rows went.
 */
export async function purgeFinishedTasks(db: Db, o: TaskPurgeOptions, onDeleted: (ids: string[]) => Promise<void> | void = () => {}): Promise<number> {
  const batch = o.batch ?? PURGE_BATCH;
  const referenced = [
    ...(await db.app.findMany({ where: { errorTaskId: { not: null } }, select: { errorTaskId: true } })).map((a) => a.errorTaskId!),
    ...(await db.orphan.findMany({ where: { taskId: { not: null } }, select: { taskId: true } })).map((x) => x.taskId!),
  ];
  const appIds = [...new Set([...(await db.app.findMany({ select: { id: true } })).map((a) => a.id), ...(await db.uninstalledApp.findMany({ select: { id: true } })).map((a) => a.id)])];
  const common: Prisma.TaskWhereInput = {
    state: { in: [...FINISHED_TASK_STATES] },
    OR: [{ finishedAt: null }, { finishedAt: { lt: o.before } }],
    ...(referenced.length ? { id: { notIn: referenced } } : {}),
  };

  // the scopes: each kept app and the platform up to their N-th newest task, then every other app
  const scopes: Prisma.TaskWhereInput[] = [];
  for (const appId of [null, ...appIds]) {
    let cutoff = o.before;
    if (o.keepPerApp > 0) {
      const nth = await db.task.findFirst({ where: { appId }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], skip: o.keepPerApp - 1, select: { createdAt: true } });
      if (!nth) continue; // fewer tasks than kept: none goes
      if (nth.createdAt < cutoff) cutoff = nth.createdAt;
    }
    scopes.push({ appId, createdAt: { lt: cutoff } });
  }
  scopes.push({ appId: appIds.length ? { notIn: appIds } : { not: null }, createdAt: { lt: o.before } });

  let total = 0;
  for (const scope of scopes) {
    const where: Prisma.TaskWhereInput = { AND: [common, scope] };
    for (;;) {
      const ids = (await db.task.findMany({ where, select: { id: true }, take: batch })).map((t) => t.id);
      if (!ids.length) break;
      const { count } = await db.task.deleteMany({ where: { id: { in: ids }, state: { in: [...FINISHED_TASK_STATES] } } });
      total += count;
      await onDeleted(ids);
      if (ids.length < batch || count === 0) break;
    }
  }
  return total;
}

/** Which of `ids` have a Task row. */
export async function existingTaskIds(db: Client, ids: readonly string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  return new Set((await db.task.findMany({ where: { id: { in: [...ids] } }, select: { id: true } })).map((t) => t.id));
}

/** When the newest task of `type` was queued (null: never, or its row is gone). */
export async function lastTaskCreatedAt(db: Client, type: string): Promise<Date | null> {
  const t = await db.task.findFirst({ where: { type }, orderBy: [{ createdAt: "desc" }], select: { createdAt: true } });
  return t?.createdAt ?? null;
}

/** Is there anything the purge would look at: an event or a finished task older than the retention? */
export async function hasDataPastRetention(db: Client, r: RetentionSettings, now = new Date()): Promise<boolean> {
  const ev = await db.event.findFirst({ where: { createdAt: { lt: new Date(now.getTime() - r.eventDays * 86_400_000) } }, select: { id: true } });
  if (ev) return true;
  const t = await db.task.findFirst({ where: { state: { in: [...FINISHED_TASK_STATES] }, createdAt: { lt: new Date(now.getTime() - r.taskDays * 86_400_000) } }, select: { id: true } });
  return t !== null;
}
