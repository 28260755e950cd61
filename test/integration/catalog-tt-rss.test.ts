import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest, type HearthManifest } from "@hearth/contracts";
import type { Db } from "@hearth/db";
import { LocalStorageAddon } from "../../apps/box/src/addons/localstorage";
import { PostgresqlAddon } from "../../apps/box/src/addons/postgresql";
import type { AddonProvisioner } from "../../apps/box/src/addons/provisioner";
import type { AppService, StepContext } from "../../apps/box/src/apps/apps.service";
import { containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { OWNER_LABEL } from "../../apps/box/src/docker/docker";
import { createLogger } from "../../apps/box/src/logger";
import { addonTestStack, buildCatalogImage, buildServiceImages } from "../helpers/addon-stack";
import { AppBrowser, until } from "../helpers/app-browser";
import { insertPendingApp } from "../helpers/app-rows";
import { REPO_ROOT, type TestDatabase } from "../helpers/db";
import { removeTestDockerObjects } from "../helpers/teardown";
import { uninstallAndPurge } from "../helpers/purge";

/**
 * The built-in catalog's Tiny Tiny RSS (packages/catalog/apps/tt-rss) installed by the real
 * AppService with its real addons: postgresql on the real PostgreSQL service (ServiceManager
 * on a prefix of this run) and localstorage. Over HTTP on the app's host port with the Host and
 * X-Forwarded-Proto that Hearth's nginx sends: a login as admin with the password from the
 * app's log (a wrong one refused), the API enabled in the UI, a subscription through the API
 * to a feed served by a small web server container on the app's own network, the articles
 * fetched by the app's feed updater and read back with getHeadlines; the updater restarted
 * when it dies; everything still there after a restart; uninstall leaves nothing.
 */

const RUN = randomBytes(4).toString("hex");
const OWNER = `catalog-ttrss-${RUN}`;
const PREFIX = `hearth-t${RUN}r-`;
const DOMAIN = "ttrss-test.example";
const SUB = "news";
const FQDN = `${SUB}.${DOMAIN}`;
const APP_DIR = path.join(REPO_ROOT, "packages/catalog/apps/tt-rss");
const FEED_SERVER = `${PREFIX}feeds`;
const FEED_URL = "http://feeds/feed.xml";
const dataDir = mkdtempSync(path.join(os.tmpdir(), "hearth-catttrss-"));
const feedDir = mkdtempSync(path.join(os.tmpdir(), "hearth-catttrss-feed-"));
const logLines: string[] = [];
const log = createLogger("info", "catalog-ttrss-test", { write: (s: string) => void logLines.push(s) });
const ctxLines: string[] = [];
const ctx = (): StepContext => ({ taskId: randomUUID(), progress: async () => {}, log: (l) => void ctxLines.push(l), signal: new AbortController().signal });
const secretKey = randomBytes(32);

let t: TestDatabase & { db: Db };
let db: Db;
let prov: AddonProvisioner;
let apps: AppService;
let appId = "";
const manifest: HearthManifest = hearthManifest.parse(JSON.parse(readFileSync(path.join(APP_DIR, "HearthManifest.json"), "utf8")));

const exists = (kind: string, name: string) => spawnSync("docker", [kind, "inspect", name], { stdio: "ignore" }).status === 0;
const containerLogs = (name: string) => {
  const r = spawnSync("docker", ["logs", name], { encoding: "utf8" });
  return `${r.stdout}${r.stderr}`;
};
/** SQL as the postgres superuser in the service container (peer auth over the socket). */
const rootPsql = (database: string, sql: string) =>
  execFileSync("docker", ["exec", `${PREFIX}postgresql`, "runuser", "-u", "postgres", "--", "psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", database, "-c", sql], {
    encoding: "utf8",
  }).trim();

function rss(items: { title: string; guid: string }[]): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<rss version="2.0"><channel>',
    `<title>Hearth test feed ${RUN}</title><link>http://feeds/</link><description>served by the test</description>`,
    ...items.map(
      (i, n) =>
        `<item><title>${i.title}</title><link>http://feeds/${i.guid}.html</link><guid isPermaLink="false">${i.guid}</guid><pubDate>Mon, 0${n + 1} Jun 2026 10:00:00 GMT</pubDate><description>Body of ${i.title}</description></item>`,
    ),
    "</channel></rss>",
    "",
  ].join("\n");
}

