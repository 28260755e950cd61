import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxAppMemoryLimit, MIB } from "@hearth/contracts";
import { updateAppState, type Db } from "@hearth/db";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";
import { startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { ownerSession } from "../helpers/admin-accounts";
import { startStandInBox, type StandInBox } from "../helpers/stand-in-box";
import { VALID_MANIFEST } from "../../packages/contracts/src/manifest.examples";
import { steadyGoto } from "../helpers/chromium";

/**
 * The dashboard's input checks in Debian's Chromium against the built admin (`next start`) on
 * a migrated database: the memory field shows this server's maximum and the server's refusal,
 * a taken name says which app holds it, the raw-manifest update sits behind "Advanced", and
 * the ACME card never says "No email is set yet" beside a field that shows one. box is a
 * stand-in on the socket (admin only records intent here).
 */
let t: TestDatabase & { db: Db };
let admin: RunningAdmin;
let box: StandInBox;
let browser: Browser;
let page: Page;
let tmp = "";
let ownerCookie = "";
const DOMAIN = "input.example";
const as = (extra: Call = {}): Call => admin.browser(ownerCookie, extra);
/** A full-page screenshot in test-results/ (for the person reviewing the change). */
const shot = async (name: string) => {
  mkdirSync(path.join(REPO_ROOT, "test-results"), { recursive: true });
  await page.screenshot({ path: path.join(REPO_ROOT, "test-results", `input-${name}.png`), fullPage: true });
};

const NOTES = { ...VALID_MANIFEST, id: "org.example.inputnotes", title: "Input notes", memoryLimit: 128 * MIB };
const OTHER = { ...VALID_MANIFEST, id: "org.example.other", title: "Other app" };

beforeAll(async () => {
  t = await migratedDatabase("input");
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-input-"));
  const catalog = path.join(tmp, "catalog");
  for (const m of [NOTES, OTHER]) {
    mkdirSync(path.join(catalog, m.id), { recursive: true });
    writeFileSync(path.join(catalog, m.id, "HearthManifest.json"), JSON.stringify(m));
  }
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
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
  const context = await browser.newContext();
  const [name, value] = ownerCookie.split("=") as [string, string];
  await context.addCookies([{ name, value, url: admin.base }]);
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
  await admin?.stop();
  await box?.close();
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Installs a catalog app through the API and marks it installed as box would. */
async function installed(storeId: string, subdomain: string): Promise<string> {
  const r = await admin.call("POST", "/api/v1/apps", as({ body: { storeId, subdomain, domain: DOMAIN } }));
  expect(r.status).toBe(202);
  await t.db.task.updateMany({ where: { appId: r.body.id }, data: { state: "succeeded", percent: 100, finishedAt: new Date() } });
  await updateAppState(t.db, r.body.id, { installState: "installed", runState: "running", health: "healthy" });
  return r.body.id as string;
}

describe("the app page", () => {
  let appId = "";
  beforeAll(async () => {
    appId = await installed(NOTES.id, "notes");
    await installed(OTHER.id, "taken");
    // the memory limit is on the app page's Resources tab, the name on Location, the update on Updates
    await steadyGoto(page, `${admin.base}/apps/${appId}/resources`);
    await page.getByRole("heading", { name: "Resources" }).waitFor({ timeout: 30_000 });
  });

  it("shows this server's maximum memory limit, and the server's refusal of more beside the field; nothing is queued", async () => {
    const max = maxAppMemoryLimit(os.totalmem()) / MIB;
    const field = page.getByLabel("Memory limit (MiB)");
    await page.getByText(`At most ${max} MiB on this server`).waitFor();
    const tasks = await t.db.task.count();
    await field.fill(String(max + 1));
    await page.getByRole("button", { name: "Save configuration" }).click();
    await page.getByText(`A memory limit of ${max + 1} MiB is more than this server can give: at most ${max} MiB`).waitFor();
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    await shot("app-memory-refused");
    expect(await t.db.task.count()).toBe(tasks);
    expect((await t.db.app.findUniqueOrThrow({ where: { id: appId } })).memoryLimit).toBe(BigInt(128 * MIB));
  });

  it("moving to a taken subdomain says which app holds it", async () => {
    await page.getByRole("navigation", { name: "App sections" }).getByRole("link", { name: "Location" }).click();
    await page.getByRole("heading", { name: "Location" }).waitFor();
    await page.getByLabel("Subdomain").fill("taken");
    await page.getByRole("button", { name: "Save configuration" }).click();
    await page.getByText(`taken.${DOMAIN} is already used by Other app (https://taken.${DOMAIN}/)`).waitFor();
    await shot("app-name-taken");
    expect((await t.db.app.findUniqueOrThrow({ where: { id: appId } })).subdomain).toBe("notes");
  });

  it("keeps the raw-manifest update behind an Advanced disclosure", async () => {
    await page.getByRole("navigation", { name: "App sections" }).getByRole("link", { name: "Updates" }).click();
    await page.getByRole("heading", { name: "Update", exact: true }).waitFor();
    const textarea = page.getByLabel("Update from a manifest");
    expect(await textarea.isVisible()).toBe(false);
    await page.getByText("Advanced: update from a manifest").click();
    await textarea.waitFor({ state: "visible" });
    await shot("app-update-advanced");
    expect(await page.getByRole("button", { name: "Update from this manifest" }).isVisible()).toBe(true);
  });
});

describe("the catalog's install dialog", () => {
  it("shows the maximum and the server's refusal of more; nothing is installed", async () => {
    const max = maxAppMemoryLimit(os.totalmem()) / MIB;
    await steadyGoto(page, `${admin.base}/catalog`);
    const card = page.getByRole("listitem").filter({ hasText: NOTES.title });
    await card.getByRole("button", { name: "Install" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText(`At most ${max} MiB on this server`).waitFor({ timeout: 20_000 });
    const apps = await t.db.app.count();
    await dialog.getByLabel("Subdomain").fill("big");
    await dialog.getByLabel("Memory limit (MiB)").fill(String(max + 1));
    await dialog.getByRole("button", { name: "Install" }).click();
    // Not "at most N MiB": getByText with a string is a case-insensitive substring match, so that
    // also matched the hint "At most N MiB on this server" shown before the refusal arrived.
    await dialog.getByText(`A memory limit of ${max + 1} MiB is more than this server can give: at most ${max} MiB`).waitFor();
    expect(await dialog.getByLabel("Memory limit (MiB)").getAttribute("aria-invalid")).toBe("true");
    expect(await t.db.app.count()).toBe(apps);
  });
});

describe("the ACME card", () => {
  it("says the filled-in email is not saved yet (never 'No email is set yet' beside it); saving it clears the notice", async () => {
    await steadyGoto(page, `${admin.base}/certificates`);
    const card = page.getByRole("region", { name: "Certificate authority (ACME)" });
    await card.getByText("The email owner@example.com is filled in but not saved yet").waitFor({ timeout: 30_000 });
    expect(await card.getByText("No email is set yet").count()).toBe(0);
    await shot("acme-email-unsaved");
    expect(await card.getByLabel("Email for the certificate authority").inputValue()).toBe("owner@example.com");
    await card.getByRole("button", { name: "Save" }).click();
    await card.getByText("Saved.").waitFor();
    expect(await card.getByText("not saved yet").count()).toBe(0);
    const saved = await admin.call("GET", "/api/v1/settings/acme", { cookie: ownerCookie });
    expect(saved.body.email).toBe("owner@example.com");
  });
});
