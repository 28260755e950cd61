import { updateAppRequest } from "@hearth/contracts";
import { route } from "../../../../../../lib/server/route";
import { ADMIN_ROLES } from "../../../../../../lib/server/apps";
import { queueAppUpdate } from "../../../../../../lib/server/app-update";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/apps/:id/update {manifest?, force?, overwriteDns?} → 202 {taskId}: to the given
 * manifest (same id) or the catalog's newest stable version above the installed one (the one
 * GET /apps offers as updateAvailable; pre-releases only through a manifest); pending_update. 400 another app's id or
 * a TCP port the new version drops; 409 a version that is not newer (unless force), a busy
 * app or one in error; 404 no such app / no catalog entry.
 */
export const POST = route({ roles: ADMIN_ROLES, body: updateAppRequest }, queueAppUpdate);
