import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "@hearth/db";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { ownerApiToken, ownerSession, plainUserToken } from "../helpers/admin-accounts";
import { startStandInBox, type StandInBox } from "../helpers/stand-in-box";
import { VALID_MANIFEST } from "../../packages/contracts/src/manifest.examples";
import { AutoUpdateSchedule } from "../../apps/box/src/apps/auto-update-schedule";

/**
 * POST /api/v1/apps/:id/update over real HTTP (`next start` of the build): admin records the
 * intent (pending_update + an app.update task carrying the target and the current manifest,
 * the row's manifest untouched until box writes it), refuses what it must (400/404/409/403),
 * and GET /apps/:id says when the catalog has a newer version. box is a stand-in that counts box.wakes().
 */
let t: TestDatabase & { db: Db };
let admin: RunningAdmin;
let tmp = "";
let box: StandInBox;
let ownerCookie = "";
let readToken = "";
let userToken = "";
let siteId = "";

const as = (extra: Call = {}): Call => admin.browser(ownerCookie, extra);
const SITE = {
  ...VALID_MANIFEST,
  id: "org.example.site",
  title: "Site",
  version: "1.0.0",
  addons: { localstorage: {} },
  tcpPorts: { SYNC_PORT: { title: "Sync", containerPort: 7000, defaultValue: 17000 } },
};
const SITE2 = { ...SITE, version: "2.0.0", addons: { localstorage: {}, mysql: {} } };

function writePackage(root: string, folder: string, manifest: unknown) {
  mkdirSync(path.join(root, folder), { recursive: true });
  writeFileSync(path.join(root, folder, "HearthManifest.json"), JSON.stringify(manifest, null, 2));
}
/** What box does when the task ends: the task done, the app installed (on `version` when given). */
async function finish(taskId: string, m?: typeof SITE) {
  await t.db.task.update({ where: { id: taskId }, data: { state: "succeeded", finishedAt: new Date() } });
  await t.db.app.update({ where: { id: siteId }, data: { installState: "installed", ...(m ? { manifest: m as object, version: m.version } : {}) } });
}
const update = (body: unknown, c: Call = as({ body })) => admin.call("POST", `/api/v1/apps/${siteId}/update`, { ...c, body });
const counts = async () => ({ tasks: await t.db.task.count(), events: await t.db.event.count({ where: { action: "app.update" } }) });

beforeAll(async () => {
  t = await migratedDatabase("appsupdate");
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-update-api-"));
  const catalog = path.join(tmp, "catalog");
  writePackage(catalog, "site-1", SITE);
  writePackage(catalog, "site-2", SITE2);
  // needs a newer Hearth than this one: never offered, never the target of {} or {force: true}
  writePackage(catalog, "site-3", { ...SITE2, version: "3.0.0", minHearthVersion: "99.0.0" });
  const boxSocket = path.join(tmp, "box.sock");
  box = await startStandInBox(boxSocket);
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: boxSocket, HEARTH_CATALOG_DIRS: catalog, HEARTH_SECRET_KEY: randomBytes(32).toString("base64") });
  ownerCookie = await ownerSession(admin);
  readToken = await ownerApiToken(t.db, "read", "read");
  userToken = await plainUserToken(t.db);
  expect((await admin.call("POST", "/api/v1/domains", as({ body: { domain: "example.com", provider: "noop" } }))).status).toBe(201);
  const inst = await admin.call("POST", "/api/v1/apps", as({ body: { storeId: "org.example.site", version: "1.0.0", subdomain: "site", domain: "example.com", portBindings: { SYNC_PORT: 17000 } } }));
  expect(inst.status, JSON.stringify(inst.body)).toBe(202);
  siteId = inst.body.id;
  await finish(inst.body.taskId);
});

