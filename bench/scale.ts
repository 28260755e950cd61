/**
 * Benchmark (not a test) for issue 13, "hundreds of apps on one server". One run:
 *
 *  1. the tiny test image (busybox httpd, test/helpers/test-images.ts; built locally when missing);
 *  2. baseline: `docker run` of that image with a port published on 127.0.0.1 → first HTTP 200
 *     (10 runs, and 10 more at the end);
 *  3. a Hearth of its own, started from this checkout: a throwaway database on the test MariaDB,
 *     the built admin (`next start`), box (`apps/box/src/main.ts`) with a throwaway data folder,
 *     and an nginx of its own on free ports (HEARTH_NGINX_CONF), fronted by setup's dashboard
 *     vhost as on a server, so a name no vhost claims does not answer 200;
 *  4. N apps (default 200) installed one by one through the API (POST /api/v1/apps with a custom
 *     manifest for the tiny image, a real read-write API token): POST → first 200 through nginx
 *     (https, SNI + Host of the app's name), plus the vhost sync and `nginx -t` times box writes
 *     in each task's log (`vhost sync: … ms for … vhosts; nginx -t … ms, reload … ms`);
 *  5. GET /api/v1/apps at R rps for S s (open loop, p50/p99) against nginx serving a static file
 *     of the same size, one after the other;
 *  6. every app uninstalled (then purged: uninstall keeps the data) and checked gone: not in the
 *     API, no container, network or volume, its name no longer served.
 *
 * Prints every figure and the ratios, each beside the issue's goal (met / not met).
 *
 *   npm run bench:scale -- [N]        (or HEARTH_BENCH_APPS=N)
 *
 * Other knobs (env): HEARTH_BENCH_BASELINE_RUNS (10), HEARTH_BENCH_RPS (50),
 * HEARTH_BENCH_SECONDS (20), HEARTH_BENCH_INSTALL_TIMEOUT_S (180), HEARTH_TEST_DB_URL (where the
 * throwaway database goes, default the test account on 127.0.0.1). Run as root (docker, nginx).
 * An install that fails (e.g. on today's network ceiling) stops the installs; the rest of the
 * run goes on with the apps that did install and the failure is printed.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { containerNameOf, dataVolumeNameOf, networkNameOf } from "../apps/box/src/apps/container-spec";
import { parseVhostSyncLines } from "../apps/box/src/proxy/sync-log";
import { taskLogPath } from "../apps/box/src/tasks/task-log";
import { sessionCookieOf, startAdmin, type RunningAdmin } from "../test/helpers/admin";
import { adminAllocatorEnv, unitNodeFlags } from "./unit-options";
import { migratedDatabase, MIGRATIONS_DIR, REPO_ROOT } from "../test/helpers/db";
import { freePort, startTestNginx, type TestNginx } from "../test/helpers/nginx";
import { ensureTestImages, TEST_HTTPD_IMAGE } from "../test/helpers/test-images";
import { startStaticBaseline } from "./static-baseline";
import { median, percentile as pct } from "./stats";

// ---- parameters ------------------------------------------------------------------------------

function intParam(name: string, value: string | undefined, def: number, min: number): number {
  if (value === undefined || value === "") return def;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, not ${JSON.stringify(value)}`);
  return n;
}
const N = intParam("the number of apps (argument or HEARTH_BENCH_APPS)", process.argv[2] ?? process.env.HEARTH_BENCH_APPS, 200, 1);
const BASELINE_RUNS = intParam("HEARTH_BENCH_BASELINE_RUNS", process.env.HEARTH_BENCH_BASELINE_RUNS, 10, 1);
const RPS = intParam("HEARTH_BENCH_RPS", process.env.HEARTH_BENCH_RPS, 50, 1);
const SECONDS = intParam("HEARTH_BENCH_SECONDS", process.env.HEARTH_BENCH_SECONDS, 20, 1);
const INSTALL_TIMEOUT_MS = intParam("HEARTH_BENCH_INSTALL_TIMEOUT_S", process.env.HEARTH_BENCH_INSTALL_TIMEOUT_S, 180, 10) * 1000;
/** How often "is it up yet?" is asked, the same for docker run and for Hearth. */
const POLL_MS = 10;

