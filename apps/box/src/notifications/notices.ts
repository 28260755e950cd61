import { explainError, HEARTH_VERSION, hearthVersionView, newerPatchVersion, newerVersion, type HearthReleaseState, type VersionRef } from "@hearth/contracts";
import {
  closeEmptyNotificationGroups,
  closeNotificationItems,
  getAppRow,
  getBackupConfig,
  lastGoodBackupAt,
  listApps,
  openNotificationItems,
  raiseNotification,
  type Db,
  type RaiseResult,
} from "@hearth/db";

/**
 * What box tells admins, grouped by cause (packages/db repos/notifications.ts has the
 * model). Raising: the certificate manager (an order or renewal failed), the health monitor
 * (down, OOM), the task runner (a task failed for good). Closing: at once where the cause
 * goes away (issued, back up, certificate removed with its name or app) and in `sweep`,
 * which box runs periodically for whatever went away without telling (an app row deleted,
 * a certificate row gone or no longer failing).
 *
 * Messages are written for the admin (explainError); the raw error goes to the item's
 * details. Also: an app restarting in a loop (the health monitor, from the container's
 * RestartCount; RESTART_LOOP_*), a failed backup or restore (the task runner's hook), and in
 * the sweep updates available (catalog and release check) and backups overdue.
 */

const appLabelOf = (app: { subdomain: string; domain: string }) => (app.subdomain ? `${app.subdomain}.${app.domain}` : app.domain);

/** The link to a domain's certificate setting (the Domains page opens its dialog). */
export const domainSettingLink = (domain: string) => `/domains?edit=${encodeURIComponent(domain)}`;

export interface CertificateFailure {
  domain: string;
  namesKey: string;
  names: string[];
  error: string;
  /** the certificate in use still has days left (a renewal failed) */
  renewal: boolean;
  daysLeft: number;
}

export async function raiseCertificateFailure(db: Db, f: CertificateFailure, now = new Date()): Promise<RaiseResult> {
  const explained = explainError(f.error);
  const expiring = f.renewal && f.daysLeft > 0;
  const message = expiring
    ? `${explained.message} The current certificate stays in use; it expires in ${f.daysLeft} day${f.daysLeft === 1 ? "" : "s"}.`
    : `${explained.message} The name is served with a self-signed certificate until this works.${
        explained.unresolvable ? " For a domain that is offline or only on your network, choose the self-signed or an uploaded certificate for it." : ""
      }`;
  // one kind per certificate: a renewal failing after expiry becomes "failing", and "expiring" closes (and back)
  const r = await raiseNotification(
    db,
    {
      kind: expiring ? "cert_expiring" : "cert_failing",
      cause: f.domain,
      level: !expiring || f.daysLeft < 7 ? "error" : "warning",
      // an offline or LAN name: the domain's certificate setting (self-signed or upload)
      link: explained.unresolvable ? domainSettingLink(f.domain) : "/certificates",
      subject: f.namesKey,
      label: f.names.join(", "),
      message,
      details: f.error,
    },
    now,
  );
  await closeNotificationItems(db, { subjects: [f.namesKey], kind: expiring ? "cert_failing" : "cert_expiring" }, now);
  return r;
}

/** The certificate of these names was issued, or removed with its names: its items close. */
export async function closeCertificateNotices(db: Db, namesKeys: string[]): Promise<number> {
  return (await closeNotificationItems(db, { subjects: namesKeys, kind: "cert_failing" })) + (await closeNotificationItems(db, { subjects: namesKeys, kind: "cert_expiring" }));
}

export async function raiseAppNotice(db: Db, kind: "app_down" | "app_oom" | "app_restarting", appId: string, detail: string): Promise<RaiseResult | null> {
  const app = await getAppRow(db, appId);
  if (!app) return null;
  const message =
    kind === "app_down"
      ? "The app does not answer its health check. Hearth keeps checking; see its logs."
      : kind === "app_oom"
        ? "The app ran out of memory and was stopped by the kernel. Give it more memory on its page."
        : "The app keeps restarting. See its logs.";
  return raiseNotification(db, { kind, cause: "", level: kind === "app_oom" ? "warning" : "error", link: `/apps/${appId}`, subject: appId, label: appLabelOf(app), message, details: detail });
}

/**
 * The app answers again: its down item closes. Not its "restarting in a loop" item (a
 * looping app answers between crashes; that one closes in the sweep once no restart was seen
 * for RESTART_LOOP_WINDOW_MS), nor an OOM (closed by the sweep after OOM_QUIET_MS).
 */
export async function closeAppRecovered(db: Db, appId: string): Promise<number> {
  return closeNotificationItems(db, { subjects: [appId], kind: "app_down" });
}

