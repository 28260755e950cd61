import { randomBytes } from "node:crypto";
import { NOTIFICATION_WEBHOOK_KEY, NOTIFICATION_WEBHOOK_STATUS_KEY, notificationWebhookRequest, type NotificationWebhookStored, type NotificationWebhookView } from "@hearth/contracts";
import { deleteSetting, getSetting, recordEvent, sealSecret, setSetting } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { json } from "../../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../../lib/server/apps";
import { secretKeyOf } from "../../../../../../lib/server/domains";
import { guardEndpoint } from "../../../../../../lib/server/endpoint-guard";

export const dynamic = "force-dynamic";

async function view(app: { db: Parameters<typeof getSetting>[0] }): Promise<NotificationWebhookView> {
  const s = await getSetting<NotificationWebhookStored>(app.db, NOTIFICATION_WEBHOOK_KEY);
  const last = await getSetting<{ at: string; ok: boolean; error: string | null }>(app.db, NOTIFICATION_WEBHOOK_STATUS_KEY);
  return { url: s?.url ?? null, lastDelivery: s && last ? last : null };
}

/** GET /api/v1/settings/notifications/webhook → { url | null, lastDelivery } (the secret is never returned). */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => json(await view(app)));

/**
 * PUT { url } → 200 { url, secret, lastDelivery: null }: box POSTs each newly opened
 * notification there, signed with a NEW secret (HMAC-SHA256, see apps/box/src/notifications/
 * deliver.ts) that this answer shows once; stored sealed with HEARTH_SECRET_KEY. The URL may
 * not point at loopback, link-local or metadata addresses unless private endpoints are allowed.
 */
export const PUT = route({ roles: ADMIN_ROLES, body: notificationWebhookRequest }, async ({ app, body, principal, ip }) => {
  await guardEndpoint(app, body.url, ["url"], { url: true });
  const secret = randomBytes(32).toString("base64url");
  await setSetting(app.db, NOTIFICATION_WEBHOOK_KEY, { url: body.url, secretEnc: sealSecret(secretKeyOf(app), secret) });
  await deleteSetting(app.db, NOTIFICATION_WEBHOOK_STATUS_KEY);
  await recordEvent(app.db, {
    action: "settings.notification_webhook",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: NOTIFICATION_WEBHOOK_KEY,
    // the host, never the secret (nor a path that might carry a token)
    data: { set: true, host: new URL(body.url).host },
  });
  return json({ url: body.url, secret, lastDelivery: null } satisfies NotificationWebhookView);
});

/** DELETE → 200 { url: null }: no more webhook posts. */
export const DELETE = route({ roles: ADMIN_ROLES }, async ({ app, principal, ip }) => {
  const removed = await deleteSetting(app.db, NOTIFICATION_WEBHOOK_KEY);
  await deleteSetting(app.db, NOTIFICATION_WEBHOOK_STATUS_KEY);
  if (removed) {
    await recordEvent(app.db, {
      action: "settings.notification_webhook",
      actorId: principal.user.id,
      actorName: principal.user.username,
      sourceIp: ip,
      target: NOTIFICATION_WEBHOOK_KEY,
      data: { set: false },
    });
  }
  return json({ url: null, lastDelivery: null } satisfies NotificationWebhookView);
});
