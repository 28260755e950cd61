import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { helperPayload, SudoNginx, type HelperPayload } from "../../apps/box/src/proxy/nginx";
import { appPages, ProxyService } from "../../apps/box/src/proxy/proxy.service";
import { renderFlatVhosts, renderVhosts, type Vhost } from "../../apps/box/src/proxy/vhost";
import { REPO_ROOT } from "../helpers/db";
import { curlResolve, eventually, freePort, headerValues } from "../helpers/nginx";

/**
 * The trust boundaries between box's user (hearth), admin's user (hearth-admin) and root,
 * with real users, real sudo, a real root nginx and the real helper scripts:
 *
 * - box's vhost sync path (ProxyService → SudoNginx → `sudo -n install-vhosts.sh` as hearth)
 *   installs a checked set that root's nginx serves;
 * - hostile files planted by hearth in every folder it can write are never read by root's
 *   nginx, and a hostile set on stdin is refused with a clear message, changing nothing;
 * - hearth-admin can run no helper, write in none of Hearth's folders, reach no Docker;
 * - the supervisor (root) writes pid files and logs only in root's folders, following no
 *   link planted before.
 *
 * The helper is a root-owned copy under /run/hearth-trust-<id> (sudo and the helper insist
 * on root-owned folders up to /), pointed at this test's nginx by the root-owned
 * install-vhosts.conf beside it; a sudoers drop-in of this test lets hearth run that copy.
 * The machine's own nginx, /etc/nginx/hearth and /var/lib/hearth are not touched.
 */
const ID = randomBytes(4).toString("hex");
const T = `/run/hearth-trust-${ID}`;
const HELPERS = path.join(T, "helpers");
const HELPER = path.join(HELPERS, "install-vhosts.sh");
const NGINX_ROOT = path.join(T, "nginx-root");
const PREFIX = path.join(T, "prefix");
const CONF = path.join(PREFIX, "nginx.conf");
const DATA = path.join(T, "data");
const PUBLIC = path.join(T, "public");
const SUDO_AS_HEARTH = path.join(T, "bin", "sudo-as-hearth");
const SUDOERS = `/etc/sudoers.d/hearth-trust-${ID}`;
/** Files that must never appear: what a hostile config would make root write. */
const ROOT_TARGET = (what: string) => `/root/hearth-trust-${ID}-${what}`;

