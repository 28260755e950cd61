import { appstoreQuery } from "@hearth/contracts";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { catalogAppView, filterCatalog } from "../../../../lib/catalog";
import { ADMIN_ROLES, catalogOf } from "../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/appstore?search=&tag= → { apps, tags, problems } (tags: every tag in the
 * catalog, for the filter; problems: package folders whose manifest is invalid, each with
 * the version still served from its last good read or null when it is skipped).
 */
export const GET = route({ roles: ADMIN_ROLES, query: appstoreQuery }, async ({ app, query }) => {
  const catalog = await catalogOf(app);
  const tags = [...new Set(catalog.apps.flatMap((a) => a.packages[0]!.manifest.tags))].sort();
  return json({ apps: filterCatalog(catalog.apps, query).map((a) => catalogAppView(a)), tags, problems: catalog.problems });
});
