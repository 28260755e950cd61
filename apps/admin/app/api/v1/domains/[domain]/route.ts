import { HearthError, updateDomainRequest } from "@hearth/contracts";
import { getDomain, recordEvent, removeDomain, updateDomain } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json, noContent } from "../../../../../lib/http";
import { domainViewOf } from "../../../../../lib/views";
import { ADMIN_ROLES, wakeBox, withPlacementLock } from "../../../../../lib/server/apps";
import { domainParam, domainViewByName, prepareDomain } from "../../../../../lib/server/domains";

export const dynamic = "force-dynamic";

/** GET /api/v1/domains/:domain → DomainView (see GET /api/v1/domains); 404 when unknown. */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app, params }) => {
  return json(await domainViewByName(app, domainParam(params)));
});

/**
 * PATCH /api/v1/domains/:domain { provider?, providerConfig?, tlsMode?, customCertificate?,
 * customKey? } → 200 { ...DomainView, taskId }; 404 when unknown; 400 as for POST.
 * - providerConfig replaces the settings; secret fields (rfc2136 tsigSecret, powerdns apiKey,
 *   cloudflare apiToken, route53 secretAccessKey) left out or "" keep the stored ones, so a
 *   form never shows a secret. Changing provider needs its full settings.
 * - tlsMode custom: a domain already custom may send only a new customCertificate (same key)
 *   or only a new customKey; switching to custom needs both. Switching away forgets them.
 * Queues a domain.sync task and wakes box.
 */
export const PATCH = route({ roles: ADMIN_ROLES, body: updateDomainRequest }, async ({ app, params, body, principal, ip }) => {
  const name = domainParam(params);
  const { domain, task, providerConfig, eventData } = await withPlacementLock(app, async () => {
    const current = await getDomain(app.db, name);
    if (!current) throw new HearthError("not_found", `No domain ${name}`);
    const prepared = await prepareDomain(app, name, body, current);
    const r = await updateDomain(app.db, name, prepared.record, principal.user.id);
    return { ...r, providerConfig: prepared.providerConfig, eventData: prepared.eventData };
  });
  await recordEvent(app.db, {
    action: "domain.update",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: domain.domain,
    data: { ...eventData, taskId: task.id } as never,
  });
  await wakeBox(app);
  return json(domainViewOf(domain, { providerConfig, taskId: task.id }));
});

/**
 * DELETE /api/v1/domains/:domain → 204; 409 conflict while apps use it (as primary domain,
 * alias or redirect; details.apps lists them); 404 when unknown. Its certificates go with it;
 * when it served the dashboard, the oldest remaining domain takes over (and is synced).
 */
export const DELETE = route({ roles: ADMIN_ROLES }, async ({ app, params, principal, ip }) => {
  const name = domainParam(params);
  const d = await withPlacementLock(app, () => removeDomain(app.db, name));
  await recordEvent(app.db, { action: "domain.remove", actorId: principal.user.id, actorName: principal.user.username, sourceIp: ip, target: d.domain, data: { provider: d.provider } });
  await wakeBox(app);
  return noContent();
});
