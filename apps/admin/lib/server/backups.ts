import { HearthError, SUPPORTED_BACKUP_SITES, type BackupConfigRequest, type BackupConfigView, type BackupRetention, type FilesystemSite } from "@hearth/contracts";
import type { BackupConfig } from "@hearth/db";

/** The stored config as the API shows it: never the passphrase or a site secret. */
export function backupConfigViewOf(c: BackupConfig): BackupConfigView {
  return {
    site: c.site as unknown as FilesystemSite,
    hasPassphrase: !!c.passphraseEnc,
    schedule: c.schedule,
    retention: c.retention as unknown as BackupRetention,
    updatedAt: c.updatedAt.toISOString(),
  };
}

/** SFTP and S3 parse but are refused until box implements them. */
export function supportedSite(body: BackupConfigRequest): FilesystemSite {
  if (!SUPPORTED_BACKUP_SITES.includes(body.site.type) || body.site.type !== "filesystem") {
    throw new HearthError("invalid", `${body.site.type === "s3" ? "S3" : "SFTP"} backup sites are not supported yet; use a filesystem site (a mounted disk)`, {
      details: [{ path: ["site", "type"], code: "custom", message: "not supported yet" }],
    });
  }
  return body.site;
}
