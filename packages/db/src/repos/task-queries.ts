import { ACTIVE_TASK_STATES } from "@hearth/contracts";
import type { Db, Prisma, Task } from "../client";

/** Task reads beside the state machine in tasks.ts. */
type Client = Db | Prisma.TransactionClient;

export async function taskExists(db: Client, id: string): Promise<boolean> {
  return (await db.task.count({ where: { id } })) > 0;
}

/** The pending and running tasks of `type`, newest first. */
export async function activeTasksOfType(db: Client, type: string): Promise<Task[]> {
  return db.task.findMany({ where: { type, state: { in: [...ACTIVE_TASK_STATES] } }, orderBy: { createdAt: "desc" } });
}
