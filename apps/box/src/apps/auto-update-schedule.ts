import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import cron, { type ScheduledTask } from "node-cron";
import { checkMinHearthVersion, checkPublishedPortsKept, HEARTH_VERSION, HearthError, hearthManifest, newerPatchVersion, type HearthManifest } from "@hearth/contracts";
import { listAutoUpdateApps, queueAppTask, recordEvent, type Db } from "@hearth/db";

/**
 * Automatic patch updates: once a night, every installed store app with autoUpdate on whose
 * catalog has a newer patch version of the same major.minor (pre-releases never) gets an
 * `app.update` task to the newest such version: the same backup-first update (with
 * rollback) an admin's click queues. Recorded as the event `app.update` with actor box and
 * `automatic: true`; an app that is busy then is left for the next night (logged).
 */
export const AUTO_UPDATE_CRON = "7 3 * * *";

type Log = { info(o: object, m?: string): void; warn(o: object, m?: string): void };

export interface AutoUpdateQueued {
  appId: string;
  taskId: string;
  from: string;
  to: string;
}

export class AutoUpdateSchedule {
  private task: ScheduledTask | null = null;

  constructor(private readonly d: { db: Db; catalogDirs: readonly string[]; wake: () => void; log: Log; expression?: string }) {}

  start(): void {
    const expression = this.d.expression ?? AUTO_UPDATE_CRON;
    this.task = cron.schedule(expression, () => void this.run(), { name: "app-auto-update", noOverlap: true });
    this.d.log.info({ cron: expression }, "automatic patch updates of apps scheduled");
  }

  /** Queues app.update for every app with autoUpdate on and a newer patch in the catalog. */
  async run(): Promise<AutoUpdateQueued[]> {
    const queued: AutoUpdateQueued[] = [];
    try {
      const apps = await listAutoUpdateApps(this.d.db);
      if (apps.length === 0) return queued;
      const catalog = readCatalogManifests(this.d.catalogDirs, this.d.log);
      for (const app of apps) {
        const versions = catalog.get(app.storeId ?? "") ?? [];
        // versions that need a newer Hearth are skipped, as admin does not offer them
        const to = newerPatchVersion(app.version, versions, HEARTH_VERSION);
        const target = versions.find((m) => m.version === to);
        if (!target) continue;
        try {
          let from = "";
          const { task } = await queueAppTask(this.d.db, app.id, "app.update", {}, null, (locked) => {
            const current = hearthManifest.parse(locked.manifest);
            // the admin may have updated it meanwhile: only the patch of what is installed now
            if (current.version !== app.version || !locked.autoUpdate) throw new HearthError("bad_state", "the app changed since it was read");
            // the same checks as an admin's update (apps/admin/lib/server/app-update.ts)
            checkMinHearthVersion(target, HEARTH_VERSION);
            checkPublishedPortsKept(locked.ports, target);
            from = current.version;
            return { manifest: target, fromManifest: current };
          });
          await recordEvent(this.d.db, {
            action: "app.update",
            actorId: "box",
            actorName: "box",
            target: app.id,
            data: { appId: app.id, taskId: task.id, manifestId: target.id, from, to: target.version, automatic: true },
          });
          queued.push({ appId: app.id, taskId: task.id, from, to: target.version });
        } catch (e) {
          this.d.log.warn({ appId: app.id, to: target.version, err: (e as Error).message }, "automatic update not queued; the next window tries again");
        }
      }
      if (queued.length) {
        this.d.log.info({ updates: queued }, "automatic patch updates queued");
        this.d.wake();
      }
    } catch (e) {
      this.d.log.warn({ err: (e as Error).message }, "could not queue the automatic patch updates");
    }
    return queued;
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    this.task = null;
  }
}

/** Every valid manifest of the catalog folders, by manifest id (invalid ones skipped with a warning). */
export function readCatalogManifests(dirs: readonly string[], log: Log): Map<string, HearthManifest[]> {
  const byId = new Map<string, HearthManifest[]>();
  for (const root of dirs) {
    if (!existsSync(root)) continue;
    for (const ent of readdirSync(root, { withFileTypes: true })) {
      if (!ent.isDirectory() || ent.name.startsWith(".")) continue;
      const file = path.join(root, ent.name, "HearthManifest.json");
      if (!existsSync(file)) continue;
      try {
        const m = hearthManifest.parse(JSON.parse(readFileSync(file, "utf8")));
        const list = byId.get(m.id) ?? [];
        if (!list.some((x) => x.version === m.version)) list.push(m);
        byId.set(m.id, list);
      } catch (e) {
        log.warn({ file, err: (e as Error).message.slice(0, 500) }, "catalog manifest skipped by automatic updates");
      }
    }
  }
  return byId;
}
