import { readFile, mkdtemp, cp, writeFile, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import mariadb from "mariadb";
import { afterAll, describe, expect, it } from "vitest";
import { migrate, listMigrations, poolConfigOf } from "@hearth/db";
import { actualShape, diffShapes, expectedShape } from "@hearth/db/drift";
import { emptyDatabase, MIGRATIONS_DIR, REPO_ROOT, type TestDatabase } from "../helpers/db";

const dbs: TestDatabase[] = [];
async function fresh(): Promise<TestDatabase> {
  const d = await emptyDatabase("mig");
  dbs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

async function shapeOf(d: TestDatabase) {
  const { connectionLimit: _c, ...cfg } = poolConfigOf(d.url);
  const conn = await mariadb.createConnection(cfg);
  try {
    return await actualShape(conn, d.name);
  } finally {
    await conn.end();
  }
}

describe("migrator", () => {
  it("applies every migration to an empty database and records it in _prisma_migrations", async () => {
    const d = await fresh();
    const all = await listMigrations(MIGRATIONS_DIR);
    const r = await migrate(d.url, { migrationsDir: MIGRATIONS_DIR });
    expect(r.applied).toEqual(all.map((m) => m.name));
    const rows = await d.sql<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }[]>(
      "SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name",
    );
    expect(rows.map((x) => x.migration_name)).toEqual(all.map((m) => m.name));
    for (const [i, row] of rows.entries()) {
      expect(row.checksum).toBe(all[i]!.checksum);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(Number(row.applied_steps_count)).toBeGreaterThan(0);
    }
  });

  it("is a no-op when run again", async () => {
    const d = await fresh();
    await migrate(d.url, { migrationsDir: MIGRATIONS_DIR });
    const again = await migrate(d.url, { migrationsDir: MIGRATIONS_DIR });
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied.length).toBeGreaterThan(0);
    const [row] = await d.sql<{ n: bigint }[]>("SELECT COUNT(*) AS n FROM _prisma_migrations");
    const n = row!.n;
    expect(Number(n)).toBe(again.alreadyApplied.length);
  });

  it("lets only one of several concurrent migrators apply each migration", async () => {
    const d = await fresh();
    const results = await Promise.all(Array.from({ length: 4 }, () => migrate(d.url, { migrationsDir: MIGRATIONS_DIR })));
    const appliedCounts = results.map((r) => r.applied.length);
    const total = (await listMigrations(MIGRATIONS_DIR)).length;
    expect(appliedCounts.filter((n) => n === total)).toHaveLength(1);
    expect(appliedCounts.filter((n) => n === 0)).toHaveLength(3);
    const [row] = await d.sql<{ n: bigint }[]>("SELECT COUNT(*) AS n FROM _prisma_migrations");
    const n = row!.n;
    expect(Number(n)).toBe(total);
  });

  it("refuses a migration that was edited after it was applied", async () => {
    const d = await fresh();
    const dir = await mkdtemp(path.join(os.tmpdir(), "hearth-mig-"));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    await migrate(d.url, { migrationsDir: dir });
    const first = (await listMigrations(dir))[0]!;
    await writeFile(path.join(dir, first.name, "migration.sql"), first.sql + "\n-- edited\n");
    await expect(migrate(d.url, { migrationsDir: dir })).rejects.toThrow(/checksum mismatch/);
  });

  it("records a failing migration and refuses to go on until it is resolved", async () => {
    const d = await fresh();
    const dir = await mkdtemp(path.join(os.tmpdir(), "hearth-mig-"));
    await cp(MIGRATIONS_DIR, dir, { recursive: true });
    await mkdir(path.join(dir, "29991231000000_broken"));
    await writeFile(path.join(dir, "29991231000000_broken", "migration.sql"), "CREATE TABLE `Ok1` (`id` INT NOT NULL);\nTHIS IS NOT SQL;\n");
    await expect(migrate(d.url, { migrationsDir: dir })).rejects.toThrow(/29991231000000_broken failed at statement 2/);
    const [row] = await d.sql<{ logs: string; finished_at: Date | null }[]>("SELECT logs, finished_at FROM _prisma_migrations WHERE migration_name = '29991231000000_broken'");
    expect(row!.finished_at).toBeNull();
    expect(row!.logs).toMatch(/syntax/i);
    await expect(migrate(d.url, { migrationsDir: dir })).rejects.toThrow(/failed earlier/);
  });
});

describe("schema drift", () => {
  it("the migrated database matches schema.prisma: every model, column, type, nullability, default, index and foreign key", async () => {
    const d = await fresh();
    await migrate(d.url, { migrationsDir: MIGRATIONS_DIR });
    const expected = expectedShape(await readFile(path.join(REPO_ROOT, "prisma/schema.prisma"), "utf8"));
    const diff = diffShapes(expected, await shapeOf(d));
    expect(diff).toEqual([]);
    // the comparison saw real content, not two empty objects
    expect(Object.keys(expected)).toEqual(expect.arrayContaining(["User", "Session", "ApiToken", "Event", "Task", "Setting"]));
  });

  it("notices drift: a changed type, a dropped index, a missing table, a changed foreign key", async () => {
    const d = await fresh();
    await migrate(d.url, { migrationsDir: MIGRATIONS_DIR });
    await d.sql("ALTER TABLE `User` MODIFY `username` VARCHAR(80) NOT NULL");
    await d.sql("ALTER TABLE `Event` DROP INDEX `Event_createdAt_idx`");
    await d.sql("ALTER TABLE `Task` MODIFY `message` VARCHAR(512) NULL DEFAULT ''");
    await d.sql("ALTER TABLE `ApiToken` DROP FOREIGN KEY `ApiToken_userId_fkey`");
    await d.sql("ALTER TABLE `ApiToken` ADD CONSTRAINT `ApiToken_userId_fkey` FOREIGN KEY (`userId`) REFERENCES `User`(`id`) ON DELETE RESTRICT ON UPDATE CASCADE");
    await d.sql("DROP TABLE `Setting`");
    await d.sql("CREATE TABLE `Stray` (`id` INT NOT NULL PRIMARY KEY)");
    const expected = expectedShape(await readFile(path.join(REPO_ROOT, "prisma/schema.prisma"), "utf8"));
    const diff = diffShapes(expected, await shapeOf(d)).join("\n");
    expect(diff).toMatch(/User: columns username differs/);
    expect(diff).toMatch(/Event: indexes Event_createdAt_idx is in schema.prisma but not in the database/);
    expect(diff).toMatch(/Task: columns message differs/);
    expect(diff).toMatch(/ApiToken: foreignKeys ApiToken_userId_fkey differs/);
    expect(diff).toMatch(/table Setting: in schema.prisma but not in the database/);
    expect(diff).toMatch(/table Stray: in the database but not in schema.prisma/);
  });
});
