import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACME_SETTINGS_KEY } from "@hearth/contracts";
import { listAcmeCertificates, setSetting, type Db } from "@hearth/db";
import { CertificateManager } from "../../apps/box/src/domains/certificate-manager";
import type { OpenDomain } from "../../apps/box/src/domains/domain-access";
import { NotificationSweep } from "../../apps/box/src/notifications/schedule";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";
import { startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { ownerSession } from "../helpers/admin-accounts";
import { startStandInBox, type StandInBox } from "../helpers/stand-in-box";
import { steadyGoto } from "../helpers/chromium";

/**
 * The notification centre end to end: box's certificate manager fails to order certificates
 * for 20 names of an offline domain (the ACME directory's name does not resolve: the real
 * `getaddrinfo ENOTFOUND` path), the dashboard (built admin in Debian's Chromium) shows ONE
 * grouped notification with the count in the bell and the 20 names inside in plain words,
 * pointing to the domain's certificate setting; removing the names (box's removal path and
 * its sweep) closes it. Screenshots of the bell panel and the page go to test-results/.
 */
let t: TestDatabase & { db: Db };
let admin: RunningAdmin;
let box: StandInBox;
let browser: Browser;
let page: Page;
let tmp = "";
let ownerCookie = "";
let certs: CertificateManager;
const DOMAIN = "notify-lab.example";
const NAMES = Array.from({ length: 20 }, (_, i) => `app${String(i + 1).padStart(2, "0")}.${DOMAIN}`);
const as = (extra: Call = {}): Call => admin.browser(ownerCookie, extra);
const shot = async (name: string, fullPage = false) => {
  mkdirSync(path.join(REPO_ROOT, "test-results"), { recursive: true });
  await page.screenshot({ path: path.join(REPO_ROOT, "test-results", `notifications-${name}.png`), fullPage });
};
const silent = { info: () => {}, warn: () => {} };

beforeAll(async () => {
  t = await migratedDatabase("notify");
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-notify-"));
  const boxSocket = path.join(tmp, "box.sock");
  box = await startStandInBox(boxSocket, {
    handle(req, res) {
      if (req.url !== "/health") return false;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, version: "0.1.0", boxId: "stand-in", uptimeSeconds: 1, runningTasks: 0 }));
      return true;
    },
  });
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: boxSocket });
  ownerCookie = await ownerSession(admin);
  expect((await admin.call("POST", "/api/v1/domains", as({ body: { domain: DOMAIN, provider: "manual" } }))).status).toBe(201);
  // an offline lab: the CA's directory cannot be resolved (.invalid never resolves)
  await setSetting(t.db, ACME_SETTINGS_KEY, { directoryUrl: "https://acme-directory.invalid/directory" });
  certs = new CertificateManager({ db: t.db, locks: null, certDir: path.join(tmp, "certs"), acmeChallengeDir: path.join(tmp, "acme"), log: silent, engineOptions: { requestTimeoutMs: 5_000 } });
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const [name, value] = ownerCookie.split("=") as [string, string];
  await context.addCookies([{ name, value, url: admin.base }]);
  page = await context.newPage();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await admin?.stop();
  await box?.close();
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const domain: OpenDomain = { domain: DOMAIN, provider: "manual", tlsMode: "letsencrypt", isDashboardDomain: false, dns: null, custom: null };
const openGroups = () => t.db.notification.findMany({ where: { dismissedAt: null }, include: { items: { where: { closedAt: null } } } });

