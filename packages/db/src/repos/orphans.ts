import { randomUUID } from "node:crypto";
import { HearthError } from "@hearth/contracts";
import type { Db, Orphan } from "../client";
import { Prisma } from "../client";
import { createTask } from "./tasks";

/**
 * Orphans: data of this store (a volume, an addon database, a Redis instance's data) that
 * belongs to no App and no UninstalledApp row. box's reconciler records what it finds
 * (`recordOrphans`); only an admin removes one (`queueOrphanDelete`: the typed name, then an
 * `orphan.delete` task box runs). Nothing here deletes data.
 */
type Client = Db | Prisma.TransactionClient;

export const ORPHAN_KINDS = ["volume", "mysql", "postgresql", "redis"] as const;
export type OrphanKind = (typeof ORPHAN_KINDS)[number];

export interface FoundOrphan {
  kind: OrphanKind;
  name: string;
  appId: string;
}

export async function listOrphans(db: Client): Promise<Orphan[]> {
  return db.orphan.findMany({ orderBy: [{ firstSeenAt: "asc" }, { kind: "asc" }, { name: "asc" }] });
}

export async function countOrphans(db: Client): Promise<number> {
  return db.orphan.count();
}

export async function getOrphan(db: Client, id: string): Promise<Orphan | null> {
  return db.orphan.findUnique({ where: { id } });
}

/**
 * Records one pass of the reconciler: `found` are the orphans seen now, `scanned` the kinds
 * it could look at (a kind it could not list, e.g. MariaDB not running, keeps its rows).
 * Returns the orphans seen for the first time. Rows of a scanned kind not seen now (the
 * object is gone, or its app is back) are dropped unless a delete is under way.
 */
export async function recordOrphans(db: Db, found: FoundOrphan[], scanned: readonly OrphanKind[], now = new Date()): Promise<Orphan[]> {
  const fresh: Orphan[] = [];
  const existing = await db.orphan.findMany({ where: { kind: { in: [...scanned] } } });
  const key = (o: { kind: string; name: string }) => `${o.kind}\u0000${o.name}`;
  const seen = new Set(found.map(key));
  for (const o of found) {
    const row = existing.find((e) => key(e) === key(o));
    if (row) {
      await db.orphan.update({ where: { id: row.id }, data: { lastSeenAt: now } });
      continue;
    }
    try {
      fresh.push(await db.orphan.create({ data: { id: randomUUID(), kind: o.kind, name: o.name.slice(0, 255), appId: o.appId, lastSeenAt: now, firstSeenAt: now } }));
    } catch (e) {
      if (!(e instanceof Prisma.PrismaClientKnownRequestError && e.code === "P2002")) throw e;
    }
  }
  const gone = existing.filter((e) => !seen.has(key(e)) && e.state !== "deleting").map((e) => e.id);
  if (gone.length) await db.orphan.deleteMany({ where: { id: { in: gone } } });
  return fresh;
}

/**
 * The admin's delete: `confirm` must be the orphan's name. Marks it `deleting` and queues
 * the `orphan.delete` task, in one transaction. 404 unknown, 400 wrong name, 409 already
 * being deleted (its task is pending or running).
 */
export async function queueOrphanDelete(db: Db, id: string, confirm: string, createdBy: string | null) {
  return db.$transaction(async (tx) => {
    const rows = await tx.$queryRawUnsafe<{ id: string }[]>("SELECT `id` FROM `Orphan` WHERE `id` = ? FOR UPDATE", id);
    if (rows.length === 0) throw new HearthError("not_found", "No such orphan");
    const o = await tx.orphan.findUniqueOrThrow({ where: { id } });
    if (confirm !== o.name) {
      throw new HearthError("invalid", `Type the name ${o.name} to delete it`, { details: [{ path: ["confirm"], code: "custom", message: "does not match the name" }] });
    }
    if (o.state === "deleting" && o.taskId) {
      const t = await tx.task.findUnique({ where: { id: o.taskId } });
      if (t && (t.state === "pending" || t.state === "running")) throw new HearthError("conflict", `${o.name} is already being deleted`, { details: { taskId: t.id } });
    }
    const task = await createTask(tx, { type: "orphan.delete", args: { orphanId: id }, createdBy });
    await tx.orphan.update({ where: { id }, data: { state: "deleting", taskId: task.id } });
    return { orphan: o, task };
  });
}

export async function removeOrphanRow(db: Client, id: string): Promise<void> {
  await db.orphan.deleteMany({ where: { id } });
}

/** A failed delete: back to `found` so the admin sees it and can try again. */
export async function resetOrphan(db: Client, id: string): Promise<void> {
  await db.orphan.updateMany({ where: { id }, data: { state: "found" } });
}
