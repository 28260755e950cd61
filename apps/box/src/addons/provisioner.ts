import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { HearthManifest } from "@hearth/contracts";
import { deleteAppAddon, getAppRow, listAppAddons, openSecret, saveAppAddon, sealSecret, type Db } from "@hearth/db";
import type { AddonHooks, AppWithPorts, StepContext } from "../tasks/steps";
import { fqdnOf, networkNameOf } from "../apps/container-spec";
import { TaskError } from "../tasks/registry";
import { errorLine } from "../tasks/task-log";
import { dataPaths } from "../paths";
import type { AddonApp, AddonHandler } from "./handler";

/**
 * The manifest's addons for one app, over the handlers this box has (mysql, postgresql,
 * redis, localstorage here; sendmail plugs in the same way). Owns the AppAddon rows: what a
 * handler returns as credentials is sealed with HEARTH_SECRET_KEY and handed back on every
 * later call, so passwords stay stable across container re-creations and box restarts.
 *
 * - provision (each time the container is made): addons gone from the manifest since the
 *   last time (an update or configure) are first backed up into
 *   <dataDir>/backups/apps/<appId>/addons/<name>-<ts>/, then torn down; then every addon of
 *   the manifest is provisioned (idempotent) and its row upserted; the HEARTH_* variables
 *   are merged.
 * - deprovision (uninstall, failed install): every addon of the app — its rows, and the
 *   manifest's addons that have no row yet (an install that died between making a database
 *   and saving its row) — is torn down, then its row deleted.
 * - backupApp / restoreApp / clearApp: each addon's data into/from `<dir>/<name>/`, with an
 *   index `<dir>/addons.json` (for the backups issue).
 */
export interface AddonProvisionerDeps {
  db: Db;
  /** Seals the credentials at rest; required as soon as an addon has credentials to keep. */
  secretKey: Buffer | null;
  handlers: readonly AddonHandler[];
  dataDir: string;
  /** The shared services, to stop those no app needs any more after an uninstall (ServiceManager.settleAll). */
  services?: { settleAll(): Promise<void> };
  /** Why addons other than those in `handlers` are missing (e.g. "HEARTH_SERVICES=off"), for the error. */
  unavailableReason?: string;
}

const quietCtx = (): StepContext => ({ taskId: "-", progress: async () => {}, log: () => {}, signal: new AbortController().signal });

interface Row {
  name: string;
  credentials: Record<string, string> | null;
}

export class AddonProvisioner implements AddonHooks {
  private readonly handlers: Map<string, AddonHandler>;
  /** ms each addon's provision took in the last provision() call (for logs and benchmarks). */
  lastTimings: Record<string, number> = {};

  constructor(private readonly d: AddonProvisionerDeps) {
    this.handlers = new Map(d.handlers.map((h) => [h.name, h]));
  }

  private handler(name: string): AddonHandler {
    const h = this.handlers.get(name);
    if (!h) {
      throw new TaskError(
        `the addon "${name}" is not available on this box${this.d.unavailableReason ? ` (${this.d.unavailableReason})` : ""}; available: ${[...this.handlers.keys()].join(", ") || "none"}`,
        "invalid",
      );
    }
    return h;
  }

  private seal(credentials: Record<string, string>): string | null {
    if (Object.keys(credentials).length === 0) return null;
    if (!this.d.secretKey) throw new TaskError("HEARTH_SECRET_KEY is not configured: addon credentials cannot be stored", "bad_state");
    return sealSecret(this.d.secretKey, JSON.stringify(credentials));
  }

  private open(sealed: string | null): Record<string, string> | null {
    if (!sealed) return null;
    if (!this.d.secretKey) throw new TaskError("HEARTH_SECRET_KEY is not configured: the stored addon credentials cannot be opened", "bad_state");
    try {
      return JSON.parse(openSecret(this.d.secretKey, sealed)) as Record<string, string>;
    } catch {
      throw new TaskError("the stored addon credentials cannot be opened with HEARTH_SECRET_KEY (another key?)", "bad_state");
    }
  }

