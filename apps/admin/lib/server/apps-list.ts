import { createHash } from "node:crypto";
import { appsListVersion, listApps } from "@hearth/db";
import { appViewsOf, catalogOf } from "./apps";
import type { AdminContext } from "./context";
import { SharedValue } from "./shared-value";

/**
 * GET /api/v1/apps without rebuilding the list when nothing changed. The list's version is a
 * one-query fingerprint of the rows it is made of (appsListVersion) plus the catalog's hash
 * (for "update available"); its ETag is a hash of both. The serialized body of the newest
 * version is kept in memory, so a request that changes nothing costs that query and no
 * Prisma rows, no views, no JSON and no UTF-8 encoding; with If-None-Match it is a 304 without a body.
 * Concurrent requests for a version not built yet share one build.
 *
 * On globalThis: Next bundles each route separately, and the list is per process.
 */
/** The body as UTF-8 bytes, encoded once (not per response). */
export interface AppsList {
  etag: string;
  body: Uint8Array<ArrayBuffer>;
}

/**
 * How long an ETag read from the database is reused: at 50 requests a second that is one
 * query per ETAG_TTL_MS instead of one per request. A change box makes shows up within it;
 * admin's own writes (wakeBox) forget it at once.
 */
export const ETAG_TTL_MS = 500;

interface ListState {
  /** forgetAppsListEtag forgets it: a read that started before is not kept */
  etag: SharedValue<string>;
  built?: AppsList;
  building?: { etag: string; promise: Promise<AppsList> };
}

const KEY = Symbol.for("hearth.admin.apps-list");
const g = globalThis as unknown as { [KEY]?: ListState };
const state = (): ListState => (g[KEY] ??= { etag: new SharedValue() });

/**
 * The ETag of the apps list (one query, at most one in flight; the catalog is in memory),
 * reused for `maxAgeMs`.
 */
export function appsListEtag(app: AdminContext, maxAgeMs = ETAG_TTL_MS): Promise<string> {
  return state().etag.get(maxAgeMs, async () => {
    const [version, catalog] = await Promise.all([appsListVersion(app.db), catalogOf(app)]);
    return `"${createHash("sha256").update(`${version}\n${catalog.hash}`).digest("base64url").slice(0, 27)}"`;
  });
}

/** Something changed here (admin recorded an intent): the next request reads the ETag again. */
export function forgetAppsListEtag(): void {
  state().etag.forget();
}

/** `{ apps: AppView[] }` serialized, and its ETag. */
export async function appsList(app: AdminContext, etag?: string): Promise<AppsList> {
  const s = state();
  const tag = etag ?? (await appsListEtag(app));
  if (s.built?.etag === tag) return s.built;
  if (s.building?.etag === tag) return s.building.promise;
  const promise = (async () => {
    const body = new Uint8Array(Buffer.from(JSON.stringify({ apps: await appViewsOf(app, await listApps(app.db)) })));
    // the rows were read after the version: this body is at least as new as `tag` says
    const built = { etag: tag, body };
    s.built = built;
    return built;
  })().finally(() => {
    if (s.building?.promise === promise) s.building = undefined;
  });
  s.building = { etag: tag, promise };
  return promise;
}

/** Whether an If-None-Match header names `etag` (or is `*`); weak tags compare equal (RFC 9110 13.1.2). */
export function ifNoneMatch(header: string | null, etag: string): boolean {
  if (!header) return false;
  const bare = etag.replace(/^W\//, "");
  return header.split(",").some((t) => {
    const v = t.trim();
    return v === "*" || v.replace(/^W\//, "") === bare;
  });
}
