export const USER_ROLES = ["owner", "admin", "user"] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const TOKEN_SCOPES = ["read", "read-write"] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export const TASK_STATES = ["pending", "running", "succeeded", "failed", "cancelled"] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const ACTIVE_TASK_STATES: readonly TaskState[] = ["pending", "running"];
export const FINISHED_TASK_STATES: readonly TaskState[] = ["succeeded", "failed", "cancelled"];

/** Task types. Names starting with "_" exist to exercise the runner itself. */
export const TASK_TYPES = [
  "_sleep",
  "_fail",
  "_crash",
  "app.install",
  "app.configure",
  "app.uninstall",
  "app.start",
  "app.stop",
  "app.restart",
  "app.update",
  "app.restore",
  "app.purge",
  "orphan.delete",
  "domain.sync",
  "certificate.renew",
  "mail.test",
  "housekeeping.purge",
  "backup.app",
  "backup.restore",
  "backup.test",
] as const;
export type TaskType = (typeof TASK_TYPES)[number];

/** Error codes a task can end with (beyond HearthError codes). */
export const TASK_ERROR_CODES = [
  "interrupted",
  "task_failed",
  "unknown_task_type",
  "cancelled",
  "image_not_found",
  "registry_auth",
  "build_failed",
  "health_timeout",
  "nginx_config_invalid",
  "dns_conflict",
  "certificate_failed",
  "update_failed",
  "memory_limit_too_high",
  "backup_failed",
  "backup_check_failed",
] as const;

/** Task types an admin or box runs for real (not the runner's own test types starting with "_"). */
export type RealTaskType = Exclude<TaskType, `_${string}`>;
export const REAL_TASK_TYPES = TASK_TYPES.filter((t): t is RealTaskType => !t.startsWith("_"));

/**
 * The outcome of a task, recorded by box when it ends: `app.install.succeeded`,
 * `app.install.failed` … (the request itself is the event named like the task type).
 */
export type TaskOutcomeAction = `${RealTaskType}.${"succeeded" | "failed"}`;
export const TASK_OUTCOME_ACTIONS: readonly TaskOutcomeAction[] = REAL_TASK_TYPES.flatMap((t) => [`${t}.succeeded` as const, `${t}.failed` as const]);

export function taskOutcomeAction(type: string, state: "succeeded" | "failed"): TaskOutcomeAction | null {
  return (REAL_TASK_TYPES as readonly string[]).includes(type) ? (`${type}.${state}` as TaskOutcomeAction) : null;
}

/**
 * Dotted event-log actions written directly (recordEvent takes only an `EventAction`, so the
 * compiler checks every writer; admin's label map is keyed by it).
 */
export const EVENT_ACTIONS = [
  "setup.code_failed",
  "user.setup_owner",
  "user.login",
  "user.login_failed",
  "user.logout",
  "user.logout_everywhere",
  "user.password_change",
  "user.password_failed",
  "user.totp_enable",
  "user.totp_disable",
  "token.create",
  "token.delete",
  "task.failed",
  "app.install",
  "app.configure",
  "app.uninstall",
  "app.start",
  "app.stop",
  "app.restart",
  "app.update",
  "app.autoupdate",
  "app.restore",
  "app.purge",
  "app.credentials_reveal",
  "app.credentials_changed",
  "app.terminal_open",
  "app.terminal_close",
  "app.files_upload",
  "app.files_write",
  "app.files_rename",
  "app.files_delete",
  "app.files_mkdir",
  "orphan.found",
  "orphan.delete",
  "app.up",
  "app.down",
  "app.oom",
  "domain.add",
  "domain.remove",
  "domain.update",
  "certificate.new",
  "certificate.renew",
  "certificate.renewal_failed",
  "certificate.issue_failed",
  "dns.record_conflict",
  "settings.acme",
  "settings.network",
  "settings.mail",
  "settings.apps",
  "settings.retention",
  "housekeeping.purge",
  "mail.test",
  "registry.add",
  "registry.remove",
  "notification.mail_failed",
  "notification.webhook_failed",
  "notification.dismiss",
  "settings.notification_webhook",
  "user.notification_preferences",
  "backup.config",
  "backup.create",
  "backup.restore",
  "backup.failed",
] as const;
export type DirectEventAction = (typeof EVENT_ACTIONS)[number];
/** Every action an Event row can have. */
export type EventAction = DirectEventAction | TaskOutcomeAction;
export const ALL_EVENT_ACTIONS: readonly EventAction[] = [...EVENT_ACTIONS, ...TASK_OUTCOME_ACTIONS];

/** What an event's `target` names (stored with the event as `targetType`). */
export const EVENT_TARGET_TYPES = ["app", "domain", "user", "token", "registry", "certificate", "setting", "orphan", "email", "task"] as const;
export type EventTargetType = (typeof EVENT_TARGET_TYPES)[number];

/** Settings as the event log names them (the key is the event's target). */
export const SETTING_NAMES: Readonly<Record<string, string>> = {
  acme: "Certificate authority (ACME)",
  network: "Network",
  "mail.outbound": "Mail relay",
  "housekeeping.retention": "Housekeeping",
  "apps.uninstallRetentionDays": "Kept data of uninstalled apps",
  "notifications.webhook": "Notification webhook",
  backups: "Backups",
};
