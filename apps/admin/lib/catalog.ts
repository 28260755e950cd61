import { readdir, readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { compareSemver, hearthManifest, type CatalogAppView, type HearthManifest } from "@hearth/contracts";

/**
 * The catalog ("app store"): directories holding one folder per package, each with a
 * HearthManifest.json (plus the Dockerfile and icon box builds and serves from). A folder
 * whose manifest is missing, unreadable or invalid is skipped with a warning; it never breaks
 * the list. Several folders may carry the same manifest id with different versions: they are
 * one catalog app with several versions (newest first). Earlier directories win a tie.
 *
 * Read from disk on every call: the catalog is small and admins edit it in place.
 */
export const MANIFEST_FILE = "HearthManifest.json";

export interface CatalogPackage {
  manifest: HearthManifest;
  /** absolute path of the package folder (box's build context) */
  dir: string;
}

export interface CatalogApp {
  id: string;
  /** newest first */
  packages: CatalogPackage[];
}

export interface CatalogWarn {
  (msg: string, data: Record<string, unknown>): void;
}

const ICON_TYPES: Record<string, string> = {
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".gif": "image/gif",
  ".ico": "image/x-icon",
};

export const MAX_MANIFEST_BYTES = 256 * 1024;
export const MAX_ICON_BYTES = 2 * 1024 * 1024;

async function readPackage(dir: string, warn: CatalogWarn): Promise<CatalogPackage | null> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    const st = await stat(file);
    if (!st.isFile()) return null;
    if (st.size > MAX_MANIFEST_BYTES) {
      warn("catalog: manifest too large, skipped", { file, size: st.size });
      return null;
    }
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") warn("catalog: cannot read manifest, skipped", { file, err: String(e) });
    return null;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    warn("catalog: manifest is not valid JSON, skipped", { file, err: String(e) });
    return null;
  }
  const r = hearthManifest.safeParse(raw);
  if (!r.success) {
    warn("catalog: invalid manifest, skipped", { file, issues: r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`) });
    return null;
  }
  return { manifest: r.data, dir };
}

/** Every valid package of every directory, grouped by manifest id, sorted by title. */
export async function readCatalog(dirs: readonly string[], warn: CatalogWarn = () => {}): Promise<CatalogApp[]> {
  const byId = new Map<string, CatalogPackage[]>();
  for (const root of dirs) {
    let entries;
    try {
      entries = await readdir(root, { withFileTypes: true });
    } catch (e) {
      warn("catalog: cannot read catalog directory", { dir: root, err: String(e) });
      continue;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith(".")) continue;
      const pkg = await readPackage(path.join(root, e.name), warn);
      if (!pkg) continue;
      const list = byId.get(pkg.manifest.id) ?? [];
      if (list.some((p) => p.manifest.version === pkg.manifest.version)) {
        warn("catalog: duplicate package version, skipped", { id: pkg.manifest.id, version: pkg.manifest.version, dir: pkg.dir });
        continue;
      }
      list.push(pkg);
      byId.set(pkg.manifest.id, list);
    }
  }
  const apps = [...byId.entries()].map(([id, packages]) => ({
    id,
    packages: packages.sort((a, b) => compareSemver(b.manifest.version, a.manifest.version)),
  }));
  return apps.sort((a, b) => a.packages[0]!.manifest.title.localeCompare(b.packages[0]!.manifest.title) || a.id.localeCompare(b.id));
}

export async function findCatalogApp(dirs: readonly string[], id: string, warn?: CatalogWarn): Promise<CatalogApp | null> {
  return (await readCatalog(dirs, warn)).find((a) => a.id === id) ?? null;
}

/** The package of `version`, or the newest when no version is asked for. */
export function packageOf(app: CatalogApp, version?: string): CatalogPackage | null {
  if (version === undefined) return app.packages[0] ?? null;
  return app.packages.find((p) => p.manifest.version === version) ?? null;
}

/** Search in title, tagline, description, id and tags (case-insensitive); tag is exact. */
export function filterCatalog(apps: CatalogApp[], q: { search?: string; tag?: string }): CatalogApp[] {
  const words = (q.search ?? "").toLowerCase().split(/\s+/).filter(Boolean);
  const tag = q.tag?.trim().toLowerCase();
  return apps.filter((a) => {
    const m = a.packages[0]!.manifest;
    if (tag && !m.tags.includes(tag)) return false;
    const hay = [m.title, m.tagline, m.description, m.id, ...m.tags].join("\n").toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

export function iconUrlOf(storeId: string): string {
  return `/api/v1/appstore/${encodeURIComponent(storeId)}/icon`;
}

export function catalogAppView(app: CatalogApp, pkg: CatalogPackage = app.packages[0]!): CatalogAppView {
  const m = pkg.manifest;
  return {
    id: app.id,
    title: m.title,
    tagline: m.tagline,
    description: m.description,
    version: m.version,
    versions: app.packages.map((p) => p.manifest.version),
    upstreamVersion: m.upstreamVersion,
    author: m.author,
    website: m.website,
    tags: m.tags,
    iconUrl: m.icon ? iconUrlOf(app.id) : null,
    memoryLimit: m.memoryLimit,
    addons: Object.keys(m.addons),
    tcpPorts: m.tcpPorts,
    postInstallMessage: m.postInstallMessage,
  };
}

export interface IconFile {
  file: string;
  contentType: string;
  size: number;
}

/**
 * The package's icon file: the manifest's `icon`, a path relative to the package folder.
 * Null when there is none, it is not an image type we serve, or it resolves (also through
 * symlinks) outside the folder.
 */
export async function iconFileOf(pkg: CatalogPackage): Promise<IconFile | null> {
  const rel = pkg.manifest.icon;
  if (!rel || rel.includes("\0") || path.isAbsolute(rel) || /^[a-z][a-z0-9+.-]*:/i.test(rel)) return null;
  const contentType = ICON_TYPES[path.extname(rel).toLowerCase()];
  if (!contentType) return null;
  try {
    const root = await realpath(pkg.dir);
    const file = await realpath(path.resolve(pkg.dir, rel));
    const inside = path.relative(root, file);
    if (!inside || inside.startsWith("..") || path.isAbsolute(inside)) return null;
    const st = await stat(file);
    if (!st.isFile() || st.size > MAX_ICON_BYTES) return null;
    return { file, contentType, size: st.size };
  } catch {
    return null;
  }
}
