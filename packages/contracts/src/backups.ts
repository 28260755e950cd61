import { z } from "zod";

/**
 * Backups (issue 12, first slice). One restic repository per backup site; each app backup
 * is a snapshot tagged `hearth`, `app:<appId>`, `version:<version>`, `backup:<backupId>`.
 * The passphrase is the repository's password: admin seals it with HEARTH_SECRET_KEY, box
 * opens it and hands it to restic through the environment (never argv). A Backup row is
 * `good` only after box read the snapshot back from the site (listed, its size known).
 *
 * Only the `filesystem` site is implemented; `sftp` and `s3` parse (so a client learns the
 * shape) and are refused with `invalid` "not yet supported" by PUT /api/v1/backups/config.
 */
export const BACKUP_CONFIG_KEY = "default";
export const BACKUP_STATES = ["creating", "good", "failed"] as const;
export type BackupState = (typeof BACKUP_STATES)[number];
export const BACKUP_SITE_TYPES = ["filesystem", "sftp", "s3"] as const;
export type BackupSiteType = (typeof BACKUP_SITE_TYPES)[number];
/** Site types box can use today. */
export const SUPPORTED_BACKUP_SITES: readonly BackupSiteType[] = ["filesystem"];

/** An absolute folder path, no `..`, no control characters, no trailing slash needed. */
export const backupFolder = z
  .string()
  .trim()
  .min(2)
  .max(512)
  .regex(/^\/[A-Za-z0-9._+@=,/ -]*$/, "must be an absolute path like /mnt/backups/hearth (letters, digits, . _ - + @ = , and spaces)")
  .refine((p) => !p.split("/").includes(".."), "must not contain ..")
  .refine((p) => p.replace(/\/+$/, "") !== "", "must not be /")
  .transform((p) => p.replace(/\/+$/, ""));

export const filesystemSite = z.strictObject({ type: z.literal("filesystem"), path: backupFolder });
export const sftpSite = z.strictObject({
  type: z.literal("sftp"),
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65535).default(22),
  user: z.string().min(1).max(64),
  path: z.string().min(1).max(512),
  privateKey: z.string().max(16384).optional(),
  password: z.string().max(1024).optional(),
});
export const s3Site = z.strictObject({
  type: z.literal("s3"),
  endpoint: z.url().max(512),
  region: z.string().max(64).optional(),
  bucket: z.string().min(3).max(63),
  prefix: z.string().max(512).optional(),
  accessKeyId: z.string().min(1).max(256),
  secretAccessKey: z.string().min(1).max(1024).optional(),
});
export const backupSite = z.discriminatedUnion("type", [filesystemSite, sftpSite, s3Site]);
export type BackupSite = z.infer<typeof backupSite>;
export type FilesystemSite = z.infer<typeof filesystemSite>;

export const backupRetention = z.strictObject({
  daily: z.number().int().min(1).max(365).default(7),
  weekly: z.number().int().min(0).max(520).default(4),
  monthly: z.number().int().min(0).max(240).default(6),
});
export type BackupRetention = z.infer<typeof backupRetention>;

/** "HH:MM" (UTC) of the nightly backup; stored now, run by a later slice. */
export const backupSchedule = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time like 02:30");

/**
 * PUT /api/v1/backups/config. `passphrase`: required the first time and whenever the site
 * changes (a new repository); absent keeps the stored one. At least 12 characters.
 */
export const backupConfigRequest = z.strictObject({
  site: backupSite,
  passphrase: z.string().min(12, "at least 12 characters").max(1024).optional(),
  schedule: backupSchedule.default("02:30"),
  retention: backupRetention.default({ daily: 7, weekly: 4, monthly: 6 }),
});
export type BackupConfigRequest = z.infer<typeof backupConfigRequest>;

/** What GET /api/v1/backups/config returns: never the passphrase or a site secret. */
export interface BackupConfigView {
  site: FilesystemSite;
  hasPassphrase: boolean;
  schedule: string;
  retention: BackupRetention;
  updatedAt: string;
}

export interface BackupView {
  id: string;
  type: "app" | "platform";
  appId: string | null;
  appTitle: string | null;
  manifestId: string | null;
  version: string | null;
  state: BackupState;
  snapshotId: string | null;
  sizeBytes: number | null;
  fileCount: number | null;
  reason: string | null;
  taskId: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export const restoreBackupRequest = z.strictObject({ backupId: z.uuid() });

/** Task args: backup.app and backup.restore carry the app and the Backup row; backup.test nothing. */
export const backupTaskArgs = z.object({ appId: z.string().min(1).max(36), backupId: z.uuid() });
export type BackupTaskArgs = z.infer<typeof backupTaskArgs>;
export const backupTestTaskArgs = z.object({});

/** restic's snapshot tags of an app backup (restic tags may not contain commas). */
export function appSnapshotTags(o: { appId: string; version: string; backupId: string }): string[] {
  return ["hearth", `app:${o.appId}`, `version:${o.version.replace(/,/g, "_")}`, `backup:${o.backupId}`];
}
