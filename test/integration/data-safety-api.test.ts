import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest } from "@hearth/contracts";
import { moveAppToUninstalled, recordOrphans, type Db } from "@hearth/db";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { ownerApiToken, ownerSession } from "../helpers/admin-accounts";
import { startStandInBox, type StandInBox } from "../helpers/stand-in-box";
import { VALID_MANIFEST } from "../../packages/contracts/src/manifest.examples";

/**
 * The API of data only an admin deletes, against the real admin (next start) and MariaDB:
 * orphans (list, delete with the name typed) and uninstalled apps (list, restore with 409
 * when the subdomain is taken, delete now with the address typed), the retention setting.
 * admin records intent only: rows, states, tasks and events are checked here; box is a
 * stand-in on the socket that counts box.wakes() (test/integration/data-safety.test.ts runs the tasks).
 */

let t: TestDatabase & { db: Db };
let db: Db;
let admin: RunningAdmin;
let tmp = "";
let box: StandInBox;
let ownerCookie = "";
let readToken = "";
const DOMAIN = "api-data.example";
const as = (extra: Call = {}): Call => admin.browser(ownerCookie, extra);

async function appRow(subdomain: string): Promise<string> {
  const id = randomUUID();
  const m = hearthManifest.parse({ ...VALID_MANIFEST, id: "org.example.kept", title: "Kept" });
  await db.app.create({
    data: { id, manifestId: m.id, manifest: m as object, version: m.version, subdomain, domain: DOMAIN, installState: "installed", memoryLimit: BigInt(m.memoryLimit), env: { A: "1" } },
  });
  await db.appAddon.create({ data: { appId: id, name: "mysql", credentialsEnc: "sealed-credentials" } });
  return id;
}

beforeAll(async () => {
  t = await migratedDatabase("dsapi");
  db = t.db;
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-dsapi-"));
  const boxSocket = path.join(tmp, "box.sock");
  box = await startStandInBox(boxSocket);
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: boxSocket, HEARTH_SECRET_KEY: randomBytes(32).toString("base64") });
  ownerCookie = await ownerSession(admin);
  readToken = await ownerApiToken(db, "read", "read");
  await db.domain.create({ data: { domain: DOMAIN, provider: "noop" } });
}, 600_000);

