import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest, hearthMemoryReserve, maxAppMemoryLimit, MIB } from "@hearth/contracts";
import { openSecret, type Db } from "@hearth/db";
import { REPO_ROOT, migratedDatabase, type TestDatabase } from "../helpers/db";
import { startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { ownerApiToken, ownerSession, plainUserToken } from "../helpers/admin-accounts";
import { startStandInBox, type StandInBox } from "../helpers/stand-in-box";
import { INVALID_MANIFESTS, VALID_MANIFEST, withChange } from "../../packages/contracts/src/manifest.examples";

/**
 * The apps, domains, catalog and registries API over real HTTP (`next start` of the build on a
 * migrated database). admin only records intent, so these check rows, states and tasks; box is
 * a stand-in on the socket that counts wakes (box's own tests run the tasks).
 */
let t: TestDatabase & { db: Db };
let admin: RunningAdmin;
let tmp = "";
let box: StandInBox;
let ownerCookie = "";
let readToken = "";
let rwToken = "";
const SECRET_KEY = randomBytes(32);
const BUILTIN = path.join(REPO_ROOT, "packages/catalog/apps");

const as = (extra: Call = {}): Call => admin.browser(ownerCookie, extra);

function writePackage(root: string, folder: string, manifest: unknown, files: Record<string, string> = {}) {
  const d = path.join(root, folder);
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, "HearthManifest.json"), typeof manifest === "string" ? manifest : JSON.stringify(manifest, null, 2));
  for (const [n, b] of Object.entries(files)) writeFileSync(path.join(d, n), b);
}

const NOTES = {
  ...VALID_MANIFEST,
  id: "org.example.notes",
  title: "Notes",
  tagline: "Write things down",
  tags: ["notes", "productivity"],
  icon: "icon.png",
  memoryLimit: 128 * 1024 * 1024,
  tcpPorts: { SYNC_PORT: { title: "Sync", containerPort: 7000, defaultValue: 17000 } },
  postInstallMessage: "Log in as **admin**.",
};

async function counts() {
  return { apps: await t.db.app.count(), tasks: await t.db.task.count(), ports: await t.db.appPort.count() };
}

beforeAll(async () => {
  t = await migratedDatabase("apps");
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-apps-"));
  const catalog = path.join(tmp, "catalog");
  writePackage(catalog, "notes", NOTES, { "icon.png": "\x89PNG fake" });
  writePackage(catalog, "notes-old", { ...NOTES, version: "1.0.0" }, { "icon.png": "\x89PNG old" });
  writePackage(catalog, "gallery", { ...VALID_MANIFEST, id: "org.example.gallery", title: "Gallery", tags: ["photos"], icon: "../notes/icon.png" });
  writePackage(catalog, "broken", { ...VALID_MANIFEST, id: "org.example.broken", colour: "red" });
  writePackage(catalog, "junk", "{");

  const boxSocket = path.join(tmp, "box.sock");
  box = await startStandInBox(boxSocket, {
    handle(req, res) {
      if (req.url === "/health") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: true, version: "0.1.0", boxId: "stand-in", uptimeSeconds: 1, runningTasks: 0 }));
        return true;
      }
      const m = /^\/apps\/([^/?]+)\/logs\?follow=([01])&lines=(\d+)$/.exec(req.url ?? "");
      if (m && m[1]!.startsWith("0")) {
        // app ids starting with 0 stream; others 404 like a box without the endpoint
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(`event: log\ndata: ${JSON.stringify({ line: `hello from ${m[1]} lines=${m[3]} follow=${m[2]}` })}\n\n`);
        res.end("event: end\ndata: {}\n\n");
        return true;
      }
      return false;
    },
  });

  admin = await startAdmin({
    HEARTH_DATABASE_URL: t.url,
    HEARTH_BOX_SOCKET: boxSocket,
    HEARTH_CATALOG_DIRS: catalog,
    HEARTH_SECRET_KEY: SECRET_KEY.toString("base64"),
  });
  ownerCookie = await ownerSession(admin);
  readToken = await ownerApiToken(t.db, "read", "read");
  rwToken = await ownerApiToken(t.db, "read_write", "rw");
});

