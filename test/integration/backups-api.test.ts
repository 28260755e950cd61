import { randomBytes, randomUUID } from "node:crypto";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest } from "@hearth/contracts";
import { openSecret, type Db } from "@hearth/db";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { ownerApiToken, ownerSession } from "../helpers/admin-accounts";
import { insertPendingApp } from "../helpers/app-rows";
import { steadyGoto } from "../helpers/chromium";

/**
 * The backups API against the real admin (next start) and MariaDB: the site config (the
 * passphrase sealed with HEARTH_SECRET_KEY and never returned, required the first time and for
 * a new site; SFTP/S3 refused as not supported yet; bad paths refused with nothing stored), the
 * intent rows admin records (a Backup row `creating` + its backup.app task; backup.test;
 * restore only of a good backup of this app), a busy app refused, a read-only token refused.
 * box's side (restic) is test/integration/backups.test.ts.
 */

let t: TestDatabase & { db: Db };
let db: Db;
let admin: RunningAdmin;
let ownerCookie = "";
let readToken = "";
const secretKey = randomBytes(32);
const as = (extra: Call = {}): Call => admin.browser(ownerCookie, extra);
const DOMAIN = "backups-api.example";
const PASSPHRASE = "correct horse battery staple";
let appId = "";
type Err = { error: { code: string; message: string; details?: { path: (string | number)[] }[] } };
const fieldsOf = (b: unknown) => ((b as Err).error.details ?? []).map((i) => i.path.join("."));

beforeAll(async () => {
  t = await migratedDatabase("bkapi");
  db = t.db;
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: "/nonexistent/box.sock", HEARTH_SECRET_KEY: secretKey.toString("base64") });
  ownerCookie = await ownerSession(admin);
  readToken = await ownerApiToken(db, "read", "read");
  await db.domain.create({ data: { domain: DOMAIN, provider: "noop" } });
  appId = randomUUID();
  const m = hearthManifest.parse({
    manifestVersion: 1,
    id: "org.hearth.test.bkapi",
    title: "Bk",
    version: "1.2.3",
    dockerImage: "localhost/x:1",
    httpPort: 80,
    healthCheckPath: "/",
    memoryLimit: 64 * 1024 * 1024,
  });
  await insertPendingApp(db, m, { id: appId, subdomain: "bk", domain: DOMAIN });
  await db.app.update({ where: { id: appId }, data: { installState: "installed" } });
}, 600_000);

afterAll(async () => {
  await admin?.stop();
  await t?.drop();
});

