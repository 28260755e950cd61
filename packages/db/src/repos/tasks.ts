import { randomUUID } from "node:crypto";
import { assertTransition, HearthError, recoveryOf, type TaskState, type TaskView } from "@hearth/contracts";
import { Prisma, type Db, type Task } from "../client";
import { recordTaskOutcome } from "./events";

/**
 * The task repository: the only code that changes Task rows' state.
 *
 * Who writes what:
 *  - admin (and box itself) call `createTask` / `cancelTask`;
 *  - a box runner calls `claimNext`, then `heartbeat`, `updateProgress` and `finishTask` while it
 *    holds the lease (every write after the claim is conditional on `leasedBy` still being the
 *    caller, so a runner that lost its lease can no longer touch the row);
 *  - `recoverTasks` (at box start and on every poll) and `releaseTask` (graceful shutdown) put
 *    tasks whose runner is gone back to `pending` or fail them with `interrupted`.
 *
 * `leasedBy` is `${boxId}/${instanceId}`: the box's stable id plus a uuid made at process start,
 * so a restarted box can tell its own dead tasks (same boxId, other instance) from live ones.
 *
 * Times are the caller's clock (`new Date()`), never the database's NOW(): the pool runs in UTC
 * but the server's session time zone need not, and every reader and writer is on one machine.
 */

type DbOrTx = Db | Prisma.TransactionClient;

/** The row in `Lock` that serializes claimers across processes (seeded by the first migration). */
export const TASK_CLAIM_LOCK = "task-claim";
/** How many pending rows one claim looks at (the queue is small; blocked apps are skipped). */
const CANDIDATE_LIMIT = 200;
const MESSAGE_MAX = 512;

export interface CreateTaskInput {
  type: string;
  /** JSON arguments; validated by the task type's schema when box runs it. */
  args?: unknown;
  appId?: string | null;
  /** Platform lock: runs only when nothing else runs, and nothing starts while it runs. */
  exclusive?: boolean;
  maxAttempts?: number;
  createdBy?: string | null;
}

/** Records a pending task. Accepts a transaction client so admin can write App + Task together. */
export async function createTask(db: DbOrTx, input: CreateTaskInput): Promise<Task> {
  const maxAttempts = input.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new HearthError("invalid", "maxAttempts must be a positive integer");
  return db.task.create({
    data: {
      id: randomUUID(),
      type: input.type,
      appId: input.appId ?? null,
      exclusive: input.exclusive ?? false,
      args: (input.args ?? {}) as Prisma.InputJsonValue,
      maxAttempts,
      createdBy: input.createdBy ?? null,
    },
  });
}

export async function getTask(db: DbOrTx, id: string): Promise<Task | null> {
  return db.task.findUnique({ where: { id } });
}

interface CandidateRow {
  id: string;
  type: string;
  appId: string | null;
  exclusive: boolean | number | bigint;
}

const truthy = (v: boolean | number | bigint) => (typeof v === "boolean" ? v : Number(v) !== 0);

/**
 * Claims the oldest runnable pending task for `leasedBy` and marks it running, or returns null.
 *
 * Rules, all decided under the `task-claim` row lock so two box processes never both decide:
 *  - at most one running task per appId: a pending task of a busy app is skipped;
 *  - the platform lock: while an exclusive task runs nothing starts; an exclusive task starts
 *    only when nothing runs, and while it waits at the head of the queue nothing newer starts
 *    (otherwise a steady stream of app tasks could starve a box update forever);
 *  - a pending task of a type this box does not know is failed with `unknown_task_type`.
 *
 * The candidates are also read `FOR UPDATE SKIP LOCKED`, so a row that some other writer holds
 * (e.g. a cancel in flight) is passed over instead of waited for.
 */
