// Screenshot tour of the apps pages (not a test): npx tsx test/tools/apps-shots.ts <outdir>
import http from "node:http";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { migratedDatabase } from "../helpers/db";
import { sessionCookieOf, startAdmin } from "../helpers/admin";

const out = process.argv[2] ?? "/tmp/shots";
mkdirSync(out, { recursive: true });
const tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-shots-"));
const cat = path.join(tmp, "catalog", "notes");
mkdirSync(cat, { recursive: true });
writeFileSync(
  path.join(cat, "HearthManifest.json"),
  JSON.stringify({
    manifestVersion: 1,
    id: "org.example.notes",
    title: "Notes",
    version: "1.2.3",
    tagline: "Write things down, together",
    tags: ["notes", "productivity"],
    dockerImage: "localhost/hearth/notes:1.2.3",
    httpPort: 8080,
    healthCheckPath: "/",
    tcpPorts: { SYNC_PORT: { title: "Sync", description: "sync clients", containerPort: 7000, defaultValue: 17000 } },
    postInstallMessage: "Log in as **admin** with the password `changeme`.\n\n- Change it at once\n- See [the docs](https://example.org/docs)",
  }),
);
const t = await migratedDatabase("shots");
const sock = path.join(tmp, "box.sock");
const box = http.createServer((req, res) => {
  if (req.url === "/wake") return void res.writeHead(204).end();
  if (req.url === "/health") {
    res.writeHead(200, { "content-type": "application/json" });
    return void res.end(JSON.stringify({ ok: true, version: "0.1.0", boxId: "x", uptimeSeconds: 1, runningTasks: 1 }));
  }
  if (/^\/tasks\/[^/]+\/events/.test(req.url ?? "")) {
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const l of ["pulling image localhost/hearth/net.lighttpd.staticsite:1.0.0", "image present locally", "creating network hearth-app-1", "creating container"])
      res.write(`event: log\ndata: ${JSON.stringify({ line: l })}\n\n`);
    return; // stays open
  }
  if (/^\/apps\/[^/]+\/logs/.test(req.url ?? "")) {
    res.writeHead(200, { "content-type": "text/event-stream" });
    for (const l of ["2026-11-22 12:00:01: server started (lighttpd/1.4.69)", '127.0.0.1 - - "GET /healthz HTTP/1.1" 200 2', '10.0.0.5 - - "GET / HTTP/1.1" 200 1432'])
      res.write(`event: log\ndata: ${JSON.stringify({ line: l })}\n\n`);
    return;
  }
  res.writeHead(404).end();
});
await new Promise<void>((r) => box.listen(sock, r));
const admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: sock, HEARTH_CATALOG_DIRS: path.join(tmp, "catalog") });
const setup = await admin.setupOwner({ username: "owner", email: "o@example.com", password: "correct horse battery staple" });
const cookie = sessionCookieOf(setup);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
await ctx.addCookies([{ name: "hearth_session", value: cookie.split("=")[1]!, url: admin.base }]);
const page = await ctx.newPage();
const shot = (n: string) => page.screenshot({ path: path.join(out, `${n}.png`), fullPage: true });
try {
  await page.goto(`${admin.base}/domains`);
  await page.getByRole("heading", { name: "Add a domain" }).waitFor();
  await shot("01-domains-empty");
  await page.getByLabel("Domain", { exact: true }).fill("example.com");
  await page.getByRole("button", { name: "Add domain" }).click();
  await page.getByText("Dashboard: my.example.com").waitFor();
  await page.getByLabel("Domain", { exact: true }).fill("example.org");
  await page.getByLabel("DNS provider").selectOption("manual");
  await page.getByRole("button", { name: "Add domain" }).click();
  await page.getByRole("cell", { name: "example.org", exact: true }).waitFor();
  await shot("02-domains");

  await page.goto(`${admin.base}/apps`);
  await page.getByText("Nothing installed").waitFor();
  await shot("03-apps-empty");

  await page.goto(`${admin.base}/catalog`);
  await page.getByRole("heading", { name: "Notes" }).waitFor();
  await page.waitForTimeout(500);
  await shot("04-catalog");
  await page.getByLabel("Search apps").fill("static");
  await page.waitForTimeout(600);
  await shot("05-catalog-search");
  await page.getByLabel("Search apps").fill("");
  await page.waitForTimeout(600);
  const card = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "Notes" }) });
  await card.getByRole("button", { name: "Install" }).click();
  const dlg = page.getByRole("dialog");
  await dlg.getByLabel("Subdomain").fill("notes");
  await dlg.getByRole("button", { name: "Add variable" }).click();
  await dlg.getByLabel("Variable 1 name").fill("GREETING");
  await dlg.getByLabel("Variable 1 value").fill("hello");
  await shot("06-install-dialog");
  await dlg.getByRole("button", { name: "Install" }).click();
  await page.waitForURL(/\/apps\/[0-9a-f-]+/);
  const appId = /\/apps\/([0-9a-f-]+)/.exec(page.url())![1]!;
  const task = await t.db.task.findFirstOrThrow({ where: { appId } });
  await t.db.task.update({ where: { id: task.id }, data: { state: "running", percent: 40, message: "Creating the container" } });
  await page.getByRole("progressbar").first().waitFor();
  await page.waitForTimeout(2500);
  await shot("07-app-installing");

  await page.goto(`${admin.base}/apps`);
  await page.waitForTimeout(1500);
  await shot("08-apps-installing");

  await t.db.task.update({ where: { id: task.id }, data: { state: "succeeded", percent: 100, message: "Installed", finishedAt: new Date() } });
  await t.db.app.update({ where: { id: appId }, data: { installState: "installed", health: "healthy" } });
  await page.goto(`${admin.base}/apps/${appId}?installed=1`);
  await page.getByText("is ready").waitFor();
  await page.waitForTimeout(1500);
  await shot("09-app-installed");

  await page.goto(`${admin.base}/apps`);
  await page.waitForTimeout(1500);
  await shot("10-apps");

  await page.goto(`${admin.base}/apps/${appId}`);
  await page.getByRole("button", { name: "Uninstall" }).click();
  await page.getByRole("dialog").getByLabel("App name").fill("Notes");
  await shot("11-uninstall-dialog");
  await page.getByRole("dialog").getByRole("button", { name: "Uninstall" }).click();
  await page.waitForTimeout(1500);
  await shot("12-uninstalling");
  console.log("ok", out);
} catch (e) {
  await shot("zz-error");
  console.error(e);
  console.error(admin.output().slice(-3000));
} finally {
  await browser.close();
  await admin.stop();
  box.close();
  await t.drop();
}
