import { autoUpdateRequest, HearthError } from "@hearth/contracts";
import { getApp, recordEvent, setAppAutoUpdate } from "@hearth/db";
import { json } from "../../../../../../lib/http";
import { route } from "../../../../../../lib/server/route";
import { ADMIN_ROLES } from "../../../../../../lib/server/apps";
import { appIdOf } from "../../../../../../lib/server/app-ops";
import { forgetAppsListEtag } from "../../../../../../lib/server/apps-list";
import { nudgeLive } from "../../../../../../lib/server/live";

export const dynamic = "force-dynamic";

/**
 * PUT /api/v1/apps/:id/auto-update {autoUpdate} → 200 {autoUpdate}: box's nightly window
 * installs newer patch versions (same major.minor, no pre-releases) of the catalog for this
 * app, with the usual backup-first update. Only the setting is written (no task); event
 * app.autoupdate. 404 no such app; 400 a body that is not {autoUpdate: boolean}, or an app
 * installed from a custom manifest (no store id: the nightly job has no catalog for it).
 */
export const PUT = route({ roles: ADMIN_ROLES, body: autoUpdateRequest }, async ({ app, params, principal, ip, body }) => {
  const id = appIdOf(params);
  const current = await getApp(app.db, id);
  if (!current) throw new HearthError("not_found", "No such app");
  if (!current.storeId) {
    throw new HearthError("invalid", "This app was installed from a custom manifest: automatic updates come from the catalog, so there are none for it", {
      details: [{ path: ["autoUpdate"], code: "custom", message: "not a catalog app" }],
    });
  }
  const row = await setAppAutoUpdate(app.db, id, body.autoUpdate);
  if (!row) throw new HearthError("not_found", "No such app");
  await recordEvent(app.db, {
    action: "app.autoupdate",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: id,
    data: { appId: id, autoUpdate: body.autoUpdate },
  });
  forgetAppsListEtag();
  nudgeLive();
  return json({ autoUpdate: row.autoUpdate });
});
