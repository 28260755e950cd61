import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { getTask, type Db, type Task } from "@hearth/db";
import { appTasks } from "../../apps/box/src/apps/app-tasks";
import type { AppService } from "../../apps/box/src/apps/apps.service";
import { createLogger } from "../../apps/box/src/logger";
import { TaskRegistry, type TaskDefinition } from "../../apps/box/src/tasks/registry";
import { taskLogPath } from "../../apps/box/src/tasks/task-log";
import { prismaTaskStore } from "../../apps/box/src/tasks/task-store";
import { TaskRunner } from "../../apps/box/src/tasks/tasks.service";

/**
 * box's task runner in the test's own process, wired as main.ts wires it (the Prisma task
 * store, the app.* task types of the given AppService, task logs under dataDir): a test
 * records intent the way admin does (installApp / queueAppTask from @hearth/db), then
 * `finish(task.id)` wakes the runner and waits for the Task row to end.
 */
export interface InProcessTasks {
  runner: TaskRunner;
  /** Wakes the runner and waits until the task is succeeded, failed or cancelled. */
  finish(taskId: string, timeoutMs?: number): Promise<Task>;
  /** The task's log file (what the dashboard streams). */
  log(taskId: string): string;
  stop(): Promise<void>;
}

export async function startTaskRunner(opts: { db: Db; service: AppService; dataDir: string; extraTasks?: TaskDefinition[] }): Promise<InProcessTasks> {
  const boxId = `test-${randomUUID().slice(0, 8)}`;
  const runner = new TaskRunner({
    store: prismaTaskStore(opts.db),
    registry: new TaskRegistry([...appTasks(opts.service), ...(opts.extraTasks ?? [])]),
    boxId,
    leasedBy: `${boxId}/${randomUUID()}`,
    dataDir: opts.dataDir,
    pollMs: 200,
    leaseMs: 30_000,
    concurrency: 2,
    log: createLogger(process.env.HEARTH_TEST_LOG_LEVEL ?? "silent", boxId),
  });
  await runner.recoverAtStartup();
  runner.start();
  const log = (taskId: string) => {
    try {
      return readFileSync(taskLogPath(opts.dataDir, taskId), "utf8");
    } catch {
      return "";
    }
  };
  return {
    runner,
    log,
    async finish(taskId, timeoutMs = 120_000) {
      runner.wake();
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const t = await getTask(opts.db, taskId);
        if (!t) throw new Error(`task ${taskId} does not exist`);
        if (t.state === "succeeded" || t.state === "failed" || t.state === "cancelled") return t;
        if (Date.now() > deadline) throw new Error(`task ${taskId} (${t.type}) is still ${t.state} after ${timeoutMs} ms:\n${log(taskId)}`);
        await sleep(50);
      }
    },
    stop: () => runner.stop(),
  };
}
