import { ALL_EVENT_ACTIONS, type DirectEventAction, type EventAction, type RealTaskType, type TaskOutcomeAction } from "@hearth/contracts";

/**
 * The one map from an event-log action to what the dashboard (and the CSV export) shows.
 * Keyed by contracts' `EventAction` union, which `recordEvent` also takes, so an action
 * written anywhere without a label here does not compile (event-labels.test.ts checks the
 * source too).
 */
const DIRECT_LABELS: Record<DirectEventAction, string> = {
  "setup.code_failed": "Wrong setup code",
  "user.setup_owner": "Owner account created",
  "user.login": "Signed in",
  "user.login_failed": "Failed sign-in",
  "user.logout": "Signed out",
  "user.logout_everywhere": "Signed out everywhere",
  "user.password_change": "Password changed",
  "user.password_failed": "Wrong current password",
  "user.totp_enable": "Two-factor turned on",
  "user.totp_disable": "Two-factor turned off",
  "user.notification_preferences": "Notification email choices changed",
  "notification.mail_failed": "Notification email could not be sent",
  "notification.webhook_failed": "Notification webhook failed",
  "notification.dismiss": "Notification dismissed",
  "settings.notification_webhook": "Notification webhook changed",
  "token.create": "API token created",
  "token.delete": "API token revoked",
  "task.failed": "Task failed",
  // app.install … app.restore are recorded when an admin asks; their outcome is
  // app.install.succeeded / .failed (below), recorded by box when the task ends
  "app.install": "App install requested",
  "app.configure": "App configuration change requested",
  "app.uninstall": "App uninstall requested",
  "app.start": "App start requested",
  "app.stop": "App stop requested",
  "app.restart": "App restart requested",
  "app.update": "App update requested",
  "app.autoupdate": "Automatic patch updates turned on or off",
  "app.restore": "App restore requested",
  "app.purge": "App data deletion requested",
  "app.credentials_reveal": "App's first admin password revealed",
  "app.credentials_changed": "App's first admin password marked as changed (Hearth's copy deleted)",
  "app.terminal_open": "Terminal opened in the app",
  "app.terminal_close": "Terminal in the app closed",
  "app.files_upload": "File uploaded to an app's data",
  "app.files_write": "Text file saved in an app's data",
  "app.files_rename": "File or folder in an app's data renamed or moved",
  "app.files_delete": "File or folder in an app's data deleted",
  "app.files_mkdir": "Folder made in an app's data",
  "orphan.found": "Data without an app found",
  "orphan.delete": "Deletion of data without an app requested",
  // from box's health monitor
  "app.up": "App back up",
  "app.down": "App down",
  "app.oom": "App out of memory",
  "domain.add": "Domain added",
  "domain.remove": "Domain deleted",
  "domain.update": "Domain changed",
  "certificate.new": "Certificate issued",
  "certificate.renew": "Certificate renewal requested",
  "certificate.renewal_failed": "Certificate could not be renewed",
  "certificate.issue_failed": "Certificate could not be issued",
  "dns.record_conflict": "DNS record conflict",
  "settings.acme": "Certificate settings changed",
  "settings.network": "Network settings changed",
  "settings.mail": "Mail relay settings changed",
  "settings.apps": "App settings changed",
  "settings.retention": "Retention settings changed",
  "housekeeping.purge": "Old events and tasks deleted",
  "mail.test": "Test email requested",
  "registry.add": "Registry credentials added",
  "registry.remove": "Registry credentials deleted",
  "backup.config": "Backup site changed",
  "backup.create": "Backup requested",
  "backup.restore": "App restored from a backup",
  "backup.failed": "Backup failed",
};

/** What each real task type does, as the subject of its outcome ("App install" → "App install succeeded"). */
const TASK_LABELS: Record<RealTaskType, string> = {
  "app.install": "App install",
  "app.configure": "App configuration",
  "app.uninstall": "App uninstall",
  "app.start": "App start",
  "app.stop": "App stop",
  "app.restart": "App restart",
  "app.update": "App update",
  "app.restore": "App restore",
  "app.purge": "App data deletion",
  "orphan.delete": "Deletion of data without an app",
  "domain.sync": "Domain DNS sync",
  "certificate.renew": "Certificate renewal",
  "mail.test": "Test email",
  "housekeeping.purge": "Daily housekeeping",
  "backup.app": "App backup",
  "backup.restore": "Restore from a backup",
  "backup.test": "Backup site test",
};

function outcomeLabel(action: TaskOutcomeAction): string {
  const i = action.lastIndexOf(".");
  const type = action.slice(0, i) as RealTaskType;
  return `${TASK_LABELS[type]} ${action.slice(i + 1) === "succeeded" ? "succeeded" : "failed"}`;
}

export const EVENT_LABELS: Readonly<Record<EventAction, string>> = Object.fromEntries(
  ALL_EVENT_ACTIONS.map((a) => [a, a in DIRECT_LABELS ? DIRECT_LABELS[a as DirectEventAction] : outcomeLabel(a as TaskOutcomeAction)]),
) as Record<EventAction, string>;

/** The label of `action`; an action this build does not know (an older or newer writer) shows as itself. */
export function eventLabel(action: string): string {
  return Object.hasOwn(EVENT_LABELS, action) ? EVENT_LABELS[action as EventAction] : action;
}

/** Whether the event reports something that went wrong (shown as a warning). */
export function isFailureAction(action: string): boolean {
  return action.endsWith("_failed") || action.endsWith(".failed") || action === "app.down" || action === "app.oom";
}

/**
 * The error an event carries, as one line: a task outcome's `{code, message}` ("code: message"),
 * or a certificate failure's message; "" when none.
 */
export function eventErrorOf(data: unknown): string {
  if (!data || typeof data !== "object") return "";
  const error = (data as { error?: unknown }).error;
  if (typeof error === "string") return error;
  if (error && typeof error === "object") {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof message === "string") return typeof code === "string" && code ? `${code}: ${message}` : message;
  }
  return "";
}
