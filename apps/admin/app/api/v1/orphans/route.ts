import { listOrphans } from "@hearth/db";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { ADMIN_ROLES } from "../../../../lib/server/apps";
import { orphanViewOf } from "../../../../lib/server/data-safety";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/orphans → { orphans: OrphanView[] }: data of this store (volumes, addon
 * databases, Redis data) that belongs to no installed or uninstalled app, as box's
 * reconciler found it. box never deletes it on its own.
 */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => {
  return json({ orphans: (await listOrphans(app.db)).map(orphanViewOf) });
});
