import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { createDb, ensureSetupCode } from "@hearth/db";
import { REPO_ROOT } from "./db";

/**
 * The built admin (its own server, `node dist/server.mjs`, as `npm start` and the systemd unit
 * run it) on a free port, for integration tests over real HTTP. Builds first when there is no
 * build or its sources changed (test/run.sh builds before).
 */
export const ADMIN_DIR = path.join(REPO_ROOT, "apps/admin");
export const NEXT_BIN = path.join(REPO_ROOT, "node_modules/next/dist/bin/next");
export const ADMIN_SERVER = path.join(ADMIN_DIR, "dist/server.mjs");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name === ".next" || e.name === "generated" || e.name === "dist") continue;
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

export function ensureAdminBuilt() {
  const buildId = path.join(ADMIN_DIR, ".next/BUILD_ID");
  const built = existsSync(buildId) ? statSync(buildId).mtimeMs : 0;
  const sources = Math.max(newestMtime(ADMIN_DIR), newestMtime(path.join(REPO_ROOT, "packages/contracts/src")), newestMtime(path.join(REPO_ROOT, "packages/db/src")));
  if (built <= sources) {
    const r = spawnSync(process.execPath, [NEXT_BIN, "build"], { cwd: ADMIN_DIR, env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" }, encoding: "utf8", timeout: 280_000 });
    if (r.status !== 0) throw new Error(`next build failed:\n${r.stdout}\n${r.stderr}`);
  }
  const serverBuilt = existsSync(ADMIN_SERVER) ? statSync(ADMIN_SERVER).mtimeMs : 0;
  if (serverBuilt > sources) return;
  const r = spawnSync(process.execPath, ["build-server.mjs"], { cwd: ADMIN_DIR, encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`admin's server build failed:\n${r.stdout}\n${r.stderr}`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** HEARTH_PROXY_SECRET of the admins tests start (what nginx's X-Hearth-Proxy-Secret carries). */
export const TEST_PROXY_SECRET = "hearth-test-proxy-secret-0123456789abcdef";

export interface Call {
  body?: unknown;
  raw?: string;
  cookie?: string;
  token?: string;
  origin?: string | null;
  referer?: string;
  ip?: string;
  contentType?: string;
}

/** One request to admin at `base`, as a browser or a script would send it. */
export async function callAdmin(base: string, method: string, url: string, c: Call = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (c.cookie) headers.cookie = c.cookie;
  if (c.token) headers.authorization = `Bearer ${c.token}`;
  if (c.origin) headers.origin = c.origin;
  if (c.referer) headers.referer = c.referer;
  // as Hearth's nginx sends it: X-Real-IP with the secret admin believes it from
  if (c.ip) Object.assign(headers, { "x-real-ip": c.ip, "x-hearth-proxy-secret": TEST_PROXY_SECRET });
  const raw = c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body));
  if (raw !== undefined) headers["content-type"] = c.contentType ?? "application/json";
  const res = await fetch(`${base}${url}`, { method, headers, body: raw, redirect: "manual" });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  return { status: res.status, headers: res.headers, body, text };
}

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface RunningAdmin {
  base: string;
  /** admin's server process (benchmarks read its RSS) */
  pid: number;
  output(): string;
  call(method: string, url: string, c?: Call): Promise<Reply>;
  /** What a browser sends: the session cookie plus a same-origin Origin. */
  browser(cookie: string, extra?: Call): Call;
  /** First-run setup as the installer's user would do it: with the setup code (made as install.sh makes it). */
  setupOwner(owner: { username: string; email: string; password: string; displayName?: string }): Promise<Reply>;
  stop(): Promise<void>;
}

/** `nodeOptions`: Node options before the script (benchmarks pass the systemd unit's). */
export async function startAdmin(env: Record<string, string>, opts: { nodeOptions?: string[] } = {}): Promise<RunningAdmin> {
  ensureAdminBuilt();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let output = "";
  const server: ChildProcess = spawn(process.execPath, [...(opts.nodeOptions ?? []), ADMIN_SERVER, "-H", "127.0.0.1", "-p", String(port)], {
    cwd: ADMIN_DIR,
    env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1", HEARTH_COOKIE_SECURE: "false", HEARTH_LOG_LEVEL: "info", HEARTH_PROXY_SECRET: TEST_PROXY_SECRET, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout!.on("data", (d) => (output += d));
  server.stderr!.on("data", (d) => (output += d));

  const call = (method: string, url: string, c: Call = {}) => callAdmin(base, method, url, c);

  const until = Date.now() + 90_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`admin exited (${server.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${base}/api/v1/status`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`admin did not come up:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }

  return {
    base,
    pid: server.pid!,
    output: () => output,
    call,
    browser: (cookie, extra = {}) => ({ cookie, origin: base, ...extra }),
    async setupOwner(owner) {
      const setupCode = await issueSetupCode(env.HEARTH_DATABASE_URL ?? "");
      return call("POST", "/api/v1/setup/owner", { body: { ...owner, setupCode } });
    },
    async stop() {
      if (server.exitCode !== null) return;
      const exited = new Promise((r) => server.once("exit", r));
      server.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (server.exitCode === null) server.kill("SIGKILL");
    },
  };
}

/**
 * The setup code for the database at `databaseUrl`, made (or kept) the way setup/install.sh
 * makes it through setup/setup-code.ts; only its hash is stored.
 */
export async function issueSetupCode(databaseUrl: string): Promise<string> {
  const db = createDb(databaseUrl, { connectionLimit: 1 });
  try {
    const code = await ensureSetupCode(db, null);
    if (!code) throw new Error("setup is already done: no setup code");
    return code;
  } finally {
    await db.$disconnect();
  }
}

export function sessionCookieOf(r: Reply): string {
  const set = r.headers.get("set-cookie") ?? "";
  // __Host-hearth_session over https (HEARTH_COOKIE_SECURE), hearth_session over plain http
  const m = /((?:__Host-)?hearth_session)=([^;]+)/.exec(set);
  if (!m) throw new Error(`no session cookie in ${JSON.stringify(set)}`);
  return `${m[1]}=${m[2]}`;
}
