import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { type RunningAdmin, sessionCookieOf, startAdmin } from "./admin";
import { MIGRATIONS_DIR, migratedDatabase, REPO_ROOT, type TestDatabase } from "./db";
import type { Db } from "@hearth/db";
import { steadyGoto } from "./chromium";

export interface SmokeStack {
  t: TestDatabase & { db: Db };
  admin: RunningAdmin;
  box: ChildProcess;
  /** What box printed (only when started with `captureBoxOutput`). */
  boxOutput(): string;
  /** The owner's session cookie (`name=value`), after first-run setup and the domain `smoke.test` (noop DNS). */
  cookie: string;
  /** Stops admin and box, drops the database, removes the temporary folder. */
  stop(): Promise<void>;
}

/**
 * The smoke runs of test/tools (not tests): a fresh test database, the real box
 * (`tsx apps/box/src/main.ts`, without nginx and the addon services) and the built admin on it,
 * the owner set up as the installer's user would, and the domain `smoke.test`.
 * `logLevel` sets HEARTH_LOG_LEVEL of both (default: box's and admin's own).
 */
export async function startSmokeStack(o: { name: string; logLevel?: string; captureBoxOutput?: boolean }): Promise<SmokeStack> {
  const t = await migratedDatabase(o.name);
  const tmp = mkdtempSync(path.join(os.tmpdir(), `hearth-${o.name}-`));
  const sock = path.join(tmp, "box.sock");
  const level: Record<string, string> = o.logLevel ? { HEARTH_LOG_LEVEL: o.logLevel } : {};
  let boxOut = "";
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
      HEARTH_BOX_ID: `${o.name}-${process.pid}`,
      HEARTH_TASK_POLL_MS: "200",
      ...level,
    },
    stdio: ["ignore", o.captureBoxOutput ? "pipe" : "inherit", o.captureBoxOutput ? "pipe" : "inherit"],
  });
  if (o.captureBoxOutput) {
    box.stdout!.on("data", (d) => (boxOut += d));
    box.stderr!.on("data", (d) => (boxOut += d));
  }
  const admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_PROXY: "off", HEARTH_BOX_SOCKET: sock, ...level });
  const setup = await admin.setupOwner({ username: "owner", email: "o@example.com", password: "correct horse battery staple" });
  const cookie = sessionCookieOf(setup);
  await admin.call("POST", "/api/v1/domains", { ...admin.browser(cookie), body: { domain: "smoke.test", provider: "noop" } });
  return {
    t,
    admin,
    box,
    boxOutput: () => boxOut,
    cookie,
    async stop() {
      await admin.stop();
      box.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 2000));
      await t.drop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Chromium signed in as the stack's owner, and `shot(name)`: a full-page screenshot to <out>/<name>.png. */
export async function smokeBrowser(s: SmokeStack, out: string, viewport: { width: number; height: number }): Promise<{ browser: Browser; page: Page; shot: (name: string) => Promise<Buffer> }> {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
  const ctx = await browser.newContext({ viewport });
  await ctx.addCookies([{ name: s.cookie.split("=")[0]!, value: s.cookie.slice(s.cookie.indexOf("=") + 1), url: s.admin.base }]);
  const page = await ctx.newPage();
  return { browser, page, shot: (name) => page.screenshot({ path: path.join(out, `${name}.png`), fullPage: true }) };
}

/** Installs the built-in Static Site from the catalog page at www.smoke.test, as an admin clicks it; returns on the app's page with the app's id. */
export async function installStaticSiteFromCatalog(page: Page, base: string): Promise<string> {
  await steadyGoto(page, `${base}/catalog`);
  const card = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "Static Site" }) });
  await card.getByRole("button", { name: "Install" }).click();
  const dlg = page.getByRole("dialog");
  await dlg.getByLabel("Subdomain").fill("www");
  await dlg.getByRole("button", { name: "Install" }).click();
  // /apps/<id>?installed=1&task=… answers with a redirect to the app page's overview tab
  await page.waitForURL(/\/apps\/[0-9a-f-]+\/overview/);
  return /\/apps\/([0-9a-f-]+)/.exec(new URL(page.url()).pathname)![1]!;
}
