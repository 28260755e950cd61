import { randomBytes } from "node:crypto";
import type { Db } from "../client";
import type { Prisma } from "../client";
import { getSetting, insertSetting, isUniqueViolation } from "./settings";

/**
 * The store's identity: a random id kept in the database (Setting `store.identity`), made
 * once by box at its first start. It is the owner label of every Docker object box makes,
 * so box only ever treats objects of its own store as its own: a restored dump keeps the
 * id (and so its objects), a fresh database at the same URL gets a new one.
 *
 * Before this id existed, the label was a hash of the database URL. The migration that
 * brought the id writes `store.legacyOwner` when the database already served a Hearth;
 * then the identity lists that hash in `legacyOwners`, and objects labelled with it are
 * still recognised as ours (nothing is relabelled, nothing deleted).
 */
export const STORE_IDENTITY_KEY = "store.identity";
export const STORE_LEGACY_OWNER_KEY = "store.legacyOwner";

export interface StoreIdentity {
  /** 16 lowercase hex characters; the owner label of new objects */
  id: string;
  /** when the id was made: objects older than this were not made under it */
  createdAt: Date;
  /** older owner labels that are also this store's (the URL hash of a pre-id install) */
  legacyOwners: string[];
}

interface Stored {
  id: string;
  createdAt: string;
  legacyOwners?: string[];
}

function parse(v: unknown): StoreIdentity | null {
  const s = v as Stored | null;
  if (!s || typeof s.id !== "string" || !/^[a-z0-9-]{8,64}$/.test(s.id) || typeof s.createdAt !== "string") return null;
  const createdAt = new Date(s.createdAt);
  if (Number.isNaN(createdAt.getTime())) return null;
  return { id: s.id, createdAt, legacyOwners: Array.isArray(s.legacyOwners) ? s.legacyOwners.filter((x) => typeof x === "string") : [] };
}

export async function getStoreIdentity(db: Db | Prisma.TransactionClient): Promise<StoreIdentity | null> {
  return parse(await getSetting(db, STORE_IDENTITY_KEY));
}

/**
 * The identity, made now when there is none. `legacyOwner` (the URL hash) is recorded only
 * when the database predates the id (the migration's `store.legacyOwner` marker). Safe
 * against two processes starting at once: the first insert wins, the other reads it.
 */
export async function ensureStoreIdentity(db: Db, opts: { legacyOwner?: string } = {}): Promise<StoreIdentity> {
  const have = await getStoreIdentity(db);
  if (have) return have;
  const raw = await getSetting(db, STORE_IDENTITY_KEY);
  if (raw !== null) throw new Error(`the setting ${STORE_IDENTITY_KEY} is malformed; fix or remove it by hand (objects labelled with it would no longer be recognised)`);
  const legacy = (await getSetting(db, STORE_LEGACY_OWNER_KEY)) === true && opts.legacyOwner ? [opts.legacyOwner] : [];
  const made: Stored = { id: randomBytes(8).toString("hex"), createdAt: new Date().toISOString(), legacyOwners: legacy };
  try {
    await insertSetting(db, STORE_IDENTITY_KEY, made as unknown as Prisma.InputJsonValue);
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
  }
  const now = await getStoreIdentity(db);
  if (!now) throw new Error(`the setting ${STORE_IDENTITY_KEY} could not be made`);
  return now;
}

/** Every owner label that is this store's: the id first, then the legacy ones. */
export const ownersOf = (s: StoreIdentity): string[] => [s.id, ...s.legacyOwners.filter((o) => o !== s.id)];
