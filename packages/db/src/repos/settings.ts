import type { Db } from "../client";
import { Prisma } from "../client";

/**
 * Settings: key/value rows for what admins edit live. Values are JSON.
 * `insertSetting` is create-only, so a unique key doubles as a "happens once" marker
 * (e.g. `setup.owner`).
 */
type Client = Db | Prisma.TransactionClient;

export async function getSetting<T = unknown>(db: Client, key: string): Promise<T | null> {
  const row = await db.setting.findUnique({ where: { key } });
  return row ? (row.value as T) : null;
}

export async function hasSetting(db: Client, key: string): Promise<boolean> {
  return (await db.setting.count({ where: { key } })) > 0;
}

export async function setSetting(db: Client, key: string, value: Prisma.InputJsonValue): Promise<void> {
  await db.setting.upsert({ where: { key }, create: { key, value }, update: { value } });
}

/** Inserts a new key; throws Prisma's unique-constraint error (P2002) when it exists. */
export async function insertSetting(db: Client, key: string, value: Prisma.InputJsonValue): Promise<void> {
  await db.setting.create({ data: { key, value } });
}

export async function deleteSetting(db: Client, key: string): Promise<boolean> {
  const r = await db.setting.deleteMany({ where: { key } });
  return r.count > 0;
}

/** True for Prisma's "unique constraint failed" error. */
export function isUniqueViolation(e: unknown): boolean {
  return e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002";
}
