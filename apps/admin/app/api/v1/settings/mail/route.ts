import { MAIL_SETTINGS_KEY, mailOutboundRequest, mailOutboundViewOf, nextMailOutbound } from "@hearth/contracts";
import { parseCertificateChain } from "@hearth/contracts/x509";
import { recordEvent, sealSecret, setSetting } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../lib/server/apps";
import { secretKeyOf } from "../../../../../lib/server/domains";
import { readMailOutbound } from "../../../../../lib/server/mail";
import { guardEndpoint } from "../../../../../lib/server/endpoint-guard";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/settings/mail (owner and admins) → the sendmail relay's outbound path:
 * { mode: "direct", heloName } (the default, heloName null = the host name) or
 * { mode: "smarthost", host, port, security, username, hasPassword, caCertificate }.
 * The password is never returned.
 */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => {
  return json(mailOutboundViewOf(await readMailOutbound(app.db)));
});

/**
 * PUT /api/v1/settings/mail (see contracts mail.ts for the fields) → 200 with the GET shape.
 * password: absent keeps the stored one, null removes it; stored sealed with
 * HEARTH_SECRET_KEY. caCertificate must parse (400 with path ["caCertificate"]). box uses the
 * new setting from the next message on (it reads the row per message).
 */
export const PUT = route({ roles: ADMIN_ROLES, body: mailOutboundRequest }, async ({ app, body, principal, ip }) => {
  const req =
    body.mode === "smarthost" && body.caCertificate
      ? {
          ...body,
          caCertificate:
            parseCertificateChain(body.caCertificate, "caCertificate")
              .map((c) => c.toString().trim())
              .join("\n") + "\n",
        }
      : body;
  if (body.mode === "smarthost") await guardEndpoint(app, body.host, ["host"]);
  const before = await readMailOutbound(app.db);
  const next = nextMailOutbound(req, before, (password) => sealSecret(secretKeyOf(app), password));
  await setSetting(app.db, MAIL_SETTINGS_KEY, next);
  const view = mailOutboundViewOf(next);
  // what happened to the password, never the password
  const passwordChange = body.mode === "smarthost" ? (body.password === null ? "removed" : body.password !== undefined ? "set" : "kept") : null;
  await recordEvent(app.db, {
    action: "settings.mail",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: MAIL_SETTINGS_KEY,
    data: view.mode === "smarthost" ? { ...view, caCertificate: view.caCertificate !== null, password: passwordChange } : { ...view },
  });
  return json(view);
});
