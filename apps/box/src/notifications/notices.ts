import { explainError } from "@hearth/contracts";
import { closeEmptyNotificationGroups, closeNotificationItems, getAppRow, openNotificationItems, raiseNotification, type Db, type RaiseResult } from "@hearth/db";

/**
 * What box tells admins, grouped by cause (packages/db repos/notifications.ts has the
 * model). Raising: the certificate manager (an order or renewal failed), the health monitor
 * (down, OOM), the task runner (a task failed for good). Closing: at once where the cause
 * goes away (issued, back up, certificate removed with its name or app) and in `sweep`,
 * which box runs periodically for whatever went away without telling (an app row deleted,
 * a certificate row gone or no longer failing).
 *
 * Messages are written for the admin (explainError); the raw error goes to the item's
 * details. Kinds modelled but not raised yet: app_restarting, backup_failed,
 * backup_overdue (no backups yet), update_available.
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

/** The app answers again: its down/restarting items close (an OOM stays until read or swept). */
export async function closeAppRecovered(db: Db, appId: string): Promise<number> {
  return (await closeNotificationItems(db, { subjects: [appId], kind: "app_down" })) + (await closeNotificationItems(db, { subjects: [appId], kind: "app_restarting" }));
}

/** The app is gone (uninstalled): everything about it closes, its failed tasks (`<appId>:<type>`) too. */
export async function closeAppNotices(db: Db, appId: string): Promise<number> {
  const tasks = (await openNotificationItems(db, "task_failed")).map((i) => i.subject).filter((s) => s.startsWith(`${appId}:`));
  return (await closeNotificationItems(db, { subjects: [appId] })) + (await closeNotificationItems(db, { subjects: tasks, kind: "task_failed" }));
}

export async function raiseTaskFailure(db: Db, t: { id: string; type: string; appId: string | null; error: string }): Promise<RaiseResult | null> {
  if (t.type.startsWith("_")) return null; // the runner's own test tasks
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

/** A task of this type for this app succeeded: its earlier failure is over. */
export async function closeTaskFailure(db: Db, t: { type: string; appId: string | null }): Promise<number> {
  return closeNotificationItems(db, { subjects: [`${t.appId ?? "box"}:${t.type}`], kind: "task_failed" });
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
  for (const kind of ["app_down", "app_oom", "app_restarting", "task_failed"]) {
    const stale: string[] = [];
    const now = (d.now ?? new Date()).getTime();
    for (const item of await openNotificationItems(d.db, kind)) {
      const appId = kind === "task_failed" ? item.subject.split(":")[0]! : item.subject;
      if (appId === "box") continue;
      const app = await d.appStatus(appId);
      const settled = app !== null && (!app.meantToRun || app.health === "healthy");
      if (app === null || ((kind === "app_down" || kind === "app_restarting") && settled) || (kind === "app_oom" && settled && now - item.updatedAt.getTime() >= OOM_QUIET_MS))
        stale.push(item.subject);
    }
    closed += await closeNotificationItems(d.db, { subjects: stale, kind });
  }
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