const RUN_ID = `${process.pid.toString(36)}${randomBytes(2).toString("hex")}`;
const DOMAIN = `bench-${RUN_ID}.test`;
const IMAGE = TEST_HTTPD_IMAGE;
const HEALTH = "/health";

// the issue's goals
const GOAL_FIRST_VS_DOCKER = 1.5;
const GOAL_LAST_VS_FIRST = 1.2;
const GOAL_LIST_P99_MS = 50;

const t0Run = Date.now();
const say = (...a: unknown[]) => console.log(`[${((Date.now() - t0Run) / 1000).toFixed(0).padStart(5)} s]`, ...a);

// ---- small helpers ------------------------------------------------------------------------

/** Infinity stands for a request that got no answer within its timeout. */
const ms = (x: number) => (x === Number.POSITIVE_INFINITY ? "no answer within 5 s" : Number.isFinite(x) ? `${x.toFixed(x < 10 ? 1 : 0)} ms` : "n/a");
const list = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");

function docker(...args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}
function dockerOk(...args: string[]): boolean {
  try {
    docker(...args);
    return true;
  } catch {
    return false;
  }
}

/** One GET; resolves with the status (0 when nothing answered) and the latency. */
function get(o: {
  port: number;
  path: string;
  tls?: { servername: string };
  host?: string;
  headers?: Record<string, string>;
  agent?: http.Agent;
}): Promise<{ status: number; ms: number; bytes: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const opts: https.RequestOptions = {
      host: "127.0.0.1",
      port: o.port,
      path: o.path,
      method: "GET",
      headers: { ...(o.host ? { host: o.host } : {}), ...o.headers },
      agent: o.agent ?? false,
      timeout: 5_000,
      ...(o.tls ? { servername: o.tls.servername, rejectUnauthorized: false } : {}),
    };
    const req = (o.tls ? https : http).request(opts, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, bytes }));
      res.on("error", () => resolve({ status: 0, ms: performance.now() - started, bytes }));
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve({ status: 0, ms: performance.now() - started, bytes: 0 }));
    req.end();
  });
}

async function until200(probe: () => Promise<{ status: number }>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await probe()).status === 200) return;
    if (Date.now() > deadline) throw new Error(`no 200 from ${what} within ${timeoutMs / 1000} s`);
    await sleep(POLL_MS);
  }
}

// ---- baseline: docker run → first 200 ------------------------------------------------------

async function dockerRunOnce(i: number): Promise<number> {
  const port = await freePort();
  const name = `hearth-bench-${RUN_ID}-run${i}`;
  const t0 = performance.now();
  docker("run", "-d", "--rm", "--name", name, "-p", `127.0.0.1:${port}:8080`, IMAGE);
  try {
    await until200(() => get({ port, path: HEALTH }), 60_000, `docker run ${name}`);
    return performance.now() - t0;
  } finally {
    dockerOk("rm", "-f", name);
  }
}

async function dockerRuns(label: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < BASELINE_RUNS; i++) out.push(await dockerRunOnce(out.length + (label === "last" ? 1000 : 0)));
  say(`docker run → first 200 (${label} ${BASELINE_RUNS}): median ${ms(median(out))}  [${list(out)}]`);
  return out;
}

// ---- open-loop load at a fixed rate ----------------------------------------------------------

interface LoadResult {
  lat: number[];
  errors: number;
  statuses: Map<number, number>;
  sent: number;
  seconds: number;
}

async function openLoop(rps: number, seconds: number, one: (agent: http.Agent) => Promise<{ status: number; ms: number }>, agent: http.Agent): Promise<LoadResult> {
  const lat: number[] = [];
  const statuses = new Map<number, number>();
  let errors = 0;
  const pending: Promise<void>[] = [];
  const total = rps * seconds;
  const start = performance.now();
  for (let i = 0; i < total; i++) {
    // a fixed schedule, whatever the answers do (latency counts from the scheduled send time)
    const due = start + (i * 1000) / rps;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(
      one(agent).then((r) => {
        const late = performance.now() - due - r.ms; // time the request waited for the event loop
        // no answer (timeout, refused): counted as infinitely slow, so percentiles never look better than they were
        lat.push(r.status === 0 ? Number.POSITIVE_INFINITY : r.ms + Math.max(0, late));
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status !== 200) errors++;
      }),
    );
  }
  await Promise.all(pending);
  return { lat, errors, statuses, sent: total, seconds: (performance.now() - start) / 1000 };
}

