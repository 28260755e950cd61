import type { AppCredential, Db, Prisma } from "../client";

/**
 * AppCredential rows: an app's first admin account (manifest `firstAdmin`), the password
 * sealed (sealSecret) by whoever made it. Kept until the admin marks it as changed.
 */
type Client = Db | Prisma.TransactionClient;

export async function getAppCredential(db: Client, appId: string): Promise<AppCredential | null> {
  return db.appCredential.findUnique({ where: { appId } });
}

/** Returns whether there was one to delete. */
export async function deleteAppCredential(db: Client, appId: string): Promise<boolean> {
  const r = await db.appCredential.deleteMany({ where: { appId } });
  return r.count > 0;
}
