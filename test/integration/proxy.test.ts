import { execFile } from "node:child_process";
import { chmodSync, existsSync, lchownSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import tls from "node:tls";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalNginx, NginxError } from "../../apps/box/src/proxy/nginx";
import { FLAT_FILE, renderVhosts, type Vhost } from "../../apps/box/src/proxy/vhost";
import { REPO_ROOT } from "../helpers/db";
import { curlResolve, eventually, freePort, headerValues, startTestNginx, type TestNginx } from "../helpers/nginx";

/**
 * box's proxy against a real nginx of its own (test/helpers/nginx.ts: high ports, pid/logs/temp
 * in a tmp dir; the system nginx is left alone) and tiny node upstreams on 127.0.0.1: rendered
 * vhosts serve the app with security headers, redirect http → https but serve ACME tokens,
 * proxy websockets, show the friendly page when the app is down, survive a broken config, and
 * reload nothing when the set is unchanged.
 */

const run = promisify(execFile);

let nginx: TestNginx;
let upstream: http.Server;
let upstreamPort = 0;
let dashboard: http.Server;
let dashboardPort = 0;
let certPath = "";
let keyPath = "";
let breakConfig = false;
const upgraded = new Set<import("node:stream").Duplex>();

function startUpstream(port: number, body: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url?.startsWith("/echo-headers")) {
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify(req.headers));
      return;
    }
    // the app sends its own security headers: nginx must not send them twice
    res.setHeader("X-Frame-Options", "DENY");
    res.setHeader("Strict-Transport-Security", "max-age=1");
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "no-referrer");
    res.setHeader("X-Powered-By", "tiny");
    res.setHeader("Content-Type", "text/plain");
    res.end(body);
  });
  server.on("upgrade", (req, socket) => {
    upgraded.add(socket);
    socket.on("close", () => upgraded.delete(socket));
    socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    socket.on("data", (d) => socket.write(`echo:${d.toString()}`));
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

const appUrl = (p = "/") => `https://app.example.test:${nginx.httpsPort}${p}`;

function vhosts(opts: { appPort?: number; withOld?: boolean } = {}): Vhost[] {
  const set: Vhost[] = [
    {
      type: "app",
      appId: "app1",
      fqdn: "app.example.test",
      aliases: ["alias.example.test"],
      upstreamPort: opts.appPort ?? upstreamPort,
      certPath,
      keyPath,
    },
    { type: "dashboard", fqdn: "my.example.test", upstreamPort: dashboardPort, certPath, keyPath },
  ];
  if (opts.withOld !== false) set.push({ type: "redirect", fqdn: "old.example.test", target: `https://app.example.test:${nginx.httpsPort}/`, certPath, keyPath });
  return set;
}

beforeAll(async () => {
  [upstreamPort, dashboardPort] = await Promise.all([freePort(), freePort()]);
  upstream = await startUpstream(upstreamPort, "hello from the app");
  dashboard = await startUpstream(dashboardPort, "hello from the dashboard");
  nginx = await startTestNginx({
    proxy: {
      afterRender: (files) => {
        // the default layout: every app and redirect name in one file
        if (breakConfig) files.set(FLAT_FILE, `${files.get(FLAT_FILE)}\nbogus_directive on;\n`);
        return files;
      },
    },
  });
  ({ certPath, keyPath } = await nginx.proxy.fallbackCert("example.test"));

  const r = await nginx.proxy.apply(vhosts());
  expect(r.changed).toBe(true);
  // a real nginx -t and reload, timed apart (box's task log and bench/scale.ts report them)
  expect(r.nginx).toEqual({ totalMs: expect.any(Number), checkMs: expect.any(Number), reloadMs: expect.any(Number) });
  expect(r.nginx!.checkMs!).toBeGreaterThan(0);
  expect(r.nginx!.totalMs).toBeGreaterThanOrEqual(r.nginx!.checkMs! + r.nginx!.reloadMs! - 1);
  // the reload is asynchronous: wait for the new listeners
  await eventually(
    () => curlResolve(appUrl()),
    (x) => x.status === 200,
  );
});

afterAll(async () => {
  await nginx?.stop();
  for (const s of upgraded) s.destroy();
  for (const server of [upstream, dashboard]) {
    if (!server) continue;
    // keep-alive and upgraded connections from nginx would hold close() open
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

describe("proxy through a real nginx", () => {
  it("serves the app over https with the security headers, each once", async () => {
    const r = await curlResolve(appUrl());
    expect(r.status).toBe(200);
    expect(r.body).toBe("hello from the app");
    expect(headerValues(r, "strict-transport-security")).toEqual(["max-age=63072000"]);
    expect(headerValues(r, "x-content-type-options")).toEqual(["nosniff"]);
    expect(headerValues(r, "x-frame-options")).toEqual(["SAMEORIGIN"]);
    expect(headerValues(r, "referrer-policy")).toEqual(["strict-origin-when-cross-origin"]);
    expect(headerValues(r, "x-powered-by")).toEqual([]);
    // HTTP/2 was negotiated
    const h2 = await curlResolve(appUrl(), ["--http2"]);
    expect(h2.status).toBe(200);
    const { stdout } = await run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_version}", "--http2", "--resolve", `app.example.test:${nginx.httpsPort}:127.0.0.1`, appUrl()]);
    expect(stdout).toBe("2");
  });

  it("passes Host and X-Forwarded-* to the app", async () => {
    const r = await curlResolve(appUrl("/echo-headers"), ["-H", "X-Forwarded-For: 6.6.6.6"]);
    const h = JSON.parse(r.body) as Record<string, string>;
    expect(h.host).toBe("app.example.test");
    expect(h["x-forwarded-proto"]).toBe("https");
    expect(h["x-forwarded-host"]).toBe("app.example.test");
    expect(h["x-forwarded-for"]).toBe("127.0.0.1");
    expect(h["x-real-ip"]).toBe("127.0.0.1");
  });

  it("serves aliases and the dashboard vhost", async () => {
    const a = await curlResolve(`https://alias.example.test:${nginx.httpsPort}/`);
    expect(a.body).toBe("hello from the app");
    const d = await curlResolve(`https://my.example.test:${nginx.httpsPort}/`);
    expect(d.body).toBe("hello from the dashboard");
    expect(headerValues(d, "x-frame-options")).toEqual(["DENY"]);
  });

  it("redirects http to https, keeping path and query", async () => {
    const r = await curlResolve(`http://app.example.test:${nginx.httpPort}/some/page?x=1`);
    expect(r.status).toBe(301);
    expect(headerValues(r, "location")).toEqual([`https://app.example.test:${nginx.httpsPort}/some/page?x=1`]);
  });

  it("a redirect vhost sends every path to the target", async () => {
    const r = await curlResolve(`https://old.example.test:${nginx.httpsPort}/a/b?c=d`);
    expect(r.status).toBe(301);
    expect(headerValues(r, "location")).toEqual([`https://app.example.test:${nginx.httpsPort}/a/b?c=d`]);
  });

  it("serves ACME challenge tokens over plain http on app and redirect vhosts", async () => {
    writeFileSync(path.join(nginx.proxy.acmeChallengeDir, "tok-123_ABC"), "tok-123_ABC.thumbprint");
    chmodSync(path.join(nginx.proxy.acmeChallengeDir, "tok-123_ABC"), 0o644);
    for (const host of ["app.example.test", "old.example.test"]) {
      const r = await curlResolve(`http://${host}:${nginx.httpPort}/.well-known/acme-challenge/tok-123_ABC`);
      expect(r.status).toBe(200);
      expect(r.body).toBe("tok-123_ABC.thumbprint");
    }
    const missing = await curlResolve(`http://app.example.test:${nginx.httpPort}/.well-known/acme-challenge/nope`);
    expect(missing.status).toBe(404);
    // a link planted in box's token folder to a file someone else owns is not followed
    // (disable_symlinks if_not_owner in setup/nginx/hearth-http.conf); a link to box's own file is
    const secret = path.join(nginx.prefix, "not-a-token.txt");
    writeFileSync(secret, "someone else's file", { mode: 0o644 });
    const link = path.join(nginx.proxy.acmeChallengeDir, "tok-link");
    symlinkSync(secret, link);
    lchownSync(link, 65534, 65534); // the link is box's (here: nobody's), the file root's
    const followed = await curlResolve(`http://app.example.test:${nginx.httpPort}/.well-known/acme-challenge/tok-link`);
    expect(followed.status).toBe(403);
    expect(followed.body).not.toContain("someone else's file");
    lchownSync(link, 0, 0);
    expect((await curlResolve(`http://app.example.test:${nginx.httpPort}/.well-known/acme-challenge/tok-link`)).body).toBe("someone else's file");
    rmSync(link);
  });

  it("presents the self-signed fallback certificate and upgrades websockets", async () => {
    const socket = tls.connect({ host: "127.0.0.1", port: nginx.httpsPort, servername: "app.example.test", rejectUnauthorized: false, ALPNProtocols: ["http/1.1"] });
    await new Promise<void>((resolve, reject) => {
      socket.once("secureConnect", resolve);
      socket.once("error", reject);
    });
    expect(socket.getPeerCertificate().subjectaltname).toContain("DNS:*.example.test");
    let received = "";
    socket.on("data", (d) => (received += d.toString()));
    socket.write("GET /ws HTTP/1.1\r\nHost: app.example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    await eventually(
      async () => received,
      (r) => r.includes("\r\n\r\n"),
    );
    expect(received).toMatch(/^HTTP\/1\.1 101 /);
    received = "";
    socket.write("ping");
    await eventually(
      async () => received,
      (r) => r.includes("echo:ping"),
    );
    socket.destroy();
  });

  it("applying the same set again reloads nothing", async () => {
    const reloads = nginx.adapter.reloads;
    const workers = nginx.workerPids();
    const target = readlinkSync(path.join(nginx.dataDir, "nginx", "sites"));
    const r = await nginx.proxy.apply(vhosts());
    expect(r).toMatchObject({ changed: false, reloaded: false });
    expect(r.nginx).toBeUndefined();
    expect(nginx.adapter.reloads).toBe(reloads);
    expect(readlinkSync(path.join(nginx.dataDir, "nginx", "sites"))).toBe(target);
    await sleep(300);
    expect(nginx.workerPids()).toEqual(workers);
  });

  it("a broken config keeps the old one serving and reports nginx's error", async () => {
    const sites = path.join(nginx.dataDir, "nginx", "sites");
    const before = Object.fromEntries(readdirSync(sites).map((f) => [f, readFileSync(path.join(sites, f), "utf8")]));
    const reloads = nginx.adapter.reloads;
    const workers = nginx.workerPids();
    breakConfig = true;
    try {
      const err = await nginx.proxy.apply(vhosts({ withOld: false })).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe("external");
      expect((err as Error).message).toMatch(/unknown directive "bogus_directive"/);
    } finally {
      breakConfig = false;
    }
    expect(nginx.adapter.reloads).toBe(reloads);
    expect(Object.fromEntries(readdirSync(sites).map((f) => [f, readFileSync(path.join(sites, f), "utf8")]))).toEqual(before);
    expect(nginx.workerPids()).toEqual(workers);
    const r = await curlResolve(appUrl());
    expect(r.body).toBe("hello from the app");
    expect((await curlResolve(`https://old.example.test:${nginx.httpsPort}/`)).status).toBe(301);
  });

  it("removing a vhost removes its name from the flat file and nginx stops serving it", async () => {
    const flat = () => readFileSync(path.join(nginx.dataDir, "nginx", "sites", FLAT_FILE), "utf8");
    expect(flat()).toMatch(/^ {4}old\.example\.test https:/m);
    const r = await nginx.proxy.apply(vhosts({ withOld: false }));
    expect(r).toMatchObject({ changed: true, updated: [FLAT_FILE], removed: [] });
    expect(flat()).not.toContain("old.example.test");
    // the name now falls to the default server (the first app on the port), no longer a redirect
    await eventually(
      () => curlResolve(`https://old.example.test:${nginx.httpsPort}/`),
      (x) => x.status !== 301,
    );
  });

  it("an app nginx cannot reach gets its page (not responding) with status 502 and the security headers", async () => {
    const downPort = await freePort();
    await nginx.proxy.apply(vhosts({ appPort: downPort, withOld: false }));
    const r = await eventually(
      () => curlResolve(appUrl()),
      (x) => x.status === 502,
    );
    // no state given: box's page says what nginx sees
    expect(r.body).toContain("app.example.test is not responding");
    expect(headerValues(r, "content-type")[0]).toMatch(/^text\/html/);
    expect(headerValues(r, "strict-transport-security")).toEqual(["max-age=63072000"]);
    expect(headerValues(r, "x-content-type-options")).toEqual(["nosniff"]);
    expect(headerValues(r, "x-frame-options")).toEqual(["SAMEORIGIN"]);

    // and once the app is back it is served again
    await nginx.proxy.apply(vhosts({ withOld: false }));
    await eventually(
      () => curlResolve(appUrl()),
      (x) => x.status === 200 && x.body === "hello from the app",
    );
  });
});

describe("rendered vhosts next to setup's dashboard vhost", () => {
  it("pass nginx -t on ports 80/443 with IPv6, beside the dashboard's default_server, with no sites dir yet", async () => {
    const dir = path.join(nginx.root, "check");
    mkdirSync(path.join(dir, "sites"), { recursive: true });
    const dashboardConf = readFileSync(path.join(REPO_ROOT, "setup/nginx/dashboard.conf"), "utf8")
      .replaceAll("@CERT@", certPath)
      .replaceAll("@KEY@", keyPath)
      .replaceAll("@ACME_DIR@", nginx.proxy.acmeChallengeDir)
      .replaceAll("@PAGES_DIR@", nginx.proxy.pagesDir)
      .replace(/^#IPV6/gm, "")
      .replace(/\/var\/log\/nginx\//g, `${dir}/`);
    writeFileSync(path.join(dir, "dashboard.conf"), dashboardConf);
    const files = renderVhosts(vhosts(), { ...nginx.proxy.renderOptions, httpPort: 80, httpsPort: 443, ipv6: true });
    for (const [name, text] of files) writeFileSync(path.join(dir, "sites", name), text);
    const conf = (sites: string) =>
      [
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log;`,
        "events {}",
        "http {",
        `    access_log ${dir}/access.log;`,
        `    include ${path.join(REPO_ROOT, "setup/nginx/hearth-http.conf")};`,
        `    include ${dir}/dashboard.conf;`,
        `    include ${sites}/*.conf;`,
        "}",
        "",
      ].join("\n");
    writeFileSync(path.join(dir, "nginx.conf"), conf(path.join(dir, "sites")));
    const check = new LocalNginx(dir, path.join(dir, "nginx.conf"));
    // -t only: nothing binds the real ports; the reload fails since this nginx is not running
    const err = await check.checkAndReload().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NginxError);
    expect((err as NginxError).stage).toBe("reload");
    // the include line works before box ever wrote a vhost
    writeFileSync(path.join(dir, "nginx.conf"), conf(path.join(dir, "missing", "sites")));
    const err2 = await check.checkAndReload().catch((e: unknown) => e);
    expect((err2 as NginxError).stage).toBe("reload");
  });
});

describe("a fresh set: setup's dashboard vhost and no app vhost yet", () => {
  // a nginx of its own, never given a vhost set: what a server has right after install.sh,
  // when the first certificate is ordered before any app exists
  let fresh: TestNginx;
  beforeAll(async () => {
    fresh = await startTestNginx({ dashboard: { upstreamPort: dashboardPort } });
  });
  afterAll(async () => {
    await fresh?.stop();
  });

  it("has no vhost file at all", () => {
    const files = existsSync(fresh.proxy.sitesLink) ? readdirSync(fresh.proxy.sitesLink) : [];
    expect(files.filter((f) => f.endsWith(".conf"))).toEqual([]);
  });

  it("serves ACME challenge tokens over plain http, before any app exists, for any name", async () => {
    const token = `tok-fresh_${Date.now()}`;
    writeFileSync(path.join(fresh.proxy.acmeChallengeDir, token), `${token}.thumbprint`);
    chmodSync(path.join(fresh.proxy.acmeChallengeDir, token), 0o644);
    // names no vhost claims: the first app's name, the dashboard's, the server's address
    for (const host of ["first-app.example.test", "my.example.test", "127.0.0.1"]) {
      const r = await curlResolve(`http://${host}:${fresh.httpPort}/.well-known/acme-challenge/${token}`);
      expect(r.status, host).toBe(200);
      expect(r.body, host).toBe(`${token}.thumbprint`);
    }
    const missing = await curlResolve(`http://first-app.example.test:${fresh.httpPort}/.well-known/acme-challenge/nope`);
    expect(missing.status).toBe(404);
    // anything else on plain http is the dashboard's redirect to https
    const other = await curlResolve(`http://first-app.example.test:${fresh.httpPort}/x`);
    expect(other.status).toBe(301);
  });
});
