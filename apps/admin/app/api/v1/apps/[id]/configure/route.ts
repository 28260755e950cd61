import { configureAppRequest, HearthError, type HearthManifest } from "@hearth/contracts";
import { getApp } from "@hearth/db";
import { route } from "../../../../../../lib/server/route";
import { ADMIN_ROLES, checkFirstAdminEnv, withPlacementLock } from "../../../../../../lib/server/apps";
import { appIdOf, appOperation, checkAppNames } from "../../../../../../lib/server/app-ops";
import { checkMemoryLimit } from "../../../../../../lib/server/memory";

export const dynamic = "force-dynamic";

/**
 * POST /api/v1/apps/:id/configure {subdomain?, domain?, aliases?, redirects?, overwriteDns?,
 * memoryLimit?, env?, portBindings?} → 202 {taskId}. The new values are written to the App
 * row (env, portBindings, aliases and redirects each replace the old list when sent; [] clears
 * it) in the same transaction that sets pending_configure and queues app.configure, so box
 * recreates the container and vhosts from the rows alone. `{ overwriteDns: true }` alone is a
 * retry (after a dns_conflict): the app is deployed again as it is, taking over the records.
 * 400 invalid (details[0].path ["env", NAME]) when env newly sets or changes a variable of the
 * manifest's firstAdmin (Hearth sets it; one the app's stored env already holds with the same
 * value is let through). Same 400/404/409 checks as install (a memory limit above what the server can give: 400
 * invalid, detail code memory_limit_too_high).
 */
export const POST = route({ roles: ADMIN_ROLES, body: configureAppRequest }, async (ctx) =>
  withPlacementLock(ctx.app, async () => {
    checkMemoryLimit(ctx.body.memoryLimit);
    if (ctx.body.env) {
      const row = await getApp(ctx.app.db, appIdOf(ctx.params));
      if (!row) throw new HearthError("not_found", "No such app");
      checkFirstAdminEnv(row.manifest as Pick<HearthManifest, "firstAdmin">, ctx.body.env, (row.env ?? {}) as Record<string, string>);
    }
    await checkAppNames(ctx.app, ctx.body, appIdOf(ctx.params));
    return appOperation(ctx, "app.configure", ctx.body, { changed: Object.keys(ctx.body) });
  }),
);
