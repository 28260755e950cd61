import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ROOT_VHOST_DIR, SUDO_HELPER_DIR } from "../paths";
import { rootHelper, run as runCommand, type RunResult as CommandResult } from "../shell";
import { FLAT_FILE } from "./vhost";

/**
 * Adapter for the one side effect the proxy service needs from nginx: make nginx serve the
 * vhost set, checked first, reloaded only if the check passes. No product logic here.
 */
export interface NginxAdapter {
  /**
   * Resolves when the set (file name → text, as box rendered it) passed the check and nginx
   * reloaded, with how long that took; otherwise rejects with NginxError.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: implementations that report nothing (fakes in tests) return Promise<void>
  checkAndReload(files: ReadonlyMap<string, string>): Promise<NginxTimings | void>;
  /**
   * False until this adapter has handed a set to nginx in this process: the proxy service
   * then hands the set over even when box's own copy is unchanged (box re-syncs at start).
   */
  readonly synced?: boolean;
}

/** How long a check + reload took (ms): `checkMs` (`nginx -t`) and `reloadMs` when the adapter runs them apart. */
export interface NginxTimings {
  totalMs: number;
  checkMs?: number;
  reloadMs?: number;
}

export class NginxError extends Error {
  /** "check": the configuration was rejected (nothing reloaded); "reload": the check passed but the reload failed. */
  readonly stage: "check" | "reload";
  /** What nginx (or sudo) printed. */
  readonly output: string;
  constructor(stage: "check" | "reload", output: string) {
    super(output || `nginx ${stage} failed`);
    this.name = "NginxError";
    this.stage = stage;
    this.output = output;
  }
}

/** The root helper that installs a vhost set (whitelisted in /etc/sudoers.d/hearth). */
export const INSTALL_VHOSTS_HELPER = `${SUDO_HELPER_DIR}/install-vhosts.sh`;
export { ROOT_VHOST_DIR };

interface RunResult {
  code: number;
  output: string;
}

function resultOf(r: CommandResult): RunResult {
  const output = `${r.stderr}${r.stdout}`.trim();
  return { code: r.code, output: output || (r.code === 0 ? "" : (r.error?.message ?? (r.timedOut ? "timed out" : `exit code ${r.code}`))) };
}

async function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return resultOf(await runCommand(cmd, args, { timeoutMs }));
}

export interface HelperPayload {
  sites: Record<string, string>;
  certs: Record<string, { cert: string; key: string }>;
}

/** A change to the set root serves (see setup/sudo/install-vhosts.mjs): only what differs from `base`. */
export interface HelperDelta extends HelperPayload {
  base: string;
  remove: string[];
}

type Pem = { name: string; cert: string; key: string };

