import { randomUUID } from "node:crypto";
import { BACKUP_CONFIG_KEY, HearthError, type BackupRetention, type BackupState, type BackupView, type FilesystemSite } from "@hearth/contracts";
import type { Backup, BackupConfig, Db, Prisma, Task } from "../client";
import { createTask } from "./tasks";

/**
 * Backups (issue 12): the one site config row and the Backup rows. admin records intent
 * here (a Backup row in `creating` plus its task, in one transaction); box fills in the
 * snapshot and marks the row `good` only after reading the snapshot back from the site.
 */

/** A site's identity as stored on each Backup row (which repository the snapshot is in). */
export function siteKeyOf(site: FilesystemSite): string {
  return `filesystem:${site.path}`;
}

export async function getBackupConfig(db: Db | Prisma.TransactionClient): Promise<BackupConfig | null> {
  return db.backupConfig.findUnique({ where: { id: BACKUP_CONFIG_KEY } });
}

/**
 * Stores the site config. `passphraseEnc` null keeps the stored passphrase, which is only
 * allowed when there is one and the site is the same (a new site is a new repository,
 * and a passphrase of another repository would not open it). For the same site a passphrase
 * other than the stored one is refused: the repository stays encrypted with the old key, so
 * swapping the stored one would make every later backup fail and the earlier ones
 * unrestorable through Hearth. `sameAsStored(storedEnc)` says whether the new passphrase is
 * the stored one (true/false), or null when the stored one cannot be opened (then the new one
 * replaces it: the stored one is of no use to box either).
 */
export async function putBackupConfig(
  db: Db,
  input: {
    site: FilesystemSite;
    passphraseEnc: string | null;
    sameAsStored?: (storedEnc: string) => boolean | null;
    schedule: string;
    retention: BackupRetention;
  },
): Promise<{ config: BackupConfig; siteChanged: boolean }> {
  return db.$transaction(async (tx) => {
    const old = await getBackupConfig(tx);
    const siteChanged = !old || siteKeyOf(old.site as unknown as FilesystemSite) !== siteKeyOf(input.site);
    if (input.passphraseEnc === null) {
      if (!old) throw fieldError("passphrase", "A passphrase is required to set up backups");
      if (siteChanged) throw fieldError("passphrase", "A new site needs the passphrase again (its repository is encrypted with it)");
    } else if (old && !siteChanged && (input.sameAsStored ? input.sameAsStored(old.passphraseEnc) : false) === false) {
      throw fieldError(
        "passphrase",
        "This site's repository is encrypted with the stored passphrase: changing it is not supported yet. Leave the passphrase empty to keep it, or choose a new (empty) folder for a new passphrase",
      );
    }
    const data = {
      siteType: input.site.type,
      site: input.site as unknown as Prisma.InputJsonValue,
      siteSecretEnc: null,
      passphraseEnc: input.passphraseEnc ?? old!.passphraseEnc,
      // a new site is a new repository: box learns its id again (the site test, or the first backup)
      ...(siteChanged ? { repoId: null } : {}),
      schedule: input.schedule,
      retention: input.retention as unknown as Prisma.InputJsonValue,
    };
    const config = await tx.backupConfig.upsert({ where: { id: BACKUP_CONFIG_KEY }, create: { id: BACKUP_CONFIG_KEY, ...data }, update: data });
    return { config, siteChanged };
  });
}

/**
 * Records the repository id box found at the site, only while the site is still `siteKey`
 * (a site saved meanwhile keeps its own null). Returns whether it was recorded.
 */
export async function setBackupRepoId(db: Db, siteKey: string, repoId: string): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const c = await getBackupConfig(tx);
    if (!c || siteKeyOf(c.site as unknown as FilesystemSite) !== siteKey) return false;
    await tx.backupConfig.update({ where: { id: BACKUP_CONFIG_KEY }, data: { repoId } });
    return true;
  });
}

/** An `invalid` error at one field, in the issue shape the dashboard's forms read. */
function fieldError(field: string, message: string): HearthError {
  return new HearthError("invalid", message, { details: [{ path: field.split("."), code: "custom", message }] });
}

async function lockIdleApp(tx: Prisma.TransactionClient, appId: string): Promise<{ id: string; manifestId: string; version: string; installState: string }> {
  const locked = await tx.$queryRawUnsafe<{ id: string }[]>("SELECT `id` FROM `App` WHERE `id` = ? FOR UPDATE", appId);
  if (locked.length === 0) throw new HearthError("not_found", "No such app");
  const app = await tx.app.findUniqueOrThrow({ where: { id: appId }, select: { id: true, manifestId: true, version: true, installState: true } });
  if (app.installState.startsWith("pending_")) throw new HearthError("bad_state", `The app is busy (${app.installState}); wait until it is done`);
  const active = await tx.task.findFirst({ where: { appId, state: { in: ["pending", "running"] } }, select: { id: true, type: true } });
  if (active) throw new HearthError("bad_state", `The app is busy (${active.type} is not finished); wait until it is done`, { details: { taskId: active.id } });
  return app;
}

/** POST /apps/:id/backup: a Backup row (`creating`) and its `backup.app` task, one transaction; the app must be idle. */
export async function queueAppBackup(db: Db, appId: string, createdBy: string | null): Promise<{ backup: Backup; task: Task }> {
  return db.$transaction(async (tx) => {
    const config = await getBackupConfig(tx);
    if (!config) throw new HearthError("bad_state", "Backups are not set up: configure a backup site first (PUT /api/v1/backups/config)");
    const app = await lockIdleApp(tx, appId);
    const id = randomUUID();
    const task = await createTask(tx, { type: "backup.app", appId, args: { appId, backupId: id }, createdBy });
    const backup = await tx.backup.create({
      data: { id, type: "app", appId, manifestId: app.manifestId, version: app.version, state: "creating", site: siteKeyOf(config.site as unknown as FilesystemSite), taskId: task.id },
    });
    return { backup, task };
  });
}

