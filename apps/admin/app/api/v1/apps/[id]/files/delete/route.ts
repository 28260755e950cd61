import { filePathBody } from "@hearth/contracts";
import { json } from "../../../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../../../lib/server/apps";
import { fileChange } from "../../../../../../../lib/server/app-files";
import { route } from "../../../../../../../lib/server/route";

export const dynamic = "force-dynamic";

/** POST /api/v1/apps/:id/files/delete {path}: deletes a file, a link (never its target) or a folder with all in it; event app.files_delete. */
export const POST = route({ roles: ADMIN_ROLES, body: filePathBody }, async (ctx) => json(await fileChange(ctx, "delete", "POST", ctx.body, "app.files_delete", { path: ctx.body.path })));
