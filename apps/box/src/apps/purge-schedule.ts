import cron, { type ScheduledTask } from "node-cron";
import { queueExpiredPurges, recordEvent, type Db } from "@hearth/db";

/**
 * Once a day (and once at box start, to catch up after downtime), every uninstalled app
 * whose kept data is past its purgeAfter gets an `app.purge` task (event `app.purge`, actor
 * box). The task deletes the data; a restore queued before it wins (the row is gone then).
 */
export const PURGE_CRON = "23 4 * * *";

export class PurgeSchedule {
  private task: ScheduledTask | null = null;

  constructor(private readonly d: { db: Db; wake: () => void; log: { info(o: object, m?: string): void; warn(o: object, m?: string): void }; expression?: string }) {}

  async start(): Promise<void> {
    const expression = this.d.expression ?? PURGE_CRON;
    this.task = cron.schedule(expression, () => void this.run("schedule"), { name: "uninstalled-app-purge", noOverlap: true });
    this.d.log.info({ cron: expression }, "purge of expired uninstalled apps scheduled");
    await this.run("start");
  }

  /** Queues app.purge for every expired uninstalled app; returns how many. */
  async run(reason: string, now = new Date()): Promise<number> {
    try {
      const queued = await queueExpiredPurges(this.d.db, now);
      for (const q of queued) {
        await recordEvent(this.d.db, { action: "app.purge", actorId: "box", actorName: "box", target: q.appId, data: { appId: q.appId, taskId: q.taskId, reason: "expired" } });
      }
      if (queued.length) {
        this.d.log.info({ reason, apps: queued.map((q) => q.appId) }, "the kept data of uninstalled apps expired; purging it");
        this.d.wake();
      }
      return queued.length;
    } catch (e) {
      this.d.log.warn({ err: (e as Error).message }, "could not queue the purge of expired uninstalled apps");
      return 0;
    }
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    this.task = null;
  }
}
