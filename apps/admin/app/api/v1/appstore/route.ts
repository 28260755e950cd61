import { appstoreQuery } from "@hearth/contracts";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { catalogAppView, filterCatalog, readCatalog } from "../../../../lib/catalog";
import { ADMIN_ROLES } from "../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/** GET /api/v1/appstore?search=&tag= → { apps, tags } (tags: every tag in the catalog, for the filter). */
export const GET = route({ roles: ADMIN_ROLES, query: appstoreQuery }, async ({ app, query }) => {
  const all = await readCatalog(app.config.catalogDirs, (msg, data) => app.logger.warn(data, msg));
  const tags = [...new Set(all.flatMap((a) => a.packages[0]!.manifest.tags))].sort();
  return json({ apps: filterCatalog(all, query).map((a) => catalogAppView(a)), tags });
});