function sh(script: string, input?: string) {
  return spawnSync("bash", ["-c", script], { encoding: "utf8", input });
}
function must(script: string): string {
  const r = sh(script);
  if (r.status !== 0) throw new Error(`${script}\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
/** Runs argv as a user (setpriv: real uid/gid, the groups given, no capabilities). */
function as(user: "hearth" | "hearth-admin", argv: string[], opts: { groups?: string; input?: string } = {}) {
  const groups = opts.groups ? [`--groups=${opts.groups}`] : ["--init-groups"];
  return spawnSync("setpriv", [`--reuid=${user}`, `--regid=${user}`, ...groups, "--inh-caps=-all", ...argv], { encoding: "utf8", input: opts.input });
}
/** `as`, without blocking this process (for peers served from it). */
function asAsync(user: "hearth" | "hearth-admin", argv: string[], groups: string): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const c = spawn("setpriv", [`--reuid=${user}`, `--regid=${user}`, `--groups=${groups}`, "--inh-caps=-all", ...argv], { stdio: ["ignore", "pipe", "ignore"] });
    let stdout = "";
    c.stdout.on("data", (d) => (stdout += d));
    c.on("close", (status) => resolve({ status, stdout }));
  });
}
function rootTargetsPresent(): string[] {
  return readdirSync("/root").filter((f) => f.startsWith(`hearth-trust-${ID}`));
}
function liveGen(): string {
  return readlinkSync(path.join(NGINX_ROOT, "live"));
}
/** Every entry below dir with its owner, mode and kind. */
function walk(dir: string): { p: string; uid: number; mode: number; link: boolean; dir: boolean }[] {
  const out: ReturnType<typeof walk> = [];
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    const st = lstatSync(p);
    out.push({ p, uid: st.uid, mode: st.mode & 0o7777, link: st.isSymbolicLink(), dir: st.isDirectory() });
    if (st.isDirectory()) out.push(...walk(p));
  }
  return out;
}

/** The same users and groups setup/install.sh creates, when this machine has none yet. */
function ensureUsers() {
  must(`
    getent group hearth >/dev/null || groupadd --system hearth || getent group hearth >/dev/null
    id -u hearth >/dev/null 2>&1 || useradd --system --gid hearth --home-dir /var/lib/hearth --no-create-home --shell /usr/sbin/nologin --comment Hearth hearth || id -u hearth >/dev/null
    getent group hearth-sock >/dev/null || groupadd --system hearth-sock || getent group hearth-sock >/dev/null
    getent group hearth-admin >/dev/null || groupadd --system hearth-admin || getent group hearth-admin >/dev/null
    id -u hearth-admin >/dev/null 2>&1 || useradd --system --gid hearth-admin --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin --comment "Hearth admin dashboard" hearth-admin || id -u hearth-admin >/dev/null
    getent group docker >/dev/null || groupadd --system docker || true
  `);
}

let nginx: ChildProcess;
let backend: http.Server;
/** The headers of the last request the backend (app or "admin") got. */
let lastHeaders: http.IncomingHttpHeaders = {};
const PROXY_SECRET = randomBytes(32).toString("hex");
let backendPort: number;
let httpPort: number;
let httpsPort: number;
let proxy: ProxyService;
let sudoNginx: SudoNginx;
let certPath: string;
let keyPath: string;
let goodPayload: HelperPayload;

function appVhost(): Vhost[] {
  return [{ type: "app", appId: `trust${ID}`, fqdn: "app.trust.test", upstreamPort: backendPort, certPath, keyPath }];
}

/** The test nginx's worker pids (they change on every reload). */
const workers = () =>
  must(`pgrep -P ${readFileSync(path.join(PREFIX, "nginx.pid"), "utf8").trim()} || true`)
    .split("\n")
    .filter(Boolean)
    .sort();

/**
 * The helper's options for this test's nginx; with its error log (as the system nginx has
 * /var/log/nginx/error.log) the reload is the check, without it nginx -t runs first.
 */
function helperConf(withErrorLog = true): string {
  return `--root ${NGINX_ROOT}\n--public-dir ${PUBLIC}\n--nginx-prefix ${PREFIX}\n--nginx-conf ${CONF}\n--nginx-pid ${PREFIX}/nginx.pid\n--admin-port ${backendPort}\n${withErrorLog ? `--nginx-error-log ${PREFIX}/logs/error.log\n` : ""}`;
}

function runHelperAs(user: "hearth" | "hearth-admin", input: string, args: string[] = []) {
  return as(user, ["sudo", "-n", HELPER, ...args], { input });
}

beforeAll(async () => {
  ensureUsers();
  mkdirSync(T, { mode: 0o755 });
  chmodSync(T, 0o755);
  for (const d of [HELPERS, NGINX_ROOT, path.join(T, "bin"), path.join(PREFIX, "logs"), path.join(PREFIX, "temp")]) mkdirSync(d, { recursive: true, mode: 0o755 });
  for (const f of ["install-vhosts.sh", "install-vhosts.mjs"]) copyFileSync(path.join(REPO_ROOT, "setup/sudo", f), path.join(HELPERS, f));
  chmodSync(HELPER, 0o755);
  writeFileSync(SUDO_AS_HEARTH, `#!/bin/sh\nexec setpriv --reuid=hearth --regid=hearth --init-groups --inh-caps=-all sudo "$@"\n`, { mode: 0o755 });
  const sudoers = `Defaults:hearth !requiretty\nhearth ALL=(root) NOPASSWD: ${HELPER}\n`;
  writeFileSync(`${SUDOERS}.tmp`, sudoers, { mode: 0o440 });
  must(`visudo -cf ${SUDOERS}.tmp && mv ${SUDOERS}.tmp ${SUDOERS}`);

  backend = http.createServer((req, res) => {
    lastHeaders = req.headers;
    res.end("backend-ok");
  });
  backendPort = await freePort();
  // the test's backend stands for admin: the helper sends the proxy secret only to admin's port
  writeFileSync(path.join(HELPERS, "install-vhosts.conf"), helperConf(), {
    mode: 0o644,
  });
  await new Promise<void>((r) => backend.listen(backendPort, "127.0.0.1", r));
  httpPort = await freePort();
  httpsPort = await freePort();

  // root's nginx: the shared http settings and setup's include of the vhost set, moved to this test's root folder
  const sitesConf = readFileSync(path.join(REPO_ROOT, "setup/nginx/hearth-sites.conf"), "utf8");
  expect(sitesConf).toContain("include /etc/nginx/hearth/live/sites/*.conf;");
  writeFileSync(path.join(PREFIX, "hearth-sites.conf"), sitesConf.replaceAll("/etc/nginx/hearth", NGINX_ROOT));
  // the shared http settings with root's proxy-secret map moved here too (install.sh writes it 0600)
  const httpConf = readFileSync(path.join(REPO_ROOT, "setup/nginx/hearth-http.conf"), "utf8");
  expect(httpConf).toContain("include /etc/nginx/hearth-secret/*.map;");
  mkdirSync(path.join(T, "secret"), { mode: 0o700 });
  writeFileSync(path.join(T, "secret", "proxy.map"), `~. "${PROXY_SECRET}";\n`, { mode: 0o600 });
  writeFileSync(path.join(PREFIX, "hearth-http.conf"), httpConf.replaceAll("/etc/nginx/hearth-secret", path.join(T, "secret")));
  writeFileSync(
    CONF,
    [
      "worker_processes 1;",
      `pid ${PREFIX}/nginx.pid;`,
      `error_log ${PREFIX}/logs/error.log;`,
      "events { worker_connections 64; }",
      "http {",
      `    access_log ${PREFIX}/logs/access.log;`,
      ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `    ${t}_temp_path ${PREFIX}/temp/${t};`),
      `    include ${PREFIX}/hearth-http.conf;`,
      `    include ${PREFIX}/hearth-sites.conf;`,
      "}",
      "",
    ].join("\n"),
  );
  nginx = spawn("nginx", ["-p", PREFIX, "-c", CONF, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
  await eventually(
    async () => readFileSync(path.join(PREFIX, "nginx.pid"), "utf8"),
    (p) => p.trim().length > 0,
  );

  // box's side: its data and public folders are hearth's, as on an install
  sudoNginx = new SudoNginx(HELPER, SUDO_AS_HEARTH, NGINX_ROOT);
  // the per-vhost layout (HEARTH_NGINX_LAYOUT=vhost): a file per name shows the helper's checks,
  // deltas and links file by file; the default, flat, is tested on its own below
  proxy = new ProxyService({ dataDir: DATA, publicDir: PUBLIC, nginx: sudoNginx, httpPort, httpsPort, ipv6: false, layout: "per-vhost" });
  await proxy.ensureLayout();
  const cert = await proxy.fallbackCert("trust.test");
  certPath = cert.certPath;
  keyPath = cert.keyPath;
  must(`chown -R hearth:hearth ${DATA} ${PUBLIC} && chmod 0750 ${DATA}`);
  goodPayload = await helperPayload(renderVhosts(appVhost(), proxy.renderOptions), NGINX_ROOT);
}, 120_000);

afterAll(async () => {
  rmSync(SUDOERS, { force: true });
  rmSync(`${SUDOERS}.tmp`, { force: true });
  if (nginx && nginx.exitCode === null) {
    const exited = new Promise((r) => nginx.once("exit", r));
    nginx.kill("SIGQUIT");
    await Promise.race([exited, sleep(5_000)]);
    if (nginx.exitCode === null) nginx.kill("SIGKILL");
  }
  await new Promise((r) => (backend ? backend.close(r) : r(undefined)));
  sh(`for f in ${T}/supervise/*.supervisor.pid; do [ -f "$f" ] && kill "$(cat "$f")"; done 2>/dev/null; true`);
  rmSync(T, { recursive: true, force: true });
  for (const f of rootTargetsPresent()) rmSync(path.join("/root", f), { force: true });
});

describe("nginx includes only root's folders", () => {
  it("every include in setup/nginx points below /etc/nginx, never into Hearth's data", () => {
    for (const f of readdirSync(path.join(REPO_ROOT, "setup/nginx"))) {
      const text = readFileSync(path.join(REPO_ROOT, "setup/nginx", f), "utf8");
      for (const m of text.matchAll(/^\s*include\s+(\S+);/gm)) {
        expect(m[1], `${f}: include ${m[1]}`).toMatch(/^\/etc\/nginx\//);
      }
    }
  });
});

describe("as hearth (box's user)", () => {
  it("box's vhost sync path installs a checked set through sudo; root's nginx serves it from root-owned files", async () => {
    const r = await proxy.apply(appVhost());
    expect(r.reloaded).toBe(true);
    const res = await eventually(
      () => curlResolve(`https://app.trust.test:${httpsPort}/`),
      (x) => x.status === 200,
    );
    expect(res.body).toBe("backend-ok");
    const entries = walk(NGINX_ROOT);
    expect(entries.filter((e) => e.uid !== 0 || (!e.link && (e.mode & 0o022) !== 0))).toEqual([]);
    const certs = entries.filter((e) => e.p.includes("/certs/") && !e.dir);
    expect(certs.length).toBe(2);
    for (const c of certs) expect(c.mode).toBe(0o600);
    const site = readFileSync(path.join(NGINX_ROOT, "live/sites", `app-trust${ID}.conf`), "utf8");
    expect(site).toContain(`${NGINX_ROOT}/live/certs/`);
    expect(site).not.toContain(DATA);
  });

  it("hostile files planted in every folder hearth can write are never read by root's nginx", async () => {
    const hostilePort = await freePort();
    const conf = `server { listen 127.0.0.1:${hostilePort}; access_log ${ROOT_TARGET("planted")}.log; return 200 pwned; }\n`;
    // every folder of box's that hearth can write (data, public, nginx staging, certs ...)
    const dirs = [
      DATA,
      PUBLIC,
      ...walk(DATA)
        .filter((e) => e.dir)
        .map((e) => e.p),
      ...walk(PUBLIC)
        .filter((e) => e.dir)
        .map((e) => e.p),
    ];
    const writable = dirs.filter((d) => as("hearth", ["test", "-w", d]).status === 0);
    expect(writable.length).toBeGreaterThan(3);
    for (const d of writable) {
      for (const name of ["zz.conf", `app-zz${ID}.conf`, "default-redirect.inc"]) {
        const w = as("hearth", ["sh", "-c", 'cat > "$1"', "_", path.join(d, name)], { input: conf });
        expect(w.status, w.stderr).toBe(0);
      }
    }
    // box's staging `sites` link replaced by a folder of hostile files, and a link to root's folder
    const sitesLink = path.join(DATA, "nginx", "sites");
    expect(as("hearth", ["sh", "-c", `rm -f "$1" && mkdir "$1" && cp "$2" "$1/" && ln -s ${ROOT_TARGET("link")} "$1/app-link.conf"`, "_", sitesLink, path.join(DATA, "zz.conf")]).status).toBe(0);
    // hearth cannot write root's folder at all
    const intoRoot = as("hearth", ["sh", "-c", 'echo "$2" > "$1"', "_", path.join(NGINX_ROOT, "live/sites/zz.conf"), conf]);
    expect(intoRoot.status).not.toBe(0);
    expect(intoRoot.stderr).toMatch(/Permission denied/);

    // trigger everything that reloads: box's sync (a changed set) and root's own reload
    const applied = await proxy.apply([...appVhost(), { type: "redirect", fqdn: "old.trust.test", target: "https://app.trust.test", certPath, keyPath }]);
    expect(applied.reloaded).toBe(true);
    must(`nginx -p ${PREFIX} -c ${CONF} -s reload`);
    await sleep(500);
    const dump = must(`nginx -p ${PREFIX} -c ${CONF} -T 2>&1`);
    expect(dump).not.toContain("pwned");
    expect(dump).not.toContain(DATA);
    expect(spawnSync("curl", ["-s", "--max-time", "3", `http://127.0.0.1:${hostilePort}/`]).status).not.toBe(0);
    expect(rootTargetsPresent()).toEqual([]);
    // and box's real set is still served
    const res = await curlResolve(`https://app.trust.test:${httpsPort}/`);
    expect(res.body).toBe("backend-ok");
  });

  it("the dashboard vhost box renders sends admin nginx's secret (overriding a client's), an app vhost does not", async () => {
    const dashboard: Vhost = { type: "dashboard", fqdn: "my.trust.test", upstreamPort: backendPort, certPath, keyPath };
    const r = await proxy.apply([...appVhost(), dashboard]);
    expect(r.reloaded).toBe(true);
    // box's own copy of the set holds the variable's name, never the secret
    for (const text of (await proxy.currentFiles()).values()) expect(text).not.toContain(PROXY_SECRET);
    const forged = ["-H", "X-Hearth-Proxy-Secret: forged", "-H", "X-Real-IP: 198.51.100.1"];
    // nginx's reload is asynchronous: until the new workers answer, the old set serves
    await eventually(
      async () => {
        await curlResolve(`https://my.trust.test:${httpsPort}/`, forged);
        return lastHeaders["x-hearth-proxy-secret"];
      },
      (v) => v !== "forged",
    );
    expect(lastHeaders["x-hearth-proxy-secret"]).toBe(PROXY_SECRET);
    expect(lastHeaders["x-real-ip"]).toBe("127.0.0.1");
    expect((await curlResolve(`https://app.trust.test:${httpsPort}/`)).body).toBe("backend-ok");
    expect(lastHeaders["x-hearth-proxy-secret"]).toBeUndefined();
  });

  const hostile: [string, (p: HelperPayload) => unknown, RegExp][] = [
    [
      "an nginx conf with access_log /root/…",
      (p) => ({
        ...p,
        sites: { ...p.sites, [`app-trust${ID}.conf`]: p.sites[`app-trust${ID}.conf`]!.replace("server_tokens off;", `server_tokens off;\n    access_log ${ROOT_TARGET("stdin")}.log;`) },
      }),
      /"access_log" may only write a file directly in \/var\/log\/nginx\//,
    ],
    ["a fake vhost name", (p) => ({ ...p, sites: { ...p.sites, "zz.conf": "server { listen 80; }" } }), /"zz.conf" is not a vhost file name/],
    ["a path as a vhost name", (p) => ({ ...p, sites: { "../../../etc/cron.d/x.conf": "server { listen 80; }" } }), /is not a vhost file name/],
    ["include", (p) => ({ ...p, sites: { [`app-x${ID}.conf`]: "server { listen 80; include /etc/shadow; }" } }), /directive "include" is not allowed in a server/],
    ["load_module at the top", (p) => ({ ...p, sites: { [`app-x${ID}.conf`]: "load_module /tmp/x.so;" } }), /directive "load_module" is not allowed at the top/],
    ["lua", (p) => ({ ...p, sites: { [`app-x${ID}.conf`]: "server { listen 80; location / { content_by_lua_file /tmp/x.lua; } }" } }), /"content_by_lua_file" is not allowed in a location/],
    [
      "proxy_pass to Docker's socket",
      (p) => ({ ...p, sites: { ...p.sites, [`app-trust${ID}.conf`]: p.sites[`app-trust${ID}.conf`]!.replace(/proxy_pass \S+;/, "proxy_pass http://unix:/var/run/docker.sock:/;") } }),
      /proxy_pass may only go to http:\/\/127.0.0.1:<port>/,
    ],
    [
      "alias outside Hearth's folders",
      (p) => ({ ...p, sites: { [`app-x${ID}.conf`]: "server { listen 80; location ^~ /.well-known/acme-challenge/ { alias /root/; } }" } }),
      /"alias \/root\/" is not allowed here/,
    ],
    [
      "a certificate in hearth's folder",
      (p) => ({ ...p, sites: { ...p.sites, [`app-trust${ID}.conf`]: p.sites[`app-trust${ID}.conf`]!.replace(/ssl_certificate (\S+);/, `ssl_certificate ${certPath};`) } }),
      /"ssl_certificate" must be/,
    ],
    [
      "a key that is not the certificate's",
      (p) => {
        const [name, pair] = Object.entries(p.certs)[0]!;
        const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
        return { ...p, certs: { [name]: { ...pair, key: other } } };
      },
      /certificate c-[0-9a-f]+: the key does not belong to the certificate/,
    ],
    ["not JSON", () => "access_log /root/x;", /stdin is not JSON/],
  ];

  it.each(hostile)("the helper refuses %s over stdin with a clear message and changes nothing", (_what, make, message) => {
    const before = liveGen();
    const made = make(goodPayload);
    const r = runHelperAs("hearth", typeof made === "string" ? made : JSON.stringify(made));
    expect(r.stderr).toMatch(/^install-vhosts: refused: /);
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(2);
    expect(liveGen()).toBe(before);
    expect(rootTargetsPresent()).toEqual([]);
  });

  it("the helper takes no arguments through sudo", () => {
    const r = runHelperAs("hearth", JSON.stringify(goodPayload), ["--root", "/tmp"]);
    expect([r.status, r.stderr.trim()]).toEqual([2, "install-vhosts: refused: takes no arguments (the vhost set comes on stdin)"]);
  });

  it("two helpers at once take turns: both install, one generation is left and it is live", async () => {
    const run = (input: string) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const c = spawn(SUDO_AS_HEARTH, ["-n", HELPER], { stdio: ["pipe", "pipe", "pipe"] });
        let out = "";
        c.stdout.on("data", (d) => (out += d));
        c.stderr.on("data", (d) => (out += d));
        c.on("close", (code) => resolve({ code, out }));
        c.stdin.end(input);
      });
    const other = {
      ...goodPayload,
      sites: { ...goodPayload.sites, [`app-trust${ID}.conf`]: goodPayload.sites[`app-trust${ID}.conf`]!.replace("client_max_body_size 0;", "client_max_body_size 1g;") },
    };
    const results = await Promise.all([run(JSON.stringify(other)), run(JSON.stringify(goodPayload)), run(JSON.stringify(other))]);
    for (const r of results) expect(r.code, r.out).toBe(0);
    const gens = readdirSync(NGINX_ROOT).filter((e) => e.startsWith("gen-"));
    expect(gens).toEqual([liveGen()]);
    expect(existsSync(path.join(NGINX_ROOT, ".lock"))).toBe(false);
    // leave the set the next tests expect
    expect(runHelperAs("hearth", JSON.stringify(goodPayload)).status).toBe(0);
  });

  const badSet = () => ({
    ...goodPayload,
    sites: { ...goodPayload.sites, [`app-trust${ID}.conf`]: goodPayload.sites[`app-trust${ID}.conf`]!.replace("proxy_busy_buffers_size 256k;", "proxy_busy_buffers_size 900m;") },
  });

  it("a set nginx -t refuses, with the master's error log watched as well: never reloaded, the previous set is put back, the old workers serve on", async () => {
    const before = liveGen();
    const beforeText = readFileSync(path.join(NGINX_ROOT, "live/sites", `app-trust${ID}.conf`), "utf8");
    await sleep(300); // the workers of the last reload's previous generation are gone
    const pids = workers();
    const t0 = Date.now();
    const r = runHelperAs("hearth", JSON.stringify(badSet()));
    expect(r.status, r.stderr).toBe(1);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(r.stderr).toMatch(/nginx -t rejected the new set; the previous set was put back and nothing was reloaded:\n[\s\S]*"proxy_busy_buffers_size"/);
    expect(liveGen()).toBe(before);
    expect(readFileSync(path.join(NGINX_ROOT, "live/sites", `app-trust${ID}.conf`), "utf8")).toBe(beforeText);
    expect(readdirSync(NGINX_ROOT).filter((e) => e.startsWith("gen-"))).toEqual([before]);
    expect(workers()).toEqual(pids);
    expect((await curlResolve(`https://app.trust.test:${httpsPort}/`)).body).toBe("backend-ok");
  });

  it("a listen port another process holds (nginx -t passes it; only the reload sees it): refused and put back too", async () => {
    const before = liveGen();
    const busyPort = await freePort();
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(busyPort, "0.0.0.0", r));
    try {
      const site = goodPayload.sites[`app-trust${ID}.conf`]!.replace(`listen ${httpPort};`, `listen ${httpPort};\n    listen ${busyPort};`);
      expect(site).toContain(`listen ${busyPort};`);
      const r = runHelperAs("hearth", JSON.stringify({ ...goodPayload, sites: { ...goodPayload.sites, [`app-trust${ID}.conf`]: site } }));
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/bind\(\) to 0\.0\.0\.0:\d+ failed \(98: Address already in use\)[\s\S]*still could not bind/);
      expect(liveGen()).toBe(before);
      expect(readdirSync(NGINX_ROOT).filter((e) => e.startsWith("gen-"))).toEqual([before]);
    } finally {
      await new Promise((r) => holder.close(r));
    }
    expect((await curlResolve(`https://app.trust.test:${httpsPort}/`)).body).toBe("backend-ok");
  });

  it("without the master's error log to watch (an nginx.conf that logs elsewhere), nginx -t checks just the same: the previous set is put back and nothing is reloaded", async () => {
    const conf = path.join(HELPERS, "install-vhosts.conf");
    writeFileSync(conf, helperConf(false));
    try {
      const before = liveGen();
      await sleep(300);
      const pids = workers();
      const r = runHelperAs("hearth", JSON.stringify(badSet()));
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/nginx -t rejected the new set; the previous set was put back and nothing was reloaded/);
      expect(r.stderr).toMatch(/proxy_busy_buffers_size/);
      expect(liveGen()).toBe(before);
      expect(readdirSync(NGINX_ROOT).filter((e) => e.startsWith("gen-"))).toEqual([before]);
      expect(workers()).toEqual(pids);
    } finally {
      writeFileSync(conf, helperConf());
    }
    expect((await curlResolve(`https://app.trust.test:${httpsPort}/`)).body).toBe("backend-ok");
  });
});

