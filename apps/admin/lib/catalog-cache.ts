import { createHash } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { MANIFEST_FILE, scanCatalog, type CatalogApp, type CatalogPackage, type CatalogProblem, type CatalogWarn } from "./catalog";

/**
 * The catalog read once and kept in memory (server only). It is read again when its folders
 * change: an fs.watch on each catalog directory and each package folder (debounced), plus, as a
 * fallback for changes the watch misses (network filesystems, inotify limits, a folder that did
 * not exist yet), a check of the folders' and manifests' mtimes at most every `checkEveryMs`
 * when the catalog is asked for. A request never waits for that check: it gets the catalog in
 * memory, and the next one sees the new read.
 *
 * A package folder whose manifest turns invalid keeps its last good package (see scanCatalog);
 * the problem is logged and listed in `problems` (GET /api/v1/appstore answers them).
 */
export interface CatalogSnapshot {
  apps: CatalogApp[];
  problems: CatalogProblem[];
  /** changes whenever what is served changes (part of GET /api/v1/apps's ETag) */
  hash: string;
}

export interface CatalogCacheOptions {
  warn?: CatalogWarn;
  /** quiet time after the last change event before the catalog is read again */
  debounceMs?: number;
  /** the mtime fallback runs at most this often */
  checkEveryMs?: number;
  /** false: no fs.watch, only the mtime fallback */
  watch?: boolean;
}

export class CatalogCache {
  private current: (CatalogSnapshot & { packages: Map<string, CatalogPackage>; stamp: string }) | null = null;
  private loading: Promise<CatalogSnapshot> | null = null;
  private again = false;
  private lastCheck = 0;
  private checking = false;
  private timer: NodeJS.Timeout | null = null;
  private watchers = new Map<string, FSWatcher>();
  private closed = false;
  private readonly warn: CatalogWarn;
  private readonly debounceMs: number;
  private readonly checkEveryMs: number;
  private readonly useWatch: boolean;
  /** how many times the folders were read (tests and logs) */
  reads = 0;

  constructor(
    readonly dirs: readonly string[],
    opts: CatalogCacheOptions = {},
  ) {
    this.warn = opts.warn ?? (() => {});
    this.debounceMs = opts.debounceMs ?? 200;
    this.checkEveryMs = opts.checkEveryMs ?? 5000;
    this.useWatch = opts.watch ?? true;
  }

  /** The catalog in memory (read on first use). */
  async get(): Promise<CatalogSnapshot> {
    if (!this.current) return this.loading ?? this.reload();
    if (Date.now() - this.lastCheck >= this.checkEveryMs) void this.checkStamp();
    return this.current;
  }

  /** Reads the folders now; concurrent calls share one read, and a change during a read is read again. */
  reload(): Promise<CatalogSnapshot> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        let snap: CatalogSnapshot;
        do {
          this.again = false;
          snap = await this.readNow();
        } while (this.again && !this.closed);
        return snap;
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  private async readNow(): Promise<CatalogSnapshot> {
    this.reads++;
    // the stamp first: a change while reading makes the next check read again
    const stamp = await stampOf(this.dirs);
    this.lastCheck = Date.now();
    const scan = await scanCatalog(this.dirs, { previous: this.current?.packages, warn: this.warn });
    const hash = createHash("sha256")
      .update(JSON.stringify(scan.apps.map((a) => a.packages.map((p) => [p.dir, p.manifest]))))
      .digest("base64url")
      .slice(0, 22);
    this.current = { apps: scan.apps, problems: scan.problems, hash, packages: scan.packages, stamp };
    if (this.useWatch && !this.closed) this.syncWatchers(scan);
    return this.current;
  }

  private async checkStamp(): Promise<void> {
    if (this.checking || this.loading) return;
    this.checking = true;
    this.lastCheck = Date.now();
    try {
      const stamp = await stampOf(this.dirs);
      if (this.current && stamp !== this.current.stamp) await this.reload();
    } catch (e) {
      this.warn("catalog: cannot check for changes", { err: String(e) });
    } finally {
      this.checking = false;
    }
  }

  private changed = () => {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.reload().catch((e) => this.warn("catalog: cannot read the catalog", { err: String(e) }));
    }, this.debounceMs);
    this.timer.unref();
  };

  /** A watch on each catalog directory and on each of its package folders (manifests are edited in place). */
  private syncWatchers(scan: { problems: CatalogProblem[]; packages: Map<string, CatalogPackage> }): void {
    const want = new Set<string>(this.dirs);
    for (const dir of scan.packages.keys()) want.add(dir);
    for (const p of scan.problems) want.add(p.dir);
    for (const [dir, w] of this.watchers) {
      if (!want.has(dir)) {
        w.close();
        this.watchers.delete(dir);
      }
    }
    for (const dir of want) {
      if (this.watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, this.changed);
        // a folder removed or a watch limit reached: the mtime check still sees changes
        w.on("error", () => {
          w.close();
          this.watchers.delete(dir);
          this.changed();
        });
        this.watchers.set(dir, w);
      } catch {
        // missing folder or no inotify watches left: the mtime fallback covers it
      }
    }
  }
}

/** mtimes of the catalog folders, their package folders and manifests, as one string. */
async function stampOf(dirs: readonly string[]): Promise<string> {
  const parts: string[] = [];
  const mark = async (p: string) => {
    try {
      const st = await stat(p);
      parts.push(`${p}:${st.mtimeMs}:${st.size}:${st.ino}`);
    } catch {
      parts.push(`${p}:-`);
    }
  };
  for (const root of dirs) {
    await mark(root);
    let entries;
    try {
      entries = await readdir(root, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith(".")) continue;
      const dir = path.join(root, e.name);
      await mark(dir);
      await mark(path.join(dir, MANIFEST_FILE));
    }
  }
  return parts.join("\n");
}

const KEY = Symbol.for("hearth.admin.catalog");
const g = globalThis as unknown as { [KEY]?: CatalogCache };

/**
 * The process's catalog cache. It lives on globalThis like the context (Next bundles each
 * route separately, so module state would give every route its own copy and its own watchers).
 */
export function catalogCacheFor(dirs: readonly string[], warn?: CatalogWarn): CatalogCache {
  const existing = g[KEY];
  if (existing && existing.dirs.join("\0") === dirs.join("\0")) return existing;
  existing?.close();
  const cache = new CatalogCache(dirs, { warn });
  g[KEY] = cache;
  return cache;
}
