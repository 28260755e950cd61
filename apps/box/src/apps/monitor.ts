import type { HealthState } from "@hearth/contracts";
import { appExists, getAppRow, listRunningApps, recordAppHealth, recordEvent, type Db } from "@hearth/db";
import { APP_LABEL, type DockerApi, type DockerEvent } from "../docker/docker";
import type { Logger } from "../logger";
import { containerNameOf } from "./container-spec";
import { closeAppRecovered, raiseAppNotice, RESTART_LOOP_COUNT, raiseRestartLoop, RestartTracker } from "../notifications/notices";
import { isHealthyStatus, probeHttp } from "./apps.service";

/**
 * The health monitor: every `intervalMs` it probes each installed, running app's
 * healthCheckPath on 127.0.0.1:<httpHostPort> and records App.health; a change from healthy
 * to unhealthy/dead records `app.down`, back to healthy `app.up`. Docker's `oom` events of
 * Hearth's containers record `app.oom`; `die` events trigger an immediate check of that app.
 * Docker does not send `oom` on every kernel, so the monitor also watches each container's
 * cgroup `oom_kill` counter (`DockerApi.oomKills`): seeded for the running containers at
 * start, read again when a process of the container dies killed (`die`, or `exec_die` with
 * exit code 137) and at every check; a rise records `app.oom` once.
 * Restarts: at every check (and 0.5 s after each `die`) the container's Docker RestartCount
 * is read; RESTART_LOOP_COUNT restarts seen within RESTART_LOOP_WINDOW_MS raise "restarting
 * in a loop" (again at each further restart, which keeps it open; the sweep closes it after
 * a window without one, or when the app is stopped or gone).
 */
export interface HealthMonitorOptions {
  db: Db;
  docker: DockerApi;
  log: Logger;
  intervalMs?: number;
  probe?: (port: number, path: string) => Promise<number | null>;
  /** Called after a recorded health that differs from the one before (box's wiring: a vhost sync, so the app's page says it). */
  onHealthChange?: (appId: string, health: HealthState) => Promise<void>;
}

const DOWN: readonly (HealthState | null)[] = ["unhealthy", "dead"];

export class HealthMonitor {
  private timer: NodeJS.Timeout | null = null;
  private stopEvents: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** container id → the cgroup oom_kill count already accounted for. */
  private readonly oomSeen = new Map<string, number>();
  private readonly restarts = new RestartTracker();

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
    await this.seedOomCounts().catch((err) => this.o.log.warn({ err }, "cannot read the containers' oom counters"));
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
    const c = await this.o.docker.inspectContainer(containerNameOf(app.id));
    if (c) await this.checkOomCount(app.id, c.id);
    if (c) await this.checkRestarts(app.id, c.id, c.raw.RestartCount ?? 0);
    if (isHealthyStatus(status)) health = "healthy";
    else health = c?.running ? "unhealthy" : "dead";
    // only write when the app is still what we looked at (a task may have started meanwhile)
    if (!(await recordAppHealth(this.o.db, app.id, health, new Date()))) return null;
    const before = app.health;
    if (health !== before && this.o.onHealthChange) {
      await this.o.onHealthChange(app.id, health).catch((err) => this.o.log.warn({ err, appId: app.id }, "updating the app's page failed"));
    }
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
      // the counter has risen too: account for it so the next read does not record it again
      const n = await this.o.docker.oomKills?.(e.id);
      if (n !== null && n !== undefined) this.oomSeen.set(e.id, n);
      await this.event("app.oom", appId, { container: e.id.slice(0, 12) });
      return;
    }
    if (e.action === "die" || (e.action === "exec_die" && e.attributes.exitCode === "137")) {
      if (await appExists(this.o.db, appId)) await this.checkOomCount(appId, e.id);
    }
    if (e.action === "die") {
      // a stop by a task also ends in `die`; checkOne ignores apps that are not meant to run
      setTimeout(() => void this.checkOne(appId).catch(() => {}), 500).unref();
    }
  }

  private async seedOomCounts(): Promise<void> {
    if (!this.o.docker.oomKills) return;
    for (const c of await this.o.docker.listContainers()) {
      const n = await this.o.docker.oomKills(c.id);
      if (n !== null) this.oomSeen.set(c.id, n);
    }
  }

  /** Records app.oom when the container's oom_kill counter rose since it was last read. */
  private async checkOomCount(appId: string, containerId: string): Promise<void> {
    const n = await this.o.docker.oomKills?.(containerId);
    if (n === null || n === undefined) return;
    const seen = this.oomSeen.get(containerId);
    this.oomSeen.set(containerId, n);
    // containers running at start were seeded; one first seen later was made while this
    // monitor ran, and its cgroup started at 0, so whatever it counts happened meanwhile
    if (seen === undefined ? n > 0 : n > seen) {
      await this.event("app.oom", appId, { container: containerId.slice(0, 12), kills: n - (seen ?? 0) });
    }
  }

  /** Raises "restarting in a loop" when the container restarted RESTART_LOOP_COUNT times within the window (at each new restart). */
  private async checkRestarts(appId: string, containerId: string, restartCount: number): Promise<void> {
    const r = this.restarts.observe(containerId, restartCount);
    if (!r.rose || r.inWindow < RESTART_LOOP_COUNT) return;
    this.o.log.info({ appId, restartCount, inWindow: r.inWindow }, "app restarting in a loop");
    try {
      await raiseRestartLoop(this.o.db, appId, r.inWindow, restartCount);
    } catch (err) {
      this.o.log.warn({ err, appId }, "could not update the app's notification");
    }
  }

  private async event(action: "app.up" | "app.down" | "app.oom", appId: string, data: Record<string, unknown>): Promise<void> {
    this.o.log.info({ appId, action, ...data }, "app health changed");
    await recordEvent(this.o.db, { action, actorId: "box", actorName: "box", target: appId, data: data as never });
    // the admins' notification (grouped: "2 apps are down"); back up closes it
    try {
      if (action === "app.up") await closeAppRecovered(this.o.db, appId);
      else await raiseAppNotice(this.o.db, action === "app.oom" ? "app_oom" : "app_down", appId, JSON.stringify(data));
    } catch (err) {
      this.o.log.warn({ err, appId }, "could not update the app's notification");
    }
  }
}