export async function claimNext(db: Db, leasedBy: string, leaseMs: number, knownTypes: Iterable<string>): Promise<Task | null> {
  const known = new Set(knownTypes);
  return db.$transaction(
    async (tx) => {
      const lock = await tx.$queryRawUnsafe<{ name: string }[]>("SELECT `name` FROM `Lock` WHERE `name` = ? FOR UPDATE", TASK_CLAIM_LOCK);
      if (lock.length === 0) throw new Error(`the Lock row '${TASK_CLAIM_LOCK}' is missing; is the database migrated?`);

      const running = await tx.$queryRawUnsafe<Pick<CandidateRow, "appId" | "exclusive">[]>("SELECT `appId`, `exclusive` FROM `Task` WHERE `state` = 'running'");
      if (running.some((r) => truthy(r.exclusive))) return null;
      const busyApps = new Set(running.map((r) => r.appId).filter((a): a is string => a !== null));

      const candidates = await tx.$queryRawUnsafe<CandidateRow[]>(
        "SELECT `id`, `type`, `appId`, `exclusive` FROM `Task` WHERE `state` = 'pending' ORDER BY `createdAt`, `id` LIMIT ? FOR UPDATE SKIP LOCKED",
        CANDIDATE_LIMIT,
      );
      for (const c of candidates) {
        if (!known.has(c.type)) {
          assertTransition("pending", "failed");
          await tx.task.update({
            where: { id: c.id },
            data: {
              state: "failed",
              errorCode: "unknown_task_type",
              errorMessage: `this box does not know the task type '${c.type}'`,
              finishedAt: new Date(),
            },
          });
          await outcomeEvent(tx, c.id, { state: "failed", errorCode: "unknown_task_type", errorMessage: `this box does not know the task type '${c.type}'` });
          continue;
        }
        if (truthy(c.exclusive)) {
          if (running.length > 0) return null; // barrier: wait for the platform to go idle
        } else if (c.appId !== null && busyApps.has(c.appId)) {
          continue;
        }
        assertTransition("pending", "running");
        const now = new Date();
        return tx.task.update({
          where: { id: c.id },
          data: {
            state: "running",
            attempts: { increment: 1 },
            leasedBy,
            leaseExpiresAt: new Date(now.getTime() + leaseMs),
            heartbeatAt: now,
            startedAt: now,
            // each attempt runs the task from its start
            percent: 0,
            message: "",
            errorCode: null,
            errorMessage: null,
            finishedAt: null,
          },
        });
      }
      return null;
    },
    // READ COMMITTED: after taking the row lock, every plain read sees what the previous
    // claimer committed (REPEATABLE READ could keep an older snapshot).
    { isolationLevel: Prisma.TransactionIsolationLevel.ReadCommitted, maxWait: 10_000, timeout: 20_000 },
  );
}

/** Extends the lease if the task is still running under `leasedBy`; false means the lease is lost. */
export async function heartbeat(db: DbOrTx, id: string, leasedBy: string, leaseMs: number): Promise<boolean> {
  const now = new Date();
  const r = await db.task.updateMany({
    where: { id, leasedBy, state: "running" },
    data: { heartbeatAt: now, leaseExpiresAt: new Date(now.getTime() + leaseMs) },
  });
  return r.count === 1;
}

/** Writes percent (clamped to 0..100) and message; false when the task is no longer ours. */
export async function updateProgress(db: DbOrTx, id: string, leasedBy: string, percent: number, message: string): Promise<boolean> {
  const p = Math.max(0, Math.min(100, Math.round(Number.isFinite(percent) ? percent : 0)));
  const r = await db.task.updateMany({
    where: { id, leasedBy, state: "running" },
    data: { percent: p, message: message.slice(0, MESSAGE_MAX) },
  });
  return r.count === 1;
}

export type TaskOutcome = { state: "succeeded"; result?: unknown; message?: string } | { state: "failed"; errorCode: string; errorMessage: string; result?: unknown };

