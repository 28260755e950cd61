import { addDomainRequest } from "@hearth/contracts";
import { addDomain, recordEvent } from "@hearth/db";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { domainViewOf } from "../../../../lib/views";
import { ADMIN_ROLES, wakeBox, withPlacementLock } from "../../../../lib/server/apps";
import { listDomainViews, prepareDomain } from "../../../../lib/server/domains";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/domains → { domains: DomainView[] } (owner and admins), the dashboard's first.
 * A DomainView: { domain, provider, providerConfig (settings WITHOUT secret fields, null for
 * manual/wildcard/noop), tlsMode, hasCustomCertificate, isDashboardDomain, taskId (the
 * pending/running domain.sync task that applies the last change, else null), createdAt }.
 */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => {
  return json({ domains: await listDomainViews(app) });
});

/**
 * POST /api/v1/domains { domain, provider, providerConfig?, tlsMode? = "letsencrypt",
 * customCertificate?, customKey? } → 201 { ...DomainView, taskId }.
 *
 * - provider manual | wildcard | noop take no providerConfig; rfc2136 | powerdns | cloudflare
 *   | route53 need theirs (contracts/domains.ts): 400 invalid with details [{ path:
 *   ["providerConfig", field], message }] for each bad or missing field.
 * - tlsMode letsencrypt-wildcard only with those four (400, path ["tlsMode"]).
 * - tlsMode custom needs customCertificate (PEM chain, leaf first) and customKey (PEM,
 *   unencrypted); the pair must match, be valid now, chain correctly and cover `*.<domain>`
 *   (and `<domain>` while an app is served there): else 400 with path ["customCertificate"] or
 *   ["customKey"] and a message saying what is wrong.
 * - 409 conflict when the domain exists; nothing is stored on any error.
 * The settings and the key are sealed with HEARTH_SECRET_KEY (a server without it answers
 * 409 bad_state when there is something to seal). The first domain also serves the dashboard
 * at my.<domain>. Queues a domain.sync task (box makes records and certificates) and wakes box.
 */
export const POST = route({ roles: ADMIN_ROLES, body: addDomainRequest }, async ({ app, body, principal, ip }) => {
  const { domain, task, providerConfig, eventData } = await withPlacementLock(app, async () => {
    const prepared = await prepareDomain(app, body.domain, body, null);
    const r = await addDomain(app.db, { domain: body.domain, provider: body.provider, tlsMode: body.tlsMode, ...prepared.record }, principal.user.id);
    return { ...r, providerConfig: prepared.providerConfig, eventData: prepared.eventData };
  });
  await recordEvent(app.db, {
    action: "domain.add",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: domain.domain,
    data: { ...eventData, isDashboardDomain: domain.isDashboardDomain, taskId: task.id } as never,
  });
  await wakeBox(app);
  return json(domainViewOf(domain, { providerConfig, taskId: task.id }), 201);
});
