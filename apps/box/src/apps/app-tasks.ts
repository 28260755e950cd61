import { appTaskArgs, appUpdateTaskArgs } from "@hearth/contracts";
import { defineTask, type TaskDefinition } from "../tasks/registry";
import type { AppService } from "./apps.service";

/**
 * The app.* task types: args `{ appId }`, everything else comes from the App row (app.update
 * also carries the manifest it goes to and the one it comes from). All are
 * resumable: each step is idempotent (see AppService), so a box killed mid-task runs the
 * task again from its start and ends in the intended state.
 */
export function appTasks(service: AppService): TaskDefinition[] {
  type Ctx = Parameters<AppService["install"]>[1] & { args: { overwriteDns?: boolean } };
  const def = (type: string, run: (appId: string, ctx: Ctx) => Promise<unknown>) =>
    defineTask({
      type,
      resumable: true,
      args: appTaskArgs,
      run: (ctx) => run(ctx.args.appId, ctx),
    });
  return [
    def("app.install", (id, ctx) => service.install(id, ctx, { overwriteDns: ctx.args.overwriteDns })),
    def("app.configure", (id, ctx) => service.configure(id, ctx, { overwriteDns: ctx.args.overwriteDns })),
    def("app.uninstall", (id, ctx) => service.uninstall(id, ctx)),
    def("app.restore", (id, ctx) => service.restore(id, ctx)),
    def("app.purge", (id, ctx) => service.purge(id, ctx)),
    def("app.start", (id, ctx) => service.start(id, ctx)),
    def("app.stop", (id, ctx) => service.stop(id, ctx)),
    def("app.restart", (id, ctx) => service.restart(id, ctx)),
    defineTask({
      type: "app.update",
      resumable: true,
      args: appUpdateTaskArgs,
      run: (ctx) => service.update(ctx.args.appId, ctx, ctx.args),
    }),
  ] as TaskDefinition[];
}
