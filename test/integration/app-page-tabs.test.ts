import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIB } from "@hearth/contracts";
import { updateAppState, type Db } from "@hearth/db";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";
import { startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { ownerSession } from "../helpers/admin-accounts";
import { startStandInBox, type StandInBox } from "../helpers/stand-in-box";
import { VALID_MANIFEST } from "../../packages/contracts/src/manifest.examples";
import { steadyGoto } from "../helpers/chromium";
import { create } from "qrcode";

/**
 * The app page's tabs in Debian's Chromium against the built admin (`next start`) on a
 * migrated database, box a stand-in on the socket: every tab has its own URL (a reload keeps
 * it, `/apps/<id>` opens the overview), the tabs are links reached and followed by keyboard
 * with the header staying, and the dialogs (Radix) trap focus and close on Escape, giving
 * focus back to the button that opened them. Screenshots in test-results/app-tabs-*.png.
 */
let t: TestDatabase & { db: Db };
let admin: RunningAdmin;
let box: StandInBox;
let browser: Browser;
let page: Page;
let tmp = "";
let ownerCookie = "";
let appId = "";
const DOMAIN = "tabs.example";
const as = (extra: Call = {}): Call => admin.browser(ownerCookie, extra);
const shot = async (name: string) => {
  mkdirSync(path.join(REPO_ROOT, "test-results"), { recursive: true });
  await page.screenshot({ path: path.join(REPO_ROOT, "test-results", `app-tabs-${name}.png`), fullPage: true });
};

const NOTES = { ...VALID_MANIFEST, id: "org.example.tabsnotes", title: "Tabs notes", memoryLimit: 128 * MIB, postInstallMessage: "Sign in with **your** account.\n\n<b>not bold</b>" };
/** slug → a heading (or text) only that tab's body shows */
const TABS: { slug: string; label: string; shows: RegExp }[] = [
  { slug: "overview", label: "Overview", shows: /^Getting started$/ },
  { slug: "location", label: "Location", shows: /^Location$/ },
  { slug: "resources", label: "Resources", shows: /^Resources$/ },
  { slug: "backups", label: "Backups", shows: /^App backups$/ },
  { slug: "updates", label: "Updates", shows: /^Update$/ },
  { slug: "logs", label: "Logs", shows: /^Logs$/ },
  { slug: "terminal", label: "Terminal", shows: /^Terminal$/ },
  { slug: "files", label: "Files", shows: /^Files$/ },
  { slug: "uninstall", label: "Uninstall", shows: /^Uninstall$/ },
];

beforeAll(async () => {
  t = await migratedDatabase("apptabs");
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-apptabs-"));
  const catalog = path.join(tmp, "catalog");
  mkdirSync(path.join(catalog, NOTES.id), { recursive: true });
  writeFileSync(path.join(catalog, NOTES.id, "HearthManifest.json"), JSON.stringify(NOTES));
  const boxSocket = path.join(tmp, "box.sock");
  box = await startStandInBox(boxSocket, {
    handle(req, res) {
      if (req.url !== "/health") return false;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, version: "0.1.0", boxId: "stand-in", uptimeSeconds: 1, runningTasks: 0 }));
      return true;
    },
  });
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: boxSocket, HEARTH_CATALOG_DIRS: catalog, HEARTH_SECRET_KEY: randomBytes(32).toString("base64") });
  ownerCookie = await ownerSession(admin);
  expect((await admin.call("POST", "/api/v1/domains", as({ body: { domain: DOMAIN, provider: "manual" } }))).status).toBe(201);
  const r = await admin.call("POST", "/api/v1/apps", as({ body: { storeId: NOTES.id, subdomain: "notes", domain: DOMAIN } }));
  expect(r.status, r.text).toBe(202);
  appId = r.body.id as string;
  await t.db.task.updateMany({ where: { appId }, data: { state: "succeeded", percent: 100, finishedAt: new Date() } });
  await updateAppState(t.db, appId, { installState: "installed", runState: "running", health: "healthy" });
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const [name, value] = ownerCookie.split("=") as [string, string];
  await context.addCookies([{ name, value, url: admin.base }]);
  page = await context.newPage();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await admin?.stop();
  await box?.close();
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const nav = () => page.getByRole("navigation", { name: "App sections" });
const current = async () => nav().locator('[aria-current="page"]').innerText();
const pathOf = () => new URL(page.url()).pathname;