/** POST /apps/:id/restore: the backup must be a good one of this app, on the configured site; the app must be idle. */
export async function queueBackupRestore(db: Db, appId: string, backupId: string, createdBy: string | null): Promise<{ backup: Backup; task: Task }> {
  return db.$transaction(async (tx) => {
    const config = await getBackupConfig(tx);
    if (!config) throw new HearthError("bad_state", "Backups are not set up: configure a backup site first");
    await lockIdleApp(tx, appId);
    const backup = await tx.backup.findUnique({ where: { id: backupId } });
    if (!backup || backup.appId !== appId) throw new HearthError("not_found", "No such backup of this app", { details: { field: "backupId" } });
    if (backup.state !== "good") throw new HearthError("bad_state", `This backup is ${backup.state}, not good: it cannot be restored`, { details: { field: "backupId" } });
    if (backup.site !== siteKeyOf(config.site as unknown as FilesystemSite))
      throw new HearthError("bad_state", "This backup is on another site than the configured one", { details: { field: "backupId" } });
    // default attempts: an interrupted restore (kill -9, a stop) resumes; its steps are each safe to redo
    const task = await createTask(tx, { type: "backup.restore", appId, args: { appId, backupId }, createdBy });
    return { backup, task };
  });
}

export async function queueBackupTest(db: Db, createdBy: string | null): Promise<Task> {
  if (!(await getBackupConfig(db))) throw new HearthError("bad_state", "Backups are not set up: configure a backup site first");
  return createTask(db, { type: "backup.test", args: {}, createdBy, maxAttempts: 1 });
}

export async function getBackup(db: Db, id: string): Promise<Backup | null> {
  return db.backup.findUnique({ where: { id } });
}

export async function updateBackup(
  db: Db,
  id: string,
  patch: { state?: BackupState; snapshotId?: string | null; sizeBytes?: number | null; fileCount?: number | null; reason?: string | null; finishedAt?: Date | null },
): Promise<void> {
  await db.backup.update({ where: { id }, data: { ...patch, sizeBytes: patch.sizeBytes === undefined ? undefined : patch.sizeBytes === null ? null : BigInt(patch.sizeBytes) } });
}

/** Newest first; with appId only that app's. */
export async function listBackups(db: Db, o: { appId?: string; limit?: number } = {}): Promise<BackupView[]> {
  const rows = await db.backup.findMany({ where: o.appId ? { appId: o.appId } : {}, orderBy: { createdAt: "desc" }, take: Math.min(o.limit ?? 200, 1000) });
  const ids = [...new Set(rows.map((r) => r.appId).filter((x): x is string => !!x))];
  const apps = ids.length ? await db.app.findMany({ where: { id: { in: ids } }, select: { id: true, manifest: true, subdomain: true, domain: true } }) : [];
  const title = new Map(apps.map((a) => [a.id, `${(a.manifest as { title?: string }).title ?? a.subdomain} (${a.subdomain}.${a.domain})`]));
  // a row still `creating` whose task ended (interrupted too often, cancelled) or is gone never became good: it shows as failed
  const creating = rows.filter((r) => r.state === "creating" && r.taskId).map((r) => r.taskId!);
  const tasks = creating.length ? await db.task.findMany({ where: { id: { in: creating } }, select: { id: true, state: true, errorMessage: true } }) : [];
  const taskOf = new Map(tasks.map((t) => [t.id, t]));
  return rows.map((r) => {
    const v = backupViewOf(r, r.appId ? (title.get(r.appId) ?? null) : null);
    if (r.state !== "creating" || !r.taskId) return v;
    const t = taskOf.get(r.taskId);
    if (t && (t.state === "pending" || t.state === "running")) return v;
    return {
      ...v,
      state: "failed" as const,
      reason: t ? `the backup task ended (${t.state}) without finishing the backup${t.errorMessage ? `: ${t.errorMessage}` : ""}` : "the backup task is gone without finishing the backup",
    };
  });
}

export function backupViewOf(r: Backup, appTitle: string | null = null): BackupView {
  return {
    id: r.id,
    type: r.type === "platform" ? "platform" : "app",
    appId: r.appId,
    appTitle,
    manifestId: r.manifestId,
    version: r.version,
    state: r.state as BackupState,
    snapshotId: r.snapshotId,
    sizeBytes: r.sizeBytes === null ? null : Number(r.sizeBytes),
    fileCount: r.fileCount,
    reason: r.reason,
    taskId: r.taskId,
    createdAt: r.createdAt.toISOString(),
    finishedAt: r.finishedAt?.toISOString() ?? null,
  };
}

/**
 * When each of these apps last got a good backup (a `good` app Backup row, by its
 * finishedAt, else createdAt); apps without one are absent. Read only: box's notification
 * sweep ("backups overdue").
 */
export async function lastGoodBackupAt(db: Db | Prisma.TransactionClient, appIds: string[]): Promise<Map<string, Date>> {
  const out = new Map<string, Date>();
  if (appIds.length === 0) return out;
  const rows = await db.backup.groupBy({ by: ["appId"], where: { type: "app", state: "good", appId: { in: appIds } }, _max: { finishedAt: true, createdAt: true } });
  for (const r of rows) {
    const at = r._max.finishedAt ?? r._max.createdAt;
    if (r.appId && at) out.set(r.appId, at);
  }
  return out;
}