afterAll(async () => {
  await admin?.stop();
  await box?.close();
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("domains", () => {
  it("adds domains: the first serves the dashboard; 409 for a duplicate; 400 for junk", async () => {
    const a = await admin.call("POST", "/api/v1/domains", as({ body: { domain: "Example.COM", provider: "manual" } }));
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({ domain: "example.com", provider: "manual", isDashboardDomain: true });
    const b = await admin.call("POST", "/api/v1/domains", as({ body: { domain: "example.org", provider: "wildcard" } }));
    expect(b.status).toBe(201);
    expect(b.body.isDashboardDomain).toBe(false);
    const dup = await admin.call("POST", "/api/v1/domains", as({ body: { domain: "example.com", provider: "noop" } }));
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe("conflict");
    for (const body of [{ domain: "not a domain", provider: "manual" }, { domain: "x.com", provider: "route53" }, { domain: "x.com" }]) {
      const r = await admin.call("POST", "/api/v1/domains", as({ body }));
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("invalid");
    }
    const list = await admin.call("GET", "/api/v1/domains", { cookie: ownerCookie });
    expect(list.body.domains.map((d: { domain: string }) => d.domain)).toEqual(["example.com", "example.org"]);
  });

  it("deletes an unused domain (204), 404 for an unknown one; events recorded", async () => {
    await admin.call("POST", "/api/v1/domains", as({ body: { domain: "temp.example.net", provider: "noop" } }));
    expect((await admin.call("DELETE", "/api/v1/domains/temp.example.net", as())).status).toBe(204);
    expect((await admin.call("DELETE", "/api/v1/domains/temp.example.net", as())).status).toBe(404);
    const ev = await t.db.event.findMany({ where: { action: { startsWith: "domain." } }, orderBy: { id: "asc" } });
    expect(ev.map((e) => `${e.action} ${e.target}`)).toEqual(["domain.add example.com", "domain.add example.org", "domain.add temp.example.net", "domain.remove temp.example.net"]);
  });
});

describe("appstore", () => {
  it("lists the valid catalog packages with versions; invalid ones are skipped", async () => {
    const r = await admin.call("GET", "/api/v1/appstore", { cookie: ownerCookie });
    expect(r.status).toBe(200);
    const ids = r.body.apps.map((a: { id: string }) => a.id);
    expect(ids).toEqual(expect.arrayContaining(["org.example.notes", "org.example.gallery"]));
    expect(ids).not.toContain("org.example.broken");
    const notes = r.body.apps.find((a: { id: string }) => a.id === "org.example.notes");
    expect(notes).toMatchObject({ title: "Notes", version: "1.2.3", versions: ["1.2.3", "1.0.0"], iconUrl: "/api/v1/appstore/org.example.notes/icon", tags: ["notes", "productivity"] });
    expect(r.body.tags).toEqual(expect.arrayContaining(["notes", "photos", "productivity"]));
    expect(admin.output()).toMatch(/invalid manifest, skipped/);
  });

  it("lists every valid package of the built-in catalog", async () => {
    if (!existsSync(BUILTIN)) return;
    const r = await admin.call("GET", "/api/v1/appstore", { cookie: ownerCookie });
    const ids = r.body.apps.map((a: { id: string }) => a.id);
    for (const folder of readdirSync(BUILTIN)) {
      const file = path.join(BUILTIN, folder, "HearthManifest.json");
      if (!existsSync(file)) continue;
      const m = hearthManifest.safeParse(JSON.parse(readFileSync(file, "utf8")));
      if (m.success) expect(ids).toContain(m.data.id);
    }
  });

  it("searches and filters by tag", async () => {
    const s = await admin.call("GET", "/api/v1/appstore?search=write%20things", { cookie: ownerCookie });
    expect(s.body.apps.map((a: { id: string }) => a.id)).toEqual(["org.example.notes"]);
    const tag = await admin.call("GET", "/api/v1/appstore?tag=photos", { cookie: ownerCookie });
    expect(tag.body.apps.map((a: { id: string }) => a.id)).toEqual(["org.example.gallery"]);
  });

  it("GET /appstore/:id (and a version); 404 for unknown ids and versions", async () => {
    expect((await admin.call("GET", "/api/v1/appstore/org.example.notes", { cookie: ownerCookie })).body.version).toBe("1.2.3");
    expect((await admin.call("GET", "/api/v1/appstore/org.example.notes?version=1.0.0", { cookie: ownerCookie })).body.version).toBe("1.0.0");
    expect((await admin.call("GET", "/api/v1/appstore/org.example.notes?version=9.0.0", { cookie: ownerCookie })).status).toBe(404);
    expect((await admin.call("GET", "/api/v1/appstore/org.example.broken", { cookie: ownerCookie })).status).toBe(404);
  });

  it("serves icons with their content type, never files outside the package", async () => {
    const r = await fetch(`${admin.base}/api/v1/appstore/org.example.notes/icon`, { headers: { cookie: ownerCookie } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await r.arrayBuffer()).toString("latin1")).toBe(Buffer.from("\x89PNG fake").toString("latin1"));
    expect((await admin.call("GET", "/api/v1/appstore/org.example.gallery/icon", { cookie: ownerCookie })).status).toBe(404);
    expect((await admin.call("GET", "/api/v1/appstore/..%2F..%2Fetc/icon", { cookie: ownerCookie })).status).toBe(404);
    expect((await admin.call("GET", "/api/v1/appstore/org.example.notes/icon")).status).toBe(401);
  });
});

let notesId = "";
let notesTask = "";

describe("install", () => {
  it("from the store → 202 {id, taskId}; App pending_install + Task app.install in one go; box woken", async () => {
    const before = box.wakes();
    const r = await admin.call(
      "POST",
      "/api/v1/apps",
      as({ body: { storeId: "org.example.notes", subdomain: "notes", domain: "example.com", env: { GREETING: "hi" }, portBindings: { SYNC_PORT: 17000 } } }),
    );
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ id: expect.any(String), taskId: expect.any(String) });
    notesId = r.body.id;
    notesTask = r.body.taskId;
    const app = await t.db.app.findUniqueOrThrow({ where: { id: notesId }, include: { ports: true } });
    expect(app).toMatchObject({
      installState: "pending_install",
      runState: "running",
      storeId: "org.example.notes",
      manifestId: "org.example.notes",
      version: "1.2.3",
      subdomain: "notes",
      domain: "example.com",
      env: { GREETING: "hi" },
    });
    expect(app.memoryLimit).toBe(BigInt(128 * 1024 * 1024));
    expect((app.manifest as { postInstallMessage: string }).postInstallMessage).toBe("Log in as **admin**.");
    expect(app.ports).toEqual([{ appId: notesId, envName: "SYNC_PORT", hostPort: 17000, containerPort: 7000 }]);
    const task = await t.db.task.findUniqueOrThrow({ where: { id: notesTask } });
    expect(task).toMatchObject({ type: "app.install", appId: notesId, state: "pending", args: { appId: notesId } });
    expect(box.wakes()).toBe(before + 1);
    const ev = await t.db.event.findFirstOrThrow({ where: { action: "app.install" } });
    expect(ev.target).toBe(notesId);
  });

  it("GET /apps and /apps/:id show the app view", async () => {
    const one = await admin.call("GET", `/api/v1/apps/${notesId}`, { cookie: ownerCookie });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: notesId,
      title: "Notes",
      url: "https://notes.example.com/",
      fqdn: "notes.example.com",
      installState: "pending_install",
      runState: "running",
      health: null,
      taskId: notesTask,
      error: null,
      icon: "/api/v1/appstore/org.example.notes/icon",
      memoryLimit: 128 * 1024 * 1024,
      portBindings: { SYNC_PORT: 17000 },
      postInstallMessage: "Log in as **admin**.",
    });
    const list = await admin.call("GET", "/api/v1/apps", { cookie: ownerCookie });
    expect(list.body.apps.map((a: { id: string }) => a.id)).toEqual([notesId]);
    expect((await admin.call("GET", `/api/v1/apps/${randomUUID()}`, { cookie: ownerCookie })).status).toBe(404);
  });

  it("an older store version and the bare domain", async () => {
    const r = await admin.call("POST", "/api/v1/apps", as({ body: { storeId: "org.example.notes", version: "1.0.0", subdomain: "", domain: "example.org", memoryLimit: 64 * 1024 * 1024 } }));
    expect(r.status).toBe(202);
    const v = await admin.call("GET", `/api/v1/apps/${r.body.id}`, { cookie: ownerCookie });
    expect(v.body).toMatchObject({ version: "1.0.0", url: "https://example.org/", memoryLimit: 64 * 1024 * 1024, portBindings: { SYNC_PORT: null } });
  });

  it("from a custom manifest → 202; storeId null, no icon", async () => {
    const r = await admin.call("POST", "/api/v1/apps", { token: rwToken, body: { manifest: { ...VALID_MANIFEST, id: "org.example.custom" }, subdomain: "custom", domain: "example.com" } });
    expect(r.status).toBe(202);
    const app = await t.db.app.findUniqueOrThrow({ where: { id: r.body.id } });
    expect(app).toMatchObject({ storeId: null, manifestId: "org.example.custom", installState: "pending_install" });
    expect(app.memoryLimit).toBe(BigInt(256 * 1024 * 1024));
    expect((await admin.call("GET", `/api/v1/apps/${r.body.id}`, { cookie: ownerCookie })).body.icon).toBeNull();
  });

  it.each(INVALID_MANIFESTS)("invalid manifest (%s) → 400 invalid with the issues, nothing created", async (_what, change, names) => {
    const before = await counts();
    const r = await admin.call("POST", "/api/v1/apps", as({ body: { manifest: withChange(change), subdomain: `bad${randomBytes(3).toString("hex")}`, domain: "example.com" } }));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("invalid");
    expect(Array.isArray(r.body.error.details)).toBe(true);
    const text = (r.body.error.details as { path: (string | number)[]; message: string }[]).map((i) => `${i.path.join(".")}: ${i.message}`).join("\n");
    expect(text).toMatch(names);
    expect(text).toMatch(/^manifest/m);
    expect(await counts()).toEqual(before);
  });

  it("has at least 30 invalid manifests in its table", () => {
    expect(INVALID_MANIFESTS.length).toBeGreaterThanOrEqual(30);
  });

  it.each([
    ["a bad subdomain", { storeId: "org.example.notes", subdomain: "no_good", domain: "example.com" }, 400, "invalid"],
    ["the dashboard's subdomain", { storeId: "org.example.notes", subdomain: "my", domain: "example.com" }, 400, "invalid"],
    ["HEARTH_ env", { storeId: "org.example.notes", subdomain: "e1", domain: "example.com", env: { HEARTH_X: "1" } }, 400, "invalid"],
    ["too little memory", { storeId: "org.example.notes", subdomain: "e2", domain: "example.com", memoryLimit: 1024 }, 400, "invalid"],
    ["both storeId and manifest", { storeId: "org.example.notes", manifest: VALID_MANIFEST, subdomain: "e3", domain: "example.com" }, 400, "invalid"],
    ["neither", { subdomain: "e4", domain: "example.com" }, 400, "invalid"],
    ["a port the manifest lacks", { storeId: "org.example.notes", subdomain: "e5", domain: "example.com", portBindings: { NOPE: 20000 } }, 400, "invalid"],
    ["a privileged host port", { storeId: "org.example.notes", subdomain: "e6", domain: "example.com", portBindings: { SYNC_PORT: 80 } }, 400, "invalid"],
    ["an unknown store app", { storeId: "org.example.nope", subdomain: "e7", domain: "example.com" }, 404, "not_found"],
    ["an unknown version", { storeId: "org.example.notes", version: "7.0.0", subdomain: "e8", domain: "example.com" }, 404, "not_found"],
    ["an unknown domain", { storeId: "org.example.notes", subdomain: "e9", domain: "nowhere.example" }, 404, "not_found"],
    ["a taken subdomain", { storeId: "org.example.notes", subdomain: "notes", domain: "example.com" }, 409, "conflict"],
    ["a taken host port", { storeId: "org.example.notes", subdomain: "e10", domain: "example.com", portBindings: { SYNC_PORT: 17000 } }, 409, "conflict"],
    ["a too new minHearthVersion", { manifest: { ...VALID_MANIFEST, minHearthVersion: "99.0.0" }, subdomain: "e11", domain: "example.com" }, 400, "invalid"],
  ])("%s → %d, nothing created", async (_what, body, status, code) => {
    const before = await counts();
    const r = await admin.call("POST", "/api/v1/apps", as({ body }));
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(await counts()).toEqual(before);
  });

  it("a taken name or host port is refused naming the app that holds it (title and location)", async () => {
    const before = await counts();
    const name = await admin.call("POST", "/api/v1/apps", as({ body: { manifest: { ...VALID_MANIFEST, id: "org.example.clash" }, subdomain: "notes", domain: "example.com" } }));
    expect(name.status).toBe(409);
    expect(name.body.error).toMatchObject({
      code: "conflict",
      message: "notes.example.com is already used by Notes (https://notes.example.com/)",
      details: { appId: notesId, field: "subdomain", holder: { appId: notesId, title: "Notes", url: "https://notes.example.com/" } },
    });
    const alias = await admin.call(
      "POST",
      "/api/v1/apps",
      as({ body: { storeId: "org.example.notes", subdomain: "e12", domain: "example.com", aliases: [{ subdomain: "notes", domain: "example.com" }] } }),
    );
    expect(alias.status).toBe(409);
    expect(alias.body.error.message).toBe("notes.example.com is already used by Notes (https://notes.example.com/)");
    expect(alias.body.error.details.field).toBe("aliases.0");
    const port = await admin.call("POST", "/api/v1/apps", as({ body: { storeId: "org.example.notes", subdomain: "e13", domain: "example.com", portBindings: { SYNC_PORT: 17000 } } }));
    expect(port.status).toBe(409);
    expect(port.body.error).toMatchObject({
      code: "conflict",
      message: "Host port 17000 is already used by Notes (https://notes.example.com/)",
      details: { hostPorts: [17000], holder: { title: "Notes" } },
    });
    expect(await counts()).toEqual(before);
  });

  it("a memory limit above what this server can give is refused with the maximum in MiB; GET /server/limits says the maximum", async () => {
    const total = os.totalmem();
    const max = maxAppMemoryLimit(total);
    const limits = await admin.call("GET", "/api/v1/server/limits", { cookie: ownerCookie });
    expect(limits.status).toBe(200);
    expect(limits.body).toEqual({ memory: { totalBytes: total, reservedBytes: hearthMemoryReserve(total), minLimitBytes: 32 * MIB, maxLimitBytes: max } });
    expect((await admin.call("GET", "/api/v1/server/limits", {})).status).toBe(401);
    expect((await admin.call("GET", "/api/v1/server/limits", { token: readToken })).status).toBe(200);

    const before = await counts();
    // one MiB over: sent by the admin, or asked for by a custom manifest
    for (const body of [
      { storeId: "org.example.notes", subdomain: "big1", domain: "example.com", memoryLimit: max + MIB },
      { manifest: { ...VALID_MANIFEST, id: "org.example.big", memoryLimit: max + MIB }, subdomain: "big2", domain: "example.com" },
    ]) {
      const r = await admin.call("POST", "/api/v1/apps", as({ body }));
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe("invalid");
      expect(r.body.error.message).toContain(`A memory limit of ${(max + MIB) / MIB} MiB is more than this server can give: at most ${max / MIB} MiB`);
      expect(r.body.error.details).toEqual([{ path: ["memoryLimit"], code: "memory_limit_too_high", message: r.body.error.message, maximum: max }]);
    }
    // the issue's 60000 MiB on this server (24 GiB): refused when it is more than the maximum
    if (60000 * MIB > max)
      expect((await admin.call("POST", "/api/v1/apps", as({ body: { storeId: "org.example.notes", subdomain: "big3", domain: "example.com", memoryLimit: 60000 * MIB } }))).status).toBe(400);
    expect(await counts()).toEqual(before);
  });

  it("not JSON or not an object → 400", async () => {
    expect((await admin.call("POST", "/api/v1/apps", as({ raw: "[1]" }))).status).toBe(400);
    expect((await admin.call("POST", "/api/v1/apps", as({ raw: "{" }))).status).toBe(400);
  });

  it("a read token, a plain user or nobody cannot install", async () => {
    const body = { storeId: "org.example.notes", subdomain: "ro", domain: "example.com" };
    const before = await counts();
    const r = await admin.call("POST", "/api/v1/apps", { token: readToken, body });
    expect(r.status).toBe(403);
    expect((await admin.call("GET", "/api/v1/apps", { token: readToken })).status).toBe(200);
    const userToken = await plainUserToken(t.db);
    expect((await admin.call("POST", "/api/v1/apps", { token: userToken, body })).status).toBe(403);
    expect((await admin.call("GET", "/api/v1/apps", { token: userToken })).status).toBe(403);
    expect((await admin.call("POST", "/api/v1/apps", { body })).status).toBe(401);
    expect(await counts()).toEqual(before);
  });

  it("parallel installs on one subdomain: exactly one 202, the rest 409, one App row", async () => {
    const rs = await Promise.all(
      Array.from({ length: 6 }, () => admin.call("POST", "/api/v1/apps", as({ body: { manifest: { ...VALID_MANIFEST, id: "org.example.race" }, subdomain: "race", domain: "example.com" } }))),
    );
    expect(rs.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409, 409]);
    expect(await t.db.app.count({ where: { subdomain: "race" } })).toBe(1);
    const winner = rs.find((r) => r.status === 202)!.body.id;
    expect(await t.db.task.count({ where: { appId: winner } })).toBe(1);
  });

  it("the domain of an app cannot be deleted (409)", async () => {
    const r = await admin.call("DELETE", "/api/v1/domains/example.com", as());
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("conflict");
    expect(await t.db.domain.count({ where: { domain: "example.com" } })).toBe(1);
  });
});

