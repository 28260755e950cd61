import { existsSync, mkdirSync, readdirSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppPageState } from "../../apps/box/src/proxy/pages";
import type { Vhost } from "../../apps/box/src/proxy/vhost";
import { REPO_ROOT } from "../helpers/db";
import { curlResolve, eventually, freePort, headerValues, startTestNginx, type CurlResult, type TestNginx } from "../helpers/nginx";
import { steadyGoto } from "../helpers/chromium";

/**
 * Honest pages (issue 14) on a real nginx with setup's default servers (setup/nginx/dashboard.conf
 * as install.sh installs it) and box's vhosts, in both layouts: a name no app has gets the
 * neutral "No app here" page (404), never the dashboard; the dashboard is at my.<domain>, the
 * server's IP and localhost; a stopped app's names answer 503 "<title> is stopped by the
 * administrator" without reaching the app and without reloading; a crashed app says so;
 * an app started again is served again. apps-nginx.test.ts goes through box's tasks and Docker.
 */

const DOMAIN = "honest-pages.test";

interface Upstream {
  server: http.Server;
  port: number;
  hits: number;
}

async function startUpstream(body: string): Promise<Upstream> {
  const u: Upstream = { server: http.createServer(), port: await freePort(), hits: 0 };
  u.server.on("request", (_req, res) => {
    u.hits++;
    res.setHeader("Content-Type", "text/plain");
    res.end(body);
  });
  await new Promise<void>((r) => u.server.listen(u.port, "127.0.0.1", r));
  return u;
}

async function stopUpstream(u: Upstream | undefined): Promise<void> {
  if (!u) return;
  u.server.closeAllConnections();
  await new Promise((r) => u.server.close(r));
}

/**
 * Applies a set and waits until nginx's workers of the previous set are gone: a reload is
 * asynchronous, and an old worker may still take a connection after the first answer of a new one.
 */
async function applied(nginx: TestNginx, vhosts: Vhost[]): Promise<void> {
  const before = nginx.workerPids();
  const r = await nginx.proxy.apply(vhosts);
  if (!r.reloaded) return;
  await eventually(
    async () => nginx.workerPids(),
    (now) => now.length > 0 && now.every((p) => !before.includes(p)),
    15_000,
    50,
  );
}

const noAppHere = (r: CurlResult) => r.status === 404 && r.body.includes("<h1>No app here</h1>");
const isDashboard = (r: CurlResult) => r.status === 200 && r.body === "hearth dashboard";
const refreshes = (r: CurlResult) => /http-equiv="refresh"/i.test(r.body);

