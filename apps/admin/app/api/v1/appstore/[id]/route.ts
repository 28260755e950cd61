import { HearthError, appstoreGetQuery } from "@hearth/contracts";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { catalogAppView, packageOf } from "../../../../../lib/catalog";
import { ADMIN_ROLES, findCatalogEntry } from "../../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/** GET /api/v1/appstore/:id?version= → the catalog app (its newest version unless asked). */
export const GET = route({ roles: ADMIN_ROLES, query: appstoreGetQuery }, async ({ app, params, query }) => {
  const entry = await findCatalogEntry(app, params.id ?? "");
  if (!entry) throw new HearthError("not_found", "No such app in the catalog");
  const pkg = packageOf(entry, query.version);
  if (!pkg) throw new HearthError("not_found", `No version ${query.version} of ${entry.id}`, { details: { versions: entry.packages.map((p) => p.manifest.version) } });
  return json(catalogAppView(entry, pkg));
});
