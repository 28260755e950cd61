import { z } from "zod";

/**
 * Notifications (issue 14): what admins should see and act on, grouped by cause. One
 * notification per kind + cause (e.g. the failing certificates of one domain) with the
 * subjects inside it as items; box raises and closes them (apps/box/src/notifications),
 * admin shows them (the bell, /notifications) and marks them read per admin.
 */
export const NOTIFICATION_KINDS = [
  "cert_failing",
  "cert_expiring",
  "app_down",
  "app_oom",
  "app_restarting",
  "disk_full",
  "backup_failed",
  "backup_overdue",
  "update_available",
  "task_failed",
  "orphans",
  "other",
] as const;
export const notificationKind = z.enum(NOTIFICATION_KINDS);
export type NotificationKind = z.infer<typeof notificationKind>;

/** The kinds an admin can choose to get by email (all but the catch-all). */
export const EMAIL_NOTIFICATION_KINDS = NOTIFICATION_KINDS.filter((k) => k !== "other");

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** What a kind is called in settings (a user's email choice). */
export const NOTIFICATION_KIND_LABELS: Record<NotificationKind, string> = {
  cert_failing: "Certificates that cannot be obtained",
  cert_expiring: "Certificates that cannot be renewed",
  app_down: "Apps that are down",
  app_oom: "Apps stopped for lack of memory",
  app_restarting: "Apps restarting in a loop",
  disk_full: "Disk nearly full",
  backup_failed: "Failed backups",
  backup_overdue: "Overdue backups",
  update_available: "Updates available",
  task_failed: "Failed tasks",
  orphans: "Data that belongs to no app",
  other: "Other",
};

/** The one-line title of a group: its kind, how many subjects are open in it, and its cause (a domain, …). */
export function notificationTitle(kind: string, openItems: number, cause = ""): string {
  const on = cause ? ` on ${cause}` : "";
  switch (kind) {
    case "cert_failing":
      return `Certificates failing for ${plural(openItems, "name", "names")}${on}`;
    case "cert_expiring":
      return `Certificates not renewed for ${plural(openItems, "name", "names")}${on}`;
    case "app_down":
      return `${plural(openItems, "app is", "apps are")} down`;
    case "app_oom":
      return `${plural(openItems, "app was", "apps were")} stopped for lack of memory`;
    case "app_restarting":
      return `${plural(openItems, "app is", "apps are")} restarting in a loop`;
    case "disk_full":
      return `Disk nearly full${openItems > 1 ? ` (${openItems} volumes)` : ""}`;
    case "backup_failed":
      return `${plural(openItems, "backup", "backups")} failed`;
    case "backup_overdue":
      return `${plural(openItems, "backup is", "backups are")} overdue`;
    case "update_available":
      return `${plural(openItems, "update is", "updates are")} available`;
    case "task_failed":
      return `${plural(openItems, "task", "tasks")} failed`;
    default:
      return "Needs attention";
  }
}

/**
 * An error as the admin reads it. Raw errors (`getaddrinfo ENOTFOUND x.lan`, ACME problem
 * documents, …) become a sentence; the raw text stays in the item's details. `unresolvable`
 * says the name cannot be found in public DNS, so a publicly trusted certificate cannot be
 * had for it (offline or LAN domain: offer self-signed or an uploaded certificate).
 */
export function explainError(raw: string): { message: string; unresolvable: boolean } {
  const r = raw.toLowerCase();
  if (/enotfound|nxdomain|eai_again|no valid ip addresses|dns problem|could not resolve|servfail|no such host|name or service not known/.test(r)) {
    return { message: "The name cannot be found in public DNS, so no certificate authority can check it.", unresolvable: true };
  }
  if (/ratelimit|rate limit|too many (certificates|requests|failed)/.test(r)) {
    return { message: "The certificate authority's rate limit was reached; Hearth tries again later.", unresolvable: false };
  }
  if (/caa/.test(r)) return { message: "A CAA record of the domain forbids this certificate authority.", unresolvable: false };
  if (/econnrefused|connection refused/.test(r)) return { message: "The connection was refused: nothing answered on that address and port.", unresolvable: false };
  if (/etimedout|timed out|timeout|esockettimedout/.test(r)) return { message: "The other side did not answer in time.", unresolvable: false };
  if (/ehostunreach|enetunreach|network is unreachable/.test(r)) return { message: "The network is unreachable from this server.", unresolvable: false };
  if (/unauthorized|invalid response|incorrect txt|challenge/.test(r)) {
    return { message: "The certificate authority could not verify that this server answers for the name (check the DNS records and that ports 80/443 reach this server).", unresolvable: false };
  }
  if (/self[- ]signed|unable to verify|certificate has expired|cert_/.test(r)) return { message: "A TLS certificate on the way could not be trusted.", unresolvable: false };
  if (/enospc|no space left/.test(r)) return { message: "The disk is full.", unresolvable: false };
  if (/out of memory|oomkilled|oom/.test(r)) return { message: "The app ran out of memory.", unresolvable: false };
  // no known pattern: the first line, without stack traces or error codes in front
  const first = raw
    .split("\n")[0]!
    .replace(/^(unexpected error|error):\s*/i, "")
    .trim();
  return { message: first ? `${first.charAt(0).toUpperCase()}${first.slice(1)}${/[.!?]$/.test(first) ? "" : "."}` : "Unknown error.", unresolvable: false };
}

export const notificationItemView = z.object({
  id: z.string(),
  subject: z.string(),
  label: z.string(),
  message: z.string(),
  /** the raw error, for support */
  details: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  closedAt: z.string().nullable(),
});
export type NotificationItemView = z.infer<typeof notificationItemView>;

/** GET /api/v1/notifications: one group per kind + cause, newest raised first. */
export const notificationView = z.object({
  id: z.string(),
  kind: notificationKind,
  level: z.enum(["info", "warning", "error"]),
  title: z.string(),
  message: z.string(),
  target: z.string(),
  /** where to act on it (a dashboard path), "" when nowhere in particular */
  link: z.string(),
  /** how many times it was raised since it opened */
  count: z.number(),
  /** open subjects (all subjects once closed) */
  items: z.array(notificationItemView),
  unread: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  raisedAt: z.string(),
  dismissedAt: z.string().nullable(),
  /** "system" when box closed it because its cause went away */
  dismissedBy: z.string().nullable(),
});
export type NotificationView = z.infer<typeof notificationView>;
export const notificationsResponse = z.object({ notifications: z.array(notificationView), unread: z.number(), open: z.number() });
export type NotificationsResponse = z.infer<typeof notificationsResponse>;
/** `state`: open (default), closed or all; `all=1` is the older spelling of state=all. */
export const notificationsQuery = z.strictObject({ state: z.enum(["open", "closed", "all"]).optional(), all: z.enum(["0", "1"]).optional() });

/** Setting key of the notification webhook (admin writes it, box reads it). */
export const NOTIFICATION_WEBHOOK_KEY = "notifications.webhook";
/** Setting key of the webhook's last delivery outcome (box writes it). */
export const NOTIFICATION_WEBHOOK_STATUS_KEY = "notifications.webhook.status";
/** As stored: the URL and the signing secret sealed with HEARTH_SECRET_KEY. */
export interface NotificationWebhookStored {
  url: string;
  secretEnc: string;
}

/**
 * PUT /api/v1/settings/notifications/webhook: an http(s) URL without credentials (the
 * secret is Hearth's, never in the URL).
 */
export const notificationWebhookRequest = z.strictObject({
  url: z
    .string()
    .trim()
    .max(500)
    .refine((u) => {
      try {
        const x = new URL(u);
        return (x.protocol === "https:" || x.protocol === "http:") && !x.username && !x.password;
      } catch {
        return false;
      }
    }, "Enter an http:// or https:// URL without a user name or password in it"),
});
export const notificationWebhookView = z.object({
  url: z.string().nullable(),
  /** only in the answer to PUT: shown once, never again */
  secret: z.string().optional(),
  lastDelivery: z.object({ at: z.string(), ok: z.boolean(), error: z.string().nullable() }).nullable(),
});
export type NotificationWebhookView = z.infer<typeof notificationWebhookView>;

/** GET/PUT /api/v1/profile/notifications: which kinds the caller gets by email. */
export const notificationPreferencesRequest = z.strictObject({ emailKinds: z.array(z.enum(EMAIL_NOTIFICATION_KINDS as [NotificationKind, ...NotificationKind[]])).max(NOTIFICATION_KINDS.length) });
export const notificationPreferencesView = z.object({ emailKinds: z.array(notificationKind), chosen: z.boolean() });
export type NotificationPreferencesView = z.infer<typeof notificationPreferencesView>;
