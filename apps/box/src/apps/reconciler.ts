import { appExists, appIdsWithActiveTasks, failStalePendingApp, listAppRowsWithPorts, type Db } from "@hearth/db";
import { APP_LABEL, OWNER_LABEL, type DockerApi } from "../docker/docker";
import type { Logger } from "../logger";
import { containerNameOf } from "./container-spec";
import type { VhostSync } from "../proxy/vhost-sync";
import type { StepContext } from "../tasks/steps";
import type { AppService } from "./apps.service";

/**
 * Compares the database with Docker (at box start and every few minutes) and repairs what
 * drifted, never touching an app that has an active task (the task owns it then):
 *  - an installed app whose container is missing gets it created again (and started when
 *    its runState is running); a running app's stopped container is started;
 *  - an app left in a pending_* state with no active task (its task ran out of attempts)
 *    goes to `error` with `interrupted`;
 *  - Hearth-labelled containers, networks and volumes whose app row is gone are removed;
 *  - the vhosts are rewritten from the database.
 */
export interface ReconcilerOptions {
  db: Db;
  docker: DockerApi;
  service: AppService;
  vhosts: VhostSync;
  log: Logger;
  intervalMs?: number;
}

export interface ReconcileReport {
  recreated: string[];
  started: string[];
  failedStale: string[];
  removed: { containers: string[]; networks: string[]; volumes: string[] };
}

export class Reconciler {
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<ReconcileReport> | null = null;
  private stopped = false;

  constructor(private readonly o: ReconcilerOptions) {}

  /** Runs once now (errors logged), then every intervalMs (default 5 min). */
  start(): void {
    this.stopped = false;
    const tick = (delay: number) => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        void this.run()
          .catch((err) => this.o.log.error({ err }, "reconcile failed"))
          .finally(() => tick(this.o.intervalMs ?? 300_000));
      }, delay);
    };
    tick(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.current?.catch(() => {});
  }

  run(): Promise<ReconcileReport> {
    this.current ??= this.doRun().finally(() => (this.current = null));
    return this.current;
  }

  private async activeAppIds(): Promise<Set<string>> {
    return appIdsWithActiveTasks(this.o.db);
  }

  private async doRun(): Promise<ReconcileReport> {
    const { db, docker, service, log } = this.o;
    const report: ReconcileReport = { recreated: [], started: [], failedStale: [], removed: { containers: [], networks: [], volumes: [] } };
    const active = await this.activeAppIds();
    const apps = await listAppRowsWithPorts(db);
    const known = new Set(apps.map((a) => a.id));

    for (const app of apps) {
      if (active.has(app.id)) continue;
      if (app.installState.startsWith("pending_")) {
        // re-check under the row: a task may have been created since we listed them
        const stillIdle = !(await this.activeAppIds()).has(app.id);
        if (!stillIdle) continue;
        if (await failStalePendingApp(db, app.id, app.installState)) {
          report.failedStale.push(app.id);
          log.warn({ appId: app.id, state: app.installState }, "app was left pending without a task; marked as error");
        }
        continue;
      }
      if (app.installState !== "installed") continue;
      try {
        const c = await docker.inspectContainer(containerNameOf(app.id));
        if (!c) {
          log.warn({ appId: app.id }, "the app's container is missing; creating it again");
          const manifest = service.manifestOf(app);
          await service.ensureContainer(app, manifest, this.ctx(app.id));
          if (app.runState === "running") await docker.startContainer(containerNameOf(app.id));
          report.recreated.push(app.id);
        } else if (app.runState === "running" && !c.running && c.status !== "restarting") {
          log.warn({ appId: app.id, status: c.status }, "the app's container is not running; starting it");
          await docker.startContainer(c.id);
          report.started.push(app.id);
        }
      } catch (err) {
        log.error({ err, appId: app.id }, "repairing the app's container failed");
      }
    }

    // orphans: labelled objects of apps that no longer exist and have no task in flight
    const orphan = (labels: Record<string, string>) => {
      const id = labels[APP_LABEL];
      return !!id && !known.has(id) && !active.has(id);
    };
    // a row created after we listed the apps is not an orphan: check once more before removing
    const stillGone = async (id: string) => !(await appExists(db, id)) && !(await this.activeAppIds()).has(id);
    if (!service.owner) {
      log.warn("the app service has no owner label; not looking for orphans (they could be another store's)");
      return this.finish(report);
    }
    const mine = { [OWNER_LABEL]: service.owner };
    for (const c of await docker.listContainers(mine)) {
      if (!orphan(c.labels) || !(await stillGone(c.labels[APP_LABEL]!))) continue;
      await docker.removeContainer(c.id);
      report.removed.containers.push(c.name);
    }
    for (const n of await docker.listNetworks(mine)) {
      if (!orphan(n.labels) || !(await stillGone(n.labels[APP_LABEL]!))) continue;
      await docker.removeNetwork(n.name);
      report.removed.networks.push(n.name);
    }
    for (const v of await docker.listVolumes(mine)) {
      if (!orphan(v.labels) || !(await stillGone(v.labels[APP_LABEL]!))) continue;
      await docker.removeVolume(v.name);
      report.removed.volumes.push(v.name);
    }
    const removedAny = report.removed.containers.length + report.removed.networks.length + report.removed.volumes.length;
    if (removedAny) log.warn({ removed: report.removed }, "removed orphaned docker objects");
    return this.finish(report);
  }

  private async finish(report: ReconcileReport): Promise<ReconcileReport> {
    const { log } = this.o;
    try {
      await this.o.vhosts.syncVhosts();
    } catch (err) {
      log.error({ err }, "rewriting the vhosts failed");
    }
    return report;
  }

  private ctx(appId: string): StepContext {
    return {
      taskId: "reconciler",
      signal: new AbortController().signal,
      progress: async () => {},
      log: (line) => this.o.log.info({ appId }, line),
    };
  }
}