/** A browser on the app's host port: Host and X-Forwarded-Proto as nginx sends them, a cookie jar. */
class Browser extends AppBrowser {
  constructor(port: number) {
    super(port, { host: FQDN });
  }
  /** tt-rss's JSON API (api/): {seq, status: 0 ok | 1 error, content}. */
  async api(body: Record<string, unknown>): Promise<{ status: number; content: Record<string, unknown> & { error?: string } }> {
    const r = await this.request("POST", "/api/", { json: body });
    expect(r.status, r.body.slice(0, 500)).toBe(200);
    return JSON.parse(r.body) as { status: number; content: Record<string, unknown> };
  }
}

/** The feed updater's main process, started by runuser (PID in the container's namespace, its user). */
const updaterPids = (name: string) =>
  execFileSync(
    "docker",
    [
      "exec",
      name,
      "sh",
      "-c",
      'for d in /proc/[0-9]*; do case "$(tr "\\0" " " <"$d/cmdline" 2>/dev/null)" in "php /usr/share/tt-rss/www/update_daemon2.php "*) [ "$(cat /proc/$(cut -d" " -f4 "$d/stat")/comm)" = runuser ] && echo "${d#/proc/} $(stat -c %U "$d")";; esac; done',
    ],
    { encoding: "utf8" },
  )
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" "))
    .map(([pid, user]) => ({ pid: pid!, user: user! }));

beforeAll(async () => {
  buildServiceImages(["base", "postgresql"]);
  const b = buildCatalogImage("tt-rss");
  console.log(`catalog-ttrss: image build ${b.ms} ms (${b.last})`);
  ({ t, db, prov, apps } = await addonTestStack({
    dbName: "catttrss",
    owner: OWNER,
    prefix: PREFIX,
    dataDir,
    log,
    secretKey,
    domain: DOMAIN,
    handlers: (deps) => [new PostgresqlAddon(deps), new LocalStorageAddon(deps)],
    apps: { healthTimeoutMs: 240_000, healthIntervalMs: 500 },
  }));

  // the feed the app subscribes to: a file served by PHP's web server in a container on the
  // app's network (added once the app's network exists)
  chmodSync(feedDir, 0o755);
  writeFileSync(
    path.join(feedDir, "feed.xml"),
    rss([
      { title: `First article ${RUN}`, guid: `a1-${RUN}` },
      { title: `Second article ${RUN}`, guid: `a2-${RUN}` },
    ]),
  );
  chmodSync(path.join(feedDir, "feed.xml"), 0o644);
}, 1_800_000);

afterAll(async () => {
  await removeTestDockerObjects({ owner: OWNER, appIds: appId ? [appId] : [], containers: [FEED_SERVER], dataDir });
  rmSync(feedDir, { recursive: true, force: true });
  await t?.drop();
}, 300_000);