/** Ends a running task that `leasedBy` holds; false when it is no longer ours (nothing written). */
export async function finishTask(db: DbOrTx, id: string, leasedBy: string, outcome: TaskOutcome): Promise<boolean> {
  assertTransition("running", outcome.state);
  const data: Prisma.TaskUpdateManyMutationInput = { state: outcome.state, finishedAt: new Date(), leaseExpiresAt: null };
  if (outcome.result !== undefined) data.result = (outcome.result ?? Prisma.DbNull) as Prisma.InputJsonValue;
  if (outcome.state === "succeeded") {
    data.percent = 100;
    if (outcome.message !== undefined) data.message = outcome.message.slice(0, MESSAGE_MAX);
  } else {
    data.errorCode = outcome.errorCode.slice(0, 64);
    data.errorMessage = outcome.errorMessage;
  }
  return inTransaction(db, async (tx) => {
    const r = await tx.task.updateMany({ where: { id, leasedBy, state: "running" }, data });
    if (r.count !== 1) return false;
    // the event tells of the outcome; it never stands in the way of recording it (MariaDB undoes
    // only the failed statement, and the task's end is kept)
    await outcomeEvent(tx, id, outcome.state === "succeeded" ? { state: "succeeded" } : { state: "failed", errorCode: outcome.errorCode, errorMessage: outcome.errorMessage }).catch(() => {});
    return true;
  });
}

/**
 * `fn` in a transaction: `db`'s own when it is one already, else a new one, with the claim's
 * patience (a busy machine's pool may make a task's end wait longer than Prisma's 2 s / 5 s).
 */
function inTransaction<T>(db: DbOrTx, fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  return "$transaction" in db ? db.$transaction(fn, { maxWait: 10_000, timeout: 20_000 }) : fn(db);
}

/** The event of how task `id` ended (events.ts `recordTaskOutcome`), in the transaction that ended it. */
async function outcomeEvent(tx: Prisma.TransactionClient, id: string, outcome: Parameters<typeof recordTaskOutcome>[2]): Promise<void> {
  const t = await tx.task.findUnique({ where: { id }, select: { id: true, type: true, appId: true, args: true, createdBy: true, attempts: true } });
  if (t) await recordTaskOutcome(tx, t, outcome);
}

/** Cancels a pending task. A task that already started cannot be cancelled this way. */
export async function cancelTask(db: DbOrTx, id: string): Promise<Task> {
  assertTransition("pending", "cancelled");
  const r = await db.task.updateMany({ where: { id, state: "pending" }, data: { state: "cancelled", finishedAt: new Date() } });
  const task = await db.task.findUnique({ where: { id } });
  if (!task) throw new HearthError("not_found", "no such task");
  if (r.count === 0) throw new HearthError("bad_state", `the task is ${task.state} and can no longer be cancelled`);
  return task;
}

export type RecoveryAction = "resume" | "fail";

/** Puts one running task back to pending or fails it as `interrupted`, if `where` still matches. */
async function recoverOne(
  db: DbOrTx,
  task: Pick<Task, "id" | "attempts" | "maxAttempts">,
  resumable: boolean,
  where: Prisma.TaskWhereInput,
  why: string,
): Promise<{ action: RecoveryAction; errorMessage: string } | null> {
  const action = recoveryOf(task, resumable);
  const to: TaskState = action === "resume" ? "pending" : "failed";
  assertTransition("running", to);
  const data: Prisma.TaskUpdateManyMutationInput =
    action === "resume"
      ? { state: "pending", leasedBy: null, leaseExpiresAt: null, heartbeatAt: null, percent: 0, message: `${why}; will resume` }
      : {
          state: "failed",
          leaseExpiresAt: null,
          finishedAt: new Date(),
          errorCode: "interrupted",
          errorMessage: resumable ? `${why} on attempt ${task.attempts} of ${task.maxAttempts}; no attempts left` : `${why}; this kind of task cannot be resumed`,
        };
  return inTransaction(db, async (tx) => {
    const r = await tx.task.updateMany({ where: { ...where, id: task.id, state: "running" }, data });
    if (r.count !== 1) return null;
    if (action === "fail") await outcomeEvent(tx, task.id, { state: "failed", errorCode: "interrupted", errorMessage: String(data.errorMessage ?? "") });
    return { action, errorMessage: action === "fail" ? String(data.errorMessage ?? "") : "" };
  });
}

