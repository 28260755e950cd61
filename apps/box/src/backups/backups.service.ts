import { mkdir, readdir, readFile, rm, stat, statfs, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { appSnapshotTags, HearthError, isHearthError, type FilesystemSite } from "@hearth/contracts";
import { getApp, getBackup, getBackupConfig, getTask, listBackups, openSecret, recordEvent, setBackupRepoId, siteKeyOf, updateBackup, type Db } from "@hearth/db";
import type { DataPaths } from "../paths";
import { TaskError } from "../tasks/registry";
import type { AddonHooks, StepContext } from "../tasks/steps";
import { checkSiteFolder, probeFolder } from "./site-folder";
import { lastJson, restic, resticBackup, type ResticRepo, type ResticSnapshot } from "./restic";

/**
 * Backups of apps into the configured site's restic repository (issue 12, first slice).
 *
 * backup.app: the addons write their data (a helper container tars /app/data, mysqldump
 * --single-transaction, pg_dump, redis) and app.json (the app's config) into a 0700 staging
 * folder of box's; restic reads that folder into a snapshot tagged with the app id, version
 * and backup id; then box reads the snapshot back from the site (listed by its tag, its
 * size and file count from the repository compared with what was sent) and only then
 * marks the row good. Any failure marks it failed with the reason and records backup.failed.
 *
 * backup.restore: restic restores the snapshot into a staging folder with --verify (every
 * blob is read from the site and authenticated, every restored file read back); only when
 * that passes is the app stopped, its data and addon contents replaced, and the app started
 * again. A failed check leaves the app as it was, running.
 */
export interface BackupAppControl {
  stop(appId: string, ctx: StepContext): Promise<unknown>;
  start(appId: string, ctx: StepContext): Promise<unknown>;
}

export interface BackupServiceDeps {
  db: Db;
  secretKey: Buffer | null;
  paths: Pick<DataPaths, "root" | "backupStaging" | "resticCache">;
  addons: Pick<AddonHooks, "backupApp" | "restoreApp"> | undefined;
  apps: BackupAppControl;
  /** Test seam: runs between restic's upload and the read-back (e.g. a test removes packs on the site). */
  beforeReadBack?: (snapshotId: string) => Promise<void>;
}

const APP_CONFIG_FILE = "app.json";

export class BackupService {
  constructor(private readonly d: BackupServiceDeps) {}

  /** The configured site as restic's repository, with the passphrase opened, and the repository id recorded for it (null: not yet). */
  async repo(): Promise<{ repo: ResticRepo; site: FilesystemSite; siteKey: string; repoId: string | null }> {
    const config = await getBackupConfig(this.d.db);
    if (!config) throw new TaskError("backups are not set up: configure a backup site first", "bad_state");
    if (config.siteType !== "filesystem") throw new TaskError(`the backup site type ${config.siteType} is not supported yet`, "invalid");
    if (!this.d.secretKey) throw new TaskError("HEARTH_SECRET_KEY is not configured: box cannot open the backup passphrase", "bad_state");
    let password: string;
    try {
      password = openSecret(this.d.secretKey, config.passphraseEnc);
    } catch {
      throw new TaskError("the stored backup passphrase cannot be opened with this HEARTH_SECRET_KEY; enter the passphrase again", "bad_state");
    }
    const site = config.site as unknown as FilesystemSite;
    // no symlink on the path, owned by box's user or root, writable by nobody else, not in Hearth's data
    await checkSiteFolder(site.path, { dataDir: this.d.paths.root, uid: process.getuid?.() ?? 0 });
    await mkdir(this.d.paths.resticCache, { recursive: true, mode: 0o700 });
    return { repo: { repository: site.path, password, cacheDir: this.d.paths.resticCache }, site, siteKey: siteKeyOf(site), repoId: config.repoId };
  }

  /** restic's id of the repository (its config file, decrypted with the passphrase). */
  private async repoIdOf(repo: ResticRepo): Promise<string> {
    // restic prints the config as one indented JSON document
    const out = (await restic(repo, ["cat", "config", "--no-lock"], "opening the repository", { timeoutMs: 120_000 })).stdout;
    let c: { id?: unknown };
    try {
      c = JSON.parse(out) as { id?: unknown };
    } catch {
      throw new HearthError("external", `the repository at ${repo.repository} has an unreadable config`);
    }
    if (typeof c.id !== "string" || !/^[0-9a-f]{16,64}$/.test(c.id)) throw new HearthError("external", `the repository at ${repo.repository} has no readable id`);
    return c.id;
  }

  private async hasRepository(repo: ResticRepo): Promise<boolean> {
    return !!(await stat(path.join(repo.repository, "config")).catch(() => null));
  }

  /**
   * backup.app and backup.restore: the repository must be there and be the one Hearth backs up
   * to. They never make one: an empty or missing folder is an unmounted disk or a wrong path, and
   * a new repository there would hide that (only the site test, an admin's action, makes one).
   */
  async openRepository(repo: ResticRepo, siteKey: string, expectedId: string | null, ctx: StepContext): Promise<string> {
    if (!(await this.hasRepository(repo)))
      throw new TaskError(
        `there is no backup repository at ${repo.repository} (no config file): is the backup disk mounted? Backups and restores never make a repository; to start one in an empty folder, test the site on the Backups page`,
        "bad_state",
      );
    const id = await this.repoIdOf(repo);
    if (expectedId === null) {
      if (await setBackupRepoId(this.d.db, siteKey, id)) ctx.log(`recorded the repository's id ${id.slice(0, 8)}`);
    } else if (id !== expectedId)
      throw new TaskError(
        `the folder ${repo.repository} holds another restic repository (id ${id.slice(0, 8)}) than the one Hearth backs up to (id ${expectedId.slice(0, 8)}): mount the right disk, or save the site again with the folder of a new repository`,
        "bad_state",
      );
    return id;
  }

  /** backup.test: makes the repository unless it exists (only this explicit step may); a repository that exists must open with the passphrase and be the recorded one. */
  async ensureRepository(repo: ResticRepo, siteKey: string, expectedId: string | null, ctx: StepContext): Promise<"created" | "existing"> {
    let how: "created" | "existing" = "existing";
    if (!(await this.hasRepository(repo))) {
      if (expectedId !== null)
        throw new TaskError(
          `the repository Hearth backs up to (id ${expectedId.slice(0, 8)}) is not at ${repo.repository} any more (no config file): is the backup disk mounted? A new repository is made only in a site saved anew`,
          "bad_state",
        );
      await mkdir(repo.repository, { recursive: true, mode: 0o700 }).catch((e: NodeJS.ErrnoException) => {
        throw new HearthError("external", `box's user cannot make ${repo.repository} (${e.code}): create the folder and give it to the hearth user`);
      });
      await restic(repo, ["init"], "making the repository", { timeoutMs: 120_000 });
      ctx.log(`made the restic repository at ${repo.repository}`);
      how = "created";
    }
    await this.openRepository(repo, siteKey, expectedId, ctx);
    return how;
  }

  /** backup.test: the repository opens (or is made) with the passphrase; a probe file is written, read back and deleted. */
  async test(ctx: StepContext): Promise<{ repository: "created" | "existing"; probe: "ok"; sameDiskAsData: boolean }> {
    const { repo, siteKey, repoId } = await this.repo();
    await ctx.progress(10, "opening the repository");
    const how = await this.ensureRepository(repo, siteKey, repoId, ctx);
    await ctx.progress(60, "writing, reading and deleting a probe");
    // a folder made by the site test is checked again once it exists
    await checkSiteFolder(repo.repository, { dataDir: this.d.paths.root, uid: process.getuid?.() ?? 0 });
    await probeFolder(repo.repository, `${ctx.taskId} ${new Date().toISOString()}`);
    ctx.log(`the site works: repository ${how}, probe written, read and deleted`);
    // a folder on the disk Hearth's data is on does not survive the loss of that disk
    const [site, data] = await Promise.all([stat(repo.repository), stat(this.d.paths.root)]);
    const sameDiskAsData = site.dev === data.dev;
    if (sameDiskAsData) {
      ctx.log(`warning: ${repo.repository} is on the same disk as Hearth's data (${this.d.paths.root}): it is not a backup against losing that disk; use a mounted disk of its own`);
      await ctx.progress(100, "the site works, but it is on the same disk as Hearth's data: not a backup against losing the disk");
    } else await ctx.progress(100, "the site works");
    return { repository: how, probe: "ok", sameDiskAsData };
  }

  /** backup.app */
  async backupApp(appId: string, backupId: string, ctx: StepContext): Promise<{ backupId: string; snapshotId: string; sizeBytes: number; files: number }> {
    const row = await getBackup(this.d.db, backupId);
    if (!row || row.appId !== appId) throw new TaskError("no such backup of this app", "not_found");
    if (row.state === "good") {
      ctx.log("this backup is already good (an earlier attempt finished it)");
      return { backupId, snapshotId: row.snapshotId!, sizeBytes: Number(row.sizeBytes ?? 0), files: row.fileCount ?? 0 };
    }
    const staging = this.d.paths.backupStaging(backupId);
    try {
      const addons = this.d.addons;
      if (!addons) throw new TaskError("this box has no addon provisioner: it cannot read the app's data", "bad_state");
      const app = await getApp(this.d.db, appId);
      if (!app) throw new TaskError("the app is gone", "not_found");
      const { repo, siteKey, repoId } = await this.repo();
      if (siteKey !== row.site) throw new TaskError("the backup site changed since this backup was asked for", "bad_state");
      await ctx.progress(5, "opening the repository");
      await this.openRepository(repo, siteKey, repoId, ctx);
      const tags = appSnapshotTags({ appId, version: app.version, backupId });
      // an earlier attempt may have stored the snapshot before it was interrupted
      let snap = await this.findSnapshot(repo, backupId);
      let sent: { files: number; bytes: number } | null = null;
      if (snap) {
        // trusted only against what that attempt sent (its staging folder is still there), never on its own
        const measured = (await stat(path.join(staging, APP_CONFIG_FILE)).catch(() => null)) ? await measure(staging) : null;
        if (measured) {
          sent = measured;
          ctx.log(`an earlier attempt stored snapshot ${snap.short_id}: checking it against what it sent`);
        } else {
          ctx.log(`an earlier attempt stored snapshot ${snap.short_id}, but what it sent is gone: backing up again`);
          snap = null;
        }
      }
      if (!snap) {
        await ctx.progress(10, "dumping the app's data and databases");
        await rm(staging, { recursive: true, force: true });
        await mkdir(staging, { recursive: true, mode: 0o700 });
        // the dumps need about what the last good backup held, on box's disk (not the site's)
        const last = (await listBackups(this.d.db, { appId, limit: 50 })).find((b) => b.state === "good");
        await needFree(staging, last?.sizeBytes ?? 0, "the backup's staging folder");
        const covered = await addons.backupApp(appId, staging, ctx);
        const config = {
          version: 1,
          app: {
            id: app.id,
            manifestId: app.manifestId,
            version: app.version,
            subdomain: app.subdomain,
            domain: app.domain,
            memoryLimit: Number(app.memoryLimit),
            env: app.env,
            ports: app.ports.map((p) => ({ envName: p.envName, hostPort: p.hostPort })),
            manifest: app.manifest,
          },
          addons: covered,
          at: new Date().toISOString(),
        };
        await writeFile(path.join(staging, APP_CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
        ctx.log(`dumped: ${covered.join(", ") || "nothing"}; sending to the site`);
        await ctx.progress(40, "sending to the site");
        const summary = await resticBackup(repo, ["--host", "hearth", ...tags.flatMap((t) => ["--tag", t]), "."], {
          cwd: staging,
          signal: ctx.signal,
          onStatus: (m) => {
            if (typeof m.percent_done === "number") {
              const done = typeof m.bytes_done === "number" ? m.bytes_done : 0;
              const total = typeof m.total_bytes === "number" ? m.total_bytes : 0;
              void ctx.progress(40 + Math.floor(m.percent_done * 45), `sending: ${mib(done)} of ${mib(total)} MiB`);
            }
          },
        });
        sent = { files: summary.total_files_processed, bytes: summary.total_bytes_processed };
        ctx.log(`restic: snapshot ${summary.snapshot_id}, ${summary.total_files_processed} files, ${summary.total_bytes_processed} bytes, ${summary.data_added} bytes added to the site`);
        // the rule: good only after reading it back from the site, never from restic's exit code
        await ctx.progress(88, "reading the snapshot back from the site");
        snap = await this.findSnapshot(repo, backupId);
        if (!snap) throw new HearthError("external", `the site does not list the snapshot restic reported (${summary.snapshot_id})`);
        if (!snap.id.startsWith(summary.snapshot_id)) throw new HearthError("external", `the site lists snapshot ${snap.short_id} for this backup, not ${summary.snapshot_id}`);
      }
      if (!sent) throw new HearthError("internal", "nothing to compare the snapshot with");
      await this.d.beforeReadBack?.(snap.id);
      // read back from the site itself, never from box's local cache (--no-cache): the
      // snapshot's trees, then every pack the index names exists on the site with its size
      await restic(repo, ["check", "--no-cache", "--no-lock"], "checking the repository on the site", { timeoutMs: 6 * 3_600_000, signal: ctx.signal });
      const stats = lastJson<{ total_size: number; total_file_count: number }>(
        (await restic(repo, ["stats", "--no-cache", "--json", "--mode", "restore-size", snap.id], "reading the snapshot back", { timeoutMs: 3_600_000, signal: ctx.signal })).stdout,
      );
      if (stats.total_size !== sent.bytes) throw new HearthError("external", `the snapshot read back holds ${stats.total_size} bytes, ${sent.bytes} were sent`);
      const ls = (await restic(repo, ["ls", "--no-cache", "--json", snap.id], "listing the snapshot", { timeoutMs: 3_600_000, signal: ctx.signal })).stdout;
      const files = ls.split("\n").filter((l) => l.includes('"type":"file"')).length;
      if (files !== sent.files) throw new HearthError("external", `the snapshot read back lists ${files} files, ${sent.files} were sent`);
      if (!ls.includes(`"path":"/${APP_CONFIG_FILE}"`) || !ls.includes('"path":"/addons.json"')) throw new HearthError("external", "the snapshot read back lacks app.json or addons.json");
      await updateBackup(this.d.db, backupId, { state: "good", snapshotId: snap.id, sizeBytes: stats.total_size, fileCount: files, reason: null, finishedAt: new Date() });
      // a killed attempt's restic may have finished a snapshot of its own under this tag: only the one read back stays
      const strays = (await this.snapshotsOf(repo, backupId)).filter((s) => s.id !== snap.id);
      if (strays.length > 0) {
        await restic(repo, ["forget", ...strays.map((s) => s.id)], "forgetting an interrupted attempt's snapshot", { timeoutMs: 600_000 }).then(
          () => ctx.log(`forgot ${strays.length} snapshot(s) an interrupted attempt left under this backup's tag`),
          (e: unknown) => ctx.log(`could not forget an interrupted attempt's snapshot (${(e as Error).message}); it stays until retention`),
        );
      }
      ctx.log(`good: snapshot ${snap.short_id} read back from the site (${files} files, ${stats.total_size} bytes)`);
      await ctx.progress(100, "backed up");
      return { backupId, snapshotId: snap.id, sizeBytes: stats.total_size, files };
    } catch (e) {
      if (ctx.signal.aborted) throw e; // box is stopping: the task resumes, the row stays `creating`
      const reason = isHearthError(e) || e instanceof TaskError ? e.message : "internal error; see the task log";
      if (!(isHearthError(e) || e instanceof TaskError)) ctx.fault?.(e, "the backup's unexpected error");
      await updateBackup(this.d.db, backupId, { state: "failed", reason, finishedAt: new Date() }).catch(() => {});
      await recordEvent(this.d.db, { action: "backup.failed", actorId: "box", actorName: "box", target: appId, targetType: "app", data: { appId, backupId, taskId: ctx.taskId, reason } }).catch(
        () => {},
      );
      throw new TaskError(`the backup failed: ${reason}`, "backup_failed");
    } finally {
      await rm(staging, { recursive: true, force: true }).catch(() => {});
    }
  }

  private async snapshotsOf(repo: ResticRepo, backupId: string): Promise<ResticSnapshot[]> {
    const r = await restic(repo, ["snapshots", "--json", "--no-lock", "--tag", `backup:${backupId}`], "listing snapshots", { timeoutMs: 600_000 });
    return JSON.parse(r.stdout.trim() || "[]") as ResticSnapshot[];
  }

  /** The newest snapshot under this backup's tag (restic lists them oldest first). */
  private async findSnapshot(repo: ResticRepo, backupId: string): Promise<ResticSnapshot | null> {
    const list = await this.snapshotsOf(repo, backupId);
    return list[list.length - 1] ?? null;
  }

  /**
   * Removes what crashed backups and restores left in the staging folder (plaintext: tars of
   * /app/data, SQL dumps; restore markers), unless its task is still pending or running (a
   * resumed task needs its folder and marker). `<backupId>` belongs to the Backup row's task,
   * `restore-<taskId>[.json]` to that task; anything else there is removed too.
   */
  async cleanStaging(): Promise<string[]> {
    const dir = path.dirname(this.d.paths.backupStaging("x"));
    const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return [] as string[];
      throw e;
    });
    const removed: string[] = [];
    for (const name of names) {
      const restore = /^restore-([A-Za-z0-9_-]{1,64})(\.json)?$/.exec(name);
      const taskId = restore ? restore[1]! : /^[0-9a-f-]{36}$/.test(name) ? ((await getBackup(this.d.db, name))?.taskId ?? null) : null;
      if (taskId) {
        const task = await getTask(this.d.db, taskId);
        if (task && (task.state === "pending" || task.state === "running")) continue;
      }
      await rm(path.join(dir, name), { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }

  /** backup.restore */
  async restoreApp(appId: string, backupId: string, ctx: StepContext): Promise<{ backupId: string; restored: string[] }> {
    const row = await getBackup(this.d.db, backupId);
    if (!row || row.appId !== appId) throw new TaskError("no such backup of this app", "not_found");
    if (row.state !== "good" || !row.snapshotId) throw new TaskError(`this backup is ${row.state}: it cannot be restored`, "bad_state");
    const app = await getApp(this.d.db, appId);
    if (!app) throw new TaskError("the app is gone", "not_found");
    if (app.version !== row.version) throw new TaskError(`the backup is of version ${row.version}, the app runs ${app.version}: restoring across versions is not supported yet`, "bad_state");
    const addons = this.d.addons;
    if (!addons) throw new TaskError("this box has no addon provisioner: it cannot restore the app's data", "bad_state");
    const staging = this.d.paths.backupStaging(`restore-${ctx.taskId}`);
    try {
      const { repo, siteKey, repoId } = await this.repo();
      if (siteKey !== row.site) throw new TaskError("this backup is on another site than the configured one", "bad_state");
      await this.openRepository(repo, siteKey, repoId, ctx);
      // 1. the check: every blob of the snapshot read from the site and authenticated, the files read back
      await ctx.progress(5, "reading and checking the snapshot");
      await rm(staging, { recursive: true, force: true });
      await mkdir(staging, { recursive: true, mode: 0o700 });
      await needFree(staging, Number(row.sizeBytes ?? 0), "the restore's staging folder");
      try {
        await restic(repo, ["restore", "--json", "--verify", row.snapshotId, "--target", staging], "reading the snapshot", {
          signal: ctx.signal,
          localPath: staging,
          onJson: (m) => {
            if (m.message_type === "status" && typeof m.percent_done === "number") void ctx.progress(5 + Math.floor(m.percent_done * 40), "reading and checking the snapshot");
          },
        });
        const files = await countFiles(staging);
        if (row.fileCount !== null && files !== row.fileCount) throw new HearthError("external", `the snapshot restored ${files} files, the backup had ${row.fileCount}`);
        await stat(path.join(staging, "addons.json"));
      } catch (e) {
        const why = isHearthError(e) ? e.message : (e as Error).message;
        throw new TaskError(`the backup did not pass its check, the app was not touched: ${why}`, "backup_check_failed");
      }
      ctx.log("the snapshot passed its check (every blob read and authenticated, every file verified)");
      // 2. only now: stop, replace, start. Whether the app ran is kept beside the staging
      // folder, so an attempt resumed after a crash past the stop still starts it again.
      const marker = `${staging}.json`;
      const kept = await readFile(marker, "utf8").then(
        (t) => JSON.parse(t) as { wasRunning?: unknown },
        () => null,
      );
      const wasRunning = typeof kept?.wasRunning === "boolean" ? kept.wasRunning : app.runState === "running";
      await writeFile(marker, JSON.stringify({ wasRunning }), { mode: 0o600 });
      await ctx.progress(50, "stopping the app");
      await this.d.apps.stop(appId, quiet(ctx));
      await ctx.progress(60, "replacing the app's data");
      const restored = await addons.restoreApp(appId, staging, ctx).catch((e: unknown) => {
        if (ctx.signal.aborted) throw e; // box is stopping: the resumed task replaces the data again
        const why = isHearthError(e) || e instanceof TaskError ? e.message : "internal error; see the task log";
        if (!(isHearthError(e) || e instanceof TaskError)) ctx.fault?.(e, "the restore's unexpected error");
        throw new TaskError(`replacing the app's data failed after the app was stopped (${why}); the app stays stopped: restore the backup again, or start the app as it is`, "task_failed");
      });
      ctx.log(`restored: ${restored.join(", ") || "nothing"}`);
      if (wasRunning) {
        await ctx.progress(80, "starting the app");
        await this.d.apps.start(appId, quiet(ctx));
      }
      await rm(marker, { force: true });
      await ctx.progress(100, "restored");
      return { backupId, restored };
    } finally {
      await rm(staging, { recursive: true, force: true }).catch(() => {});
    }
  }
}

/** Refuses up front when the disk of `dir` has less free space than `bytes` (+64 MiB), naming the path. */
async function needFree(dir: string, bytes: number, what: string): Promise<void> {
  const fs = await statfs(dir);
  const free = Number(fs.bavail) * Number(fs.bsize);
  const need = bytes + 64 * 1048576;
  if (free < need) throw new TaskError(`the disk of ${what} (${dir}) has ${mib(free)} MiB free, ${mib(need)} MiB are needed: free space there first`, "bad_state");
}

function mib(n: number): string {
  return (n / 1048576).toFixed(1);
}

/** The nested AppService steps report into the task log, but their percents do not move the restore's bar backwards. */
function quiet(ctx: StepContext): StepContext {
  return { taskId: ctx.taskId, signal: ctx.signal, log: (l) => ctx.log(l), progress: async () => {}, ...(ctx.fault ? { fault: ctx.fault } : {}) };
}

/** Regular files under `dir` and their bytes (what restic's summary counts). */
async function measure(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += (await stat(path.join(e.parentPath, e.name))).size;
  }
  return { files, bytes };
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n++;
  return n;
}
