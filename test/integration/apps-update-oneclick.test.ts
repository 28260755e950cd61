import { randomBytes } from "node:crypto";
import { execFileSync, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getTask, type Db } from "@hearth/db";
import { BACKUP_COMPLETE_FILE } from "../../apps/box/src/apps/apps.service";
import { AutoUpdateSchedule } from "../../apps/box/src/apps/auto-update-schedule";
import { containerNameOf } from "../../apps/box/src/apps/container-spec";
import { startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { ownerSession } from "../helpers/admin-accounts";
import { steadyGoto } from "../helpers/chromium";
import { killBox, startTestBox, waitFor } from "../helpers/box-process";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";
import { removeTestDockerObjects } from "../helpers/teardown";
import { ensureTestImages, testHttpdManifest } from "../helpers/test-images";

/**
 * One-click update end to end: the built admin (`next start`) and a real box (localstorage
 * only) on the real Docker engine and MariaDB. An app installed from the catalog at 1.0.0
 * shows updateAvailable 1.1.0 (the newest stable: a 2.0.0-rc.1 is not offered) with the
 * changelogs since 1.0.0 in GET /api/v1/apps and GET /api/v1/apps/:id; POST …/update {} runs
 * the backup-first update and the app ends on 1.1.0 (row, container, backup), offered nothing.
 * Automatic patch updates: turned on through PUT …/auto-update, box's nightly run (called
 * here instead of waiting for 03:07) queues 1.1.1 (not 1.2.0) and the running box installs it.
 */
const RUN = randomBytes(4).toString("hex");
const ID = `org.hearth.test.oneclick${RUN}`;
const tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-update-oneclick-"));
const catalog = path.join(tmp, "catalog");
const dataDir = path.join(tmp, "box-data");
let t: TestDatabase & { db: Db };
let admin: RunningAdmin;
let box: ChildProcess | null = null;
let cookie = "";
let appId = "";
const appIds: string[] = [];
const as = (extra: Call = {}): Call => admin.browser(cookie, extra);

function writePackage(folder: string, version: string, changelog: string) {
  mkdirSync(path.join(catalog, folder), { recursive: true });
  writeFileSync(path.join(catalog, folder, "HearthManifest.json"), JSON.stringify(testHttpdManifest(ID, "One click", { version, changelog })));
}
const finished = (id: string) =>
  waitFor(
    `task ${id} to finish`,
    async () => {
      const tk = await getTask(t.db, id);
      return tk && (tk.state === "succeeded" || tk.state === "failed") ? tk : null;
    },
    120_000,
  );

beforeAll(async () => {
  ensureTestImages();
  // the pre-update backup runs in Hearth's base image (built locally, cached)
  const r = spawnSync(path.join(REPO_ROOT, "setup/images/base/build.sh"), [], { encoding: "utf8", timeout: 900_000 });
  if (r.status !== 0) throw new Error(`base image: ${r.stdout}${r.stderr}`);
  writePackage("oneclick-1.0.0", "1.0.0", "First release.");
  writePackage("oneclick-1.0.1", "1.0.1", "- Fixes the <b>login</b> page\n- Faster");
  writePackage("oneclick-1.1.0", "1.1.0", "Adds dark mode.");
  writePackage("oneclick-2.0.0-rc.1", "2.0.0-rc.1", "Release candidate: not offered.");
  mkdirSync(dataDir, { recursive: true });
  t = await migratedDatabase("updoneclick");
  const b = startTestBox({ databaseUrl: t.url, dataDir, boxId: `oneclick-${RUN}`, env: { HEARTH_CATALOG_DIRS: catalog } });
  box = b.child;
  await b.ready;
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: path.join(dataDir, "box.sock"), HEARTH_CATALOG_DIRS: catalog, HEARTH_SECRET_KEY: randomBytes(32).toString("base64") });
  cookie = await ownerSession(admin);
  const d = await admin.call("POST", "/api/v1/domains", as({ body: { domain: "oneclick.example", provider: "noop" } }));
  expect(d.status, JSON.stringify(d.body)).toBe(201);
}, 900_000);

afterAll(async () => {
  await admin?.stop();
  if (box) await killBox(box);
  await removeTestDockerObjects({ appIds, dataDir: tmp, database: t });
}, 120_000);

