import { listBackups } from "@hearth/db";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { ADMIN_ROLES } from "../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/** GET /api/v1/backups → { backups } newest first (every app's). */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => {
  return json({ backups: await listBackups(app.db) });
});
