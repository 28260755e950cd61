import { randomBytes } from "node:crypto";
import path from "node:path";
import mariadb from "mariadb";
import { createDb, migrate, type Db } from "@hearth/db";

/**
 * Integration tests get a database of their own on the real MariaDB. test/run.sh creates
 * the `hearth_test` account; HEARTH_TEST_DB_URL overrides where it lives.
 */
export const TEST_SERVER_URL = process.env.HEARTH_TEST_DB_URL ?? "mysql://hearth_test:hearth_test@127.0.0.1:3306/";
export const REPO_ROOT = path.resolve(import.meta.dirname, "../..");
export const MIGRATIONS_DIR = path.join(REPO_ROOT, "prisma/migrations");

export interface TestDatabase {
  name: string;
  url: string;
  /** Runs raw SQL on the test database (a fresh connection each time). */
  sql<T = unknown>(query: string, params?: unknown[]): Promise<T>;
  drop(): Promise<void>;
}

function serverConn() {
  const u = new URL(TEST_SERVER_URL);
  return mariadb.createConnection({
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    timezone: "Z",
  });
}

/** An empty database with a unique name (no migrations applied). */
export async function emptyDatabase(prefix = "t"): Promise<TestDatabase> {
  const name = `hearth_${prefix}_${randomBytes(5).toString("hex")}`;
  const conn = await serverConn();
  await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await conn.end();
  const url = `${TEST_SERVER_URL.replace(/\/$/, "")}/${name}`;
  return {
    name,
    url,
    async sql<T>(query: string, params: unknown[] = []) {
      const c = await serverConn();
      try {
        await c.query(`USE \`${name}\``);
        return (await c.query(query, params)) as T;
      } finally {
        await c.end();
      }
    },
    async drop() {
      const c = await serverConn();
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

/** A migrated database plus a Prisma client on it. */
export async function migratedDatabase(prefix = "t"): Promise<TestDatabase & { db: Db }> {
  const t = await emptyDatabase(prefix);
  await migrate(t.url, { migrationsDir: MIGRATIONS_DIR });
  const db = createDb(t.url);
  return {
    ...t,
    db,
    async drop() {
      await db.$disconnect();
      await t.drop();
    },
  };
}
