import { z } from "zod";
import { installApp, listApps, recordEvent } from "@hearth/db";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { parseJsonBody } from "../../../../lib/api";
import { ADMIN_ROLES, appViewsOf, parseInstallBody, resolveManifest, wakeBox, withPlacementLock } from "../../../../lib/server/apps";

export const dynamic = "force-dynamic";

/** GET /api/v1/apps → { apps: AppView[] } */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => {
  return json({ apps: await appViewsOf(app, await listApps(app.db)) });
});

/**
 * POST /api/v1/apps {storeId, version?} | {manifest}, plus subdomain, domain, memoryLimit?,
 * env?, portBindings? → 202 {id, taskId}. 400 invalid (with zod issues) for a bad request or
 * manifest, 404 for an unknown store app/version or domain, 409 conflict when the location or
 * a host port is taken. Nothing is created on any error: App + AppPort + Task are one transaction.
 */
export const POST = route({ roles: ADMIN_ROLES }, async ({ app, req, principal, ip }) => {
  const body = parseInstallBody(await parseJsonBody(req, z.unknown()));
  const { manifest, storeId } = await resolveManifest(app, body);
  const { app: row, task } = await withPlacementLock(app, () =>
    installApp(app.db, {
      manifest,
      storeId,
      subdomain: body.subdomain,
      domain: body.domain,
      memoryLimit: body.memoryLimit ?? manifest.memoryLimit,
      env: body.env ?? {},
      portBindings: body.portBindings,
      createdBy: principal.user.id,
    }),
  );
  await recordEvent(app.db, {
    action: "app.install",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: row.id,
    data: { appId: row.id, taskId: task.id, manifestId: manifest.id, version: manifest.version, storeId, subdomain: row.subdomain, domain: row.domain },
  });
  await wakeBox(app);
  return json({ id: row.id, taskId: task.id }, 202);
});
