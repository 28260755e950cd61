/**
 * Applies prisma/migrations to the database in HEARTH_DATABASE_URL with packages/db's
 * migrator (the same code box runs at start; a MySQL named lock keeps them from racing).
 * setup/install.sh runs it as the hearth user with the runtime's node and tsx:
 *   node --import tsx setup/migrate.ts     (env from /etc/hearth/hearth.env)
 */
import path from "node:path";
import { migrate } from "@hearth/db";

const url = process.env.HEARTH_DATABASE_URL;
if (!url) {
  console.error("migrate: HEARTH_DATABASE_URL is not set");
  process.exit(1);
}
const migrationsDir = process.env.HEARTH_MIGRATIONS_DIR ?? path.resolve(import.meta.dirname, "../prisma/migrations");

try {
  const r = await migrate(url, { migrationsDir, log: (m) => console.log(`migrate: ${m}`) });
  console.log(`migrate: ${r.applied.length} applied, ${r.alreadyApplied.length} already applied`);
  process.exit(0);
} catch (e) {
  console.error(`migrate: ${(e as Error).message}`);
  process.exit(1);
}
