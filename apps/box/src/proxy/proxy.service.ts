import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { chmod, link, lstat, mkdir, readdir, readFile, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { HearthError } from "@hearth/contracts";
import { ensureFallbackCert, type FallbackCert } from "./fallback-cert";
import { APP_PAGE_FILE, APP_UNAVAILABLE_HTML, appPageName, NO_APP_HTML, NO_APP_PAGE_FILE, renderAppPage } from "./pages";
import { NginxError, SudoNginx, type NginxAdapter, type NginxTimings } from "./nginx";
import { ERROR_PAGE_FILE, renderFlatVhosts, renderVhosts, VHOST_FILE_PATTERN, type AppVhost, type RenderOptions, type Vhost } from "./vhost";
import { readIfExists, syncDir, writeDurable } from "../lib/durable-files";
import { dataPaths } from "../paths";

/**
 * Writes the rendered vhost set into box's own directory and has nginx check and reload it.
 * In production (SudoNginx) that directory is only box's record of what it handed over:
 * root's nginx never reads it. The set goes on stdin to the root helper
 * `setup/sudo/install-vhosts.sh`, which checks every directive and installs it into
 * root's `/etc/nginx/hearth/` (see apps/box/README.md, "Root helpers"). Tests with their
 * own nginx (LocalNginx) include the directory below directly.
 *
 * Layout under `<dataDir>/nginx/` (owned by hearth):
 *   sites            symlink to the current generation (a LocalNginx includes
 *                    `<dataDir>/nginx/sites/*.conf` in its http context)
 *   sites-<gen>/     one generation of vhost files: `hearth-apps.conf` (every app and redirect
 *                    name, the flat layout), `dashboard-<fqdn>.conf`, `default-redirect.inc`;
 *                    with layout "per-vhost" `app-<id>.conf` / `redirect-<fqdn>.conf` instead
 *                    of `hearth-apps.conf`
 *   loaded           the generation nginx last loaded successfully
 * and under `<publicDir>/` (default `<dataDir>/public`), read by nginx's workers:
 *   pages/app-unavailable.html   the dashboard's vhost on 502/503/504
 *   pages/no-app.html            setup's default server: a name no app has (404)
 *   pages/app-state-<id>.html    each app's page (its state: pages.ts), written before the
 *                                set that points at it is loaded, removed after its app's
 *                                vhost is gone
 *   acme-challenges/             HTTP-01 tokens
 *
 * A new set is written to a fresh generation directory and swapped in by renaming a new
 * symlink over `sites` (atomic), then checked and reloaded. If nginx rejects it, the
 * symlink goes back to the previous generation (byte for byte what was there), nothing is
 * reloaded, and HearthError `external` carries nginx's message. Applying a set equal to the
 * loaded one writes and reloads nothing, except the first time an adapter that is not yet
 * `synced` sees it (SudoNginx: box hands its whole set to root at each start). Files in the directory that do not follow the
 * naming scheme are carried over to each generation untouched (hard links), never edited.
 */

export interface ProxyServiceOptions {
  dataDir: string;
  nginx: NginxAdapter;
  httpPort?: number;
  httpsPort?: number;
  /** Listen on [::] too; default: the kernel has IPv6 addresses. */
  ipv6?: boolean;
  /**
   * Where the files nginx's workers (www-data, not hearth) read live: `acme-challenges/`
   * (HTTP-01 tokens) and `pages/` (the 502 page). Default `<dataDir>/public`; the workers
   * must be able to reach it (see the README's nginx notes).
   */
  publicDir?: string;
  /**
   * "flat" (default): every app and redirect name in one file of maps with a constant number
   * of servers (renderFlatVhosts), so nginx's reload does not grow with the apps; nginx's
   * workers read the certificates. "per-vhost": a file per vhost (renderVhosts). Switching
   * either way needs nothing by hand: the next apply writes the other layout's files and
   * removes the old ones (root's helper gets the whole new set, or a delta removing them).
   */
  layout?: "per-vhost" | "flat";
  /** Test-only hook: change the rendered files before they are written (e.g. inject a bad directive). */
  afterRender?: (files: Map<string, string>) => Map<string, string>;
}

export interface ApplyResult {
  /** Files were written (a new generation swapped in). */
  changed: boolean;
  /** nginx was reloaded. */
  reloaded: boolean;
  added: string[];
  updated: string[];
  removed: string[];
  /** Set when nginx was checked and reloaded: how long that took. */
  nginx?: NginxTimings;
}

const GEN_PATTERN = /^sites-[a-z0-9]+-[a-f0-9]+$/;

export { APP_UNAVAILABLE_HTML, NO_APP_HTML } from "./pages";

/** Whether the kernel has IPv6 (listening on [::] fails without it). */
export function hostHasIpv6(ifInet6 = "/proc/net/if_inet6"): boolean {
  try {
    return readFileSync(ifInet6, "utf8").trim().length > 0;
  } catch {
    return false;
  }
}

async function writeAtomic(p: string, text: string, mode = 0o644): Promise<void> {
  const tmp = `${p}.tmp-${randomBytes(4).toString("hex")}`;
  await writeFile(tmp, text, { mode });
  await chmod(tmp, mode);
  await rename(tmp, p);
}

export class ProxyService {
  readonly nginxDir: string;
  readonly sitesLink: string;
  readonly publicDir: string;
  readonly pagesDir: string;
  readonly acmeChallengeDir: string;
  readonly fallbackCertDir: string;
  private readonly loadedFile: string;
  private readonly render: RenderOptions;
  private queue: Promise<unknown> = Promise.resolve();
  /** The generation `sites` pointed at after this process's last apply, with its files (saves reading them back). */
  private known: { gen: string; ours: Map<string, string>; foreign: string[] } | null = null;
  /** The apps' pages this process wrote: file name → text. */
  private readonly pages = new Map<string, string>();

  constructor(private readonly opts: ProxyServiceOptions) {
    const data = dataPaths(opts.dataDir);
    this.nginxDir = data.nginx;
    this.sitesLink = path.join(this.nginxDir, "sites");
    this.publicDir = opts.publicDir ?? data.public;
    this.pagesDir = path.join(this.publicDir, "pages");
    this.loadedFile = path.join(this.nginxDir, "loaded");
    this.acmeChallengeDir = path.join(this.publicDir, "acme-challenges");
    this.fallbackCertDir = data.fallbackCerts;
    this.render = {
      httpPort: opts.httpPort ?? 80,
      httpsPort: opts.httpsPort ?? 443,
      ipv6: opts.ipv6 ?? hostHasIpv6(),
      acmeChallengeDir: this.acmeChallengeDir,
      errorPagesDir: this.pagesDir,
    };
  }

  /** The line a test's own nginx (LocalNginx) needs in its http context to serve box's vhosts. */
  get includeLine(): string {
    return `include ${this.sitesLink}/*.conf;`;
  }

  get httpsPort(): number {
    return this.render.httpsPort;
  }

  get renderOptions(): RenderOptions {
    return { ...this.render };
  }

  /** The self-signed fallback certificate of a domain (made when missing or expiring). */
  fallbackCert(domain: string): Promise<FallbackCert> {
    return ensureFallbackCert(this.fallbackCertDir, domain);
  }

  /** Applies the complete set of vhosts (anything not in it is removed). Calls run one at a time. */
  apply(vhosts: readonly Vhost[]): Promise<ApplyResult> {
    const run = this.queue.then(() => this.applyNow(vhosts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The vhost files nginx is serving now: name → text. */
  async currentFiles(): Promise<Map<string, string>> {
    const gen = await this.currentGeneration();
    return gen ? (await this.readGeneration(gen)).ours : new Map();
  }

  /** Creates the directories, the error page and the first (empty) generation. Idempotent. */
  async ensureLayout(): Promise<void> {
    // nginx's workers (not hearth) read the error page and ACME tokens: world-readable
    for (const dir of [this.nginxDir, this.publicDir, this.pagesDir, this.acmeChallengeDir]) {
      await mkdir(dir, { recursive: true, mode: 0o755 });
      await chmod(dir, 0o755);
    }
    for (const [file, text] of [
      [ERROR_PAGE_FILE, APP_UNAVAILABLE_HTML],
      [NO_APP_PAGE_FILE, NO_APP_HTML],
    ] as const) {
      const page = path.join(this.pagesDir, file);
      if ((await readIfExists(page)) !== text) await writeAtomic(page, text);
    }

    let st;
    try {
      st = await lstat(this.sitesLink);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    if (st && st.isSymbolicLink() && (await this.currentGeneration())) return;
    const gen = this.newGenerationName();
    if (st && st.isDirectory()) {
      // a plain directory (made by hand or an older layout): it becomes the first generation
      await rename(this.sitesLink, path.join(this.nginxDir, gen));
    } else if (st && !st.isSymbolicLink()) {
      throw new HearthError("internal", `${this.sitesLink} is neither a directory nor a symlink`);
    } else {
      // missing, or a symlink to a generation that is gone: start from an empty set
      await mkdir(path.join(this.nginxDir, gen), { mode: 0o755 });
    }
    await this.pointSitesAt(gen);
  }

  private async applyNow(vhosts: readonly Vhost[]): Promise<ApplyResult> {
    let files = (this.opts.layout === "per-vhost" ? renderVhosts : renderFlatVhosts)(vhosts, this.render);
    if (this.opts.afterRender) files = this.opts.afterRender(new Map(files));
    for (const name of files.keys()) {
      if (!VHOST_FILE_PATTERN.test(name)) throw new HearthError("internal", `refusing to write ${name}: not a vhost file name`);
    }
    await this.ensureLayout();
    // each app's page is there before a set that points at it is loaded
    const pages = appPages(vhosts);
    await this.writePages(pages);

    const currentGen = await this.currentGeneration();
    if (!currentGen) throw new HearthError("internal", `${this.sitesLink} does not point at a generation`);
    const current = (await this.stillKnown(currentGen)) ?? { gen: currentGen, ...(await this.readGeneration(currentGen)) };
    this.known = current;
    const added = [...files.keys()].filter((n) => !current.ours.has(n)).sort();
    const removed = [...current.ours.keys()].filter((n) => !files.has(n)).sort();
    const updated = [...files.keys()].filter((n) => current.ours.has(n) && current.ours.get(n) !== files.get(n)).sort();
    const same = added.length === 0 && removed.length === 0 && updated.length === 0;
    const loaded = (await readIfExists(this.loadedFile))?.trim();

    if (same) {
      if (loaded === currentGen && this.opts.nginx.synced !== false) {
        await this.removeStalePages(pages);
        return { changed: false, reloaded: false, added, updated, removed };
      }
      // on disk but never loaded (box died between swap and reload): reload only
      const nginx = await this.reloadOrThrow(files);
      await writeAtomic(this.loadedFile, `${currentGen}\n`);
      await this.removeOldGenerations(currentGen);
      await this.removeStalePages(pages);
      return { changed: false, reloaded: true, added, updated, removed, nginx };
    }

    const gen = this.newGenerationName();
    const genDir = path.join(this.nginxDir, gen);
    await mkdir(genDir, { mode: 0o755 });
    try {
      // only what changed is written (and flushed); the rest are links to the current generation's files
      for (const [name, text] of files) {
        if (current.ours.get(name) === text) await link(path.join(this.nginxDir, currentGen, name), path.join(genDir, name));
        else await writeDurable(path.join(genDir, name), text);
      }
      for (const name of current.foreign) await link(path.join(this.nginxDir, currentGen, name), path.join(genDir, name));
      await syncDir(genDir);
    } catch (e) {
      await rm(genDir, { recursive: true, force: true });
      throw e;
    }
    await this.pointSitesAt(gen);
    let nginx: NginxTimings;
    try {
      nginx = await this.reloadOrThrow(files);
    } catch (e) {
      // put the previous set back exactly as it was; nginx still runs it
      await this.pointSitesAt(currentGen);
      await rm(genDir, { recursive: true, force: true });
      throw e;
    }
    this.known = { gen, ours: new Map(files), foreign: current.foreign };
    await writeAtomic(this.loadedFile, `${gen}\n`);
    await this.removeOldGenerations(gen);
    await this.removeStalePages(pages);
    return { changed: true, reloaded: true, added, updated, removed, nginx };
  }

  /** Writes the apps' pages whose text changed (the last written text is kept in memory; read back once). */
  private async writePages(pages: ReadonlyMap<string, string>): Promise<void> {
    for (const [file, text] of pages) {
      if (this.pages.get(file) === text) continue;
      const p = path.join(this.pagesDir, file);
      if ((await readIfExists(p)) !== text) await writeAtomic(p, text);
      this.pages.set(file, text);
    }
  }

  /** Removes the pages of apps the loaded set no longer serves. */
  private async removeStalePages(pages: ReadonlyMap<string, string>): Promise<void> {
    for (const entry of await readdir(this.pagesDir)) {
      if (!APP_PAGE_FILE.test(entry) || pages.has(entry)) continue;
      await rm(path.join(this.pagesDir, entry), { force: true });
      this.pages.delete(entry);
    }
  }

  private async reloadOrThrow(files: ReadonlyMap<string, string>): Promise<NginxTimings> {
    const t0 = performance.now();
    try {
      return (await this.opts.nginx.checkAndReload(files)) ?? { totalMs: Math.round(performance.now() - t0) };
    } catch (e) {
      if (e instanceof NginxError) {
        const what = e.stage === "check" ? "nginx rejected the new configuration" : "nginx could not be reloaded";
        throw new HearthError("external", `${what}: ${e.output}`, { details: { reason: "nginx_config_invalid", stage: e.stage, nginx: e.output }, cause: e });
      }
      throw new HearthError("external", `nginx reload failed: ${(e as Error).message}`, { cause: e });
    }
  }

  private newGenerationName(): string {
    return `sites-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  }

  private async currentGeneration(): Promise<string | null> {
    try {
      const target = await readlink(this.sitesLink);
      const name = path.basename(target);
      return GEN_PATTERN.test(name) && existsSync(path.join(this.nginxDir, name)) ? name : null;
    } catch {
      return null;
    }
  }

  /**
   * The generation this process last wrote, when `sites` still points at it and it holds the
   * same names (a file put there by hand is found); else null: read it from disk.
   */
  private async stillKnown(gen: string): Promise<{ gen: string; ours: Map<string, string>; foreign: string[] } | null> {
    const k = this.known;
    if (k?.gen !== gen) return null;
    const names = await readdir(path.join(this.nginxDir, gen));
    if (names.length !== k.ours.size + k.foreign.length) return null;
    const foreign = new Set(k.foreign);
    return names.every((n) => k.ours.has(n) || foreign.has(n)) ? k : null;
  }

  /** Our vhost files (by name scheme) with their text, and the names of anything else there. */
  private async readGeneration(gen: string): Promise<{ ours: Map<string, string>; foreign: string[] }> {
    const dir = path.join(this.nginxDir, gen);
    const ours = new Map<string, string>();
    const foreign: string[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isFile() && VHOST_FILE_PATTERN.test(entry.name)) ours.set(entry.name, await readFile(path.join(dir, entry.name), "utf8"));
      else if (entry.isFile()) foreign.push(entry.name);
    }
    return { ours, foreign };
  }

  /** Atomically points `sites` at a generation (relative symlink renamed over the old one). */
  private async pointSitesAt(gen: string): Promise<void> {
    const tmp = path.join(this.nginxDir, `.sites-link-${randomBytes(4).toString("hex")}`);
    await symlink(gen, tmp);
    await rename(tmp, this.sitesLink);
  }

  private async removeOldGenerations(keep: string): Promise<void> {
    for (const entry of await readdir(this.nginxDir)) {
      if (entry !== keep && GEN_PATTERN.test(entry)) await rm(path.join(this.nginxDir, entry), { recursive: true, force: true });
      else if (entry.startsWith(".sites-link-")) await rm(path.join(this.nginxDir, entry), { force: true });
    }
  }
}

/** Each app's page (`app-state-<id>.html` → its text), from its first vhost in the set (the primary one comes first). */
export function appPages(vhosts: readonly Vhost[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of vhosts) {
    if (v.type !== "app") continue;
    const file = `${appPageName(v.appId)}.html`;
    if (!out.has(file)) out.set(file, renderAppPage(pageTitle(v), v.state ?? "not_responding"));
  }
  return out;
}

const pageTitle = (v: AppVhost) => (typeof v.title === "string" && v.title.trim() ? v.title : v.fqdn);

/** box's production wiring: vhosts under `<dataDir>/nginx`, reloaded through the sudo helper. */
export function createProxyService(dataDir: string, opts: Partial<Omit<ProxyServiceOptions, "dataDir" | "afterRender">> = {}): ProxyService {
  return new ProxyService({ dataDir, nginx: opts.nginx ?? new SudoNginx(), ...opts });
}
