import {
  appIdsWithActiveTasks,
  countOrphans,
  failStalePendingApp,
  knownAppIds,
  listAppRowsWithPorts,
  notify,
  ownersOf,
  recordEvent,
  recordOrphans,
  resolveNotifications,
  type Db,
  type FoundOrphan,
  type OrphanKind,
  type StoreIdentity,
} from "@hearth/db";
import { APP_LABEL, OWNER_LABEL, type DockerApi } from "../docker/docker";
import type { Logger } from "../logger";
import { containerNameOf } from "./container-spec";
import type { VhostSync } from "../proxy/vhost-sync";
import type { StepContext } from "../tasks/steps";
import type { AppService } from "./apps.service";
import { mayCollect, volumeSource, type OrphanSource } from "./orphans";

/**
 * Compares the database with Docker (at box start and every few minutes) and repairs what
 * drifted, never touching an app that has an active task (the task owns it then):
 *  - an installed app whose container is missing gets it created again (and started when
 *    its runState is running); a running app's stopped container is started;
 *  - an app left in a pending_* state with no active task (its task ran out of attempts)
 *    goes to `error` with `interrupted`;
 *  - containers and networks of this store whose app is gone are removed, but only under
 *    the pause rule (`mayCollect`: not when the App table is empty, not when the object is
 *    older than the oldest app or the store's identity);
 *  - data of this store whose app is gone (volumes, addon databases, Redis data) is NEVER
 *    removed here: it is recorded as an Orphan (event `orphan.found`, a notification) and
 *    only an admin deletes it (orphans.ts);
 *  - the vhosts are rewritten from the database.
 * "This store's" = labelled with the store identity's id or one of its legacy owners.
 */
export interface ReconcilerOptions {
  db: Db;
  docker: DockerApi;
  service: AppService;
  vhosts: VhostSync;
  log: Logger;
  /** The store's identity (packages/db repos/store.ts); without it no orphan is looked for. */
  store?: StoreIdentity | null;
  /** Data sources besides the volumes (the addons'); called on each run. */
  orphanSources?: () => readonly OrphanSource[];
  intervalMs?: number;
}

export interface ReconcileReport {
  recreated: string[];
  started: string[];
  failedStale: string[];
  removed: { containers: string[]; networks: string[] };
  /** containers and networks without an app that the pause rule kept */
  kept: { name: string; reason: string }[];
  /** data without an app seen in this run (reported, never removed here) */
  orphans: FoundOrphan[];
  /** the orphans seen for the first time in this run */
  newOrphans: FoundOrphan[];
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
    const report: ReconcileReport = { recreated: [], started: [], failedStale: [], removed: { containers: [], networks: [] }, kept: [], orphans: [], newOrphans: [] };
    const active = await this.activeAppIds();
    const apps = await listAppRowsWithPorts(db);
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

    try {
      await this.orphans(report, active);
    } catch (err) {
      log.error({ err }, "looking for orphans failed");
    }
    return this.finish(report);
  }

  private async orphans(report: ReconcileReport, active: Set<string>): Promise<void> {
    const { db, docker, log } = this.o;
    const store = this.o.store;
    if (!store) {
      log.warn("the store has no identity; not looking for orphans (they could be another store's)");
      return;
    }
    const owners = ownersOf(store);
    // read after the docker lists would be safer for rows created meanwhile: stillGone re-checks
    const known = await knownAppIds(db);
    const isOrphan = (appId: string | undefined) => !!appId && !known.ids.has(appId) && !active.has(appId);
    const stillGone = async (id: string) => {
      const now = await knownAppIds(db);
      return !now.ids.has(id) && !(await this.activeAppIds()).has(id);
    };
    const collect = { appCount: known.appCount, oldestAppCreatedAt: known.oldestAppCreatedAt, storeCreatedAt: store.createdAt };

    // containers and networks: no data; collected under the pause rule
    for (const owner of owners) {
      for (const c of await docker.listContainers({ [OWNER_LABEL]: owner })) {
        if (!isOrphan(c.labels[APP_LABEL])) continue;
        const may = mayCollect(c.createdAt, collect);
        if (!may.ok) {
          report.kept.push({ name: c.name, reason: may.reason });
          continue;
        }
        if (!(await stillGone(c.labels[APP_LABEL]!))) continue;
        await docker.removeContainer(c.id);
        report.removed.containers.push(c.name);
      }
      for (const n of await docker.listNetworks({ [OWNER_LABEL]: owner })) {
        if (!isOrphan(n.labels[APP_LABEL])) continue;
        const may = mayCollect(n.createdAt, collect);
        if (!may.ok) {
          report.kept.push({ name: n.name, reason: may.reason });
          continue;
        }
        if (!(await stillGone(n.labels[APP_LABEL]!))) continue;
        try {
          await docker.removeNetwork(n.name);
          report.removed.networks.push(n.name);
        } catch (err) {
          // a service still attached (an orphan's database server): leave it for the next run
          log.warn({ err, network: n.name }, "an orphaned network could not be removed");
        }
      }
    }
    if (report.removed.containers.length + report.removed.networks.length) log.warn({ removed: report.removed }, "removed orphaned containers and networks");
    if (report.kept.length) log.info({ kept: report.kept }, "containers and networks without an app were left alone (pause rule)");

    // data: reported only
    const sources = [volumeSource(docker, owners), ...(this.o.orphanSources?.() ?? [])];
    const scanned: OrphanKind[] = [];
    for (const src of sources) {
      let list: { appId: string; name: string }[] | null;
      try {
        list = await src.list();
      } catch (err) {
        log.warn({ err, kind: src.kind }, "could not list data of this kind; looking again next time");
        continue;
      }
      if (list === null) continue;
      scanned.push(src.kind);
      for (const x of list) if (isOrphan(x.appId)) report.orphans.push({ kind: src.kind, name: x.name, appId: x.appId });
    }
    // a row made meanwhile (an install or restore) is not an orphan
    const now = await knownAppIds(db);
    report.orphans = report.orphans.filter((o) => !now.ids.has(o.appId));
    const fresh = await recordOrphans(db, report.orphans, scanned);
    report.newOrphans = fresh.map((o) => ({ kind: o.kind as OrphanKind, name: o.name, appId: o.appId }));
    for (const o of fresh) {
      await recordEvent(db, { action: "orphan.found", actorId: "box", actorName: "box", target: o.name, data: { orphanId: o.id, kind: o.kind, name: o.name, appId: o.appId } });
    }
    if (fresh.length) {
      log.warn({ orphans: report.newOrphans }, "found data that belongs to no app; it is kept until an admin deletes it");
      const names = report.orphans.map((o) => `${o.kind} ${o.name}`);
      await notify(db, {
        key: "orphans",
        kind: "orphans",
        link: "/apps",
        level: "warning",
        title: `${report.orphans.length} data object${report.orphans.length === 1 ? "" : "s"} belong${report.orphans.length === 1 ? "s" : ""} to no app`,
        message: `Hearth found data that belongs to no installed or uninstalled app: ${names.slice(0, 20).join(", ")}${names.length > 20 ? " …" : ""}. It is kept. Review it under Apps → Orphaned data, and delete what you do not need.`,
        target: "orphans",
      });
    } else if (scanned.length === sources.length && (await countOrphans(db)) === 0) {
      await resolveNotifications(db, "orphans");
    }
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
