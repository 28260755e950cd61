import { deleteAppCredential, getApp, getAppCredential, openSecret, recordEvent } from "@hearth/db";
import { HearthError, type AppCredentialsView } from "@hearth/contracts";
import { route } from "../../../../../../lib/server/route";
import { json, noContent } from "../../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../../lib/server/apps";
import { appIdOf } from "../../../../../../lib/server/app-ops";
import { secretKeyOf } from "../../../../../../lib/server/domains";

export const dynamic = "force-dynamic";

const NO_STORE = { "cache-control": "no-store" };

/**
 * GET /api/v1/apps/:id/credentials → {username, password}: the app's first admin account
 * (manifest firstAdmin) as Hearth generated it; Cache-Control no-store; records
 * app.credentials_reveal. Owner/admin only; a read-scope API token is refused (403). 404 for an unknown app, or when there is none (the manifest has no
 * firstAdmin, or the admin marked it as changed).
 */
export const GET = route({ roles: ADMIN_ROLES, revealsSecret: true }, async ({ app, params, principal, ip }) => {
  const id = appIdOf(params);
  const row = await getAppCredential(app.db, id);
  if (!row) throw new HearthError("not_found", (await getApp(app.db, id)) ? "This app has no first admin password kept by Hearth (none, or it was marked as changed)" : "No such app");
  let password: string;
  try {
    password = openSecret(secretKeyOf(app), row.passwordEnc);
  } catch (e) {
    if (e instanceof HearthError) throw e;
    throw new HearthError("bad_state", "The app's first admin password cannot be decrypted with this server's HEARTH_SECRET_KEY");
  }
  await recordEvent(app.db, {
    action: "app.credentials_reveal",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: id,
    data: { appId: id, username: row.username },
  });
  const body: AppCredentialsView = { username: row.username, password };
  return json(body, 200, NO_STORE);
});

/**
 * DELETE /api/v1/apps/:id/credentials → 204: the admin changed the password in the app, so
 * Hearth deletes its copy (no longer shown, no longer passed to the container); records
 * app.credentials_changed. 404 when there is none.
 */
export const DELETE = route({ roles: ADMIN_ROLES }, async ({ app, params, principal, ip }) => {
  const id = appIdOf(params);
  if (!(await deleteAppCredential(app.db, id))) throw new HearthError("not_found", (await getApp(app.db, id)) ? "This app has no first admin password kept by Hearth" : "No such app");
  await recordEvent(app.db, { action: "app.credentials_changed", actorId: principal.user.id, actorName: principal.user.username, sourceIp: ip, target: id, data: { appId: id } });
  return noContent(NO_STORE);
});