describe("as hearth: box hands root only what changed (a delta against the live generation)", () => {
  /** Every file of the live generation: name → [inode, text]. */
  function liveFiles(): Map<string, [number, string]> {
    const out = new Map<string, [number, string]>();
    for (const kind of ["sites", "certs"]) {
      const dir = path.join(NGINX_ROOT, "live", kind);
      for (const f of readdirSync(dir)) out.set(`${kind}/${f}`, [statSync(path.join(dir, f)).ino, readFileSync(path.join(dir, f), "utf8")]);
    }
    return out;
  }
  const second = (): Vhost => ({ type: "app", appId: `second${ID}`, fqdn: "second.trust.test", upstreamPort: backendPort, certPath, keyPath });

  it("an added vhost goes over as a delta: only it is written, every other file is a link to the previous generation's, and it is served", async () => {
    await proxy.apply(appVhost()); // the helper tests above installed sets behind box's back: this one may be whole
    const before = liveFiles();
    const gen = liveGen();
    const calls = { ...sudoNginx.calls };
    const r = await proxy.apply([...appVhost(), second()]);
    expect(r.added).toEqual([`app-second${ID}.conf`]);
    expect(sudoNginx.calls).toEqual({ total: calls.total + 1, full: calls.full });
    expect(liveGen()).not.toBe(gen);
    const after = liveFiles();
    expect([...after.keys()].sort()).toEqual([...before.keys(), `sites/app-second${ID}.conf`].sort());
    for (const [f, [ino, text]] of before) expect(after.get(f), f).toEqual([ino, text]);
    expect(walk(NGINX_ROOT).filter((e) => e.uid !== 0 || (!e.link && (e.mode & 0o022) !== 0))).toEqual([]);
    // the helper returns once nginx's new workers run: served at the first request, no waiting
    const res = await curlResolve(`https://second.trust.test:${httpsPort}/`);
    expect([res.status, res.body]).toEqual([200, "backend-ok"]);
  });

  it("nothing changed: no helper call and no reload; an empty delta through sudo reloads nothing either", async () => {
    const gen = liveGen();
    const pids = workers();
    expect(pids.length).toBeGreaterThan(0);
    const calls = { ...sudoNginx.calls };
    const r = await proxy.apply([...appVhost(), second()]);
    expect([r.changed, r.reloaded]).toEqual([false, false]);
    expect(sudoNginx.calls).toEqual(calls);
    const empty = runHelperAs("hearth", JSON.stringify({ base: gen, sites: {}, certs: {}, remove: [] }));
    expect(empty.status, empty.stderr).toBe(0);
    expect(empty.stdout).toMatch(new RegExp(`nothing changed in .*; nothing reloaded; live=${gen}`));
    await sleep(500);
    expect(liveGen()).toBe(gen);
    expect(workers()).toEqual(pids);
    // a change does reload (new workers, running when the helper returns): the check above can fail
    await proxy.apply(appVhost());
    expect(workers().some((p) => !pids.includes(p))).toBe(true);
  });

  const badDeltas: [string, (gen: string, p: HelperPayload) => unknown, RegExp][] = [
    ["removing a file root does not have", (gen) => ({ base: gen, remove: [`app-nothere${ID}.conf`] }), /cannot remove "app-nothere[0-9a-f]+\.conf": no such file in gen-/],
    ["removing a path", (gen) => ({ base: gen, remove: ["../../../etc/nginx/nginx.conf"] }), /cannot remove .*: not a vhost file name/],
    ["removing through a vhost-looking path", (gen) => ({ base: gen, remove: [`app-trust${ID}.conf/../../certs/x.key`] }), /not a vhost file name/],
    ["a base that is a path", () => ({ base: "../../../tmp", sites: {} }), /"base" must name a generation/],
    ["a file both written and removed", (gen, p) => ({ base: gen, sites: p.sites, remove: [`app-trust${ID}.conf`] }), /is both written and removed/],
    ["an include in a written file", (gen) => ({ base: gen, sites: { [`app-x${ID}.conf`]: "server { listen 80; include /etc/shadow; }" } }), /directive "include" is not allowed in a server/],
    [
      "a written file naming a certificate root does not have",
      (gen, p) => ({ base: gen, sites: { [`app-trust${ID}.conf`]: p.sites[`app-trust${ID}.conf`]!.replace(/(certs\/)c-[0-9a-f]+(\.crt)/, "$1c-nothere$2") } }),
      /not in the set handed over/,
    ],
    ["unknown keys", (gen) => ({ base: gen, paths: ["/etc/shadow"] }), /unknown key "paths" in the delta/],
  ];

  it.each(badDeltas)("the helper refuses a delta with %s and changes nothing", (_what, make, message) => {
    const before = liveFiles();
    const gen = liveGen();
    const r = runHelperAs("hearth", JSON.stringify(make(gen, goodPayload)));
    expect(r.stderr).toMatch(/^install-vhosts: refused: /);
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(2);
    expect(liveGen()).toBe(gen);
    expect(liveFiles()).toEqual(before);
    expect(readdirSync(NGINX_ROOT).filter((e) => e.startsWith("gen-"))).toEqual([gen]);
  });

  it("a delta for a generation that is no longer live exits 5 and touches nothing; box then hands over the whole set", async () => {
    const gen = liveGen();
    const r = runHelperAs("hearth", JSON.stringify({ base: "gen-0-00000000", remove: [`app-trust${ID}.conf`] }));
    expect(r.status, r.stderr).toBe(5);
    expect(r.stderr).toMatch(new RegExp(`stale: the delta is for gen-0-00000000, but ${gen} is live; nothing was touched`));
    expect(liveGen()).toBe(gen);
    // something else installed a set behind box's back: box's delta is stale, the whole set follows
    const other = {
      ...goodPayload,
      sites: { ...goodPayload.sites, [`app-trust${ID}.conf`]: goodPayload.sites[`app-trust${ID}.conf`]!.replace("client_max_body_size 0;", "client_max_body_size 1g;") },
    };
    expect(runHelperAs("hearth", JSON.stringify(other)).status).toBe(0);
    expect(liveGen()).not.toBe(gen);
    const calls = { ...sudoNginx.calls };
    await proxy.apply([...appVhost(), second()]);
    expect(sudoNginx.calls).toEqual({ total: calls.total + 2, full: calls.full + 1 });
    expect(readdirSync(path.join(NGINX_ROOT, "live/sites")).sort()).toEqual([`app-second${ID}.conf`, `app-trust${ID}.conf`]);
    expect(readFileSync(path.join(NGINX_ROOT, "live/sites", `app-trust${ID}.conf`), "utf8")).toBe(goodPayload.sites[`app-trust${ID}.conf`]);
  });

  it("a delta nginx rejects: the previous generation is live again, byte for byte and inode for inode, and nothing is reloaded", async () => {
    const gen = liveGen();
    const before = liveFiles();
    const pids = workers();
    const site = readFileSync(path.join(NGINX_ROOT, "live/sites", `app-second${ID}.conf`), "utf8");
    const bad = { base: gen, sites: { [`app-second${ID}.conf`]: site.replace("proxy_busy_buffers_size 256k;", "proxy_busy_buffers_size 900m;") }, remove: [`app-trust${ID}.conf`] };
    const r = runHelperAs("hearth", JSON.stringify(bad));
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/nginx -t rejected the new set; the previous set was put back and nothing was reloaded/);
    expect(liveGen()).toBe(gen);
    expect(liveFiles()).toEqual(before);
    expect(readdirSync(NGINX_ROOT).filter((e) => e.startsWith("gen-"))).toEqual([gen]);
    await sleep(300);
    expect(workers()).toEqual(pids);
    expect((await curlResolve(`https://app.trust.test:${httpsPort}/`)).body).toBe("backend-ok");
    // box's own sync after a failure hands over the whole set again, and it is accepted
    await proxy.apply(appVhost());
    expect(readdirSync(path.join(NGINX_ROOT, "live/sites"))).toEqual([`app-trust${ID}.conf`]);
  });

  it("a set left live unchecked (a helper killed between pointing live and nginx -t) is checked before any reload", async () => {
    expect(runHelperAs("hearth", JSON.stringify(goodPayload)).status).toBe(0);
    const gen = liveGen();
    const pids = workers();
    const name = `app-trust${ID}.conf`;
    const bad = { ...goodPayload, sites: { [name]: goodPayload.sites[name]!.replace("proxy_busy_buffers_size 256k;", "proxy_busy_buffers_size 900m;") } };
    expect(bad.sites[name]).not.toBe(goodPayload.sites[name]);
    // what the killed helper left: a generation with that set, live, never checked
    const unchecked = "gen-zz0-deadbeef";
    must(`cd ${NGINX_ROOT} && cp -a ${gen} ${unchecked}`);
    writeFileSync(path.join(NGINX_ROOT, unchecked, "sites", name), bad.sites[name]!);
    must(`cd ${NGINX_ROOT} && ln -sfn ${unchecked} live`);
    const r = runHelperAs("hearth", JSON.stringify(bad));
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/the installed set gen-zz0-deadbeef fails nginx -t; nothing was reloaded/);
    await sleep(300);
    // no new workers (old ones of the reload before may still be finishing and go)
    expect(workers().filter((p) => !pids.includes(p))).toEqual([]);
    expect((await curlResolve(`https://app.trust.test:${httpsPort}/`)).body).toBe("backend-ok");
    // box's good set replaces it
    expect(runHelperAs("hearth", JSON.stringify(goodPayload)).status).toBe(0);
    expect(readdirSync(NGINX_ROOT).filter((e) => e.startsWith("gen-"))).toEqual([liveGen()]);
  });

  it("a lock left by a killed helper (dead pid, or a half-made lock) does not block the next one", () => {
    const dead = spawnSync("true").pid;
    must(`mkdir -m 700 ${NGINX_ROOT}/.lock && echo ${dead} > ${NGINX_ROOT}/.lock/pid && mkdir -m 700 ${NGINX_ROOT}/.lock-new-${dead}-0badc0de`);
    const other = { ...goodPayload, sites: { [`app-trust${ID}.conf`]: goodPayload.sites[`app-trust${ID}.conf`]!.replace("client_max_body_size 0;", "client_max_body_size 2g;") } };
    const t0 = Date.now();
    const r = runHelperAs("hearth", JSON.stringify(other));
    expect(r.status, r.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(readdirSync(NGINX_ROOT).filter((e) => e.startsWith(".lock"))).toEqual([]);
    expect(runHelperAs("hearth", JSON.stringify(goodPayload)).status).toBe(0);
  });
});