describe("the backups API", () => {
  it("refuses a backup before a site is set up", async () => {
    const r = await admin.call("POST", `/api/v1/apps/${appId}/backup`, as());
    expect(r.status).toBe(409);
    expect((r.body as Err).error.message).toMatch(/not set up/);
    expect((await admin.call("GET", "/api/v1/backups/config", as())).body).toEqual({ configured: false });
  });

  it("PUT config: refuses what it cannot use, stores the passphrase sealed and never returns it", async () => {
    const bad: [unknown, string][] = [
      [{ site: { type: "filesystem", path: "/mnt/b" } }, "passphrase"],
      [{ site: { type: "filesystem", path: "relative/dir" }, passphrase: PASSPHRASE }, "site.path"],
      [{ site: { type: "filesystem", path: "/mnt/../etc" }, passphrase: PASSPHRASE }, "site.path"],
      [{ site: { type: "filesystem", path: "/mnt/b" }, passphrase: "short" }, "passphrase"],
      [{ site: { type: "sftp", host: "b.example", user: "u", path: "/b", password: "x" }, passphrase: PASSPHRASE }, "site.type"],
      [{ site: { type: "s3", endpoint: "https://s3.example", bucket: "bkt", accessKeyId: "a", secretAccessKey: "s" }, passphrase: PASSPHRASE }, "site.type"],
      [{ site: { type: "filesystem", path: "/mnt/b" }, passphrase: PASSPHRASE, schedule: "25:00" }, "schedule"],
    ];
    for (const [body, field] of bad) {
      const r = await admin.call("PUT", "/api/v1/backups/config", as({ body }));
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect((r.body as Err).error.code).toBe("invalid");
      expect(fieldsOf(r.body), JSON.stringify(body)).toContain(field);
    }
    expect(await db.backupConfig.count()).toBe(0);
    const sftp = await admin.call("PUT", "/api/v1/backups/config", as({ body: bad[4]![0] }));
    expect((sftp.body as Err).error.message).toMatch(/not supported yet/);

    const ok = await admin.call("PUT", "/api/v1/backups/config", as({ body: { site: { type: "filesystem", path: "/mnt/backup/hearth/" }, passphrase: PASSPHRASE } }));
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({
      configured: true,
      site: { type: "filesystem", path: "/mnt/backup/hearth" },
      hasPassphrase: true,
      schedule: "02:30",
      retention: { daily: 7, weekly: 4, monthly: 6 },
    });
    expect(JSON.stringify(ok.body)).not.toContain(PASSPHRASE);
    const row = await db.backupConfig.findUniqueOrThrow({ where: { id: "default" } });
    expect(row.passphraseEnc).not.toContain(PASSPHRASE);
    expect(openSecret(secretKey, row.passphraseEnc)).toBe(PASSPHRASE);
    expect(JSON.stringify((await admin.call("GET", "/api/v1/backups/config", as())).body)).not.toContain(PASSPHRASE);
    // same site: the passphrase may be left out (kept); a new site needs it again
    const keep = await admin.call("PUT", "/api/v1/backups/config", as({ body: { site: { type: "filesystem", path: "/mnt/backup/hearth" }, schedule: "03:15" } }));
    expect(keep.status).toBe(200);
    expect(openSecret(secretKey, (await db.backupConfig.findUniqueOrThrow({ where: { id: "default" } })).passphraseEnc)).toBe(PASSPHRASE);
    // same site, the same passphrase again: fine; a different one: refused at the field, the stored one kept
    const again = await admin.call("PUT", "/api/v1/backups/config", as({ body: { site: { type: "filesystem", path: "/mnt/backup/hearth" }, passphrase: PASSPHRASE } }));
    expect(again.status).toBe(200);
    const swap = await admin.call("PUT", "/api/v1/backups/config", as({ body: { site: { type: "filesystem", path: "/mnt/backup/hearth" }, passphrase: `${PASSPHRASE}-other` } }));
    expect(swap.status).toBe(400);
    expect(fieldsOf(swap.body)).toEqual(["passphrase"]);
    expect((swap.body as Err).error.message).toMatch(/not supported yet/);
    expect(openSecret(secretKey, (await db.backupConfig.findUniqueOrThrow({ where: { id: "default" } })).passphraseEnc)).toBe(PASSPHRASE);
    const moved = await admin.call("PUT", "/api/v1/backups/config", as({ body: { site: { type: "filesystem", path: "/mnt/other" } } }));
    expect(moved.status).toBe(400);
    expect(fieldsOf(moved.body)).toEqual(["passphrase"]);
    expect(((await db.backupConfig.findUniqueOrThrow({ where: { id: "default" } })).site as { path: string }).path).toBe("/mnt/backup/hearth");
    const ev = await db.event.findFirst({ where: { action: "backup.config" }, orderBy: { createdAt: "desc" } });
    expect(JSON.stringify(ev?.data)).not.toContain(PASSPHRASE);
    expect((await admin.call("PUT", "/api/v1/backups/config", { token: readToken, body: { site: { type: "filesystem", path: "/x/y" }, passphrase: PASSPHRASE } })).status).toBe(403);
    expect((await admin.call("GET", "/api/v1/backups/config", {})).status).toBe(401);
  });

  it("POST config/test queues backup.test", async () => {
    const r = await admin.call("POST", "/api/v1/backups/config/test", as());
    expect(r.status).toBe(202);
    const task = await db.task.findUniqueOrThrow({ where: { id: (r.body as { taskId: string }).taskId } });
    expect(task).toMatchObject({ type: "backup.test", state: "pending", maxAttempts: 1 });
    await db.task.update({ where: { id: task.id }, data: { state: "succeeded" } });
  });

  it("POST /apps/:id/backup records a creating Backup row and its task; the app busy meanwhile; lists show it", async () => {
    const r = await admin.call("POST", `/api/v1/apps/${appId}/backup`, as());
    expect(r.status).toBe(202);
    const { taskId, backupId } = r.body as { taskId: string; backupId: string };
    expect(await db.backup.findUniqueOrThrow({ where: { id: backupId } })).toMatchObject({ appId, state: "creating", version: "1.2.3", site: "filesystem:/mnt/backup/hearth", taskId });
    expect(await db.task.findUniqueOrThrow({ where: { id: taskId } })).toMatchObject({ type: "backup.app", appId, args: { appId, backupId } });
    const again = await admin.call("POST", `/api/v1/apps/${appId}/backup`, as());
    expect(again.status).toBe(409);
    expect((again.body as Err).error.message).toMatch(/busy/);
    const list = (await admin.call("GET", `/api/v1/apps/${appId}/backups`, as())).body as { backups: { id: string; state: string; appTitle: string }[] };
    expect(list.backups).toEqual([expect.objectContaining({ id: backupId, state: "creating", appTitle: expect.stringContaining("bk.backups-api.example") })]);
    expect(((await admin.call("GET", "/api/v1/backups", as())).body as { backups: unknown[] }).backups).toHaveLength(1);
    expect((await admin.call("POST", "/api/v1/apps/no-such-app/backup", as())).status).toBe(404);

    // a task that ended without finishing the row (e.g. interrupted too often): the list says failed, never good
    await db.task.update({ where: { id: taskId }, data: { state: "failed", errorMessage: "interrupted 3 times" } });
    const ended = (await admin.call("GET", `/api/v1/apps/${appId}/backups`, as())).body as { backups: { state: string; reason: string }[] };
    expect(ended.backups[0]).toMatchObject({ state: "failed", reason: expect.stringMatching(/ended \(failed\) without finishing the backup: interrupted 3 times/) });
    // restore: only a good backup of this app
    const notGood = await admin.call("POST", `/api/v1/apps/${appId}/restore`, as({ body: { backupId } }));
    expect(notGood.status).toBe(409);
    expect((notGood.body as Err).error.message).toMatch(/creating, not good/);
    expect((await admin.call("POST", `/api/v1/apps/${appId}/restore`, as({ body: { backupId: randomUUID() } }))).status).toBe(404);
    expect((await admin.call("POST", `/api/v1/apps/${appId}/restore`, as({ body: { backupId: "x" } }))).status).toBe(400);
    await db.backup.update({ where: { id: backupId }, data: { state: "good", snapshotId: "a".repeat(64) } });
    const ok = await admin.call("POST", `/api/v1/apps/${appId}/restore`, as({ body: { backupId } }));
    expect(ok.status).toBe(202);
    expect(await db.task.findUniqueOrThrow({ where: { id: (ok.body as { taskId: string }).taskId } })).toMatchObject({ type: "backup.restore", appId, args: { appId, backupId } });
    expect((await admin.call("POST", `/api/v1/apps/${appId}/restore`, { token: readToken, body: { backupId } })).status).toBe(403);
  });
});

