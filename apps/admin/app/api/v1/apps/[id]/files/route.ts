import { fileListQuery } from "@hearth/contracts";
import { boxFiles } from "../../../../../../lib/box-client";
import { json } from "../../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../../lib/server/apps";
import { jsonOf, knownApp } from "../../../../../../lib/server/app-files";
import { route } from "../../../../../../lib/server/route";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/apps/:id/files?path=<dir>&offset=&limit=: one page of a folder of the app's
 * /app/data (folders first, then by name; size, mtime in ms, a link's target), from box.
 */
export const GET = route({ roles: ADMIN_ROLES, query: fileListQuery }, async ({ app, params, query }) => {
  const id = await knownApp(app, params);
  const q: Record<string, string> = { path: query.path ?? "" };
  if (query.offset !== undefined) q.offset = String(query.offset);
  if (query.limit !== undefined) q.limit = String(query.limit);
  return json(await jsonOf(await boxFiles(app.config.boxSocket, id, "list", { method: "GET", query: q })));
});
