import { addonChanges, checkPublishedPortsKept, HearthError, hearthManifest, updateRefusal, type HearthManifest, type UpdateAppRequest } from "@hearth/contracts";
import { getApp, queueAppTask, recordEvent, type AppWithPorts } from "@hearth/db";
import { json } from "../http";
import type { Principal } from "./auth";
import { appIdOf } from "./app-ops";
import { checkMinHearthVersion, findCatalogEntry, newestStableOf, updateTargetOf, wakeBox } from "./apps";
import type { AdminContext } from "./context";

/**
 * POST /api/v1/apps/:id/update: resolves the target manifest (the request's, or the catalog's
 * newest stable version above the installed one, the one GET /apps offers), checks it against the row locked in the same transaction
 * that sets pending_update and queues app.update with both manifests, records the event.
 * The row's manifest is not changed here: box writes it after the backup.
 */
export async function queueAppUpdate(ctx: { app: AdminContext; params: Record<string, string>; principal: Principal; ip: string; body: UpdateAppRequest }): Promise<Response> {
  const id = appIdOf(ctx.params);
  const row = await getApp(ctx.app.db, id);
  if (!row) throw new HearthError("not_found", "No such app");
  let target: HearthManifest;
  if (ctx.body.manifest) {
    target = ctx.body.manifest;
  } else {
    if (!row.storeId) throw new HearthError("invalid", "This app was installed from a custom manifest, so the catalog has no update for it: send the new manifest");
    const entry = await findCatalogEntry(ctx.app, row.storeId);
    if (!entry?.packages[0]) throw new HearthError("not_found", `The catalog no longer has ${row.storeId}: send the new manifest`);
    // the version GET /apps offers (the newest stable one above the installed), never a pre-release
    let pkg = updateTargetOf(row, [entry]);
    // {force: true} with no newer version: the catalog's newest stable version again (redeploy/downgrade)
    if (!pkg && ctx.body.force === true) pkg = newestStableOf(entry);
    if (!pkg)
      throw new HearthError("bad_state", `Nothing to update: the catalog has no stable version of ${row.storeId} newer than ${row.version} (its newest is ${entry.packages[0].manifest.version})`);
    target = hearthManifest.parse(pkg.manifest);
  }
  // the version the admin confirmed must still be the target (the catalog may have changed since)
  if (ctx.body.version !== undefined && ctx.body.version !== target.version) {
    throw new HearthError("conflict", `The update now goes to version ${target.version}, not the confirmed ${ctx.body.version}: reload and confirm again`, {
      details: { offered: target.version, confirmed: ctx.body.version },
    });
  }
  checkMinHearthVersion(target);

  let from: HearthManifest | null = null;
  const { task } = await queueAppTask(ctx.app.db, id, "app.update", { overwriteDns: ctx.body.overwriteDns }, ctx.principal.user.id, (locked) => {
    from = checkUpdate(locked, target, ctx.body.force === true, ctx.body.manifest !== undefined);
    return { manifest: target, fromManifest: from };
  });
  const f = from as HearthManifest | null;
  await recordEvent(ctx.app.db, {
    action: "app.update",
    actorId: ctx.principal.user.id,
    actorName: ctx.principal.user.username,
    sourceIp: ctx.ip,
    target: id,
    data: {
      appId: id,
      taskId: task.id,
      manifestId: target.id,
      from: f?.version ?? row.version,
      to: target.version,
      addons: f ? addonChanges(f, target) : null,
      force: ctx.body.force === true,
      custom: ctx.body.manifest !== undefined,
    },
  });
  await wakeBox(ctx.app);
  return json({ taskId: task.id }, 202);
}

/** The app's current manifest, when it may go to `target` (throws the refusal otherwise). */
export function checkUpdate(app: Pick<AppWithPorts, "manifest" | "installState" | "ports">, target: HearthManifest, force: boolean, custom: boolean): HearthManifest {
  if (app.installState === "error") {
    throw new HearthError("bad_state", "The app is in an error state; repair it first (Configure deploys it again), then update");
  }
  const parsed = hearthManifest.safeParse(app.manifest);
  if (!parsed.success) throw new HearthError("internal", "The app's stored manifest is invalid");
  const from = parsed.data;
  const refusal = updateRefusal(from, target, force);
  if (refusal) {
    if (!custom && refusal.code === "bad_state")
      throw new HearthError("bad_state", `Nothing to update: the catalog's newest version of ${from.id} is ${target.version} and the app is at ${from.version}`);
    throw new HearthError(refusal.code, refusal.message, refusal.code === "invalid" ? { details: [{ path: ["manifest", "id"], code: "custom", message: "not this app's id" }] } : undefined);
  }
  checkPublishedPortsKept(app.ports, target);
  return from;
}
