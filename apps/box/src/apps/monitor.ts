import type { HealthState } from "@hearth/contracts";
import { appExists, getAppRow, listRunningApps, recordAppHealth, recordEvent, type Db } from "@hearth/db";
import { APP_LABEL, type DockerApi, type DockerEvent } from "../docker/docker";
import type { Logger } from "../logger";
import { containerNameOf } from "./container-spec";
import { isHealthyStatus, probeHttp } from "./apps.service";

/**
 * The health monitor: every `intervalMs` it probes each installed, running app's
 * healthCheckPath on 127.0.0.1:<httpHostPort> and records App.health; a change from healthy
 * to unhealthy/dead records `app.down`, back to healthy `app.up`. Docker's `oom` events of
 * Hearth's containers record `app.oom`; `die` events trigger an immediate check of that app.
 */
export interface HealthMonitorOptions {
  db: Db;
  docker: DockerApi;
  log: Logger;
  intervalMs?: number;
  probe?: (port: number, path: string) => Promise<number | null>;
}

const DOWN: readonly (HealthState | null)[] = ["unhealthy", "dead"];

export class HealthMonitor {
  private timer: NodeJS.Timeout | null = null;
  private stopEvents: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly o: HealthMonitorOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    try {
      this.stopEvents = await this.o.docker.events(
        (e) => void this.onEvent(e).catch((err) => this.o.log.warn({ err }, "handling a docker event failed")),
        (err) => this.o.log.warn({ err }, "docker event stream failed"),
      );
    } catch (err) {
      this.o.log.warn({ err }, "cannot listen to docker events");
    }
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => {
        void this.checkAll()
          .catch((err) => this.o.log.warn({ err }, "health check round failed"))
          .finally(tick);
      }, this.o.intervalMs ?? 10_000);
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stopEvents?.();
    this.stopEvents = null;
    await this.running;
  }

  /** One round over every installed app that should be running. */
  async checkAll(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      const apps = await listRunningApps(this.o.db);
      for (const app of apps) await this.checkOne(app.id);
    })().finally(() => (this.running = null));
    return this.running;
  }

  async checkOne(appId: string): Promise<HealthState | null> {
    const app = await getAppRow(this.o.db, appId);
    if (!app || app.installState !== "installed" || app.runState !== "running" || app.httpHostPort === null) return null;
    const manifest = app.manifest as { healthCheckPath?: string };
    const status = await (this.o.probe ?? probeHttp)(app.httpHostPort, manifest.healthCheckPath ?? "/");
    let health: HealthState;
    if (isHealthyStatus(status)) health = "healthy";
    else {
      const c = await this.o.docker.inspectContainer(containerNameOf(app.id));
      health = c?.running ? "unhealthy" : "dead";
    }
    // only write when the app is still what we looked at (a task may have started meanwhile)
    if (!(await recordAppHealth(this.o.db, app.id, health, new Date()))) return null;
    const before = app.health;
    if (health !== "healthy" && !DOWN.includes(before)) {
      await this.event("app.down", app.id, { health, httpStatus: status, previous: before });
    } else if (health === "healthy" && DOWN.includes(before)) {
      await this.event("app.up", app.id, { previous: before });
    }
    return health;
  }

  private async onEvent(e: DockerEvent): Promise<void> {
    if (e.type !== "container") return;
    const appId = e.attributes[APP_LABEL];
    if (!appId) return;
    if (e.action === "oom") {
      if (!(await appExists(this.o.db, appId))) return; // another store's app
      await this.event("app.oom", appId, { container: e.id.slice(0, 12) });
    } else if (e.action === "die") {
      // a stop by a task also ends in `die`; checkOne ignores apps that are not meant to run
      setTimeout(() => void this.checkOne(appId).catch(() => {}), 500).unref();
    }
  }

  private async event(action: string, appId: string, data: Record<string, unknown>): Promise<void> {
    this.o.log.info({ appId, action, ...data }, "app health changed");
    await recordEvent(this.o.db, { action, actorId: "box", actorName: "box", target: appId, data: data as never });
  }
}
