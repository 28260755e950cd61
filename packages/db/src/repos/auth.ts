import type { Db } from "../client";
import type { Prisma, User, Session, ApiToken, UserRole, TokenScope } from "../client";
import { deleteSetting, getSetting, insertSetting, isUniqueViolation, setSetting } from "./settings";
import { formatSetupCode, hashSetupCode, newSetupCode, setupCodeMatches } from "../setup-code";

/**
 * Users, sessions and API tokens. Secrets never reach this layer in clear text: sessions
 * and tokens are stored as sha256 hex of their random secret, passwords as argon2id hashes.
 */
type Client = Db | Prisma.TransactionClient;

/** The Setting row whose unique key makes first-run setup happen exactly once. */
export const SETUP_OWNER_KEY = "setup.owner";

export interface NewUser {
  id: string;
  username: string;
  email: string;
  displayName?: string;
  role: UserRole;
  passwordHash: string;
}

export async function createUser(db: Client, u: NewUser): Promise<User> {
  return db.user.create({
    data: {
      id: u.id,
      username: u.username,
      email: u.email,
      displayName: u.displayName ?? "",
      role: u.role,
      passwordHash: u.passwordHash,
    },
  });
}

/** The Setting row holding the hash of the one-time setup code (see setup-code.ts). */
export const SETUP_CODE_KEY = "setup.code";

export type CreateOwnerResult = { ok: true; user: User } | { ok: false; reason: "done" | "code" };

/**
 * Creates the owner and the `setup.owner` marker in one transaction, consuming the setup
 * code: the code's row must still hold `codeHash` (the hash the caller checked the typed
 * code against) and is deleted with it. The marker's primary key serialises concurrent
 * setups: the second insert waits for the first transaction and then fails with a
 * duplicate key ("done"). A code that is gone or was replaced meanwhile → "code", and
 * nothing is created.
 */
export async function createOwner(db: Db, u: Omit<NewUser, "role">, codeHash: string): Promise<CreateOwnerResult> {
  try {
    return await db.$transaction(async (tx) => {
      await insertSetting(tx, SETUP_OWNER_KEY, { userId: u.id, at: new Date().toISOString() });
      const row = await tx.setting.findUnique({ where: { key: SETUP_CODE_KEY } });
      const stored = (row?.value as { hash?: unknown } | null)?.hash;
      if (stored !== codeHash) throw new CodeGone();
      await tx.setting.delete({ where: { key: SETUP_CODE_KEY } });
      return { ok: true as const, user: await createUser(tx, { ...u, role: "owner" }) };
    });
  } catch (e) {
    if (isUniqueViolation(e)) return { ok: false, reason: "done" };
    if (e instanceof CodeGone) return { ok: false, reason: "code" };
    throw e;
  }
}
class CodeGone extends Error {}

/** The stored hash of the setup code, or null when there is none (used, or never made). */
export async function setupCodeHash(db: Client): Promise<string | null> {
  const v = await getSetting<{ hash?: unknown }>(db, SETUP_CODE_KEY);
  return typeof v?.hash === "string" ? v.hash : null;
}

/**
 * Makes sure a setup code exists while no owner does (setup/install.sh, through
 * setup/setup-code.ts): keeps `current` when it is the stored one, else stores a new one.
 * Returns the code to show, or null when setup is already done (nothing stored then).
 */
export async function ensureSetupCode(db: Db, current: string | null): Promise<string | null> {
  if (await isSetupDone(db)) {
    await deleteSetting(db, SETUP_CODE_KEY);
    return null;
  }
  const stored = await setupCodeHash(db);
  if (current && stored && setupCodeMatches(current, stored)) return formatSetupCode(current);
  const code = newSetupCode();
  await setSetting(db, SETUP_CODE_KEY, { hash: hashSetupCode(code), createdAt: new Date().toISOString() });
  return code;
}

export async function isSetupDone(db: Client): Promise<boolean> {
  return (await db.setting.count({ where: { key: SETUP_OWNER_KEY } })) > 0;
}

export async function findUserById(db: Client, id: string): Promise<User | null> {
  return db.user.findUnique({ where: { id } });
}

/** Looks a user up by username, or by email when the login contains "@". */
export async function findUserByLogin(db: Client, login: string): Promise<User | null> {
  const l = login.trim().toLowerCase();
  return l.includes("@") ? db.user.findUnique({ where: { email: l } }) : db.user.findUnique({ where: { username: l } });
}

export async function setLastLogin(db: Client, userId: string, at: Date): Promise<void> {
  await db.user.update({ where: { id: userId }, data: { lastLoginAt: at } });
}

/** Stores the (sealed) TOTP secret, or null to turn two-factor off. */
export async function setTotpSecret(db: Client, userId: string, sealedSecret: string | null): Promise<void> {
  await db.user.update({ where: { id: userId }, data: { totpSecret: sealedSecret } });
}

