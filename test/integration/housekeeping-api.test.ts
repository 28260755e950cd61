import { randomBytes } from "node:crypto";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RETENTION_SETTINGS_KEY } from "@hearth/contracts";
import { getSetting, type Db } from "@hearth/db";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { ownerApiToken, ownerSession } from "../helpers/admin-accounts";
import { steadyGoto } from "../helpers/chromium";

/**
 * GET/PUT /api/v1/settings/retention against the real admin (next start) and MariaDB: the
 * defaults, a partial update merged into the stored setting (which box's daily purge reads,
 * test/integration/housekeeping.test.ts), bad values refused with nothing changed, the event,
 * a read-only token refused; the Settings page's Housekeeping card in Debian's Chromium.
 */

let t: TestDatabase & { db: Db };
let db: Db;
let admin: RunningAdmin;
let ownerCookie = "";
let readToken = "";
const as = (extra: Call = {}): Call => admin.browser(ownerCookie, extra);

beforeAll(async () => {
  t = await migratedDatabase("hkapi");
  db = t.db;
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: "/nonexistent/box.sock", HEARTH_SECRET_KEY: randomBytes(32).toString("base64") });
  ownerCookie = await ownerSession(admin);
  readToken = await ownerApiToken(db, "read", "read");
}, 600_000);

afterAll(async () => {
  await admin?.stop();
  await t?.drop();
});

describe("GET/PUT /api/v1/settings/retention", () => {
  it("gives the defaults, merges a partial PUT, refuses bad values and keeps the setting as it was", async () => {
    expect((await admin.call("GET", "/api/v1/settings/retention", as())).body).toEqual({ eventDays: 90, taskDays: 30, keepTasksPerApp: 50 });
    const ok = await admin.call("PUT", "/api/v1/settings/retention", as({ body: { taskDays: 7 } }));
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ eventDays: 90, taskDays: 7, keepTasksPerApp: 50 });
    expect(await getSetting(db, RETENTION_SETTINGS_KEY)).toEqual({ eventDays: 90, taskDays: 7, keepTasksPerApp: 50 });
    const ev = await db.event.findFirst({ where: { action: "settings.retention" } });
    expect(ev?.data).toEqual({ eventDays: 90, taskDays: 7, keepTasksPerApp: 50 });

    for (const body of [{}, { eventDays: 0 }, { eventDays: 29 }, { taskDays: 1.5 }, { keepTasksPerApp: -1 }, { taskDays: 4000 }, { eventDays: "30" }, { other: 1 }]) {
      const bad = await admin.call("PUT", "/api/v1/settings/retention", as({ body }));
      expect(bad.status, JSON.stringify(body)).toBe(400);
      expect((bad.body as { error: { code: string } }).error.code).toBe("invalid");
    }
    expect((await admin.call("GET", "/api/v1/settings/retention", as())).body).toEqual({ eventDays: 90, taskDays: 7, keepTasksPerApp: 50 });
    expect((await admin.call("PUT", "/api/v1/settings/retention", { token: readToken, body: { taskDays: 1 } })).status).toBe(403);
    expect((await admin.call("GET", "/api/v1/settings/retention", {})).status).toBe(401);
  });
});

describe("the Settings page's Housekeeping card", () => {
  it("shows the setting, saves a change, and names the field of a bad value", async () => {
    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
    try {
      const ctx = await browser.newContext();
      await ctx.addCookies([{ name: ownerCookie.split("=")[0]!, value: ownerCookie.slice(ownerCookie.indexOf("=") + 1), url: admin.base }]);
      const page = await ctx.newPage();
      await steadyGoto(page, `${admin.base}/settings`);
      const card = page.locator("section", { has: page.getByRole("heading", { name: "Housekeeping" }) });
      const events = card.getByLabel("Keep events for (days)");
      await expect.poll(() => events.inputValue(), { timeout: 30_000 }).toBe("90");
      expect(await card.getByLabel("Keep finished tasks and their logs for (days)").inputValue()).toBe("7");
      await events.fill("120");
      await card.getByRole("button", { name: "Save" }).click();
      await card.getByRole("status").filter({ hasText: "Saved" }).waitFor({ timeout: 30_000 });
      expect(await getSetting(db, RETENTION_SETTINGS_KEY)).toEqual({ eventDays: 120, taskDays: 7, keepTasksPerApp: 50 });
      await card.getByLabel("Always keep the newest tasks of each app").fill("lots");
      await card.getByRole("button", { name: "Save" }).click();
      await card.locator("#retention-keep-error").waitFor({ timeout: 30_000 });
      expect(await getSetting(db, RETENTION_SETTINGS_KEY)).toEqual({ eventDays: 120, taskDays: 7, keepTasksPerApp: 50 });
    } finally {
      await browser.close();
    }
  }, 120_000);
});
