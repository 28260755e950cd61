import { existsSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { DEFAULT_BOX_SOCKET, databaseUrl, logLevel, parseEnv } from "@hearth/contracts";
import { parseSecretKey } from "@hearth/db";

/** admin's process wiring. Parsed once at server start (instrumentation.ts), never at build. */
export interface AdminConfig {
  databaseUrl: string;
  boxSocket: string;
  logLevel: z.infer<typeof logLevel>;
  migrationsDir: string;
  cookieSecure: boolean;
  /** AES-256-GCM key for secrets at rest (registry passwords); null when not configured */
  secretKey: Buffer | null;
  /** catalog directories, each holding one folder per app: the built-in one first, then HEARTH_CATALOG_DIRS */
  catalogDirs: string[];
  /**
   * HEARTH_INSTALL_ID: a nonce setup/install.sh writes on each run; /api/v1/status answers it,
   * so the installer knows the admin it waits for is the one this run started. null when unset.
   */
  installId: string | null;
}

const bool = z.enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" }).transform((v) => v === "true" || v === "1" || v === "yes");

export const adminEnv = z.object({
  HEARTH_DATABASE_URL: databaseUrl,
  HEARTH_BOX_SOCKET: z.string().min(1, "must not be empty").default(DEFAULT_BOX_SOCKET),
  HEARTH_LOG_LEVEL: logLevel,
  HEARTH_MIGRATIONS_DIR: z.string().min(1, "must not be empty").optional(),
  HEARTH_COOKIE_SECURE: bool.default(true),
  // base64 of 32 random bytes (setup writes it); needed only to save registry credentials
  HEARTH_SECRET_KEY: z
    .string()
    .optional()
    .refine((v) => v === undefined || v === "" || Buffer.from(v, "base64").length === 32, "must be 32 bytes, base64-encoded"),
  HEARTH_INSTALL_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{0,64}$/, "letters, digits, '_' and '-', at most 64")
    .optional(),
  // extra catalog directories, colon-separated, after the built-in <repo>/packages/catalog/apps
  HEARTH_CATALOG_DIRS: z.string().optional(),
});

/** <repo>/prisma/migrations, found by walking up from `start` (the server's working directory). */
export function findMigrationsDir(start: string): string | null {
  let dir = path.resolve(start);
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, "prisma", "migrations");
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

/** <repo>/packages/catalog/apps (the built-in catalog), found by walking up from `start`. */
export function findBuiltinCatalogDir(start: string): string | null {
  let dir = path.resolve(start);
  for (let i = 0; i < 8; i++) {
    const candidate = path.join(dir, "packages", "catalog", "apps");
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return null;
}

/** Throws an Error naming every bad variable (parseEnv's message). */
export function loadConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): AdminConfig {
  const e = parseEnv(adminEnv, env as NodeJS.ProcessEnv);
  const migrationsDir = e.HEARTH_MIGRATIONS_DIR ?? findMigrationsDir(cwd);
  if (!migrationsDir) {
    throw new Error(`invalid configuration:\n  HEARTH_MIGRATIONS_DIR: not set and no prisma/migrations directory found above ${cwd}`);
  }
  return {
    databaseUrl: e.HEARTH_DATABASE_URL,
    boxSocket: e.HEARTH_BOX_SOCKET,
    logLevel: e.HEARTH_LOG_LEVEL,
    migrationsDir,
    cookieSecure: e.HEARTH_COOKIE_SECURE,
    secretKey: e.HEARTH_SECRET_KEY ? parseSecretKey(e.HEARTH_SECRET_KEY) : null,
    catalogDirs: [findBuiltinCatalogDir(cwd), ...(e.HEARTH_CATALOG_DIRS ?? "").split(":").map((d) => d.trim())]
      .filter((d): d is string => !!d)
      .map((d) => path.resolve(d))
      .filter((d, i, all) => all.indexOf(d) === i),
    installId: e.HEARTH_INSTALL_ID || null,
  };
}
