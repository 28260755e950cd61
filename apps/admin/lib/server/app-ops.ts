import { HearthError, type AppTaskType } from "@hearth/contracts";
import { queueAppTask, recordEvent, type AppChange } from "@hearth/db";
import { json } from "../http";
import type { Principal } from "./auth";
import { wakeBox } from "./apps";
import type { AdminContext } from "./context";

export function appIdOf(params: Record<string, string>): string {
  const id = params.id ?? "";
  if (!/^[A-Za-z0-9-]{1,36}$/.test(id)) throw new HearthError("not_found", "No such app");
  return id;
}

/** start/stop/restart/configure: queue the task, record the event, wake box → 202 {taskId}. */
export async function appOperation(
  ctx: { app: AdminContext; params: Record<string, string>; principal: Principal; ip: string },
  type: Exclude<AppTaskType, "app.install" | "app.uninstall">,
  change: AppChange,
  data: Record<string, unknown> = {},
): Promise<Response> {
  const id = appIdOf(ctx.params);
  const { task } = await queueAppTask(ctx.app.db, id, type, change, ctx.principal.user.id);
  await recordEvent(ctx.app.db, {
    action: type,
    actorId: ctx.principal.user.id,
    actorName: ctx.principal.user.username,
    sourceIp: ctx.ip,
    target: id,
    data: { appId: id, taskId: task.id, ...data },
  });
  await wakeBox(ctx.app);
  return json({ taskId: task.id }, 202);
}
