import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HearthManifestInput } from "@hearth/contracts";
import { ensureStoreIdentity, type Db } from "@hearth/db";
import { streamAppLogs } from "../../apps/box/src/apps/app-logs";
import type { AppService, StepContext } from "../../apps/box/src/apps/apps.service";
import { containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { createDocker, type DockerApi } from "../../apps/box/src/docker/docker";
import { createLogger } from "../../apps/box/src/logger";
import { dataPaths } from "../../apps/box/src/paths";
import { startBoxSocket, type BoxSocketServer } from "../../apps/box/src/socket/socket.server";
import { ownerSession } from "../helpers/admin-accounts";
import { startAdmin, type RunningAdmin } from "../helpers/admin";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";
import { ensureTestImages, TEST_HTTPD_IMAGE } from "../helpers/test-images";
import { steadyGoto } from "../helpers/chromium";
import { testAppService } from "../helpers/addon-stack";

/**
 * The app page's log viewer in Chromium, end to end on real peers: the built admin (`next
 * start`) → box's real socket server and log endpoint → a real container on Docker, with the
 * app's history kept across a configure. The viewer shows the line from before the
 * recreate, pauses when scrolled up (new lines are counted, not scrolled to) and jumps back,
 * loads older lines, hides the health probe's lines until asked, searches, and downloads the
 * whole log; the admin API's download and its query checks.
 */

const DOMAIN = "logviewer-test.example";
let t: TestDatabase & { db: Db };
let db: Db;
let docker: DockerApi;
let service: AppService;
let tmp = "";
let box: BoxSocketServer;
let admin: RunningAdmin;
let cookie = "";
let browser: Browser;
let appId = "";
const secret = `first admin password: ${randomBytes(6).toString("hex")}`;
const probe = `172.18.0.1 - - [03/Dec/2026:18:50:00 +0000] "GET /health HTTP/1.1" 200 3 "-" "hearth-health"`;

const ctx = (): StepContext => ({ taskId: randomUUID(), signal: new AbortController().signal, log: () => {}, progress: async () => {} });
const cli = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
/** The app prints: a shell script's output goes to the main process's stdout (the container's log). */
const appRuns = (id: string, script: string) => cli("exec", containerNameOf(id), "/bin/busybox", "sh", "-c", `{ ${script} ; } > /proc/1/fd/1`);
const appPrints = (id: string, text: string) => cli("exec", containerNameOf(id), "/bin/busybox", "sh", "-c", `printf '%s\\n' "$1" > /proc/1/fd/1`, "sh", text);

beforeAll(async () => {
  ensureTestImages();
  t = await migratedDatabase("logview");
  db = t.db;
  docker = createDocker();
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-logview-"));
  await db.domain.create({ data: { domain: DOMAIN, provider: "noop" } });
  const store = await ensureStoreIdentity(db);
  const appLogDir = dataPaths(tmp).appLogs;
  service = testAppService({ db, docker, owner: store.id, healthTimeoutMs: 30_000, healthIntervalMs: 200, appLogDir });
  const socketPath = path.join(tmp, "box.sock");
  box = await startBoxSocket(
    { socketPath },
    {
      boxId: "logview-test",
      version: "0.0.0",
      startedAt: Date.now(),
      runningTasks: () => 0,
      wake: () => {},
      getTask: async () => null,
      logPath: (id) => path.join(tmp, `${id}.log`),
      log: createLogger("silent", "test"),
      appLogs: (req, res, id, url) => streamAppLogs({ docker, appExists: async (x) => (await db.app.count({ where: { id: x } })) > 0, historyDir: appLogDir }, req, res, id, url),
    },
  );
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: socketPath, HEARTH_SECRET_KEY: randomBytes(32).toString("base64") });
  cookie = await ownerSession(admin);

  appId = randomUUID();
  const m: HearthManifestInput = {
    manifestVersion: 1,
    id: "org.hearth.test.logviewer",
    title: "Log viewer test",
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
      subdomain: "viewer",
      domain: DOMAIN,
      installState: "pending_install",
      memoryLimit: BigInt(m.memoryLimit!),
      env: {},
    },
  });
  await service.install(appId, ctx());
  appPrints(appId, secret);
  appRuns(appId, "i=1; while [ $i -le 700 ]; do echo numbered $i; i=$((i+1)); done");
  await service.configure(appId, ctx()); // a new container: the lines above live in the history only
  appPrints(appId, probe);
  appPrints(appId, "after the probe");
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
}, 400_000);

