import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HearthManifestInput } from "@hearth/contracts";
import { createUser, ensureStoreIdentity, getApp, sealSecret, type Db } from "@hearth/db";
import { AppService } from "../../apps/box/src/apps/apps.service";
import { containerNameOf } from "../../apps/box/src/apps/container-spec";
import { prismaRegistryCredentials } from "../../apps/box/src/apps/images";
import { createDocker } from "../../apps/box/src/docker/docker";
import { ownerApiToken, ownerSession } from "../helpers/admin-accounts";
import { sessionCookieOf, startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { hashPassword } from "../../apps/admin/lib/passwords";
import { startTaskRunner, type InProcessTasks } from "../helpers/app-tasks";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { steadyClick, steadyGoto } from "../helpers/chromium";
import { startStandInBox, type StandInBox } from "../helpers/stand-in-box";
import { removeTestDockerObjects } from "../helpers/teardown";
import { ensureTestImages, TEST_HTTPD_IMAGE } from "../helpers/test-images";

/**
 * An app's first admin account (manifest firstAdmin), on real peers: the built admin (`next
 * start`) records the install and seals a generated password, box's AppService (in this
 * process, with the same HEARTH_SECRET_KEY) runs the install on the real Docker engine and
 * passes the password in the manifest's variable. The test app (the test httpd with an area
 * behind HTTP basic auth, its credentials taken from ADMIN_USER / ADMIN_PASSWORD) lets in only
 * the revealed password; the reveal is no-store and an event; the password is in no argv, no
 * container log, no task log; "I changed it" deletes Hearth's copy.
 */

const RUN = randomBytes(4).toString("hex");
const IMAGE = `hearth-test/httpd-creds:${RUN}`;
const DOMAIN = "creds-test.example";
const SECRET_KEY = randomBytes(32).toString("base64");
let t: TestDatabase & { db: Db };
let db: Db;
let tmp = "";
let box: StandInBox;
let admin: RunningAdmin;
let tasks: InProcessTasks;
let cookie = "";
let appId = "";
let taskId = "";
let owner = "";
let browser: Browser | undefined;
let revealed = "";
const as = (extra: Call = {}): Call => admin.browser(cookie, extra);

/** GET on the app's published HTTP port (loopback), with basic auth when given. */
function appGet(port: number, p: string, auth?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = auth ? { authorization: `Basic ${Buffer.from(auth).toString("base64")}` } : {};
    http
      .get({ host: "127.0.0.1", port, path: p, headers }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on("error", reject);
  });
}

/** The app page in Chromium, signed in as the owner. */
async function openAppPage(): Promise<Page> {
  browser ??= await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const [name, value] = cookie.split("=") as [string, string];
  await context.addCookies([{ name, value, url: admin.base }]);
  const page = await context.newPage();
  await steadyGoto(page, `${admin.base}/apps/${appId}`);
  return page;
}

beforeAll(async () => {
  ensureTestImages();
  // the test httpd with /admin/ behind basic auth; the credentials come only from the environment
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-creds-"));
  const cmd = [
    "/bin/busybox",
    "sh",
    "-c",
    `/bin/busybox printf '/admin:%s:%s\\n' "$ADMIN_USER" "$ADMIN_PASSWORD" > /tmp/httpd.conf && echo creds test app starting && exec /bin/busybox httpd -f -v -p 8080 -h /www -c /tmp/httpd.conf`,
  ];
  writeFileSync(
    path.join(tmp, "Dockerfile"),
    `FROM ${TEST_HTTPD_IMAGE}\nRUN ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir -p /www/admin && echo admin area > /www/admin/index.html"]\nCMD ${JSON.stringify(cmd)}\n`,
  );
  execFileSync("docker", ["build", "-q", "-t", IMAGE, tmp], { stdio: "ignore", env: { ...process.env, DOCKER_BUILDKIT: "0" } });

  t = await migratedDatabase("creds");
  db = t.db;
  await db.domain.create({ data: { domain: DOMAIN, provider: "noop" } });
  owner = (await ensureStoreIdentity(db)).id;
  const service = new AppService({
    db,
    docker: createDocker(),
    vhosts: { syncVhosts: async () => {} },
    registries: prismaRegistryCredentials(db, undefined),
    catalogDirs: [],
    healthTimeoutMs: 30_000,
    healthIntervalMs: 200,
    owner,
    secretKey: Buffer.from(SECRET_KEY, "base64"),
  });
  tasks = await startTaskRunner({ db, service, dataDir: tmp });
  box = await startStandInBox(path.join(tmp, "box.sock"));
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: path.join(tmp, "box.sock"), HEARTH_SECRET_KEY: SECRET_KEY });
  cookie = await ownerSession(admin);
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await admin?.stop();
  await box?.close();
  await tasks?.stop();
  await removeTestDockerObjects({ appIds: appId ? [appId] : [], owner, dataDir: undefined, database: t });
  execFileSync("docker", ["rmi", "-f", IMAGE], { stdio: "ignore" });
}, 120_000);

