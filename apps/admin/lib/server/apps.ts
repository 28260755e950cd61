import {
  addonChanges,
  checkMinHearthVersion as checkManifestHearth,
  compareSemver,
  HEARTH_VERSION,
  HearthError,
  hearthManifest,
  installFromManifestRequest,
  installFromStoreRequest,
  isPrerelease,
  newerVersion,
  type AppView,
  type HearthManifest,
} from "@hearth/contracts";
import { activeTasksOf, getApp, getAppCredential, type AppWithPorts } from "@hearth/db";
import type { z } from "zod";
import { invalid } from "../api";
import { createBoxClient } from "../box-client";
import { packageOf, type CatalogApp, type CatalogPackage } from "../catalog";
import { catalogCacheFor, type CatalogSnapshot } from "../catalog-cache";
import { appViewOf } from "../views";
import type { AdminContext } from "./context";
import { nudgeLive } from "./live";

/** Install, configure, domain add/remove run one at a time (the unique keys are the last guard). */
export const PLACEMENT_LOCK = "hearth.apps.placement";

export function withPlacementLock<T>(app: AdminContext, fn: () => Promise<T>): Promise<T> {
  return app.locks.run(PLACEMENT_LOCK, { waitSeconds: 15 }, fn);
}

/** Tells box there is work; box also polls, so a box that is down only delays the task. */
export async function wakeBox(app: AdminContext): Promise<void> {
  // an intent was just recorded: open dashboards hear of it now
  nudgeLive();
  try {
    await createBoxClient(app.config.boxSocket).wake();
  } catch (e) {
    app.logger.warn({ err: e }, "could not wake box; the task waits for its next poll");
  }
}

/** The catalog in memory (read once, re-read when its folders change: lib/catalog-cache.ts). */
export function catalogOf(app: AdminContext): Promise<CatalogSnapshot> {
  return catalogCacheFor(app.config.catalogDirs, (msg, data) => app.logger.warn(data, msg)).get();
}

/** The catalog app `id`, or null. */
export async function findCatalogEntry(app: AdminContext, id: string): Promise<CatalogApp | null> {
  return (await catalogOf(app)).apps.find((a) => a.id === id) ?? null;
}

export type InstallBody = z.infer<typeof installFromStoreRequest> | z.infer<typeof installFromManifestRequest>;

/** Picks the request's branch by `manifest`, so zod's issues name the fields actually wrong. */
export function parseInstallBody(raw: unknown): InstallBody {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new HearthError("invalid", "Request body must be a JSON object");
  const schema = "manifest" in raw ? installFromManifestRequest : installFromStoreRequest;
  const r = schema.safeParse(raw);
  if (!r.success) throw invalid("manifest" in raw ? "The manifest or the request is invalid" : "Request body is invalid", r.error);
  return r.data;
}

export interface ResolvedManifest {
  manifest: HearthManifest;
  storeId: string | null;
}

/** The manifest to install: the catalog's (newest or the asked version) or the custom one. */
export async function resolveManifest(app: AdminContext, body: InstallBody): Promise<ResolvedManifest> {
  let resolved: ResolvedManifest;
  if ("manifest" in body) {
    resolved = { manifest: body.manifest, storeId: null };
  } else {
    const entry = await findCatalogEntry(app, body.storeId);
    if (!entry) throw new HearthError("not_found", `The catalog has no app ${body.storeId}`);
    const pkg = packageOf(entry, body.version);
    if (!pkg) {
      throw new HearthError("not_found", `The catalog has no version ${body.version} of ${body.storeId}`, {
        details: { versions: entry.packages.map((p) => p.manifest.version) },
      });
    }
    // re-validated: a copy, so nothing downstream can change the catalog in memory
    resolved = { manifest: hearthManifest.parse(pkg.manifest), storeId: entry.id };
  }
  checkMinHearthVersion(resolved.manifest);
  return resolved;
}

/** 400 when the manifest needs a newer Hearth than this one. */
export function checkMinHearthVersion(m: HearthManifest): void {
  checkManifestHearth(m, HEARTH_VERSION);
}

/**
 * The catalog's newest stable version above the installed one, with the addon changes it
 * brings and the changelog of every version in between (newest first); null when none.
 * In memory only (the cached catalog): the apps list computes it for every app.
 */
