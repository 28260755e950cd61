import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { LocalNginx } from "../../apps/box/src/proxy/nginx";
import { ProxyService, type ProxyServiceOptions } from "../../apps/box/src/proxy/proxy.service";
import { REPO_ROOT } from "./db";

const run = promisify(execFile);

/**
 * A real nginx of a test's own: high ports, pid/logs/temp in a temp dir (the system nginx
 * on 80/443 is left alone), box's ProxyService writing its vhosts, with setup's shared
 * http-context file included exactly as the system nginx includes it. Ports come from the
 * kernel (free ports) unless given.
 */
export interface TestNginx {
  root: string;
  prefix: string;
  dataDir: string;
  httpPort: number;
  httpsPort: number;
  adapter: LocalNginx;
  proxy: ProxyService;
  /** PIDs of the worker processes (they change on every reload). */
  workerPids(): string[];
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Can something listen on 127.0.0.1:port right now? */
function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen({ port, host: "127.0.0.1", exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** A port in [from, to] that nothing listens on now, from a random start; `accept` can rule candidates out. */
export async function freePortIn(from: number, to: number, accept: (port: number) => boolean = () => true): Promise<number> {
  const size = to - from + 1;
  const start = Math.floor(Math.random() * size);
  for (let i = 0; i < size; i++) {
    const port = from + ((start + i) % size);
    if (accept(port) && (await canListen(port))) return port;
  }
  throw new Error(`no free port in ${from}-${to}`);
}

export async function eventually<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000, intervalMs = 100): Promise<T> {
  const end = Date.now() + ms;
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch (e) {
      lastErr = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`condition not met within ${ms} ms: ${JSON.stringify(last) ?? String(lastErr)}`);
}

export interface TestNginxOptions {
  httpPort?: number;
  httpsPort?: number;
  proxy?: Partial<Omit<ProxyServiceOptions, "dataDir" | "nginx" | "httpPort" | "httpsPort">>;
  /**
   * Include setup's dashboard vhost (setup/nginx/dashboard.conf, the `default_server` of the
   * installed system nginx) on the test ports, proxying to 127.0.0.1:<upstreamPort> instead
   * of admin's :3000. Then a name no vhost claims lands where it does on a server: on the
   * "No app here" page (the dashboard only at the IP and localhost), not on whichever app's
   * vhost nginx happens to read first.
   */
  dashboard?: { upstreamPort: number };
}

/** setup/nginx/dashboard.conf as install.sh installs it, moved to the test's ports, upstream, logs and certificate. */
export function renderSetupDashboardConf(o: {
  httpPort: number;
  httpsPort: number;
  upstreamPort: number;
  certPath: string;
  keyPath: string;
  logDir: string;
  sitesDir: string;
  acmeDir: string;
  /** box's pages folder (no-app.html). */
  pagesDir: string;
}): string {
  const text = readFileSync(path.join(REPO_ROOT, "setup/nginx/dashboard.conf"), "utf8");
  const out = text
    .replaceAll("@CERT@", o.certPath)
    .replaceAll("@KEY@", o.keyPath)
    .replaceAll("@ACME_DIR@", o.acmeDir)
    .replaceAll("@PAGES_DIR@", o.pagesDir)
    .replace(/^#IPV6.*\n/gm, "")
    .replace(/^(\s*listen )80( default_server;)/m, `$1${o.httpPort}$2`)
    .replace(/^(\s*listen )443( ssl http2(?: default_server)?;)/gm, `$1${o.httpsPort}$2`)
    .replace(/proxy_pass http:\/\/127\.0\.0\.1:3000;/, `proxy_pass http://127.0.0.1:${o.upstreamPort};`)
    .replace(/\/var\/log\/nginx\//g, `${o.logDir}/`)
    .replace("include /etc/nginx/hearth/live/sites/*.inc;", `include ${o.sitesDir}/*.inc;`);
  // fail loudly when setup's file changes shape, rather than testing against the wrong thing
  for (const want of [
    `include ${o.sitesDir}/*.inc;`,
    `listen ${o.httpPort} default_server;`,
    `listen ${o.httpsPort} ssl http2 default_server;`,
    `listen ${o.httpsPort} ssl http2;`,
    `alias ${o.pagesDir}/no-app.html;`,
    `proxy_pass http://127.0.0.1:${o.upstreamPort};`,
  ]) {
    if (!out.includes(want)) throw new Error(`setup/nginx/dashboard.conf changed: the test copy lacks "${want}"`);
  }
  return out;
}

/** The master's children and what each one's title says (empty when it is gone). */
function childrenOf(master: string): string[] {
  try {
    return readFileSync(`/proc/${master}/task/${master}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}
function titleOf(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

/**
 * LocalNginx that returns from a reload only once nginx serves the new set alone, as the root
 * helper does in production (install-vhosts.mjs waitForNewWorkers): `nginx -s reload` returns
 * at the signal, and for a moment after it the old workers still accept connections and answer
 * them with the old set (a test then sees the certificate it just replaced).
 */
class SettledLocalNginx extends LocalNginx {
  constructor(
    prefix: string,
    confPath: string,
    private readonly pidFile: string,
  ) {
    super(prefix, confPath);
  }

  override async checkAndReload(files?: ReadonlyMap<string, string>) {
    let master = "";
    try {
      master = readFileSync(this.pidFile, "utf8").trim();
    } catch {
      /* not started yet: nothing to wait for */
    }
    const before = master ? childrenOf(master) : [];
    const r = await super.checkAndReload(files);
    if (before.length === 0) return r;
    const end = Date.now() + 15_000;
    for (;;) {
      const now = childrenOf(master);
      const settled = now.some((p) => !before.includes(p)) && before.every((p) => !now.includes(p) || !/worker process/.test(titleOf(p)) || /shutting down/.test(titleOf(p)));
      if (settled) return r;
      if (Date.now() > end) throw new Error(`nginx (${master}) still ran its old workers 15 s after the reload`);
      await sleep(10);
    }
  }
}

export async function startTestNginx(opts: TestNginxOptions = {}): Promise<TestNginx> {
  const root = mkdtempSync(path.join(os.tmpdir(), "hearth-nginx-"));
  // traversable by anyone, as /var/lib/hearth is (setup): the error page and ACME tokens are served from here
  chmodSync(root, 0o755);
  const dataDir = path.join(root, "data");
  const prefix = path.join(root, "nginx");
  const confPath = path.join(prefix, "nginx.conf");
  const httpPort = opts.httpPort ?? (await freePort());
  const httpsPort = opts.httpsPort ?? (await freePort());
  mkdirSync(path.join(prefix, "logs"), { recursive: true });
  mkdirSync(path.join(prefix, "temp"), { recursive: true });
  const adapter = new SettledLocalNginx(prefix, confPath, path.join(prefix, "nginx.pid"));
  const proxy = new ProxyService({ ipv6: false, ...opts.proxy, dataDir, nginx: adapter, httpPort, httpsPort });
  await proxy.ensureLayout();
  let dashboardInclude: string[] = [];
  if (opts.dashboard) {
    const cert = await proxy.fallbackCert("hearth-dashboard.test");
    const file = path.join(prefix, "dashboard.conf");
    writeFileSync(
      file,
      renderSetupDashboardConf({
        httpPort,
        httpsPort,
        upstreamPort: opts.dashboard.upstreamPort,
        certPath: cert.certPath,
        keyPath: cert.keyPath,
        logDir: path.join(prefix, "logs"),
        sitesDir: proxy.sitesLink,
        acmeDir: proxy.acmeChallengeDir,
        pagesDir: proxy.pagesDir,
      }),
    );
    dashboardInclude = [`    include ${file};`];
  }
  writeFileSync(
    confPath,
    [
      // box's flat layout names each name's certificate by a variable, so the workers (not the
      // master) open it at each handshake: here they are the files' owner, the test's user,
      // as on an install the root helper makes root's copies the workers' group's to read
      ...(process.getuid?.() === 0 ? ["user root root;"] : []),
      "worker_processes 1;",
      `pid ${prefix}/nginx.pid;`,
      `error_log ${prefix}/logs/error.log;`,
      "events { worker_connections 256; }",
      "http {",
      `    access_log ${prefix}/logs/access.log;`,
      `    client_body_temp_path ${prefix}/temp/body;`,
      `    proxy_temp_path ${prefix}/temp/proxy;`,
      `    fastcgi_temp_path ${prefix}/temp/fastcgi;`,
      `    uwsgi_temp_path ${prefix}/temp/uwsgi;`,
      `    scgi_temp_path ${prefix}/temp/scgi;`,
      `    include ${path.join(REPO_ROOT, "setup/nginx/hearth-http.conf")};`,
      ...dashboardInclude,
      `    ${proxy.includeLine}`,
      "}",
      "",
    ].join("\n"),
  );
  const proc: ChildProcess = spawn("nginx", ["-p", prefix, "-c", confPath, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr!.on("data", (d) => (stderr += d));
  await eventually(
    async () => readFileSync(path.join(prefix, "nginx.pid"), "utf8"),
    (pid) => pid.trim().length > 0,
  ).catch(() => {
    throw new Error(`nginx did not start: ${stderr}`);
  });
  return {
    root,
    prefix,
    dataDir,
    httpPort,
    httpsPort,
    adapter,
    proxy,
    workerPids() {
      const master = readFileSync(path.join(prefix, "nginx.pid"), "utf8").trim();
      return readFileSync(`/proc/${master}/task/${master}/children`, "utf8").trim().split(/\s+/).sort();
    },
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGQUIT");
        await Promise.race([exited, sleep(5_000)]);
        if (proc.exitCode === null) proc.kill("SIGKILL");
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export interface CurlResult {
  status: number;
  headers: [string, string][];
  body: string;
}

/** curl -i with `--resolve host:port:127.0.0.1`; extra args e.g. ["--cacert", ca] instead of -k. */
export async function curlResolve(url: string, extra: string[] = [], opts: { insecure?: boolean } = {}): Promise<CurlResult> {
  const u = new URL(url);
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  const args = ["-sS", "-i", "--max-time", "10", "--resolve", `${u.hostname}:${port}:127.0.0.1`, ...extra, url];
  if (opts.insecure !== false && !extra.includes("--cacert")) args.unshift("-k");
  const { stdout } = await run("curl", args, { maxBuffer: 1 << 24 });
  const sep = stdout.indexOf("\r\n\r\n");
  const head = stdout.slice(0, sep).split("\r\n");
  const status = Number(head[0]!.split(" ")[1]);
  const headers = head.slice(1).map((l) => {
    const i = l.indexOf(":");
    return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()] as [string, string];
  });
  return { status, headers, body: stdout.slice(sep + 4) };
}

export const headerValues = (r: CurlResult, name: string) => r.headers.filter(([k]) => k === name.toLowerCase()).map(([, v]) => v);
