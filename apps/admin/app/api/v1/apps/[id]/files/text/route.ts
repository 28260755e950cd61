import { FILE_TEXT_BODY_MAX_BYTES, filePathQuery, fileTextBody } from "@hearth/contracts";
import { boxFiles } from "../../../../../../../lib/box-client";
import { json } from "../../../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../../../lib/server/apps";
import { fileChange, jsonOf, knownApp } from "../../../../../../../lib/server/app-files";
import { route } from "../../../../../../../lib/server/route";

export const dynamic = "force-dynamic";

/** GET /api/v1/apps/:id/files/text?path=<file>: a text file (UTF-8, no NUL, ≤ 1 MiB) as {path, content, size}. */
export const GET = route({ roles: ADMIN_ROLES, query: filePathQuery }, async ({ app, params, query }) => {
  const id = await knownApp(app, params);
  return json(await jsonOf(await boxFiles(app.config.boxSocket, id, "text", { method: "GET", query: { path: query.path } })));
});

/** PUT /api/v1/apps/:id/files/text {path, content, overwrite?}: saves a text file (≤ 1 MiB); event app.files_write. */
export const PUT = route({ roles: ADMIN_ROLES, body: fileTextBody, bodyLimit: FILE_TEXT_BODY_MAX_BYTES }, async (ctx) =>
  json(await fileChange(ctx, "text", "PUT", ctx.body, "app.files_write", { path: ctx.body.path })),
);