afterAll(async () => {
  await browser?.close();
  await admin?.stop();
  await box?.close();
  if (appId) {
    await docker.removeContainer(containerNameOf(appId)).catch(() => {});
    await docker.removeNetwork(networkNameOf(appId)).catch(() => {});
    await docker.removeVolume(dataVolumeNameOf(appId)).catch(() => {});
  }
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function openAppPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const [name, value] = cookie.split("=") as [string, string];
  await context.addCookies([{ name, value, url: admin.base }]);
  const page = await context.newPage();
  await steadyGoto(page, `${admin.base}/apps/${appId}/logs`);
  return page;
}
const viewer = (page: Page) => page.getByRole("log", { name: "App logs" });
/** The scroll position, the rows in the DOM and the rows in view (inside the scrolled box's visible area). */
const scrollState = (page: Page) =>
  viewer(page).evaluate((el) => {
    const box = el.getBoundingClientRect();
    const rows = [...el.querySelectorAll(".log-row")];
    const inView = rows.filter((r) => {
      const b = r.getBoundingClientRect();
      return b.bottom > box.top && b.top < box.bottom;
    });
    return { top: el.scrollTop, max: el.scrollHeight - el.clientHeight, rows: rows.map((r) => r.textContent ?? ""), visible: inView.map((r) => r.textContent ?? "") };
  });

describe("the app log viewer (Chromium)", () => {
  let page: Page;

  it("shows the kept log at the bottom, health checks hidden; pauses when scrolled up and counts new lines; jumps back", async () => {
    page = await openAppPage();
    await viewer(page).getByText("after the probe").waitFor({ timeout: 30_000 });
    let s = await scrollState(page);
    expect(s.max - s.top).toBeLessThanOrEqual(4); // following the tail
    expect(s.rows).not.toContain(probe);
    expect(s.visible.at(-1)).toBe("after the probe");

    await viewer(page).evaluate((el) => {
      el.scrollTop = el.scrollHeight - el.clientHeight - 2000;
      el.dispatchEvent(new Event("scroll"));
    });
    await page.getByRole("button", { name: /Jump to latest/ }).waitFor();
    const pausedAt = (await scrollState(page)).top;
    appPrints(appId, "while paused 1");
    appPrints(appId, "while paused 2");
    await page.getByRole("button", { name: "2 new lines · Jump to latest" }).waitFor({ timeout: 15_000 });
    s = await scrollState(page);
    expect(s.top).toBe(pausedAt); // not moved by the new lines
    expect(s.visible.length).toBeGreaterThan(10);
    expect(s.visible).not.toContain("while paused 2");

    await page.getByRole("button", { name: /Jump to latest/ }).click();
    await viewer(page).getByText("while paused 2").waitFor();
    s = await scrollState(page);
    expect(s.max - s.top).toBeLessThanOrEqual(4);
    expect(s.visible).toContain("while paused 2");
    expect(await page.getByRole("button", { name: /Jump to latest/ }).count()).toBe(0);
    // following again: a new line scrolls into view
    appPrints(appId, "followed again");
    await viewer(page).getByText("followed again").waitFor({ timeout: 15_000 });
    await page.waitForFunction(() => {
      const el = document.querySelector('[role="log"][aria-label="App logs"]')!;
      return el.scrollHeight - el.clientHeight - el.scrollTop <= 4;
    });
    expect((await scrollState(page)).visible.at(-1)).toBe("followed again");
  });

  it("loads older lines on demand, back to the line from before the container was recreated", async () => {
    // 500 lines at first; numbered 1..~200 and the secret are older
    await viewer(page).evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event("scroll"));
    });
    const more = page.getByRole("button", { name: "Load older lines" });
    await more.waitFor();
    const firstBefore = (await scrollState(page)).rows.find((r) => r.startsWith("numbered "));
    expect(firstBefore).not.toBe("numbered 1");
    await more.click();
    await viewer(page).getByText("Start of the kept log.").waitFor({ timeout: 15_000 });
    await viewer(page).evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event("scroll"));
    });
    const rows = (await scrollState(page)).rows;
    // virtualized: 700 numbered lines and more are loaded, only those near the view are in the DOM (LogViewer's overscan)
    expect(rows.length).toBeLessThan(700);
    expect(rows).toContain(secret);
    expect(rows).toContain("numbered 1");
    expect(rows.indexOf(secret)).toBeLessThan(rows.indexOf("numbered 1"));
  });

  it("shows health checks when asked", async () => {
    await page.getByLabel("Show health checks").check();
    await viewer(page).getByText(probe).waitFor({ timeout: 15_000 });
    await page.getByLabel("Show health checks").uncheck();
    await viewer(page).getByText("followed again").waitFor({ timeout: 15_000 });
    expect((await scrollState(page)).rows).not.toContain(probe);
  });

  it("searches", async () => {
    await page.getByRole("searchbox", { name: "Search the logs" }).fill("FIRST ADMIN");
    await page.getByRole("button", { name: "Search", exact: true }).click();
    await page.getByText("Lines containing “FIRST ADMIN”.").waitFor();
    await viewer(page).getByText(secret).waitFor({ timeout: 15_000 });
    expect((await scrollState(page)).rows).toEqual([secret]);
    await page.getByRole("button", { name: "Clear" }).click();
    await viewer(page).getByText("followed again").waitFor({ timeout: 15_000 });
  });

  it("downloads the whole kept log", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download" }).click()]);
    expect(download.suggestedFilename()).toMatch(/^viewer\.logviewer-test\.example-.*\.log$/);
    const file = path.join(tmp, "download.log");
    await download.saveAs(file);
    const rows = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(rows.filter((r) => r.includes("numbered "))).toHaveLength(700);
    expect(rows.some((r) => /^\d{4}-\d\d-\d\dT[\d:.]+Z first admin password: /.test(r))).toBe(true);
    expect(rows.some((r) => r.includes("hearth-health"))).toBe(false);
    await page.screenshot({ path: path.join(REPO_ROOT, "test-results", "app-log-viewer.png") }).catch(() => {});
  });
});

