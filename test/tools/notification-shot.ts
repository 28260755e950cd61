// Screenshot of an admin notification above the Apps page (not a test): npx tsx test/tools/notification-shot.ts <outdir>
import http from "node:http";
import { mkdirSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { notify } from "@hearth/db";
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
  await notify(t.db, {
    key: "certificate:wiki.example.com",
    level: "warning",
    title: "The certificate for wiki.example.com could not be renewed",
    message:
      'the ACME server refused the challenge: connection refused (http-01 for wiki.example.com)\n\nThe current certificate stays in use; it expires in 12 day(s) (2026-12-04T10:00:00.000Z). Hearth tries again at 2026-11-22T16:00:00.000Z; "Renew now" on the Certificates page tries at once.',
    target: "wiki.example.com",
  });
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const u = new URL(admin.base);
  const [name, value] = cookie.split(";")[0]!.split("=");
  await ctx.addCookies([{ name: name!, value: value!, domain: u.hostname, path: "/", secure: false }]);
  const page = await ctx.newPage();
  await page.goto(`${admin.base}/apps`);
  await page.getByText("could not be renewed").waitFor();
  await page.screenshot({ path: path.join(out, "notification.png") });
  await browser.close();
} finally {
  await admin.stop();
  box.close();
  await t.drop();
}
