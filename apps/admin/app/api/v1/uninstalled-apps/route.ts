import { listUninstalledApps } from "@hearth/db";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { ADMIN_ROLES } from "../../../../lib/server/apps";
import { uninstalledAppViewOf } from "../../../../lib/server/data-safety";

export const dynamic = "force-dynamic";

/** GET /api/v1/uninstalled-apps → { apps: UninstalledAppView[] }: uninstalled apps whose data is kept until purgeAfter. */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => {
  return json({ apps: (await listUninstalledApps(app.db)).map(uninstalledAppViewOf) });
});
