import { fileRenameBody } from "@hearth/contracts";
import { json } from "../../../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../../../lib/server/apps";
import { fileChange } from "../../../../../../../lib/server/app-files";
import { route } from "../../../../../../../lib/server/route";

export const dynamic = "force-dynamic";

/** POST /api/v1/apps/:id/files/rename {from, to}: renames or moves within /app/data (409 when `to` exists); event app.files_rename. */
export const POST = route({ roles: ADMIN_ROLES, body: fileRenameBody }, async (ctx) =>
  json(await fileChange(ctx, "rename", "POST", ctx.body, "app.files_rename", { path: ctx.body.from, to: ctx.body.to })),
);
