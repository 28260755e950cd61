import { mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/db";

/**
 * Playwright with Debian's Chromium against the Hearth that test/run.sh just installed with
 * setup/install.sh (nginx with its self-signed certificate in front of admin). The install
 * is fresh: no owner exists when this file starts, so the tests run in order.
 */
const BASE = process.env.HEARTH_E2E_URL ?? "https://127.0.0.1";
const ARTIFACTS = path.join(REPO_ROOT, "test-results");
const APP_DOMAIN = "e2e.test";
const OWNER = { username: "owner", email: "owner@example.com", password: "correct horse battery staple" };

let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // the test domain's names resolve to this machine, where nginx serves them
      `--host-resolver-rules=MAP *.${APP_DOMAIN} 127.0.0.1, MAP ${APP_DOMAIN} 127.0.0.1`,
    ],
  });
  // the installer's certificate is self-signed; the install test verifies it separately
  context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
});

afterAll(async () => {
  await browser?.close();
});

async function api(method: string, url: string, init: { token?: string; body?: unknown } = {}) {
  const res = await context.request.fetch(`${BASE}${url}`, {
    method,
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
      // what a browser sends with a same-origin fetch; the CSRF check wants it
      ...(method !== "GET" ? { origin: BASE } : {}),
    },
    data: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status(), body: (await res.json().catch(() => null)) as any };
}

describe("first run, login and tokens in the browser", () => {
  it("a fresh install sends the visitor to the first-run page", async () => {
    const status = await api("GET", "/api/v1/status");
    expect(status.status).toBe(200);
    expect(status.body.setupDone).toBe(false);
    await page.goto(`${BASE}/`);
    await page.waitForURL(/\/setup$/);
    await expect(page.getByRole("button", { name: "Create owner account" }).isVisible()).resolves.toBe(true);
    await page.screenshot({ path: path.join(ARTIFACTS, "first-run.png"), fullPage: true });
  });

  it("creates the owner account and lands on the dashboard", async () => {
    await page.getByLabel("Username").fill(OWNER.username);
    await page.getByLabel("Email").fill(OWNER.email);
    await page.getByLabel("Password", { exact: true }).fill(OWNER.password);
    await page.getByLabel("Confirm password").fill(OWNER.password);
    await page.getByRole("button", { name: "Create owner account" }).click();
    await page.waitForURL((u) => !u.pathname.startsWith("/setup"));
    for (const nav of ["Apps", "Users", "Domains", "Backups", "Event log", "Settings"]) {
      await page.getByRole("link", { name: nav }).first().waitFor();
    }
    await page.screenshot({ path: path.join(ARTIFACTS, "dashboard.png"), fullPage: true });
  });

  it("the first-run page is gone for good, in the browser and the API", async () => {
    await page.goto(`${BASE}/setup`);
    await page.waitForURL((u) => !u.pathname.startsWith("/setup"));
    const again = await api("POST", "/api/v1/setup/owner", { body: { username: "mallory", email: "m@example.com", password: "another long password" } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("conflict");
    expect((await api("GET", "/api/v1/status")).body.setupDone).toBe(true);
  });

  it("logs out and back in; a wrong password is refused with a message", async () => {
    await page.goto(`${BASE}/`);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(/\/login/);
    expect((await api("GET", "/api/v1/profile")).status).toBe(401);

    await page.getByLabel("Username").fill(OWNER.username);
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert").filter({ hasText: /\S/ });
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/invalid|wrong|incorrect/i);
    expect(page.url()).toMatch(/\/login/);
    await page.screenshot({ path: path.join(ARTIFACTS, "login-failed.png") });

    await page.getByLabel("Password").fill(OWNER.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL((u) => !u.pathname.startsWith("/login"));
    const profile = await api("GET", "/api/v1/profile");
    expect(profile.status).toBe(200);
    expect(profile.body.username).toBe(OWNER.username);
    expect(profile.body.role).toBe("owner");
  });

  it("creates an API token that is shown once and works as a bearer token", async () => {
    await page.getByRole("link", { name: "Settings" }).first().click();
    await page.getByLabel("Token name").fill("ci-e2e");
    await page.getByLabel("Scope").selectOption("read");
    await page.getByRole("button", { name: "Create token" }).click();
    const shown = page.getByText(/^hth_[A-Za-z0-9_-]+$/);
    await shown.waitFor();
    const token = (await shown.innerText()).trim();
    await page.screenshot({ path: path.join(ARTIFACTS, "token-created.png"), fullPage: true });

    const viaToken = await api("GET", "/api/v1/profile", { token });
    expect(viaToken.status).toBe(200);
    expect(viaToken.body.username).toBe(OWNER.username);
    // a read token may not change anything
    const write = await api("POST", "/api/v1/tokens", { token, body: { name: "escalate", scope: "read-write" } });
    expect(write.status).toBe(403);
    // the list never shows the secret again
    const list = await api("GET", "/api/v1/tokens", { token });
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(token);

    // the event log recorded the logins, the failed login and the token
    const events = await api("GET", "/api/v1/eventlog?per_page=100", { token });
    const actions = (events.body.events as { action: string }[]).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["user.setup_owner", "user.login", "user.login_failed", "token.create"]));
  });
});

