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
