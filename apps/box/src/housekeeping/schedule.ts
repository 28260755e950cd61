import cron, { type ScheduledTask } from "node-cron";
import { activeTasksOfType, createTask, hasDataPastRetention, lastTaskCreatedAt, readRetention, type Db } from "@hearth/db";

/**
 * Once a day, queue a `housekeeping.purge` task unless one is pending or running; at box
 * start too when the last one was queued more than a day ago (or never) and something is past
 * the retention (a box that was down at the hour), so restarts do not each queue one.
 */
export const HOUSEKEEPING_CRON = "41 3 * * *";
export const HOUSEKEEPING_TASK = "housekeeping.purge";

export class HousekeepingSchedule {
  private task: ScheduledTask | null = null;

  constructor(private readonly d: { db: Db; wake: () => void; log: { info(o: object, m?: string): void; warn(o: object, m?: string): void }; expression?: string }) {}

  async start(): Promise<void> {
    const expression = this.d.expression ?? HOUSEKEEPING_CRON;
    this.task = cron.schedule(expression, () => void this.queue("schedule"), { name: "housekeeping", noOverlap: true });
    this.d.log.info({ cron: expression }, "housekeeping scheduled");
    try {
      const now = new Date();
      const last = await lastTaskCreatedAt(this.d.db, HOUSEKEEPING_TASK);
      if ((!last || now.getTime() - last.getTime() > 86_400_000) && (await hasDataPastRetention(this.d.db, await readRetention(this.d.db), now))) await this.queue("start");
    } catch (e) {
      this.d.log.warn({ err: (e as Error).message }, "could not check for data past its retention");
    }
  }

  /** Queues a purge unless one is pending or running. */
  async queue(reason: string): Promise<boolean> {
    try {
      if ((await activeTasksOfType(this.d.db, HOUSEKEEPING_TASK)).length > 0) return false;
      await createTask(this.d.db, { type: HOUSEKEEPING_TASK, args: {}, maxAttempts: 3 });
      this.d.wake();
      this.d.log.info({ reason }, "housekeeping purge queued");
      return true;
    } catch (e) {
      this.d.log.warn({ err: (e as Error).message }, "could not queue the housekeeping purge");
      return false;
    }
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    this.task = null;
  }
}
