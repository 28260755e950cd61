import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { APP_LOG_CURSOR_PATTERN } from "@hearth/contracts";
import { syncDir } from "../lib/durable-files";

/**
 * An app's log history: what its earlier containers printed, kept by box so the logs survive
 * the container being recreated (configure, update, restore, a vanished container). Before box
 * removes an app's container it appends that container's output (Docker's lines with their
 * timestamps) here; reading the logs is this history, then the current container's output.
 *
 * On disk: `<dataDir>/logs/apps/<appId>/history.log` and at most one older
 * `history.log.1`. Each line is `<RFC 3339 timestamp with nanoseconds> <text>` as Docker's
 * `timestamps=true` gives it (fixed width, so the text order of two timestamps is their time
 * order). Appends are flushed (fsync) before they return. When an append would take the
 * current file past `maxFileBytes` the current file becomes `.1` (the older `.1` goes), so an
 * app keeps at most 2 × maxFileBytes (one append alone is cut to its last maxFileBytes).
 */

export const HISTORY_FILE = "history.log";
export const HISTORY_OLDER_FILE = "history.log.1";
/** Rotate at 4 MiB: at most 8 MiB of history per app. */
export const DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024;

/** Box's health probe's user agent (apps.service.ts probeHttp); lines with it are hidden unless asked for. */
export const HEALTH_USER_AGENT = "hearth-health";

export interface LogLine {
  /** Docker's timestamp (RFC 3339, nanoseconds, UTC): the line's place in the history and its cursor. */
  ts: string;
  text: string;
}

const TS = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$/s;

/**
 * Docker's `timestamps=true` output → lines. Docker prints RFC3339Nano with a fixed 9-digit
 * fraction; a line without one (should not happen) keeps the previous line's timestamp.
 */
export function parseTimestamped(text: string): LogLine[] {
  const out: LogLine[] = [];
  let last = "0000-00-00T00:00:00.000000000Z";
  for (const raw of text.split("\n")) {
    const l = raw.replace(/\r$/, "");
    if (l === "") continue;
    const m = TS.exec(l);
    if (m) {
      last = m[1]!;
      out.push({ ts: m[1]!, text: m[2]! });
    } else out.push({ ts: last, text: l });
  }
  return out;
}

export const formatLine = (l: LogLine) => `${l.ts} ${l.text}\n`;

/** The newest lines of `lines` whose text fits in `maxBytes` (whole lines only). */
export function lastBytes(lines: LogLine[], maxBytes: number): LogLine[] {
  let size = 0;
  let i = lines.length;
  while (i > 0) {
    const n = Buffer.byteLength(formatLine(lines[i - 1]!));
    if (size + n > maxBytes) break;
    size += n;
    i--;
  }
  return lines.slice(i);
}

/**
 * History, then the current container's lines, in order and without duplicates: a current
 * line is kept only when it is newer than the history's newest (a container archived but not
 * yet removed — a task interrupted between the two — is in both).
 */
export function mergeLogs(history: LogLine[], current: LogLine[]): LogLine[] {
  const newest = history.at(-1)?.ts;
  return newest === undefined ? [...history, ...current] : [...history, ...current.filter((l) => l.ts > newest)];
}

export interface LogFilter {
  /** Show box's own health-check requests (default: hidden). */
  health?: boolean;
  /** Case-insensitive plain substring. */
  q?: string;
}

export function lineFilter(f: LogFilter): (l: LogLine) => boolean {
  const q = f.q?.toLowerCase();
  const health = f.health === true;
  return (l) => (health || !l.text.includes(HEALTH_USER_AGENT)) && (q === undefined || q === "" || l.text.toLowerCase().includes(q));
}

/**
 * One page of `lines`: the last `n` lines that pass the filter and are older than `before`
 * (all of them when absent); `older` says whether more lines that pass it come before the page.
 */
export function pageOf(lines: LogLine[], o: LogFilter & { n: number; before?: string }): { lines: LogLine[]; older: boolean } {
  const keep = lineFilter(o);
  const out: LogLine[] = [];
  let i = lines.length - 1;
  if (o.before !== undefined) while (i >= 0 && lines[i]!.ts >= o.before) i--;
  for (; i >= 0 && out.length < o.n; i--) if (keep(lines[i]!)) out.push(lines[i]!);
  let older = false;
  for (; i >= 0; i--)
    if (keep(lines[i]!)) {
      older = true;
      break;
    }
  return { lines: out.reverse(), older };
}

/** One app's history folder. Appends of one folder are serialized within the process. */
export class LogHistory {
  private static readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    readonly dir: string,
    private readonly maxFileBytes = DEFAULT_MAX_FILE_BYTES,
  ) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const prev = LogHistory.queues.get(this.dir) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => {});
    LogHistory.queues.set(this.dir, settled);
    void settled.then(() => {
      if (LogHistory.queues.get(this.dir) === settled) LogHistory.queues.delete(this.dir);
    });
    return next;
  }

  /** Every kept line, oldest first. */
  async read(): Promise<LogLine[]> {
    const parts = await Promise.all([HISTORY_OLDER_FILE, HISTORY_FILE].map((f) => readFile(path.join(this.dir, f), "utf8").catch(() => "")));
    return parseTimestamped(parts.join(""));
  }

  /**
   * The newest kept line's timestamp, or null. Read from the end in a growing window: a line
   * can be longer than the first window (Docker keeps a long line whole), and only a line that
   * starts inside the window with Docker's timestamp counts (a cut line has none).
   */
  async newest(): Promise<string | null> {
    for (const f of [HISTORY_FILE, HISTORY_OLDER_FILE]) {
      const fh = await open(path.join(this.dir, f), "r").catch(() => null);
      if (!fh) continue;
      try {
        const { size } = await fh.stat();
        for (let len = Math.min(size, 64 * 1024); len > 0; len = Math.min(size, len * 4)) {
          const buf = Buffer.alloc(len);
          await fh.read(buf, 0, len, size - len);
          const rows = buf.toString("utf8").split("\n");
          // the first row of a window that does not reach the file's start may be cut
          if (len < size) rows.shift();
          for (let i = rows.length - 1; i >= 0; i--) {
            const ts = TS.exec(rows[i]!.replace(/\r$/, ""))?.[1];
            if (ts && APP_LOG_CURSOR_PATTERN.test(ts)) return ts;
          }
          if (len === size) break;
        }
      } finally {
        await fh.close();
      }
    }
    return null;
  }

  /**
   * Appends the lines newer than the history's newest, rotating first when the current file
   * would grow past the bound; flushed to disk before it returns. Returns how many were added.
   */
  append(lines: LogLine[]): Promise<number> {
    return this.serial(async () => {
      const newest = await this.newest();
      const fresh = lastBytes(newest === null ? lines : lines.filter((l) => l.ts > newest), this.maxFileBytes);
      if (fresh.length === 0) return 0;
      const text = fresh.map(formatLine).join("");
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const cur = path.join(this.dir, HISTORY_FILE);
      const size = await stat(cur).then(
        (s) => s.size,
        () => 0,
      );
      if (size > 0 && size + Buffer.byteLength(text) > this.maxFileBytes) {
        await rename(cur, path.join(this.dir, HISTORY_OLDER_FILE));
        await syncDir(this.dir);
      }
      const fh = await open(cur, "a", 0o600);
      try {
        await fh.appendFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await syncDir(this.dir);
      return fresh.length;
    });
  }

  /** Deletes the history (with the app's data, at purge). */
  remove(): Promise<void> {
    return this.serial(() => rm(this.dir, { recursive: true, force: true }));
  }
}
