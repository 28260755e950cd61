import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser, finishTask, recordEvent, recoverTasks, type Db } from "@hearth/db";
import { AppService, noopVhostSync } from "../../apps/box/src/apps/apps.service";
import { containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { prismaRegistryCredentials } from "../../apps/box/src/apps/images";
import { createDocker } from "../../apps/box/src/docker/docker";
import { hashPassword } from "../../apps/admin/lib/passwords";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";
import { startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { ownerSession, plainUserToken, testApiToken } from "../helpers/admin-accounts";
import { startStandInBox, type StandInBox } from "../helpers/stand-in-box";
import { startTaskRunner, type InProcessTasks } from "../helpers/app-tasks";
import { ensureTestImages, testHttpdManifest } from "../helpers/test-images";
import { steadyGoto } from "../helpers/chromium";

/**
 * The event log through the API (`next start` of the build on a migrated database), with box's
 * real task runner and AppService in this process on the real Docker engine: an install's
 * outcome (succeeded, and failed with its error), targets named by what they were when the
 * event was written and linked while they exist, the app/user/action filters with paging, and
 * the CSV export (quoting, formula-injection prefix, the same filters).
 */
const RUN = randomBytes(3).toString("hex");
const DOMAIN = `events-${RUN}.test`;
let t: TestDatabase & { db: Db };
let admin: RunningAdmin;
let box: StandInBox;
let tasks: InProcessTasks;
let tmp = "";
let ownerCookie = "";
let erinToken = "";
let plainToken = "";
const made: string[] = [];
let okId = "";
let failId = "";

const as = (extra: Call = {}): Call => admin.browser(ownerCookie, extra);

interface Ev {
  id: string;
  action: string;
  actorName: string;
  target: string;
  targetType: string;
  targetName: string;
  targetHref: string | null;
  data: { taskId?: string; error?: { code: string; message: string } } | null;
}
async function events(query: string): Promise<{ events: Ev[]; total: number; page: number; perPage: number }> {
  const r = await admin.call("GET", `/api/v1/events?${query}`, { cookie: ownerCookie });
  expect(r.status, r.text).toBe(200);
  return r.body;
}

/** RFC 4180 parser for the test's own reading of the export. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += c;
  }
  expect(cell === "" && row.length === 0, "the export ends with a complete row").toBe(true);
  return rows;
}

async function install(title: string, sub: string, over: Parameters<typeof testHttpdManifest>[2] = {}): Promise<{ id: string; taskId: string }> {
  const manifest = testHttpdManifest(`org.hearth.test.events-${sub}`, title, { addons: {}, ...over });
  const r = await admin.call("POST", "/api/v1/apps", as({ body: { manifest, subdomain: sub, domain: DOMAIN } }));
  expect(r.status, r.text).toBe(202);
  made.push(r.body.id);
  return { id: r.body.id, taskId: r.body.taskId };
}

beforeAll(async () => {
  ensureTestImages();
  t = await migratedDatabase("events");
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-events-"));
  const boxSocket = path.join(tmp, "box.sock");
  box = await startStandInBox(boxSocket);
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: boxSocket, HEARTH_CATALOG_DIRS: path.join(tmp, "none"), HEARTH_SECRET_KEY: randomBytes(32).toString("base64") });
  ownerCookie = await ownerSession(admin);
  const erin = await createUser(t.db, { id: randomUUID(), username: "erin", email: "erin@example.com", role: "admin", passwordHash: await hashPassword("erin's long password") });
  erinToken = await testApiToken(t.db, erin.id, "read_write", "erin's token");
  plainToken = await plainUserToken(t.db);
  const d = await admin.call("POST", "/api/v1/domains", as({ body: { domain: DOMAIN, provider: "noop" } }));
  expect(d.status, d.text).toBe(201);
  const service = new AppService({
    db: t.db,
    docker: createDocker(),
    vhosts: noopVhostSync,
    registries: prismaRegistryCredentials(t.db, undefined),
    catalogDirs: [],
    healthTimeoutMs: 6_000,
    healthIntervalMs: 200,
  });
  tasks = await startTaskRunner({ db: t.db, service, dataDir: path.join(tmp, "box") });
}, 400_000);

afterAll(async () => {
  await tasks?.stop();
  for (const id of made) {
    spawnSync("docker", ["rm", "-f", containerNameOf(id)], { stdio: "ignore" });
    spawnSync("docker", ["network", "rm", networkNameOf(id)], { stdio: "ignore" });
    spawnSync("docker", ["volume", "rm", "-f", dataVolumeNameOf(id)], { stdio: "ignore" });
  }
  await admin?.stop();
  await box?.close();
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe("task outcomes in the event log", () => {
  it("an install that succeeds: app.install by the owner, then app.install.succeeded by box, both naming the app and linking to it", async () => {
    const { id, taskId } = await install("Events OK", "evok");
    okId = id;
    const task = await tasks.finish(taskId);
    expect(task.state, tasks.log(taskId)).toBe("succeeded");
    const r = await events(`app=${id}`);
    expect(r.events.map((e) => [e.action, e.actorName])).toEqual([
      ["app.install.succeeded", "box"],
      ["app.install", "owner"],
    ]);
    for (const e of r.events) expect(e).toMatchObject({ target: id, targetType: "app", targetName: `Events OK (evok.${DOMAIN})`, targetHref: `/apps/${id}` });
    expect(r.events[0]!.data).toMatchObject({ taskId });
    expect(r.events[0]!.data?.error).toBeUndefined();
  }, 180_000);

  it("an install that fails: app.install.failed with the task's error code and message", async () => {
    const { id, taskId } = await install("Events Broken", "evbad", { healthCheckPath: "/no-such-page" });
    failId = id;
    const task = await tasks.finish(taskId);
    expect(task.state).toBe("failed");
    const r = await events(`app=${id}`);
    expect(r.events.map((e) => e.action)).toEqual(["app.install.failed", "app.install"]);
    const failed = r.events[0]!;
    expect(failed).toMatchObject({ actorName: "box", targetName: `Events Broken (evbad.${DOMAIN})`, data: { taskId, error: { code: task.errorCode } } });
    expect(failed.data?.error?.message).toBe(task.errorMessage);
    expect(failed.data?.error?.message).toContain("/no-such-page");
  }, 180_000);

  it("a task that box gave up on (its lease expired, no attempts left) records its failure as interrupted", async () => {
    const taskId = randomUUID();
    const past = new Date(Date.now() - 60_000);
    await t.db.task.create({
      data: {
        id: taskId,
        type: "app.restart",
        appId: failId,
        args: { appId: failId },
        state: "running",
        attempts: 3,
        maxAttempts: 3,
        leasedBy: "gone-box/1",
        leaseExpiresAt: past,
        heartbeatAt: past,
        startedAt: past,
      },
    });
    // the in-process runner's own poll may recover it first: either way it fails once
    await recoverTasks(t.db, { resumable: () => true });
    expect((await t.db.task.findUniqueOrThrow({ where: { id: taskId } })).state).toBe("failed");
    const r = await events(`app=${failId}&action=app.restart`);
    expect(r.events).toHaveLength(1);
    expect(r.events[0]).toMatchObject({ action: "app.restart.failed", actorName: "box", targetName: `Events Broken (evbad.${DOMAIN})`, data: { taskId, error: { code: "interrupted" } } });
    expect(r.events[0]!.data?.error?.message).toMatch(/no attempts left/);
  });

  it("tasks without an app are named by what they act on; the runner's test-only types record nothing", async () => {
    const running = async (type: string, args: object) => {
      const id = randomUUID();
      await t.db.task.create({ data: { id, type, args, state: "running", attempts: 1, leasedBy: "events-test/1", leaseExpiresAt: new Date(Date.now() + 600_000), startedAt: new Date() } });
      return id;
    };
    const mail = await running("mail.test", { to: "ops@example.com" });
    expect(await finishTask(t.db, mail, "events-test/1", { state: "failed", errorCode: "external", errorMessage: "the smarthost said 535 Authentication failed" })).toBe(true);
    const sync = await running("domain.sync", { domain: DOMAIN });
    expect(await finishTask(t.db, sync, "events-test/1", { state: "succeeded" })).toBe(true);
    // not ours (another runner's lease): nothing changes, nothing is recorded
    expect(await finishTask(t.db, sync, "someone-else/1", { state: "succeeded" })).toBe(false);
    const fail = await running("_fail", {});
    expect(await finishTask(t.db, fail, "events-test/1", { state: "failed", errorCode: "task_failed", errorMessage: "failed on purpose" })).toBe(true);

    const m = await events("action=mail.test");
    expect(m.events.map((e) => [e.action, e.targetType, e.targetName, e.data?.error?.message])).toEqual([
      ["mail.test.failed", "email", "ops@example.com", "the smarthost said 535 Authentication failed"],
    ]);
    const d = await events("action=domain.sync");
    expect(d.events.filter((e) => e.data?.taskId === sync).map((e) => [e.action, e.targetType, e.targetName, e.targetHref])).toEqual([["domain.sync.succeeded", "domain", DOMAIN, "/domains"]]);
    // adding the domain queued a domain.sync, which this test's runner (app tasks only) does not know: failed at its claim
    expect(d.events.filter((e) => e.data?.taskId !== sync).map((e) => [e.action, e.targetName, e.data?.error?.code])).toEqual([["domain.sync.failed", DOMAIN, "unknown_task_type"]]);
    const all = await t.db.event.findMany({ select: { action: true, data: true } });
    expect(all.filter((e) => e.action.startsWith("_"))).toEqual([]);
    expect(all.filter((e) => (e.data as { taskId?: string } | null)?.taskId === mail)).toHaveLength(1);
    expect(all.filter((e) => (e.data as { taskId?: string } | null)?.taskId === fail)).toHaveLength(0);
  });

  it("once the app is gone its events still name it, without a link; uninstall's outcome is recorded too", async () => {
    const del = await admin.call("DELETE", `/api/v1/apps/${okId}`, as());
    expect(del.status, del.text).toBe(202);
    expect((await tasks.finish(del.body.taskId)).state).toBe("succeeded");
    expect(await t.db.app.count({ where: { id: okId } })).toBe(0);
    // and not even the uninstalled app's kept-data row is left to name it
    await t.db.uninstalledApp.deleteMany({ where: { id: okId } });
    await recordEvent(t.db, { action: "app.purge", actorId: "box", actorName: "box", target: okId });
    const r = await events(`app=${okId}`);
    expect(r.events.map((e) => e.action)).toEqual(["app.purge", "app.uninstall.succeeded", "app.uninstall", "app.install.succeeded", "app.install"]);
    for (const e of r.events) expect(e, e.action).toMatchObject({ targetName: `Events OK (evok.${DOMAIN})`, targetHref: null });
    // the failed app still exists: its link stays
    expect((await events(`app=${failId}`)).events[0]!.targetHref).toBe(`/apps/${failId}`);
  }, 180_000);
});

describe("filters and paging", () => {
  it("by user: what erin did and what happened to her account; by app; by action; combined; paged", async () => {
    const tok = await admin.call("POST", "/api/v1/tokens", { token: erinToken, body: { name: '=HYPERLINK("http://evil.example/","click"), ok', scope: "read" } });
    expect(tok.status, tok.text).toBe(201);
    await recordEvent(t.db, { action: "user.login_failed", sourceIp: "10.20.0.1", target: "erin" });

    const erin = await events("user=erin");
    expect(erin.events.map((e) => e.action)).toEqual(["user.login_failed", "token.create"]);
    expect(erin.events[1]).toMatchObject({ actorName: "erin", targetType: "token", targetName: '=HYPERLINK("http://evil.example/","click"), ok' });
    const owner = await events("user=owner&per_page=200");
    expect(owner.events.some((e) => e.action === "app.install")).toBe(true);
    expect(owner.events.every((e) => e.actorName === "owner" || (e.targetType === "user" && e.target === "owner"))).toBe(true);
    expect(owner.events.some((e) => e.actorName === "erin" || e.actorName === "box")).toBe(false);
    expect((await events("user=nobody")).total).toBe(0);

    const installs = await events(`app=${okId}&action=app.install`);
    expect(installs.events.map((e) => e.action)).toEqual(["app.install.succeeded", "app.install"]);
    expect((await events(`app=${okId}&action=app.install.failed`)).total).toBe(0);
    expect((await events(`app=${okId}&user=owner`)).events.map((e) => e.action)).toEqual(["app.uninstall", "app.install"]);
    const failures = await events("action=app.install.failed");
    expect(failures.events.map((e) => e.target)).toEqual([failId]);

    const all = await events(`app=${okId}`);
    const p2 = await events(`app=${okId}&page=2&per_page=2`);
    expect(p2).toMatchObject({ page: 2, perPage: 2, total: all.total });
    expect(p2.events.map((e) => e.id)).toEqual(all.events.slice(2, 4).map((e) => e.id));
    // /api/v1/eventlog is the same list
    const old = await admin.call("GET", `/api/v1/eventlog?app=${okId}`, { cookie: ownerCookie });
    expect(old.body.events.map((e: Ev) => e.id)).toEqual(all.events.map((e) => e.id));
  });

  it("bad filters → 400 invalid; a plain user → 403", async () => {
    for (const q of [`app=${"x".repeat(37)}`, `user=${"u".repeat(65)}`, "format=xml", "who=erin"]) {
      const r = await admin.call("GET", `/api/v1/events?${q}`, { cookie: ownerCookie });
      expect(r.status, q).toBe(400);
      expect(r.body.error.code).toBe("invalid");
    }
    for (const url of ["/api/v1/events", "/api/v1/events.csv", "/api/v1/events?format=csv"]) {
      const r = await admin.call("GET", url, { token: plainToken });
      expect(r.status, url).toBe(403);
      expect(r.body.error.code).toBe("forbidden");
    }
  });
});

describe("CSV export", () => {
  it("has every matching event (the same as the JSON list), each cell quoted as RFC 4180 wants", async () => {
    const r = await admin.call("GET", `/api/v1/events.csv?app=${okId}`, { cookie: ownerCookie });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(r.headers.get("content-disposition")).toMatch(/^attachment; filename="hearth-events-\d{4}-\d{2}-\d{2}\.csv"$/);
    const rows = parseCsv(r.text);
    expect(rows[0]).toEqual(["id", "time", "action", "event", "actor", "target_type", "target", "target_name", "source_ip", "error", "data"]);
    const json = await events(`app=${okId}&per_page=200`);
    expect(rows.slice(1).map((c) => [c[0], c[2]])).toEqual(json.events.map((e) => [e.id, e.action]));
    expect(rows[2]).toEqual(expect.arrayContaining(["app.uninstall.succeeded", "App uninstall succeeded", "box", "app", okId, `Events OK (evok.${DOMAIN})`]));
    for (const row of rows) expect(row).toHaveLength(11);
    // the data column is the event's JSON (with commas and quotes inside one cell)
    expect(JSON.parse(rows[2]![10]!)).toMatchObject({ taskId: expect.any(String) });

    const failed = parseCsv((await admin.call("GET", `/api/v1/events?format=csv&app=${failId}&action=app.install.failed`, { cookie: ownerCookie })).text);
    expect(failed).toHaveLength(2);
    expect(failed[1]![9]).toMatch(/^[a-z_]+: .*\/no-such-page/);
  });

  it("a cell a spreadsheet would run as a formula starts with an apostrophe", async () => {
    const r = await admin.call("GET", "/api/v1/events.csv?user=erin&action=token.create", { cookie: ownerCookie });
    expect(r.text).toContain(`"'=HYPERLINK(""http://evil.example/"",""click""), ok"`);
    const rows = parseCsv(r.text);
    expect(rows).toHaveLength(2);
    expect(rows[1]![6]).toBe(`'=HYPERLINK("http://evil.example/","click"), ok`);
    expect(rows[1]![7]).toBe(`'=HYPERLINK("http://evil.example/","click"), ok`);
  });

  it("exports a log longer than one batch in order, without repeats", async () => {
    const base = new Date(Date.now() - 86_400_000);
    // 2,300 events of one user, several sharing a millisecond (the order's tie-break is the id)
    await t.db.event.createMany({
      data: Array.from({ length: 2300 }, (_, i) => ({
        action: "user.login",
        actorName: "bulk",
        target: "bulk",
        targetType: "user",
        targetName: "bulk",
        createdAt: new Date(base.getTime() + Math.floor(i / 3)),
      })),
    });
    const r = await admin.call("GET", "/api/v1/events.csv?user=bulk", { cookie: ownerCookie });
    const rows = parseCsv(r.text).slice(1);
    expect(rows).toHaveLength(2300);
    expect(new Set(rows.map((c) => c[0])).size).toBe(2300);
    const times = rows.map((c) => Date.parse(c[1]!));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect((await events("user=bulk")).total).toBe(2300);
  });
});

describe("the Event log page in Chromium", () => {
  it("labels outcomes, shows the error, links a live app, names a gone one, filters by user and exports what it shows", async () => {
    const shots = path.join(REPO_ROOT, "test-results");
    mkdirSync(shots, { recursive: true });
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const ctx = await browser.newContext({ acceptDownloads: true });
      await ctx.addCookies([{ name: ownerCookie.split("=")[0]!, value: ownerCookie.slice(ownerCookie.indexOf("=") + 1), url: admin.base }]);
      const page = await ctx.newPage();

      // a filtered view by its address: the failed install, its error, a link to the app
      await steadyGoto(page, `${admin.base}/eventlog?app=${failId}`);
      const failedRow = page.locator("tr", { hasText: "App install failed" });
      await failedRow.waitFor({ timeout: 30_000 });
      expect(await failedRow.innerText()).toContain("/no-such-page");
      const link = failedRow.getByRole("link", { name: `Events Broken (evbad.${DOMAIN})` });
      expect(await link.getAttribute("href")).toBe(`/apps/${failId}`);
      await expect.poll(() => page.getByLabel("App").inputValue(), { timeout: 30_000 }).toBe(failId);
      await page.locator("tr", { hasText: "App install requested" }).waitFor();
      await page.screenshot({ path: path.join(shots, "event-log-app-failed.png"), fullPage: true });

      // the uninstalled app: named as it was, not linked, and the filter says it is gone
      await steadyGoto(page, `${admin.base}/eventlog?app=${okId}`);
      const gone = page.locator("tr", { hasText: "App uninstall succeeded" });
      await gone.waitFor({ timeout: 30_000 });
      expect(await gone.innerText()).toContain(`Events OK (evok.${DOMAIN})`);
      expect(await gone.getByRole("link").count()).toBe(0);
      await page.getByRole("option", { name: `Events OK (evok.${DOMAIN}) (no longer installed)` }).waitFor({ state: "attached" });

      // by user, through the form; the address follows, and Export CSV exports the same filter
      await page.getByRole("button", { name: "Clear filters" }).click();
      await page.getByLabel("User").fill("erin");
      await page.getByRole("button", { name: "Apply filters" }).click();
      await page.locator("tr", { hasText: "API token created" }).waitFor({ timeout: 30_000 });
      await expect.poll(() => page.locator("tbody tr").count()).toBe(2);
      expect(new URL(page.url()).search).toBe("?user=erin");
      await page.screenshot({ path: path.join(shots, "event-log-user.png"), fullPage: true });
      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV" }).click()]);
      expect(download.suggestedFilename()).toMatch(/^hearth-events-\d{4}-\d{2}-\d{2}\.csv$/);
      const rows = parseCsv(readFileSync((await download.path())!, "utf8"));
      expect(rows.slice(1).map((r) => r[2])).toEqual(["user.login_failed", "token.create"]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