/** An app's container restarted at least this many times … */
export const RESTART_LOOP_COUNT = 3;
/** … within this long is "restarting in a loop"; the notice closes after this long without a restart. */
export const RESTART_LOOP_WINDOW_MS = 10 * 60_000;

/**
 * Counts a container's restarts (Docker's RestartCount: the `unless-stopped` policy's
 * restarts since the container was made) as the health monitor sees them, per container, in
 * memory: the first reading of a container is its baseline (restarts before box saw it do not
 * count), later readings add the rise with the time it was seen. `observe` says how many
 * restarts fell within the window and whether this reading saw a new one.
 */
export class RestartTracker {
  private readonly seen = new Map<string, { count: number; restarts: number[] }>();

  observe(containerId: string, restartCount: number, now = Date.now()): { inWindow: number; rose: boolean } {
    const s = this.seen.get(containerId);
    if (!s) {
      // containers are recreated by every configure and update: keep the newest 2000 only
      if (this.seen.size >= 2000) this.seen.delete(this.seen.keys().next().value!);
      this.seen.set(containerId, { count: restartCount, restarts: [] });
      return { inWindow: 0, rose: false };
    }
    const rise = Math.max(0, restartCount - s.count);
    s.count = restartCount;
    for (let i = 0; i < Math.min(rise, 100); i++) s.restarts.push(now);
    s.restarts = s.restarts.filter((t) => now - t < RESTART_LOOP_WINDOW_MS);
    return { inWindow: s.restarts.length, rose: rise > 0 };
  }
}

/** The health monitor saw the app's container restart `inWindow` times within RESTART_LOOP_WINDOW_MS. */
export async function raiseRestartLoop(db: Db, appId: string, inWindow: number, restartCount: number): Promise<RaiseResult | null> {
  const app = await getAppRow(db, appId);
  if (!app) return null;
  return raiseNotification(db, {
    kind: "app_restarting",
    cause: "",
    level: "error",
    link: `/apps/${appId}`,
    subject: appId,
    label: appLabelOf(app),
    message: `The app's container stopped and was restarted ${inWindow} times in the last ${RESTART_LOOP_WINDOW_MS / 60_000} minutes. See its logs for why it stops.`,
    details: `RestartCount ${restartCount}; ${inWindow} restarts within ${RESTART_LOOP_WINDOW_MS / 60_000} min`,
  });
}

/** The app is gone (uninstalled): everything about it closes, its failed tasks (`<appId>:<type>`) too. */
export async function closeAppNotices(db: Db, appId: string): Promise<number> {
  const tasks = (await openNotificationItems(db, "task_failed")).map((i) => i.subject).filter((s) => s.startsWith(`${appId}:`));
  return (await closeNotificationItems(db, { subjects: [appId] })) + (await closeNotificationItems(db, { subjects: tasks, kind: "task_failed" }));
}

/** Task types whose failure is a "backup failed" (about the app) instead of a "task failed". */
export const BACKUP_TASK_TYPES: readonly string[] = ["backup.app", "backup.restore"];

export async function raiseTaskFailure(db: Db, t: { id: string; type: string; appId: string | null; error: string }): Promise<RaiseResult | null> {
  if (t.type.startsWith("_")) return null; // the runner's own test tasks
  if (t.appId && BACKUP_TASK_TYPES.includes(t.type)) return raiseBackupFailure(db, { type: t.type, appId: t.appId, error: t.error });
  const app = t.appId ? await getAppRow(db, t.appId) : null;
  const what = t.type.replace(/[._]/g, " ");
  return raiseNotification(db, {
    kind: "task_failed",
    cause: "",
    level: "error",
    link: t.appId ? `/apps/${t.appId}` : "/eventlog",
    // one item per app and task type: a later failure of the same replaces it
    subject: `${t.appId ?? "box"}:${t.type}`,
    label: app ? `${what} of ${appLabelOf(app)}` : what,
    message: explainError(t.error).message,
    details: t.error,
  });
}

/**
 * A backup or restore of an app failed: one item per app in the "backups failed" group (a
 * later failure replaces it), closed by that app's next good backup.
 */
export async function raiseBackupFailure(db: Db, t: { type: string; appId: string; error: string }): Promise<RaiseResult | null> {
  const app = await getAppRow(db, t.appId);
  const restore = t.type === "backup.restore";
  return raiseNotification(db, {
    kind: "backup_failed",
    cause: "",
    level: "error",
    link: `/apps/${t.appId}`,
    subject: t.appId,
    label: app ? appLabelOf(app) : t.appId,
    message: `${restore ? "Restoring the app from its backup failed" : "The app's backup failed"}: ${explainError(t.error).message}`,
    details: `${t.type}: ${t.error}`,
  });
}

