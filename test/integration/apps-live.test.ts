import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appsListVersion, recordAppHealth, updateAppState, type Db } from "@hearth/db";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { ownerSession } from "../helpers/admin-accounts";
import { startStandInBox, type StandInBox } from "../helpers/stand-in-box";
import { startTestNginx } from "../helpers/nginx";
import { VALID_MANIFEST } from "../../packages/contracts/src/manifest.examples";
import { steadyGoto } from "../helpers/chromium";

/**
 * The fast API over real HTTP (`next start` of the build on a migrated database): the catalog
 * kept in memory and re-read when it changes on disk, /status without a socket call per
 * request, GET /api/v1/apps with ETag / 304, and the server-sent events that tell an open
 * dashboard when the apps changed. box is a stand-in on the socket that counts its health
 * checks (box's own tests run box); rows are changed through packages/db as box changes them.
 */
let t: TestDatabase & { db: Db };
let admin: RunningAdmin;
let tmp = "";
let catalog = "";
let box: StandInBox;
let healthCalls = 0;
let healthDelayMs = 0;
let ownerCookie = "";

const as = (extra: Call = {}): Call => admin.browser(ownerCookie, extra);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const NOTES = { ...VALID_MANIFEST, id: "org.example.livenotes", title: "Live notes", tags: ["notes"] };

function writeManifest(folder: string, manifest: unknown) {
  const d = path.join(catalog, folder);
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, "HearthManifest.json"), typeof manifest === "string" ? manifest : JSON.stringify(manifest));
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await sleep(100);
  }
}

beforeAll(async () => {
  t = await migratedDatabase("live");
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-live-"));
  catalog = path.join(tmp, "catalog");
  writeManifest("notes", NOTES);

  const boxSocket = path.join(tmp, "box.sock");
  box = await startStandInBox(boxSocket, {
    handle(req, res) {
      if (req.url !== "/health") return false;
      healthCalls++;
      setTimeout(() => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: true, version: "0.1.0", boxId: "stand-in", uptimeSeconds: 1, runningTasks: 0 }));
      }, healthDelayMs);
      return true;
    },
  });

  admin = await startAdmin({
    HEARTH_DATABASE_URL: t.url,
    HEARTH_BOX_SOCKET: boxSocket,
    HEARTH_CATALOG_DIRS: catalog,
    HEARTH_SECRET_KEY: randomBytes(32).toString("base64"),
  });
  ownerCookie = await ownerSession(admin);
  expect((await admin.call("POST", "/api/v1/domains", as({ body: { domain: "live.example", provider: "manual" } }))).status).toBe(201);
});

