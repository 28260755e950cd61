// Browser smoke run with the real box (not a test): npx tsx test/tools/data-safety-ui-smoke.ts <outdir>
// Installs the built-in static site, uninstalls it (its data is kept), restores it from the
// Apps page's "Uninstalled" card, uninstalls it again and deletes it now with its address
// typed; then deletes an orphaned volume from "Orphaned data" with its name typed.
// Screenshots each step.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { getStoreIdentity, recordOrphans } from "@hearth/db";
import { installStaticSiteFromCatalog, smokeBrowser, startSmokeStack } from "../helpers/smoke-stack";

const out = process.argv[2] ?? "/tmp/data-safety-ui";
mkdirSync(out, { recursive: true });
const stack = await startSmokeStack({ name: "dsui", logLevel: "warn" });
const { admin, t } = stack;
const { browser, page, shot } = await smokeBrowser(stack, out, { width: 1280, height: 1000 });
const orphanAppId = randomUUID();
const orphanVolume = `hearth-app-${orphanAppId}-data`;
let failed = false;
async function uninstall() {
  // the app page's Uninstall tab
  await page.getByRole("navigation", { name: "App sections" }).getByRole("link", { name: "Uninstall" }).click();
  await page.getByRole("button", { name: "Uninstall" }).click();
  await page.getByRole("dialog").getByLabel("App name").fill("Static Site");
  await page.getByRole("dialog").getByRole("button", { name: "Uninstall" }).click();
  await page.waitForURL(/\/apps$/, { timeout: 60_000 });
  await page.getByRole("heading", { name: "Uninstalled" }).waitFor({ timeout: 30_000 });
}
try {
  const appId = await installStaticSiteFromCatalog(page, admin.base);
  await page.getByText("Static Site is ready").waitFor({ timeout: 90_000 });
  await uninstall();
  execFileSync("docker", ["volume", "inspect", `hearth-app-${appId}-data`], { stdio: "ignore" }); // kept
  await shot("01-uninstalled-card");

  await page.getByRole("button", { name: "Restore www.smoke.test" }).click();
  await page.getByRole("heading", { name: "Uninstalled" }).waitFor({ state: "detached", timeout: 30_000 });
  await page.getByText("Healthy").waitFor({ timeout: 90_000 });
  await shot("02-restored");
  console.log("restored");

  await page.goto(`${admin.base}/apps/${appId}`);
  await uninstall();
  await page.getByRole("button", { name: "Delete now www.smoke.test" }).click();
  const confirm = page.getByRole("dialog").getByRole("button", { name: "Delete now" });
  await page.getByRole("dialog").getByLabel("App address").fill("www.smoke");
  if (await confirm.isEnabled()) throw new Error("Delete now is enabled before the address is typed in full");
  await page.getByRole("dialog").getByLabel("App address").fill("www.smoke.test");
  await shot("03-delete-now-dialog");
  await confirm.click();
  await page.getByRole("heading", { name: "Uninstalled" }).waitFor({ state: "detached", timeout: 60_000 });
  for (let i = 0; i < 50 && execFileSync("docker", ["volume", "ls", "-q", "--filter", `name=hearth-app-${appId}-data`], { encoding: "utf8" }).trim(); i++) await page.waitForTimeout(200);
  if (execFileSync("docker", ["volume", "ls", "-q", "--filter", `name=hearth-app-${appId}-data`], { encoding: "utf8" }).trim()) throw new Error("the volume is still there after delete now");
  console.log("deleted now");

  // an orphaned volume of this store, as the reconciler records it
  const store = (await getStoreIdentity(t.db))!;
  execFileSync("docker", ["volume", "create", "--label", "hearth.managed=true", "--label", `hearth.app=${orphanAppId}`, "--label", `hearth.owner=${store.id}`, orphanVolume], { stdio: "ignore" });
  await recordOrphans(t.db, [{ kind: "volume", name: orphanVolume, appId: orphanAppId }], ["volume"]);
  await page.reload();
  await page.getByRole("heading", { name: "Orphaned data" }).waitFor({ timeout: 30_000 });
  await page.getByRole("button", { name: `Delete ${orphanVolume}` }).click();
  await page.getByRole("dialog").getByLabel("Name").fill(orphanVolume);
  await shot("04-orphan-dialog");
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByRole("heading", { name: "Orphaned data" }).waitFor({ state: "detached", timeout: 60_000 });
  if (execFileSync("docker", ["volume", "ls", "-q", "--filter", `name=${orphanVolume}`], { encoding: "utf8" }).trim()) throw new Error("the orphaned volume is still there");
  await shot("05-done");
  console.log("ok");
} catch (e) {
  failed = true;
  await shot("zz-error");
  console.error(e);
} finally {
  await browser.close();
  await stack.stop();
  execFileSync("docker", ["volume", "rm", "-f", orphanVolume], { stdio: "ignore" });
  process.exit(failed ? 1 : 0);
}
