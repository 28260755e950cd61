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
] as const;

/** Dotted event-log actions. */
export const EVENT_ACTIONS = [
  "user.setup_owner",
  "user.login",
  "user.login_failed",
  "user.logout",
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
  "app.restore",
  "app.purge",
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
  "mail.test",
  "registry.add",
  "registry.remove",
] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];