afterAll(async () => {
  await admin?.stop();
  await box?.close();
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("GET /api/v1/status", () => {
  it("asks box at most once per 2 s, and concurrent requests share one call", async () => {
    healthDelayMs = 300;
    await sleep(2100); // whatever startAdmin's polling cached has expired
    const before = healthCalls;
    const burst = await Promise.all(Array.from({ length: 25 }, () => admin.call("GET", "/api/v1/status")));
    expect(burst.map((r) => `${r.status} ${r.body.box} ${r.body.setupDone}`)).toEqual(Array(25).fill("200 up true"));
    expect(healthCalls - before).toBe(1);
    for (let i = 0; i < 10; i++) expect((await admin.call("GET", "/api/v1/status")).body.box).toBe("up");
    expect(healthCalls - before).toBe(1);
    await sleep(2100);
    await Promise.all(Array.from({ length: 5 }, () => admin.call("GET", "/api/v1/status")));
    expect(healthCalls - before).toBe(2);
    healthDelayMs = 0;
  });

  it("shows box down within the cache time when box stops answering", async () => {
    healthDelayMs = 2000; // longer than admin's 1 s health timeout
    const r = await until(
      () => admin.call("GET", "/api/v1/status"),
      (x) => x.body.box === "down",
      6000,
    );
    expect(r.body.box).toBe("down");
    healthDelayMs = 0;
    expect(
      (
        await until(
          () => admin.call("GET", "/api/v1/status"),
          (x) => x.body.box === "up",
          6000,
        )
      ).body.box,
    ).toBe("up");
  });
});

let appId = "";

describe("GET /api/v1/apps with ETag", () => {
  it("answers an ETag, 304 without a body for If-None-Match, and a new ETag when a row changes", async () => {
    const inst = await admin.call("POST", "/api/v1/apps", as({ body: { storeId: NOTES.id, subdomain: "notes", domain: "live.example" } }));
    expect(inst.status).toBe(202);
    appId = inst.body.id;
    const a = await admin.call("GET", "/api/v1/apps", { cookie: ownerCookie });
    expect(a.status).toBe(200);
    const etag = a.headers.get("etag")!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{20,}"$/);
    expect(a.body.apps.map((x: { id: string }) => x.id)).toEqual([appId]);

    const same = await fetch(`${admin.base}/api/v1/apps`, { headers: { cookie: ownerCookie, "if-none-match": etag } });
    expect(same.status).toBe(304);
    expect(await same.text()).toBe("");
    expect(same.headers.get("etag")).toBe(etag);
    // a weak tag, or one of a list, matches too; another tag does not
    expect((await fetch(`${admin.base}/api/v1/apps`, { headers: { cookie: ownerCookie, "if-none-match": `"x", W/${etag}` } })).status).toBe(304);
    const other = await fetch(`${admin.base}/api/v1/apps`, { headers: { cookie: ownerCookie, "if-none-match": '"x"' } });
    expect(other.status).toBe(200);
    expect(JSON.parse(await other.text())).toEqual(a.body);

    // box finishes the install: the row changes, so does the ETag and the body (within the
    // ETag's reuse time of 0.5 s)
    await updateAppState(t.db, appId, { installState: "installed", health: "healthy" });
    const b = await until(
      () => fetch(`${admin.base}/api/v1/apps`, { headers: { cookie: ownerCookie, "if-none-match": etag } }),
      (r) => r.status !== 304,
      3000,
    );
    expect(b.status).toBe(200);
    expect(b.headers.get("etag")).not.toBe(etag);
    const body = JSON.parse(await b.text());
    expect(body.apps[0]).toMatchObject({ id: appId, installState: "installed", health: "healthy" });
    // changes in a row: another ETag
    const e1 = b.headers.get("etag");
    await updateAppState(t.db, appId, { health: "unhealthy" });
    await updateAppState(t.db, appId, { health: "healthy" });
    await updateAppState(t.db, appId, { runState: "stopped" });
    const c = await until(
      () => admin.call("GET", "/api/v1/apps", { cookie: ownerCookie }),
      (r) => r.body.apps[0].runState === "stopped",
      3000,
    );
    expect(c.headers.get("etag")).not.toBe(e1);
    expect(c.body.apps[0].runState).toBe("stopped");
    // admin's own write is seen at once, not after the ETag's reuse time
    const cEtag = c.headers.get("etag")!;
    expect((await admin.call("POST", "/api/v1/apps", as({ body: { storeId: NOTES.id, subdomain: "notes-etag", domain: "live.example" } }))).status).toBe(202);
    const d = await fetch(`${admin.base}/api/v1/apps`, { headers: { cookie: ownerCookie, "if-none-match": cEtag } });
    expect(d.status).toBe(200);
    expect(JSON.parse(await d.text()).apps.map((x: { subdomain: string }) => x.subdomain)).toEqual(["notes", "notes-etag"]);
  });

  it("a health check that finds what the list already shows leaves the ETag as it was; a changed health changes it", async () => {
    await updateAppState(t.db, appId, { installState: "installed", runState: "running", health: "healthy" });
    const before = await appsListVersion(t.db);
    // the monitor's check of every running app, every 10 s: nothing the dashboard shows changed
    expect(await recordAppHealth(t.db, appId, "healthy", new Date())).toBe(true);
    expect(await recordAppHealth(t.db, appId, "healthy", new Date(Date.now() + 10_000))).toBe(true);
    expect(await appsListVersion(t.db)).toBe(before);
    expect((await t.db.app.findUniqueOrThrow({ where: { id: appId } })).healthCheckedAt).not.toBeNull();
    expect(await recordAppHealth(t.db, appId, "unhealthy", new Date())).toBe(true);
    expect(await appsListVersion(t.db)).not.toBe(before);
    // an app that is not meant to run is not recorded
    await updateAppState(t.db, appId, { runState: "stopped" });
    expect(await recordAppHealth(t.db, appId, "healthy", new Date())).toBe(false);
  });

  it("a new version in the catalog changes the ETag (update available)", async () => {
    const a = await admin.call("GET", "/api/v1/apps", { cookie: ownerCookie });
    expect(a.body.apps[0].updateAvailable).toBeNull();
    writeManifest("notes-2", { ...NOTES, version: "2.0.0" });
    const b = await until(
      () => admin.call("GET", "/api/v1/apps", { cookie: ownerCookie }),
      (x) => x.body.apps[0].updateAvailable !== null,
    );
    expect(b.body.apps[0].updateAvailable).toMatchObject({ version: "2.0.0" });
    expect(b.headers.get("etag")).not.toBe(a.headers.get("etag"));
  });

  it("401 without a session, whatever If-None-Match says", async () => {
    expect((await admin.call("GET", "/api/v1/apps")).status).toBe(401);
    expect((await fetch(`${admin.base}/api/v1/apps`, { headers: { "if-none-match": "*" } })).status).toBe(401);
  });
});

describe("the catalog on disk", () => {
  it("a changed manifest shows up without a restart; a broken one is reported and its last good version kept", async () => {
    writeManifest("notes", { ...NOTES, tagline: "Edited on disk" });
    const edited = await until(
      () => admin.call("GET", `/api/v1/appstore/${NOTES.id}?version=${NOTES.version}`, { cookie: ownerCookie }),
      (x) => x.body.tagline === "Edited on disk",
    );
    expect(edited.body.tagline).toBe("Edited on disk");

    writeManifest("notes", { ...NOTES, version: "not-semver", colour: "red" });
    const broken = await until(
      () => admin.call("GET", "/api/v1/appstore", { cookie: ownerCookie }),
      (x) => x.body.problems.length > 0,
    );
    expect(broken.body.problems).toEqual([
      { dir: path.join(catalog, "notes"), message: expect.stringMatching(/^invalid manifest .*notes\/HearthManifest\.json: .*(version|colour)/), kept: NOTES.version },
    ]);
    expect(broken.body.apps.find((x: { id: string }) => x.id === NOTES.id).versions).toEqual(["2.0.0", NOTES.version]);
    expect(admin.output()).toMatch(/invalid manifest, the last good version .* is kept/);
    // installing the kept version still works from the last good manifest
    const inst = await admin.call("POST", "/api/v1/apps", as({ body: { storeId: NOTES.id, version: NOTES.version, subdomain: "notes-old", domain: "live.example" } }));
    expect(inst.status).toBe(202);

    writeManifest("notes", NOTES);
    const fixed = await until(
      () => admin.call("GET", "/api/v1/appstore", { cookie: ownerCookie }),
      (x) => x.body.problems.length === 0,
    );
    expect(fixed.body.problems).toEqual([]);
  });
});

/** Reads server-sent events into `acc.text` until `want` matches it, or `ms` pass (a read still pending is kept for the next call). */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, acc: { text: string; pending?: Promise<ReadableStreamReadResult<Uint8Array>> }, want: RegExp, ms = 8000): Promise<boolean> {
  const dec = new TextDecoder();
  const end = Date.now() + ms;
  while (!want.test(acc.text)) {
    const left = end - Date.now();
    if (left <= 0) return false;
    acc.pending ??= reader.read();
    const r = await Promise.race([acc.pending, sleep(left).then(() => null)]);
    if (!r) return false;
    acc.pending = undefined;
    if (r.done) return want.test(acc.text);
    acc.text += dec.decode(r.value, { stream: true });
  }
  return true;
}

describe("GET /api/v1/events/stream", () => {
  it("tells an open dashboard when an app row changes, with the ETag GET /api/v1/apps then answers", async () => {
    const abort = new AbortController();
    const res = await fetch(`${admin.base}/api/v1/events/stream`, { headers: { cookie: ownerCookie }, signal: abort.signal });
    try {
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      expect(res.headers.get("x-accel-buffering")).toBe("no");
      const reader = res.body!.getReader();
      const acc: { text: string; pending?: Promise<ReadableStreamReadResult<Uint8Array>> } = { text: "" };
      expect(await readUntil(reader, acc, /event: hello\ndata: \{"etag":"\\"[\w-]+\\""\}\n\n/)).toBe(true);
      const hello = JSON.parse(/event: hello\ndata: (.*)\n/.exec(acc.text)![1]!).etag;
      expect(hello).toBe((await admin.call("GET", "/api/v1/apps", { cookie: ownerCookie })).headers.get("etag"));

      // nothing changes: no event
      expect(await readUntil(reader, acc, /event: apps/, 2500)).toBe(false);

      // box records the app's health: the stream says so
      await updateAppState(t.db, appId, { health: "unhealthy" });
      expect(await readUntil(reader, acc, /event: apps\ndata: \{"etag":"\\"[\w-]+\\""\}\n\n/)).toBe(true);
      const etag = JSON.parse(/event: apps\ndata: (.*)\n/.exec(acc.text)![1]!).etag;
      expect(etag).not.toBe(hello);
      const now = await admin.call("GET", "/api/v1/apps", { cookie: ownerCookie });
      expect(now.headers.get("etag")).toBe(etag);
      expect(now.body.apps.find((a: { id: string }) => a.id === appId).health).toBe("unhealthy");

      // admin's own write (an install through the API) is told too
      acc.text = "";
      expect((await admin.call("POST", "/api/v1/apps", as({ body: { storeId: NOTES.id, subdomain: "notes-3", domain: "live.example" } }))).status).toBe(202);
      expect(await readUntil(reader, acc, /event: apps/)).toBe(true);
    } finally {
      abort.abort();
    }
  });

  it("401 without a session; the CSRF check does not apply to this GET", async () => {
    expect((await fetch(`${admin.base}/api/v1/events/stream`)).status).toBe(401);
    const abort = new AbortController();
    const res = await fetch(`${admin.base}/api/v1/events/stream`, { headers: { cookie: ownerCookie, origin: "https://evil.example" }, signal: abort.signal });
    expect(res.status).toBe(200);
    abort.abort();
  });
});

describe("through nginx", () => {
  it("setup's dashboard vhost passes the event stream through as it is written (no buffering)", async () => {
    const nginx = await startTestNginx({ dashboard: { upstreamPort: Number(new URL(admin.base).port) } });
    const chunks: { at: number; text: string }[] = [];
    let req: http.ClientRequest | undefined;
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        req = https.get({ host: "127.0.0.1", port: nginx.httpsPort, path: "/api/v1/events/stream", rejectUnauthorized: false, headers: { cookie: ownerCookie } }, resolve);
        req.on("error", reject);
      });
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
      res.on("data", (d: Buffer) => chunks.push({ at: Date.now(), text: d.toString() }));
      await until(
        async () => chunks.map((c) => c.text).join(""),
        (x) => x.includes("event: hello"),
      );
      expect(chunks.map((c) => c.text).join("")).toContain("event: hello");
      const changed = Date.now();
      await updateAppState(t.db, appId, { health: "starting" });
      const all = await until(
        async () => chunks.map((c) => c.text).join(""),
        (x) => x.includes("event: apps"),
      );
      expect(all).toContain("event: apps");
      // the poller looks every second; nginx must not hold the event back
      expect(chunks.find((c) => c.text.includes("event: apps"))!.at - changed).toBeLessThan(3000);
    } finally {
      req?.destroy();
      await nginx.stop();
    }
  });
});