describe("as hearth: the flat layout (renderFlatVhosts: one file of maps, a constant number of servers) through the helper", () => {
  let other: http.Server;
  let otherPort: number;
  let deadPort: number;
  beforeAll(async () => {
    other = http.createServer((_req, res) => {
      res.setHeader("X-Frame-Options", "ALLOWALL-FROM-APP");
      res.end("other-ok");
    });
    otherPort = await freePort();
    deadPort = await freePort();
    await new Promise<void>((r) => other.listen(otherPort, "127.0.0.1", r));
  });
  afterAll(async () => {
    await new Promise((r) => other.close(r));
    // leave the per-vhost set the other tests installed
    expect(runHelperAs("hearth", JSON.stringify(goodPayload)).status).toBe(0);
  });

  /** The certificate nginx presents for `servername` (SNI). */
  const presented = (servername: string) =>
    new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: "127.0.0.1", port: httpsPort, servername, rejectUnauthorized: false }, () => {
        resolve(s.getPeerCertificate().subjectaltname ?? "");
        s.destroy();
      });
      s.on("error", reject);
    });

  it("serves each name on its app's port with its own certificate, aliases (wildcard too), per-app X-Frame-Options, redirects keeping the path, ACME tokens, the not-responding page and a stopped app's 503", async () => {
    const flatCert = await proxy.fallbackCert("flat.test");
    const trust = { certPath, keyPath, version: "t1" };
    const flatTls = { certPath: flatCert.certPath, keyPath: flatCert.keyPath, version: "f1" };
    const vhosts: Vhost[] = [
      { type: "app", appId: `flat${ID}`, fqdn: "app.flat.test", aliases: ["*.w.flat.test"], upstreamPort: backendPort, ...flatTls },
      { type: "app", appId: `flat${ID}`, fileKey: "alias.trust.test", fqdn: "alias.trust.test", upstreamPort: backendPort, ...trust },
      { type: "app", appId: `other${ID}`, fqdn: "other.trust.test", upstreamPort: otherPort, xFrameOptions: "", ...trust },
      { type: "app", appId: `dead${ID}`, fqdn: "dead.flat.test", upstreamPort: deadPort, xFrameOptions: "DENY", ...flatTls },
      { type: "redirect", fqdn: "old.flat.test", target: `https://app.flat.test:${httpsPort}/sub`, ...flatTls },
      { type: "app", appId: `stop${ID}`, fqdn: "stopped.flat.test", upstreamPort: backendPort, state: "stopped", title: "Stopped One", ...flatTls },
    ];
    // the apps' pages, as ProxyService writes them before it hands the set over (box's files)
    for (const [file, text] of appPages(vhosts)) writeFileSync(path.join(PUBLIC, "pages", file), text);
    must(`chown -R hearth:hearth ${path.join(PUBLIC, "pages")}`);
    const payload = await helperPayload(renderFlatVhosts(vhosts, proxy.renderOptions), NGINX_ROOT);
    expect(Object.keys(payload.sites)).toEqual(["hearth-apps.conf"]);
    const r = runHelperAs("hearth", JSON.stringify(payload));
    expect(r.status, r.stderr).toBe(0);
    expect((readFileSync(path.join(NGINX_ROOT, "live/sites/hearth-apps.conf"), "utf8").match(/^server \{$/gm) ?? []).length).toBe(6);

    // nginx's workers (nobody:nogroup here) read the certificates at the handshake: root's
    // folder, their group's to read; the helper took the group from the running workers (no
    // --nginx-group in its options; without a master it would be www-data)
    const certDir = path.join(NGINX_ROOT, "live/certs");
    expect(statSync(certDir)).toMatchObject({ uid: 0, gid: 65534 });
    expect(statSync(certDir).mode & 0o777).toBe(0o750);
    for (const f of readdirSync(certDir)) expect(statSync(path.join(certDir, f)).mode & 0o777).toBe(0o640);

    expect(await presented("app.flat.test")).toContain("DNS:flat.test");
    expect(await presented("x.w.flat.test")).toContain("DNS:flat.test");
    expect(await presented("alias.trust.test")).toContain("DNS:trust.test");
    expect(await presented("other.trust.test")).toContain("DNS:trust.test");

    const app = await curlResolve(`https://app.flat.test:${httpsPort}/`);
    expect(app.body).toBe("backend-ok");
    expect(headerValues(app, "x-frame-options")).toEqual(["SAMEORIGIN"]);
    expect(headerValues(app, "strict-transport-security")).toEqual(["max-age=63072000"]);
    expect((await curlResolve(`https://x.w.flat.test:${httpsPort}/`)).body).toBe("backend-ok");
    expect((await curlResolve(`https://alias.trust.test:${httpsPort}/`)).body).toBe("backend-ok");
    const otherApp = await curlResolve(`https://other.trust.test:${httpsPort}/`);
    expect(otherApp.body).toBe("other-ok");
    expect(headerValues(otherApp, "x-frame-options")).toEqual(["ALLOWALL-FROM-APP"]);
    const dead = await curlResolve(`https://dead.flat.test:${httpsPort}/`);
    expect(dead.status).toBe(502);
    expect(dead.body).toContain("dead.flat.test is not responding");
    expect(headerValues(dead, "x-frame-options")).toEqual(["DENY"]);
    // a stopped app: root's nginx answers 503 with its page and never reaches its port
    const stopped = await curlResolve(`https://stopped.flat.test:${httpsPort}/`);
    expect(stopped.status).toBe(503);
    expect(stopped.body).toContain("Stopped One is stopped by the administrator");
    expect(stopped.body).not.toContain("backend-ok");
    const moved = await curlResolve(`https://old.flat.test:${httpsPort}/a/b?c=1`);
    expect(moved.status).toBe(301);
    expect(headerValues(moved, "location")).toEqual([`https://app.flat.test:${httpsPort}/sub/a/b?c=1`]);
    const http80 = await curlResolve(`http://app.flat.test:${httpPort}/p?q=1`);
    expect(http80.status).toBe(301);
    expect(headerValues(http80, "location")).toEqual([`https://app.flat.test:${httpsPort}/p?q=1`]);
    const token = `flat-${ID}`;
    writeFileSync(path.join(PUBLIC, "acme-challenges", token), "token-ok");
    must(`chown hearth:hearth ${path.join(PUBLIC, "acme-challenges", token)}`);
    expect((await curlResolve(`http://old.flat.test:${httpPort}/.well-known/acme-challenge/${token}`)).body).toBe("token-ok");
  });

  it("box's side (the default layout, SudoNginx): an install with per-vhost files moves to flat at box's first sync with nothing done by hand; then an added app goes over as a delta of one file, and is served", async () => {
    const dataDir = path.join(T, "data-flat");
    const flatCert = await proxy.fallbackCert("flat.test");
    const one: Vhost = { type: "app", appId: `one${ID}`, fqdn: "one.flat.test", upstreamPort: backendPort, certPath: flatCert.certPath, keyPath: flatCert.keyPath };
    const two: Vhost = { type: "app", appId: `two${ID}`, fqdn: "two.trust.test", upstreamPort: otherPort, certPath, keyPath };
    // what an install of the per-vhost layout has live: a file per app, certificates root's only
    const before = new ProxyService({ dataDir, publicDir: PUBLIC, nginx: new SudoNginx(HELPER, SUDO_AS_HEARTH, NGINX_ROOT), httpPort, httpsPort, ipv6: false, layout: "per-vhost" });
    await before.apply([one]);
    expect(readdirSync(path.join(NGINX_ROOT, "live/sites"))).toEqual([`app-one${ID}.conf`]);
    expect(statSync(path.join(NGINX_ROOT, "live/certs")).mode & 0o777).toBe(0o700);
    const oldGen = liveGen();
    const certInodes = (dir: string) => new Set(readdirSync(dir).map((f) => statSync(path.join(dir, f)).ino));
    const oldCerts = certInodes(path.join(NGINX_ROOT, oldGen, "certs"));
    expect(oldCerts.size).toBeGreaterThan(0);
    // box updated and started again: the default layout, a new SudoNginx (its first call hands over the whole set)
    const sudo = new SudoNginx(HELPER, SUDO_AS_HEARTH, NGINX_ROOT);
    const flatProxy = new ProxyService({ dataDir, publicDir: PUBLIC, nginx: sudo, httpPort, httpsPort, ipv6: false });
    const moved = await flatProxy.apply([one]);
    expect(moved).toMatchObject({ changed: true, added: ["hearth-apps.conf"], removed: [`app-one${ID}.conf`] });
    expect(sudo.calls).toEqual({ total: 1, full: 1 });
    expect(readdirSync(path.join(NGINX_ROOT, "live/sites"))).toEqual(["hearth-apps.conf"]);
    expect(readdirSync(NGINX_ROOT).filter((e) => e.startsWith("gen-"))).toEqual([liveGen()]);
    expect(liveGen()).not.toBe(oldGen);
    expect(statSync(path.join(NGINX_ROOT, "live/certs"))).toMatchObject({ uid: 0, gid: 65534 });
    // the same certificates with another owner and mode are fresh copies, not links whose change
    // would have changed the per-vhost set (the one put back had nginx refused the flat one)
    const flatCerts = readdirSync(path.join(NGINX_ROOT, "live/certs")).map((f) => statSync(path.join(NGINX_ROOT, "live/certs", f)));
    expect(flatCerts.map((st) => [st.uid, st.gid, st.mode & 0o777, st.nlink])).toEqual(flatCerts.map(() => [0, 65534, 0o640, 1]));
    expect(flatCerts.filter((st) => oldCerts.has(st.ino))).toEqual([]);
    expect((await curlResolve(`https://one.flat.test:${httpsPort}/`)).body).toBe("backend-ok");
    expect(await presented("one.flat.test")).toContain("DNS:flat.test");
    const r = await flatProxy.apply([one, two]);
    expect(r).toMatchObject({ changed: true, updated: ["hearth-apps.conf"] });
    expect(sudo.calls).toEqual({ total: 2, full: 1 });
    expect(readdirSync(path.join(NGINX_ROOT, "live/sites"))).toEqual(["hearth-apps.conf"]);
    expect((await curlResolve(`https://two.trust.test:${httpsPort}/`)).body).toBe("other-ok");
    expect(await presented("two.trust.test")).toContain("DNS:trust.test");
    expect(await presented("one.flat.test")).toContain("DNS:flat.test");
  });
});

