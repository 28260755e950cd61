// Screenshot of the notification bell and its panel on the Apps page (not a test): npx tsx test/tools/notification-shot.ts <outdir>
import http from "node:http";
import { mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { raiseNotification } from "@hearth/db";
import { migratedDatabase } from "../helpers/db";
import { sessionCookieOf, startAdmin } from "../helpers/admin";

const out = process.argv[2] ?? "/tmp/shots";
mkdirSync(out, { recursive: true });
const tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-shot-"));
const t = await migratedDatabase("notshot");
const sock = path.join(tmp, "box.sock");
const box = http.createServer((req, res) => {
  if (req.url === "/health") {
    res.writeHead(200, { "content-type": "application/json" });
    return void res.end(JSON.stringify({ ok: true, version: "0.1.0", boxId: "x", uptimeSeconds: 1, runningTasks: 0 }));
  }
  res.writeHead(404).end();
});
await new Promise<void>((r) => box.listen(sock, r));
const admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: sock });
try {
  const setup = await admin.setupOwner({ username: "owner", email: "o@example.com", password: "correct horse battery staple" });
  const cookie = sessionCookieOf(setup);
  for (const name of ["wiki", "chat", "files"]) {
    await raiseNotification(t.db, {
      kind: "cert_expiring",
      cause: "example.com",
      level: "warning",
      link: "/certificates",
      subject: `${name}.example.com`,
      label: `${name}.example.com`,
      message: "The connection was refused: nothing answered on that address and port. The current certificate stays in use; it expires in 12 days.",
      details: `the ACME server refused the challenge: connection refused (http-01 for ${name}.example.com)`,
    });
  }
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const u = new URL(admin.base);
  const [name, value] = cookie.split(";")[0]!.split("=");
  await ctx.addCookies([{ name: name!, value: value!, domain: u.hostname, path: "/", secure: false }]);
  const page = await ctx.newPage();
  await page.goto(`${admin.base}/apps`);
  await page.getByRole("button", { name: /Notifications, 1 unread/ }).click();
  await page.getByText("Certificates not renewed for 3 names").waitFor();
  await page.screenshot({ path: path.join(out, "notification.png") });
  await browser.close();
} finally {
  await admin.stop();
  box.close();
  await t.drop();
}
