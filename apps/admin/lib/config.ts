import { existsSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { DEFAULT_BOX_SOCKET, databaseUrl, logLevel, parseEnv } from "@hearth/contracts";

/** admin's process wiring. Parsed once at server start (instrumentation.ts), never at build. */
export interface AdminConfig {
  databaseUrl: string;
  boxSocket: string;
  logLevel: z.infer<typeof logLevel>;
  migrationsDir: string;
  cookieSecure: boolean;
}

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" })
  .transform((v) => v === "true" || v === "1" || v === "yes");

export const adminEnv = z.object({
  HEARTH_DATABASE_URL: databaseUrl,
  HEARTH_BOX_SOCKET: z.string().min(1, "must not be empty").default(DEFAULT_BOX_SOCKET),
  HEARTH_LOG_LEVEL: logLevel,
  HEARTH_MIGRATIONS_DIR: z.string().min(1, "must not be empty").optional(),
  HEARTH_COOKIE_SECURE: bool.default(true),
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
  };
}
