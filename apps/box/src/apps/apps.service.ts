import { createHash } from "node:crypto";
import { mkdir, open, readdir, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { hearthManifest, isHearthError, maxAppMemoryLimit, memoryLimitTooHighMessage, type HearthManifest } from "@hearth/contracts";
import {
  getAppCredential,
  getAppRow,
  getAppRowWithPorts,
  openSecret,
  getUninstalledApp,
  moveAppToUninstalled,
  removeUninstalledApp,
  setAppContainerId,
  setAppManifest,
  snapshotOf,
  updateAppState,
  type App,
  type Db,
  type Prisma,
} from "@hearth/db";
import { dockerStatusOf, type DockerApi } from "../docker/docker";
import { readIfExists, syncDir, writeDurable } from "../lib/durable-files";
import { TaskError } from "../tasks/registry";
import { errorLine } from "../tasks/task-log";
import { archiveContainerLogs } from "./app-logs";
import { LogHistory } from "./log-history";
import { closeAppNotices } from "../notifications/notices";
import { appLabels, containerNameOf, containerSpec, dataVolumeNameOf, networkNameOf } from "./container-spec";
import { ensureImage, type RegistryCredentials } from "./images";
import { allocateHttpPort, busyTcpHostPorts, prismaPortStore, publishedHostPorts, type AllocateOptions } from "./ports";
import type { AddonHooks, AppNameHooks, AppWithPorts, StepContext } from "../tasks/steps";
import { healthProbeDelay } from "./health-wait";
import type { VhostSync } from "../proxy/vhost-sync";
import { vhostSyncLogLine } from "../proxy/sync-log";

// the step and seam types live in tasks/ and proxy/; re-exported for the callers that took them from here
export type { AddonHooks, AppWithPorts, StepContext, VhostSync };
export { noopVhostSync } from "../proxy/vhost-sync";

/**
 * The app lifecycle on this machine: what the app.* tasks do, step by step. Every step is
 * idempotent (checks before it acts), so a task interrupted anywhere and run again from the
 * start ends in the intended state without duplicates: the port is kept on the App row, the
 * network and volume are created only when missing, and the container is always removed
 * (by its fixed name) before it is created again.
 */

export interface AppServiceDeps {
  db: Db;
  docker: DockerApi;
  vhosts: VhostSync;
  registries: RegistryCredentials;
  catalogDirs: readonly string[];
  /** How long an app may take to answer its health check after a (re)start. Default 120 s. */
  healthTimeoutMs?: number;
  /** The longest pause between health probes while waiting (they start at 25 ms and double: health-wait.ts). Default 500 ms. */
  healthIntervalMs?: number;
  ports?: AllocateOptions;
  /** Is a host port free for an app's TCP port? Default: a real bind on 0.0.0.0 (ports.ts). */
  tcpPortFree?: (port: number) => Promise<boolean>;
  /** Test hook (HEARTH_TEST_APP_STEP_DELAY_MS): a pause after each progress step, so kill -9 tests can hit every step. */
  stepDelayMs?: number;
  /** The store this box serves (see appLabels); default: derived from nothing (no owner label). */
  owner?: string;
  /** DNS records and certificates of the app's names (apps/box/src/domains); absent = none. */
  names?: AppNameHooks;
  /** The manifest's addons (apps/box/src/addons); absent = apps get no addon credentials. */
  addons?: AddonHooks;
  /** The server's physical memory in bytes. Default: os.totalmem(). */
  memoryBytes?: () => number;
  /** An app's log history folder (paths.ts `dataPaths().appLogs`); absent = a removed container's output is not kept. */
  appLogDir?: (appId: string) => string;
  /** HEARTH_SECRET_KEY: opens an app's sealed first admin password (manifest firstAdmin); absent = such an app fails to install. */
  secretKey?: Buffer | null;
}

/** In a pre-update backup folder: written last, once every addon's data is on disk. */
export const BACKUP_COMPLETE_FILE = ".complete";
/** In a pre-update backup folder: the update failed and is being rolled back (a resumed task goes on rolling back). */
export const ROLLBACK_FILE = ".rollback";

/** A short stable name for a database URL's host, port and database (no credentials). */
export function ownerOf(databaseUrl: string): string {
  const u = new URL(databaseUrl.replace(/^mysql:/, "mariadb:"));
  return createHash("sha256")
    .update(`${u.hostname}:${u.port || 3306}/${u.pathname.replace(/^\//, "")}${u.searchParams.get("socket") ?? ""}`)
    .digest("hex")
    .slice(0, 16);
}

/** Flushes every file under `dir` (and the folders' entries) to disk. */
async function syncTree(dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await syncTree(p);
    else if (e.isFile()) {
      const fh = await open(p, "r");
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  }
  await syncDir(dir);
}

/** GET http://127.0.0.1:<port><path>: the status code, or null when nothing answers. */
export function probeHttp(port: number, path: string, timeoutMs = 3000): Promise<number | null> {
  return new Promise((resolve) => {
    const req = http.get({ host: "127.0.0.1", port, path, timeout: timeoutMs, headers: { "user-agent": "hearth-health", connection: "close" } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? null);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(null));
  });
}
export const isHealthyStatus = (s: number | null) => s !== null && s >= 200 && s < 400;

/** `p` with a handler attached at once, so it may reject while the caller awaits something else; awaiting it still throws. */
function inFlight<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** Waits for every one (none is left running behind the caller), then throws the first failure in list order. */
async function allSettledOrThrow(ps: readonly (Promise<unknown> | undefined)[]): Promise<void> {
  const rs = await Promise.allSettled(ps);
  for (const r of rs) if (r.status === "rejected") throw r.reason;
}

export class AppService {
  constructor(private readonly d: AppServiceDeps) {}

  get owner(): string | undefined {
    return this.d.owner;
  }
  private get db() {
    return this.d.db;
  }
  private get docker() {
    return this.d.docker;
  }

  async load(appId: string): Promise<AppWithPorts> {
    const app = await getAppRowWithPorts(this.db, appId);
    if (!app) throw new TaskError(`there is no app ${appId}`, "not_found");
    return app;
  }

  manifestOf(app: App): HearthManifest {
    const r = hearthManifest.safeParse(app.manifest);
    if (!r.success) throw new TaskError(`the app's stored manifest is invalid: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, "invalid");
    return r.data;
  }

  // ---- the tasks -------------------------------------------------------------------------

  async install(appId: string, ctx: StepContext, opts: { overwriteDns?: boolean } = {}): Promise<{ containerId: string; httpHostPort: number }> {
    return this.deploy(appId, ctx, "install", opts);
  }

  async configure(appId: string, ctx: StepContext, opts: { overwriteDns?: boolean } = {}): Promise<{ containerId: string }> {
    return this.deploy(appId, ctx, "configure", opts);
  }

  /**
   * Install and configure are one pipeline, each step idempotent: port, image, container
   * from the row, health, proxy. They differ in what a failure does: a failed install is
   * cleaned up (nothing left behind), a failed configure keeps the app and its data.
   */
  private async deploy(appId: string, ctx: StepContext, mode: "install" | "configure", opts: { overwriteDns?: boolean }): Promise<{ containerId: string; httpHostPort: number }> {
    ctx = this.stepped(ctx);
    return this.failingTo(appId, ctx, { cleanup: mode === "install" }, async () => {
      await this.checkMemoryLimit(await this.load(appId), mode);
      const r = await this.deploySteps(appId, ctx, opts, mode === "install" ? "allocating a host port" : "checking the host port");
      await this.setState(appId, { installState: "installed", errorCode: null, errorMessage: null, errorTaskId: null });
      // a stopped app stays stopped (configure): its names answer "stopped" again, not "being reconfigured"
      if ((await getAppRow(this.db, appId))?.runState === "stopped") await this.syncPages(ctx);
      await ctx.progress(100, mode === "install" ? "installed" : "configured");
      return r;
    });
  }

  /**
   * The deploy pipeline from the row: port, DNS, image, container (with the addons), start,
   * health, proxy, certificates. `at` maps its 0–100 progress into the caller's range.
   */
  private async deploySteps(
    appId: string,
    ctx: StepContext,
    opts: { overwriteDns?: boolean },
    portMessage: string,
    at: (p: number) => number = (p) => p,
  ): Promise<{ containerId: string; httpHostPort: number }> {
    let app = await this.load(appId);
    const manifest = this.manifestOf(app);
    // Work that needs nothing of the other runs side by side: the network and the volume
    // (Docker's iptables work for a new network grows with the number of networks) beside
    // the port, the DNS records and the image; the vhost beside the health wait. The vhost
    // goes live only once the container has started: a request that reaches the published
    // port while Docker is still starting the container stalls that port for ~0.7 s
    // (measured: first 200 after 600–800 ms instead of 2 ms), so traffic must not be sent
    // there earlier. Each strand is awaited before this returns or throws, so a failed
    // install's cleanup never races one still running.
    const prepared = inFlight(this.ensureNetworkAndVolume(appId, ctx));
    let proxied: Promise<void> | undefined;
    let allocated: Promise<void> | undefined;
    try {
      await ctx.progress(at(5), portMessage);
      allocated = inFlight(
        allocateHttpPort(prismaPortStore(this.db), appId, this.d.ports).then((port) => {
          ctx.log(`HTTP port ${manifest.httpPort} is published on 127.0.0.1:${port}`);
        }),
      );
      const names = this.d.names;
      // before the image and the container: a name taken by someone else's record fails the
      // task early (a failed install's cleanup removes the network and volume made meanwhile)
      if (names) await ctx.progress(at(8), "DNS records");
      await allSettledOrThrow([allocated, names?.publishRecords(appId, ctx, { overwriteDns: opts.overwriteDns === true })]);
      await ctx.progress(at(10), `getting the image ${manifest.dockerImage}`);
      const how = await ensureImage(this.d, { ref: manifest.dockerImage, manifestId: manifest.id }, ctx);
      ctx.log(`image ${manifest.dockerImage}: ${how}`);
      app = await this.load(appId);
      const containerId = await this.recreate(app, manifest, ctx, at(50), prepared);
      await this.runAndCheck(app, manifest, ctx, at(70), () => {
        proxied = inFlight(this.syncVhosts(ctx));
      });
      await ctx.progress(at(85), "configuring the reverse proxy");
      await (proxied ?? this.syncVhosts(ctx));
      if (this.d.names) {
        // served with what it has (the fallback at first) while the certificates are ordered
        await ctx.progress(at(90), "certificates");
        await this.d.names.publishCertificates(appId, ctx);
        await this.syncVhosts(ctx);
      }
      return { containerId, httpHostPort: app.httpHostPort! };
    } finally {
      await Promise.allSettled([prepared, allocated, proxied]);
    }
  }

  /**
   * app.update: from `fromManifest` (on the row when the task was queued) to `manifest`.
   *  1. the target image is made present (a missing image fails before anything changes);
   *  2. the app is stopped and backed up into <dataDir>/backups/apps/<id>/pre-update-<taskId>/
   *     (every addon and /app/data; a `.complete` marker is written last, so a resumed task
   *     reuses a complete backup and redoes a partial one);
   *  3. the target manifest goes on the row, then the deploy pipeline runs (the provisioner
   *     backs up and tears down removed addons, provisions added ones);
   *  4. any failure rolls back: the old manifest on the row, the container made from it (which
   *     provisions again what the update removed), the backup restored before the container
   *     starts, start, health. The app ends `installed` on the old version with the error
   *     `update_failed`, or `error` when the rollback fails too. A `.rollback` marker makes a
   *     task resumed after a crash mid-rollback go on rolling back, never forward.
   */
  async update(
    appId: string,
    ctx: StepContext,
    args: { manifest: HearthManifest; fromManifest: HearthManifest; overwriteDns?: boolean },
  ): Promise<{ version: string; from: string; backupDir: string }> {
    ctx = this.stepped(ctx);
    const target = args.manifest;
    const from = args.fromManifest;
    const addons = this.d.addons;
    if (!addons) {
      const message = "updates need the addon provisioner (for the backup before the update); this box has none";
      await this.setState(appId, { installState: "installed", errorCode: "bad_state", errorMessage: message, errorTaskId: ctx.taskId });
      throw new TaskError(message, "bad_state");
    }
    const dir = addons.appBackupDir(appId, `pre-update-${ctx.taskId}`);
    const app = await this.load(appId);
    if (app.manifestId !== target.id || from.id !== target.id) throw new TaskError(`the manifest ${target.id} is not this app's (${app.manifestId})`, "invalid");
    ctx.log(`updating ${target.id} from ${from.version} to ${target.version}; the backup goes to ${dir}`);

    const rolling = await readIfExists(path.join(dir, ROLLBACK_FILE));
    if (rolling !== null) {
      ctx.log("an earlier attempt of this update failed and was rolling back: going on with the rollback");
      const cause = JSON.parse(rolling) as { code: string; message: string };
      return this.rollBack(appId, ctx, { from, target, dir, cause });
    }
    try {
      await ctx.progress(3, `getting the image ${target.dockerImage}`);
      const how = await ensureImage(this.d, { ref: target.dockerImage, manifestId: target.id }, ctx);
      ctx.log(`image ${target.dockerImage}: ${how}`);

      if ((await readIfExists(path.join(dir, BACKUP_COMPLETE_FILE))) !== null) {
        ctx.log("the backup from before the update is complete (an earlier attempt made it): reusing it");
      } else {
        await ctx.progress(10, "stopping the app for the backup");
        await this.docker.stopContainer(containerNameOf(appId), 10);
        await this.setState(appId, { health: null });
        await this.syncPages(ctx); // its page says "being updated"
        await ctx.progress(15, "backing up the app before the update");
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true, mode: 0o700 });
        const covered = await addons.backupApp(appId, dir, ctx);
        await writeDurable(path.join(dir, "manifest.json"), `${JSON.stringify(from, null, 2)}\n`, 0o600);
        await syncTree(dir);
        await writeDurable(path.join(dir, BACKUP_COMPLETE_FILE), `${JSON.stringify({ from: from.version, to: target.version, addons: covered, at: new Date().toISOString() })}\n`, 0o600);
        await syncDir(dir);
        ctx.log(`backed up: ${covered.join(", ") || "nothing"}`);
      }

      await ctx.progress(30, `switching the app to version ${target.version}`);
      await this.setManifest(appId, target);
      const r = await this.deploySteps(appId, ctx, { overwriteDns: args.overwriteDns }, "checking the host port", (p) => 30 + Math.round(p * 0.65));
      ctx.log(`container ${r.containerId.slice(0, 12)} runs version ${target.version}`);
      await this.setState(appId, { installState: "installed", errorCode: null, errorMessage: null, errorTaskId: null });
      await ctx.progress(100, `updated to ${target.version}`);
      return { version: target.version, from: from.version, backupDir: dir };
    } catch (e) {
      if (ctx.signal.aborted) throw e; // box is stopping: the task resumes from the start
      const known = e instanceof TaskError || isHearthError(e);
      const cause = { code: known ? e.code : "internal", message: known ? e.message : "internal error; see the task log" };
      ctx.log(`the update failed (${cause.code}: ${cause.message}); rolling back to ${from.version}`);
      if (!(e instanceof TaskError) && !isHearthError(e)) {
        if (ctx.fault) ctx.fault(e, "  the update's unexpected error");
        else ctx.log(`  ${errorLine(e)}`);
      }
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeDurable(path.join(dir, ROLLBACK_FILE), `${JSON.stringify(cause)}\n`, 0o600);
      return this.rollBack(appId, ctx, { from, target, dir, cause });
    }
  }

  /** The manifest (and its version) on the App row. */
  private async setManifest(appId: string, m: HearthManifest): Promise<void> {
    await setAppManifest(this.db, appId, m);
  }

  /** Step 4 of update; always throws (update_failed after a rollback, the rollback's error otherwise). */
  private async rollBack(appId: string, ctx: StepContext, o: { from: HearthManifest; target: HearthManifest; dir: string; cause: { code: string; message: string } }): Promise<never> {
    const what = `the update from ${o.from.version} to ${o.target.version} failed (${o.cause.code}: ${o.cause.message})`;
    try {
      await ctx.progress(60, `rolling back to ${o.from.version}`);
      await this.setManifest(appId, o.from);
      const backedUp = (await readIfExists(path.join(o.dir, BACKUP_COMPLETE_FILE))) !== null;
      const app = await this.load(appId);
      if (app.httpHostPort === null) await allocateHttpPort(prismaPortStore(this.db), appId, this.d.ports);
      await ensureImage(this.d, { ref: o.from.dockerImage, manifestId: o.from.id }, ctx);
      // made from the old manifest: the provisioner gives back what the update removed (empty)
      // and backs up, then removes, what it added
      const loaded = await this.load(appId);
      await this.recreate(loaded, o.from, ctx, 75);
      if (backedUp) {
        await ctx.progress(80, "restoring the data from before the update");
        const restored = await this.d.addons!.restoreApp(appId, o.dir, ctx);
        ctx.log(`restored: ${restored.join(", ") || "nothing"}`);
      } else {
        ctx.log("the update failed before its backup was complete: the data was not changed, nothing to restore");
      }
      await this.runAndCheck(loaded, o.from, ctx, 85);
      await ctx.progress(95, "configuring the reverse proxy");
      await this.syncVhosts(ctx);
    } catch (re) {
      if (ctx.signal.aborted) throw re;
      const known = re instanceof TaskError || isHearthError(re);
      if (!known) {
        if (ctx.fault) ctx.fault(re, "the rollback's unexpected error");
        else ctx.log(`the rollback's unexpected error: ${errorLine(re)}`);
      }
      const message = `${what}, and the rollback failed too (${known ? `${re.code}: ${re.message}` : "internal error; see the task log"}); the backup from before the update is in ${o.dir}`;
      ctx.log(message);
      await this.setState(appId, { installState: "error", health: null, errorCode: "update_failed", errorMessage: message, errorTaskId: ctx.taskId }).catch(() => {});
      throw new TaskError(message, "update_failed");
    }
    const message = `${what} and was rolled back to ${o.from.version}`;
    await this.setState(appId, { installState: "installed", errorCode: "update_failed", errorMessage: message, errorTaskId: ctx.taskId });
    await ctx.progress(100, `rolled back to ${o.from.version}`);
    throw new TaskError(message, "update_failed");
  }

  /**
   * app.uninstall keeps the data: DNS records and certificates, the container, the network
   * and (with the row) the vhost go; the volume, the addons' databases and Redis data stay,
   * and the App row becomes an UninstalledApp row (snapshot of manifest, config, ports,
   * names and sealed addon credentials) kept until its purgeAfter (Setting
   * apps.uninstallRetentionDays, default 7). app.restore brings it back, app.purge deletes it.
   */
  async uninstall(appId: string, ctx: StepContext): Promise<{ removed: true; purgeAfter: string | null }> {
    ctx = this.stepped(ctx);
    return this.failingTo(appId, ctx, { cleanup: false }, async () => {
      const app = await getAppRow(this.db, appId);
      if (!app) {
        ctx.log("the app row is already gone (an earlier attempt got that far)");
        await this.syncVhosts(ctx);
        await this.d.addons?.settleServices?.(ctx);
        const u = await getUninstalledApp(this.db, appId);
        return { removed: true as const, purgeAfter: u?.purgeAfter.toISOString() ?? null };
      }
      if (this.d.names) {
        await ctx.progress(5, "removing DNS records and certificates");
        await this.d.names.unpublish(appId, ctx);
      }
      await ctx.progress(10, "removing the container");
      await this.removeAppContainer(appId, containerNameOf(appId), ctx);
      if (this.d.addons) {
        await ctx.progress(20, "letting go of the addons (their data is kept)");
        await this.d.addons.detach(appId, ctx);
      }
      await ctx.progress(30, "removing the network");
      await this.docker.removeNetwork(networkNameOf(appId));
      // the vhost goes with the row: hide the app from the proxy first, then sync
      await ctx.progress(60, "keeping the app's data; removing the vhost");
      const kept = await moveAppToUninstalled(this.db, appId);
      // what admins were told about the app is over with it
      await closeAppNotices(this.db, appId).catch((err) => ctx.log(`could not close the app's notifications (the sweep will): ${(err as Error)?.message}`));
      ctx.log(`the volume ${dataVolumeNameOf(appId)} and the addons' data are kept until ${kept?.purgeAfter.toISOString() ?? "?"}; restore or delete it from the dashboard`);
      await this.syncVhosts(ctx);
      // the last app that needed MariaDB/PostgreSQL is gone: the service stops (its data stays)
      await this.d.addons?.settleServices?.(ctx);
      await ctx.progress(100, "uninstalled (data kept)");
      return { removed: true as const, purgeAfter: kept?.purgeAfter.toISOString() ?? null };
    });
  }

  /**
   * app.restore: the App row is back (admin restored it from the UninstalledApp snapshot,
   * pending_restore); the deploy pipeline makes the network, reuses the kept volume,
   * provisions the addons with their kept credentials (their data is there) and starts the
   * app. A failure keeps everything (the app goes to `error`; configure or uninstall again).
   */
  async restore(appId: string, ctx: StepContext): Promise<{ containerId: string; httpHostPort: number }> {
    ctx = this.stepped(ctx);
    return this.failingTo(appId, ctx, { cleanup: false }, async () => {
      if (!(await this.docker.inspectVolume(dataVolumeNameOf(appId)))) ctx.log(`the volume ${dataVolumeNameOf(appId)} is gone; the app starts with an empty /app/data`);
      const r = await this.deploySteps(appId, ctx, {}, "allocating a host port");
      await this.setState(appId, { installState: "installed", errorCode: null, errorMessage: null, errorTaskId: null });
      await ctx.progress(100, "restored");
      return r;
    });
  }

  /**
   * app.purge: deletes the data of an uninstalled app (its addons' databases and Redis data
   * from the kept credentials, its volume), then the UninstalledApp row. Only for a row in
   * `purging` (an admin's delete now, or the daily expiry); each step idempotent.
   */
  async purge(appId: string, ctx: StepContext): Promise<{ purged: boolean }> {
    ctx = this.stepped(ctx);
    const u = await getUninstalledApp(this.db, appId);
    if (!u) {
      ctx.log("there is no uninstalled app with this id (purged already, or restored)");
      return { purged: false };
    }
    if (u.state !== "purging") throw new TaskError(`the uninstalled app ${appId} is not marked for deletion (state ${u.state})`, "bad_state");
    if (await getAppRow(this.db, appId)) throw new TaskError(`the app ${appId} is installed; its data is not deleted`, "bad_state");
    await ctx.progress(10, "removing what is left of the container and network");
    await this.docker.removeContainer(containerNameOf(appId));
    if (this.d.addons) {
      await ctx.progress(30, "deleting the addons' data");
      await this.d.addons.purge(appId, snapshotOf(u).addons, ctx);
    }
    await this.docker.removeNetwork(networkNameOf(appId));
    await ctx.progress(70, "deleting the data volume");
    await this.docker.removeVolume(dataVolumeNameOf(appId));
    // the log history goes with the data (the uninstall kept it with the volume)
    if (this.d.appLogDir) await new LogHistory(this.d.appLogDir(appId)).remove();
    await removeUninstalledApp(this.db, appId);
    await ctx.progress(100, "deleted");
    return { purged: true };
  }

  async start(appId: string, ctx: StepContext): Promise<{ running: true }> {
    return this.withRunState(appId, ctx, "running", async (app, manifest, c) => {
      await this.runAndCheck(app, manifest, c, 30);
      await this.setState(appId, { installState: "installed", errorCode: null, errorMessage: null, errorTaskId: null });
      await c.progress(100, "running");
      return { running: true as const };
    });
  }

  async stop(appId: string, ctx: StepContext): Promise<{ running: false }> {
    return this.withRunState(appId, ctx, "stopped", async (_app, _manifest, c) => {
      await c.progress(30, "stopping the container");
      await this.docker.stopContainer(containerNameOf(appId), 10);
      await this.setState(appId, { installState: "installed", health: null, healthCheckedAt: new Date(), errorCode: null, errorMessage: null, errorTaskId: null });
      // its names now answer 503 "stopped by the administrator" without reaching the app
      await this.syncPages(c);
      await c.progress(100, "stopped");
      return { running: false as const };
    });
  }

  async restart(appId: string, ctx: StepContext): Promise<{ running: true }> {
    return this.withRunState(appId, ctx, "running", async (app, manifest, c, existed) => {
      await c.progress(30, "restarting the container");
      if (existed) await this.docker.restartContainer(containerNameOf(appId), 10);
      await this.runAndCheck(app, manifest, c, 40);
      await this.setState(appId, { installState: "installed", errorCode: null, errorMessage: null, errorTaskId: null });
      await c.progress(100, "restarted");
      return { running: true as const };
    });
  }

  /**
   * The common head of start/stop/restart: record the intended run state first (so a
   * crash here resumes towards it), then make sure the container exists as the row says.
   * `existed` is false when the container had to be recreated.
   */
  private withRunState<T>(
    appId: string,
    ctx: StepContext,
    runState: "running" | "stopped",
    body: (app: AppWithPorts, manifest: HearthManifest, ctx: StepContext, existed: boolean) => Promise<T>,
  ): Promise<T> {
    const c = this.stepped(ctx);
    return this.failingTo(appId, c, { cleanup: false }, async () => {
      const loaded = await this.load(appId);
      const manifest = this.manifestOf(loaded);
      await this.setState(appId, { runState });
      // the app's page says what is happening (stopping, starting, restarting); a start
      // proxies its names again
      await this.syncPages(c);
      const app = { ...loaded, runState };
      const existed = await this.ensureContainer(app, manifest, c);
      return body(app, manifest, c, existed);
    });
  }

  // ---- steps -----------------------------------------------------------------------------

  /**
   * Install and configure refuse a memory limit above what this server can give (its memory
   * less Hearth's reserve, packages/contracts/src/memory.ts) before anything is made: admin
   * checks it too, this is the check for rows written by any other way. Not checked on
   * update, restore or the reconciler, which keep an app running with the limit it has; nor
   * on a configure that keeps the limit the app's container already has (an app installed
   * before this check, or on a server since given less memory, can still change its env or
   * names without ending in error).
   */
  async checkMemoryLimit(app: Pick<App, "id" | "memoryLimit">, mode: "install" | "configure" = "install"): Promise<void> {
    const total = (this.d.memoryBytes ?? os.totalmem)();
    const limit = Number(app.memoryLimit);
    if (limit <= maxAppMemoryLimit(total)) return;
    if (mode === "configure" && (await this.docker.inspectContainer(containerNameOf(app.id)))?.raw.HostConfig?.Memory === limit) return;
    throw new TaskError(memoryLimitTooHighMessage(limit, total), "memory_limit_too_high");
  }

  /** Network and volume exist (created when missing, side by side), labelled as the app's. */
  async ensureNetworkAndVolume(appId: string, ctx: Pick<StepContext, "log">): Promise<void> {
    const labels = appLabels(appId, this.d.owner);
    const network = async () => {
      const net = await this.docker.inspectNetwork(networkNameOf(appId));
      if (!net) {
        ctx.log(`creating the network ${networkNameOf(appId)}`);
        const t0 = performance.now();
        const { subnet } = await this.docker.createNetwork(networkNameOf(appId), labels);
        ctx.log(`created the network ${networkNameOf(appId)} (${subnet}) in ${Math.round(performance.now() - t0)} ms`);
      } else if (net.labels["hearth.app"] !== appId) {
        throw new TaskError(`a network named ${networkNameOf(appId)} exists but is not this app's`, "conflict");
      }
    };
    const volume = async () => {
      const vol = await this.docker.inspectVolume(dataVolumeNameOf(appId));
      if (!vol) {
        ctx.log(`creating the volume ${dataVolumeNameOf(appId)}`);
        await this.docker.createVolume(dataVolumeNameOf(appId), labels);
      } else if (vol.labels["hearth.app"] !== appId) {
        throw new TaskError(`a volume named ${dataVolumeNameOf(appId)} exists but is not this app's`, "conflict");
      }
    };
    await allSettledOrThrow([network(), volume()]);
  }

  /**
   * Removes any container of this name, creates it afresh from the row and records its id.
   * `prepared`: the caller's ensureNetworkAndVolume already under way (deploySteps starts it early).
   */
  async recreate(app: AppWithPorts, manifest: HearthManifest, ctx: StepContext, percent: number, prepared?: Promise<void>): Promise<string> {
    if (app.httpHostPort === null) throw new TaskError("the app has no host port", "internal");
    // progress only goes up: network and volume (percent - 10), addons (percent - 5), container (percent)
    await ctx.progress(percent - 10, "preparing the network and the data volume");
    await (prepared ?? this.ensureNetworkAndVolume(app.id, ctx));
    const name = containerNameOf(app.id);
    const old = await this.docker.inspectContainer(name);
    if (old && old.labels["hearth.app"] !== app.id) throw new TaskError(`a container named ${name} exists but is not this app's`, "conflict");
    // before the old container goes: a TCP port another program listens on fails the task
    // with the app as it was (ports the old container publishes are this app's own)
    const held = old?.running ? publishedHostPorts(old.raw?.HostConfig?.PortBindings as Record<string, { HostPort?: string }[]> | undefined) : new Set<number>();
    const busy = await busyTcpHostPorts(app.ports, held, this.d.tcpPortFree);
    if (busy.length > 0) {
      const names = app.ports.filter((p) => busy.includes(p.hostPort)).map((p) => `${p.envName} → ${p.hostPort}`);
      throw new TaskError(`host port ${busy.join(", ")} is already in use on this server (${names.join(", ")}); choose another port`, "conflict");
    }
    // before the old container goes: a first install whose sealed password cannot be opened
    // fails with the app as it was, never with no container
    const firstAdmin = await this.firstAdminEnv(app, manifest, ctx);
    if (old) {
      ctx.log(`removing the previous container ${old.id.slice(0, 12)}`);
      await this.removeAppContainer(app.id, old.id, ctx);
    }
    let extraEnv: Record<string, string> = {};
    if (this.d.addons && Object.keys(manifest.addons).length > 0) {
      await ctx.progress(percent - 5, `addons: ${Object.keys(manifest.addons).join(", ")}`);
      extraEnv = await this.d.addons.provision(app, manifest, ctx);
    }
    Object.assign(extraEnv, firstAdmin);
    await ctx.progress(percent, "creating the container");
    const spec = containerSpec({
      extraEnv,
      app: { ...app, env: (app.env ?? {}) as Record<string, string>, httpHostPort: app.httpHostPort },
      manifest,
      ports: app.ports,
      image: manifest.dockerImage,
      owner: this.d.owner,
    });
    let id: string;
    try {
      id = await this.docker.createContainer(spec);
    } catch (e) {
      if (dockerStatusOf(e) === 409) {
        // a concurrent attempt created it between our check and create: replace it once
        await this.removeAppContainer(app.id, name, ctx);
        id = await this.docker.createContainer(spec);
      } else throw e;
    }
    ctx.log(`created the container ${id.slice(0, 12)} (${name})`);
    await setAppContainerId(this.db, app.id, id);
    return id;
  }

  /**
   * The first admin account's variables (manifest firstAdmin): the password while Hearth
   * still keeps it (until the admin marks it as changed), the username always. Container env
   * only: never argv, never a log line. When the sealed password cannot be opened (no or
   * another HEARTH_SECRET_KEY): the first install fails (bad_state); any later task leaves the
   * variable out with one task-log line, as the app read it on its first start long ago.
   */
  private async firstAdminEnv(app: AppWithPorts, manifest: HearthManifest, ctx: Pick<StepContext, "log">): Promise<Record<string, string>> {
    const fa = manifest.firstAdmin;
    if (!fa) return {};
    const row = await getAppCredential(this.db, app.id);
    const env: Record<string, string> = {};
    if (fa.usernameEnv) env[fa.usernameEnv] = row?.username ?? fa.username;
    if (row) {
      let why: string | undefined;
      if (!this.d.secretKey) why = "the app's first admin password is sealed but HEARTH_SECRET_KEY is not set, so it cannot be opened";
      else {
        try {
          env[fa.passwordEnv] = openSecret(this.d.secretKey, row.passwordEnc);
        } catch {
          why = "the app's first admin password cannot be decrypted with this HEARTH_SECRET_KEY";
        }
      }
      if (why !== undefined) {
        if (app.installState === "pending_install") throw new TaskError(why, "bad_state");
        ctx.log(`${why}; the container is made without ${fa.passwordEnv} (the app read it on its first start)`);
      }
    }
    return env;
  }

  /** Creates the container if it is missing; returns whether it existed. */
  async ensureContainer(app: AppWithPorts, manifest: HearthManifest, ctx: StepContext): Promise<boolean> {
    const c = await this.docker.inspectContainer(containerNameOf(app.id));
    if (c && c.labels["hearth.app"] === app.id) {
      if (app.containerId !== c.id) await setAppContainerId(this.db, app.id, c.id);
      return true;
    }
    ctx.log("the container is missing; creating it again");
    await ensureImage(this.d, { ref: manifest.dockerImage, manifestId: manifest.id }, ctx);
    await this.recreate(app, manifest, ctx, 20);
    return false;
  }

  /**
   * Starts the container when the app should run, and waits until it answers its health check.
   * `started` is called once the container has started (not when the app is meant to be stopped).
   */
  async runAndCheck(app: App, manifest: HearthManifest, ctx: StepContext, percent: number, started?: () => void): Promise<void> {
    if (app.runState !== "running") {
      ctx.log("the app is meant to be stopped; not starting it");
      await this.setState(app.id, { health: null });
      return;
    }
    await ctx.progress(percent, "starting the container");
    await this.docker.startContainer(containerNameOf(app.id));
    started?.();
    // the first probe goes out now, not after this write
    const starting = this.setState(app.id, { health: "starting", healthCheckedAt: new Date() });
    await ctx.progress(percent + 5, `waiting for the app to answer ${manifest.healthCheckPath}`);
    await allSettledOrThrow([starting, this.waitHealthy(app, manifest, ctx)]);
    await this.setState(app.id, { health: "healthy", healthCheckedAt: new Date() });
  }

  async waitHealthy(app: App, manifest: HearthManifest, ctx: StepContext): Promise<void> {
    const timeout = this.d.healthTimeoutMs ?? 120_000;
    const interval = this.d.healthIntervalMs ?? 500;
    const deadline = Date.now() + timeout;
    const started = Date.now();
    let last: number | null = null;
    for (let attempt = 0; ; attempt++) {
      ctx.signal.throwIfAborted();
      last = await probeHttp(app.httpHostPort!, manifest.healthCheckPath);
      if (isHealthyStatus(last)) {
        ctx.log(`health check ${manifest.healthCheckPath}: ${last} (after ${attempt + 1} probe(s), ${Date.now() - started} ms)`);
        return;
      }
      if (Date.now() > deadline) break;
      await sleep(healthProbeDelay(attempt, interval), undefined, { signal: ctx.signal });
    }
    const c = await this.docker.inspectContainer(containerNameOf(app.id));
    ctx.log(`the container is ${c ? c.status : "gone"}${c?.oomKilled ? " (killed: out of memory)" : ""}; its last output:`);
    try {
      const logs = await this.docker.logs(containerNameOf(app.id), { tail: 30 });
      for await (const chunk of logs) for (const l of String(chunk).split("\n")) if (l.trim()) ctx.log(`  ${l}`);
    } catch {
      /* no logs */
    }
    throw new TaskError(`the app did not answer ${manifest.healthCheckPath} with 2xx/3xx within ${Math.round(timeout / 1000)} s (last: ${last ?? "no answer"})`, "task_failed");
  }

  async setState(appId: string, data: Prisma.AppUpdateManyMutationInput): Promise<void> {
    await updateAppState(this.db, appId, data);
  }

  /**
   * Removes one of the app's containers, its output appended to the app's log history first
   * (log-history.ts), so the logs survive the container. A history that cannot be written
   * does not stop the task (the line says so in the task log).
   */
  private async removeAppContainer(appId: string, nameOrId: string, ctx?: Pick<StepContext, "log">): Promise<void> {
    if (this.d.appLogDir && (await this.docker.inspectContainer(nameOrId))) {
      const r = await archiveContainerLogs(this.docker, new LogHistory(this.d.appLogDir(appId)), nameOrId);
      if ("error" in r) ctx?.log(`the container's output could not be kept in the app's log history: ${r.error}`);
    }
    await this.docker.removeContainer(nameOrId);
  }

  /** Removes the app's container (its output kept in the log history), network and volume (labelled ones only). */
  async removeDockerObjects(appId: string, ctx?: StepContext): Promise<void> {
    await this.removeAppContainer(appId, containerNameOf(appId), ctx);
    if (this.d.addons && ctx) await this.d.addons.deprovision(appId, ctx);
    await this.docker.removeNetwork(networkNameOf(appId));
    await this.docker.removeVolume(dataVolumeNameOf(appId));
  }

  /** Re-renders the vhost set and says in the task log how long it took (bench/scale.ts reads these lines). */
  private async syncVhosts(ctx: Pick<StepContext, "log">): Promise<void> {
    const t0 = performance.now();
    const r = await this.d.vhosts.syncVhosts();
    if (r) ctx.log(vhostSyncLogLine(performance.now() - t0, r));
  }

  /**
   * A vhost sync for the app's state (its page, and whether its names are proxied or answer
   * "stopped"), which never fails the task: nginx refusing the set leaves the previous one
   * served, and the next sync (the next task, a health change) tries again.
   */
  private async syncPages(ctx: Pick<StepContext, "log">): Promise<void> {
    try {
      await this.syncVhosts(ctx);
    } catch (e) {
      ctx.log(`the vhost sync for the app's state failed (the previous set is still served): ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  /** ctx with the test-only pause after each progress step (see stepDelayMs). */
  private stepped(ctx: StepContext): StepContext {
    const delay = this.d.stepDelayMs ?? 0;
    if (delay <= 0) return ctx;
    return {
      taskId: ctx.taskId,
      signal: ctx.signal,
      log: (line) => ctx.log(line),
      progress: async (p, m) => {
        await ctx.progress(p, m);
        await sleep(delay, undefined, { signal: ctx.signal });
      },
    };
  }

  /**
   * Runs a task body; when it fails (not when box is shutting down: the task resumes then),
   * puts the app in `error` with the task's code and message. A failed install also
   * removes what it made, so nothing is left behind.
   */
  private async failingTo<T>(appId: string, ctx: StepContext, opts: { cleanup: boolean }, body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      const known = e instanceof TaskError || isHearthError(e);
      const code: string = known ? e.code : "internal";
      const message = known ? e.message : "internal error; see the task log";
      if (opts.cleanup) {
        ctx.log("the install failed: removing its container, network and volume");
        try {
          await this.removeDockerObjects(appId, ctx);
          // records this install made (not one it refused to overwrite: those are not its own)
          await this.d.names?.unpublish(appId, ctx);
        } catch (ce) {
          ctx.log(`cleanup failed: ${errorLine(ce)}`);
        }
      }
      await this.setState(appId, {
        installState: "error",
        health: null,
        errorCode: code,
        errorMessage: message,
        errorTaskId: ctx.taskId,
        ...(opts.cleanup ? { containerId: null } : {}),
      }).catch(() => {});
      // the app's page says it failed (best effort: the task's own error is what counts)
      await this.syncPages(ctx);
      throw e;
    }
  }
}