/**
 * Claims TOTP time step `step` for `userId`: true only when it is newer than every step
 * accepted before. One conditional UPDATE, so of two requests with the same code only one
 * gets true.
 */
export async function claimTotpStep(db: Client, userId: string, step: number): Promise<boolean> {
  const r = await db.user.updateMany({
    where: { id: userId, OR: [{ totpLastStep: null }, { totpLastStep: { lt: step } }] },
    data: { totpLastStep: step },
  });
  return r.count === 1;
}

/**
 * Seals TOTP secrets stored before sealing existed (not "v1:…"); each row is rewritten only
 * if it still holds the value read. Returns how many were sealed.
 */
export async function sealPlainTotpSecrets(db: Client, seal: (secret: string) => string): Promise<number> {
  const rows = await db.user.findMany({ where: { totpSecret: { not: null } }, select: { id: true, totpSecret: true } });
  let n = 0;
  for (const r of rows) {
    if (!r.totpSecret || r.totpSecret.startsWith("v1:")) continue;
    const u = await db.user.updateMany({ where: { id: r.id, totpSecret: r.totpSecret }, data: { totpSecret: seal(r.totpSecret) } });
    n += u.count;
  }
  return n;
}

// ---- sessions ------------------------------------------------------------------------

export interface NewSession {
  /** sha256 hex of the cookie value */
  id: string;
  userId: string;
  expiresAt: Date;
  sourceIp: string;
  userAgent?: string;
}

export async function createSession(db: Client, s: NewSession): Promise<Session> {
  return db.session.create({
    data: { id: s.id, userId: s.userId, expiresAt: s.expiresAt, sourceIp: s.sourceIp.slice(0, 45), userAgent: (s.userAgent ?? "").slice(0, 255) },
  });
}

export async function findSession(db: Client, id: string): Promise<(Session & { user: User }) | null> {
  return db.session.findUnique({ where: { id }, include: { user: true } });
}

export async function touchSession(db: Client, id: string, at: Date, expiresAt: Date): Promise<void> {
  await db.session.updateMany({ where: { id }, data: { lastSeenAt: at, expiresAt } });
}

export async function deleteSession(db: Client, id: string): Promise<void> {
  await db.session.deleteMany({ where: { id } });
}

/**
 * Deletes idle-expired sessions and those created before `createdBefore` (the absolute
 * lifetime); both are refused on use anyway.
 */
export async function deleteExpiredSessions(db: Client, now: Date, createdBefore?: Date): Promise<number> {
  const where = createdBefore ? { OR: [{ expiresAt: { lt: now } }, { createdAt: { lt: createdBefore } }] } : { expiresAt: { lt: now } };
  return (await db.session.deleteMany({ where })).count;
}

/** Ends every session of `userId` but `keepId` (when given); returns how many ended. */
export async function deleteUserSessions(db: Client, userId: string, keepId?: string): Promise<number> {
  return (await db.session.deleteMany({ where: { userId, ...(keepId ? { id: { not: keepId } } : {}) } })).count;
}

/**
 * Sets a new password hash and ends the user's other sessions, in one transaction; the
 * session `keepId` (the one that changed it) stays.
 */
export async function changePassword(db: Db, userId: string, passwordHash: string, keepId?: string): Promise<number> {
  return db.$transaction(async (tx) => {
    await tx.user.update({ where: { id: userId }, data: { passwordHash } });
    return deleteUserSessions(tx, userId, keepId);
  });
}

// ---- API tokens ----------------------------------------------------------------------

export interface NewApiToken {
  id: string;
  userId: string;
  name: string;
  scope: TokenScope;
  /** sha256 hex of the secret part */
  secretHash: string;
  expiresAt?: Date | null;
}

export async function createApiToken(db: Client, t: NewApiToken): Promise<ApiToken> {
  return db.apiToken.create({
    data: { id: t.id, userId: t.userId, name: t.name, scope: t.scope, secretHash: t.secretHash, expiresAt: t.expiresAt ?? null },
  });
}

export async function findApiToken(db: Client, id: string): Promise<(ApiToken & { user: User }) | null> {
  return db.apiToken.findUnique({ where: { id }, include: { user: true } });
}

export async function listApiTokens(db: Client, userId: string): Promise<ApiToken[]> {
  return db.apiToken.findMany({ where: { userId }, orderBy: { createdAt: "desc" } });
}

/** Deletes a token of `userId`; null when it does not exist or belongs to someone else. */
export async function deleteApiToken(db: Client, userId: string, id: string): Promise<ApiToken | null> {
  const t = await db.apiToken.findFirst({ where: { id, userId } });
  if (!t) return null;
  await db.apiToken.deleteMany({ where: { id, userId } });
  return t;
}

export async function touchApiToken(db: Client, id: string, at: Date): Promise<void> {
  await db.apiToken.updateMany({ where: { id }, data: { lastUsedAt: at } });
}
