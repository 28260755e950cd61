/**
 * Benchmark (not a test): `GET /api/v1/apps` with APPS installed apps at RATE req/s for
 * SECONDS s against nginx serving the same bytes in the same run, admin's CPU per request,
 * and admin's RSS idle (after a warm-up) and right after the load (goal: <= 1.3x idle).
 * admin runs with the Node options of systemd/hearth-admin.service and the allocator
 * setup/install.sh gives it (jemalloc when this machine has libjemalloc2), as installed;
 * APPS_API_ADMIN_FLAGS (space-separated, "" for none) tries other options, APPS_API_ADMIN_ENV=""
 * runs it on glibc's malloc.
 *
 *   (cd apps/admin && npx next build) && npx tsx bench/apps-api.ts [apps 200] [rate 50] [seconds 20]
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { hearthManifest, type HearthManifest } from "@hearth/contracts";
import { addDomain, claimNext, createApiToken, createUser, finishTask, installApp, updateAppState } from "@hearth/db";
import { migratedDatabase, REPO_ROOT } from "../test/helpers/db";
import { startAdmin } from "../test/helpers/admin";
import { newApiToken } from "../apps/admin/lib/tokens";
import { listProcesses, withDescendants } from "./footprint-proc";
import { startStaticBaseline, type StaticBaseline } from "./static-baseline";
import { adminAllocatorEnv, unitNodeFlags } from "./unit-options";
import { percentile as pct } from "./stats";

const APPS = Number(process.argv[2] ?? 200);
const RATE = Number(process.argv[3] ?? 50);
const SECONDS = Number(process.argv[4] ?? 20);
const ADMIN_FLAGS = process.env.APPS_API_ADMIN_FLAGS !== undefined ? process.env.APPS_API_ADMIN_FLAGS.split(/\s+/).filter(Boolean) : unitNodeFlags("hearth-admin.service");
// admin's environment as setup/install.sh writes it (jemalloc when the machine has it); APPS_API_ADMIN_ENV="" for none
const ADMIN_ENV: Record<string, string> = process.env.APPS_API_ADMIN_ENV === "" ? {} : adminAllocatorEnv();

interface Load {
  latencies: number[];
  errors: number;
  statuses: Map<number, number>;
}

/** Open-loop load: one request every 1000/RATE ms for SECONDS s over keep-alive connections. */
async function load(url: string, headers: Record<string, string>, rate = RATE, seconds = SECONDS): Promise<Load> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const out: Load = { latencies: [], errors: 0, statuses: new Map() };
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      new Promise<void>((resolve) => {
        // measured from when the request was due, so a stalled server is not hidden (no coordinated omission)
        const req = http.get(url, { agent, headers }, (res) => {
          res.on("data", () => {});
          res.on("end", () => {
            out.latencies.push(performance.now() - due);
            out.statuses.set(res.statusCode ?? 0, (out.statuses.get(res.statusCode ?? 0) ?? 0) + 1);
            resolve();
          });
        });
        req.setTimeout(30_000, () => req.destroy(new Error("timeout")));
        req.on("error", () => {
          out.errors++;
          resolve();
        });
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return out;
}

function summary(l: Load) {
  return { p50: pct(l.latencies, 50), p90: pct(l.latencies, 90), p99: pct(l.latencies, 99), max: Math.max(...l.latencies) };
}

/** `pid` and its descendants (next start may run the server in a child; nginx has workers). */
const treeOf = (pid: number) => withDescendants([pid], listProcesses());

/** RSS (VmRSS) of `pid` and its descendants, in MiB. */
function treeRssMiB(pid: number): number {
  let kib = 0;
  for (const p of treeOf(pid)) {
    try {
      kib += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"))?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kib / 1024;
}

/** CPU time (user + system) used so far by `pid` and its descendants, in ms (clock ticks of 10 ms). */
function treeCpuMs(pid: number): number {
  let ticks = 0;
  for (const p of treeOf(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return ticks * 10;
}

/** Runs `load` and measures the CPU `pid`'s tree spent meanwhile, per request. */
async function loadWithCpu(pid: number, ...args: Parameters<typeof load>): Promise<Load & { cpuMsPerRequest: number }> {
  const before = treeCpuMs(pid);
  const l = await load(...args);
  return { ...l, cpuMsPerRequest: (treeCpuMs(pid) - before) / Math.max(1, l.latencies.length) };
}

async function main() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-bench-apps-"));
  const t = await migratedDatabase("benchapps");
  let admin: Awaited<ReturnType<typeof startAdmin>> | undefined;
  let baseline: StaticBaseline | undefined;
  try {
    // --- seed: an owner, a read token, a domain, APPS installed apps from the built-in catalog
    const owner = await createUser(t.db, { id: randomUUID(), username: "owner", email: "owner@example.com", role: "owner", passwordHash: "x" });
    const tok = newApiToken();
    await createApiToken(t.db, { id: tok.id, userId: owner.id, name: "bench", scope: "read", secretHash: tok.secretHash });
    await addDomain(t.db, { domain: "bench.example", provider: "wildcard" }, owner.id);
    const catalogDir = path.join(REPO_ROOT, "packages/catalog/apps");
    const manifests: HearthManifest[] = readdirSync(catalogDir)
      .map((d) => path.join(catalogDir, d, "HearthManifest.json"))
      .filter((f) => existsSync(f))
      .map((f) => hearthManifest.parse(JSON.parse(readFileSync(f, "utf8"))))
      .filter((m) => Object.keys(m.tcpPorts).length === 0);
    const seedStart = performance.now();
    for (let i = 0; i < APPS; i++) {
      const m = manifests[i % manifests.length]!;
      const { app } = await installApp(t.db, { manifest: m, storeId: m.id, subdomain: `app${i}`, domain: "bench.example", memoryLimit: m.memoryLimit, env: {}, createdBy: owner.id });
      await updateAppState(t.db, app.id, { installState: "installed", health: "healthy" });
    }
    for (;;) {
      const task = await claimNext(t.db, "bench", 60_000, ["app.install", "domain.add", "domain.setup", "certificates.renew", "dns.sync"]);
      if (!task) break;
      await finishTask(t.db, task.id, "bench", { state: "succeeded" });
    }
    console.log(`seeded ${APPS} apps in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

    // --- admin
    admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: path.join(tmp, "no-box.sock"), HEARTH_LOG_LEVEL: "info", ...ADMIN_ENV }, { nodeOptions: ADMIN_FLAGS });
    const pid = admin.pid;
    const rssStart = treeRssMiB(pid);
    const headers = { authorization: `Bearer ${tok.token}` };
    const first = await admin.call("GET", "/api/v1/apps", { token: tok.token });
    if (first.status !== 200 || first.body.apps.length !== APPS) throw new Error(`GET /api/v1/apps answered ${first.status}: ${first.text.slice(0, 300)}`);
    const body = Buffer.from(first.text);
    // warm-up: 5 s at the same rate loads the route's code and fills the pools
    await load(`${admin.base}/api/v1/apps`, headers, RATE, 5);
    await new Promise((r) => setTimeout(r, 3000));
    const rssIdle = treeRssMiB(pid);

    // --- baseline then admin, same rate, same duration
    baseline = await startStaticBaseline(body);
    await load(baseline.url, {}, RATE, 2);
    const base = await loadWithCpu(baseline.pid, baseline.url, {});
    const ours = await loadWithCpu(pid, `${admin.base}/api/v1/apps`, headers);
    const rssAfter = treeRssMiB(pid);
    await new Promise((r) => setTimeout(r, 10_000));
    const rssSettled = treeRssMiB(pid);
    // what an open dashboard sends: If-None-Match with the ETag it has
    const cond = await loadWithCpu(pid, `${admin.base}/api/v1/apps`, { ...headers, "if-none-match": first.headers.get("etag") ?? "" }, RATE, Math.min(SECONDS, 10));

    const b = summary(base);
    const o = summary(ours);
    const f = (x: number) => `${x.toFixed(1).padStart(7)} ms`;
    console.log(`\nGET /api/v1/apps with ${APPS} apps (${body.length} bytes), ${RATE} req/s for ${SECONDS} s, open loop`);
    console.log(`  baseline ${baseline.kind}: p50 ${f(b.p50)}  p90 ${f(b.p90)}  p99 ${f(b.p99)}  max ${f(b.max)}  (${base.latencies.length} ok, ${base.errors} errors)`);
    console.log(`  admin:                 p50 ${f(o.p50)}  p90 ${f(o.p90)}  p99 ${f(o.p99)}  max ${f(o.max)}  (${[...ours.statuses].map(([s, n]) => `${n}× ${s}`).join(", ")}, ${ours.errors} errors)`);
    const c = summary(cond);
    console.log(`  admin, If-None-Match:  p50 ${f(c.p50)}  p90 ${f(c.p90)}  p99 ${f(c.p99)}  max ${f(c.max)}  (${[...cond.statuses].map(([s, n]) => `${n}× ${s}`).join(", ")}, ${cond.errors} errors)`);
    console.log(`  ratio admin/baseline:  p50 ${(o.p50 / b.p50).toFixed(1)}×  p99 ${(o.p99 / b.p99).toFixed(1)}×`);
    console.log(
      `  CPU per request: baseline ${base.cpuMsPerRequest.toFixed(2)} ms, admin ${ours.cpuMsPerRequest.toFixed(2)} ms (${(ours.cpuMsPerRequest / Math.max(base.cpuMsPerRequest, 0.01)).toFixed(0)}×), admin 304 ${cond.cpuMsPerRequest.toFixed(2)} ms (10 ms clock ticks)`,
    );
    console.log(
      `  machine load average during the run: ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(" ")} on ${os.cpus().length} CPUs (latencies are only comparable within one run)`,
    );
    console.log(`  goal p99 <= 50 ms: ${o.p99 <= 50 ? "met" : "NOT met"} (${o.p99.toFixed(1)} ms)`);
    console.log(
      `\nadmin RSS (Node options: ${ADMIN_FLAGS.join(" ") || "none"}; ${ADMIN_ENV.LD_PRELOAD ? "jemalloc" : "glibc malloc"}): at start ${rssStart.toFixed(0)} MiB, idle after warm-up ${rssIdle.toFixed(0)} MiB, right after the load ${rssAfter.toFixed(0)} MiB, 10 s later ${rssSettled.toFixed(0)} MiB`,
    );
    console.log(`  ratio after/idle: ${(rssAfter / rssIdle).toFixed(2)}× (10 s later ${(rssSettled / rssIdle).toFixed(2)}×; goal <= 1.3×: ${rssAfter / rssIdle <= 1.3 ? "met" : "NOT met"})`);
  } finally {
    await baseline?.stop();
    await admin?.stop();
    await t.drop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
