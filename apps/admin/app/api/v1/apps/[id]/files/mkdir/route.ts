import { filePathBody } from "@hearth/contracts";
import { json } from "../../../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../../../lib/server/apps";
import { fileChange } from "../../../../../../../lib/server/app-files";
import { route } from "../../../../../../../lib/server/route";

export const dynamic = "force-dynamic";

/** POST /api/v1/apps/:id/files/mkdir {path}: makes a folder (409 when it exists); event app.files_mkdir. */
export const POST = route({ roles: ADMIN_ROLES, body: filePathBody }, async (ctx) => json(await fileChange(ctx, "mkdir", "POST", ctx.body, "app.files_mkdir", { path: ctx.body.path })));