/** Pretend box ran the app's task: done, installed. */
async function finishTasks(appId: string) {
  await t.db.task.updateMany({ where: { appId, state: { in: ["pending", "running"] } }, data: { state: "succeeded", percent: 100, finishedAt: new Date() } });
  await t.db.app.update({ where: { id: appId }, data: { installState: "installed" } });
}

describe("operations", () => {
  it("a second operation while the install is pending → 409 bad_state, nothing queued", async () => {
    const before = await counts();
    for (const [method, url, body] of [
      ["POST", `/api/v1/apps/${notesId}/stop`, undefined],
      ["POST", `/api/v1/apps/${notesId}/start`, undefined],
      ["POST", `/api/v1/apps/${notesId}/restart`, undefined],
      ["POST", `/api/v1/apps/${notesId}/configure`, { memoryLimit: 512 * 1024 * 1024 }],
      ["DELETE", `/api/v1/apps/${notesId}`, undefined],
    ] as const) {
      const r = await admin.call(method, url, as(body ? { body } : {}));
      expect(r.status, `${method} ${url}`).toBe(409);
      expect(r.body.error.code).toBe("bad_state");
    }
    expect(await counts()).toEqual(before);
  });

  it("also while a task is active though the row says installed", async () => {
    await t.db.app.update({ where: { id: notesId }, data: { installState: "installed" } });
    const r = await admin.call("POST", `/api/v1/apps/${notesId}/stop`, as());
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("bad_state");
    await finishTasks(notesId);
  });

  it.each([
    ["stop", "app.stop", "pending_stop", "stopped"],
    ["start", "app.start", "pending_start", "running"],
    ["restart", "app.restart", "pending_restart", "running"],
  ])("%s → 202 {taskId}; %s task, %s, runState %s", async (op, type, state, runState) => {
    const r = await admin.call("POST", `/api/v1/apps/${notesId}/${op}`, as());
    expect(r.status).toBe(202);
    const task = await t.db.task.findUniqueOrThrow({ where: { id: r.body.taskId } });
    expect(task).toMatchObject({ type, appId: notesId, state: "pending", args: { appId: notesId } });
    const app = await t.db.app.findUniqueOrThrow({ where: { id: notesId } });
    expect(app).toMatchObject({ installState: state, runState });
    expect((await admin.call("GET", `/api/v1/apps/${notesId}`, { cookie: ownerCookie })).body.taskId).toBe(r.body.taskId);
    expect(await t.db.event.count({ where: { action: type, target: notesId } })).toBe(1);
    await finishTasks(notesId);
  });

  it("parallel operations on one app: exactly one is queued", async () => {
    const race = await t.db.app.findFirstOrThrow({ where: { subdomain: "race" } });
    await finishTasks(race.id);
    const rs = await Promise.all(["stop", "restart", "stop", "restart", "start"].map((op) => admin.call("POST", `/api/v1/apps/${race.id}/${op}`, as())));
    expect(rs.map((r) => r.status).sort()).toEqual([202, 409, 409, 409, 409]);
    expect(rs.filter((r) => r.status === 409).every((r) => r.body.error.code === "bad_state")).toBe(true);
    expect(await t.db.task.count({ where: { appId: race.id, state: "pending" } })).toBe(1);
  });

  it("configure writes the new values to the row with pending_configure and queues app.configure", async () => {
    const r = await admin.call(
      "POST",
      `/api/v1/apps/${notesId}/configure`,
      as({ body: { subdomain: "memo", domain: "example.org", memoryLimit: 512 * 1024 * 1024, env: { A: "1" }, portBindings: { SYNC_PORT: 17001 } } }),
    );
    expect(r.status).toBe(202);
    const app = await t.db.app.findUniqueOrThrow({ where: { id: notesId }, include: { ports: true } });
    expect(app).toMatchObject({ installState: "pending_configure", subdomain: "memo", domain: "example.org", env: { A: "1" } });
    expect(app.memoryLimit).toBe(BigInt(512 * 1024 * 1024));
    expect(app.ports.map((p) => p.hostPort)).toEqual([17001]);
    expect(await t.db.task.findUniqueOrThrow({ where: { id: r.body.taskId } })).toMatchObject({ type: "app.configure", args: { appId: notesId } });
    await finishTasks(notesId);
  });

  it("configure refuses a taken location (409), an unknown domain (404), nothing (400); the row stays", async () => {
    const other = await t.db.app.findFirstOrThrow({ where: { subdomain: "custom" } });
    await finishTasks(other.id);
    const before = await counts();
    const taken = await admin.call("POST", `/api/v1/apps/${other.id}/configure`, as({ body: { subdomain: "memo", domain: "example.org" } }));
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({ code: "conflict", message: "memo.example.org is already used by Notes (https://memo.example.org/)" });
    // a memory limit above what the server can give: 400 with the maximum, nothing queued
    const max = maxAppMemoryLimit(os.totalmem());
    const big = await admin.call("POST", `/api/v1/apps/${other.id}/configure`, as({ body: { memoryLimit: max + MIB } }));
    expect(big.status).toBe(400);
    expect(big.body.error.message).toContain(`at most ${max / MIB} MiB`);
    expect(big.body.error.details[0]).toMatchObject({ path: ["memoryLimit"], code: "memory_limit_too_high", maximum: max });
    expect((await admin.call("POST", `/api/v1/apps/${other.id}/configure`, as({ body: { domain: "nowhere.example" } }))).status).toBe(404);
    expect((await admin.call("POST", `/api/v1/apps/${other.id}/configure`, as({ body: {} }))).status).toBe(400);
    expect(await t.db.app.findUniqueOrThrow({ where: { id: other.id } })).toMatchObject({ subdomain: "custom", domain: "example.com", installState: "installed" });
    expect(await counts()).toEqual(before);
  });

  it("uninstall → 202 {taskId}, pending_uninstall; then busy", async () => {
    const r = await admin.call("DELETE", `/api/v1/apps/${notesId}`, as());
    expect(r.status).toBe(202);
    expect(await t.db.task.findUniqueOrThrow({ where: { id: r.body.taskId } })).toMatchObject({ type: "app.uninstall", appId: notesId });
    expect((await t.db.app.findUniqueOrThrow({ where: { id: notesId } })).installState).toBe("pending_uninstall");
    expect((await admin.call("DELETE", `/api/v1/apps/${notesId}`, as())).body.error.code).toBe("bad_state");
  });

  it("operations on an unknown app → 404", async () => {
    expect((await admin.call("POST", `/api/v1/apps/${randomUUID()}/start`, as())).status).toBe(404);
    expect((await admin.call("DELETE", `/api/v1/apps/${randomUUID()}`, as())).status).toBe(404);
  });

  it("a failed app shows its error", async () => {
    const other = await t.db.app.findFirstOrThrow({ where: { subdomain: "custom" } });
    await t.db.app.update({ where: { id: other.id }, data: { installState: "error", errorCode: "image_not_found", errorMessage: "no such image", errorTaskId: "t-1" } });
    const v = await admin.call("GET", `/api/v1/apps/${other.id}`, { cookie: ownerCookie });
    expect(v.body).toMatchObject({ installState: "error", taskId: null, error: { code: "image_not_found", message: "no such image", taskId: "t-1" } });
    // an app in error may be operated on (retry by configure, uninstall)
    expect((await admin.call("POST", `/api/v1/apps/${other.id}/restart`, as())).status).toBe(202);
  });
});

