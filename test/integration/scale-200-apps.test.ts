import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest, type HearthManifest } from "@hearth/contracts";
import { addDomain, fqdnOfUninstalled, getUninstalledApp, installApp, queueAppPurge, queueAppTask, type Db, type Task } from "@hearth/db";
import { AppService, ownerOf } from "../../apps/box/src/apps/apps.service";
import { containerNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { prismaRegistryCredentials } from "../../apps/box/src/apps/images";
import { createDocker, OWNER_LABEL, type DockerApi } from "../../apps/box/src/docker/docker";
import { cidrContains, networkPlanFromEnv, parseCidr } from "../../apps/box/src/docker/subnets";
import { dbVhostSync } from "../../apps/box/src/proxy/vhost-sync";
import { startTaskRunner, type InProcessTasks } from "../helpers/app-tasks";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { curlResolve, freePort, startTestNginx, type TestNginx } from "../helpers/nginx";
import { ensureTestImages, testHttpdManifest } from "../helpers/test-images";

/**
 * Hundreds of apps on one server (issue 13): 200 small apps (the busybox test httpd) installed
 * one after another through box's real install path (installApp records intent as admin does,
 * box's task runner runs app.install with the AppService wired as main.ts wires it) on the real
 * Docker engine, behind a real nginx whose vhosts box renders from the database. Docker's
 * default address pools hold about 30 networks: every app's network comes from Hearth's own
 * plan. Each app must then serve through nginx under its own name; then all are uninstalled
 * (and their kept data deleted, as an admin's "delete now"), and nothing of theirs is left.
 *
 * The install times of the 1st and the 200th app are printed; the test asserts only a
 * generous sanity bound on them (the ratio goal is bench/scale.ts's job).
 *
 * It is the vitest project `scale` (its own phase and time limit in test/run.sh):
 * `npx vitest run --project scale`. About 10 min on an idle 2-core machine (454 s of
 * installs), 28 min on a busy one. HEARTH_SCALE_APPS=<n> runs it with fewer apps (trying it out).
 */

const COUNT = Number(process.env.HEARTH_SCALE_APPS ?? 200);
const RUN = Math.random().toString(36).slice(2, 8);
const DOMAIN = `scale-${RUN}.test`;
const BODY = "hello from hearth test app";
const manifest: HearthManifest = hearthManifest.parse(testHttpdManifest("org.hearth.test.scale", "Scale test httpd", { memoryLimit: 32 * 1024 * 1024 }));

let t: TestDatabase & { db: Db };
let db: Db;
let docker: DockerApi;
let nginx: TestNginx;
let tasks: InProcessTasks;
let owner = "";
let dashboard: http.Server;
const tmpRoot = mkdtempSync(path.join(os.tmpdir(), "hearth-scale-"));
const apps: { id: string; subdomain: string }[] = [];
const installMs: number[] = [];

const sub = (i: number) => `s${String(i + 1).padStart(3, "0")}`;
const lines = (...args: string[]) =>
  execFileSync("docker", args, { encoding: "utf8", maxBuffer: 1 << 24 })
    .split("\n")
    .filter(Boolean);
/** This run's Docker objects: everything labelled with its store's owner id (a database of its own). */
const ours = () => ({
  containers: lines("ps", "-a", "-q", "--filter", `label=${OWNER_LABEL}=${owner}`),
  networks: lines("network", "ls", "-q", "--filter", `label=${OWNER_LABEL}=${owner}`),
  volumes: lines("volume", "ls", "-q", "--filter", `label=${OWNER_LABEL}=${owner}`),
});

async function finished(task: Task, timeoutMs = 300_000): Promise<Task> {
  const done = await tasks.finish(task.id, timeoutMs);
  expect(done.state, `${done.type} ${done.errorCode}: ${done.errorMessage}\n${tasks.log(task.id)}`).toBe("succeeded");
  return done;
}

const https = (subdomain: string) => `https://${subdomain}.${DOMAIN}:${nginx.httpsPort}/`;
/** How many requests the app's httpd has answered (busybox httpd -v logs one line per request). */
const answered = (appId: string) => {
  const r = spawnSync("docker", ["logs", containerNameOf(appId)], { encoding: "utf8", maxBuffer: 1 << 24 });
  return `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.includes("response:")).length;
};
const serves = async (subdomain: string) => {
  const r = await curlResolve(https(subdomain));
  return r.status === 200 && r.body.trim() === BODY;
};

beforeAll(async () => {
  ensureTestImages();
  docker = createDocker();
  await docker.ping();
  t = await migratedDatabase("scale200");
  db = t.db;
  owner = ownerOf(t.url);
  // setup's default servers, as on an installed server: a name no app has lands there ("No app here")
  dashboard = http.createServer((_req, res) => res.end("hearth dashboard"));
  const dashboardPort = await freePort();
  await new Promise<void>((r) => dashboard.listen(dashboardPort, "127.0.0.1", r));
  nginx = await startTestNginx({ dashboard: { upstreamPort: dashboardPort } });
  await addDomain(db, { domain: DOMAIN, provider: "noop" });
  const service = new AppService({
    db,
    docker,
    vhosts: dbVhostSync(db, nginx.proxy, { dashboardPort }),
    registries: prismaRegistryCredentials(db, undefined),
    catalogDirs: [],
    owner,
  });
  tasks = await startTaskRunner({ db, service, dataDir: path.join(tmpRoot, "box") });
}, 300_000);

afterAll(async () => {
  await tasks?.stop();
  if (owner) {
    // only when a test failed half way: remove what this run's store made (its own owner label)
    const left = ours();
    if (left.containers.length) execFileSync("docker", ["rm", "-f", ...left.containers], { stdio: "ignore" });
    for (const n of left.networks) execFileSync("docker", ["network", "rm", n], { stdio: "ignore" });
    if (left.volumes.length) execFileSync("docker", ["volume", "rm", "-f", ...left.volumes], { stdio: "ignore" });
  }
  await nginx?.stop();
  if (dashboard) {
    dashboard.closeAllConnections();
    await new Promise((r) => dashboard.close(r));
  }
  await t?.drop();
  rmSync(tmpRoot, { recursive: true, force: true });
}, 600_000);

describe(`${COUNT} apps on one server`, () => {
  it(`installs ${COUNT} apps one by one through app.install, each on its own network from Hearth's plan`, async () => {
    const started = performance.now();
    for (let i = 0; i < COUNT; i++) {
      const t0 = performance.now();
      const { app, task } = await installApp(db, { manifest, storeId: null, subdomain: sub(i), domain: DOMAIN, memoryLimit: manifest.memoryLimit, env: {}, createdBy: null });
      apps.push({ id: app.id, subdomain: sub(i) });
      await finished(task);
      installMs.push(performance.now() - t0);
      if ((i + 1) % 25 === 0) console.log(`[scale] ${i + 1} apps installed, the last in ${Math.round(installMs[i] ?? 0)} ms, ${Math.round((performance.now() - started) / 1000)} s so far`);
    }
    const first = installMs[0] ?? 0;
    const last = installMs[COUNT - 1] ?? 0;
    const avg = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
    console.log(
      `[scale] install (intent recorded → app.install succeeded): 1st ${Math.round(first)} ms, ${COUNT}th ${Math.round(last)} ms (ratio ${(last / first).toFixed(2)}); ` +
        `first 10 avg ${avg(installMs.slice(0, 10))} ms, last 10 avg ${avg(installMs.slice(-10))} ms; all ${COUNT} in ${Math.round((performance.now() - started) / 1000)} s`,
    );

    // every app has its own network, each subnet inside Hearth's plan and no two overlapping
    const plan = networkPlanFromEnv();
    const subnets = apps.map(({ id }) => {
      const net = JSON.parse(execFileSync("docker", ["network", "inspect", networkNameOf(id)], { encoding: "utf8" }))[0] as { IPAM: { Config: { Subnet: string }[] } };
      return net.IPAM.Config[0]?.Subnet ?? "";
    });
    expect(new Set(subnets).size).toBe(COUNT);
    for (const s of subnets) expect(cidrContains(plan.range, parseCidr(s) ?? { base: 0, bits: 0 }), s).toBe(true);
    expect(ours().containers).toHaveLength(COUNT);

    // a sanity bound only: installs must not grow without limit (the benchmark measures the ratio)
    expect(last, `the ${COUNT}th install took ${Math.round(last)} ms against ${Math.round(first)} ms for the 1st`).toBeLessThan(Math.max(30_000, first * 10));
  }, 3_600_000);

  it(`serves each of the ${COUNT} apps through nginx under its own name`, async () => {
    expect(apps).toHaveLength(COUNT);
    const before = apps.map((a) => answered(a.id));
    const failing: string[] = [];
    for (let i = 0; i < apps.length; i += 10) {
      const batch = apps.slice(i, i + 10);
      const ok = await Promise.all(batch.map((a) => serves(a.subdomain)));
      batch.forEach((a, j) => {
        if (!ok[j]) failing.push(a.subdomain);
      });
    }
    expect(failing).toEqual([]);
    // each request reached the app of its name and no other: every app answered exactly one more
    const after = apps.map((a) => answered(a.id));
    expect(after.map((n, i) => n - (before[i] ?? 0))).toEqual(apps.map(() => 1));
    // a name no app has lands on the default server ("No app here"), not on an app or the dashboard
    const r = await curlResolve(https("nosuchapp"));
    expect(r.status).toBe(404);
    expect(r.body).toContain("<h1>No app here</h1>");
  }, 600_000);

  it(`uninstalls all ${COUNT} (and deletes their data): no container, network or volume of theirs is left, and nginx serves none`, async () => {
    // all queued at once, as an admin clicking through the list would: box's runner takes them two at a time
    const started = performance.now();
    const uninstalls: Task[] = [];
    for (const a of apps) uninstalls.push((await queueAppTask(db, a.id, "app.uninstall")).task);
    for (const task of uninstalls) await finished(task, 3_000_000);
    const uninstalled = performance.now();
    expect(ours().containers).toEqual([]);
    expect(ours().networks).toEqual([]);
    const purges: Task[] = [];
    for (const a of apps) {
      const kept = await getUninstalledApp(db, a.id);
      expect(kept).not.toBeNull();
      purges.push((await queueAppPurge(db, a.id, fqdnOfUninstalled(kept!), null)).task);
    }
    for (const task of purges) await finished(task, 3_000_000);
    console.log(`[scale] uninstall of ${COUNT} apps: ${Math.round((uninstalled - started) / 1000)} s; deleting their data: ${Math.round((performance.now() - uninstalled) / 1000)} s`);
    expect(ours()).toEqual({ containers: [], networks: [], volumes: [] });
    for (const a of apps) expect(lines("network", "ls", "-q", "--filter", `name=${networkNameOf(a.id)}`)).toEqual([]);
    expect(await db.app.count()).toBe(0);
    for (const a of [apps[0], apps[COUNT - 1]]) expect(await serves(a?.subdomain ?? "")).toBe(false);
  }, 3_600_000);
});
