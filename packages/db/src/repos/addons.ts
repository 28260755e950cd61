import type { AppAddon, Db, Prisma } from "../client";

/** AppAddon rows: one per addon an app has, with its credentials sealed (box seals and opens them). */
type Client = Db | Prisma.TransactionClient;

export async function listAppAddons(db: Client, appId: string): Promise<AppAddon[]> {
  return db.appAddon.findMany({ where: { appId }, orderBy: { name: "asc" } });
}

export async function getAppAddon(db: Client, appId: string, name: string): Promise<AppAddon | null> {
  return db.appAddon.findUnique({ where: { appId_name: { appId, name } } });
}

export async function saveAppAddon(db: Client, appId: string, name: string, credentialsEnc: string | null): Promise<void> {
  await db.appAddon.upsert({ where: { appId_name: { appId, name } }, create: { appId, name, credentialsEnc }, update: { credentialsEnc } });
}

/** No-op when the row is gone. */
export async function deleteAppAddon(db: Client, appId: string, name: string): Promise<void> {
  await db.appAddon.deleteMany({ where: { appId, name } });
}

/**
 * The addon names that some App row (any install state: an app being installed, stopped or
 * failed still counts; an uninstalled app has no App row) declares in its manifest. box runs
 * a shared addon service only while this names it.
 */
export async function addonsDeclaredByApps(db: Client): Promise<Set<string>> {
  const rows = await db.app.findMany({ select: { manifest: true } });
  const out = new Set<string>();
  for (const r of rows) {
    const addons = (r.manifest as { addons?: unknown } | null)?.addons;
    if (addons && typeof addons === "object" && !Array.isArray(addons)) for (const name of Object.keys(addons)) out.add(name);
  }
  return out;
}