afterAll(async () => {
  await admin?.stop();
  await box?.close();
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("orphans", () => {
  it("lists them; delete needs the name typed, queues orphan.delete, records the event and refuses a second delete", async () => {
    const appId = randomUUID();
    await recordOrphans(db, [{ kind: "volume", name: `hearth-app-${appId}-data`, appId }], ["volume"]);
    const list = await admin.call("GET", "/api/v1/orphans", as());
    expect(list.status).toBe(200);
    expect(list.body.orphans).toEqual([expect.objectContaining({ kind: "volume", name: `hearth-app-${appId}-data`, appId, state: "found", taskId: null })]);
    const id = list.body.orphans[0].id as string;

    expect((await admin.call("DELETE", `/api/v1/orphans/${id}`, { body: { confirm: `hearth-app-${appId}-data` } })).status).toBe(401);
    expect((await admin.call("DELETE", `/api/v1/orphans/${id}`, { token: readToken, body: { confirm: `hearth-app-${appId}-data` } })).status).toBe(403);
    // a cookie write without a matching Origin is refused (CSRF)
    expect((await admin.call("DELETE", `/api/v1/orphans/${id}`, { cookie: ownerCookie, body: { confirm: `hearth-app-${appId}-data` } })).status).toBe(403);
    const wrong = await admin.call("DELETE", `/api/v1/orphans/${id}`, as({ body: { confirm: "hearth-app-something-else" } }));
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({ code: "invalid", details: [expect.objectContaining({ path: ["confirm"] })] });
    expect((await admin.call("DELETE", `/api/v1/orphans/${id}`, as({ body: {} }))).status).toBe(400);
    expect((await admin.call("DELETE", `/api/v1/orphans/${randomUUID()}`, as({ body: { confirm: "x" } }))).status).toBe(404);
    expect(await db.task.count()).toBe(0);

    const before = box.wakes();
    const ok = await admin.call("DELETE", `/api/v1/orphans/${id}`, as({ body: { confirm: `hearth-app-${appId}-data` } }));
    expect(ok.status).toBe(202);
    expect(await db.task.findUniqueOrThrow({ where: { id: ok.body.taskId } })).toMatchObject({ type: "orphan.delete", args: { orphanId: id }, state: "pending" });
    expect(await db.orphan.findUniqueOrThrow({ where: { id } })).toMatchObject({ state: "deleting", taskId: ok.body.taskId });
    expect(box.wakes()).toBe(before + 1);
    expect(await db.event.count({ where: { action: "orphan.delete", target: `hearth-app-${appId}-data` } })).toBe(1);
    const again = await admin.call("DELETE", `/api/v1/orphans/${id}`, as({ body: { confirm: `hearth-app-${appId}-data` } }));
    expect(again.status).toBe(409);
    expect(await db.task.count({ where: { type: "orphan.delete" } })).toBe(1);
  });
});

describe("uninstalled apps", () => {
  let id: string;

  it("lists an uninstalled app with its address and purge date", async () => {
    id = await appRow("kept");
    await moveAppToUninstalled(db, id);
    const r = await admin.call("GET", "/api/v1/uninstalled-apps", as());
    expect(r.status).toBe(200);
    expect(r.body.apps).toEqual([expect.objectContaining({ id, title: "Kept", subdomain: "kept", domain: DOMAIN, fqdn: `kept.${DOMAIN}`, state: "kept" })]);
    const a = r.body.apps[0];
    expect(new Date(a.purgeAfter).getTime() - new Date(a.uninstalledAt).getTime()).toBe(7 * 86_400_000);
  });

  it("restore is refused with 409 while another app holds the subdomain, and nothing changes", async () => {
    const taker = await appRow("kept");
    const r = await admin.call("POST", `/api/v1/uninstalled-apps/${id}/restore`, as());
    expect(r.status).toBe(409);
    expect(r.body.error.message).toContain(`kept.${DOMAIN}`);
    expect(await db.app.findUnique({ where: { id } })).toBeNull();
    expect(await db.uninstalledApp.count({ where: { id } })).toBe(1);
    expect(await db.task.count({ where: { appId: id } })).toBe(0);
    await db.app.delete({ where: { id: taker } });
  });

  it("restore puts the row back as it was (pending_restore, same config and addon rows) and queues app.restore", async () => {
    const r = await admin.call("POST", `/api/v1/uninstalled-apps/${id}/restore`, as());
    expect(r.status).toBe(202);
    const app = await db.app.findUniqueOrThrow({ where: { id }, include: { addons: true } });
    expect(app).toMatchObject({ installState: "pending_restore", subdomain: "kept", env: { A: "1" } });
    expect(app.addons).toEqual([expect.objectContaining({ name: "mysql", credentialsEnc: "sealed-credentials" })]);
    expect(await db.uninstalledApp.count({ where: { id } })).toBe(0);
    expect(await db.task.findUniqueOrThrow({ where: { id: r.body.taskId } })).toMatchObject({ type: "app.restore", appId: id });
    expect(await db.event.count({ where: { action: "app.restore", target: id } })).toBe(1);
    expect((await admin.call("POST", `/api/v1/uninstalled-apps/${id}/restore`, as())).status).toBe(404);
  });

  it("delete now needs the address typed and queues app.purge", async () => {
    await db.task.deleteMany({ where: { appId: id } });
    await moveAppToUninstalled(db, id);
    const wrong = await admin.call("DELETE", `/api/v1/uninstalled-apps/${id}`, as({ body: { confirm: "Kept" } }));
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.details).toEqual([expect.objectContaining({ path: ["confirm"] })]);
    expect((await db.uninstalledApp.findUniqueOrThrow({ where: { id } })).state).toBe("kept");
    const ok = await admin.call("DELETE", `/api/v1/uninstalled-apps/${id}`, as({ body: { confirm: `kept.${DOMAIN}` } }));
    expect(ok.status).toBe(202);
    expect(await db.task.findUniqueOrThrow({ where: { id: ok.body.taskId } })).toMatchObject({ type: "app.purge", appId: id });
    expect((await db.uninstalledApp.findUniqueOrThrow({ where: { id } })).state).toBe("purging");
    expect(await db.event.count({ where: { action: "app.purge", target: id } })).toBe(1);
    // being deleted: no restore, no second purge while its task is pending
    expect((await admin.call("POST", `/api/v1/uninstalled-apps/${id}/restore`, as())).status).toBe(409);
    expect((await admin.call("DELETE", `/api/v1/uninstalled-apps/${id}`, as({ body: { confirm: `kept.${DOMAIN}` } }))).status).toBe(409);
  });

  it("the retention setting: GET default 7, PUT changes it for later uninstalls, bad values 400", async () => {
    expect((await admin.call("GET", "/api/v1/settings/apps", as())).body).toEqual({ uninstallRetentionDays: 7 });
    expect((await admin.call("PUT", "/api/v1/settings/apps", as({ body: { uninstallRetentionDays: -1 } }))).status).toBe(400);
    expect((await admin.call("PUT", "/api/v1/settings/apps", as({ body: { uninstallRetentionDays: 2.5 } }))).status).toBe(400);
    const ok = await admin.call("PUT", "/api/v1/settings/apps", as({ body: { uninstallRetentionDays: 30 } }));
    expect(ok.status).toBe(200);
    const other = await appRow("later");
    const u = (await moveAppToUninstalled(db, other))!;
    expect(u.purgeAfter.getTime() - u.uninstalledAt.getTime()).toBe(30 * 86_400_000);
  });
});
