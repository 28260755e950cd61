// Browser smoke run with the real box (not a test): npx tsx test/tools/data-safety-ui-smoke.ts <outdir>
// Installs the built-in static site, uninstalls it (its data is kept), restores it from the
// Apps page's "Uninstalled" card, uninstalls it again and deletes it now with its address
// typed; then deletes an orphaned volume from "Orphaned data" with its name typed.
// Screenshots each step.
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { getStoreIdentity, recordOrphans } from "@hearth/db";
import { REPO_ROOT, migratedDatabase, MIGRATIONS_DIR } from "../helpers/db";
import { sessionCookieOf, startAdmin } from "../helpers/admin";

const out = process.argv[2] ?? "/tmp/data-safety-ui";
mkdirSync(out, { recursive: true });
const t = await migratedDatabase("dsui");
const tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-dsui-"));
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
    HEARTH_BOX_ID: `dsui-${process.pid}`,
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
const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
await ctx.addCookies([{ name: cookie.split("=")[0]!, value: cookie.slice(cookie.indexOf("=") + 1), url: admin.base }]);
const page = await ctx.newPage();
const shot = (n: string) => page.screenshot({ path: path.join(out, `${n}.png`), fullPage: true });
const orphanAppId = randomUUID();
const orphanVolume = `hearth-app-${orphanAppId}-data`;
let failed = false;
async function uninstall() {
  await page.getByRole("button", { name: "Uninstall" }).click();
  await page.getByRole("dialog").getByLabel("App name").fill("Static Site");
  await page.getByRole("dialog").getByRole("button", { name: "Uninstall" }).click();
  await page.waitForURL(/\/apps$/, { timeout: 60_000 });
  await page.getByRole("heading", { name: "Uninstalled" }).waitFor({ timeout: 30_000 });
}
try {
  await page.goto(`${admin.base}/catalog`);
  const card = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "Static Site" }) });
  await card.getByRole("button", { name: "Install" }).click();
  const dlg = page.getByRole("dialog");
  await dlg.getByLabel("Subdomain").fill("www");
  await dlg.getByRole("button", { name: "Install" }).click();
  await page.waitForURL(/\/apps\/[0-9a-f-]+/);
  const appId = new URL(page.url()).pathname.split("/").pop()!;
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
  await admin.stop();
  box.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 2000));
  execFileSync("docker", ["volume", "rm", "-f", orphanVolume], { stdio: "ignore" });
  await t.drop();
  rmSync(tmp, { recursive: true, force: true });
  process.exit(failed ? 1 : 0);
}
