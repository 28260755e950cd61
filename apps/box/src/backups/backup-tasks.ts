import { backupTaskArgs, backupTestTaskArgs } from "@hearth/contracts";
import { defineTask, type TaskDefinition } from "../tasks/registry";
import type { BackupService } from "./backups.service";

/**
 * backup.app { appId, backupId }: resumable (an interrupted run finds a stored snapshot by its
 * backup tag, or dumps again); backup.restore { appId, backupId }: resumable (check, stop,
 * replace, start are each safe to redo); backup.test {}: one attempt.
 */
export function backupTasks(service: BackupService): TaskDefinition[] {
  return [
    defineTask({ type: "backup.app", resumable: true, args: backupTaskArgs, run: (ctx) => service.backupApp(ctx.args.appId, ctx.args.backupId, ctx) }),
    defineTask({ type: "backup.restore", resumable: true, args: backupTaskArgs, run: (ctx) => service.restoreApp(ctx.args.appId, ctx.args.backupId, ctx) }),
    defineTask({ type: "backup.test", resumable: false, args: backupTestTaskArgs, run: (ctx) => service.test(ctx) }),
  ] as TaskDefinition[];
}
