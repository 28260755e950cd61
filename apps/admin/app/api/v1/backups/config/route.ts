import { HearthError, backupConfigRequest } from "@hearth/contracts";
import { getBackupConfig, openSecret, putBackupConfig, recordEvent, sealSecret } from "@hearth/db";
import { route } from "../../../../../lib/server/route";
import { json } from "../../../../../lib/http";
import { ADMIN_ROLES } from "../../../../../lib/server/apps";
import { backupConfigViewOf, supportedSite } from "../../../../../lib/server/backups";

export const dynamic = "force-dynamic";

/** GET /api/v1/backups/config → BackupConfigView, or { configured: false } (never the passphrase). */
export const GET = route({ roles: ADMIN_ROLES }, async ({ app }) => {
  const c = await getBackupConfig(app.db);
  return json(c ? { configured: true, ...backupConfigViewOf(c) } : { configured: false });
});

/**
 * PUT /api/v1/backups/config { site, passphrase?, schedule, retention } → BackupConfigView.
 * The passphrase is sealed with HEARTH_SECRET_KEY; it is required the first time and when the
 * site changes; for the same site a different passphrase is refused (400 at `passphrase`: the
 * repository stays encrypted with the old one; rotation is not supported yet). Only `filesystem` sites work yet (sftp/s3: 400 invalid "not supported yet").
 */
export const PUT = route({ roles: ADMIN_ROLES, body: backupConfigRequest }, async ({ app, body, principal, ip }) => {
  const site = supportedSite(body);
  const key = app.config.secretKey;
  if (!key) throw new HearthError("bad_state", "HEARTH_SECRET_KEY is not configured on this server; run setup again");
  const { config, siteChanged } = await putBackupConfig(app.db, {
    site,
    passphraseEnc: body.passphrase === undefined ? null : sealSecret(key, body.passphrase),
    // the same site keeps its repository's passphrase: a different one is refused (rotation is not supported yet)
    sameAsStored: (storedEnc) => {
      try {
        return openSecret(key, storedEnc) === body.passphrase;
      } catch {
        return null;
      }
    },
    schedule: body.schedule,
    retention: body.retention,
  });
  await recordEvent(app.db, {
    action: "backup.config",
    actorId: principal.user.id,
    actorName: principal.user.username,
    sourceIp: ip,
    target: "backups",
    targetType: "setting",
    data: { site: site.type, path: site.path, siteChanged, passphraseChanged: body.passphrase !== undefined, schedule: body.schedule, retention: body.retention },
  });
  return json({ configured: true, ...backupConfigViewOf(config) });
});
