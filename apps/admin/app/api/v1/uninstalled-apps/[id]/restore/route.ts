import { queueAppRestore, recordEvent } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { json } from "../../../../../../lib/http";
import { ADMIN_ROLES, wakeBox, withPlacementLock } from "../../../../../../lib/server/apps";
import { idParam } from "../../../../../../lib/server/data-safety";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/uninstalled-apps/:id/restore → 202 {id, taskId}: the app comes back as it
 * was at uninstall (same manifest, config, names, ports, addon credentials and data) through
 * an `app.restore` task. 409 when its subdomain, an extra name or a host port has been taken
 * since, or its data is being deleted; 404 unknown (or its domain was removed).
 */
export const POST = route({ roles: ADMIN_ROLES }, async ({ app, params, principal, ip }) => {
  const id = idParam(params, "uninstalled app");
  const { task, snapshot } = await withPlacementLock(app, () => queueAppRestore(app.db, id, principal.user.id));
  await recordEvent(app.db, {
    action: "app.restore",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: id,
    data: { appId: id, taskId: task.id, manifestId: snapshot.app.manifestId, subdomain: snapshot.app.subdomain, domain: snapshot.app.domain },
  });
  await wakeBox(app);
  return json({ id, taskId: task.id }, 202);
});
