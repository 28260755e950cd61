import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import http from "node:http";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appMetricsResponse, serverMetricsResponse, type HearthManifestInput } from "@hearth/contracts";
import { ensureStoreIdentity, ownersOf, type Db } from "@hearth/db";
import type { AppService, StepContext } from "../../apps/box/src/apps/apps.service";
import { containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { createDocker, type DockerApi } from "../../apps/box/src/docker/docker";
import { createLogger } from "../../apps/box/src/logger";
import { APP_STORE_SPEC, MetricsService, SERVER_STORE_SPEC } from "../../apps/box/src/metrics/metrics.service";
import { fileSize, MetricsStore } from "../../apps/box/src/metrics/ring-store";
import { liveMetricsSources } from "../../apps/box/src/metrics/sources";
import { dataPaths } from "../../apps/box/src/paths";
import { startBoxSocket, type BoxSocketServer } from "../../apps/box/src/socket/socket.server";
import { ownerSession, plainUserToken } from "../helpers/admin-accounts";
import { startAdmin, type RunningAdmin } from "../helpers/admin";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";
import { ensureTestImages, TEST_HTTPD_IMAGE } from "../helpers/test-images";
import { steadyGoto } from "../helpers/chromium";
import { testAppService } from "../helpers/addon-stack";
import { startTestBox, type TestBoxProcess } from "../helpers/box-process";

/**
 * Graphs on real peers: a real app container on Docker, box's real collector reading its
 * cgroup and /proc for ~40 s (every 2 s here, HEARTH_METRICS_INTERVAL_MS's test value), box's
 * real socket server, the built admin (`next start`) and Chromium. The API returns non-empty
 * CPU and memory series for the app (memory under its 32 MiB limit, the limit itself) and for
 * the server; a bad range is a clear 400, a plain user is refused; the store keeps its data
 * across a collector restart and drops a removed app's file; the app's graphs and the server
 * overview render with data (screenshots in test-results/).
 */

const DOMAIN = "metrics-test.example";
const INTERVAL_MS = 2000;
let t: TestDatabase & { db: Db };
let db: Db;
let docker: DockerApi;
let service: AppService;
let tmp = "";
let box: BoxSocketServer;
let metrics: MetricsService;
let admin: RunningAdmin;
let cookie = "";
let browser: Browser;
let appId = "";
let owners: string[] = [];
let realBox: TestBoxProcess | null = null;

const ctx = (): StepContext => ({ taskId: randomUUID(), signal: new AbortController().signal, log: () => {}, progress: async () => {} });
const log = createLogger("silent", "test");
const newCollector = () =>
  new MetricsService({
    store: new MetricsStore(dataPaths(tmp).metrics, { app: APP_STORE_SPEC, server: SERVER_STORE_SPEC }),
    sources: liveMetricsSources(docker, owners),
    appExists: async (id) => (await db.app.count({ where: { id } })) > 0,
    log,
    version: "0.0.0-metrics-test",
    dataDir: tmp,
    startedAt: Date.now(),
    intervalMs: INTERVAL_MS,
  });

beforeAll(async () => {
  ensureTestImages();
  t = await migratedDatabase("metrics");
  db = t.db;
  docker = createDocker();
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-metrics-"));
  await db.domain.create({ data: { domain: DOMAIN, provider: "noop" } });
  const store = await ensureStoreIdentity(db);
  owners = ownersOf(store);
  service = testAppService({ db, docker, owner: store.id, healthTimeoutMs: 30_000, healthIntervalMs: 200, appLogDir: dataPaths(tmp).appLogs });
  metrics = newCollector();
  const socketPath = path.join(tmp, "box.sock");
  box = await startBoxSocket(
    { socketPath },
    {
      boxId: "metrics-test",
      version: "0.0.0",
      startedAt: Date.now(),
      runningTasks: () => 0,
      wake: () => {},
      getTask: async () => null,
      logPath: (id) => path.join(tmp, `${id}.log`),
      log,
      metrics: {
        app: async (id, range) => ((await db.app.count({ where: { id } })) > 0 ? metrics.appMetrics(id, range) : null),
        server: async (range) => metrics.serverMetrics(range),
      },
    },
  );
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: socketPath, HEARTH_SECRET_KEY: randomBytes(32).toString("base64") });
  cookie = await ownerSession(admin);

  appId = randomUUID();
  const m: HearthManifestInput = {
    manifestVersion: 1,
    id: "org.hearth.test.metrics",
    title: "Metrics test",
    version: "1.0.0",
    dockerImage: TEST_HTTPD_IMAGE,
    httpPort: 8080,
    healthCheckPath: "/health",
    memoryLimit: 32 * 1024 * 1024,
  };
  await db.app.create({
    data: {
      id: appId,
      manifestId: m.id,
      manifest: m as object,
      version: m.version,
      subdomain: "graphs",
      domain: DOMAIN,
      installState: "pending_install",
      memoryLimit: BigInt(m.memoryLimit!),
      env: {},
    },
  });
  await service.install(appId, ctx());
  metrics.start();
  // ~40 s of real collection, with some work in the container so its CPU and I/O move
  const until = Date.now() + 40_000;
  while (Date.now() < until) {
    execFileSync(
      "docker",
      ["exec", containerNameOf(appId), "/bin/busybox", "sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; dd if=/dev/zero of=/tmp/x bs=64k count=16 2>/dev/null; rm -f /tmp/x"],
      { stdio: "ignore" },
    );
    await sleep(1500);
  }
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
}, 400_000);