/** A task of this type for this app succeeded: its earlier failure is over (a good app backup also ends a failed backup or restore). */
export async function closeTaskFailure(db: Db, t: { type: string; appId: string | null }): Promise<number> {
  let n = await closeNotificationItems(db, { subjects: [`${t.appId ?? "box"}:${t.type}`], kind: "task_failed" });
  if (t.appId && t.type === "backup.app") n += await closeBackupNotices(db, t.appId);
  return n;
}

/** The app got a good backup: its "backup failed" and "backup overdue" items close. */
export async function closeBackupNotices(db: Db, appId: string): Promise<number> {
  return (await closeNotificationItems(db, { subjects: [appId], kind: "backup_failed" })) + (await closeNotificationItems(db, { subjects: [appId], kind: "backup_overdue" }));
}

/**
 * The task runner's `onFinished` hook (box's wiring): a task that failed for good, including
 * one failed as `interrupted` by a box stop or restart, raises; a success closes the earlier
 * failure of its app and type.
 */
export function taskOutcomeNotifier(db: Db) {
  return async (t: { id: string; type: string; appId: string | null }, outcome: { state: "succeeded" } | { state: "failed"; errorMessage: string }): Promise<void> => {
    if (outcome.state === "failed") await raiseTaskFailure(db, { ...t, error: outcome.errorMessage });
    else await closeTaskFailure(db, t);
  };
}

export interface SweepDeps {
  db: Db;
  /** does a certificate row with these names exist, and is it failing? */
  certificateState(namesKey: string): Promise<"failing" | "ok" | "gone">;
  /** is the app meant to run (installed, runState running) and its last recorded health; null when gone */
  appStatus(appId: string): Promise<{ meantToRun: boolean; health: string | null } | null>;
  /** used fraction (0..1) of the data volume, null when unknown */
  diskUsed?(): Promise<{ path: string; used: number } | null>;
  diskThreshold?: number;
  /** the catalog's manifests by manifest id (update_available); absent: not checked */
  catalog?(): Promise<Map<string, VersionRef[]>>;
  /** the release check's last reading (Setting hearth.release); null when never read or no source */
  hearthRelease?(): Promise<HearthReleaseState | null>;
  now?: Date;
}

/** An OOM notice closes once the app ran healthy (or was stopped) this long after the last kill. */
export const OOM_QUIET_MS = 30 * 60_000;

/**
 * Closes what no longer holds: certificate items whose certificate is gone or works;
 * "down"/"restarting" items whose app is gone, not meant to run (stopped, being
 * reconfigured, in error) or healthy now: a restart/configure/update task writes
 * starting → healthy itself, so the monitor never sees the down → up transition; OOM items
 * whose app is gone, or is healthy or stopped and had no OOM for OOM_QUIET_MS; task
 * failures of apps that are gone. Raises or closes the disk-full notice. Returns how many
 * items it closed. Items of groups an admin dismissed are checked too (their cause clearing
 * lets the next raise open a new group).
 */
export async function sweep(d: SweepDeps): Promise<{ closed: number }> {
  let closed = 0;
  for (const kind of ["cert_failing", "cert_expiring"]) {
    const stale: string[] = [];
    for (const item of await openNotificationItems(d.db, kind)) if ((await d.certificateState(item.subject)) !== "failing") stale.push(item.subject);
    closed += await closeNotificationItems(d.db, { subjects: stale, kind });
  }
  for (const kind of ["app_down", "app_oom", "app_restarting", "task_failed", "backup_failed"]) {
    const stale: string[] = [];
    const now = (d.now ?? new Date()).getTime();
    for (const item of await openNotificationItems(d.db, kind)) {
      const appId = kind === "task_failed" ? item.subject.split(":")[0]! : item.subject;
      if (appId === "box") continue;
      const app = await d.appStatus(appId);
      const settled = app !== null && (!app.meantToRun || app.health === "healthy");
      if (
        app === null ||
        (kind === "app_down" && settled) ||
        // a loop: over when the app is not meant to run, or no restart was seen (the item's last raise) for the window
        (kind === "app_restarting" && (!app.meantToRun || now - item.updatedAt.getTime() >= RESTART_LOOP_WINDOW_MS)) ||
        (kind === "app_oom" && settled && now - item.updatedAt.getTime() >= OOM_QUIET_MS)
      )
        stale.push(item.subject);
    }
    closed += await closeNotificationItems(d.db, { subjects: stale, kind });
  }
  closed += await syncBackupOverdue(d.db, d.now ?? new Date());
  if (d.catalog) closed += await syncUpdateNotices(d.db, await d.catalog(), d.hearthRelease ? await d.hearthRelease().catch(() => null) : null);
  // a group left open without an open item (a crash between closing items and the group)
  closed += await closeEmptyNotificationGroups(d.db);
  const disk = await d.diskUsed?.().catch(() => null);
  if (disk) {
    const threshold = d.diskThreshold ?? 0.9;
    if (disk.used >= threshold) {
      await raiseNotification(d.db, {
        kind: "disk_full",
        cause: "",
        level: disk.used >= 0.97 ? "error" : "warning",
        subject: disk.path,
        label: disk.path,
        message: `The disk holding Hearth's data is ${Math.round(disk.used * 100)} % full. Apps and backups fail when it is full; free space or grow the disk.`,
        details: `used ${disk.used.toFixed(4)} of ${disk.path}`,
      });
    } else closed += await closeNotificationItems(d.db, { subjects: [disk.path], kind: "disk_full" });
  }
  return { closed };
}

