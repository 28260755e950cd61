import { configureAppRequest } from "@hearth/contracts";
import { route } from "../../../../../../lib/server/route";
import { ADMIN_ROLES, withPlacementLock } from "../../../../../../lib/server/apps";
import { appOperation } from "../../../../../../lib/server/app-ops";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/apps/:id/configure {subdomain?, domain?, memoryLimit?, env?, portBindings?}
 * → 202 {taskId}. The new values are written to the App row (env and portBindings replace the
 * old ones) in the same transaction that sets pending_configure and queues app.configure, so box
 * recreates the container from the row alone. Same 404/409 checks as install.
 */
export const POST = route({ roles: ADMIN_ROLES, body: configureAppRequest }, async (ctx) =>
  withPlacementLock(ctx.app, () => appOperation(ctx, "app.configure", ctx.body, { changed: Object.keys(ctx.body) })),
);
