import { describe, expect, it } from "vitest";
import { models, prismaOffenders, prismaUses } from "./boundary";

/** packages/db's repositories are the only code that talks to Prisma (see boundary.ts). */
describe("Prisma only through packages/db", () => {
  it("knows the schema's models", () => {
    expect(models).toEqual(expect.arrayContaining(["app", "task", "appAddon", "dnsRecord", "certificate"]));
  });

  it("finds no model call, raw SQL or @prisma import outside packages/db", () => {
    expect(prismaOffenders()).toEqual([]);
  });

  it("catches the forms it is meant to catch, and not a repository call or a comment", () => {
    const src = [
      'import { PrismaClient } from "@prisma/client";',
      "const a = await db.app.findMany({ where: {} });",
      "const b = await this.d.db.appAddon",
      "  .upsert({ where: {} });",
      "await tx.$queryRaw`SELECT 1`;",
      "await listApps(db); // db.app.findMany() in a comment",
      "/* prisma.task.count() */ await getTask(db, id);",
      'const url = "https://example.com/x"; await db.$transaction(async (tx) => createTask(tx, t));',
    ].join("\n");
    expect(prismaUses(src)).toEqual(["2: .app.findMany(", "3: .appAddon .upsert(", "5: .$queryRaw", '1: from "@prisma/client"']);
  });
});