  private async rows(appId: string): Promise<Row[]> {
    const rows = await listAppAddons(this.d.db, appId);
    return rows.map((r) => ({ name: r.name, credentials: this.open(r.credentialsEnc) }));
  }

  private addonApp(app: { id: string; subdomain: string; domain: string }): AddonApp {
    return { id: app.id, fqdn: fqdnOf(app), domain: app.domain, subdomain: app.subdomain, network: networkNameOf(app.id) };
  }

  async provision(app: AppWithPorts, manifest: HearthManifest, ctx: StepContext): Promise<Record<string, string>> {
    const a = this.addonApp(app);
    const wanted = Object.entries(manifest.addons) as [string, Record<string, unknown> | undefined][];
    // refuse an unknown addon before anything changes
    for (const [name] of wanted) this.handler(name);
    const have = await this.rows(app.id);

    for (const row of have.filter((r) => !wanted.some(([n]) => n === r.name))) {
      const h = this.handler(row.name);
      if (h.backup) {
        const dir = path.join(dataPaths(this.d.dataDir).appBackups(app.id), "addons", `${row.name}-${new Date().toISOString().replace(/[:.]/g, "-")}`);
        await mkdir(dir, { recursive: true, mode: 0o700 });
        ctx.log(`the addon ${row.name} is no longer in the manifest: backing it up into ${dir} before removing it`);
        await h.backup(a, row.credentials ?? {}, dir, ctx);
      }
      await h.deprovision(a, row.credentials, ctx);
      await deleteAppAddon(this.d.db, app.id, row.name);
    }

    const env: Record<string, string> = {};
    this.lastTimings = {};
    for (const [name, options] of wanted) {
      const h = this.handler(name);
      const previous = have.find((r) => r.name === name)?.credentials ?? null;
      const t0 = Date.now();
      const res = await h.provision(a, options ?? {}, previous, ctx);
      const credentialsEnc = this.seal(res.credentials);
      await saveAppAddon(this.d.db, app.id, name, credentialsEnc);
      this.lastTimings[name] = Date.now() - t0;
      ctx.log(`addon ${name} ready (${this.lastTimings[name]} ms)`);
      for (const [k, v] of Object.entries(res.env)) {
        if (!k.startsWith("HEARTH_")) throw new TaskError(`the ${name} addon returned a variable ${k} outside HEARTH_*`, "internal");
        env[k] = v;
      }
    }
    return env;
  }

  async deprovision(appId: string, ctx: StepContext): Promise<void> {
    const appRow = await getAppRow(this.d.db, appId);
    const a = this.addonApp(appRow ?? { id: appId, subdomain: "", domain: "" });
    const rows = await this.rows(appId);
    const names = new Set(rows.map((r) => r.name));
    if (appRow) {
      const m = appRow.manifest as { addons?: Record<string, unknown> } | null;
      for (const n of Object.keys(m?.addons ?? {})) if (this.handlers.has(n)) names.add(n);
    }
    for (const name of [...names].sort()) {
      const h = this.handler(name);
      await h.deprovision(a, rows.find((r) => r.name === name)?.credentials ?? null, ctx);
      await deleteAppAddon(this.d.db, appId, name);
    }
  }

  /** Uninstall keeps the data: each addon of the app lets go of its network (the rows stay for the snapshot). */
  async detach(appId: string, ctx: StepContext): Promise<void> {
    const appRow = await getAppRow(this.d.db, appId);
    const a = this.addonApp(appRow ?? { id: appId, subdomain: "", domain: "" });
    for (const row of await this.rows(appId)) {
      const h = this.handlers.get(row.name);
      if (!h) {
        ctx.log(`the addon ${row.name} is not available on this box; its data is kept as it is`);
        continue;
      }
      await h.detach?.(a, row.credentials, ctx);
    }
  }

  /** Stops the shared services no app needs any more (after an uninstall); a failure is logged, never fatal. */
  async settleServices(ctx: StepContext): Promise<void> {
    try {
      await this.d.services?.settleAll();
    } catch (e) {
      // one line for the admin (no stack, no source path); the whole error is box's to log
      if (ctx.fault) ctx.fault(e, "stopping the addon services no app needs failed (they keep running)");
      else ctx.log(`stopping the addon services no app needs failed (they keep running): ${errorLine(e)}`);
    }
  }