describe("app logs", () => {
  it("streams from box as server-sent events, or 502 external when box cannot", async () => {
    const app = await t.db.app.findFirstOrThrow({ where: { subdomain: "custom" } });
    // the stand-in streams for ids starting with 0, which a random UUID does one time in 16
    const other = `f${randomUUID().slice(1)}`;
    await t.db.app.update({ where: { id: app.id }, data: { id: other } });
    app.id = other;
    const missing = await admin.call("GET", `/api/v1/apps/${app.id}/logs?follow=1&lines=10`, { cookie: ownerCookie });
    expect(missing.status).toBe(502);
    expect(missing.body.error.code).toBe("external");
    // an app whose id starts with 0 streams on the stand-in
    const id = `0${randomUUID().slice(1)}`;
    await t.db.app.update({ where: { id: app.id }, data: { id } });
    const res = await fetch(`${admin.base}/api/v1/apps/${id}/logs?follow=1&lines=5`, { headers: { cookie: ownerCookie } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(text).toContain(`hello from ${id} lines=5 follow=1`);
    expect((await admin.call("GET", `/api/v1/apps/${randomUUID()}/logs`, { cookie: ownerCookie })).status).toBe(404);
    expect((await admin.call("GET", `/api/v1/apps/${id}/logs?lines=-1`, { cookie: ownerCookie })).status).toBe(400);
  });
});

describe("registries", () => {
  let regId = "";
  it("saves credentials sealed; the password is never returned", async () => {
    const r = await admin.call("POST", "/api/v1/registries", as({ body: { server: "Registry.Example.com:5000", username: "bot", password: "s3cret-Passw0rd" } }));
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ id: expect.any(String), server: "registry.example.com:5000", username: "bot", createdAt: expect.any(String) });
    expect(r.text).not.toContain("s3cret");
    regId = r.body.id;
    const row = await t.db.registry.findUniqueOrThrow({ where: { id: regId } });
    expect(row.passwordEnc).not.toContain("s3cret");
    expect(openSecret(SECRET_KEY, row.passwordEnc)).toBe("s3cret-Passw0rd");
    const list = await admin.call("GET", "/api/v1/registries", { cookie: ownerCookie });
    expect(list.body.registries).toEqual([r.body]);
    expect(list.text).not.toContain("s3cret");
    expect(list.text).not.toContain(row.passwordEnc.slice(3, 20));
  });

  it("409 on a duplicate server, 400 on junk, 403 for a read token", async () => {
    expect((await admin.call("POST", "/api/v1/registries", as({ body: { server: "registry.example.com:5000", username: "x", password: "y" } }))).status).toBe(409);
    expect((await admin.call("POST", "/api/v1/registries", as({ body: { server: "https://nope/", username: "x", password: "y" } }))).status).toBe(400);
    expect((await admin.call("POST", "/api/v1/registries", { token: readToken, body: { server: "r2.example.com", username: "x", password: "y" } })).status).toBe(403);
  });

  it("deletes (204), then 404; events recorded without the password", async () => {
    expect((await admin.call("DELETE", `/api/v1/registries/${regId}`, as())).status).toBe(204);
    expect((await admin.call("DELETE", `/api/v1/registries/${regId}`, as())).status).toBe(404);
    const ev = await t.db.event.findMany({ where: { action: { startsWith: "registry." } } });
    expect(ev.map((e) => e.action).sort()).toEqual(["registry.add", "registry.remove"]);
    expect(JSON.stringify(ev.map((e) => e.data))).not.toContain("s3cret");
    expect(admin.output()).not.toContain("s3cret");
  });
});
