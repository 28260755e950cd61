import { housekeepingPurgeTaskArgs } from "@hearth/contracts";
import { defineTask, type TaskDefinition } from "../tasks/registry";
import { purgeOldData, type PurgeDeps } from "./purge";

/**
 * `housekeeping.purge` {}: the daily purge of old events, tasks and task logs (purge.ts).
 * Resumable: every step deletes what is past the retention now, so running it again only
 * finishes the job. Result: the counts and the setting used.
 */
export function housekeepingTasks(deps: PurgeDeps): TaskDefinition[] {
  return [
    defineTask({
      type: "housekeeping.purge",
      resumable: true,
      args: housekeepingPurgeTaskArgs,
      async run(ctx) {
        const r = await purgeOldData(deps, new Date(), { progress: (pc, m) => ctx.progress(pc, m), log: (l) => ctx.log(l), signal: ctx.signal });
        await ctx.progress(100, `Deleted ${r.events} events, ${r.tasks} tasks, ${r.taskLogs + r.orphanLogs} task logs`);
        return r;
      },
    }),
  ];
}
