import { setTimeout as sleep } from "node:timers/promises";
import { crashTaskArgs, failTaskArgs, sleepTaskArgs } from "@hearth/contracts";
import { defineTask, TaskError, type TaskDefinition } from "./registry";

/**
 * Task types that exist to exercise the runner itself (names start with "_"). They have no
 * side effects beyond time, so they are trivially idempotent.
 */
export interface TestTaskOptions {
  /** What `_crash` does when its time is up; default: SIGKILL this very process. */
  crash?: () => void;
}

export function testTasks(opts: TestTaskOptions = {}): TaskDefinition[] {
  const crash = opts.crash ?? (() => process.kill(process.pid, "SIGKILL"));

  const sleepTask = defineTask({
    type: "_sleep",
    resumable: true,
    args: sleepTaskArgs,
    async run(ctx) {
      const { ms, steps } = ctx.args;
      for (let i = 1; i <= steps; i++) {
        await sleep(ms / steps, undefined, { signal: ctx.signal });
        await ctx.progress((i * 100) / steps, `step ${i} of ${steps}`);
        ctx.log(`step ${i} of ${steps} done`);
      }
      return { steps };
    },
  });

  const failTask = defineTask({
    type: "_fail",
    resumable: true,
    args: failTaskArgs,
    async run(ctx) {
      ctx.log("about to fail on purpose");
      throw new TaskError(ctx.args.message);
    },
  });

  // Not resumable on purpose: after the crash, recovery must fail it as `interrupted`.
  const crashTask = defineTask({
    type: "_crash",
    resumable: false,
    args: crashTaskArgs,
    async run(ctx) {
      await ctx.progress(10, `crashing the box in ${ctx.args.afterMs} ms`);
      ctx.log(`crashing the box in ${ctx.args.afterMs} ms`);
      await sleep(ctx.args.afterMs, undefined, { signal: ctx.signal });
      crash();
      // only reached when a test replaced `crash`
      throw new TaskError("the crash did not happen", "internal");
    },
  });

  return [sleepTask, failTask, crashTask] as TaskDefinition[];
}