describe("one-click update through the API, on real Docker", () => {
  it("an app installed at 1.0.0 is offered 1.1.0 (not the pre-release) with the changelogs since 1.0.0, in the list and on its page", async () => {
    const inst = await admin.call("POST", "/api/v1/apps", as({ body: { storeId: ID, version: "1.0.0", subdomain: `oc${RUN}`, domain: "oneclick.example" } }));
    expect(inst.status, JSON.stringify(inst.body)).toBe(202);
    appId = inst.body.id;
    appIds.push(appId);
    const done = await finished(inst.body.taskId);
    expect(done.state, `${done.errorCode}: ${done.errorMessage}`).toBe("succeeded");

    const want = {
      version: "1.1.0",
      addons: { added: [], removed: [], kept: ["localstorage"] },
      changelog: [
        { version: "1.1.0", text: "Adds dark mode." },
        { version: "1.0.1", text: "- Fixes the <b>login</b> page\n- Faster" },
      ],
    };
    const list = await admin.call("GET", "/api/v1/apps", as());
    expect(list.status).toBe(200);
    const row = list.body.apps.find((a: { id: string }) => a.id === appId);
    expect(row).toMatchObject({ version: "1.0.0", installState: "installed" });
    // the polled list carries only {version, addons}; the changelogs are on the app's page
    expect(row.updateAvailable).toEqual({ version: want.version, addons: want.addons });
    expect((await admin.call("GET", `/api/v1/apps/${appId}`, as())).body.updateAvailable).toEqual(want);
  }, 180_000);

  it("Chromium: the Apps grid shows the Update available badge; the app page shows the version, the changelogs as text and the Update button", async () => {
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const ctx = await browser.newContext();
      await ctx.addCookies([{ name: cookie.split("=")[0]!, value: cookie.slice(cookie.indexOf("=") + 1), url: admin.base }]);
      const page = await ctx.newPage();
      await steadyGoto(page, `${admin.base}/apps`);
      const badge = page.getByText("Update available", { exact: true });
      await badge.first().waitFor({ timeout: 30_000 });
      expect(await badge.count()).toBe(1);
      expect(await badge.first().getAttribute("title")).toBe("Version 1.1.0 is available (installed: 1.0.0)");
      await steadyGoto(page, `${admin.base}/apps/${appId}/updates`);
      const card = page.locator("section", { has: page.getByRole("heading", { name: "Update", exact: true }) });
      await card.getByRole("button", { name: "Update to 1.1.0" }).waitFor({ timeout: 30_000 });
      expect(await card.getByText("Adds dark mode.").count()).toBe(1);
      expect(await card.getByRole("heading", { name: "What is new in 1.0.1" }).count()).toBe(1);
      // the manifest's "<b>" is text, never markup
      expect(await card.locator("b").count()).toBe(0);
      expect(await card.innerText()).toContain("Fixes the <b>login</b> page");
      expect(await card.innerText()).not.toContain("Release candidate");
      // the raw-manifest update is behind the Advanced disclosure, closed
      expect(await card.locator("details:not([open]) summary", { hasText: "Advanced: update from a manifest" }).count()).toBe(1);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it("POST …/update {version: 1.1.0} (the confirmed one; another is 409) backs up, updates to 1.1.0 in a new container, and then nothing is offered", async () => {
    const before = execFileSync("docker", ["inspect", "-f", "{{.Id}}", containerNameOf(appId)], { encoding: "utf8" }).trim();
    // the dialog confirmed 1.1.0; a catalog that offers another version by now is 409, nothing queued
    const stale = await admin.call("POST", `/api/v1/apps/${appId}/update`, as({ body: { version: "1.0.1" } }));
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe("conflict");
    expect((await admin.call("GET", `/api/v1/apps/${appId}`, as())).body.installState).toBe("installed");
    const r = await admin.call("POST", `/api/v1/apps/${appId}/update`, as({ body: { version: "1.1.0" } }));
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const task = await getTask(t.db, r.body.taskId);
    expect(task).toMatchObject({ type: "app.update" });
    expect((task!.args as { manifest: { version: string } }).manifest.version).toBe("1.1.0");
    const done = await finished(r.body.taskId);
    expect(done.state, `${done.errorCode}: ${done.errorMessage}`).toBe("succeeded");

    const view = (await admin.call("GET", `/api/v1/apps/${appId}`, as())).body;
    expect(view).toMatchObject({ version: "1.1.0", installState: "installed", runState: "running", updateAvailable: null });
    const list = (await admin.call("GET", "/api/v1/apps", as())).body.apps.find((a: { id: string }) => a.id === appId);
    expect(list).toMatchObject({ version: "1.1.0", updateAvailable: null });
    const after = execFileSync("docker", ["inspect", "-f", "{{.Id}} {{.State.Running}}", containerNameOf(appId)], { encoding: "utf8" })
      .trim()
      .split(" ");
    expect(after[0]).not.toBe(before);
    expect(after[1]).toBe("true");
    expect(existsSync(path.join(dataDir, "backups", "apps", appId, `pre-update-${r.body.taskId}`, BACKUP_COMPLETE_FILE))).toBe(true);
    const again = await admin.call("POST", `/api/v1/apps/${appId}/update`, as({ body: {} }));
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/no stable version .* newer than 1\.1\.0 \(its newest is 2\.0\.0-rc\.1\)/);
  }, 240_000);

  it("automatic patch updates: PUT …/auto-update turns them on; the nightly run queues the newest 1.1.x (not 1.2.0), box installs it, event by box", async () => {
    expect((await admin.call("PUT", `/api/v1/apps/${appId}/auto-update`, as({ body: { autoUpdate: "yes" } }))).status).toBe(400);
    expect((await admin.call("PUT", "/api/v1/apps/no-such-app/auto-update", as({ body: { autoUpdate: true } }))).status).toBe(404);
    const on = await admin.call("PUT", `/api/v1/apps/${appId}/auto-update`, as({ body: { autoUpdate: true } }));
    expect(on.status, JSON.stringify(on.body)).toBe(200);
    expect((await admin.call("GET", `/api/v1/apps/${appId}`, as())).body.autoUpdate).toBe(true);
    expect((await admin.call("GET", "/api/v1/apps", as())).body.apps.find((a: { id: string }) => a.id === appId).autoUpdate).toBe(true);
    expect(await t.db.event.count({ where: { action: "app.autoupdate", target: appId } })).toBe(1);

    const lines: string[] = [];
    const log = { info: (_o: object, m?: string) => void lines.push(`info ${m}`), warn: (o: object, m?: string) => void lines.push(`warn ${m} ${JSON.stringify(o)}`) };
    let woken = 0;
    const nightly = new AutoUpdateSchedule({ db: t.db, catalogDirs: [catalog], wake: () => void woken++, log });
    // nothing newer of 1.1.x yet: a minor (1.2.0) is never installed automatically
    writePackage("oneclick-1.2.0", "1.2.0", "A minor release.");
    expect(await nightly.run()).toEqual([]);
    writePackage("oneclick-1.1.1", "1.1.1", "A patch.");
    writePackage("oneclick-1.1.2-rc.1", "1.1.2-rc.1", "Not installed.");
    const queued = await nightly.run();
    expect(queued).toEqual([{ appId, taskId: expect.any(String), from: "1.1.0", to: "1.1.1" }]);
    expect(woken).toBe(1);
    const done = await finished(queued[0]!.taskId);
    expect(done.state, `${done.errorCode}: ${done.errorMessage}`).toBe("succeeded");
    expect((await admin.call("GET", `/api/v1/apps/${appId}`, as())).body).toMatchObject({ version: "1.1.1", installState: "installed", autoUpdate: true, updateAvailable: { version: "1.2.0" } });
    const ev = await t.db.event.findFirst({ where: { action: "app.update", target: appId, actorName: "box" } });
    expect(ev?.data).toMatchObject({ taskId: queued[0]!.taskId, from: "1.1.0", to: "1.1.1", automatic: true });
    expect(existsSync(path.join(dataDir, "backups", "apps", appId, `pre-update-${queued[0]!.taskId}`, BACKUP_COMPLETE_FILE))).toBe(true);

    // turned off: a newer patch is left alone
    expect((await admin.call("PUT", `/api/v1/apps/${appId}/auto-update`, as({ body: { autoUpdate: false } }))).status).toBe(200);
    writePackage("oneclick-1.1.3", "1.1.3", "Another patch.");
    expect(await nightly.run()).toEqual([]);
    expect(lines.filter((l) => l.startsWith("warn"))).toEqual([]);
  }, 240_000);
});
