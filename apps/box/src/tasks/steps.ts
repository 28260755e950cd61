import type { HearthManifest } from "@hearth/contracts";
import type { App, AppPort } from "@hearth/db";

/**
 * The types task steps share across feature folders. A feature folder (apps, domains,
 * addons, mail …) that needs another's step seam imports it from here, never from the other
 * folder's service, so no two services import each other.
 */

/** The task-side view of TaskContext (tasks/registry.ts) that a step needs. */
export interface StepContext {
  readonly taskId: string;
  progress(percent: number, message: string): Promise<void>;
  log(line: string): void;
  readonly signal: AbortSignal;
  /** See TaskContext.fault: an unexpected error, one line to the task log, the whole to box's log. */
  fault?(e: unknown, what: string): void;
}

export type AppWithPorts = App & { ports: AppPort[] };

/**
 * What the app tasks need from the addons. `provision` is idempotent: it makes what the
 * manifest's addons need for this app if missing (database + user, Redis container, relay
 * credentials …), connects the services to the app's own network, and returns the
 * HEARTH_* variables for the container; called each time the container is (re)created, so
 * the same credentials come back every time. `deprovision` removes all of it (the app's
 * network still exists when it is called).
 */
export interface AddonHooks {
  provision(app: AppWithPorts, manifest: HearthManifest, ctx: StepContext): Promise<Record<string, string>>;
  deprovision(appId: string, ctx: StepContext): Promise<void>;
  /** Uninstall keeps the data: each addon lets go of the app's network (nothing deleted). */
  detach(appId: string, ctx: StepContext): Promise<void>;
  /** Stops the shared addon services (MariaDB, PostgreSQL) no app needs any more; never throws. */
  settleServices?(ctx: StepContext): Promise<void>;
  /** Deletes the data of an uninstalled app from its kept AppAddon rows (sealed credentials). */
  purge(appId: string, addons: readonly { name: string; credentialsEnc: string | null }[], ctx: StepContext): Promise<void>;
  /** Each addon's data (and /app/data) into `dir`; see AddonProvisioner.backupApp. */
  backupApp(appId: string, dir: string, ctx: StepContext): Promise<string[]>;
  /** Replaces each addon's data with what backupApp wrote into `dir` (the addons must be provisioned). */
  restoreApp(appId: string, dir: string, ctx: StepContext): Promise<string[]>;
  /** `<dataDir>/backups/apps/<appId>/<name>` */
  appBackupDir(appId: string, name: string): string;
}

/** What the app tasks need from the domains (apps/box/src/domains): DNS records and certificates of the app's names. */
export interface AppNameHooks {
  /** Before the app runs: its DNS records (fails with dns_conflict rather than overwrite). */
  publishRecords(appId: string, ctx: StepContext, opts: { overwriteDns: boolean }): Promise<void>;
  /** After the proxy serves it: certificates for its names (failures are logged, not fatal). */
  publishCertificates(appId: string, ctx: StepContext): Promise<void>;
  /** On uninstall: the records box made for it, and its names' own certificates. */
  unpublish(appId: string, ctx: StepContext): Promise<void>;
}
