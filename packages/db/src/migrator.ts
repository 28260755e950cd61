import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import mariadb from "mariadb";
import { poolConfigOf } from "./client";

/**
 * Applies prisma/migrations/<name>/migration.sql in name order and records each in Prisma's
 * `_prisma_migrations` table (same columns, sha256 checksum of the file), so `prisma migrate
 * status` on a machine that has the engine agrees with us. A MySQL named lock makes
 * concurrent callers (setup, box, admin) wait for each other instead of racing.
 */
export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

export interface MigrateOptions {
  migrationsDir: string;
  lockTimeoutSeconds?: number;
  log?: (msg: string) => void;
}

const LOCK_NAME = "hearth.migrate";

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS \`_prisma_migrations\` (
  \`id\` VARCHAR(36) NOT NULL,
  \`checksum\` VARCHAR(64) NOT NULL,
  \`finished_at\` DATETIME(3) NULL,
  \`migration_name\` VARCHAR(255) NOT NULL,
  \`logs\` TEXT NULL,
  \`rolled_back_at\` DATETIME(3) NULL,
  \`started_at\` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  \`applied_steps_count\` INTEGER UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (\`id\`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`;

export async function listMigrations(dir: string): Promise<{ name: string; sql: string; checksum: string }[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory() && /^\d{14}_[a-z0-9_]+$/.test(e.name))
    .map((e) => e.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    }),
  );
}

/** Splits a migration file into statements (no procedures or string literals with ';' in our SQL). */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*(?:\r?\n|$)/)
    .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
    .filter((s) => s.length > 0);
}

export async function migrate(databaseUrl: string, opts: MigrateOptions): Promise<MigrationResult> {
  const log = opts.log ?? (() => {});
  const migrations = await listMigrations(opts.migrationsDir);
  const { connectionLimit: _unused, ...connConfig } = poolConfigOf(databaseUrl);
  const conn = await mariadb.createConnection(connConfig);
  try {
    const [lock] = await conn.query("SELECT GET_LOCK(?, ?) AS ok", [LOCK_NAME, opts.lockTimeoutSeconds ?? 120]);
    if (Number(lock.ok) !== 1) throw new Error(`could not take the migration lock ${LOCK_NAME}`);
    try {
      await conn.query(MIGRATIONS_TABLE);
      const rows: { migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null }[] = await conn.query(
        "SELECT migration_name, checksum, finished_at, rolled_back_at FROM `_prisma_migrations`",
      );
      const done = new Map(rows.filter((r) => r.rolled_back_at === null).map((r) => [r.migration_name, r]));
      const result: MigrationResult = { applied: [], alreadyApplied: [] };
      for (const m of migrations) {
        const prev = done.get(m.name);
        if (prev && prev.finished_at) {
          if (prev.checksum !== m.checksum) {
            throw new Error(`migration ${m.name} was changed after it was applied (checksum mismatch); add a new migration instead`);
          }
          result.alreadyApplied.push(m.name);
          continue;
        }
        if (prev && !prev.finished_at) {
          throw new Error(`migration ${m.name} failed earlier and left the database partly migrated; see _prisma_migrations.logs`);
        }
        const id = randomUUID();
        await conn.query("INSERT INTO `_prisma_migrations` (id, checksum, migration_name, started_at) VALUES (?, ?, ?, NOW(3))", [id, m.checksum, m.name]);
        let steps = 0;
        try {
          for (const stmt of splitStatements(m.sql)) {
            await conn.query(stmt);
            steps++;
          }
        } catch (e) {
          await conn.query("UPDATE `_prisma_migrations` SET logs = ?, applied_steps_count = ? WHERE id = ?", [String((e as Error).message), steps, id]);
          throw new Error(`migration ${m.name} failed at statement ${steps + 1}: ${(e as Error).message}`);
        }
        await conn.query("UPDATE `_prisma_migrations` SET finished_at = NOW(3), applied_steps_count = ? WHERE id = ?", [steps, id]);
        log(`applied migration ${m.name}`);
        result.applied.push(m.name);
      }
      return result;
    } finally {
      await conn.query("SELECT RELEASE_LOCK(?)", [LOCK_NAME]);
    }
  } finally {
    await conn.end();
  }
}
