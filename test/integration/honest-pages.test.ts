import { existsSync, readdirSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppPageState } from "../../apps/box/src/proxy/pages";
import type { Vhost } from "../../apps/box/src/proxy/vhost";
import { curlResolve, eventually, freePort, headerValues, startTestNginx, type CurlResult, type TestNginx } from "../helpers/nginx";

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
      await nginx.proxy.apply(set("starting"));
      await eventually(
        () => curlResolve(url(`wiki.${DOMAIN}`)),
        (r) => r.status === 200,
      );
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
    });

    it("a stopped app: 503 '<title> is stopped by the administrator' on every name, nothing proxied, no reload; started again it is served", async () => {
      expect(pageFiles()).toEqual(["app-state-chat1.html", "app-state-wiki1.html", "app-unavailable.html", "no-app.html"]);
      await nginx.proxy.apply(set("stopped"));
      // the reload is asynchronous: count the app's requests from the first 503 on
      await eventually(
        () => curlResolve(url(`wiki.${DOMAIN}`)),
        (x) => x.status === 503,
      );
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

      await nginx.proxy.apply(set("starting"));
      const back = await eventually(
        () => curlResolve(url(`wiki.${DOMAIN}`)),
        (x) => x.status === 200,
      );
      expect(back.body).toBe("hello from the wiki");
    });

    it("starting, crashed and not responding say so when nginx cannot reach the app; starting reloads gently", async () => {
      await nginx.proxy.apply(set("starting", { port: downPort }));
      const starting = await eventually(
        () => curlResolve(url(`wiki.${DOMAIN}`)),
        (x) => x.status === 502 && x.body.includes("Team &#60;Wiki&#62; is starting"),
      );
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
      await nginx.proxy.apply(set("gone"));
      for (const host of [`wiki.${DOMAIN}`, `docs.${DOMAIN}`]) {
        const r = await eventually(() => curlResolve(url(host)), noAppHere);
        expect(r.body).not.toContain("hearth dashboard");
      }
      expect(existsSync(path.join(nginx.proxy.pagesDir, "app-state-wiki1.html"))).toBe(false);
      expect(pageFiles()).toEqual(["app-state-chat1.html", "app-unavailable.html", "no-app.html"]);
      expect(dashboard.hits).toBeGreaterThan(0);
    });
  });
}
