// Browser smoke run of the first-run page and the account cards (not a test):
//   npx tsx test/tools/accounts-ui-smoke.ts <outdir>
// A local admin on plain http (hearth_session cookie): the setup code refused and accepted,
// then Settings → Password (other browser logged out) and Log out everywhere; screenshots.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { setSetting } from "@hearth/db";
import { migratedDatabase } from "../helpers/db";
import { issueSetupCode, startAdmin } from "../helpers/admin";

const out = process.argv[2] ?? "/tmp/accounts-ui-smoke";
mkdirSync(out, { recursive: true });
const t = await migratedDatabase("acctui");
const tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-acctui-"));
const admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: path.join(tmp, "box.sock"), HEARTH_LOG_LEVEL: "warn", HEARTH_SECRET_KEY: randomBytes(32).toString("base64") });
const code = await issueSetupCode(t.url);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
const newCtx = () => browser.newContext({ viewport: { width: 1280, height: 900 } });
const step = (s: string) => console.log(`ok: ${s}`);
async function signIn(ctx: BrowserContext, password: string) {
  const p = await ctx.newPage();
  await p.goto(`${admin.base}/login`);
  await p.getByLabel("Username").fill("owner");
  await p.getByLabel("Password").fill(password);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.waitForURL((u) => !u.pathname.startsWith("/login"));
  return p;
}
try {
  const here = await newCtx();
  const page = await here.newPage();
  await page.goto(`${admin.base}/`);
  await page.waitForURL(/\/setup$/);
  await page.getByLabel("Setup code").fill("AAAA-AAAA-AAAA");
  await page.getByLabel("Username").fill("owner");
  await page.getByLabel("Email").fill("o@example.com");
  await page.getByLabel("Password", { exact: true }).fill("correct horse battery staple");
  await page.getByLabel("Confirm password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Create owner account" }).click();
  await page.getByText(/Wrong setup code/).waitFor();
  await page.screenshot({ path: path.join(out, "setup-wrong-code.png"), fullPage: true });
  step("wrong setup code shown at the field");
  await page.getByLabel("Setup code").fill(code.toLowerCase());
  await page.getByRole("button", { name: "Create owner account" }).click();
  await page.waitForURL(/\/setup\/domain$/);
  step("owner created with the code");

  const there = await newCtx();
  const q = await signIn(there, "correct horse battery staple");
  await page.goto(`${admin.base}/settings`);
  await page.getByRole("heading", { name: "Password" }).waitFor();
  await page.getByLabel("Current password", { exact: true }).fill("not my password");
  await page.getByLabel("New password", { exact: true }).fill("a brand new long password");
  await page.getByLabel("Confirm new password", { exact: true }).fill("a brand new long password");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByText("The current password is wrong").waitFor();
  step("wrong current password shown");
  await page.getByLabel("Current password", { exact: true }).fill("correct horse battery staple");
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByText("Password changed. 1 other session was logged out.").waitFor();
  await page.screenshot({ path: path.join(out, "settings-password-changed.png"), fullPage: true });
  step("password changed");
  await q.goto(`${admin.base}/settings`);
  await q.waitForURL(/\/login/);
  step("other browser logged out");
  await page.goto(`${admin.base}/settings`);
  await page.getByRole("button", { name: "Log out everywhere" }).click();
  await page.waitForURL(/\/login/);
  await page.goto(`${admin.base}/settings`);
  await page.waitForURL(/\/login/);
  step("logged out everywhere");
  const p2 = await signIn(there, "a brand new long password");
  step("new password works");

  // a DNS provider's saved secret is not sent to another nameserver without typing it again
  await setSetting(t.db, "network.allowPrivateEndpoints", true);
  const cookie = (await there.cookies(admin.base)).find((c) => c.name === "hearth_session")!;
  const add = await admin.call(
    "POST",
    "/api/v1/domains",
    admin.browser(`hearth_session=${cookie.value}`, {
      body: { domain: "smoke.test", provider: "rfc2136", providerConfig: { nameserver: "127.0.0.1:5353", tsigKeyName: "k", tsigSecret: "c2VjcmV0" } },
    }),
  );
  if (add.status !== 201) throw new Error(add.text);
  await p2.goto(`${admin.base}/domains`);
  await p2.getByRole("button", { name: "Edit smoke.test" }).click();
  const dialog = p2.getByRole("dialog");
  await dialog.getByText("Leave empty to keep the saved value (enter it again if you change where it is sent).").waitFor();
  await dialog.getByLabel("Nameserver").fill("192.0.2.53:53");
  await dialog.getByRole("button", { name: "Save changes" }).click();
  await dialog.getByText("Must be entered again when nameserver changes").waitFor();
  await p2.screenshot({ path: path.join(out, "domain-secret-again.png"), fullPage: true });
  step("domain edit: secret needed again for another nameserver");
} finally {
  await browser.close();
  await admin.stop();
  await t.drop();
  rmSync(tmp, { recursive: true, force: true });
}
