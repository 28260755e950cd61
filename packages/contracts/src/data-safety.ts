import { z } from "zod";

/**
 * Data is deleted only by an admin: orphans (data of this store that belongs to no app)
 * and uninstalled apps whose data is kept until a purge. Both are removed only by a typed
 * confirmation (the orphan's name, the app's address) or, for uninstalled apps, when the
 * retention (Setting `apps.uninstallRetentionDays`, default 7) has passed.
 */
export const ORPHAN_KIND_VALUES = ["volume", "mysql", "postgresql", "redis"] as const;

export const orphanView = z.object({
  id: z.string(),
  kind: z.enum(ORPHAN_KIND_VALUES),
  name: z.string(),
  appId: z.string(),
  state: z.enum(["found", "deleting"]),
  taskId: z.string().nullable(),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
});
export type OrphanView = z.infer<typeof orphanView>;

/** DELETE /api/v1/orphans/:id: the orphan's name, typed. */
export const deleteOrphanRequest = z.strictObject({ confirm: z.string().min(1).max(255) });
export type DeleteOrphanRequest = z.infer<typeof deleteOrphanRequest>;

export const orphanDeleteTaskArgs = z.strictObject({ orphanId: z.string().min(1).max(36) });

export const uninstalledAppView = z.object({
  id: z.string(),
  manifestId: z.string(),
  title: z.string(),
  version: z.string(),
  subdomain: z.string(),
  domain: z.string(),
  fqdn: z.string(),
  state: z.enum(["kept", "purging"]),
  uninstalledAt: z.string(),
  purgeAfter: z.string(),
});
export type UninstalledAppView = z.infer<typeof uninstalledAppView>;

/** DELETE /api/v1/uninstalled-apps/:id: delete now, with the app's address (fqdn) typed. */
export const purgeAppRequest = z.strictObject({ confirm: z.string().min(1).max(253) });
export type PurgeAppRequest = z.infer<typeof purgeAppRequest>;

/** PUT /api/v1/settings/apps: how long an uninstalled app's data is kept (0 = purged at the next daily run). */
export const appSettings = z.strictObject({ uninstallRetentionDays: z.number().int().min(0).max(3650) });
export type AppSettings = z.infer<typeof appSettings>;
