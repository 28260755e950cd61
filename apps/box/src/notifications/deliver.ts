import { createHmac, randomUUID } from "node:crypto";
import { NOTIFICATION_WEBHOOK_KEY, NOTIFICATION_WEBHOOK_STATUS_KEY, type NotificationWebhookStored } from "@hearth/contracts";
import { getSetting, listNotifications, markNotificationMailed, notificationRecipients, notificationsToMail, openSecret, recordEvent, setSetting, type Db, type Notification } from "@hearth/db";
import { ALLOW_PRIVATE_ENDPOINTS_KEY } from "@hearth/contracts/endpoints";
import type { Outbound } from "../mail/outbound";
import { pinnedPost, type HostResolver } from "./webhook";

/**
 * Email and webhook for notifications (issue 14).
 *
 * The digest rule: each notification GROUP is delivered once when it opens — not per item
 * (20 failing names are one mail), not on every sweep, not again when more items join the
 * open group. A group is delivered after it has settled for `settleMs` (30 s: a burst of
 * failures, e.g. a domain's 20 names failing one after another, lands in the one mail with
 * all of them); a group that closed (over 30 min ago, REOPEN_WINDOW_MS) and opens again is a new group, so it is mailed
 * again. `emailedAt` is written BEFORE sending: a crash or a failing relay never sends twice
 * (a failed send is recorded as an event `notification.mail_failed`, not retried).
 *
 * Mail goes to active owners/admins with an email address whose choice includes the kind
 * (no choice stored: every kind), through the outbound path the admin set (the same one
 * the mail relay uses), from no-reply@<dashboard domain>.
 *
 * The webhook (optional, Setting notifications.webhook): POST JSON of the group with
 * `X-Hearth-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>` and
 * `X-Hearth-Timestamp`, 5 s timeout, redirects not followed (a 3xx is a failure). box
 * resolves the URL's name itself at send time, refuses it when any address is on this
 * machine or the cloud's metadata service (the rules admin checked when it was saved,
 * `@hearth/contracts/endpoints`, unless Setting network.allowPrivateEndpoints), and connects
 * only to the checked address (webhook.ts), so a DNS record changed since cannot redirect it. The
 * outcome goes to Setting notifications.webhook.status and failures to the event log; nothing
 * waits on it or fails because of it.
 */

export interface DeliveryDeps {
  db: Db;
  secretKey: Buffer | null;
  /** resolves the outbound path as set now (SettingOutbound.resolve) */
  outbound: () => Promise<{ ok: true; outbound: Outbound } | { ok: false; reason: string }>;
  /** no-reply@<this> */
  senderDomain: () => Promise<string>;
  /** https://my.<domain> for links in mails; "" when unknown */
  dashboardUrl?: () => Promise<string>;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  now?: () => Date;
  settleMs?: number;
  webhookTimeoutMs?: number;
  /** how the webhook's name is resolved at send time (default: the system resolver) */
  resolveHost?: HostResolver;
  /** box is stopping: no further group is started, a webhook post in flight is cut */
  signal?: AbortSignal;
}

export const NOTIFICATION_SETTLE_MS = 30_000;

export interface DeliveryReport {
  mailed: { notificationId: string; to: string[] }[];
  webhooks: { notificationId: string; ok: boolean; error?: string }[];
}

export async function deliverNotifications(d: DeliveryDeps): Promise<DeliveryReport> {
  const now = d.now?.() ?? new Date();
  const settle = d.settleMs ?? NOTIFICATION_SETTLE_MS;
  const report: DeliveryReport = { mailed: [], webhooks: [] };
  const due = (await notificationsToMail(d.db)).filter((n) => !n.emailedAt && now.getTime() - n.createdAt.getTime() >= settle);
  if (due.length === 0) return report;
  const webhook = await readWebhook(d);
  const base = (await d.dashboardUrl?.().catch(() => "")) ?? "";
  for (const n of due) {
    if (d.signal?.aborted) break;
    // claimed first: never twice, whatever happens next
    await markNotificationMailed(d.db, n.id, now);
    const full = (await listNotifications(d.db, { state: "open", limit: 200 })).find((x) => x.id === n.id);
    const items = full?.items ?? [];
    const to = (await notificationRecipients(d.db, n.kind)).map((u) => u.email);
    if (to.length > 0) {
      try {
        await sendMail(d, full ?? n, items, to, base);
        report.mailed.push({ notificationId: n.id, to });
      } catch (err) {
        const message = (err as Error).message.slice(0, 500);
        d.log.warn({ notificationId: n.id, err: message }, "could not mail a notification");
        await recordEvent(d.db, {
          action: "notification.mail_failed",
          actorId: "box",
          actorName: "box",
          target: n.id,
          targetType: "",
          targetName: n.title,
          data: { error: message, recipients: to.length },
        }).catch(() => {});
      }
    }
    if (webhook) report.webhooks.push(await postWebhook(d, webhook, full ?? n, items, now));
  }
  return report;
}

