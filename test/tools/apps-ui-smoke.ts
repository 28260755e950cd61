// Browser smoke run with the real box (not a test): npx tsx test/tools/apps-ui-smoke.ts <outdir>
// Installs the built-in static site from the catalog page, watches the progress bar reach 100%,
// sees the post-install message and live logs, stops it, uninstalls it; screenshots each step.
import { mkdirSync } from "node:fs";
import { installStaticSiteFromCatalog, smokeBrowser, startSmokeStack } from "../helpers/smoke-stack";

const out = process.argv[2] ?? "/tmp/ui-smoke";
mkdirSync(out, { recursive: true });
const stack = await startSmokeStack({ name: "uismoke", logLevel: "warn" });
const { admin } = stack;
const { browser, page, shot } = await smokeBrowser(stack, out, { width: 1280, height: 900 });
try {
  await installStaticSiteFromCatalog(page, admin.base);
  await page.getByRole("progressbar", { name: "Installing" }).waitFor();
  await page.waitForFunction(() => document.querySelector('[role="progressbar"]')?.getAttribute("aria-valuenow") === "100", null, { timeout: 60_000 });
  await page.getByText("Static Site is ready").waitFor({ timeout: 15_000 });
  await shot("00-ready");
  // the app page's tabs: the logs are on Logs, the uninstall on Uninstall
  await page.getByRole("navigation", { name: "App sections" }).getByRole("link", { name: "Logs" }).click();
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
  await page.getByRole("navigation", { name: "App sections" }).getByRole("link", { name: "Uninstall" }).click();
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
  await stack.stop();
}
