import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { TERMINAL_CLOSE, type HearthManifestInput } from "@hearth/contracts";
import { createUser, ensureStoreIdentity, type Db } from "@hearth/db";
import { handleAppTerminal } from "../../apps/box/src/apps/app-terminal";
import type { AppService, StepContext } from "../../apps/box/src/apps/apps.service";
import { containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { createDocker, type DockerApi } from "../../apps/box/src/docker/docker";
import { createLogger } from "../../apps/box/src/logger";
import { dataPaths } from "../../apps/box/src/paths";
import { startBoxSocket, type BoxSocketServer } from "../../apps/box/src/socket/socket.server";
import { hashPassword } from "../../apps/admin/lib/passwords";
import { ownerApiToken, ownerSession } from "../helpers/admin-accounts";
import { sessionCookieOf, startAdmin, type RunningAdmin } from "../helpers/admin";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";
import { ensureTestImages, TEST_HTTPD_IMAGE } from "../helpers/test-images";
import { steadyGoto } from "../helpers/chromium";
import { testAppService } from "../helpers/addon-stack";

/**
 * The web terminal end to end on real peers: a WebSocket client (ws) or Chromium → the built
 * admin's own server (dist/server.mjs: Origin, session or token, admin role) → box's real
 * socket server (GET /apps/:id/terminal) → `docker exec` with a TTY in a real app container.
 * It lists /app/data, resizes, is refused without a session, with a read token, to a plain
 * user and from a foreign Origin, closes when the admin logs out and when the app stops, and
 * records its start and end (never what was typed) in the event log.
 */

const DOMAIN = "terminal-test.example";
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
const fileName = `terminal-${randomBytes(4).toString("hex")}.txt`;

const ctx = (): StepContext => ({ taskId: randomUUID(), signal: new AbortController().signal, log: () => {}, progress: async () => {} });
const cli = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

type Opened = { ws: WebSocket; output: () => string; closed: Promise<{ code: number; reason: string }> } | { status: number; body: string };

/** Opens the terminal as a client would; the refusal's status and body when admin refuses. */
function openTerminal(headers: Record<string, string>, id = appId, query = "cols=80&rows=24"): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${admin.base.replace("http", "ws")}/api/v1/apps/${id}/terminal?${query}`, { headers });
    let out = "";
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on("close", (code, reason) => r({ code, reason: reason.toString() })));
    ws.on("message", (d) => (out += d.toString()));
    ws.once("open", () => resolve({ ws, output: () => out, closed }));
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.once("error", reject);
  });
}

function opened(o: Opened): Extract<Opened, { ws: WebSocket }> {
  if (!("ws" in o)) throw new Error(`the terminal was refused: ${o.status} ${o.body}`);
  return o;
}

async function until(what: string, f: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const type = (ws: WebSocket, text: string) => ws.send(Buffer.from(text), { binary: true });
const browserHeaders = (c: string) => ({ cookie: c, origin: admin.base });

beforeAll(async () => {
  ensureTestImages();
  t = await migratedDatabase("terminal");
  db = t.db;
  docker = createDocker();
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-terminal-"));
  await db.domain.create({ data: { domain: DOMAIN, provider: "noop" } });
  const store = await ensureStoreIdentity(db);
  service = testAppService({ db, docker, owner: store.id, healthTimeoutMs: 30_000, healthIntervalMs: 200, appLogDir: dataPaths(tmp).appLogs });
  const socketPath = path.join(tmp, "box.sock");
  const log = createLogger("silent", "test");
  box = await startBoxSocket(
    { socketPath },
    {
      boxId: "terminal-test",
      version: "0.0.0",
      startedAt: Date.now(),
      runningTasks: () => 0,
      wake: () => {},
      getTask: async () => null,
      logPath: (id) => path.join(tmp, `${id}.log`),
      log,
      appTerminal: (req, sock, head, id, url) => handleAppTerminal({ docker, appExists: async (x) => (await db.app.count({ where: { id: x } })) > 0, log }, req, sock, head, id, url),
    },
  );
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: socketPath, HEARTH_SECRET_KEY: randomBytes(32).toString("base64"), HEARTH_TEST_TERMINAL_CHECK_MS: "500" });
  cookie = await ownerSession(admin);

  appId = randomUUID();
  const m: HearthManifestInput = {
    manifestVersion: 1,
    id: "org.hearth.test.terminal",
    title: "Terminal test",
    version: "1.0.0",
    dockerImage: TEST_HTTPD_IMAGE,
    httpPort: 8080,
    healthCheckPath: "/health",
    memoryLimit: 32 * 1024 * 1024,
  };
  await db.app.create({
    data: { id: appId, manifestId: m.id, manifest: m as object, version: m.version, subdomain: "term", domain: DOMAIN, installState: "pending_install", memoryLimit: BigInt(m.memoryLimit!), env: {} },
  });
  await service.install(appId, ctx());
  cli("exec", containerNameOf(appId), "/bin/busybox", "touch", `/app/data/${fileName}`);
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

describe("the web terminal", () => {
  it("runs a shell in the app's container for an admin: ls /app/data shows its files, and a resize reaches the TTY", async () => {
    const s = opened(await openTerminal(browserHeaders(cookie)));
    type(s.ws, "ls /app/data\r");
    await until(`${fileName} in the output`, () => s.output().includes(fileName));
    s.ws.send(JSON.stringify({ type: "resize", cols: 101, rows: 31 }));
    await new Promise((r) => setTimeout(r, 300));
    type(s.ws, "stty size\r");
    await until("the new size from stty", () => /31 101/.test(s.output()));
    // 2 MB of output arrives whole (box and admin pause the shell while it waits)
    type(s.ws, "head -c 2000000 /dev/zero | tr '\\0' a; echo; echo big-$((40+2))\r");
    await until("the end of the big output", () => s.output().includes("big-42"), 60_000);
    expect(s.output().match(/a/g)!.length).toBeGreaterThanOrEqual(2_000_000);
    type(s.ws, "exit\r");
    expect((await s.closed).code).toBe(TERMINAL_CLOSE.shellEnded);
  });

  it("is refused without a session, with a read token, to a plain user, from a foreign Origin or without one, and for an unknown app", async () => {
    const anon = await openTerminal({ origin: admin.base });
    expect(anon).toMatchObject({ status: 401 });
    expect((anon as { body: string }).body).toContain('"unauthorized"');

    const read = await openTerminal({ authorization: `Bearer ${await ownerApiToken(db, "read", "ro")}` });
    expect(read).toMatchObject({ status: 403 });
    expect((read as { body: string }).body).toContain("read-only");

    await createUser(db, { id: randomUUID(), username: "pat", email: "pat@example.com", role: "user", passwordHash: await hashPassword("pat's long password here") });
    const login = await admin.call("POST", "/api/v1/auth/login", { body: { username: "pat", password: "pat's long password here" } });
    expect(login.status).toBe(200);
    const plain = await openTerminal(browserHeaders(sessionCookieOf(login)));
    expect(plain).toMatchObject({ status: 403 });

    const foreign = await openTerminal({ cookie, origin: "https://evil.example" });
    expect(foreign).toMatchObject({ status: 403 });
    expect((foreign as { body: string }).body).toContain("cross-origin");
    const noOrigin = await openTerminal({ cookie });
    expect(noOrigin).toMatchObject({ status: 403 });

    expect(await openTerminal(browserHeaders(cookie), randomUUID())).toMatchObject({ status: 404 });
    expect(await openTerminal(browserHeaders(cookie), appId, "cols=0&rows=24")).toMatchObject({ status: 400 });
    // none of these opened a session
    expect(await db.event.count({ where: { action: "app.terminal_open", actorName: { not: "owner" } } })).toBe(0);
  });

  it("a read-write token of an admin opens one (no Origin: a browser never sends the header)", async () => {
    const s = opened(await openTerminal({ authorization: `Bearer ${await ownerApiToken(db, "read_write", "rw")}` }));
    type(s.ws, "echo token-$((6*7))\r");
    await until("the echo", () => s.output().includes("token-42"));
    s.ws.close();
    await s.closed;
  });

  it("closes when the admin logs out, and records each session's start and end with who, which app and how long, never what was typed", async () => {
    const login = await admin.call("POST", "/api/v1/auth/login", { body: { username: "owner", password: "correct horse battery staple" } });
    const second = sessionCookieOf(login);
    const s = opened(await openTerminal(browserHeaders(second)));
    type(s.ws, "echo secret-typed-$((1+1))\r");
    await until("the echo", () => s.output().includes("secret-typed-2"));
    const started = Date.now();
    expect((await admin.call("POST", "/api/v1/auth/logout", admin.browser(second))).status).toBe(204);
    const closed = await s.closed;
    expect(closed.code).toBe(TERMINAL_CLOSE.sessionEnded);
    expect(closed.reason).toContain("session ended");
    expect(Date.now() - started).toBeLessThan(5000);

    const end = Date.now() + 5000;
    let events = await db.event.findMany({ where: { action: { in: ["app.terminal_open", "app.terminal_close"] } }, orderBy: { id: "asc" } });
    while (events.filter((e) => e.action === "app.terminal_close").length < 3 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      events = await db.event.findMany({ where: { action: { in: ["app.terminal_open", "app.terminal_close"] } }, orderBy: { id: "asc" } });
    }
    const opens = events.filter((e) => e.action === "app.terminal_open");
    const closes = events.filter((e) => e.action === "app.terminal_close");
    expect(opens).toHaveLength(3);
    expect(closes).toHaveLength(3);
    for (const e of events) {
      expect(e).toMatchObject({ actorName: "owner", target: appId, targetType: "app", targetName: "Terminal test (term.terminal-test.example)" });
      expect(JSON.stringify(e.data)).not.toMatch(/secret-typed|ls \/app|stty|echo/);
    }
    const last = closes.at(-1)!.data as { durationSeconds: number; reason: string; session: string };
    expect(last.reason).toContain("session ended");
    expect(last.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(last.session).toBe((opens.at(-1)!.data as { session: string }).session);
  });

  it("opens from the app page in Chromium, shows the output of ls /app/data (screenshot test-results/app-terminal.png)", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const [name, value] = cookie.split("=") as [string, string];
    await context.addCookies([{ name, value, url: admin.base }]);
    const page = await context.newPage();
    await steadyGoto(page, `${admin.base}/apps/${appId}/terminal`);
    const frames: string[] = [];
    page.on("websocket", (w) => {
      w.on("framesent", (f) => frames.push(`> ${JSON.stringify(String(f.payload))}`));
      w.on("close", () => frames.push("closed"));
    });
    await page.getByRole("button", { name: "Open terminal" }).click();
    const screen = page.getByRole("application", { name: "App terminal" });
    await expect.poll(() => screen.locator(".xterm-rows").count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => page.getByRole("button", { name: "Close terminal" }).count()).toBe(1);
    await screen.locator(".xterm-helper-textarea").focus();
    // the shell's prompt is on the screen: it reads what is typed from now on
    await expect.poll(() => screen.locator(".xterm-rows").innerText(), { timeout: 15_000 }).toContain("#");
    await page.keyboard.type("ls /app/data", { delay: 40 });
    await page.keyboard.press("Enter");
    await expect
      .poll(() => screen.locator(".xterm-rows").innerText(), { timeout: 15_000 })
      .toContain(fileName)
      .catch((e) => {
        throw new Error(`${e}\nframes the page sent: ${frames.join(" ")}`);
      });
    await screen.scrollIntoViewIfNeeded();
    mkdirSync(path.join(REPO_ROOT, "test-results"), { recursive: true });
    await page.screenshot({ path: path.join(REPO_ROOT, "test-results", "app-terminal.png"), fullPage: false });
    await page.getByRole("button", { name: "Close terminal" }).click();
    await context.close();
  });

  it("closes after the idle time without input, and input keeps it open (an admin started with a 1.5 s idle time)", async () => {
    const idle = await startAdmin({
      HEARTH_DATABASE_URL: t.url,
      HEARTH_BOX_SOCKET: path.join(tmp, "box.sock"),
      HEARTH_SECRET_KEY: randomBytes(32).toString("base64"),
      HEARTH_TEST_TERMINAL_IDLE_MS: "1500",
    });
    try {
      const url = `${idle.base.replace("http", "ws")}/api/v1/apps/${appId}/terminal`;
      const connect = () =>
        new Promise<{ ws: WebSocket; closed: Promise<{ code: number; at: number }> }>((resolve, reject) => {
          const ws = new WebSocket(url, { headers: { cookie, origin: idle.base } });
          const closed = new Promise<{ code: number; at: number }>((r) => ws.on("close", (code) => r({ code, at: Date.now() })));
          ws.once("open", () => resolve({ ws, closed }));
          ws.once("error", reject);
        });
      const quiet = await connect();
      const opened = Date.now();
      const end = await quiet.closed;
      expect(end.code).toBe(TERMINAL_CLOSE.idle);
      expect(end.at - opened).toBeGreaterThanOrEqual(1400);
      expect(end.at - opened).toBeLessThan(5000);

      const busy = await connect();
      let closedEarly = false;
      void busy.closed.then(() => (closedEarly = true));
      for (let i = 0; i < 5; i++) {
        type(busy.ws, " ");
        await new Promise((r) => setTimeout(r, 600));
      }
      expect(closedEarly).toBe(false);
      busy.ws.close();
      await busy.closed;
    } finally {
      await idle.stop();
    }
  });

  it("closes when the app's container is recreated (a configure)", async () => {
    const s = opened(await openTerminal(browserHeaders(cookie)));
    type(s.ws, "echo before-recreate\r");
    await until("the shell", () => s.output().includes("before-recreate"));
    await service.configure(appId, ctx());
    const closed = await s.closed;
    expect(closed.code).toBe(TERMINAL_CLOSE.appStopped);
    // the new container has a shell of its own
    const again = opened(await openTerminal(browserHeaders(cookie)));
    type(again.ws, "ls /app/data\r");
    await until(`${fileName} after the recreate`, () => again.output().includes(fileName));
    again.ws.close();
    await again.closed;
  }, 120_000);

  it("closes when the app's container stops", async () => {
    const s = opened(await openTerminal(browserHeaders(cookie)));
    type(s.ws, "echo ready\r");
    await until("the shell", () => s.output().includes("ready"));
    await docker.stopContainer(containerNameOf(appId), 1);
    const closed = await s.closed;
    expect(closed.code).toBe(TERMINAL_CLOSE.appStopped);
    const refused = await openTerminal(browserHeaders(cookie));
    expect(refused).toMatchObject({ status: 409 });
    expect((refused as { body: string }).body).toContain("not running");
  });

  it("admin's shutdown writes the open terminal's close event before it exits, and box ends the shell (runs last: it stops admin)", async () => {
    cli("start", containerNameOf(appId));
    await until("the app running", () => cli("inspect", "-f", "{{.State.Running}}", containerNameOf(appId)) === "true", 30_000);
    const s = opened(await openTerminal(browserHeaders(cookie)));
    type(s.ws, "echo ready\r");
    await until("the shell", () => s.output().includes("ready"));
    type(s.ws, "sleep 4444\r");
    await until("the sleep", () => cli("top", containerNameOf(appId), "-o", "pid,args").includes("sleep 4444"));
    const opens = await db.event.count({ where: { action: "app.terminal_open" } });
    await admin.stop();
    // written before admin exited: no polling
    const closes = await db.event.findMany({ where: { action: "app.terminal_close" }, orderBy: { id: "asc" } });
    expect(closes).toHaveLength(opens);
    expect((closes.at(-1)!.data as { reason: string }).reason).toContain("restarting");
    await until("no leftover shell", () => !/sleep 4444/.test(cli("top", containerNameOf(appId), "-o", "pid,args")), 10_000);
  }, 120_000);
});
