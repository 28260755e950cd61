import { HearthError, addRegistryRequest } from "@hearth/contracts";
import { addRegistry, listRegistries, recordEvent, sealSecret } from "@hearth/db";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { registryViewOf } from "../../../../lib/views";
import { ADMIN_ROLES } from "../../../../lib/server/apps";
import { guardEndpoint } from "../../../../lib/server/endpoint-guard";

export const dynamic = "force-dynamic";

/** GET /api/v1/registries → { registries } (never a password). */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => {
  return json({ registries: (await listRegistries(app.db)).map(registryViewOf) });
});

/** POST /api/v1/registries {server, username, password} → 201; the password is sealed with HEARTH_SECRET_KEY. */
export const POST = route({ roles: ADMIN_ROLES, body: addRegistryRequest }, async ({ app, body, principal, ip }) => {
  const key = app.config.secretKey;
  if (!key) throw new HearthError("bad_state", "HEARTH_SECRET_KEY is not configured on this server; run setup again");
  const server = body.server.toLowerCase();
  // "host" or "host:port" (the schema allows nothing else)
  await guardEndpoint(app, server.replace(/:\d+$/, ""), ["server"]);
  const r = await addRegistry(app.db, { server, username: body.username, passwordEnc: sealSecret(key, body.password) });
  await recordEvent(app.db, { action: "registry.add", actorId: principal.user.id, actorName: principal.user.username, sourceIp: ip, target: server, data: { registryId: r.id, username: r.username } });
  return json(registryViewOf(r), 201);
});