describe("notification centre", () => {
  it("20 failing names are ONE notification with 20 items, in the admin's words, pointing to the domain's certificate setting", async () => {
    const r = await certs.ensure(domain, NAMES, { log: () => {} });
    expect(r.failed).toHaveLength(20);
    expect(r.failed[0]!.error).toMatch(/ENOTFOUND|EAI_AGAIN|getaddrinfo/);
    const groups = await openGroups();
    expect(groups).toHaveLength(1);
    const g = groups[0]!;
    expect(g.kind).toBe("cert_failing");
    expect(g.title).toBe(`Certificates failing for 20 names on ${DOMAIN}`);
    expect(g.link).toBe(`/domains?edit=${DOMAIN}`);
    expect(g.items.map((i) => i.label).sort()).toEqual([...NAMES].sort());
    for (const i of g.items) {
      expect(i.message).toContain("cannot be found in public DNS");
      expect(i.message).toContain("self-signed or an uploaded certificate");
      expect(i.message).not.toMatch(/ENOTFOUND|getaddrinfo|\d{4}-\d{2}-\d{2}T/);
      expect(i.details).toMatch(/ENOTFOUND|EAI_AGAIN|getaddrinfo/);
    }
    // the same failures again: still one group, not re-raised (no second email, stays read)
    const raisedAt = g.raisedAt;
    await certs.ensure(domain, NAMES, { log: () => {} }, { force: true });
    const again = await openGroups();
    expect(again).toHaveLength(1);
    expect(again[0]!.items).toHaveLength(20);
    expect(again[0]!.raisedAt.getTime()).toBe(raisedAt.getTime());
    expect(again[0]!.count).toBeGreaterThan(1);
  }, 120_000);

  it("the API lists it with its items and read state per admin", async () => {
    const list = await admin.call("GET", "/api/v1/notifications", as());
    expect(list.status).toBe(200);
    expect(list.body.open).toBe(1);
    expect(list.body.unread).toBe(1);
    expect(list.body.notifications).toHaveLength(1);
    expect(list.body.notifications[0].items).toHaveLength(20);
    expect(list.body.notifications[0].unread).toBe(true);
    expect((await admin.call("POST", "/api/v1/notifications/nope/read", as())).status).toBe(404);
    expect((await admin.call("GET", "/api/v1/notifications?state=bogus", as())).status).toBe(400);
  });

  it("the dashboard shows one summary line and the bell with the count; the panel expands to the 20 names", async () => {
    await steadyGoto(page, `${admin.base}/apps`);
    const bell = page.getByRole("button", { name: "Notifications, 1 unread" });
    await bell.waitFor();
    await expect(page.getByTestId("notification-count").textContent()).resolves.toBe("1");
    await expect(page.getByRole("status").filter({ hasText: "need" }).first().textContent()).resolves.toMatch(/^1 thing needs attention — view$/);
    // no banners: the page's own heading sits right below the one-line bar
    const heading = await page.getByRole("heading", { level: 1 }).first().boundingBox();
    expect(heading!.y).toBeLessThan(200);

    await bell.click();
    const panel = page.getByRole("dialog", { name: "Notifications" });
    await panel.waitFor();
    // focus moved into the panel
    expect(await page.evaluate(() => document.activeElement?.getAttribute("role"))).toBe("dialog");
    await panel.getByText(`Certificates failing for 20 names on ${DOMAIN}`).waitFor();
    await panel.getByRole("button", { name: "Show all 20" }).click();
    await expect(panel.getByText(NAMES[0]!, { exact: true }).count()).resolves.toBe(1);
    // the 20 share one reason: it is said once above their names, not 20 times
    await expect(panel.getByText("cannot be found in public DNS", { exact: false }).count()).resolves.toBe(1);
    await expect(panel.getByRole("link", { name: "Use a self-signed or uploaded certificate" }).getAttribute("href")).resolves.toBe(`/domains?edit=${DOMAIN}`);
    await shot("bell-panel");
    // Escape closes it and gives focus back to the bell
    await page.keyboard.press("Escape");
    await panel.waitFor({ state: "hidden" });
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-haspopup"))).toBe("dialog");

    // mark all read: the count goes, the summary stays (it is still open)
    await bell.click();
    await panel.getByRole("button", { name: "Mark all read" }).click();
    await page.getByRole("button", { name: "Notifications", exact: true }).waitFor();
    expect(await page.getByTestId("notification-count").count()).toBe(0);
    await page.keyboard.press("Escape");
    const read = await admin.call("GET", "/api/v1/notifications", as());
    expect(read.body.unread).toBe(0);
    expect(read.body.open).toBe(1);

    await steadyGoto(page, `${admin.base}/notifications`);
    await page.getByText(`Certificates failing for 20 names on ${DOMAIN}`).waitFor();
    await shot("page", true);
  }, 120_000);

  it("removing the names closes it: box's removal path for some, the sweep for the rest", async () => {
    const rows = await listAcmeCertificates(t.db);
    expect(rows).toHaveLength(20);
    // an uninstall removes the app's certificates (DomainService → CertificateManager.remove)
    await certs.remove(rows.slice(0, 8), { log: () => {} });
    let groups = await openGroups();
    expect(groups).toHaveLength(1);
    expect(groups[0]!.items).toHaveLength(12);
    expect(groups[0]!.title).toBe(`Certificates failing for 12 names on ${DOMAIN}`);
    // the other 12 names are no longer served (apps gone without telling): the sweep closes them
    const sweep = new NotificationSweep({ db: t.db, dataDir: tmp, servedNames: async () => new Set(), log: silent });
    await sweep.runOnce();
    groups = await openGroups();
    expect(groups.filter((g) => g.kind === "cert_failing")).toHaveLength(0);
    const closed = await t.db.notification.findMany({ where: { kind: "cert_failing" } });
    expect(closed).toHaveLength(1);
    expect(closed[0]!.dismissedBy).toBe("system");

    await steadyGoto(page, `${admin.base}/apps`);
    await page.getByRole("button", { name: "Notifications", exact: true }).waitFor();
    expect(await page.getByText("need attention").count()).toBe(0);
    expect(await page.getByText("needs attention").count()).toBe(0);
    // the page keeps it under Resolved
    await steadyGoto(page, `${admin.base}/notifications`);
    await page.getByText("Nothing needs attention.").waitFor();
    await page.getByRole("button", { name: "Resolved" }).click();
    await page
      .getByText(/^resolved /)
      .first()
      .waitFor();
    const closedList = await admin.call("GET", "/api/v1/notifications?state=closed", as());
    expect(closedList.body.notifications[0].items).toHaveLength(20);
    expect(closedList.body.open).toBe(0);
  }, 120_000);

  it("a name failing again after it closed re-opens a group and is unread again", async () => {
    await certs.ensure(domain, [NAMES[0]!], { log: () => {} }, { force: true });
    const groups = await openGroups();
    expect(groups).toHaveLength(1);
    expect(groups[0]!.title).toBe(`Certificates failing for 1 name on ${DOMAIN}`);
    const list = await admin.call("GET", "/api/v1/notifications", as());
    expect(list.body.unread).toBe(1);
  }, 60_000);

  it("Settings → Notifications: an admin turns off a kind for their email; the webhook URL is refused on loopback with the field named", async () => {
    await steadyGoto(page, `${admin.base}/settings`);
    const card = page.locator("section", { has: page.getByRole("heading", { name: "Notifications", exact: true }) });
    const disk = card.getByLabel("Disk nearly full");
    await disk.waitFor();
    expect(await disk.isChecked()).toBe(true);
    await disk.uncheck();
    await card.getByRole("button", { name: "Save email choices" }).click();
    await card.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    const prefs = await admin.call("GET", "/api/v1/profile/notifications", as());
    expect(prefs.body.chosen).toBe(true);
    expect(prefs.body.emailKinds).not.toContain("disk_full");
    expect(prefs.body.emailKinds).toContain("cert_failing");
    await card.getByLabel("Webhook URL").fill("http://127.0.0.1:9/hook");
    await card.getByRole("button", { name: "Save webhook" }).click();
    // the refusal arrives after the PUT's round trip: wait for it, not for the click
    await expect.poll(() => card.getByLabel("Webhook URL").getAttribute("aria-invalid"), { timeout: 10_000 }).toBe("true");
    await card.scrollIntoViewIfNeeded();
    await shot("settings");
  }, 60_000);
});