describe("Tiny Tiny RSS from the built-in catalog", () => {
  let browser: Browser;
  let password = "";
  let env: Record<string, string> = {};
  let feedId = 0;

  it("installs with postgresql + localstorage and serves its login page without a setup screen", async () => {
    appId = randomUUID();
    // the updater's shortest interval (tt-rss enforces at least 60 s), so the test waits less
    await insertPendingApp(db, manifest, { id: appId, subdomain: SUB, domain: DOMAIN, env: { TTRSS_DAEMON_SLEEP_INTERVAL: "60" } });
    const t0 = Date.now();
    const { httpHostPort } = await apps.install(appId, ctx());
    const healthy = Date.now() - t0;
    browser = new Browser(httpHostPort);
    const front = await browser.get("/");
    console.log(
      `catalog-ttrss: install → healthy ${healthy} ms, → first 200 ${Date.now() - t0} ms (addons: ${JSON.stringify(prov.lastTimings)}; ${ctxLines.filter((l) => /addon \S+ ready/.test(l)).join("; ")})`,
    );
    expect(front.status, front.body.slice(0, 800)).toBe(200);
    expect(front.body).toMatch(/<title>Tiny Tiny RSS : Login<\/title>/);
    expect(front.body).toMatch(/name="login"/);
    expect(front.body).not.toMatch(/Startup failed/);
    const health = await browser.get("/healthz");
    expect([health.status, health.body]).toEqual([200, "ok\n"]);

    const c = JSON.parse(execFileSync("docker", ["inspect", containerNameOf(appId)], { encoding: "utf8" }))[0];
    env = Object.fromEntries((c.Config.Env as string[]).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    expect(env.HEARTH_POSTGRESQL_DATABASE).toBeTruthy();
    expect(c.HostConfig.ReadonlyRootfs).toBe(true);
    // the schema is in the app's own PostgreSQL database, and the default admin/password is gone
    expect(rootPsql(env.HEARTH_POSTGRESQL_DATABASE!, "SELECT schema_version FROM ttrss_version")).toBe("140");
    const hash = rootPsql(env.HEARTH_POSTGRESQL_DATABASE!, "SELECT pwd_hash FROM ttrss_users WHERE login = 'admin'");
    expect(hash).toMatch(/^MODE2:[0-9a-f]{64}$/);
    expect(rootPsql(env.HEARTH_POSTGRESQL_DATABASE!, "SELECT owner_uid FROM ttrss_feeds")).toBe("");
    // nothing secret in /app/data: the database password is only in /run's generated config
    const grep = spawnSync("docker", ["exec", containerNameOf(appId), "grep", "-rlF", "--", env.HEARTH_POSTGRESQL_PASSWORD!, "/app/data", "/run/tt-rss"], { encoding: "utf8" });
    expect(grep.stdout.trim()).toBe("/run/tt-rss/config.php");
    // the admin's initial password is in the app's log, once
    const logs = containerLogs(containerNameOf(appId));
    const m = /log in at https:\/\/\S+ as 'admin' with the password: (\S+)/.exec(logs);
    expect(m, logs).not.toBeNull();
    password = m![1]!;
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect(logs).not.toContain(env.HEARTH_POSTGRESQL_PASSWORD);
    // tt-rss's own check of the public URL: a Host that is not the app's is refused
    const other = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port: httpHostPort, path: "/", headers: { host: "other.example" } }, (res) => {
          let s = "";
          res.on("data", (d: Buffer) => (s += d.toString()));
          res.on("end", () => resolve(s));
        })
        .on("error", reject);
    });
    expect(other).toMatch(/Please set SELF_URL_PATH to the correct value/);
    // the UI's scripts and styles are served (Debian's dojo through symlinks), tt-rss's
    // internals and the generated config are not
    for (const p of ["/lib/dojo/dojo.js", "/lib/dijit/dijit.js", "/themes/light.css", "/js/App.js", "/lib/iconfont/material-icons.css"]) expect((await browser.get(p)).status, p).toBe(200);
    for (const p of ["/config.php", "/include/functions.php", "/classes/api.php", "/update.php", "/update_daemon2.php", "/templates/", "/.htaccess"])
      expect((await browser.get(p)).status, p).toBe(403);
  }, 600_000);

  it("the admin logs in with the password from the log (a wrong one is refused) and enables the API", async () => {
    expect((await browser.get("/")).body).toMatch(/name="login"/);
    const bad = await browser.post("/public.php", { op: "login", login: "admin", password: "password" });
    expect(bad.status).toBe(302);
    const after = await browser.get("/");
    expect(after.body).toMatch(/Incorrect username or password/);
    expect(after.body).not.toMatch(/__csrf_token/);

    const login = await browser.post("/public.php", { op: "login", login: "admin", password });
    expect(login.status, login.body.slice(0, 500)).toBe(302);
    expect(login.headers.location).toBe(`https://${FQDN}`);
    const main = await browser.get("/");
    expect(main.status).toBe(200);
    const csrf = /const __csrf_token = "([^"]+)"/.exec(main.body)?.[1];
    expect(csrf, main.body.slice(0, 800)).toBeTruthy();
    expect(main.body).not.toMatch(/name="login"/);

    // the API is off by default; the admin turns it on (what Preferences → Enable API does)
    const before = await new Browser(browser.port).api({ op: "login", user: "admin", password });
    expect(before).toMatchObject({ status: 1, content: { error: "API_DISABLED" } });
    expect((await browser.post("/backend.php", { op: "rpc", method: "setpref", key: "ENABLE_API_ACCESS", value: "true", csrf_token: "wrong" })).body).not.toMatch(/"param"/);
    const set = await browser.post("/backend.php", { op: "rpc", method: "setpref", key: "ENABLE_API_ACCESS", value: "true", csrf_token: csrf! });
    expect(set.status).toBe(200);
    expect(JSON.parse(set.body)).toMatchObject({ param: "ENABLE_API_ACCESS", value: "true" });
  }, 120_000);

  it("subscribes through the API to a feed; the feed updater fetches its articles", async () => {
    // the feed's web server: PHP's built-in server from the app's own image, read-only, as
    // www-data, on the app's network under the name "feeds", on port 80 (tt-rss fetches
    // feeds only from ports 80 and 443)
    execFileSync(
      "docker",
      [
        "run",
        "-d",
        "--name",
        FEED_SERVER,
        "--label",
        `${OWNER_LABEL}=${OWNER}`,
        "--network",
        networkNameOf(appId),
        "--network-alias",
        "feeds",
        "--read-only",
        "--tmpfs",
        "/tmp",
        "--cap-drop",
        "ALL",
        "--user",
        "33:33",
        "--sysctl",
        "net.ipv4.ip_unprivileged_port_start=80",
        "-v",
        `${feedDir}:/feeds:ro`,
        manifest.dockerImage,
        "php",
        "-S",
        "0.0.0.0:80",
        "-t",
        "/feeds",
      ],
      { stdio: "ignore" },
    );

    const api = new Browser(browser.port);
    expect(await api.api({ op: "login", user: "admin", password: "wrong-password" })).toMatchObject({ status: 1, content: { error: "LOGIN_ERROR" } });
    const li = await api.api({ op: "login", user: "admin", password });
    expect(li.status).toBe(0);
    const sid = String(li.content.session_id);
    expect(sid).toMatch(/^\w{20,}$/);
    // tt-rss fetches the URL once to check that it is a feed (the feed server may still be starting)
    let last: unknown;
    const sub = await until(
      "the subscription",
      async () => {
        const r = await api.api({ sid, op: "subscribeToFeed", feed_url: FEED_URL });
        last = r;
        return (r.content.status as { code: number } | undefined)?.code === 1 ? r : undefined;
      },
      30_000,
      1000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(last)}\n${containerLogs(FEED_SERVER)}\n${containerLogs(containerNameOf(appId)).slice(-3000)}`);
    });
    feedId = Number((sub.content.status as { feed_id: number }).feed_id);
    expect(feedId).toBeGreaterThan(0);
    // subscribing stores no articles: they come from the updater (every 60 s here)
    const t0 = Date.now();
    const titles = await until(
      "the updater to fetch the feed's articles",
      async () => {
        const h = await api.api({ sid, op: "getHeadlines", feed_id: feedId, show_content: true, view_mode: "all_articles" });
        const list = h.content as unknown as { title: string; content: string }[];
        return Array.isArray(list) && list.length === 2 ? list : undefined;
      },
      200_000,
      2000,
    );
    console.log(`catalog-ttrss: subscribed → articles fetched by the updater in ${Date.now() - t0} ms`);
    expect(titles.map((h) => h.title).sort()).toEqual([`First article ${RUN}`, `Second article ${RUN}`]);
    expect(titles.find((h) => h.title === `First article ${RUN}`)!.content).toContain(`Body of First article ${RUN}`);
    const feeds = await api.api({ sid, op: "getFeeds", cat_id: -3 });
    expect(feeds.content).toEqual(expect.arrayContaining([expect.objectContaining({ id: feedId, title: `Hearth test feed ${RUN}`, unread: 2 })]));
    // the fetch came from the app (the feed server's log), and the updater ran as www-data
    expect(containerLogs(FEED_SERVER)).toMatch(/GET \/feed\.xml/);
    expect(updaterPids(containerNameOf(appId)).map((p) => p.user)).toEqual(["www-data"]);
    // and the web UI shows the same feed
    const tree = await browser.post("/backend.php", { op: "pref_feeds", method: "getfeedtree", csrf_token: /const __csrf_token = "([^"]+)"/.exec((await browser.get("/")).body)![1]! });
    expect(tree.body).toContain(`Hearth test feed ${RUN}`);
  }, 300_000);

  it("the feed updater is restarted when it dies", async () => {
    const name = containerNameOf(appId);
    const [first] = updaterPids(name);
    expect(first).toBeTruthy();
    // Hearth drops CAP_KILL: root in the container cannot signal www-data's processes, www-data can
    execFileSync("docker", ["exec", "-u", "www-data", name, "kill", "-KILL", first!.pid]);
    const next = await until(
      "a new feed updater",
      () => {
        const p = updaterPids(name);
        return p.length === 1 && p[0]!.pid !== first!.pid ? p[0] : undefined;
      },
      90_000,
      1000,
    );
    expect(next.user).toBe("www-data");
    expect(containerLogs(name)).toMatch(/the feed updater exited \(137\), restarting in 10 s/);
  }, 120_000);

  it("after a restart: no second setup, the admin's password and the articles are still there", async () => {
    const name = containerNameOf(appId);
    execFileSync("docker", ["restart", name], { stdio: "ignore" });
    await until(
      "the app to answer again",
      async () => {
        const r = await browser.get("/healthz").catch(() => undefined);
        return r?.status === 200 ? r : undefined;
      },
      120_000,
      500,
    );
    const logs = containerLogs(name);
    expect(logs.match(/with the password: /g)).toHaveLength(1);
    expect(logs.match(/empty database: loading the schema/g)).toHaveLength(1);
    // two starts, many requests and updater runs: no PHP warning or error in the app's log
    // but tt-rss's own note of each failed login, with the visitor's address from X-Forwarded-For
    const php = logs.split("\n").filter((l) => /PHP (Warning|Notice|Fatal|Parse)/.test(l));
    expect(php.filter((l) => !/Failed login attempt for admin from 203\.0\.113\.7/.test(l))).toEqual([]);
    expect(php.length).toBeGreaterThanOrEqual(2);
    const api = new Browser(browser.port);
    const li = await api.api({ op: "login", user: "admin", password });
    expect(li.status).toBe(0);
    const h = await api.api({ sid: String(li.content.session_id), op: "getHeadlines", feed_id: feedId, view_mode: "all_articles" });
    expect((h.content as unknown as { title: string }[]).map((x) => x.title).sort()).toEqual([`First article ${RUN}`, `Second article ${RUN}`]);
    // the feed's icon directory and caches are in the volume
    const ls = execFileSync("docker", ["exec", name, "ls", "/app/data", "/app/data/cache"], { encoding: "utf8" });
    expect(ls).toMatch(/feed-icons/);
    expect(ls).toMatch(/images/);
  }, 180_000);

  it("uninstall, then the admin's delete now, leaves nothing", async () => {
    spawnSync("docker", ["rm", "-f", FEED_SERVER], { stdio: "ignore" });
    await uninstallAndPurge(db, apps, appId, ctx());
    expect(exists("container", containerNameOf(appId))).toBe(false);
    expect(exists("network", networkNameOf(appId))).toBe(false);
    expect(exists("volume", dataVolumeNameOf(appId))).toBe(false);
    expect(rootPsql("postgres", `SELECT COUNT(*) FROM pg_database WHERE datname = '${env.HEARTH_POSTGRESQL_DATABASE}'`)).toBe("0");
    expect(rootPsql("postgres", `SELECT COUNT(*) FROM pg_roles WHERE rolname = '${env.HEARTH_POSTGRESQL_USERNAME}'`)).toBe("0");
    expect(await db.appAddon.count({ where: { appId } })).toBe(0);
    expect(await db.app.count({ where: { id: appId } })).toBe(0);
  }, 300_000);

  it("no secret reached box's logs", () => {
    const all = [...logLines, ...ctxLines].join("\n");
    expect(all.length).toBeGreaterThan(100);
    expect(all).not.toContain(env.HEARTH_POSTGRESQL_PASSWORD);
    expect(all).not.toContain(password);
  });
});