export interface RecoverOptions {
  /** Whether a task type can be resumed from its start (unknown types: no). */
  resumable: (type: string) => boolean;
  /**
   * Set at box start: running tasks leased by this boxId under another instance id belonged to
   * a previous process of this box, which is dead, so they are recovered at once instead of
   * after their lease expires. Left out on periodic sweeps (two live processes configured with
   * the same boxId would otherwise keep taking each other's tasks).
   */
  self?: { boxId: string; leasedBy: string };
}

export interface RecoveredTask {
  id: string;
  type: string;
  action: RecoveryAction;
  appId?: string | null;
  /** the task's error when it failed (`interrupted`), for box's notification */
  errorMessage?: string;
}

/** Recovers running tasks whose runner is gone: expired leases, and (with `self`) our dead instances. */
export async function recoverTasks(db: DbOrTx, opts: RecoverOptions): Promise<RecoveredTask[]> {
  const now = new Date();
  const running = await db.task.findMany({
    where: { state: "running" },
    select: { id: true, type: true, appId: true, attempts: true, maxAttempts: true, leasedBy: true, leaseExpiresAt: true },
  });
  const out: RecoveredTask[] = [];
  for (const t of running) {
    const expired = t.leaseExpiresAt === null || t.leaseExpiresAt.getTime() < now.getTime();
    const ownDeadInstance = opts.self !== undefined && t.leasedBy !== null && t.leasedBy !== opts.self.leasedBy && t.leasedBy.startsWith(`${opts.self.boxId}/`);
    if (!expired && !ownDeadInstance) continue;
    // Only if nobody renewed the lease meanwhile: the owner may have been slow, not dead.
    const where: Prisma.TaskWhereInput = { leasedBy: t.leasedBy, leaseExpiresAt: t.leaseExpiresAt };
    // the admin reads this as the task's message or error: what happened, not how box noticed (a lease)
    const why = ownDeadInstance ? "box restarted while the task was running" : "box stopped or stopped answering while the task was running";
    const r = await recoverOne(db, t, opts.resumable(t.type), where, why);
    if (r) out.push({ id: t.id, type: t.type, appId: t.appId, action: r.action, errorMessage: r.errorMessage });
  }
  return out;
}

/**
 * Graceful shutdown: gives up a task we still hold, exactly as recovery would treat it
 * (resumable with attempts left → pending, else failed `interrupted`). Null if it was not ours.
 */
export async function releaseTask(db: DbOrTx, id: string, leasedBy: string, resumable: boolean): Promise<RecoveryAction | null> {
  const t = await db.task.findFirst({ where: { id, leasedBy, state: "running" }, select: { id: true, attempts: true, maxAttempts: true } });
  if (!t) return null;
  return (await recoverOne(db, t, resumable, { leasedBy }, "box stopped while the task was running"))?.action ?? null;
}

/** The wire shape of a task (contracts `taskView`). */
export function toTaskView(t: Task): TaskView {
  return {
    id: t.id,
    type: t.type,
    appId: t.appId,
    state: t.state,
    percent: t.percent,
    message: t.message,
    error: t.errorCode ? { code: t.errorCode, message: t.errorMessage ?? "" } : null,
    attempts: t.attempts,
    createdAt: t.createdAt.toISOString(),
    startedAt: t.startedAt?.toISOString() ?? null,
    finishedAt: t.finishedAt?.toISOString() ?? null,
  };
}
