// Browser smoke run with the real box (not a test): npx tsx test/tools/apps-ui-smoke.ts <outdir>
// Installs the built-in static site from the catalog page, watches the progress bar reach 100%,
// sees the post-install message and live logs, stops it, uninstalls it; screenshots each step.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { REPO_ROOT, migratedDatabase, MIGRATIONS_DIR } from "../helpers/db";
import { sessionCookieOf, startAdmin } from "../helpers/admin";

const out = process.argv[2] ?? "/tmp/ui-smoke";
mkdirSync(out, { recursive: true });
const t = await migratedDatabase("uismoke");
const tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-uismoke-"));
const sock = path.join(tmp, "box.sock");
const box = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "apps/box/src/main.ts")], {
  cwd: REPO_ROOT,
  env: {
    ...process.env,
    HEARTH_DATABASE_URL: t.url,
    HEARTH_DATA_DIR: path.join(tmp, "data"),
    HEARTH_PROXY: "off",
    HEARTH_SERVICES: "off",
    HEARTH_BOX_SOCKET: sock,
    HEARTH_SOCKET_GROUP: "",
    HEARTH_MIGRATIONS_DIR: MIGRATIONS_DIR,
    HEARTH_BOX_ID: `uismoke-${process.pid}`,
    HEARTH_TASK_POLL_MS: "200",
    HEARTH_LOG_LEVEL: "warn",
  },
  stdio: ["ignore", "inherit", "inherit"],
});
const admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_PROXY: "off", HEARTH_BOX_SOCKET: sock, HEARTH_LOG_LEVEL: "warn" });
const setup = await admin.setupOwner({ username: "owner", email: "o@example.com", password: "correct horse battery staple" });
const cookie = sessionCookieOf(setup);
await admin.call("POST", "/api/v1/domains", { ...admin.browser(cookie), body: { domain: "smoke.test", provider: "noop" } });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
await ctx.addCookies([{ name: "hearth_session", value: cookie.split("=")[1]!, url: admin.base }]);
const page = await ctx.newPage();
const shot = (n: string) => page.screenshot({ path: path.join(out, `${n}.png`), fullPage: true });
try {
  await page.goto(`${admin.base}/catalog`);
  const card = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "Static Site" }) });
  await card.getByRole("button", { name: "Install" }).click();
  const dlg = page.getByRole("dialog");
  await dlg.getByLabel("Subdomain").fill("www");
  await dlg.getByRole("button", { name: "Install" }).click();
  await page.waitForURL(/\/apps\/[0-9a-f-]+/);
  await page.getByRole("progressbar", { name: "Installing" }).waitFor();
  await page.waitForFunction(() => document.querySelector('[role="progressbar"]')?.getAttribute("aria-valuenow") === "100", null, { timeout: 60_000 });
  await page.getByText("Static Site is ready").waitFor({ timeout: 15_000 });
  await page.getByText("Live").waitFor();
  await page.waitForTimeout(1000);
  await shot("01-installed");
  console.log("installed; log panel:", (await page.getByLabel("App logs").textContent())?.slice(0, 120));
  await page.getByRole("button", { name: "Stop" }).click();
  await page.getByText("Stopped", { exact: true }).waitFor({ timeout: 30_000 });
  await shot("02-stopped");
  await page.getByRole("button", { name: "Start", exact: true }).click();
  await page.getByText("Running", { exact: true }).waitFor({ timeout: 30_000 });
  await page.goto(`${admin.base}/apps`);
  await page.getByText("Healthy").waitFor({ timeout: 30_000 });
  await shot("03-apps");
  await page.getByRole("link", { name: "Static Site" }).click();
  await page.getByRole("button", { name: "Uninstall" }).click();
  await page.getByRole("dialog").getByLabel("App name").fill("Static Site");
  await page.getByRole("dialog").getByRole("button", { name: "Uninstall" }).click();
  await page.waitForURL(/\/apps$/, { timeout: 60_000 });
  await page.getByText("Nothing installed").waitFor();
  await shot("04-uninstalled");
  console.log("ok");
} catch (e) {
  await shot("zz-error");
  console.error(e);
} finally {
  await browser.close();
  await admin.stop();
  box.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 2000));
  await t.drop();
  rmSync(tmp, { recursive: true, force: true });
}