// ---- Hearth of our own ----------------------------------------------------------------------

interface Installed {
  n: number;
  id: string;
  taskId: string;
  fqdn: string;
  serveMs: number;
  taskMs: number | null;
  vhostSyncMs: number[];
  nginxTestMs: number[];
  vhosts: number | null;
  /** POST → 202 (admin records the intent). */
  postMs: number;
  /** Task queued → claimed by box. */
  queueMs: number | null;
  /** Task log: each progress step → the next one (ms), by the step's message. */
  steps: Map<string, number>;
}

interface TaskRow {
  state: string;
  error: { code: string; message: string } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

function boxEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("HEARTH_")) env[k] = v;
  return { ...env, ...extra };
}

/** The pid of the process listening on 127.0.0.1:port (admin's next-server), from ss. */
function pidListeningOn(port: number): number | null {
  try {
    const out = execFileSync("ss", ["-Hltnp", `sport = :${port}`], { encoding: "utf8" });
    const m = /pid=(\d+)/.exec(out);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/**
 * Where an install's time goes, from the task log: each `[NN%] message` progress line until
 * the next progress line (the last one until the log's last line).
 */
function stepTimesOf(log: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = log.split("\n").filter(Boolean);
  let open: { msg: string; at: number } | null = null;
  let lastAt = Number.NaN;
  for (const l of lines) {
    const m = /^(\S+) (?:\[(\d+)%\] (.*))?/.exec(l);
    if (!m) continue;
    const at = Date.parse(m[1]!);
    if (!Number.isFinite(at)) continue;
    lastAt = at;
    if (m[3] === undefined) continue;
    if (open) out.set(open.msg, (out.get(open.msg) ?? 0) + at - open.at);
    open = { msg: m[3], at };
  }
  if (open && Number.isFinite(lastAt) && lastAt > open.at) out.set(open.msg, (out.get(open.msg) ?? 0) + lastAt - open.at);
  return out;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

async function main(): Promise<void> {
  const load = os.loadavg();
  say(`scale benchmark: ${N} apps, ${BASELINE_RUNS} docker-run baselines at each end, apps list at ${RPS} rps for ${SECONDS} s`);
  say(
    `machine: ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, load ${load.map((x) => x.toFixed(2)).join(" ")}, ${docker("ps", "-q").split("\n").filter(Boolean).length} containers and ${docker("network", "ls", "-q").split("\n").filter(Boolean).length} networks already there (shared machine: figures move with the load)`,
  );
  ensureTestImages();
  say(`image ${IMAGE}: ${docker("image", "inspect", "-f", "{{.Size}}", IMAGE)} bytes`);

  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.splice(0).reverse()) {
      try {
        await c();
      } catch (e) {
        console.error("cleanup:", (e as Error).message);
      }
    }
  };
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(1);
    interrupted = true;
    say("interrupted: cleaning up (again to exit at once)");
    void cleanup().then(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const created: Installed[] = [];
  const createdIds = new Set<string>();
  const fqdnOf = new Map<string, string>();
  // whatever happens, the Docker objects of the apps this run made go (only those: by their names)
  cleanups.push(() => {
    for (const id of createdIds) {
      dockerOk("rm", "-f", containerNameOf(id));
      dockerOk("network", "rm", networkNameOf(id));
      dockerOk("volume", "rm", "-f", dataVolumeNameOf(id));
    }
  });

  try {
    // 1. baseline, first round
    const baseFirst = await dockerRuns("first");

    // 2. a Hearth of our own
    const t = await migratedDatabase("bench");
    cleanups.push(() => t.drop());
    say(`database ${t.name}`);
    const tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-bench-"));
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    const sock = path.join(tmp, "box.sock");
    const secretKey = randomBytes(32).toString("base64");
    // with the Node options of the installed unit (systemd/hearth-admin.service) and its allocator, as a server runs it
    const admin: RunningAdmin = await startAdmin(
      { HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: sock, HEARTH_SECRET_KEY: secretKey, HEARTH_LOG_LEVEL: "warn", ...adminAllocatorEnv() },
      { nodeOptions: unitNodeFlags("hearth-admin.service") },
    );
    cleanups.push(() => admin.stop());
    const adminPort = Number(new URL(admin.base).port);
    const nginx: TestNginx = await startTestNginx({ dashboard: { upstreamPort: adminPort }, proxy: { ipv6: false } });
    cleanups.push(() => nginx.stop());
    say(`admin ${admin.base}; nginx http :${nginx.httpPort} https :${nginx.httpsPort}; box data ${nginx.dataDir}`);

    // a box that does not know HEARTH_NGINX_CONF would hand its vhosts to the system nginx
    if (!readFileSync(path.join(REPO_ROOT, "apps/box/src/config.ts"), "utf8").includes("HEARTH_NGINX_CONF")) throw new Error("this box has no HEARTH_NGINX_CONF: refusing to start it");
    let boxOut = "";
    const box = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "apps/box/src/main.ts")], {
      cwd: REPO_ROOT,
      env: boxEnv({
        HEARTH_DATABASE_URL: t.url,
        HEARTH_DATA_DIR: nginx.dataDir,
        HEARTH_PROXY: "nginx",
        HEARTH_NGINX_CONF: path.join(nginx.prefix, "nginx.conf"),
        HEARTH_HTTP_PORT: String(nginx.httpPort),
        HEARTH_HTTPS_PORT: String(nginx.httpsPort),
        HEARTH_SERVICES: "off",
        HEARTH_BOX_SOCKET: sock,
        HEARTH_SOCKET_GROUP: "",
        HEARTH_MIGRATIONS_DIR: MIGRATIONS_DIR,
        HEARTH_BOX_ID: `bench-${RUN_ID}`,
        HEARTH_SECRET_KEY: secretKey,
        HEARTH_LOG_LEVEL: "info",
      }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    box.stdout!.on("data", (d) => (boxOut = (boxOut + d).slice(-200_000)));
    box.stderr!.on("data", (d) => (boxOut = (boxOut + d).slice(-200_000)));
    cleanups.push(async () => {
      if (box.exitCode !== null) return;
      const exited = new Promise((r) => box.once("exit", r));
      box.kill("SIGTERM");
      await Promise.race([exited, sleep(30_000)]);
      if (box.exitCode === null) box.kill("SIGKILL");
    });
    const boxReady = Date.now() + 60_000;
    while (!boxOut.includes('"msg":"box ready"')) {
      if (box.exitCode !== null || Date.now() > boxReady) throw new Error(`box did not come up:\n${boxOut.slice(-5000)}`);
      await sleep(100);
    }
    if (!boxOut.includes("HEARTH_NGINX_CONF")) throw new Error("box did not say it uses the nginx given in HEARTH_NGINX_CONF");

    // the owner, a real API token, a domain served with its self-signed certificate
    const setup = await admin.setupOwner({ username: "owner", email: "owner@example.com", password: `bench ${randomBytes(9).toString("base64")}` });
    if (setup.status !== 201 && setup.status !== 200) throw new Error(`setup: ${setup.status} ${setup.text}`);
    const browser = admin.browser(sessionCookieOf(setup));
    const tok = await admin.call("POST", "/api/v1/tokens", { ...browser, body: { name: "bench", scope: "read-write" } });
    if (tok.status !== 201) throw new Error(`token: ${tok.status} ${tok.text}`);
    const token: string = tok.body.token;
    const api = (method: string, url: string, body?: unknown) => admin.call(method, url, { token, ...(body === undefined ? {} : { body }) });
    const dom = await api("POST", "/api/v1/domains", { domain: DOMAIN, provider: "noop", tlsMode: "fallback" });
    if (dom.status >= 300) throw new Error(`domain: ${dom.status} ${dom.text}`);
    const waitTask = async (taskId: string, timeoutMs = INSTALL_TIMEOUT_MS): Promise<TaskRow> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = await api("GET", `/api/v1/tasks/${taskId}`);
        if (r.status === 200 && ["succeeded", "failed", "cancelled"].includes(r.body.state)) return r.body;
        if (Date.now() > deadline) throw new Error(`task ${taskId} not done within ${timeoutMs / 1000} s: ${r.text}`);
        await sleep(100);
      }
    };
    if (dom.body?.taskId) await waitTask(dom.body.taskId);
    // a name no vhost claims must not answer 200, or "first 200" would mean nothing
    const stray = await get({ port: nginx.httpsPort, path: HEALTH, tls: { servername: `nobody.${DOMAIN}` }, host: `nobody.${DOMAIN}` });
    if (stray.status === 200) throw new Error("nginx answers 200 for a name no vhost claims: the first-200 figures would mean nothing");

    const manifest = {
      manifestVersion: 1,
      id: "org.hearth.bench.httpd",
      title: "Bench httpd",
      version: "1.0.0",
      dockerImage: IMAGE,
      httpPort: 8080,
      healthCheckPath: HEALTH,
      memoryLimit: 64 * 1024 * 1024,
    };

    // 3. N installs, one by one
    let failure: string | null = null;
    for (let n = 1; n <= N && !interrupted; n++) {
      const sub = `a${n}`;
      const fqdn = `${sub}.${DOMAIN}`;
      const started = performance.now();
      const r = await api("POST", "/api/v1/apps", { manifest, subdomain: sub, domain: DOMAIN });
      const postMs = performance.now() - started;
      if (r.status !== 202) {
        failure = `install #${n}: POST answered ${r.status} ${r.text.slice(0, 300)}`;
        break;
      }
      createdIds.add(r.body.id);
      fqdnOf.set(r.body.id, fqdn);
      const probe = () => get({ port: nginx.httpsPort, path: HEALTH, tls: { servername: fqdn }, host: fqdn });
      let serveMs = Number.NaN;
      // first 200 through nginx, or the task ending without one
      const deadline = Date.now() + INSTALL_TIMEOUT_MS;
      let ended: TaskRow | null = null;
      // nginx is asked every POLL_MS (as the container is in the baseline); the task's state only every 500 ms, so the
      // benchmark's own API calls do not load admin (which shares the cores with box) while it measures
      let taskAsked = performance.now();
      for (;;) {
        if ((await probe()).status === 200) {
          serveMs = performance.now() - started;
          break;
        }
        if (performance.now() - taskAsked >= 500) {
          taskAsked = performance.now();
          const tk = await api("GET", `/api/v1/tasks/${r.body.taskId}`);
          if (tk.status === 200 && ["failed", "cancelled"].includes(tk.body.state)) {
            ended = tk.body;
            break;
          }
        }
        if (Date.now() > deadline) break;
        await sleep(POLL_MS);
      }
      const task: TaskRow =
        ended ?? (await waitTask(r.body.taskId).catch((e: Error) => ({ state: "timeout", error: { code: "timeout", message: e.message }, startedAt: null, finishedAt: null, createdAt: "" })));
      const logFile = taskLogPath(nginx.dataDir, r.body.taskId);
      const log = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
      if (task.state !== "succeeded" || !Number.isFinite(serveMs)) {
        failure = `install #${n} (${fqdn}): task ${task.state}${task.error ? ` — ${task.error.code}: ${task.error.message}` : ""}${Number.isFinite(serveMs) ? "" : "; never served 200"}\n  task log tail:\n${log.split("\n").slice(-8).join("\n")}`;
        break;
      }
      const s = parseVhostSyncLines(log);
      const taskMs = task.startedAt && task.finishedAt ? Date.parse(task.finishedAt) - Date.parse(task.createdAt) : null;
      const queueMs = task.startedAt ? Date.parse(task.startedAt) - Date.parse(task.createdAt) : null;
      created.push({ n, id: r.body.id, taskId: r.body.taskId, fqdn, serveMs, taskMs, vhostSyncMs: s.syncMs, nginxTestMs: s.checkMs, vhosts: s.vhosts, postMs, queueMs, steps: stepTimesOf(log) });
      if (n <= 3 || n % 10 === 0 || n === N) {
        say(
          `install #${n}: POST → 200 via nginx ${ms(serveMs)}; task ${taskMs ?? "?"} ms; vhost sync ${s.syncMs.join(" + ") || "n/a"} ms; nginx -t ${s.checkMs.join(" + ") || "n/a"} ms (${s.vhosts ?? "?"} vhosts)`,
        );
      }
    }
    if (failure) say(`STOPPED INSTALLING: ${failure}`);
    say(`${created.length} of ${N} apps installed and served`);

    // every installed app still serves (the last install did not break the earlier ones)
    let serving = 0;
    for (const a of created) if ((await get({ port: nginx.httpsPort, path: HEALTH, tls: { servername: a.fqdn }, host: a.fqdn })).status === 200) serving++;
    say(`${serving} of ${created.length} apps answer 200 through nginx after the last install`);

    // 4. the apps list under load, against a static file of the same size
    const sample = await api("GET", "/api/v1/apps");
    if (sample.status !== 200) throw new Error(`GET /api/v1/apps: ${sample.status} ${sample.text.slice(0, 300)}`);
    const listBytes = Buffer.byteLength(sample.text);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    say(`GET /api/v1/apps: ${sample.body.apps.length} apps, ${listBytes} bytes; ${RPS} rps for ${SECONDS} s …`);
    const adminPid = pidListeningOn(adminPort);
    const rssIdle = adminPid ? rssMiB(adminPid) : Number.NaN;
    // warm-up (first requests load code and fill caches), not in the figures under load; the last 10 give the latency one at a time
    const listOne: number[] = [];
    for (let i = 0; i < 20; i++) listOne.push((await get({ port: adminPort, path: "/api/v1/apps", headers: { authorization: `Bearer ${token}` }, agent })).ms);
    say(`apps list one request at a time (warm): median ${ms(median(listOne.slice(10)))}`);
    const listLoad = await openLoop(RPS, SECONDS, (ag) => get({ port: adminPort, path: "/api/v1/apps", headers: { authorization: `Bearer ${token}` }, agent: ag }), agent);
    agent.destroy();
    const stat = await startStaticBaseline(Buffer.from(sample.text));
    cleanups.push(() => stat.stop());
    const sagent = new http.Agent({ keepAlive: true, maxSockets: 256 });
    const staticOne: number[] = [];
    for (let i = 0; i < 20; i++) staticOne.push((await get({ port: stat.port, path: "/apps.json", agent: sagent })).ms);
    const staticLoad = await openLoop(RPS, SECONDS, (ag) => get({ port: stat.port, path: "/apps.json", agent: ag }), sagent);
    sagent.destroy();
    const fmtLoad = (l: LoadResult) =>
      `p50 ${ms(pct(l.lat, 50))}, p90 ${ms(pct(l.lat, 90))}, p99 ${ms(pct(l.lat, 99))}, max ${ms(pct(l.lat, 100))}; ${l.sent} requests in ${l.seconds.toFixed(1)} s, ${l.errors} not 200 ${JSON.stringify(Object.fromEntries([...l.statuses].map(([k, v]) => [k === 0 ? "no answer within 5 s" : k, v])))}`;
    say(`apps list (admin, http, bearer token): ${fmtLoad(listLoad)}`);
    const rssAfter = adminPid ? rssMiB(adminPid) : Number.NaN;
    say(`admin RSS: ${rssIdle.toFixed(0)} MiB before the load, ${rssAfter.toFixed(0)} MiB after`);
    say(`static file of ${listBytes} bytes (${stat.kind}, http): ${fmtLoad(staticLoad)}; one at a time median ${ms(median(staticOne.slice(10)))}`);

    // 5. uninstall all (queued at once, box works through them), a failed install's app too, then check they are gone
    const unStart = performance.now();
    const unTasks: string[] = [];
    const toRemove = (await api("GET", "/api/v1/apps")).body.apps as { id: string }[];
    for (const a of toRemove) {
      const r = await api("DELETE", `/api/v1/apps/${a.id}`);
      if (r.status !== 202) throw new Error(`uninstall ${fqdnOf.get(a.id) ?? a.id}: ${r.status} ${r.text}`);
      unTasks.push(r.body.taskId);
    }
    let unFailed = 0;
    for (const id of unTasks) if ((await waitTask(id, 600_000)).state !== "succeeded") unFailed++;
    const unMs = performance.now() - unStart;
    const left = (await api("GET", "/api/v1/apps")).body.apps.length as number;
    let stillServed = 0;
    let containersLeft = 0;
    let networksLeft = 0;
    for (const [id, fqdn] of fqdnOf) {
      if ((await get({ port: nginx.httpsPort, path: HEALTH, tls: { servername: fqdn }, host: fqdn })).status === 200) stillServed++;
      if (dockerOk("container", "inspect", containerNameOf(id))) containersLeft++;
      if (dockerOk("network", "inspect", networkNameOf(id))) networksLeft++;
    }
    say(
      `uninstall of ${toRemove.length} apps: ${ms(unMs)} (${toRemove.length ? ms(unMs / toRemove.length) : "n/a"} per app), ${unFailed} failed; left: ${left} in the API, ${stillServed} still answering 200, ${containersLeft} containers, ${networksLeft} networks`,
    );
    // uninstall keeps the data: purge it, so the run leaves no volume behind
    const purgeTasks: string[] = [];
    const kept = await api("GET", "/api/v1/uninstalled-apps");
    for (const u of (kept.body?.apps ?? []) as { id: string; fqdn: string }[]) {
      const r = await api("DELETE", `/api/v1/uninstalled-apps/${u.id}`, { confirm: u.fqdn });
      if (r.status === 202) purgeTasks.push(r.body.taskId);
    }
    for (const id of purgeTasks) await waitTask(id, 600_000);
    let volumesLeft = 0;
    for (const id of fqdnOf.keys()) if (dockerOk("volume", "inspect", dataVolumeNameOf(id))) volumesLeft++;
    say(`purged ${purgeTasks.length} uninstalled apps; ${volumesLeft} data volumes left`);
    const gone = unFailed === 0 && left === 0 && stillServed === 0 && containersLeft === 0 && networksLeft === 0 && volumesLeft === 0;

    // 6. baseline, last round
    const baseLast = await dockerRuns("last");

    // ---- summary ----
    const base = median([...baseFirst, ...baseLast]);
    const first = created[0];
    const last = created.at(-1);
    const head = created.slice(0, 10).map((a) => a.serveMs);
    const tail = created.slice(-10).map((a) => a.serveMs);
    const goal = (ok: boolean) => (ok ? "met" : "NOT met");
    const line = (label: string, value: number, goalText: string, ok: boolean) =>
      console.log(
        `  ${label.padEnd(58)} ${Number.isFinite(value) ? value.toFixed(2).padStart(7) : Number.isNaN(value) ? "    n/a" : "    inf"}   goal ${goalText.padEnd(8)} ${Number.isNaN(value) ? "n/a" : goalText === "(info)" ? "" : goal(ok)}`,
      );
    console.log("");
    console.log(`==== scale benchmark: ${created.length}/${N} apps installed${failure ? " (stopped early, see above)" : ""} ====`);
    console.log(
      `load at the start ${load.map((x) => x.toFixed(2)).join(" ")}, at the end ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(" ")} (${os.cpus().length} cores, shared)`,
    );
    console.log(`docker run → first 200: first ${BASELINE_RUNS} median ${ms(median(baseFirst))}, last ${BASELINE_RUNS} median ${ms(median(baseLast))}; baseline (median of all) ${ms(base)}`);
    console.log(
      `POST /api/v1/apps → first 200 via nginx: #1 ${ms(first?.serveMs ?? Number.NaN)}, #${last?.n ?? "-"} ${ms(last?.serveMs ?? Number.NaN)}; median of first 10 ${ms(median(head))}, of last 10 ${ms(median(tail))}`,
    );
    console.log(`  every install (ms): ${list(created.map((a) => a.serveMs))}`);
    const syncFirst = first ? sum(first.vhostSyncMs) : Number.NaN;
    const syncLast = last ? sum(last.vhostSyncMs) : Number.NaN;
    const checkFirst = first ? sum(first.nginxTestMs) : Number.NaN;
    const checkLast = last ? sum(last.nginxTestMs) : Number.NaN;
    if (first && first.vhostSyncMs.length === 0) console.log("vhost sync / nginx -t: not in the task logs (this box does not log them)");
    else {
      console.log(
        `vhost sync per install (all syncs of the task): #1 ${ms(syncFirst)} (${first?.vhostSyncMs.length ?? 0} syncs), #${last?.n ?? "-"} ${ms(syncLast)} (${last?.vhostSyncMs.length ?? 0} syncs, ${last?.vhosts ?? "?"} vhosts)`,
      );
      console.log(`nginx -t per install: #1 ${ms(checkFirst)}, #${last?.n ?? "-"} ${ms(checkLast)}; one nginx -t at ${last?.vhosts ?? "?"} vhosts: ${ms(last?.nginxTestMs.at(-1) ?? Number.NaN)}`);
      console.log(`  vhost sync per install (ms): ${list(created.map((a) => sum(a.vhostSyncMs)))}`);
    }
    const groups: [string, Installed[]][] = [
      ["first 10", created.slice(0, 10)],
      ["last 10", created.slice(-10)],
    ];
    console.log(`where an install's time goes (median ms; ${groups.map(([g]) => g).join(" | ")}):`);
    const row = (label: string, f: (a: Installed) => number | null | undefined) =>
      console.log(`  ${label.slice(0, 60).padEnd(60)} ${groups.map(([, as]) => ms(median(as.map(f).filter((x): x is number => typeof x === "number")))).join(" | ")}`);
    row("POST → 202", (a) => a.postMs);
    row("queued → claimed by box", (a) => a.queueMs);
    const stepNames = [...new Set(created.flatMap((a) => [...a.steps.keys()]))];
    for (const name of stepNames) row(`[step] ${name}`, (a) => a.steps.get(name));
    row("queued → task finished", (a) => a.taskMs);
    row("POST → first 200 via nginx", (a) => a.serveMs);
    console.log(`install task (queued → finished): #1 ${first?.taskMs ?? "?"} ms, #${last?.n ?? "-"} ${last?.taskMs ?? "?"} ms`);
    console.log(`apps list one at a time: median ${ms(median(listOne.slice(10)))}; static: ${ms(median(staticOne.slice(10)))}`);
    console.log(
      `apps list at ${RPS} rps: p50 ${ms(pct(listLoad.lat, 50))}, p99 ${ms(pct(listLoad.lat, 99))} (${listLoad.errors} errors); static ${listBytes} B: p50 ${ms(pct(staticLoad.lat, 50))}, p99 ${ms(pct(staticLoad.lat, 99))}`,
    );
    console.log(`admin RSS: ${rssIdle.toFixed(0)} MiB before the apps-list load, ${rssAfter.toFixed(0)} MiB after`);
    console.log(`uninstall: ${toRemove.length} apps in ${ms(unMs)}; all gone: ${gone ? "yes" : "NO"}`);
    console.log("ratios:");
    line("install #1 / docker run (baseline median)", (first?.serveMs ?? Number.NaN) / base, `≤ ${GOAL_FIRST_VS_DOCKER}`, (first?.serveMs ?? Infinity) / base <= GOAL_FIRST_VS_DOCKER);
    line("install median(first 10) / docker run median(first 10)", median(head) / median(baseFirst), `≤ ${GOAL_FIRST_VS_DOCKER}`, median(head) / median(baseFirst) <= GOAL_FIRST_VS_DOCKER);
    line(
      `install #${last?.n ?? N} / install #1`,
      (last?.serveMs ?? Number.NaN) / (first?.serveMs ?? Number.NaN),
      `≤ ${GOAL_LAST_VS_FIRST}`,
      (last?.serveMs ?? Infinity) / (first?.serveMs ?? 1) <= GOAL_LAST_VS_FIRST,
    );
    line("install median(last 10) / median(first 10)", median(tail) / median(head), `≤ ${GOAL_LAST_VS_FIRST}`, median(tail) / median(head) <= GOAL_LAST_VS_FIRST);
    line(`install #${last?.n ?? N} / docker run median(last 10)`, (last?.serveMs ?? Number.NaN) / median(baseLast), "(info)", true);
    line("vhost sync: last install / first install", syncLast / syncFirst, "(info)", true);
    line("apps list p99 / static file p99", pct(listLoad.lat, 99) / pct(staticLoad.lat, 99), "(info)", true);
    line("apps list p50 / static file p50", pct(listLoad.lat, 50) / pct(staticLoad.lat, 50), "(info)", true);
    line("admin RSS after the load / before", rssAfter / rssIdle, "≤ 1.3", rssAfter / rssIdle <= 1.3);
    line("apps list p99 (ms)", pct(listLoad.lat, 99), `≤ ${GOAL_LIST_P99_MS} ms`, pct(listLoad.lat, 99) <= GOAL_LIST_P99_MS && listLoad.errors === 0);
    console.log(
      `  ${"all N apps installed, served, uninstalled and gone".padEnd(58)} ${`${created.length}/${N}`.padStart(7)}   goal ${`${N}/${N}`.padEnd(8)} ${goal(created.length === N && serving === N && gone)}`,
    );
    process.exitCode = created.length === N && gone ? 0 : 1;
  } finally {
    await cleanup();
  }
}

await main().catch(async (e) => {
  console.error(e);
  process.exitCode = 2;
});