const TLS_PAIR = /^(?:([ \t]*# certificate (\S+)\n))?([ \t]*)ssl_certificate[ \t]+(\/\S+);\n([ \t]*)ssl_certificate_key[ \t]+(\/\S+);$/gm;

/**
 * The vhost files as root gets them: each certificate/key pair box rendered (paths in box's
 * data folder) replaced by a copy in root's folder (`<rootDir>/live/certs/<name>.crt|.key`,
 * name = hash of the PEMs), so root's nginx never opens a file box can write; and the PEMs of
 * every certificate named, by name. `pem(certPath, keyPath, version)` reads a pair (a caller
 * may remember pairs whose rendered `# certificate <version>` did not change).
 */
export async function helperFiles(
  files: ReadonlyMap<string, string>,
  rootDir: string,
  pem: (certPath: string, keyPath: string, version: string | undefined) => Promise<Pem>,
): Promise<{ sites: Map<string, string>; certs: Map<string, Pem> }> {
  const certs = new Map<string, Pem>();
  const sites = new Map<string, string>();
  for (const [name, text] of files) {
    let out = text;
    for (const m of [...text.matchAll(TLS_PAIR)]) {
      const [from, versionLine = "", version, indent, certPath, indentKey, keyPath] = m as unknown as string[];
      const p = await pem(certPath!, keyPath!, version);
      certs.set(p.name, p);
      out = out.replace(from!, () => `${versionLine}${indent}ssl_certificate ${rootDir}/live/certs/${p.name}.crt;\n${indentKey}ssl_certificate_key ${rootDir}/live/certs/${p.name}.key;`);
    }
    if (name === FLAT_FILE) out = await flatCertMaps(out, rootDir, pem, certs);
    sites.set(name, out);
  }
  return { sites, certs };
}

const MAP_START = /^map \$ssl_server_name \$(hearth_cert|hearth_cert_key) \{$/;
const MAP_ENTRY = /^([ \t]+)(\S+)[ \t]+(\/\S+);$/;

/**
 * The flat layout's certificate maps (`map $ssl_server_name $hearth_cert` / `$hearth_cert_key`,
 * one entry per name): each name's pair, read as `pem` reads it, becomes root's copy.
 */
async function flatCertMaps(text: string, rootDir: string, pem: (certPath: string, keyPath: string, version: string | undefined) => Promise<Pem>, certs: Map<string, Pem>): Promise<string> {
  const lines = text.split("\n");
  const at = { hearth_cert: new Map<string, { line: number; path: string; version?: string }>(), hearth_cert_key: new Map<string, { line: number; path: string; version?: string }>() };
  let inMap: keyof typeof at | null = null;
  let version: string | undefined;
  lines.forEach((l, i) => {
    const start = MAP_START.exec(l);
    if (start) {
      inMap = start[1] as keyof typeof at;
      return;
    }
    if (!inMap) return;
    if (l === "}") {
      inMap = null;
      return;
    }
    const v = /^[ \t]*# certificate (\S+)$/.exec(l);
    if (v) {
      version = v[1];
      return;
    }
    const e = MAP_ENTRY.exec(l);
    if (e) {
      at[inMap].set(e[2]!, { line: i, path: e[3]!, version });
      version = undefined;
    }
  });
  for (const [host, c] of at.hearth_cert) {
    const k = at.hearth_cert_key.get(host);
    if (!k) continue; // the helper refuses a name without its key
    const p = await pem(c.path, k.path, c.version);
    certs.set(p.name, p);
    lines[c.line] = lines[c.line]!.replace(c.path, () => `${rootDir}/live/certs/${p.name}.crt`);
    lines[k.line] = lines[k.line]!.replace(k.path, () => `${rootDir}/live/certs/${p.name}.key`);
  }
  return lines.join("\n");
}

async function readPem(certPath: string, keyPath: string, read: (p: string) => Promise<string> = (p) => readFile(p, "utf8")): Promise<Pem> {
  const [cert, key] = await Promise.all([read(certPath), read(keyPath)]);
  return { name: `c-${createHash("sha256").update(cert).update("\0").update(key).digest("hex").slice(0, 32)}`, cert, key };
}

/** The whole set as the helper's input (box sends it so at its first sync, and when its delta is stale). */
export async function helperPayload(files: ReadonlyMap<string, string>, rootDir: string = ROOT_VHOST_DIR, read: (p: string) => Promise<string> = (p) => readFile(p, "utf8")): Promise<HelperPayload> {
  const h = await helperFiles(files, rootDir, (c, k) => readPem(c, k, read));
  return { sites: Object.fromEntries(h.sites), certs: Object.fromEntries([...h.certs].map(([n, p]) => [n, { cert: p.cert, key: p.key }])) };
}

/** What root serves, as far as this process knows: the live generation, its files and certificate names. */
interface RootSet {
  gen: string;
  sites: Map<string, string>;
  certs: Set<string>;
}

/** The delta from `root` to `next` (null when nothing differs). */
export function helperDelta(root: RootSet, next: { sites: ReadonlyMap<string, string>; certs: ReadonlyMap<string, Pem> }): HelperDelta | null {
  const sites: Record<string, string> = {};
  for (const [f, t] of next.sites) if (root.sites.get(f) !== t) sites[f] = t;
  const remove = [...root.sites.keys()].filter((f) => !next.sites.has(f)).sort();
  const certs: HelperDelta["certs"] = {};
  for (const [n, p] of next.certs) if (!root.certs.has(n)) certs[n] = { cert: p.cert, key: p.key };
  if (Object.keys(sites).length === 0 && remove.length === 0 && Object.keys(certs).length === 0) return null;
  return { base: root.gen, sites, certs, remove };
}

/**
 * Production: the root helper `setup/sudo/install-vhosts.sh` (through `sudo -n`) installs the
 * set into root's `/etc/nginx/hearth/`, runs `nginx -t` and reloads, or puts the previous set
 * back. The first call of a process hands over the whole set; after that, only what changed
 * against the generation root reported live (`live=<gen>`): files written or removed and the
 * certificates root does not hold yet. Nothing changed: no helper call at all. A delta root
 * finds stale (exit 5: something else installed a set) is followed by the whole set. Exit 2
 * (refused) and 1 (nginx -t failed) are check failures; anything else (sudo refused, reload
 * failed) is a reload failure; after any failure the next call hands over the whole set.
 */
export class SudoNginx implements NginxAdapter {
  synced = false;
  /** Helper calls made, and how many carried the whole set (tests, benchmarks). */
  readonly calls = { total: 0, full: 0 };
  private root: RootSet | null = null;
  /** PEMs by "certPath\0keyPath\0version", for pairs rendered with a version. */
  private pems = new Map<string, Pem>();

  constructor(
    private readonly helper: string = INSTALL_VHOSTS_HELPER,
    private readonly sudo: string = "sudo",
    private readonly rootDir: string = ROOT_VHOST_DIR,
  ) {}

  async checkAndReload(files: ReadonlyMap<string, string>): Promise<NginxTimings> {
    const t0 = performance.now();
    // the helper checks (nginx -t) and reloads in one call: only the total is known here
    const timings = (): NginxTimings => ({ totalMs: Math.round(performance.now() - t0) });
    let next: Awaited<ReturnType<typeof helperFiles>>;
    const pems = new Map<string, Pem>();
    try {
      next = await helperFiles(files, this.rootDir, async (certPath, keyPath, version) => {
        const k = `${certPath}\0${keyPath}\0${version ?? ""}`;
        let p = version === undefined ? undefined : (pems.get(k) ?? this.pems.get(k));
        p ??= await readPem(certPath, keyPath);
        if (version !== undefined) pems.set(k, p);
        return p;
      });
    } catch (e) {
      throw new NginxError("check", `cannot read a certificate the vhosts name: ${(e as Error).message}`);
    }
    this.pems = pems;
    const root = this.root;
    if (root) {
      const delta = helperDelta(root, next);
      if (!delta) return timings();
      const r = await this.call(delta);
      if (r.code !== 5) {
        this.settle(r, next);
        return timings();
      }
    }
    const full: HelperPayload = { sites: Object.fromEntries(next.sites), certs: Object.fromEntries([...next.certs].map(([n, p]) => [n, { cert: p.cert, key: p.key }])) };
    this.calls.full++;
    this.settle(await this.call(full), next);
    return timings();
  }

  private async call(input: HelperPayload | HelperDelta): Promise<RunResult> {
    this.calls.total++;
    this.root = null;
    return resultOf(await rootHelper(path.basename(this.helper), [], JSON.stringify(input), { helperDir: path.dirname(this.helper), sudo: this.sudo, timeoutMs: 120_000 }));
  }

  private settle(r: RunResult, next: { sites: Map<string, string>; certs: Map<string, Pem> }): void {
    if (r.code === 0) {
      this.synced = true;
      const gen = /\blive=(gen-[a-z0-9]+-[a-f0-9]+)\b/.exec(r.output)?.[1];
      this.root = gen ? { gen, sites: next.sites, certs: new Set(next.certs.keys()) } : null;
      return;
    }
    throw new NginxError(r.code === 1 || r.code === 2 ? "check" : "reload", r.output);
  }
}

/**
 * An nginx we started ourselves (tests, development): `nginx -p <prefix> -c <conf> -t`,
 * then `-s reload`. Counts reloads so tests can prove an unchanged set reloads nothing.
 */
export class LocalNginx implements NginxAdapter {
  reloads = 0;
  checks = 0;

  constructor(
    private readonly prefix: string,
    private readonly confPath: string,
    private readonly binary: string = "nginx",
  ) {}

  private args(...extra: string[]): string[] {
    return ["-p", this.prefix, "-c", this.confPath, ...extra];
  }

  async checkAndReload(_files?: ReadonlyMap<string, string>): Promise<NginxTimings> {
    this.checks++;
    const t0 = performance.now();
    const t = await run(this.binary, this.args("-t"));
    if (t.code !== 0) throw new NginxError("check", t.output);
    const t1 = performance.now();
    const r = await run(this.binary, this.args("-s", "reload"));
    if (r.code !== 0) throw new NginxError("reload", r.output);
    this.reloads++;
    const t2 = performance.now();
    return { totalMs: Math.round(t2 - t0), checkMs: Math.round(t1 - t0), reloadMs: Math.round(t2 - t1) };
  }
}
