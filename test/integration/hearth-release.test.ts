import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HEARTH_VERSION } from "@hearth/contracts";
import type { Db } from "@hearth/db";
import { ReleaseCheck } from "../../apps/box/src/release/release-check";
import { startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { ownerSession } from "../helpers/admin-accounts";
import { steadyGoto } from "../helpers/chromium";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { startStandInBox, type StandInBox } from "../helpers/stand-in-box";

/**
 * "Is a newer Hearth out?": box's ReleaseCheck reads the configured source (a file, then a
 * real local HTTP server), stores it in the Setting hearth.release; the built admin answers
 * GET /api/v1/server/version from it and the Apps page shows one line. A broken source keeps
 * the last release read and records the error.
 */
let t: TestDatabase & { db: Db };
let admin: RunningAdmin;
let box: StandInBox;
let cookie = "";
let server: http.Server;
let served = "";
const tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-release-"));
const as = (extra: Call = {}): Call => admin.browser(cookie, extra);
const log = { info: () => {}, warn: () => {} };
const [major, minor] = HEARTH_VERSION.split(".").map(Number) as [number, number];
const NEWER = `${major}.${minor + 1}.0`;

beforeAll(async () => {
  t = await migratedDatabase("hrelease");
  box = await startStandInBox(path.join(tmp, "box.sock"));
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: path.join(tmp, "box.sock"), HEARTH_SECRET_KEY: randomBytes(32).toString("base64") });
  cookie = await ownerSession(admin);
  server = http.createServer((req, res) => {
    if (req.url === "/endless.json") {
      // A body with no end and no content-length: only a byte counter can stop it.
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(16 * 1024, 0x20);
      const pump = (): void => {
        while (!res.destroyed && res.write(chunk)) {}
        if (!res.destroyed) res.once("drain", pump);
      };
      res.write("[");
      pump();
      return;
    }
    if (req.url === "/declared-big.json") {
      res.writeHead(200, { "content-type": "application/json", "content-length": String(100 * 1024 * 1024) });
      res.write("{");
      return; // never sends the rest: a client that waits for the declared length would hang
    }
    if (req.url === "/redirect.json") {
      res.writeHead(302, { location: "http://example.invalid/release.json" });
      res.end();
      return;
    }
    res.writeHead(served ? 200 : 503, { "content-type": "application/json" });
    res.end(served);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
}, 600_000);

afterAll(async () => {
  server?.close();
  await admin?.stop();
  await box?.close();
  await t?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("a newer Hearth from the configured source", () => {
  it("never read: latest null, no update", async () => {
    const r = await admin.call("GET", "/api/v1/server/version", as());
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ current: HEARTH_VERSION, latest: null, updateAvailable: false, checkedAt: null, error: null });
  });

  it("a file source announcing a newer version: updateAvailable, and the Apps page says so", async () => {
    const file = path.join(tmp, "release.json");
    writeFileSync(file, JSON.stringify({ version: NEWER, notes: "New things", url: "https://example.org/hearth/releases" }));
    const state = await new ReleaseCheck({ db: t.db, source: file, log }).run();
    expect(state).toMatchObject({ latest: { version: NEWER }, error: null });
    const r = await admin.call("GET", "/api/v1/server/version", as());
    expect(r.body).toMatchObject({ current: HEARTH_VERSION, latest: { version: NEWER, notes: "New things", url: "https://example.org/hearth/releases" }, updateAvailable: true, error: null });

    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const ctx = await browser.newContext();
      await ctx.addCookies([{ name: cookie.split("=")[0]!, value: cookie.slice(cookie.indexOf("=") + 1), url: admin.base }]);
      const page = await ctx.newPage();
      await steadyGoto(page, `${admin.base}/apps`);
      const note = page.locator(".hearth-update");
      await note.waitFor({ timeout: 30_000 });
      expect(await note.innerText()).toContain(`Hearth ${NEWER} is available (this server runs ${HEARTH_VERSION})`);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it("an HTTP source: an error answer or bad JSON keeps the last release and records the error; the same version is no update", async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/release.json`;
    const check = new ReleaseCheck({ db: t.db, source: url, log, timeoutMs: 5000 });
    served = "";
    expect(await check.run()).toMatchObject({ latest: { version: NEWER }, error: "the release source answered HTTP 503" });
    served = "{not json";
    expect((await check.run()).error).toBe("the release source is not JSON");
    served = JSON.stringify({ version: "v2" });
    expect((await check.run()).error).toMatch(/^the release source is not \{version, notes\?, url\?\}: version: /);
    let r = await admin.call("GET", "/api/v1/server/version", as());
    expect(r.body).toMatchObject({ latest: { version: NEWER }, updateAvailable: true, error: expect.stringMatching(/not \{version/) });
    served = JSON.stringify({ version: HEARTH_VERSION });
    expect((await check.run()).error).toBeNull();
    r = await admin.call("GET", "/api/v1/server/version", as());
    expect(r.body).toMatchObject({ latest: { version: HEARTH_VERSION }, updateAvailable: false, error: null });
  });

  it("an endless or oversized body and a redirect are refused, and the last good release is kept", async () => {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    served = JSON.stringify({ version: NEWER });
    expect((await new ReleaseCheck({ db: t.db, source: `${base}/release.json`, log, timeoutMs: 5000 }).run()).error).toBeNull();
    const endless = await new ReleaseCheck({ db: t.db, source: `${base}/endless.json`, log, timeoutMs: 20_000 }).run();
    expect(endless).toMatchObject({ latest: { version: NEWER }, error: "the release source is larger than 65536 bytes" });
    const declared = await new ReleaseCheck({ db: t.db, source: `${base}/declared-big.json`, log, timeoutMs: 20_000 }).run();
    expect(declared).toMatchObject({ latest: { version: NEWER }, error: "the release source is larger than 65536 bytes" });
    const redirect = await new ReleaseCheck({ db: t.db, source: `${base}/redirect.json`, log, timeoutMs: 5000 }).run();
    expect(redirect).toMatchObject({ latest: { version: NEWER }, error: "the release source answered a redirect (HTTP 302); redirects are not followed" });
    const r = await admin.call("GET", "/api/v1/server/version", as());
    expect(r.body).toMatchObject({ latest: { version: NEWER }, updateAvailable: true, error: expect.stringMatching(/redirect/) });
  });
});
