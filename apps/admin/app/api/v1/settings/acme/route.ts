import { ACME_SETTINGS_KEY, acmeSettings } from "@hearth/contracts";
import { parseCertificateChain } from "@hearth/contracts/x509";
import { recordEvent, setSetting } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../lib/server/apps";
import { readAcmeSettings } from "../../../../../lib/server/settings";
import { guardEndpoint } from "../../../../../lib/server/endpoint-guard";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/settings/acme → { directoryUrl, email, caCertificate } (owner and admins): the
 * ACME CA certificates come from. Until set: Let's Encrypt production, email null,
 * caCertificate null.
 */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => {
  return json(await readAcmeSettings(app.db));
});

/**
 * PUT /api/v1/settings/acme { directoryUrl? = Let's Encrypt production, email, caCertificate?
 * } → 200 with the stored settings. directoryUrl: any ACME directory (Let's Encrypt staging,
 * ZeroSSL, a private step-ca, a test CA); caCertificate: PEM of the CA that signs the
 * directory's own HTTPS certificate, for a private CA (must parse, else 400 with path
 * ["caCertificate"]). Used by the next certificate order or renewal.
 */
export const PUT = route({ roles: ADMIN_ROLES, body: acmeSettings }, async ({ app, body, principal, ip }) => {
  await guardEndpoint(app, body.directoryUrl, ["directoryUrl"], { url: true });
  const caCertificate = body.caCertificate
    ? parseCertificateChain(body.caCertificate, "caCertificate")
        .map((c) => c.toString().trim())
        .join("\n") + "\n"
    : null;
  const value = { directoryUrl: body.directoryUrl, email: body.email, caCertificate };
  await setSetting(app.db, ACME_SETTINGS_KEY, value);
  await recordEvent(app.db, {
    action: "settings.acme",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: ACME_SETTINGS_KEY,
    data: { directoryUrl: value.directoryUrl, email: value.email, caCertificate: caCertificate !== null },
  });
  return json(value);
});