describe("the app page's tabs", () => {
  it("/apps/<id> opens the overview; the tabs are links, the open one aria-current", async () => {
    await steadyGoto(page, `${admin.base}/apps/${appId}`);
    await page.getByRole("heading", { name: "Getting started" }).waitFor({ timeout: 30_000 });
    expect(pathOf()).toBe(`/apps/${appId}/overview`);
    expect(await current()).toBe("Overview");
    const links = nav().getByRole("link");
    expect(await links.allInnerTexts()).toEqual(TABS.map((x) => x.label));
    for (const x of TABS) expect(await nav().getByRole("link", { name: x.label }).getAttribute("href")).toBe(`/apps/${appId}/${x.slug}`);
    // the post-install note goes through the Markdown renderer: bold is bold, HTML is text
    await page.getByRole("heading", { name: "Getting started" }).click();
    await page.getByText("not bold").waitFor();
    expect(await page.locator("#getting-started strong", { hasText: "your" }).count()).toBe(1);
    expect(await page.locator("#getting-started b").count()).toBe(0);
    expect(await page.locator("#getting-started").innerText()).toContain("<b>not bold</b>");
    await shot("overview");
  });

  it("every tab by URL, and a reload keeps it", async () => {
    for (const x of TABS) {
      await steadyGoto(page, `${admin.base}/apps/${appId}/${x.slug}`);
      await page.getByRole("heading", { name: x.shows }).first().waitFor({ timeout: 30_000 });
      expect(await current()).toBe(x.label);
      await page.reload();
      await page.getByRole("heading", { name: x.shows }).first().waitFor({ timeout: 30_000 });
      expect(pathOf()).toBe(`/apps/${appId}/${x.slug}`);
      expect(await current()).toBe(x.label);
      // the header stays on every tab
      expect(await page.getByRole("heading", { level: 1, name: NOTES.title }).count()).toBe(1);
      if (x.slug === "updates") await shot("updates");
    }
    // an unknown tab is not found, not an empty tab
    // (the dashboard's layout has streamed by then, so the status stays 200: the page says it)
    await steadyGoto(page, `${admin.base}/apps/${appId}/nothing-here`);
    await page.getByRole("heading", { name: "Page not found" }).waitFor({ timeout: 30_000 });
    expect(await nav().count()).toBe(0);
  });

  it("every tab by keyboard: Tab moves to the next tab, Enter opens it; the header is not reloaded", async () => {
    await steadyGoto(page, `${admin.base}/apps/${appId}/overview`);
    await page.getByRole("heading", { name: "Getting started" }).waitFor({ timeout: 30_000 });
    // a mark on the header's element: a full reload or a remount of the layout would lose it
    await page.getByRole("heading", { level: 1, name: NOTES.title }).evaluate((h) => h.setAttribute("data-mark", "kept"));
    await nav().getByRole("link", { name: "Overview" }).focus();
    for (const x of TABS.slice(1)) {
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(x.label);
      await page.keyboard.press("Enter");
      await page.waitForURL(`**/apps/${appId}/${x.slug}`);
      await page.getByRole("heading", { name: x.shows }).first().waitFor({ timeout: 30_000 });
      expect(await current()).toBe(x.label);
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(x.label);
    }
    expect(await page.locator('h1[data-mark="kept"]').count()).toBe(1);
  });

  it("the uninstall dialog traps focus, closes on Escape and gives focus back to its button; nothing is queued", async () => {
    await steadyGoto(page, `${admin.base}/apps/${appId}/uninstall`);
    const open = page.locator("main").getByRole("button", { name: "Uninstall" });
    await open.waitFor({ timeout: 30_000 });
    await open.click();
    const dialog = page.getByRole("dialog", { name: `Uninstall ${NOTES.title}?` });
    await dialog.waitFor();
    // focus is inside, and stays inside through more Tabs (and Shift+Tabs) than it has controls
    expect(await dialog.evaluate((d) => d.contains(document.activeElement))).toBe(true);
    for (const key of [...Array(8).fill("Tab"), ...Array(8).fill("Shift+Tab")]) {
      await page.keyboard.press(key);
      expect(await dialog.evaluate((d) => d.contains(document.activeElement)), key).toBe(true);
    }
    // the confirmation needs the name typed
    await dialog.getByLabel("App name").fill(NOTES.title);
    expect(await dialog.getByRole("button", { name: "Uninstall" }).isEnabled()).toBe(true);
    await shot("uninstall-dialog");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    // Radix gives focus back right after the dialog unmounts
    await page.waitForFunction(() => document.activeElement?.textContent === "Uninstall", undefined, { timeout: 5_000 });
    expect(await open.evaluate((b) => b === document.activeElement)).toBe(true);
    expect((await t.db.app.findUniqueOrThrow({ where: { id: appId } })).installState).toBe("installed");
    expect(await t.db.task.count({ where: { appId, type: "app.uninstall" } })).toBe(0);
  });
});

describe("the TOTP enrolment's QR code", () => {
  it("encodes exactly the otpauth link shown beside it, drawn in the page (no request leaves admin)", async () => {
    const hosts = new Set<string>();
    page.on("request", (r) => void hosts.add(new URL(r.url()).host));
    await steadyGoto(page, `${admin.base}/settings`);
    await page.getByRole("button", { name: "Set up two-factor authentication" }).click();
    const qr = page.getByRole("img", { name: /QR code/ });
    await qr.waitFor({ timeout: 30_000 });
    const uri = await page.getByRole("link", { name: "otpauth link" }).getAttribute("href");
    expect(uri).toMatch(/^otpauth:\/\/totp\/.*secret=/);
    // the same modules the qrcode package makes of that URI, one 1×1 square each (4 modules of quiet zone)
    const { modules } = create(uri!, { errorCorrectionLevel: "M" });
    const want: string[] = [];
    for (let y = 0; y < modules.size; y++) for (let x = 0; x < modules.size; x++) if (modules.get(y, x)) want.push(`M${x + 4} ${y + 4}`);
    const d = (await qr.locator("path").getAttribute("d")) ?? "";
    expect(d.split("h1v1h-1z").filter(Boolean)).toEqual(want);
    expect(await qr.getAttribute("viewBox")).toBe(`0 0 ${modules.size + 8} ${modules.size + 8}`);
    expect([...hosts]).toEqual([new URL(admin.base).host]);
    await shot("totp-qr");
  });
});
