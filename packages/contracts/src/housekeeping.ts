import { z } from "zod";

/**
 * Housekeeping: how long box keeps finished tasks (their rows and log files) and events
 * before its daily `housekeeping.purge` task deletes them. Setting `housekeeping.retention`;
 * `GET`/`PUT /api/v1/settings/retention`.
 *
 * - `eventDays`: Event rows older than this are deleted (at least 30: the audit trail).
 * - `taskDays`: finished Task rows (succeeded, failed, cancelled) older than this are
 *   deleted with their log files; pending and running tasks never are, nor a task an app's
 *   error or an orphan's deletion still points at.
 * - `keepTasksPerApp`: the newest this many tasks of each app (and of the platform's own
 *   tasks) are kept whatever their age.
 */
export const RETENTION_SETTINGS_KEY = "housekeeping.retention";

const whole = (min: number, max: number, what: string) => {
  const error = `${what} from ${min} to ${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};

export const retentionSettings = z.strictObject({
  // at least 30: the event log is the audit trail, and one admin (or a stolen session) must
  // not be able to erase it, with the record of that change, by setting 1 day
  eventDays: whole(30, 3650, "a whole number of days"),
  taskDays: whole(1, 3650, "a whole number of days"),
  keepTasksPerApp: whole(0, 10_000, "a whole number"),
});
export type RetentionSettings = z.infer<typeof retentionSettings>;

export const DEFAULT_RETENTION: RetentionSettings = { eventDays: 90, taskDays: 30, keepTasksPerApp: 50 };

/** PUT /api/v1/settings/retention: any of the fields; the others stay as they are. */
export const retentionSettingsUpdate = retentionSettings.partial().refine((v) => Object.keys(v).length > 0, { message: "give at least one of eventDays, taskDays, keepTasksPerApp" });
export type RetentionSettingsUpdate = z.infer<typeof retentionSettingsUpdate>;

/** Args of `housekeeping.purge` (none: it reads the setting when it runs). */
export const housekeepingPurgeTaskArgs = z.strictObject({});

/** What a purge did: the task's result and the data of its `housekeeping.purge` event. */
export interface HousekeepingCounts {
  events: number;
  tasks: number;
  taskLogs: number;
  orphanLogs: number;
}