export function updateAvailableOf(row: { storeId: string | null; version: string; manifest: unknown }, catalog: CatalogApp[]): AppView["updateAvailable"] {
  const target = updateTargetOf(row, catalog);
  if (!target) return null;
  const to = target.manifest.version;
  const changelog: { version: string; text: string }[] = [];
  for (const p of catalog.find((c) => c.id === row.storeId)?.packages ?? []) {
    const v = p.manifest.version;
    if (!p.manifest.changelog.trim() || isPrerelease(v) || compareSemver(v, row.version) <= 0 || compareSemver(v, to) > 0) continue;
    changelog.push({ version: v, text: p.manifest.changelog });
  }
  const addons = ((row.manifest ?? {}) as Partial<HearthManifest>).addons ?? {};
  return { version: to, addons: addonChanges({ addons }, target.manifest), changelog };
}

/** The catalog package an update without a manifest goes to (see updateAvailableOf), or null. */
export function updateTargetOf(row: { storeId: string | null; version: string }, catalog: CatalogApp[]): CatalogPackage | null {
  if (!row.storeId) return null;
  const entry = catalog.find((c) => c.id === row.storeId);
  if (!entry) return null;
  // versions that need a newer Hearth are not offered: the click would be refused
  const v = newerVersion(
    row.version,
    entry.packages.map((p) => p.manifest),
    HEARTH_VERSION,
  );
  return v === null ? null : (entry.packages.find((p) => p.manifest.version === v) ?? null);
}

/** The catalog entry's newest stable version this Hearth can run (what {force: true} redeploys), or null. */
export function newestStableOf(entry: CatalogApp): CatalogPackage | null {
  // "0.0.0-0" is below every stable semantic version
  const v = newerVersion(
    "0.0.0-0",
    entry.packages.map((p) => p.manifest),
    HEARTH_VERSION,
  );
  return v === null ? null : (entry.packages.find((p) => p.manifest.version === v) ?? null);
}

export async function appViewById(app: AdminContext, id: string) {
  const row = id.length <= 36 ? await getApp(app.db, id) : null;
  if (!row) throw new HearthError("not_found", "No such app");
  const active = await activeTasksOf(app.db, [row.id]);
  const catalog = row.storeId ? (await catalogOf(app)).apps : [];
  const fa = ((row.manifest ?? {}) as Partial<HearthManifest>).firstAdmin;
  const kept = fa ? await getAppCredential(app.db, row.id) : null;
  const firstAdmin = fa ? { username: kept?.username ?? fa.username, kept: kept !== null } : null;
  return { ...appViewOf(row, active.get(row.id)?.id ?? null), updateAvailable: updateAvailableOf(row, catalog), firstAdmin, fromCatalog: row.storeId !== null };
}

export async function appViewsOf(app: AdminContext, rows: AppWithPorts[]) {
  const active = await activeTasksOf(
    app.db,
    rows.map((r) => r.id),
  );
  const catalog = rows.some((r) => r.storeId) ? (await catalogOf(app)).apps : [];
  // the polled list carries no changelogs (GET /apps/:id has them)
  return rows.map((r) => {
    const u = updateAvailableOf(r, catalog);
    return { ...appViewOf(r, active.get(r.id)?.id ?? null), updateAvailable: u ? { version: u.version, addons: u.addons } : null };
  });
}

export const ADMIN_ROLES = ["owner", "admin"] as const;

/**
 * 400 invalid when the admin's env sets a variable of the app's first admin account (manifest
 * firstAdmin): Hearth sets those (a generated password), so the admin's value would be ignored.
 * `stored` (configure): the app's env as stored; a key it already holds with the same value is
 * let through (an app installed before its manifest had firstAdmin keeps e.g. its own
 * WORDPRESS_ADMIN_PASSWORD, and the dashboard resends the whole env); only a key newly added
 * or changed is refused.
 */
export function checkFirstAdminEnv(manifest: Pick<HearthManifest, "firstAdmin"> | null | undefined, env: Record<string, string> | undefined, stored: Record<string, string> = {}): void {
  const fa = manifest?.firstAdmin;
  if (!fa || !env) return;
  for (const k of [fa.passwordEnv, fa.usernameEnv]) {
    if (k === undefined || !(k in env)) continue;
    if (Object.hasOwn(stored, k) && stored[k] === env[k]) continue;
    const message = `${k} is set by Hearth for this app's first admin account (a generated password, shown on the app page); leave it out of env`;
    throw new HearthError("invalid", message, { details: [{ path: ["env", k], code: "custom", message }] });
  }
}