describe("as hearth-admin (admin's user)", () => {
  it("sudo lets it run no helper", () => {
    const r = runHelperAs("hearth-admin", JSON.stringify(goodPayload));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/sudo: (a password is required|.*not allowed)/);
    expect(rootTargetsPresent()).toEqual([]);
  });

  it("can write in none of Hearth's folders: root's, box's, or the installed ones", () => {
    const candidates = [
      T,
      NGINX_ROOT,
      DATA,
      PUBLIC,
      HELPERS,
      ...walk(PUBLIC)
        .filter((e) => e.dir)
        .map((e) => e.p),
      "/etc/hearth",
      "/etc/nginx/hearth",
      "/etc/nginx/conf.d",
      "/var/lib/hearth",
      "/var/lib/hearth-public",
      "/var/log/hearth",
      "/run/hearth",
      "/run/hearth-supervise",
      "/opt/hearth/app",
      "/opt/hearth/app/apps/admin/.next",
      "/opt/hearth/app/apps/admin/.next/cache",
      "/opt/hearth/runtime/bin",
    ].filter((d) => existsSync(d));
    const written = candidates.filter((d) => as("hearth-admin", ["sh", "-c", 'echo x > "$1/.hearth-admin-probe"', "_", d], { groups: "hearth-sock" }).status === 0);
    expect(written).toEqual([]);
  });

  it("reaches box's socket through the group hearth-sock, reads its own env file, and not box's or box's data", async () => {
    // the layout install.sh makes: /run/hearth hearth:hearth-sock 0750, box.sock 0660 group hearth-sock
    const run = path.join(T, "run-hearth");
    mkdirSync(run, { mode: 0o750 });
    must(`chown hearth:hearth-sock ${run} && chmod 0750 ${run}`);
    const sock = path.join(run, "box.sock");
    const server = http.createServer((_req, res) => res.end("box-ok"));
    await new Promise<void>((r) => server.listen(sock, r));
    try {
      must(`chown hearth:hearth-sock ${sock} && chmod 0660 ${sock}`);
      const get = ["curl", "-sf", "--max-time", "5", "--unix-socket", sock, "http://box/"];
      expect(await asAsync("hearth-admin", get, "hearth-sock")).toEqual({ status: 0, stdout: "box-ok" });
      // without the group (e.g. a process that dropped it) it cannot
      expect((await asAsync("hearth-admin", get, "hearth-admin")).status).not.toBe(0);
    } finally {
      await new Promise((r) => server.close(r));
    }
    // env files as install.sh writes them
    const etc = path.join(T, "etc");
    mkdirSync(etc, { mode: 0o755 });
    writeFileSync(path.join(etc, "hearth.env"), "HEARTH_SECRET_KEY=box\n", { mode: 0o640 });
    writeFileSync(path.join(etc, "admin.env"), "HEARTH_SECRET_KEY=admin\n", { mode: 0o640 });
    must(`chown root:hearth ${etc}/hearth.env && chown root:hearth-admin ${etc}/admin.env`);
    expect(as("hearth-admin", ["cat", path.join(etc, "admin.env")], { groups: "hearth-sock" }).stdout).toBe("HEARTH_SECRET_KEY=admin\n");
    expect(as("hearth-admin", ["cat", path.join(etc, "hearth.env")], { groups: "hearth-sock" }).status).not.toBe(0);
    expect(as("hearth-admin", ["ls", DATA], { groups: "hearth-sock" }).status).not.toBe(0);
    expect(as("hearth", ["cat", path.join(etc, "admin.env")]).status).not.toBe(0);
    // different users: admin cannot ptrace (or signal) box's processes
    expect(Number(must("id -u hearth-admin"))).not.toBe(Number(must("id -u hearth")));
  });

  it("cannot reach Docker, while box's user with the docker group can", () => {
    const ping = ["curl", "-sf", "--max-time", "5", "--unix-socket", "/var/run/docker.sock", "http://d/_ping"];
    const admin = as("hearth-admin", ping, { groups: "hearth-sock" });
    expect(admin.status).toBe(7); // could not connect: permission denied on the socket
    const box = as("hearth", ping, { groups: "docker,hearth-sock" });
    expect([box.status, box.stdout]).toEqual([0, "OK"]);
  });
});

