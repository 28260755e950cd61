import { HearthError } from "@hearth/contracts";
import { run, type RunResult } from "../shell";

/**
 * The restic adapter: every restic call of box goes through here (and through shell.ts's
 * runner). The repository's password goes to restic in its environment (RESTIC_PASSWORD:
 * /proc/<pid>/environ is readable only by box's user and root), never in argv, never in a
 * log line. No product logic here; errors are turned into HearthErrors that say what to do.
 */
export interface ResticRepo {
  /** restic's repository string: a folder for a filesystem site */
  repository: string;
  password: string;
  cacheDir: string;
}

export interface ResticOptions {
  cwd?: string;
  timeoutMs?: number;
  /** restic's --json progress lines of `backup` / `restore`, parsed */
  onJson?: (msg: Record<string, unknown>) => void;
  /** a local folder the command writes besides the site and the cache (a restore's target), to say which disk is full */
  localPath?: string;
  /** the task's signal: restic is killed when it aborts (box stopping, a cancel) */
  signal?: AbortSignal;
  /** bytes of stdout kept in the result (default 64 MiB); what a command's onJson takes needs none */
  maxBuffer?: number;
}

export const RESTIC = "restic";

function envOf(repo: ResticRepo): NodeJS.ProcessEnv {
  // one --json status line a second (restic's default is 60): a long backup's stdout stays small
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RESTIC_REPOSITORY: repo.repository,
    RESTIC_PASSWORD: repo.password,
    RESTIC_CACHE_DIR: repo.cacheDir,
    RESTIC_PROGRESS_FPS: "1",
  };
  delete env.RESTIC_PASSWORD_FILE;
  delete env.RESTIC_PASSWORD_COMMAND;
  return env;
}

/** One line of what went wrong, without anything restic prints that could hold the password (it prints none). */
function why(r: RunResult): string {
  const lines = `${r.stderr}`
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("{"));
  return (lines.slice(-4).join("; ") || (r.timedOut ? "timed out" : `exit ${r.code}`)).slice(0, 1000);
}

export async function restic(repo: ResticRepo, args: readonly string[], what: string, opts: ResticOptions = {}): Promise<RunResult> {
  let buf = "";
  const r = await run(RESTIC, args, {
    env: envOf(repo),
    timeoutMs: opts.timeoutMs ?? 6 * 3_600_000,
    maxBuffer: opts.maxBuffer ?? 64 * 1024 * 1024,
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onJson
      ? {
          onStdout: (chunk: string) => {
            buf += chunk;
            let i = buf.indexOf("\n");
            while (i >= 0) {
              const line = buf.slice(0, i).trim();
              buf = buf.slice(i + 1);
              if (line.startsWith("{")) {
                try {
                  opts.onJson!(JSON.parse(line) as Record<string, unknown>);
                } catch {
                  // not a JSON line
                }
              }
              i = buf.indexOf("\n");
            }
          },
        }
      : {}),
  });
  if (r.missing) throw new HearthError("bad_state", "restic is not installed on this server (apt-get install restic; setup/install.sh installs it)");
  if (r.aborted) throw new HearthError("external", `${what}: stopped (the task was stopped)`);
  if (r.code !== 0) {
    const w = why(r);
    if (/wrong password or no key found/i.test(w)) throw new HearthError("forbidden", `${what}: the passphrase does not open the repository at ${repo.repository} (wrong passphrase?)`);
    if (/unable to create lock|repository is already locked/i.test(w))
      throw new HearthError("conflict", `${what}: the repository at ${repo.repository} is locked by another restic process (${w}); if that process is gone, run \`restic unlock\``);
    if (/permission denied/i.test(w)) throw new HearthError("external", `${what}: box's user cannot read or write ${repo.repository} (${w}); give the folder to the hearth user`);
    if (/no space left on device/i.test(w)) throw new HearthError("external", `${what}: ${whichDiskIsFull(w, repo, opts.localPath)} (${w})`);
    throw new HearthError("external", `${what} failed: ${w}`);
  }
  return r;
}

/** ENOSPC names the file restic wrote: the site, box's restic cache or a local target; say which. */
function whichDiskIsFull(w: string, repo: ResticRepo, localPath: string | undefined): string {
  if (w.includes(repo.cacheDir)) return `the disk of box's restic cache (${repo.cacheDir}) is full: free space there`;
  if (localPath && w.includes(localPath)) return `the disk of ${localPath} (on this server) is full: free space there`;
  if (w.includes(repo.repository)) return `the backup site (${repo.repository}) is full: free space there or choose a bigger site`;
  return "a disk is full (the site's or this server's): free space";
}

/** Parses restic's `--json` output of a command that prints one JSON document (or JSON lines: the last one). */
export function lastJson<T>(stdout: string): T {
  const lines = stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("{") || l.startsWith("["));
  if (lines.length === 0) throw new HearthError("external", "restic printed no JSON");
  return JSON.parse(lines[lines.length - 1]!) as T;
}

export interface ResticSnapshot {
  id: string;
  short_id: string;
  time: string;
  tags?: string[];
  paths: string[];
}

export interface ResticBackupSummary {
  message_type: "summary";
  snapshot_id: string;
  total_files_processed: number;
  total_bytes_processed: number;
  data_added: number;
  files_new: number;
  files_changed: number;
  files_unmodified: number;
}

/**
 * `restic backup --json`: its summary is taken from the line stream as it arrives, never from
 * the kept stdout (which holds only its first 256 KiB: a long backup's status lines, or
 * --verbose's one line per file, would push the summary past any buffer).
 */
export async function resticBackup(
  repo: ResticRepo,
  args: readonly string[],
  opts: { cwd: string; onStatus?: (msg: Record<string, unknown>) => void; timeoutMs?: number; signal?: AbortSignal },
): Promise<ResticBackupSummary> {
  let summary: ResticBackupSummary | null = null;
  await restic(repo, ["backup", "--json", ...args], "restic backup", {
    cwd: opts.cwd,
    maxBuffer: 256 * 1024,
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    onJson: (m) => {
      if (m.message_type === "summary") summary = m as unknown as ResticBackupSummary;
      else if (m.message_type === "status") opts.onStatus?.(m);
    },
  });
  const s = summary as ResticBackupSummary | null;
  if (!s || typeof s.snapshot_id !== "string" || !s.snapshot_id) throw new HearthError("external", "restic backup printed no summary");
  return s;
}
