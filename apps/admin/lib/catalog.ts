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
 * The server reads it once and keeps it (lib/server/catalog-cache.ts), re-reading when the
 * folders change; these functions are the reading itself.
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

export type CatalogWarn = (msg: string, data: Record<string, unknown>) => void;

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

/** Why a package folder is not (or no longer) served as it is on disk. */
export interface CatalogProblem {
  /** the package folder */
  dir: string;
  /** what is wrong, naming the file and the fields */
  message: string;
  /** the version still served from the last good read of this folder, or null (skipped) */
  kept: string | null;
}

type ReadOutcome = { pkg: CatalogPackage } | { problem: string } | { missing: true };

async function readPackage(dir: string): Promise<ReadOutcome> {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    const st = await stat(file);
    if (!st.isFile()) return { missing: true };
    if (st.size > MAX_MANIFEST_BYTES) return { problem: `manifest ${file} is too large (${st.size} bytes, at most ${MAX_MANIFEST_BYTES})` };
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { missing: true };
    return { problem: `cannot read manifest ${file} (${String(e)})` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { problem: `manifest ${file} is not valid JSON (${e instanceof Error ? e.message : String(e)})` };
  }
  const r = hearthManifest.safeParse(raw);
  if (!r.success) return { problem: `invalid manifest ${file}: ${r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}` };
  return { pkg: { manifest: r.data, dir } };
}

export interface CatalogScan {
  apps: CatalogApp[];
  problems: CatalogProblem[];
  /** every package served, by folder (the `previous` of the next scan) */
  packages: Map<string, CatalogPackage>;
}

/**
 * Every valid package of every directory, grouped by manifest id, sorted by title. A folder
 * whose manifest became unreadable or invalid keeps the package of `previous` (the last
 * good read of that folder) and is reported in `problems`; a folder whose manifest is gone
 * is dropped.
 */
export async function scanCatalog(dirs: readonly string[], opts: { previous?: ReadonlyMap<string, CatalogPackage>; warn?: CatalogWarn } = {}): Promise<CatalogScan> {
  const warn = opts.warn ?? (() => {});
  const byId = new Map<string, CatalogPackage[]>();
  const problems: CatalogProblem[] = [];
  const packages = new Map<string, CatalogPackage>();
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
      const dir = path.join(root, e.name);
      const r = await readPackage(dir);
      if ("missing" in r) continue;
      let pkg: CatalogPackage;
      if ("problem" in r) {
        const last = opts.previous?.get(dir);
        problems.push({ dir, message: r.problem, kept: last?.manifest.version ?? null });
        warn(last ? `catalog: invalid manifest, the last good version ${last.manifest.version} is kept: ${r.problem}` : `catalog: invalid manifest, skipped: ${r.problem}`, { dir });
        if (!last) continue;
        pkg = last;
      } else {
        pkg = r.pkg;
      }
      const list = byId.get(pkg.manifest.id) ?? [];
      if (list.some((p) => p.manifest.version === pkg.manifest.version)) {
        const message = `duplicate package version ${pkg.manifest.id} ${pkg.manifest.version}, skipped`;
        problems.push({ dir, message, kept: null });
        warn(`catalog: ${message}`, { id: pkg.manifest.id, version: pkg.manifest.version, dir: pkg.dir });
        continue;
      }
      list.push(pkg);
      byId.set(pkg.manifest.id, list);
      packages.set(dir, pkg);
    }
  }
  const apps = [...byId.entries()].map(([id, packages]) => ({
    id,
    packages: packages.sort((a, b) => compareSemver(b.manifest.version, a.manifest.version)),
  }));
  apps.sort((a, b) => a.packages[0]!.manifest.title.localeCompare(b.packages[0]!.manifest.title) || a.id.localeCompare(b.id));
  return { apps, problems, packages };
}

/** Every valid package of every directory, read now (no last-good memory). */
export async function readCatalog(dirs: readonly string[], warn: CatalogWarn = () => {}): Promise<CatalogApp[]> {
  return (await scanCatalog(dirs, { warn })).apps;
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
