import { API_DNS_PROVIDERS, NETWORK_SETTINGS_KEY, networkSettings } from "@hearth/contracts";
import { createTask, domainNamesWithProvider, recordEvent, setSetting } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { ADMIN_ROLES, wakeBox } from "../../../../../lib/server/apps";
import { detectAddresses, readNetworkSettings } from "../../../../../lib/server/public-ip";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/settings/network → { ipv4, ipv6, detected: { ipv4, ipv6 } } (owner and
 * admins). ipv4/ipv6: the addresses the admin set (null = not set). detected: what the
 * machine's interfaces say (first global address, else the default route's source, which may
 * be private behind NAT). When neither ipv4 nor ipv6 is set, records point at `detected`;
 * when one is set, exactly the set ones are used (so setting only ipv4 means no AAAA records).
 */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => {
  const [stored, detected] = await Promise.all([readNetworkSettings(app.db), detectAddresses()]);
  return json({ ...stored, detected });
});

/**
 * PUT /api/v1/settings/network { ipv4: string | null, ipv6: string | null } → 200 with the
 * GET shape plus taskIds. 400 for an address that is not one. When the values change, a
 * domain.sync task is queued for every domain with an API DNS provider (its records are
 * re-pointed; taskIds lists them); manual domains: see GET /domains/:domain/records.
 */
export const PUT = route({ roles: ADMIN_ROLES, body: networkSettings }, async ({ app, body, principal, ip }) => {
  const before = await readNetworkSettings(app.db);
  const changed = before.ipv4 !== body.ipv4 || before.ipv6 !== body.ipv6;
  const taskIds = await app.db.$transaction(async (tx) => {
    await setSetting(tx, NETWORK_SETTINGS_KEY, body);
    if (!changed) return [];
    const domains = await domainNamesWithProvider(tx, API_DNS_PROVIDERS);
    const ids: string[] = [];
    for (const d of domains) ids.push((await createTask(tx, { type: "domain.sync", args: { domain: d }, createdBy: principal.user.id })).id);
    return ids;
  });
  await recordEvent(app.db, { action: "settings.network", actorId: principal.user.id, actorName: principal.user.username, sourceIp: ip, target: NETWORK_SETTINGS_KEY, data: { ...body, taskIds } });
  if (taskIds.length > 0) await wakeBox(app);
  return json({ ...body, detected: await detectAddresses(), taskIds });
});
