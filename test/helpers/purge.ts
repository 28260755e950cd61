import { getUninstalledApp, type Db } from "@hearth/db";
import type { AppService, StepContext } from "../../apps/box/src/apps/apps.service";

/**
 * Uninstall keeps an app's data (UninstalledApp); an admin's "delete now" purges it. Tests
 * that check "nothing is left" run both, as an admin would: uninstall, then delete now
 * (the row marked `purging` as queueAppPurge does, then AppService.purge as the app.purge task).
 */
export async function uninstallAndPurge(db: Db, service: AppService, appId: string, ctx: StepContext): Promise<void> {
  await service.uninstall(appId, ctx);
  await purgeUninstalled(db, service, appId, ctx);
}

export async function purgeUninstalled(db: Db, service: AppService, appId: string, ctx: StepContext): Promise<void> {
  if (!(await getUninstalledApp(db, appId))) return;
  await db.uninstalledApp.update({ where: { id: appId }, data: { state: "purging" } });
  await service.purge(appId, ctx);
}