describe("the dashboard (Chromium)", () => {
  it("shows a change box makes from the event stream, and does not poll the apps list while the stream is open", async () => {
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
    try {
      const context = await browser.newContext();
      const [name, value] = ownerCookie.split("=") as [string, string];
      await context.addCookies([{ name, value, url: admin.base }]);
      const page = await context.newPage();
      const listRequests: { at: number; status: number }[] = [];
      page.on("response", (r) => {
        if (new URL(r.url()).pathname === "/api/v1/apps" && r.request().method() === "GET") listRequests.push({ at: Date.now(), status: r.status() });
      });
      const streams: string[] = [];
      page.on("request", (r) => {
        if (new URL(r.url()).pathname === "/api/v1/events/stream") streams.push(r.url());
      });
      await updateAppState(t.db, appId, { installState: "installed", runState: "running", health: "healthy" });
      await steadyGoto(page, `${admin.base}/apps`);
      const card = page.locator("a, article, div").filter({ hasText: "notes.live.example" }).last();
      await card.waitFor({ timeout: 20_000 });
      await until(
        async () => streams.length,
        (n) => n > 0,
        10_000,
      );
      // settle, then box stops the app: the page shows it without waiting for a poll
      await sleep(1500);
      const before = listRequests.length;
      await updateAppState(t.db, appId, { runState: "stopped" });
      const started = Date.now();
      await page.getByText("Stopped").first().waitFor({ timeout: 5000 });
      expect(Date.now() - started).toBeLessThan(5000);
      // at least the one refetch the event asked for (a busy machine may add the detail query's)
      expect(listRequests.length - before, "list requests after the change").toBeGreaterThanOrEqual(1);
      // idle for longer than the old 15 s poll: not one request for the list
      const idleFrom = listRequests.length;
      await sleep(16_000);
      expect(listRequests.slice(idleFrom)).toEqual([]);
      // one stream stays open (a reconnect under load is allowed; polling is not)
      expect(streams.length, "event streams opened").toBeGreaterThanOrEqual(1);
      expect(streams.length, "event streams opened").toBeLessThanOrEqual(2);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