  /** Deletes an uninstalled app's addon data from its kept rows (sealed credentials). */
  async purge(appId: string, addons: readonly { name: string; credentialsEnc: string | null }[], ctx: StepContext): Promise<void> {
    const a = this.addonApp({ id: appId, subdomain: "", domain: "" });
    for (const row of [...addons].sort((x, y) => x.name.localeCompare(y.name))) {
      await this.handler(row.name).deprovision(a, this.open(row.credentialsEnc), ctx);
    }
  }

  appBackupDir(appId: string, name: string): string {
    if (!/^[A-Za-z0-9-]{1,36}$/.test(appId) || !/^[A-Za-z0-9._-]{1,128}$/.test(name) || name.startsWith(".")) throw new TaskError(`not a backup folder name: ${appId}/${name}`, "internal");
    return path.join(dataPaths(this.d.dataDir).appBackups(appId), name);
  }

  private async appFor(appId: string): Promise<AddonApp> {
    const app = await getAppRow(this.d.db, appId);
    if (!app) throw new TaskError(`there is no app ${appId}`, "not_found");
    return this.addonApp(app);
  }

  /** The addons a backup of the app covers: its rows, plus /app/data (every app has it). */
  private async covered(appId: string): Promise<Row[]> {
    const rows = await this.rows(appId);
    if (!rows.some((r) => r.name === "localstorage") && this.handlers.has("localstorage")) rows.push({ name: "localstorage", credentials: null });
    return rows.filter((r) => this.handler(r.name).backup);
  }

  /** Each addon's data into `<dir>/<name>/`, and `<dir>/addons.json` naming them. Returns the names. */
  async backupApp(appId: string, dir: string, ctx: StepContext = quietCtx()): Promise<string[]> {
    const a = await this.appFor(appId);
    const done: string[] = [];
    for (const row of await this.covered(appId)) {
      const sub = path.join(dir, row.name);
      await mkdir(sub, { recursive: true, mode: 0o700 });
      await this.handler(row.name).backup!(a, row.credentials ?? {}, sub, ctx);
      done.push(row.name);
    }
    await writeFile(path.join(dir, "addons.json"), `${JSON.stringify({ version: 1, addons: done }, null, 2)}\n`, { mode: 0o600 });
    return done;
  }

  /** Replaces each addon's data with what backupApp wrote into `dir`. The addons must be provisioned (install first). */
  async restoreApp(appId: string, dir: string, ctx: StepContext = quietCtx()): Promise<string[]> {
    const a = await this.appFor(appId);
    let index: { addons?: unknown };
    try {
      index = JSON.parse(await readFile(path.join(dir, "addons.json"), "utf8")) as { addons?: unknown };
    } catch (e) {
      throw new TaskError(`${path.join(dir, "addons.json")} is missing or not JSON: ${(e as Error).message}`, "invalid");
    }
    if (!Array.isArray(index.addons) || !index.addons.every((n) => typeof n === "string")) throw new TaskError(`${path.join(dir, "addons.json")} does not list addons`, "invalid");
    const rows = await this.rows(appId);
    for (const name of index.addons as string[]) {
      const h = this.handler(name);
      if (!h.restore) throw new TaskError(`the addon ${name} cannot be restored`, "invalid");
      const row = rows.find((r) => r.name === name);
      if (!row && name !== "localstorage") throw new TaskError(`the app has no ${name} addon to restore into (provision it first)`, "bad_state");
      await h.restore(a, row?.credentials ?? {}, path.join(dir, name), ctx);
    }
    return index.addons as string[];
  }

  /** Empties every addon's data of the app (databases, redis, /app/data); keeps users and credentials. */
  async clearApp(appId: string, ctx: StepContext = quietCtx()): Promise<string[]> {
    const a = await this.appFor(appId);
    const done: string[] = [];
    for (const row of await this.covered(appId)) {
      const h = this.handler(row.name);
      if (!h.clear) continue;
      await h.clear(a, row.credentials ?? {}, ctx);
      done.push(row.name);
    }
    return done;
  }
}