afterAll(async () => {
  if (realBox && realBox.child.exitCode === null) {
    const exited = new Promise((r) => realBox!.child.once("exit", r));
    realBox.child.kill("SIGTERM");
    await exited;
  }
  await browser?.close();
  await admin?.stop();
  await metrics?.stop();
  await box?.close();
  if (appId) {
    await docker.removeContainer(containerNameOf(appId)).catch(() => {});
    await docker.removeNetwork(networkNameOf(appId)).catch(() => {});
    await docker.removeVolume(dataVolumeNameOf(appId)).catch(() => {});
  }
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("metrics API on real peers", () => {
  it("returns non-empty CPU and memory series for a running app, collected from its cgroup", async () => {
    const r = await admin.call("GET", `/api/v1/apps/${appId}/metrics?range=1h`, { cookie });
    expect(r.status, r.text).toBe(200);
    const m = appMetricsResponse.parse(r.body);
    expect(m.appId).toBe(appId);
    expect(m.stepSeconds).toBe(10);
    // samples every 2 s land in 10 s rows: ≥ 3 rows in 40 s
    expect(m.series.cpuPercent.length).toBeGreaterThanOrEqual(3);
    expect(m.series.memoryBytes.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...m.series.cpuPercent.map(([, v]) => v))).toBeGreaterThan(0);
    for (const [, v] of m.series.memoryBytes) {
      expect(v).toBeGreaterThan(0);
      expect(v).toBeLessThanOrEqual(32 * 1024 * 1024);
    }
    expect(m.series.memoryLimitBytes.at(-1)![1]).toBe(32 * 1024 * 1024);
    expect(m.series.netRxBps.length).toBeGreaterThan(0);
    // timestamps are ms, oldest first, inside the window
    const ts = m.series.memoryBytes.map(([t]) => t);
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
    expect(ts[0]!).toBeGreaterThan(m.from);
    expect(ts.at(-1)!).toBeLessThanOrEqual(m.to);
    // 24h: the 5-minute rows of the same samples
    const day = appMetricsResponse.parse((await admin.call("GET", `/api/v1/apps/${appId}/metrics?range=24h`, { cookie })).body);
    expect(day.stepSeconds).toBe(300);
    expect(day.series.memoryBytes.length).toBeGreaterThanOrEqual(1);
    // the real sources take the app's own bridge for its network (one meaning round to round), and it counts bytes
    const live = liveMetricsSources(docker, owners);
    const listed = (await live.appContainers()).find((c) => c.appId === appId);
    expect(listed?.bridge).toMatch(/^hth/);
    const counters = live.container(listed!.containerId, listed!.bridge);
    expect(counters?.netSource).toBe("bridge");
    expect(counters!.netRxBytes! + counters!.netTxBytes!).toBeGreaterThan(0);
  });

  it("returns the server's series and overview", async () => {
    const r = await admin.call("GET", "/api/v1/server/metrics?range=1h", { cookie });
    expect(r.status, r.text).toBe(200);
    const s = serverMetricsResponse.parse(r.body);
    expect(s.series.cpuPercent.length).toBeGreaterThanOrEqual(3);
    expect(s.series.memoryUsedBytes.length).toBeGreaterThanOrEqual(3);
    expect(s.series.memoryTotalBytes.at(-1)![1]).toBe(s.overview.memoryTotalBytes);
    expect(s.overview.version).toBe("0.0.0-metrics-test");
    expect(s.overview.uptimeSeconds).toBeGreaterThan(0);
    expect(s.overview.filesystems.length).toBeGreaterThan(0);
    expect(s.overview.dataDir?.mount).toBe(tmp);
    expect(s.overview.dataDir!.sizeBytes).toBeGreaterThan(0);
  });

  it("refuses a bad range with a clear 400, an unknown app with 404, and a plain user with 403", async () => {
    const bad = await admin.call("GET", `/api/v1/apps/${appId}/metrics?range=7d`, { cookie });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid");
    expect(bad.text).toMatch(/1h, 24h, 30d/);
    const badServer = await admin.call("GET", "/api/v1/server/metrics?range=1w", { cookie });
    expect(badServer.status).toBe(400);
    expect((await admin.call("GET", `/api/v1/apps/${randomUUID()}/metrics`, { cookie })).status).toBe(404);
    const token = await plainUserToken(db);
    expect((await admin.call("GET", "/api/v1/server/metrics", { token })).status).toBe(403);
    expect((await admin.call("GET", `/api/v1/apps/${appId}/metrics`, { token })).status).toBe(403);
  });

  it("the app's graphs and the server overview render with data (screenshots)", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const [name, value] = cookie.split("=") as [string, string];
    await context.addCookies([{ name, value, url: admin.base }]);
    const page: Page = await context.newPage();

    await steadyGoto(page, `${admin.base}/server`);
    await expect.poll(() => page.locator("canvas").count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(5);
    await expect.poll(() => page.getByText("0.0.0-metrics-test").count()).toBe(1);
    expect(await page.getByRole("meter").count()).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(REPO_ROOT, "test-results", "server-overview.png"), fullPage: true });
    // the range switch asks for the other range
    const asked = page.waitForResponse((r) => r.url().includes("/api/v1/server/metrics?range=24h"));
    await page.getByRole("button", { name: "24 hours" }).click();
    expect((await asked).status()).toBe(200);

    await steadyGoto(page, `${admin.base}/apps/${appId}`);
    const graphs = page.locator("section", { has: page.getByRole("heading", { name: "Graphs" }) });
    await expect.poll(() => graphs.locator("canvas").count(), { timeout: 30_000 }).toBe(4);
    await graphs.scrollIntoViewIfNeeded();
    await graphs.screenshot({ path: path.join(REPO_ROOT, "test-results", "app-graphs.png") });
    const month = page.waitForResponse((r) => r.url().includes(`/api/v1/apps/${appId}/metrics?range=30d`));
    await graphs.getByRole("button", { name: "30 days" }).click();
    expect((await month).status()).toBe(200);

    // an installed app box has no samples of yet: an honest notice, no empty charts
    const quiet = randomUUID();
    await db.app.create({
      data: {
        id: quiet,
        manifestId: "org.hearth.test.metrics",
        manifest: (await db.app.findUniqueOrThrow({ where: { id: appId } })).manifest as object,
        version: "1.0.0",
        subdomain: "quiet",
        domain: DOMAIN,
        installState: "installed",
        memoryLimit: BigInt(32 * 1024 * 1024),
        env: {},
      },
    });
    await steadyGoto(page, `${admin.base}/apps/${quiet}`);
    await expect.poll(() => page.getByText("Not enough samples yet").count(), { timeout: 30_000 }).toBe(1);
    expect(await page.locator("canvas").count()).toBe(0);
    // 30 days needs two hourly rows: the notice says so, not "from the first minute"
    const quietGraphs = page.locator("section", { has: page.getByRole("heading", { name: "Graphs" }) });
    await quietGraphs.getByRole("button", { name: "30 days" }).click();
    await expect.poll(() => quietGraphs.getByRole("status").textContent(), { timeout: 30_000 }).toContain("hourly averages appear after 2 hours");
    // stopped: the notice says it is not running
    await db.app.update({ where: { id: quiet }, data: { runState: "stopped" } });
    await page.reload();
    await expect.poll(() => page.getByText("This app is not running").count(), { timeout: 30_000 }).toBe(1);
    await db.app.delete({ where: { id: quiet } });
    await context.close();
  });

  it("keeps its data across a collector restart, at a fixed file size, and drops a removed app's series", async () => {
    // stopped first: no round can add a sample between the read before and the one after
    await metrics.stop();
    const fresh = new MetricsStore(dataPaths(tmp).metrics, { app: APP_STORE_SPEC, server: SERVER_STORE_SPEC });
    const readBack = () => fresh.existingRing(`app-${appId}`)?.readFine(0, 2 ** 32 - 1) ?? [];
    const before = readBack();
    fresh.close();
    expect(before.length).toBeGreaterThan(0);
    const file = path.join(dataPaths(tmp).metrics, `app-${appId}.hmtr`);
    expect(statSync(file).size).toBe(fileSize(APP_STORE_SPEC));
    metrics = newCollector();
    expect(metrics.appMetrics(appId, "1h").series.memoryBytes.map(([t, v]) => [t / 1000, v])).toEqual(before.map((p) => [p.t, p.values[1]]));
    // the app's row goes (its data purged): the next sweep drops its file
    await db.app.delete({ where: { id: appId } });
    expect(await metrics.sweep()).toEqual([appId]);
    expect(existsSync(file)).toBe(false);
  });

  it("a real box process collects from its start and serves the server's metrics on its socket", async () => {
    const dataDir = path.join(tmp, "realbox");
    realBox = startTestBox({ databaseUrl: t.url, dataDir, boxId: "metrics-realbox", env: { HEARTH_METRICS_INTERVAL_MS: "1000" } });
    await realBox.ready;
    const socketPath = path.join(dataDir, "box.sock");
    const get = (p: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.request({ socketPath, path: p }, (res) => {
          let body = "";
          res.on("data", (c) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", reject);
        req.end();
      });
    let s = serverMetricsResponse.parse(JSON.parse((await get("/server/metrics")).body));
    for (let i = 0; i < 30 && s.series.cpuPercent.length === 0; i++) {
      await sleep(1000);
      s = serverMetricsResponse.parse(JSON.parse((await get("/server/metrics")).body));
    }
    expect(s.series.cpuPercent.length).toBeGreaterThan(0);
    expect(s.overview.dataDir?.mount).toBe(dataDir);
    expect(existsSync(path.join(dataPaths(dataDir).metrics, "server.hmtr"))).toBe(true);
    expect((await get("/server/metrics?range=2h")).status).toBe(400);
    expect((await get(`/apps/${randomUUID()}/metrics`)).status).toBe(404);
  }, 120_000);
});