afterAll(async () => {
  await admin?.stop();
  await box?.close();
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("app update API", () => {
  it("GET /apps/:id offers the catalog's newer version with its addon changes", async () => {
    const r = await admin.call("GET", `/api/v1/apps/${siteId}`, as());
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ version: "1.0.0", addons: ["localstorage"], updateAvailable: { version: "2.0.0", addons: { added: ["mysql"], removed: [], kept: ["localstorage"] } } });
    expect(r.body.updateAvailable.changelog).toEqual(expect.any(Array));
    expect(r.body.fromCatalog).toBe(true);
    // the polled list carries no changelogs: only {version, addons}
    const list = await admin.call("GET", "/api/v1/apps", as());
    expect(list.body.apps[0].updateAvailable).toEqual({ version: "2.0.0", addons: { added: ["mysql"], removed: [], kept: ["localstorage"] } });
  });

  it("box's nightly automatic update makes the checks a manual one makes: no patch that drops a published TCP port, none that needs a newer Hearth", async () => {
    // a catalog only box's nightly run reads (admin's offers stay as they are)
    const nightlyCatalog = path.join(tmp, "nightly-catalog");
    writePackage(nightlyCatalog, "site-1.0.1", { ...SITE, version: "1.0.1", tcpPorts: {} });
    writePackage(nightlyCatalog, "site-1.0.2", { ...SITE, version: "1.0.2", minHearthVersion: "99.0.0" });
    await t.db.app.update({ where: { id: siteId }, data: { autoUpdate: true } });
    const before = await counts();
    const warns: string[] = [];
    const nightly = new AutoUpdateSchedule({
      db: t.db,
      catalogDirs: [nightlyCatalog],
      wake: () => {},
      log: { info: () => {}, warn: (o: object, m?: string) => void warns.push(`${m} ${JSON.stringify(o)}`) },
    });
    expect(await nightly.run()).toEqual([]);
    // 1.0.2 is never picked (needs Hearth 99); 1.0.1 is refused on the locked row: it drops SYNC_PORT
    expect(warns).toEqual([expect.stringMatching(/"to":"1\.0\.1".*has no TCP port SYNC_PORT/)]);
    expect(await counts()).toEqual(before);
    expect((await t.db.app.findUniqueOrThrow({ where: { id: siteId } })).installState).toBe("installed");
    await t.db.app.update({ where: { id: siteId }, data: { autoUpdate: false } });
  });

  it("a confirmed version that is no longer the offered one is 409 conflict; nothing queued", async () => {
    const before = await counts();
    for (const body of [{ version: "1.0.5" }, { version: "3.0.0" }]) {
      const r = await update(body);
      expect(r.status, JSON.stringify(r.body)).toBe(409);
      expect(r.body.error).toMatchObject({ code: "conflict", message: `The update now goes to version 2.0.0, not the confirmed ${body.version}: reload and confirm again` });
    }
    expect((await update({ version: "two" })).status).toBe(400);
    expect(await counts()).toEqual(before);
    expect((await admin.call("GET", `/api/v1/apps/${siteId}`, as())).body.installState).toBe("installed");
  });

  it("a plain user and a read token get 403, nobody 401; nothing queued", async () => {
    const before = await counts();
    expect((await update({}, { token: userToken })).status).toBe(403);
    expect((await update({}, { token: readToken })).status).toBe(403);
    expect((await update({}, {})).status).toBe(401);
    expect(await counts()).toEqual(before);
  });

  it("{version} (the one-click body) updates to the confirmed catalog version: 202, pending_update, the task carries both manifests, the row keeps its manifest until box writes it", async () => {
    const w = box.wakes();
    const r = await update({ version: "2.0.0" });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const task = await t.db.task.findUniqueOrThrow({ where: { id: r.body.taskId } });
    expect(task).toMatchObject({ type: "app.update", appId: siteId, state: "pending" });
    const args = task.args as { appId: string; manifest: { version: string; addons: object }; fromManifest: { version: string } };
    expect(args.appId).toBe(siteId);
    expect(args.manifest).toMatchObject({ id: "org.example.site", version: "2.0.0", addons: { mysql: {} } });
    expect(args.fromManifest).toMatchObject({ id: "org.example.site", version: "1.0.0" });
    const app = await t.db.app.findUniqueOrThrow({ where: { id: siteId } });
    expect(app).toMatchObject({ installState: "pending_update", version: "1.0.0" });
    expect((app.manifest as { version: string }).version).toBe("1.0.0");
    const ev = await t.db.event.findFirstOrThrow({ where: { action: "app.update" }, orderBy: { id: "desc" } });
    expect(ev).toMatchObject({ target: siteId, actorName: "owner", data: { from: "1.0.0", to: "2.0.0", taskId: r.body.taskId, addons: { added: ["mysql"], removed: [] } } });
    expect(box.wakes()).toBe(w + 1);
    // busy meanwhile
    const busy = await update({});
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe("bad_state");
    expect((await admin.call("GET", `/api/v1/apps/${siteId}`, as())).body.installState).toBe("pending_update");
    await finish(r.body.taskId, SITE2);
  });

  it("at the newest version: {} is 409 nothing to update, and the view offers nothing", async () => {
    const before = await counts();
    const r = await update({});
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: "bad_state", message: expect.stringMatching(/Nothing to update/) });
    expect((await admin.call("GET", `/api/v1/apps/${siteId}`, as())).body.updateAvailable).toBeNull();
    expect(await counts()).toEqual(before);
  });

  it("{force: true} with no newer version redeploys the catalog's newest stable version this Hearth can run (2.0.0, not 3.0.0)", async () => {
    expect((await update({ force: true, version: "3.0.0" })).status).toBe(409);
    const r = await update({ force: true });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const args = (await t.db.task.findUniqueOrThrow({ where: { id: r.body.taskId } })).args as { manifest: { version: string }; fromManifest: { version: string } };
    expect(args.manifest.version).toBe("2.0.0");
    expect(args.fromManifest.version).toBe("2.0.0");
    await finish(r.body.taskId, SITE2);
  });

  it("a custom manifest: the same version or an older one is 409 unless force; force queues it", async () => {
    const before = await counts();
    for (const m of [SITE2, SITE]) {
      const r = await update({ manifest: m });
      expect(r.status, m.version).toBe(409);
      expect(r.body.error.code).toBe("bad_state");
      expect(r.body.error.message).toMatch(/force/);
    }
    expect(await counts()).toEqual(before);
    const r = await update({ manifest: SITE, force: true });
    expect(r.status).toBe(202);
    const args = (await t.db.task.findUniqueOrThrow({ where: { id: r.body.taskId } })).args as { manifest: { version: string }; fromManifest: { version: string } };
    expect([args.fromManifest.version, args.manifest.version]).toEqual(["2.0.0", "1.0.0"]);
    await finish(r.body.taskId, SITE);
  });

  it("400 for another app's id, an invalid manifest, unknown fields, or a version that drops a published TCP port", async () => {
    const before = await counts();
    const other = await update({ manifest: { ...SITE2, id: "org.example.other", version: "9.0.0" } });
    expect(other.status).toBe(400);
    expect(other.body.error).toMatchObject({ code: "invalid", message: expect.stringContaining("org.example.other") });
    const bad = await update({ manifest: { ...SITE2, version: "two" } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error.details)).toContain("version");
    expect((await update({ target: "2.0.0" })).status).toBe(400);
    const noPort = await update({ manifest: { ...SITE2, version: "3.0.0", tcpPorts: {} } });
    expect(noPort.status).toBe(400);
    expect(noPort.body.error.message).toMatch(/SYNC_PORT/);
    expect(await counts()).toEqual(before);
  });

  it("404 for an unknown app; 409 for an app in error; 400 {} for a custom-manifest app", async () => {
    expect((await admin.call("POST", `/api/v1/apps/${randomUUID()}/update`, as({ body: {} }))).status).toBe(404);
    await t.db.app.update({ where: { id: siteId }, data: { installState: "error", errorCode: "task_failed", errorMessage: "x" } });
    const r = await update({ manifest: { ...SITE2, version: "3.0.0" } });
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(/error state/);
    await t.db.app.update({ where: { id: siteId }, data: { installState: "installed", storeId: null, errorCode: null, errorMessage: null } });
    const c = await update({});
    expect(c.status).toBe(400);
    expect(c.body.error.message).toMatch(/custom manifest/);
    expect((await admin.call("GET", `/api/v1/apps/${siteId}`, as())).body.updateAvailable).toBeNull();
    // no automatic updates for it: the toggle is hidden (fromCatalog false) and PUT is 400
    expect((await admin.call("GET", `/api/v1/apps/${siteId}`, as())).body.fromCatalog).toBe(false);
    const au = await admin.call("PUT", `/api/v1/apps/${siteId}/auto-update`, as({ body: { autoUpdate: true } }));
    expect(au.status).toBe(400);
    expect(au.body.error).toMatchObject({ code: "invalid", message: expect.stringMatching(/custom manifest/) });
    expect((await t.db.app.findUniqueOrThrow({ where: { id: siteId } })).autoUpdate).toBe(false);
    // a custom app updates from a manifest
    expect((await update({ manifest: { ...SITE2, version: "3.0.0" } })).status).toBe(202);
  });
});
