import { randomBytes } from "node:crypto";
import { z } from "zod";
import { appFqdn } from "@hearth/contracts";
import { installApp, recordEvent, sealSecret } from "@hearth/db";
import { route } from "../../../../lib/server/route";
import { json } from "../../../../lib/http";
import { parseJsonBody } from "../../../../lib/api";
import { ADMIN_ROLES, checkFirstAdminEnv, parseInstallBody, resolveManifest, wakeBox, withPlacementLock } from "../../../../lib/server/apps";
import { checkAppNames } from "../../../../lib/server/app-ops";
import { checkMemoryLimit } from "../../../../lib/server/memory";
import { secretKeyOf } from "../../../../lib/server/domains";
import { appsList, appsListEtag, ifNoneMatch } from "../../../../lib/server/apps-list";

export const dynamic = "force-dynamic";

/**
 * GET /api/v1/apps → { apps: AppView[] } with an ETag; with a matching If-None-Match → 304
 * and no body. Nothing is rebuilt while nothing changed (lib/server/apps-list.ts).
 */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app, req }) => {
  const etag = await appsListEtag(app);
  if (ifNoneMatch(req.headers.get("if-none-match"), etag)) return new Response(null, { status: 304, headers: { etag } });
  const list = await appsList(app, etag);
  return new Response(list.body, { status: 200, headers: { "content-type": "application/json; charset=utf-8", "content-length": String(list.body.byteLength), etag: list.etag } });
});

/**
 * POST /api/v1/apps {storeId, version?} | {manifest}, plus subdomain, domain, aliases?,
 * redirects?, overwriteDns?, memoryLimit?, env?, portBindings? → 202 {id, taskId}.
 * - aliases / redirects: [{subdomain, domain}] (at most 20 each): more names served like the
 *   primary one, or answering 301 to the primary URL (path kept). Each is placed like the
 *   primary name: 404 for an unknown domain (details[0].path names the entry, e.g.
 *   ["aliases", 0]), 409 when another app uses it or it is my.<dashboard domain>, 400 when a
 *   name is given twice; 409 too when its domain has a custom certificate that does not cover it.
 * - overwriteDns: with an API DNS provider, replace an existing record for one of the names
 *   that points elsewhere (without it the install task fails with dns_conflict).
 * 400 invalid (with zod issues) for a bad request or manifest, or for a memory limit (sent, or
 * the manifest's) above what this server can give (details[0].code memory_limit_too_high,
 * the maximum in MiB in the message; see GET /api/v1/server/limits), 404 for an unknown store
 * app/version or domain, 409 conflict when a name or a host port is taken. Nothing is created
 * on any error: App + AppPort + AppDomain + Task are one transaction.
 * A manifest with firstAdmin gets a generated password, sealed in the same transaction
 * (AppCredential): never in the response, revealed by GET /api/v1/apps/:id/credentials; an
 * env that sets one of firstAdmin's variables is 400 invalid (details[0].path ["env", NAME]).
 */
export const POST = route({ roles: ADMIN_ROLES }, async ({ app, req, principal, ip }) => {
  const body = parseInstallBody(await parseJsonBody(req, z.unknown()));
  const { manifest, storeId } = await resolveManifest(app, body);
  checkMemoryLimit(body.memoryLimit ?? manifest.memoryLimit);
  checkFirstAdminEnv(manifest, body.env);
  // the first admin account (manifest firstAdmin): a generated password, sealed; box passes it
  // to the container, the app page reveals it (GET /api/v1/apps/:id/credentials)
  const firstAdmin = manifest.firstAdmin ? { username: manifest.firstAdmin.username, passwordEnc: sealSecret(secretKeyOf(app), generatePassword()) } : undefined;
  const { app: row, task } = await withPlacementLock(app, async () => {
    await checkAppNames(app, body);
    return installApp(app.db, {
      manifest,
      storeId,
      subdomain: body.subdomain,
      domain: body.domain,
      aliases: body.aliases,
      redirects: body.redirects,
      overwriteDns: body.overwriteDns,
      memoryLimit: body.memoryLimit ?? manifest.memoryLimit,
      env: body.env ?? {},
      portBindings: body.portBindings,
      createdBy: principal.user.id,
      firstAdmin,
    });
  });
  await recordEvent(app.db, {
    action: "app.install",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: row.id,
    data: {
      appId: row.id,
      taskId: task.id,
      manifestId: manifest.id,
      version: manifest.version,
      storeId,
      subdomain: row.subdomain,
      domain: row.domain,
      aliases: (body.aliases ?? []).map((n) => appFqdn(n.subdomain, n.domain)),
      redirects: (body.redirects ?? []).map((n) => appFqdn(n.subdomain, n.domain)),
    },
  });
  await wakeBox(app);
  return json({ id: row.id, taskId: task.id }, 202);
});

/** 20 characters of [A-Za-z0-9] (about 119 bits), so any app takes it and it survives copy and paste. */
function generatePassword(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  while (out.length < 20) for (const b of randomBytes(32)) if (b < 248 && out.length < 20) out += alphabet[b % 62];
  return out;
}