describe("apps from the catalog in the browser", () => {
  it("adds a domain", async () => {
    await page.goto(`${BASE}/domains`);
    await page.getByLabel("Domain", { exact: true }).fill(APP_DOMAIN);
    await page.getByLabel("DNS provider").selectOption("noop");
    await page.getByRole("button", { name: "Add domain" }).click();
    await page.getByRole("cell", { name: new RegExp(`^${APP_DOMAIN.replace(".", "\\.")}`) }).first().waitFor();
  });

  it("installs the static site, watching the progress bar reach 100%", async () => {
    await page.goto(`${BASE}/catalog`);
    const card = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "Static Site" }) });
    await card.getByRole("button", { name: "Install" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Subdomain").fill("www");
    await dialog.getByRole("button", { name: "Install" }).click();
    await page.waitForURL(/\/apps\/[0-9a-f-]+/);
    await page.getByRole("progressbar").first().waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, "app-installing.png"), fullPage: true });
    await page.waitForFunction(() => document.querySelector('[role="progressbar"]')?.getAttribute("aria-valuenow") === "100", null, { timeout: 120_000 });
    await page.getByText("Static Site is ready").waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, "app-installed.png"), fullPage: true });
  });

  it("serves the app through nginx at its own subdomain, with the security headers", async () => {
    const appPage = await context.newPage();
    const res = await appPage.goto(`https://www.${APP_DOMAIN}/`);
    expect(res?.status()).toBe(200);
    expect(await appPage.getByRole("heading", { level: 1 }).innerText()).toMatch(/static site is running/i);
    const headers = res!.headers();
    expect(headers["strict-transport-security"]).toBeTruthy();
    expect(headers["x-content-type-options"]).toBe("nosniff");
    await appPage.screenshot({ path: path.join(ARTIFACTS, "app-served.png") });
    await appPage.close();
  });

  it("shows the app's live logs", async () => {
    const logs = page.getByLabel("App logs");
    await logs.waitFor();
    await expect.poll(async () => ((await logs.textContent()) ?? "").trim().length, { timeout: 30_000 }).toBeGreaterThan(0);
  });

  it("uninstalls it: the app, its container and its vhost are gone", async () => {
    const appId = new URL(page.url()).pathname.split("/").pop()!;
    await page.getByRole("button", { name: "Uninstall" }).click();
    await page.getByRole("dialog").getByLabel("App name").fill("Static Site");
    await page.getByRole("dialog").getByRole("button", { name: "Uninstall" }).click();
    await page.waitForURL(/\/apps$/, { timeout: 90_000 });
    await page.getByText("Nothing installed").waitFor({ timeout: 30_000 });
    await page.screenshot({ path: path.join(ARTIFACTS, "app-uninstalled.png"), fullPage: true });
    expect((await api("GET", `/api/v1/apps/${appId}`)).status).toBe(404);
  });
});
