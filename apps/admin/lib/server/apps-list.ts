import { createHash } from "node:crypto";
import { appsListVersion, listApps } from "@hearth/db";
import { appViewsOf, catalogOf } from "./apps";
import type { AdminContext } from "./context";

/**
 * GET /api/v1/apps without rebuilding the list when nothing changed. The list's version is a
 * one-query fingerprint of the rows it is made of (appsListVersion) plus the catalog's hash
 * (for "update available"); its ETag is a hash of both. The serialized body of the newest
 * version is kept in memory, so a request that changes nothing costs that query and no
 * Prisma rows, no views and no JSON; with If-None-Match it is a 304 without a body.
 * Concurrent requests for a version not built yet share one build.
 *
 * On globalThis: Next bundles each route separately, and the list is per process.
 */
interface ListState {
  built?: { etag: string; body: string };
  building?: { etag: string; promise: Promise<{ etag: string; body: string }> };
}

const KEY = Symbol.for("hearth.admin.apps-list");
const g = globalThis as unknown as { [KEY]?: ListState };
const state = (): ListState => (g[KEY] ??= {});

/** The ETag of the apps list as it is now (one query; the catalog is in memory). */
export async function appsListEtag(app: AdminContext): Promise<string> {
  const [version, catalog] = await Promise.all([appsListVersion(app.db), catalogOf(app)]);
  return `"${createHash("sha256").update(`${version}\n${catalog.hash}`).digest("base64url").slice(0, 27)}"`;
}

/** `{ apps: AppView[] }` serialized, and its ETag. */
export async function appsList(app: AdminContext, etag?: string): Promise<{ etag: string; body: string }> {
  const s = state();
  const tag = etag ?? (await appsListEtag(app));
  if (s.built?.etag === tag) return s.built;
  if (s.building?.etag === tag) return s.building.promise;
  const promise = (async () => {
    const body = JSON.stringify({ apps: await appViewsOf(app, await listApps(app.db)) });
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