describe("GET /api/v1/apps/:id/logs (through the real box socket)", () => {
  it("pages, searches, downloads as an attachment and refuses a bad query", async () => {
    const r = await fetch(`${admin.base}/api/v1/apps/${appId}/logs?lines=2&q=numbered`, { headers: { cookie } });
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toContain('"line":"numbered 699"');
    expect(text).toContain('"line":"numbered 700"');
    expect(text).toContain('event: page\ndata: {"older":true}');

    const d = await fetch(`${admin.base}/api/v1/apps/${appId}/logs/download?health=1`, { headers: { cookie } });
    expect(d.status).toBe(200);
    expect(d.headers.get("content-disposition")).toMatch(/^attachment; filename="viewer\.logviewer-test\.example-/);
    expect(await d.text()).toContain(probe);

    for (const q of ["before=yesterday", "follow=1&before=2026-12-03T18:50:00.000000000Z", `q=${"x".repeat(201)}`, "health=2"]) {
      const bad = await admin.call("GET", `/api/v1/apps/${appId}/logs?${q}`, { cookie });
      expect(bad.status, q).toBe(400);
      expect(bad.body.error.code).toBe("invalid");
    }
    expect((await admin.call("GET", `/api/v1/apps/${randomUUID()}/logs/download`, { cookie })).status).toBe(404);
    expect((await admin.call("GET", `/api/v1/apps/${appId}/logs/download`)).status).toBe(401);
    await sleep(0);
  });
});
