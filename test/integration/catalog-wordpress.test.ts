import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest, type HearthManifest } from "@hearth/contracts";
import { openSecret, type Db } from "@hearth/db";
import { LocalStorageAddon } from "../../apps/box/src/addons/localstorage";
import { MysqlAddon } from "../../apps/box/src/addons/mysql";
import type { AddonProvisioner } from "../../apps/box/src/addons/provisioner";
import type { AppService, StepContext } from "../../apps/box/src/apps/apps.service";
import { containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { createLogger } from "../../apps/box/src/logger";
import { networkGateways } from "../../apps/box/src/mail/network";
import { createOutbound } from "../../apps/box/src/mail/outbound";
import { MailRelay } from "../../apps/box/src/mail/relay";
import { ensureRelayCert, type RelayCert } from "../../apps/box/src/mail/relay-cert";
import { mailAccountLookup, SendmailAddon } from "../../apps/box/src/mail/sendmail.addon";
import { addonTestStack, buildCatalogImage, buildServiceImages } from "../helpers/addon-stack";
import { AppBrowser, until } from "../helpers/app-browser";
import { insertPendingApp } from "../helpers/app-rows";
import { startMailSink, type MailSink } from "../helpers/mail-sink";
import { REPO_ROOT, type TestDatabase } from "../helpers/db";
import { removeTestDockerObjects } from "../helpers/teardown";
import { uninstallAndPurge } from "../helpers/purge";

/**
 * The built-in catalog's WordPress (packages/catalog/apps/wordpress) installed by the real
 * AppService with its real addons: mysql on the real mariadb service (ServiceManager on a
 * prefix of this run) and sendmail on box's relay, which hands mail to a smarthost played by
 * an smtp-server in this process. Then, over HTTP on the app's host port with the Host and
 * X-Forwarded-Proto that Hearth's nginx sends: the front page, a login as admin with the
 * password from the app's log, the dashboard, a post published through the admin, a
 * "lost password" mail arriving at the smarthost from <sub>.app@<domain>; uninstall
 * leaves nothing.
 */

const RUN = randomBytes(4).toString("hex");
const OWNER = `catalog-wp-${RUN}`;
const PREFIX = `hearth-t${RUN}w-`;
const DOMAIN = "wp-test.example";
const SUB = "blog";
const FQDN = `${SUB}.${DOMAIN}`;
const APP_DIR = path.join(REPO_ROOT, "packages/catalog/apps/wordpress");
const dataDir = mkdtempSync(path.join(os.tmpdir(), "hearth-catwp-"));
const logLines: string[] = [];
const log = createLogger("info", "catalog-wp-test", { write: (s: string) => void logLines.push(s) });
const ctxLines: string[] = [];
const ctx = (): StepContext => ({ taskId: randomUUID(), progress: async () => {}, log: (l) => void ctxLines.push(l), signal: new AbortController().signal });
const secretKey = randomBytes(32);
const SMARTHOST_USER = "relay@provider.test";
const SMARTHOST_PASS = randomBytes(12).toString("hex");

let t: TestDatabase & { db: Db };
let db: Db;
let relay: MailRelay;
let sink: MailSink;
let sinkCert: RelayCert;
let prov: AddonProvisioner;
let apps: AppService;
let appId = "";
const manifest: HearthManifest = hearthManifest.parse(JSON.parse(readFileSync(path.join(APP_DIR, "HearthManifest.json"), "utf8")));

const rootMysql = (sql: string) => execFileSync("docker", ["exec", `${PREFIX}mariadb`, "mariadb", "-uroot", "-N", "-B", "-e", sql], { encoding: "utf8" }).trim();
const exists = (kind: string, name: string) => spawnSync("docker", [kind, "inspect", name], { stdio: "ignore" }).status === 0;
const containerLogs = (name: string) => {
  const r = spawnSync("docker", ["logs", name], { encoding: "utf8" });
  return `${r.stdout}${r.stderr}`;
};

/** A browser on the app's host port: Host and X-Forwarded-Proto as nginx sends them, a cookie jar. */
class Browser extends AppBrowser {
  constructor(port: number) {
    super(port, { host: FQDN });
  }
  postJson = (p: string, body: unknown, headers: Record<string, string>) => this.request("POST", p, { json: body, headers });
}

beforeAll(async () => {
  buildServiceImages(["base", "mariadb"]);
  const b = buildCatalogImage("wordpress");
  console.log(`catalog-wordpress: image build ${b.ms} ms (${b.last})`);
  ({ t, db, prov, apps } = await addonTestStack({
    dbName: "catwp",
    owner: OWNER,
    prefix: PREFIX,
    dataDir,
    log,
    secretKey,
    domain: DOMAIN,
    handlers: async (deps, db) => [new MysqlAddon(deps), new LocalStorageAddon(deps), new SendmailAddon({ relay: await startRelay(db), gatewayOf: networkGateways() })],
    apps: { healthTimeoutMs: 240_000, healthIntervalMs: 500 },
  }));
}, 1_800_000);

/** The admin's smarthost (a mail sink here: STARTTLS, AUTH, records every message) and box's relay in front of it. */
async function startRelay(db: Db): Promise<MailRelay> {
  sinkCert = await ensureRelayCert(path.join(dataDir, "sink"), "localhost");
  sink = await startMailSink({ tls: sinkCert, login: { username: SMARTHOST_USER, password: SMARTHOST_PASS } });
  const sinkPort = sink.port;

  // box's relay, reading the sendmail accounts from the provisioner's rows as main.ts does
  relay = new MailRelay({
    host: "0.0.0.0",
    port: 0,
    tls: await ensureRelayCert(path.join(dataDir, "relay")),
    outbound: createOutbound({ mode: "smarthost", host: "localhost", port: sinkPort, username: SMARTHOST_USER, password: SMARTHOST_PASS, ca: sinkCert.cert.toString() }),
    lookup: mailAccountLookup(async (id) => {
      const row = await db.appAddon.findUnique({ where: { appId_name: { appId: id, name: "sendmail" } } });
      return row?.credentialsEnc ? (JSON.parse(openSecret(secretKey, row.credentialsEnc)) as Record<string, string>) : null;
    }),
    log,
  });
  await relay.start();
  return relay;
}

afterAll(async () => {
  await relay?.stop();
  await sink?.close();
  await removeTestDockerObjects({ owner: OWNER, appIds: appId ? [appId] : [], dataDir, database: t });
}, 300_000);

describe("WordPress from the built-in catalog", () => {
  let browser: Browser;
  let password = "";
  let env: Record<string, string> = {};

  it("installs with mysql + sendmail and serves the site without a setup screen", async () => {
    appId = randomUUID();
    await insertPendingApp(db, manifest, { id: appId, subdomain: SUB, domain: DOMAIN });
    const t0 = Date.now();
    const { httpHostPort } = await apps.install(appId, ctx());
    const healthy = Date.now() - t0;
    browser = new Browser(httpHostPort);
    const front = await browser.get("/");
    console.log(`catalog-wordpress: install → healthy ${healthy} ms, → first 200 ${Date.now() - t0} ms (addons: ${JSON.stringify(prov.lastTimings)})`);
    expect(front.status, front.body.slice(0, 500)).toBe(200);
    expect(front.body).toMatch(/<title>[^<]*My WordPress Site[^<]*<\/title>/);
    expect(front.body).toContain(`https://${FQDN}/`);
    expect(front.body).not.toMatch(/wp-admin\/install\.php/);
    expect((await browser.get("/wp-admin/install.php")).body).toMatch(/already installed/i);

    const c = JSON.parse(execFileSync("docker", ["inspect", containerNameOf(appId)], { encoding: "utf8" }))[0];
    env = Object.fromEntries((c.Config.Env as string[]).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
    expect(env.HEARTH_MAIL_FROM).toBe(`${SUB}.app@${DOMAIN}`);
    expect(env.HEARTH_MYSQL_DATABASE).toBeTruthy();
    expect(c.HostConfig.ReadonlyRootfs).toBe(true);
    // its tables are in the app's own database
    expect(rootMysql(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '${env.HEARTH_MYSQL_DATABASE}' AND table_name = 'wp_posts'`)).toBe("1");
    // nothing secret in /app/data: the database password is only in /run's generated config
    const grep = spawnSync("docker", ["exec", containerNameOf(appId), "grep", "-rlF", "--", env.HEARTH_MYSQL_PASSWORD!, "/app/data"], { encoding: "utf8" });
    expect(grep.stdout.trim()).toBe("");
    // the admin's initial password is in the app's log, once
    const logs = containerLogs(containerNameOf(appId));
    const m = /log in at https:\/\/\S+ as 'admin' with the password: (\S+)/.exec(logs);
    expect(m, logs).not.toBeNull();
    password = m![1]!;
    expect(password.length).toBeGreaterThanOrEqual(20);
    expect(logs).not.toContain(env.HEARTH_MYSQL_PASSWORD);
    expect(logs).not.toContain(env.HEARTH_MAIL_SMTP_PASSWORD);
  }, 600_000);

  it("the admin logs in with the password from the log and publishes a post", async () => {
    expect((await browser.get("/wp-admin/")).status).toBe(302); // not logged in yet
    // wp-login.php sets this test cookie on GET and refuses logins without it
    expect((await browser.get("/wp-login.php")).status).toBe(200);
    expect(browser.cookies.get("wordpress_test_cookie")).toBeTruthy();
    const bad = await browser.post("/wp-login.php", { log: "admin", pwd: "wrong-password", "wp-submit": "Log In", testcookie: "1" });
    expect(bad.status).toBe(200);
    expect(bad.body).toMatch(/The password you entered for the username <strong>admin<\/strong> is incorrect/);
    expect([...browser.cookies.keys()].some((k) => k.startsWith("wordpress_logged_in_"))).toBe(false);
    const login = await browser.post("/wp-login.php", { log: "admin", pwd: password, "wp-submit": "Log In", redirect_to: `https://${FQDN}/wp-admin/`, testcookie: "1" });
    expect(login.status, login.body.slice(0, 800)).toBe(302);
    expect(login.headers.location).toBe(`https://${FQDN}/wp-admin/`);
    expect([...browser.cookies.keys()].some((k) => k.startsWith("wordpress_logged_in_"))).toBe(true);
    const dash = await browser.get("/wp-admin/");
    expect(dash.status).toBe(200);
    expect(dash.body).toContain("Dashboard");

    // publish as the block editor does: the REST API with the logged-in cookies and the
    // wp_rest nonce the editor page carries
    const title = `Hello from Hearth ${RUN}`;
    const editor = await browser.get("/wp-admin/post-new.php");
    expect(editor.status).toBe(200);
    const nonce = /wpApiSettings = \{[^}]*"nonce":"([0-9a-f]+)"/.exec(editor.body)?.[1];
    expect(nonce, "the editor's REST nonce").toBeTruthy();
    const pub = await browser.postJson(
      "/wp-json/wp/v2/posts",
      { title, content: `<!-- wp:paragraph --><p>Published by the test ${RUN}.</p><!-- /wp:paragraph -->`, status: "publish" },
      { "x-wp-nonce": nonce! },
    );
    expect(pub.status, pub.body.slice(0, 800)).toBe(201);
    expect(JSON.parse(pub.body)).toMatchObject({ status: "publish", author: 1 });
    // without the login the same request is refused
    const refused = await new Browser(browser.port).postJson("/wp-json/wp/v2/posts", { title: "nope", status: "publish" }, {});
    expect(refused.status).toBe(401);
    const anon = new Browser(browser.port);
    const home = await anon.get("/");
    expect(home.status).toBe(200);
    expect(home.body).toContain(title);
    // pretty permalinks through Apache's rewrite rules
    const link = new RegExp(`href="https://${FQDN.replace(/\./g, "\\.")}(/\\d{4}/\\d{2}/hello-from-hearth-${RUN}/)"`).exec(home.body)?.[1];
    expect(link, "the post's permalink").toBeTruthy();
    const single = await anon.get(link!);
    expect(single.status).toBe(200);
    expect(single.body).toContain(`Published by the test ${RUN}.`);
  }, 300_000);

  it("mail goes out through the relay from <sub>.app@<domain>", async () => {
    const before = sink.received.length;
    const r = await new Browser(browser.port).post("/wp-login.php?action=lostpassword", { user_login: "admin", "wp-submit": "Get New Password" });
    expect(r.status, r.body.slice(0, 800)).toBe(302);
    expect(r.headers.location).toMatch(/checkemail=confirm/);
    const mail = await until("the lost-password mail at the smarthost", () => sink.received.slice(before).find((m) => /Password Reset/i.test(m.raw)), 60_000);
    expect(mail.from).toBe(`${SUB}.app@${DOMAIN}`);
    expect(mail.to).toEqual([`admin@${FQDN}`]);
    expect(mail.raw).toMatch(new RegExp(`^From: .*<?${SUB}\\.app@${DOMAIN.replace(/\./g, "\\.")}>?`, "m"));
    expect(mail.raw).toContain(`https://${FQDN}/wp-login.php?action=rp`);
    expect(mail.raw).toMatch(/^From: My WordPress Site </m);
  }, 120_000);

  it("runs hardened: PHP as www-data, uploads never run as PHP, wp-cron works from the CLI", async () => {
    const name = containerNameOf(appId);
    const top = execFileSync("docker", ["top", name, "-eo", "pid,user,comm"], { encoding: "utf8" })
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.trim().split(/\s+/));
    const apache = top.filter(([, , comm]) => comm === "apache2");
    expect(apache.length).toBeGreaterThanOrEqual(2);
    expect(apache.filter(([, user]) => user === "root")).toHaveLength(1); // the parent only (binds, opens logs)
    expect(apache.filter(([, user]) => user === "www-data").length).toBeGreaterThanOrEqual(1);
    // the image is read-only; writable only /app/data, /run, /tmp
    expect(spawnSync("docker", ["exec", "-u", "www-data", name, "touch", "/usr/share/wordpress/x"]).status).not.toBe(0);
    expect(spawnSync("docker", ["exec", "-u", "www-data", name, "touch", "/app/data/wp-content/uploads/x"]).status).toBe(0);
    execFileSync("docker", ["exec", "-u", "www-data", name, "sh", "-c", "echo '<?php echo 6*7;' > /app/data/wp-content/uploads/evil.php; echo hello > /app/data/wp-content/uploads/plain.txt"]);
    const evil = await browser.get("/wp-content/uploads/evil.php");
    expect(evil.status).toBe(403);
    expect(evil.body).not.toContain("42");
    expect((await browser.get("/wp-content/uploads/plain.txt")).body).toBe("hello\n");
    // the bundled theme is served through its symlink in /app/data
    expect((await browser.get("/wp-content/themes/twentytwentythree/style.css")).status).toBe(200);
    expect((await browser.get("/wp-config.php")).status).toBe(403);
    const cron = spawnSync("docker", ["exec", "-u", "www-data", name, "php", "/usr/share/wordpress/wp-cron.php"], { encoding: "utf8" });
    expect(cron.status, cron.stderr).toBe(0);
  }, 120_000);

  it("after a restart: no second install, same salts (still logged in), the post is there", async () => {
    const name = containerNameOf(appId);
    execFileSync("docker", ["restart", name], { stdio: "ignore" });
    await until(
      "the app to answer again",
      async () => {
        const r = await browser.get("/wp-admin/").catch(() => undefined);
        return r && r.status === 200 && r.body.includes("Dashboard") ? r : undefined;
      },
      120_000,
    );
    const logs = containerLogs(name);
    expect(logs.match(/with the password: /g)).toHaveLength(1);
    expect(logs.match(/made new keys and salts/g)).toHaveLength(1);
    // two starts, many requests: no PHP warning or error in the app's log
    expect(logs).not.toMatch(/PHP (Warning|Notice|Fatal|Parse|Deprecated)/);
    expect((await new Browser(browser.port).get("/")).body).toContain(`Hello from Hearth ${RUN}`);
  }, 180_000);

  it("uninstall, then the admin's delete now, leaves nothing", async () => {
    await uninstallAndPurge(db, apps, appId, ctx());
    expect(exists("container", containerNameOf(appId))).toBe(false);
    expect(exists("network", networkNameOf(appId))).toBe(false);
    expect(exists("volume", dataVolumeNameOf(appId))).toBe(false);
    expect(rootMysql(`SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = '${env.HEARTH_MYSQL_DATABASE}'`)).toBe("0");
    expect(rootMysql(`SELECT COUNT(*) FROM mysql.user WHERE user = '${env.HEARTH_MYSQL_USERNAME}'`)).toBe("0");
    expect(await db.appAddon.count({ where: { appId } })).toBe(0);
    expect(await db.app.count({ where: { id: appId } })).toBe(0);
  }, 300_000);

  it("no secret reached box's logs", () => {
    const all = [...logLines, ...ctxLines].join("\n");
    expect(all.length).toBeGreaterThan(100);
    for (const k of ["HEARTH_MYSQL_PASSWORD", "HEARTH_MAIL_SMTP_PASSWORD"]) expect(all).not.toContain(env[k]);
  });
});
