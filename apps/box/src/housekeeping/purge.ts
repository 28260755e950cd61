import type { HousekeepingCounts, RetentionSettings } from "@hearth/contracts";
import { existingTaskIds, purgeClosedNotifications, purgeEventsBefore, purgeFinishedTasks, readRetention, recordEvent, type Db } from "@hearth/db";
import { removeTaskLogs, taskLogsOlderThan } from "../tasks/task-log";

/**
 * The daily purge (task `housekeeping.purge`): events older than `eventDays`, finished tasks
 * older than `taskDays` (rows first, then their log files: a file whose row went is found again
 * by the orphan sweep should its removal fail), then the orphan log files (no Task row, last
 * written before `taskDays`). The newest `keepTasksPerApp` tasks of each app, running and
 * pending tasks and tasks still pointed at are kept (packages/db `purgeFinishedTasks`). Records
 * the event `housekeeping.purge` (actor box) with the counts and the setting it used.
 */
export interface PurgeDeps {
  db: Db;
  dataDir: string;
  batch?: number;
}

export interface PurgeProgress {
  progress?(percent: number, message: string): Promise<void>;
  log?(line: string): void;
  signal?: AbortSignal;
}

const DAY_MS = 86_400_000;

export async function purgeOldData(d: PurgeDeps, now = new Date(), p: PurgeProgress = {}): Promise<HousekeepingCounts & { retention: RetentionSettings }> {
  const retention = await readRetention(d.db);
  const eventsBefore = new Date(now.getTime() - retention.eventDays * DAY_MS);
  const tasksBefore = new Date(now.getTime() - retention.taskDays * DAY_MS);
  const counts: HousekeepingCounts = { events: 0, tasks: 0, taskLogs: 0, orphanLogs: 0 };
  const batch = d.batch ? { batch: d.batch } : {};

  p.log?.(`retention: events ${retention.eventDays} days, tasks ${retention.taskDays} days, the newest ${retention.keepTasksPerApp} tasks of each app kept`);
  await p.progress?.(10, "Deleting old events");
  counts.events = await purgeEventsBefore(d.db, eventsBefore, d.batch);
  p.log?.(`${counts.events} events from before ${eventsBefore.toISOString()} deleted`);
  // notifications closed before the same date go with the events
  const notifications = await purgeClosedNotifications(d.db, eventsBefore);
  p.log?.(`${notifications} notifications closed before ${eventsBefore.toISOString()} deleted`);
  p.signal?.throwIfAborted();

  await p.progress?.(40, "Deleting old tasks and their logs");
  counts.tasks = await purgeFinishedTasks(d.db, { before: tasksBefore, keepPerApp: retention.keepTasksPerApp, ...batch }, async (ids) => {
    counts.taskLogs += await removeTaskLogs(d.dataDir, ids);
    p.signal?.throwIfAborted();
  });
  p.log?.(`${counts.tasks} finished tasks from before ${tasksBefore.toISOString()} deleted, with ${counts.taskLogs} log files`);

  await p.progress?.(80, "Deleting log files of tasks that are gone");
  for await (const ids of taskLogsOlderThan(d.dataDir, tasksBefore, d.batch)) {
    const known = await existingTaskIds(d.db, ids);
    counts.orphanLogs += await removeTaskLogs(
      d.dataDir,
      ids.filter((id) => !known.has(id)),
    );
    p.signal?.throwIfAborted();
  }
  p.log?.(`${counts.orphanLogs} log files without a task deleted`);

  await recordEvent(d.db, { action: "housekeeping.purge", actorId: "box", actorName: "box", data: { ...counts, notifications, retention } });
  return { ...counts, retention };
}
