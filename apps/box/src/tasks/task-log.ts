import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { lstat, opendir, unlink } from "node:fs/promises";
import path from "node:path";
import { TASK_ID_PATTERN } from "@hearth/contracts";
import { dataPaths } from "../paths";

/**
 * Per-task log files: `${dataDir}/logs/tasks/<taskId>.log`, one timestamped line per entry,
 * appended across attempts. Writes are synchronous so a line is in the file before the
 * progress it belongs to reaches the database (the socket's event stream reads both), and so
 * nothing is lost in a buffer when the process is killed.
 */
export function taskLogDir(dataDir: string): string {
  return dataPaths(dataDir).taskLogs;
}

/** The log path of a task; throws on an id that could escape the directory. */
export function taskLogPath(dataDir: string, taskId: string): string {
  if (!TASK_ID_PATTERN.test(taskId)) throw new Error("bad task id");
  return path.join(taskLogDir(dataDir), `${taskId}.log`);
}

export function formatLogLines(text: string, now: Date = new Date()): string {
  const ts = now.toISOString();
  return text
    .replace(/\r?\n$/, "")
    .split(/\r?\n/)
    .map((l) => `${ts} ${l}\n`)
    .join("");
}

export class TaskLogFile {
  private fd: number | null;
  /** Set when a write failed (disk full, …): the task goes on, the log stops. */
  failed: Error | null = null;

  private constructor(fd: number | null, failed: Error | null) {
    this.fd = fd;
    this.failed = failed;
  }

  /** Opens (creating directories) the log for appending; never throws, see `failed`. */
  static open(dataDir: string, taskId: string): TaskLogFile {
    try {
      const file = taskLogPath(dataDir, taskId);
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o750 });
      return new TaskLogFile(openSync(file, "a", 0o640), null);
    } catch (e) {
      return new TaskLogFile(null, e as Error);
    }
  }

  write(text: string): void {
    if (this.fd === null) return;
    try {
      writeSync(this.fd, formatLogLines(text));
    } catch (e) {
      this.failed = e as Error;
      this.close();
    }
  }

  close(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // already closed or the disk went away; nothing more to do
    }
    this.fd = null;
  }
}

/** Appends one entry to a task's log (used for notes outside a run, e.g. by recovery). */
export function appendTaskLog(dataDir: string, taskId: string, text: string): void {
  const f = TaskLogFile.open(dataDir, taskId);
  f.write(text);
  f.close();
}

/** Removes the log files of these tasks (missing ones are fine); returns how many were there. */
export async function removeTaskLogs(dataDir: string, taskIds: readonly string[]): Promise<number> {
  let removed = 0;
  for (const id of taskIds) {
    if (!TASK_ID_PATTERN.test(id)) continue;
    try {
      await unlink(taskLogPath(dataDir, id));
      removed++;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
  return removed;
}

/**
 * The task log files last written before `before`, as task ids, `chunk` at a time (the folder
 * can hold very many files: it is read as a stream). Only regular files named
 * `<task id>.log` count; anything else in the folder is left alone.
 */
export async function* taskLogsOlderThan(dataDir: string, before: Date, chunk = 1000): AsyncGenerator<string[]> {
  const dir = taskLogDir(dataDir);
  let handle: Awaited<ReturnType<typeof opendir>>;
  try {
    handle = await opendir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  let ids: string[] = [];
  for await (const ent of handle) {
    if (!ent.isFile() || !ent.name.endsWith(".log")) continue;
    const id = ent.name.slice(0, -4);
    if (!TASK_ID_PATTERN.test(id)) continue;
    const st = await lstat(path.join(dir, ent.name)).catch(() => null);
    if (!st?.isFile() || st.mtimeMs >= before.getTime()) continue;
    ids.push(id);
    if (ids.length >= chunk) {
      yield ids;
      ids = [];
    }
  }
  if (ids.length) yield ids;
}

/**
 * An unexpected error as one task-log line: its code (or name) and one line of its message,
 * with source paths cut out. Admins read task logs in the dashboard, so a stack trace, a
 * Prisma code frame or a file path of box's code never goes there; the full error goes to
 * box's own process log (TaskContext.fault).
 */
export function errorLine(e: unknown): string {
  const err = (e ?? {}) as { code?: unknown; name?: unknown; message?: unknown };
  const code = typeof err.code === "string" && /^[A-Za-z0-9_.-]{1,64}$/.test(err.code) ? err.code : typeof err.name === "string" && err.name ? err.name : "error";
  const text = e instanceof Error || typeof err.message === "string" ? String(err.message) : String(e);
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^at\s/.test(l) && !/^\d+\s*[|│]/.test(l) && !/^[→❯>]/.test(l));
  // Prisma's messages open with "Invalid `prisma.x.y()` invocation in" + a path + a code frame; what happened is last
  const pick = typeof err.name === "string" && err.name.startsWith("PrismaClient") ? lines[lines.length - 1] : lines[0];
  const one = (pick ?? "")
    .replace(/(?:file:\/\/)?(?:\/[\w.@+-]+)+\.(?:[cm]?[jt]sx?|node)(?::\d+)*/g, "<source>")
    .replace(/\s+/g, " ")
    .slice(0, 300);
  return `${code}: ${one || "(no message)"}`;
}
