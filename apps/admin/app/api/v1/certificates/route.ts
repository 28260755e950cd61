import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { ADMIN_ROLES } from "../../../../lib/server/apps";
import { certificateViews } from "../../../../lib/server/certificates";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/certificates → { certificates: CertificateView[] } (owner and admins), by domain.
 * A CertificateView: { id, names, domain, kind: acme | custom | fallback, challenge (http-01 |
 * dns-01 | null), issuer, serial, notBefore, notAfter, status, issuedAt, lastAttemptAt,
 * lastError, nextAttemptAt } (times ISO or null). status: valid; expiring (30 days or less
 * left: renewal is due); expired; pending (never issued yet); failed (never issued, last try
 * failed: see lastError).
 */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => {
  return json({ certificates: await certificateViews(app) });
});