for (const layout of ["flat", "per-vhost"] as const) {
  describe(`honest pages, ${layout} layout`, () => {
    let nginx: TestNginx;
    let dashboard: Upstream;
    let app: Upstream;
    let downPort = 0;
    let tls: { certPath: string; keyPath: string };
    const url = (host: string, p = "/") => `https://${host}:${nginx.httpsPort}${p}`;

    /** The set box's vhost sync would render: the dashboard, a wiki in `state`, a chat app that is always up. */
    const set = (state: AppPageState | "gone", opts: { port?: number } = {}): Vhost[] => [
      { type: "dashboard", fqdn: `my.${DOMAIN}`, upstreamPort: dashboard.port, ...tls },
      ...(state === "gone"
        ? []
        : [{ type: "app" as const, appId: "Wiki1", fqdn: `wiki.${DOMAIN}`, aliases: [`docs.${DOMAIN}`], upstreamPort: opts.port ?? app.port, state, title: "Team <Wiki>", ...tls }]),
      { type: "app", appId: "Chat1", fqdn: `chat.${DOMAIN}`, upstreamPort: app.port, state: "not_responding", title: "Chat", ...tls },
    ];
    const pageFiles = () => readdirSync(nginx.proxy.pagesDir).sort();

    beforeAll(async () => {
      dashboard = await startUpstream("hearth dashboard");
      app = await startUpstream("hello from the wiki");
      downPort = await freePort();
      nginx = await startTestNginx({ dashboard: { upstreamPort: dashboard.port }, proxy: { layout } });
      tls = await nginx.proxy.fallbackCert(DOMAIN);
      await applied(nginx, set("starting"));
    });

    afterAll(async () => {
      await nginx?.stop();
      await stopUpstream(dashboard);
      await stopUpstream(app);
    });

    it("a name no app has gets the neutral 'No app here' page (404), never the dashboard or its login; over http it is sent to https as before", async () => {
      for (const host of [`gone.${DOMAIN}`, "stranger.example.org", "localhost.localdomain"]) {
        const r = await curlResolve(url(host, "/login?next=/"));
        expect(noAppHere(r), `${host}: ${r.status} ${r.body.slice(0, 200)}`).toBe(true);
        expect(r.body).not.toContain("hearth dashboard");
        expect(r.body).not.toMatch(/log ?in|sign ?in|password|<script|<link|src=/i);
        expect(refreshes(r)).toBe(false);
        expect(headerValues(r, "content-type")[0]).toMatch(/^text\/html/);
      }
      expect(dashboard.hits).toBe(0);
      const plain = await curlResolve(`http://gone.${DOMAIN}:${nginx.httpPort}/x`);
      expect(plain.status).toBe(301);
    });

    it("the dashboard is at my.<domain>, the server's IP and localhost", async () => {
      expect(isDashboard(await curlResolve(url(`my.${DOMAIN}`)))).toBe(true);
      for (const host of ["127.0.0.1", "localhost"]) {
        const r = await curlResolve(url(host, "/api/v1/status"));
        expect(isDashboard(r), `${host}: ${r.status} ${r.body.slice(0, 200)}`).toBe(true);
      }
      // an IPv6 address as typed in the address bar (Host: [2001:db8::1]:443)
      const v6 = await curlResolve(url("127.0.0.1"), ["-H", `Host: [2001:db8::1]:${nginx.httpsPort}`]);
      expect(isDashboard(v6), `${v6.status} ${v6.body.slice(0, 200)}`).toBe(true);
      // a name made to look like an address is not one
      expect(noAppHere(await curlResolve(url("127.0.0.1.nip.example")))).toBe(true);
    });

    it("a stopped app: 503 '<title> is stopped by the administrator' on every name, nothing proxied, no reload; started again it is served", async () => {
      expect(pageFiles()).toEqual(["app-state-chat1.html", "app-state-wiki1.html", "app-unavailable.html", "no-app.html"]);
      await applied(nginx, set("stopped"));
      const hits = app.hits;
      for (const host of [`wiki.${DOMAIN}`, `docs.${DOMAIN}`]) {
        const r = await curlResolve(url(host, "/some/page"));
        expect(r.status).toBe(503);
        expect(r.body).toContain("<h1>Team &#60;Wiki&#62; is stopped by the administrator</h1>");
        expect(r.body).not.toContain("starting or not responding");
        expect(refreshes(r)).toBe(false);
        expect(headerValues(r, "refresh")).toEqual([]);
        expect(headerValues(r, "content-type")[0]).toMatch(/^text\/html/);
        expect(headerValues(r, "strict-transport-security")).toEqual(["max-age=63072000"]);
        expect(headerValues(r, "x-frame-options")).toEqual(["SAMEORIGIN"]);
      }
      // the app's upstream still listens, but a stopped app's names never reach it
      expect(app.hits).toBe(hits);
      // the other app is untouched
      expect((await curlResolve(url(`chat.${DOMAIN}`))).body).toBe("hello from the wiki");

      await applied(nginx, set("starting"));
      const back = await curlResolve(url(`wiki.${DOMAIN}`));
      expect(back.status).toBe(200);
      expect(back.body).toBe("hello from the wiki");
    });

    it("starting, crashed and not responding say so when nginx cannot reach the app; starting reloads gently", async () => {
      await applied(nginx, set("starting", { port: downPort }));
      const starting = await curlResolve(url(`wiki.${DOMAIN}`));
      expect(starting.status).toBe(502);
      expect(starting.body).toContain("Team &#60;Wiki&#62; is starting");
      expect(starting.body).toContain('<meta http-equiv="refresh" content="10">');
      // a health change rewrites only the page: the set nginx runs is the same, nothing reloaded
      const reloads = nginx.adapter.reloads;
      const r = await nginx.proxy.apply(set("crashed", { port: downPort }));
      expect(r).toMatchObject({ changed: false, reloaded: false });
      const crashed = await curlResolve(url(`wiki.${DOMAIN}`));
      expect(crashed.status).toBe(502);
      expect(crashed.body).toContain("Team &#60;Wiki&#62; has crashed and is being restarted");
      await nginx.proxy.apply(set("not_responding", { port: downPort }));
      expect((await curlResolve(url(`docs.${DOMAIN}`))).body).toContain("Team &#60;Wiki&#62; is not responding");
      expect(nginx.adapter.reloads).toBe(reloads);
    });

    it("an app whose vhost is gone (uninstalled): its names get 'No app here' and its page file is removed", async () => {
      await applied(nginx, set("gone"));
      for (const host of [`wiki.${DOMAIN}`, `docs.${DOMAIN}`]) {
        const r = await curlResolve(url(host));
        expect(noAppHere(r), `${host}: ${r.status}`).toBe(true);
        expect(r.body).not.toContain("hearth dashboard");
      }
      expect(existsSync(path.join(nginx.proxy.pagesDir, "app-state-wiki1.html"))).toBe(false);
      expect(pageFiles()).toEqual(["app-state-chat1.html", "app-unavailable.html", "no-app.html"]);
      expect(dashboard.hits).toBeGreaterThan(0);
    });
  });
}