describe("the Backups page", () => {
  it("saves a new site with its passphrase, backs an app up (a task and a row), restores a good backup after a confirmation", async () => {
    await db.task.updateMany({ where: { appId, state: { in: ["pending", "running"] } }, data: { state: "succeeded" } });
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const ctx = await browser.newContext();
      await ctx.addCookies([{ name: ownerCookie.split("=")[0]!, value: ownerCookie.slice(ownerCookie.indexOf("=") + 1), url: admin.base }]);
      const page = await ctx.newPage();
      await steadyGoto(page, `${admin.base}/backups`);
      const site = page.locator("section", { has: page.getByRole("heading", { name: "Backup site" }) });
      const folder = site.getByLabel("Folder");
      await expect.poll(() => folder.inputValue(), { timeout: 30_000 }).toBe("/mnt/backup/hearth");
      // a new folder without the passphrase: the field says why, nothing stored
      await folder.fill("/mnt/ui-backup");
      await site.getByRole("button", { name: "Save" }).click();
      await site.getByText("A new site needs the passphrase again").first().waitFor({ timeout: 30_000 });
      expect(((await db.backupConfig.findUniqueOrThrow({ where: { id: "default" } })).site as { path: string }).path).toBe("/mnt/backup/hearth");
      await site.getByLabel("Passphrase").fill("another long passphrase");
      await site.getByRole("button", { name: "Save" }).click();
      await site.getByRole("status").filter({ hasText: "Saved" }).waitFor({ timeout: 30_000 });
      const row = await db.backupConfig.findUniqueOrThrow({ where: { id: "default" } });
      expect((row.site as { path: string }).path).toBe("/mnt/ui-backup");
      expect(openSecret(secretKey, row.passphraseEnc)).toBe("another long passphrase");

      const card = page.locator("section", { has: page.getByRole("heading", { name: "App backups" }) });
      await card.getByRole("button", { name: "Back up Bk now" }).click();
      await card.getByText("Backing up").first().waitFor({ timeout: 30_000 });
      const made = await db.backup.findFirstOrThrow({ where: { appId, site: "filesystem:/mnt/ui-backup" } });
      expect(made.state).toBe("creating");
      // box would read it back and mark it good; the list follows
      await db.task.updateMany({ where: { appId, state: { in: ["pending", "running"] } }, data: { state: "succeeded" } });
      await db.backup.update({ where: { id: made.id }, data: { state: "good", snapshotId: "b".repeat(64), sizeBytes: BigInt(3 * 1048576), fileCount: 4 } });
      const restore = card.getByRole("button", { name: /^Restore Bk/ }).first(); // newest first: the one just made
      await restore.waitFor({ timeout: 30_000 });
      await card.getByRole("cell", { name: "3.0 MiB" }).waitFor();
      // a good backup of another version offers no restore, and says why
      const old = await db.backup.create({
        data: {
          id: randomUUID(),
          type: "app",
          appId,
          manifestId: made.manifestId,
          version: "0.0.1-old",
          state: "good",
          site: made.site,
          snapshotId: "c".repeat(64),
          sizeBytes: BigInt(1048576),
          fileCount: 2,
        },
      });
      await card.getByText("Made by version 0.0.1-old").first().waitFor({ timeout: 30_000 });
      await db.backup.delete({ where: { id: old.id } });
      await restore.click();
      const dialog = page.getByRole("dialog", { name: "Restore this backup?" });
      await dialog.getByText("The backup is read and checked first").waitFor();
      await dialog.getByRole("button", { name: "Restore" }).click();
      await expect.poll(() => db.task.count({ where: { appId, type: "backup.restore", args: { equals: { appId, backupId: made.id } } } }), { timeout: 30_000 }).toBe(1);
    } finally {
      await browser.close();
    }
  }, 180_000);
});