describe("an app's first admin account", () => {
  const manifest: HearthManifestInput = {
    manifestVersion: 1,
    id: "org.hearth.test.credentials",
    title: "Credentials test",
    version: "1.0.0",
    dockerImage: IMAGE,
    httpPort: 8080,
    healthCheckPath: "/health",
    memoryLimit: 32 * 1024 * 1024,
    postInstallMessage: "Log in at `/admin/` with the first admin account below.",
    firstAdmin: { usernameEnv: "ADMIN_USER", passwordEnv: "ADMIN_PASSWORD" },
  };

  it("is generated at install, sealed, and passed to the app only as container env", async () => {
    // the admin cannot set the variables Hearth sets: a clear 400, nothing created
    const clash = await admin.call("POST", "/api/v1/apps", as({ body: { manifest, subdomain: `creds${RUN}`, domain: DOMAIN, env: { ADMIN_PASSWORD: "mine" } } }));
    expect(clash.status, clash.text).toBe(400);
    expect(clash.body.error.code).toBe("invalid");
    expect(clash.body.error.details[0].path).toEqual(["env", "ADMIN_PASSWORD"]);
    expect(await db.app.count()).toBe(0);
    const r = await admin.call("POST", "/api/v1/apps", as({ body: { manifest, subdomain: `creds${RUN}`, domain: DOMAIN } }));
    expect(r.status, r.text).toBe(202);
    appId = r.body.id;
    taskId = r.body.taskId;
    const stored = await db.appCredential.findUniqueOrThrow({ where: { appId } });
    expect(stored.username).toBe("admin");
    expect(stored.passwordEnc).toMatch(/^v1[.:]/); // sealed, not the password
    const done = await tasks.finish(taskId);
    expect(done.state, tasks.log(taskId)).toBe("succeeded");
  }, 180_000);

  it("reveals the password the app takes (no-store, an event each time), and only that one", async () => {
    const r = await admin.call("GET", `/api/v1/apps/${appId}/credentials`, as());
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get("cache-control")).toBe("no-store");
    const { username, password } = r.body as { username: string; password: string };
    revealed = password;
    expect(username).toBe("admin");
    expect(password).toMatch(/^[A-Za-z0-9]{20}$/);

    const port = (await getApp(db, appId))!.httpHostPort!;
    expect(await appGet(port, "/health")).toBe(200);
    expect(await appGet(port, "/admin/")).toBe(401);
    expect(await appGet(port, "/admin/", `admin:${password.slice(1)}x`)).toBe(401);
    expect(await appGet(port, "/admin/", `admin:${password}`)).toBe(200);

    const events = await db.event.findMany({ where: { action: "app.credentials_reveal", target: appId } });
    expect(events).toHaveLength(1);
    expect(JSON.stringify(events[0]!.data)).not.toContain(password);

    // never in argv, never in a log line: the container's command, its log, the task log, admin's log
    const inspect = JSON.parse(execFileSync("docker", ["inspect", containerNameOf(appId)], { encoding: "utf8" }))[0];
    expect(JSON.stringify([inspect.Path, inspect.Args, inspect.Config.Cmd, inspect.Config.Entrypoint])).not.toContain(password);
    expect(inspect.Config.Env).toContain(`ADMIN_PASSWORD=${password}`);
    const containerLog = execFileSync("docker", ["logs", containerNameOf(appId)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    expect(containerLog).toContain("creds test app starting");
    expect(containerLog).not.toContain(password);
    expect(tasks.log(taskId)).not.toContain(password);
    expect(admin.output()).not.toContain(password);

    const clash = await admin.call("POST", `/api/v1/apps/${appId}/configure`, as({ body: { env: { ADMIN_USER: "root" } } }));
    expect(clash.status, clash.text).toBe(400);
    expect(clash.body.error.details[0].path).toEqual(["env", "ADMIN_USER"]);

    // the app page's view says there is one kept; the app list does not carry it
    const view = await admin.call("GET", `/api/v1/apps/${appId}`, as());
    expect(view.body.firstAdmin).toEqual({ username: "admin", kept: true });
    expect(view.text).not.toContain(password);
    const list = await admin.call("GET", "/api/v1/apps", as());
    expect(list.text).not.toContain(password);
  }, 60_000);

  it("the app page's ready card reveals it behind Reveal, with a copy button, any time after the install", async () => {
    const page = await openAppPage();
    const card = page.getByTestId("app-credentials");
    await card.waitFor();
    await page.getByRole("heading", { name: "Getting started" }).waitFor();
    expect(await page.content()).not.toContain(revealed); // not on the page before Reveal
    const shown = card.getByTestId("app-credentials-password");
    await steadyClick(card.getByRole("button", { name: "Reveal" }), shown, card);
    expect(((await shown.textContent()) ?? "").trim()).toBe(revealed);
    await card.getByRole("button", { name: "Copy the password" }).waitFor();
    expect(await db.event.count({ where: { action: "app.credentials_reveal", target: appId } })).toBe(2);
    await page.context().close();
  }, 120_000);

  it("is refused to a read-scope token, to a plain user, and to a cookie DELETE without Origin; nothing revealed or deleted", async () => {
    const events = () => db.event.count({ where: { action: { in: ["app.credentials_reveal", "app.credentials_changed"] }, target: appId } });
    const before = await events();
    // a read-scope token of the owner: refused even on GET (the answer is a secret)
    const readToken = await ownerApiToken(db, "read", `creds-read-${RUN}`);
    const byRead = await admin.call("GET", `/api/v1/apps/${appId}/credentials`, { token: readToken });
    expect(byRead.status, byRead.text).toBe(403);
    expect(byRead.body.error.code).toBe("forbidden");
    expect(byRead.text).not.toContain(revealed);
    // a read-write token of the owner may (the wrapper's ordinary rules)
    const rwToken = await ownerApiToken(db, "read_write", `creds-rw-${RUN}`);
    const byRw = await admin.call("GET", `/api/v1/apps/${appId}/credentials`, { token: rwToken });
    expect(byRw.status, byRw.text).toBe(200);
    expect(byRw.body.password).toBe(revealed);
    // a user-role session: refused
    const u = { username: `credsuser${RUN}`, email: `credsuser${RUN}@example.com`, password: "a plain user's long password" };
    await createUser(db, { id: randomUUID(), ...u, role: "user", passwordHash: await hashPassword(u.password) });
    const login = await admin.call("POST", "/api/v1/auth/login", { body: { username: u.username, password: u.password } });
    expect(login.status, login.text).toBe(200);
    const userCookie = sessionCookieOf(login);
    const byUser = await admin.call("GET", `/api/v1/apps/${appId}/credentials`, admin.browser(userCookie));
    expect(byUser.status, byUser.text).toBe(403);
    expect(byUser.text).not.toContain(revealed);
    // the owner's cookie session without Origin (a cross-site form could send that): the DELETE is refused, the copy stays
    const noOrigin = await admin.call("DELETE", `/api/v1/apps/${appId}/credentials`, { cookie });
    expect(noOrigin.status, noOrigin.text).toBe(403);
    expect(noOrigin.body.error.code).toBe("forbidden");
    expect(await db.appCredential.count({ where: { appId } })).toBe(1);
    expect(await events()).toBe(before + 1); // only the read-write token's reveal
  }, 60_000);

  it("survives uninstall and restore: the sealed copy goes into the snapshot and comes back, the restored app takes the same password", async () => {
    const before = await db.appCredential.findUniqueOrThrow({ where: { appId } });
    const un = await admin.call("DELETE", `/api/v1/apps/${appId}`, as());
    expect(un.status, un.text).toBe(202);
    expect((await tasks.finish(un.body.taskId)).state, tasks.log(un.body.taskId)).toBe("succeeded");
    expect(await db.appCredential.count({ where: { appId } })).toBe(0); // cascaded with the App row
    const kept = await db.uninstalledApp.findUniqueOrThrow({ where: { id: appId } });
    const snapText = JSON.stringify(kept.snapshot);
    expect(snapText).toContain(before.passwordEnc); // sealed as it was
    expect(snapText).not.toContain(revealed); // never opened into the snapshot
    const re = await admin.call("POST", `/api/v1/uninstalled-apps/${appId}/restore`, as());
    expect(re.status, re.text).toBe(202);
    const after = await db.appCredential.findUniqueOrThrow({ where: { appId } });
    expect({ username: after.username, passwordEnc: after.passwordEnc }).toEqual({ username: before.username, passwordEnc: before.passwordEnc });
    expect((await tasks.finish(re.body.taskId)).state, tasks.log(re.body.taskId)).toBe("succeeded");
    const r = await admin.call("GET", `/api/v1/apps/${appId}/credentials`, as());
    expect(r.status, r.text).toBe(200);
    expect(r.body.password).toBe(revealed);
    const port = (await getApp(db, appId))!.httpHostPort!;
    expect(await appGet(port, "/admin/", `admin:${revealed}`)).toBe(200);
  }, 180_000);

  it("a later task whose kept password cannot be opened leaves it out with a task-log line; the app keeps a container", async () => {
    const original = (await db.appCredential.findUniqueOrThrow({ where: { appId } })).passwordEnc;
    // sealed with another key: this server's HEARTH_SECRET_KEY cannot open it
    await db.appCredential.update({ where: { appId }, data: { passwordEnc: sealSecret(randomBytes(32), "sealed elsewhere") } });
    try {
      const r = await admin.call("POST", `/api/v1/apps/${appId}/configure`, as({ body: { env: { CREDS_MARK: "1" } } }));
      expect(r.status, r.text).toBe(202);
      const done = await tasks.finish(r.body.taskId);
      expect(done.state, tasks.log(r.body.taskId)).toBe("succeeded");
      expect(tasks.log(r.body.taskId)).toContain("cannot be decrypted with this HEARTH_SECRET_KEY; the container is made without ADMIN_PASSWORD");
      const inspect = JSON.parse(execFileSync("docker", ["inspect", containerNameOf(appId)], { encoding: "utf8" }))[0];
      expect(inspect.State.Running).toBe(true);
      expect(inspect.Config.Env).toContain("CREDS_MARK=1");
      expect(inspect.Config.Env.some((e: string) => e.startsWith("ADMIN_PASSWORD="))).toBe(false);
    } finally {
      await db.appCredential.update({ where: { appId }, data: { passwordEnc: original } });
    }
  }, 120_000);

  it("is deleted when the admin marks it as changed; the app keeps working", async () => {
    const gone = await admin.call("DELETE", `/api/v1/apps/${appId}/credentials`, as());
    expect(gone.status, gone.text).toBe(204);
    expect(await db.appCredential.count({ where: { appId } })).toBe(0);
    expect(await db.event.count({ where: { action: "app.credentials_changed", target: appId } })).toBe(1);
    const again = await admin.call("GET", `/api/v1/apps/${appId}/credentials`, as());
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe("not_found");
    expect((await admin.call("DELETE", `/api/v1/apps/${appId}/credentials`, as())).status).toBe(404);
    expect(await db.event.count({ where: { action: "app.credentials_reveal", target: appId } })).toBe(4);
    const view = await admin.call("GET", `/api/v1/apps/${appId}`, as());
    expect(view.body.firstAdmin).toEqual({ username: "admin", kept: false });
    const port = (await getApp(db, appId))!.httpHostPort!;
    expect(await appGet(port, "/health")).toBe(200);
    // an unknown app: 404, no event
    expect((await admin.call("GET", "/api/v1/apps/00000000-0000-0000-0000-000000000000/credentials", as())).status).toBe(404);
  }, 60_000);

  it("the page then says Hearth keeps no copy, and offers no Reveal", async () => {
    const page = await openAppPage();
    await page.getByRole("heading", { name: "Getting started" }).click(); // the card is closed once nothing is kept
    const card = page.getByTestId("app-credentials");
    await card.getByText("Hearth keeps no copy of this app's first password").waitFor();
    expect(await card.getByRole("button", { name: "Reveal" }).count()).toBe(0);
    await page.context().close();
  }, 120_000);

  it("an app whose stored env already holds the variable (installed before firstAdmin) can be configured with it unchanged, not changed", async () => {
    await db.app.update({ where: { id: appId }, data: { env: { ADMIN_PASSWORD: "legacy password" } } });
    const same = await admin.call("POST", `/api/v1/apps/${appId}/configure`, as({ body: { env: { ADMIN_PASSWORD: "legacy password", CREDS_MARK: "2" } } }));
    expect(same.status, same.text).toBe(202);
    expect((await tasks.finish(same.body.taskId)).state, tasks.log(same.body.taskId)).toBe("succeeded");
    const changed = await admin.call("POST", `/api/v1/apps/${appId}/configure`, as({ body: { env: { ADMIN_PASSWORD: "another password" } } }));
    expect(changed.status, changed.text).toBe(400);
    expect(changed.body.error.details[0].path).toEqual(["env", "ADMIN_PASSWORD"]);
    const added = await admin.call("POST", `/api/v1/apps/${appId}/configure`, as({ body: { env: { ADMIN_PASSWORD: "legacy password", ADMIN_USER: "root" } } }));
    expect(added.status, added.text).toBe(400);
    expect(added.body.error.details[0].path).toEqual(["env", "ADMIN_USER"]);
    expect((await getApp(db, appId))!.env).toEqual({ ADMIN_PASSWORD: "legacy password", CREDS_MARK: "2" });
  }, 120_000);

  it("is refused without a session", async () => {
    expect((await admin.call("GET", `/api/v1/apps/${appId}/credentials`)).status).toBe(401);
  });
});