/** An installed app whose last good backup is older than this (or that has none) is overdue, when a backup site is configured. */
export const BACKUP_OVERDUE_MS = 48 * 3_600_000;

/**
 * "Backups overdue": with a backup site configured (the BackupConfig row), one item per
 * installed app without a good backup in the last BACKUP_OVERDUE_MS (an app installed less
 * than that ago counts from its install). Items of apps gone, backed up since, or of every
 * app when no site is configured any more, close. Returns how many items it closed.
 */
export async function syncBackupOverdue(db: Db, now: Date): Promise<number> {
  const open = await openNotificationItems(db, "backup_overdue");
  const configured = (await getBackupConfig(db)) !== null;
  const apps = configured ? (await listApps(db)).filter((a) => a.installState === "installed") : [];
  const last = await lastGoodBackupAt(
    db,
    apps.map((a) => a.id),
  );
  const overdue = new Set<string>();
  for (const a of apps) {
    const since = last.get(a.id) ?? a.createdAt;
    if (now.getTime() - since.getTime() < BACKUP_OVERDUE_MS) continue;
    overdue.add(a.id);
    const at = last.get(a.id);
    const details = at ? `last good backup ${at.toISOString()}` : "no good backup";
    if (open.some((i) => i.subject === a.id && i.details === details)) continue; // already said so
    await raiseNotification(
      db,
      {
        kind: "backup_overdue",
        cause: "",
        level: "warning",
        // the Backups page: the site, the schedule and every app's backups
        link: "/backups",
        subject: a.id,
        label: appLabelOf(a),
        message: at
          ? `The app's last good backup is ${Math.floor((now.getTime() - at.getTime()) / 3_600_000)} hours old. Check the backup schedule and the backup site.`
          : "The app has never been backed up. Check the backup schedule and the backup site.",
        details,
      },
      now,
    );
  }
  return closeNotificationItems(db, { subjects: open.map((i) => i.subject).filter((s) => !overdue.has(s)), kind: "backup_overdue" }, now);
}

/** The subject of the "a newer Hearth is available" item in the update_available group. */
export const HEARTH_UPDATE_SUBJECT = "hearth";

/**
 * "Updates available": one item per installed store app whose catalog has a newer version
 * (pre-releases and versions needing a newer Hearth never count, as on the app page),
 * naming from → to; not for an app with automatic updates on whose newest version is a
 * patch (the nightly window installs it). Plus one item for a newer Hearth from the release
 * check. Items close when the app reached (or passed) that version, is gone, or turned
 * automatic updates on for a patch; Hearth's when it runs that version. Returns how many
 * items it closed.
 */
export async function syncUpdateNotices(db: Db, catalog: Map<string, VersionRef[]>, release: HearthReleaseState | null): Promise<number> {
  const open = await openNotificationItems(db, "update_available");
  const wanted = new Set<string>();
  const raise = async (subject: string, label: string, link: string, message: string, details: string) => {
    wanted.add(subject);
    if (open.some((i) => i.subject === subject && i.details === details)) return; // already said so
    await raiseNotification(db, { kind: "update_available", cause: "", level: "info", link, subject, label, message, details });
  };
  for (const a of await listApps(db)) {
    if (a.installState !== "installed" || !a.storeId) continue;
    const versions = catalog.get(a.storeId) ?? [];
    const to = newerVersion(a.version, versions, HEARTH_VERSION);
    if (!to) continue;
    if (a.autoUpdate && newerPatchVersion(a.version, versions, HEARTH_VERSION) === to) continue; // the nightly window takes it
    await raise(a.id, appLabelOf(a), `/apps/${a.id}`, `Version ${to} is available (installed: ${a.version}).`, `${a.version} → ${to}`);
  }
  const hearth = hearthVersionView(HEARTH_VERSION, release);
  if (hearth.updateAvailable && hearth.latest) {
    await raise(HEARTH_UPDATE_SUBJECT, "Hearth", "/server", `Hearth ${hearth.latest.version} is available (running: ${HEARTH_VERSION}).`, `${HEARTH_VERSION} → ${hearth.latest.version}`);
  }
  return closeNotificationItems(db, { subjects: open.map((i) => i.subject).filter((s) => !wanted.has(s)), kind: "update_available" });
}