describe("the supervisor (root) and its pid files and logs", () => {
  it("writes them only in root's folders and follows no link planted there before", async () => {
    const logDir = path.join(T, "log");
    const supDir = path.join(T, "supervise");
    const name = `trust-${ID}`;
    // an older install's log folder: hearth's, where hearth planted links in place of the log
    mkdirSync(logDir, { mode: 0o750 });
    must(`chown hearth:hearth ${logDir}`);
    expect(as("hearth", ["ln", "-s", ROOT_TARGET("log"), path.join(logDir, `${name}.log`)]).status).toBe(0);
    expect(as("hearth", ["ln", "-s", ROOT_TARGET("other"), path.join(logDir, "box.log")]).status).toBe(0);
    const lib = path.join(REPO_ROOT, "setup/lib");
    const common = `. ${lib}/common.sh; HEARTH_LOG_DIR=${logDir}; HEARTH_SUPERVISE_DIR=${supDir}; export HEARTH_SUPERVISE_DIR`;
    must(`${common}; hearth_supervise_start ${name} hearth / ${lib} sleep 300`);
    try {
      const pidFile = path.join(supDir, `${name}.pid`);
      const pid = await eventually(
        async () => readFileSync(pidFile, "utf8").trim(),
        (p) => /^\d+$/.test(p),
      );
      const hearthUid = Number(must("id -u hearth").trim());
      await eventually(
        async () => statSync(`/proc/${pid}`).uid,
        (uid) => uid === hearthUid,
      );
      const sup = statSync(supDir);
      expect([sup.uid, (sup.mode & 0o777).toString(8)]).toEqual([0, "700"]);
      for (const f of readdirSync(supDir)) expect(lstatSync(path.join(supDir, f)).uid).toBe(0);
      const log = statSync(logDir);
      expect([log.uid, (log.mode & 0o777).toString(8)]).toEqual([0, "750"]);
      expect(readdirSync(logDir)).toEqual([`${name}.log`]);
      const logFile = lstatSync(path.join(logDir, `${name}.log`));
      expect([logFile.isFile(), logFile.uid]).toEqual([true, 0]);
      await eventually(
        async () => readFileSync(path.join(logDir, `${name}.log`), "utf8"),
        (t) => t.includes(`supervise[${name}]: starting`),
      );
      // hearth can no longer plant anything there
      expect(as("hearth", ["ln", "-s", ROOT_TARGET("late"), path.join(logDir, "late.log")]).status).not.toBe(0);
    } finally {
      must(`${common}; hearth_supervise_stop ${name}`);
    }
    expect(existsSync(path.join(supDir, `${name}.pid`))).toBe(false);
    expect(rootTargetsPresent()).toEqual([]);
  });
});
