import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { ROOT_VHOST_DIR, SUDO_HELPER_DIR } from "../paths";
import { rootHelper, run as runCommand, type RunResult as CommandResult } from "../shell";

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

const TLS_PAIR = /^([ \t]*)ssl_certificate[ \t]+(\S+);\n([ \t]*)ssl_certificate_key[ \t]+(\S+);$/gm;

/**
 * What the root helper gets on stdin: the vhost files with each certificate/key pair box
 * rendered (paths in box's data folder) replaced by a copy in root's folder
 * (`<rootDir>/live/certs/<name>.crt|.key`, name = hash of the PEMs), and those PEMs. So
 * root's nginx never opens a file box can write.
 */
export async function helperPayload(files: ReadonlyMap<string, string>, rootDir: string = ROOT_VHOST_DIR, read: (p: string) => Promise<string> = (p) => readFile(p, "utf8")): Promise<HelperPayload> {
  const certs: HelperPayload["certs"] = {};
  const byPaths = new Map<string, string>();
  const sites: Record<string, string> = {};
  for (const [name, text] of files) {
    const pairs: { from: string; certPath: string; keyPath: string; indent: string; indentKey: string }[] = [];
    for (const m of text.matchAll(TLS_PAIR)) pairs.push({ from: m[0], indent: m[1]!, certPath: m[2]!, indentKey: m[3]!, keyPath: m[4]! });
    let out = text;
    for (const p of pairs) {
      const k = `${p.certPath}\0${p.keyPath}`;
      let certName = byPaths.get(k);
      if (!certName) {
        const [cert, key] = await Promise.all([read(p.certPath), read(p.keyPath)]);
        certName = `c-${createHash("sha256").update(cert).update("\0").update(key).digest("hex").slice(0, 32)}`;
        certs[certName] = { cert, key };
        byPaths.set(k, certName);
      }
      out = out.replace(p.from, `${p.indent}ssl_certificate ${rootDir}/live/certs/${certName}.crt;\n${p.indentKey}ssl_certificate_key ${rootDir}/live/certs/${certName}.key;`);
    }
    sites[name] = out;
  }
  return { sites, certs };
}

/**
 * Production: the root helper `setup/sudo/install-vhosts.sh` (through `sudo -n`) gets the
 * whole set on stdin, checks every file against the directives Hearth renders, installs it
 * into root's `/etc/nginx/hearth/`, runs `nginx -t` and reloads, or puts the previous set
 * back. Exit 2 (refused) and 1 (nginx -t failed) are check failures; anything else (sudo
 * refused, reload failed) is a reload failure.
 */
export class SudoNginx implements NginxAdapter {
  synced = false;

  constructor(
    private readonly helper: string = INSTALL_VHOSTS_HELPER,
    private readonly sudo: string = "sudo",
    private readonly rootDir: string = ROOT_VHOST_DIR,
  ) {}

  async checkAndReload(files: ReadonlyMap<string, string>): Promise<NginxTimings> {
    const t0 = performance.now();
    let payload: HelperPayload;
    try {
      payload = await helperPayload(files, this.rootDir);
    } catch (e) {
      throw new NginxError("check", `cannot read a certificate the vhosts name: ${(e as Error).message}`);
    }
    const r = resultOf(await rootHelper(path.basename(this.helper), [], JSON.stringify(payload), { helperDir: path.dirname(this.helper), sudo: this.sudo, timeoutMs: 120_000 }));
    if (r.code === 0) {
      this.synced = true;
      // the helper checks (nginx -t) and reloads in one call
      return { totalMs: Math.round(performance.now() - t0) };
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