async function sendMail(d: DeliveryDeps, n: Notification, items: { label: string; message: string }[], to: string[], base: string): Promise<void> {
  const resolved = await d.outbound();
  if (!resolved.ok) throw new Error(`the outbound mail setting cannot be used: ${resolved.reason}`);
  const from = `no-reply@${await d.senderDomain()}`;
  const shown = items.slice(0, 25);
  const lines = [
    n.title,
    "",
    ...shown.map((i) => `- ${i.label}: ${i.message}`),
    ...(items.length > shown.length ? [`… and ${items.length - shown.length} more`] : []),
    ...(items.length === 0 && n.message ? [n.message] : []),
    "",
    base ? `See it in the dashboard: ${base}${n.link || "/notifications"}` : "See it in the dashboard under Notifications.",
    "",
    "You get this mail because of your notification choices (Settings → Notifications). Hearth mails each notification once when it opens.",
  ];
  const { default: nodemailer } = await import("nodemailer");
  const composed = await nodemailer.createTransport({ streamTransport: true, buffer: true }).sendMail({
    from: { name: "Hearth", address: from },
    to,
    subject: `[Hearth] ${n.title}`,
    text: `${lines.join("\n")}\n`,
  });
  const r = await resolved.outbound.deliver({ from, to }, composed.message as Buffer);
  if (!r.accepted.length) throw new Error(r.failed.map((f) => f.message).join("; ") || "the message was not accepted");
}

interface OpenWebhook {
  url: string;
  secret: string;
  allowPrivate: boolean;
}

async function readWebhook(d: DeliveryDeps): Promise<OpenWebhook | null> {
  const s = await getSetting<NotificationWebhookStored>(d.db, NOTIFICATION_WEBHOOK_KEY);
  if (!s?.url || !s.secretEnc) return null;
  if (!d.secretKey) {
    d.log.warn({}, "the notification webhook's secret is sealed but HEARTH_SECRET_KEY is not set; not posting");
    return null;
  }
  try {
    const secret = openSecret(d.secretKey, s.secretEnc);
    return { url: s.url, secret, allowPrivate: (await getSetting<unknown>(d.db, ALLOW_PRIVATE_ENDPOINTS_KEY)) === true };
  } catch {
    d.log.warn({}, "the notification webhook's secret does not open with HEARTH_SECRET_KEY; not posting");
    return null;
  }
}

/** The signature a receiver checks: hex HMAC-SHA256 of `${timestamp}.${body}`. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

async function postWebhook(
  d: DeliveryDeps,
  w: OpenWebhook,
  n: Notification,
  items: { label: string; message: string; details: string }[],
  now: Date,
): Promise<{ notificationId: string; ok: boolean; error?: string }> {
  const body = JSON.stringify({
    event: "notification.opened",
    delivery: randomUUID(),
    notification: { id: n.id, kind: n.kind, level: n.level, title: n.title, link: n.link, openedAt: n.createdAt.toISOString(), items: items.map((i) => ({ label: i.label, message: i.message })) },
  });
  const timestamp = String(Math.floor(now.getTime() / 1000));
  let ok = false;
  let error: string | undefined;
  try {
    const status = await pinnedPost({
      url: w.url,
      headers: { "content-type": "application/json", "user-agent": "Hearth-Webhook/1", "x-hearth-timestamp": timestamp, "x-hearth-signature": webhookSignature(w.secret, timestamp, body) },
      body,
      allowPrivate: w.allowPrivate,
      ...(d.resolveHost ? { resolve: d.resolveHost } : {}),
      timeoutMs: d.webhookTimeoutMs ?? 5_000,
      ...(d.signal ? { signal: d.signal } : {}),
    });
    ok = status >= 200 && status < 300;
    if (!ok) error = status >= 300 && status < 400 ? `redirect (${status}) not followed` : `HTTP ${status}`;
  } catch (e) {
    error = (e as Error).name === "TimeoutError" ? "timed out" : (e as Error).message;
  }
  await setSetting(d.db, NOTIFICATION_WEBHOOK_STATUS_KEY, { at: now.toISOString(), ok, error: error ?? null }).catch(() => {});
  if (!ok) {
    d.log.warn({ notificationId: n.id, err: error }, "the notification webhook failed");
    await recordEvent(d.db, { action: "notification.webhook_failed", actorId: "box", actorName: "box", target: n.id, targetType: "", targetName: n.title, data: { error: error ?? "" } }).catch(
      () => {},
    );
  }
  return { notificationId: n.id, ok, ...(error ? { error } : {}) };
}
