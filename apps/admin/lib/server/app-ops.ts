import { HearthError, type AppTaskType } from "@hearth/contracts";
import { getApp, queueAppTask, recordEvent, type AppChange } from "@hearth/db";
import { json } from "../http";
import type { Principal } from "./auth";
import { wakeBox } from "./apps";
import type { AdminContext } from "./context";
import { checkCustomCertificates } from "./domains";

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

/**
 * The names an install or configure would serve that a domain's custom certificate must
 * cover (names on other domains, taken names, unknown domains: installApp/queueAppTask
 * check those). On configure, names not sent keep their stored values.
 */
export async function checkAppNames(
  app: AdminContext,
  p: { subdomain?: string; domain?: string; aliases?: { subdomain: string; domain: string }[]; redirects?: { subdomain: string; domain: string }[] },
  appId?: string,
): Promise<void> {
  const row = appId ? await getApp(app.db, appId) : null;
  const names: { subdomain: string; domain: string; field: string }[] = [];
  const subdomain = p.subdomain ?? row?.subdomain;
  const domain = p.domain ?? row?.domain;
  if (subdomain !== undefined && domain !== undefined) names.push({ subdomain, domain, field: "subdomain" });
  const stored = (type: "alias" | "redirect") => (row?.appDomains ?? []).filter((d) => d.type === type);
  (p.aliases ?? stored("alias")).forEach((n, i) => void names.push({ subdomain: n.subdomain, domain: n.domain, field: `aliases.${i}` }));
  (p.redirects ?? stored("redirect")).forEach((n, i) => void names.push({ subdomain: n.subdomain, domain: n.domain, field: `redirects.${i}` }));
  await checkCustomCertificates(app.db, names);
}