describe("honest pages in Chromium (screenshots in test-results/)", () => {
  let nginx: TestNginx;
  let dashboard: Upstream;
  const ARTIFACTS = path.join(REPO_ROOT, "test-results");

  beforeAll(async () => {
    dashboard = await startUpstream("hearth dashboard");
    nginx = await startTestNginx({ dashboard: { upstreamPort: dashboard.port } });
    const tls = await nginx.proxy.fallbackCert(DOMAIN);
    const down = await freePort();
    await applied(nginx, [
      { type: "dashboard", fqdn: `my.${DOMAIN}`, upstreamPort: dashboard.port, ...tls },
      { type: "app", appId: "Stopped9", fqdn: `notes.${DOMAIN}`, upstreamPort: down, state: "stopped", title: "Team Notes", ...tls },
      { type: "app", appId: "Starting9", fqdn: `blog.${DOMAIN}`, upstreamPort: down, state: "starting", title: "Blog", ...tls },
    ]);
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await nginx?.stop();
    await stopUpstream(dashboard);
  });

  it("an unknown name and a stopped app show their pages, which stay put; a starting app's page reloads itself", async () => {
    const browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", `--host-resolver-rules=MAP *.${DOMAIN} 127.0.0.1`],
    });
    try {
      const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1000, height: 640 } });
      const page = await context.newPage();
      const loads: string[] = [];
      page.on("load", () => loads.push(page.url()));
      const requested: string[] = [];
      page.on("request", (r) => requested.push(r.url()));

      const gone = await steadyGoto(page, `https://gone.${DOMAIN}:${nginx.httpsPort}/`);
      expect(gone?.status()).toBe(404);
      await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("No app here");
      expect(await page.locator("input, form, script, link, img").count()).toBe(0);
      await page.screenshot({ path: path.join(ARTIFACTS, "honest-pages-no-app.png") });

      loads.length = 0;
      requested.length = 0;
      const stopped = await steadyGoto(page, `https://notes.${DOMAIN}:${nginx.httpsPort}/some/page`);
      expect(stopped?.status()).toBe(503);
      await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Team Notes is stopped by the administrator");
      await page.screenshot({ path: path.join(ARTIFACTS, "honest-pages-stopped.png") });
      // no reload and nothing else fetched: the page is self-contained and stays
      await sleep(3_000);
      expect(loads).toHaveLength(1);
      expect(requested).toEqual([`https://notes.${DOMAIN}:${nginx.httpsPort}/some/page`]);
      expect(dashboard.hits).toBe(0);

      const starting = await steadyGoto(page, `https://blog.${DOMAIN}:${nginx.httpsPort}/`);
      expect(starting?.status()).toBe(502);
      await expect(page.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("Blog is starting");
      expect(await page.locator('meta[http-equiv="refresh"]').getAttribute("content")).toBe("10");
      await page.screenshot({ path: path.join(ARTIFACTS, "honest-pages-starting.png") });
      await context.close();
    } finally {
      await browser.close();
    }
  }, 60_000);
});
