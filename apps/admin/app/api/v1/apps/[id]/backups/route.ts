import { listBackups } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { json } from "../../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../../lib/server/apps";
import { appIdOf } from "../../../../../../lib/server/app-ops";

export const dynamic = "force-dynamic";

/** GET /api/v1/apps/:id/backups → { backups } of this app, newest first (kept after an uninstall). */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app, params }) => {
  return json({ backups: await listBackups(app.db, { appId: appIdOf(params) }) });
});
