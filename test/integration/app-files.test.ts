import { execFileSync } from "node:child_process";
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HearthManifestInput } from "@hearth/contracts";
import { ensureStoreIdentity, type Db } from "@hearth/db";
import { JOB_IMAGE } from "../../apps/box/src/addons/localstorage";
import type { AppService, StepContext } from "../../apps/box/src/apps/apps.service";
import { containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { createDocker, OWNER_LABEL, type DockerApi } from "../../apps/box/src/docker/docker";
import { createVolumeHelper } from "../../apps/box/src/docker/volume-helper";
import { handleFilesRequest } from "../../apps/box/src/files/files-socket";
import { FilesService } from "../../apps/box/src/files/files.service";
import { createLogger } from "../../apps/box/src/logger";
import { startBoxSocket, type BoxSocketServer } from "../../apps/box/src/socket/socket.server";
import { ownerSession, plainUserToken } from "../helpers/admin-accounts";
import { startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { testAppService } from "../helpers/addon-stack";
import { steadyGoto } from "../helpers/chromium";
import { migratedDatabase, REPO_ROOT, type TestDatabase } from "../helpers/db";
import { ensureTestImages, TEST_HTTPD_IMAGE } from "../helpers/test-images";

/**
 * The file manager's API on a real app's volume: the built admin (`next start`) → box's real
 * socket and FilesService → the helper container on Docker, chrooted into the volume. A
 * path-traversal table (`..` in several encodings, absolute paths, NUL, links to /etc/shadow
 * and to / inside the volume, a linked folder pointing out, rename targets outside) where
 * every request is refused with its clear error and nothing changes; then the happy paths,
 * with ownership, events and a byte-identical download.
 */
const DOMAIN = "files-test.example";
const APP_UID = 4321;
let t: TestDatabase & { db: Db };
let db: Db;
let docker: DockerApi;
let service: AppService;
let tmp = "";
let box: BoxSocketServer;
let admin: RunningAdmin;
let cookie = "";
let appId = "";
const hostMarker = `hearth-files-test-${randomBytes(4).toString("hex")}`;

const ctx = (): StepContext => ({ taskId: randomUUID(), signal: new AbortController().signal, log: () => {}, progress: async () => {} });
/** A shell in a throw-away container on the app's volume (the test's own hands, not Hearth's). */
const onVolume = (script: string) => execFileSync("docker", ["run", "--rm", "--network", "none", "-v", `${dataVolumeNameOf(appId)}:/data`, JOB_IMAGE, "sh", "-c", script], { encoding: "utf8" }).trim();
const as = (extra: Call = {}): Call => admin.browser(cookie, extra);
const files = (rest: string) => `/api/v1/apps/${appId}/files${rest}`;

beforeAll(async () => {
  ensureTestImages();
  t = await migratedDatabase("files");
  db = t.db;
  docker = createDocker();
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-files-"));
  await db.domain.create({ data: { domain: DOMAIN, provider: "noop" } });
  const store = await ensureStoreIdentity(db);
  service = testAppService({ db, docker, owner: store.id, healthTimeoutMs: 30_000, healthIntervalMs: 200 });
  const fm = new FilesService({
    helper: createVolumeHelper(),
    image: JOB_IMAGE,
    volumeOf: async (id) => ((await db.app.count({ where: { id } })) > 0 ? dataVolumeNameOf(id) : null),
    labels: { [OWNER_LABEL]: store.id },
  });
  const socketPath = path.join(tmp, "box.sock");
  box = await startBoxSocket(
    { socketPath },
    {
      boxId: "files-test",
      version: "0.0.0",
      startedAt: Date.now(),
      runningTasks: () => 0,
      wake: () => {},
      getTask: async () => null,
      logPath: (id) => path.join(tmp, `${id}.log`),
      log: createLogger("silent", "test"),
      appFiles: (req, res, id, op, url) => handleFilesRequest(fm, req, res, id, op, url),
    },
  );
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: socketPath, HEARTH_SECRET_KEY: randomBytes(32).toString("base64") });
  cookie = await ownerSession(admin);

  appId = randomUUID();
  const m: HearthManifestInput = {
    manifestVersion: 1,
    id: "org.hearth.test.files",
    title: "Files test",
    version: "1.0.0",
    dockerImage: TEST_HTTPD_IMAGE,
    httpPort: 8080,
    healthCheckPath: "/health",
    memoryLimit: 32 * 1024 * 1024,
  };
  await db.app.create({
    data: { id: appId, manifestId: m.id, manifest: m as object, version: m.version, subdomain: "files", domain: DOMAIN, installState: "pending_install", memoryLimit: BigInt(m.memoryLimit!), env: {} },
  });
  await service.install(appId, ctx());
  // the app's data as an app leaves it: its own user owns /app/data; hostile links planted inside
  onVolume(
    [
      `chown ${APP_UID}:${APP_UID} /data`,
      "mkdir -p /data/sub /data/etc",
      "printf 'inside\\n' > /data/sub/keep.txt",
      "printf 'volume shadow\\n' > /data/etc/shadow",
      "ln -s /etc/shadow /data/shadow",
      "ln -s /etc/shadow /data/sub/x",
      "ln -s / /data/root",
      "ln -s /etc /data/hostetc",
      "ln -s ../../../../../etc/shadow /data/sub/up",
      "ln -s .. /data/sub/parent",
      "ln -s /app/data/sub /data/inside-abs",
      "ln -s sub/keep.txt /data/inside-rel",
      // what the app made is the app's; one folder only root may write to
      `chown -hR ${APP_UID}:${APP_UID} /data`,
      "mkdir /data/rootonly",
    ].join(" && "),
  );
}, 400_000);

let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  await admin?.stop();
  await box?.close();
  if (appId) {
    await docker.removeContainer(containerNameOf(appId)).catch(() => {});
    await docker.removeNetwork(networkNameOf(appId)).catch(() => {});
    await docker.removeVolume(dataVolumeNameOf(appId)).catch(() => {});
  }
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** What the volume holds (names, types, link targets, contents' hashes), to prove a refusal changed nothing. */
const snapshot = () => onVolume("cd /data && find . -printf '%p %y %l %s %U\\n' | sort && find . -type f -exec md5sum {} + | sort");

describe("the file manager refuses every way out of /app/data", () => {
  // [what, method, url, body?, status, reason]
  const table: [string, string, string, unknown, number, string][] = [
    ["`..`", "GET", "/download?path=..%2Fetc%2Fshadow", undefined, 400, "outside_volume"],
    ["`..` percent-encoded dots", "GET", "/download?path=%2E%2E/%2E%2E/etc/shadow", undefined, 400, "outside_volume"],
    ["`..` after a folder", "GET", "/download?path=sub%2F..%2F..%2Fetc%2Fshadow", undefined, 400, "outside_volume"],
    ["`..` alone", "GET", "?path=..", undefined, 400, "outside_volume"],
    ["`..` with a backslash", "GET", "/download?path=..%5Cetc%5Cshadow", undefined, 400, "bad_path"],
    ["an absolute path", "GET", "/download?path=%2Fetc%2Fshadow", undefined, 400, "outside_volume"],
    ["a doubled slash", "GET", "/download?path=%2F%2Fetc%2Fshadow", undefined, 400, "outside_volume"],
    ["an absolute folder", "GET", "?path=%2F", undefined, 400, "outside_volume"],
    ["NUL", "GET", "/download?path=sub%2Fkeep.txt%00.png", undefined, 400, "bad_path"],
    ["a `.` part", "GET", "/text?path=.%2Fshadow", undefined, 400, "bad_path"],
    ["a link to /etc/shadow", "GET", "/download?path=shadow", undefined, 400, "outside_volume"],
    ["a link to /etc/shadow as text", "GET", "/text?path=shadow", undefined, 400, "outside_volume"],
    ["a link to /etc/shadow in a folder", "GET", "/download?path=sub%2Fx", undefined, 400, "outside_volume"],
    ["a relative link above the root", "GET", "/download?path=sub%2Fup", undefined, 400, "outside_volume"],
    ["through a link to /", "GET", "/download?path=root%2Fetc%2Fshadow", undefined, 400, "outside_volume"],
    ["listing a link to /", "GET", "?path=root", undefined, 400, "outside_volume"],
    ["listing a linked folder pointing out", "GET", "?path=hostetc", undefined, 400, "outside_volume"],
    ["a link to `..` at the root", "GET", "?path=sub%2Fparent%2F..", undefined, 400, "outside_volume"],
    ["a link to `..` and then one above the root", "GET", "/download?path=sub%2Fparent%2Fsub%2Fup", undefined, 400, "outside_volume"],
    ["an upload through a linked folder pointing out", "POST", `/upload?path=hostetc%2F${hostMarker}`, "pwned", 400, "outside_volume"],
    ["an upload to an absolute path", "POST", `/upload?path=%2Ftmp%2F${hostMarker}`, "pwned", 400, "outside_volume"],
    ["an upload with `..`", "POST", `/upload?path=..%2F${hostMarker}`, "pwned", 400, "outside_volume"],
    ["saving text through a link to /", "PUT", "/text", { path: `root/tmp/${hostMarker}`, content: "pwned" }, 400, "outside_volume"],
    ["saving text over a link to /etc/shadow", "PUT", "/text", { path: "shadow", content: "pwned" }, 400, "outside_volume"],
    ["saving text with NUL in the path", "PUT", "/text", { path: "a\u0000b", content: "x" }, 400, "bad_path"],
    ["a rename target with `..`", "POST", "/rename", { from: "sub/keep.txt", to: "../keep.txt" }, 400, "outside_volume"],
    ["a rename target that is absolute", "POST", "/rename", { from: "sub/keep.txt", to: "/tmp/keep.txt" }, 400, "outside_volume"],
    ["a rename target through a linked folder pointing out", "POST", "/rename", { from: "sub/keep.txt", to: "hostetc/keep.txt" }, 400, "outside_volume"],
    ["a rename target through a link to /", "POST", "/rename", { from: "sub/keep.txt", to: "root/tmp/keep.txt" }, 400, "outside_volume"],
    ["a rename source through a link to /", "POST", "/rename", { from: "root/etc/passwd", to: "passwd" }, 400, "outside_volume"],
    ["deleting through a link to /", "POST", "/delete", { path: "root/etc/hostname" }, 400, "outside_volume"],
    ["deleting `..`", "POST", "/delete", { path: ".." }, 400, "outside_volume"],
    ["deleting the root", "POST", "/delete", { path: "" }, 400, "bad_path"],
    ["a folder through a linked folder pointing out", "POST", "/mkdir", { path: `hostetc/${hostMarker}` }, 400, "outside_volume"],
    ["a folder at an absolute path", "POST", "/mkdir", { path: `/tmp/${hostMarker}` }, 400, "outside_volume"],
  ];

  it.each(table)(
    "%s is refused",
    async (_what, method, url, body, status, reason) => {
      const before = snapshot();
      const c: Call = typeof body === "string" ? as({ raw: body, contentType: "application/octet-stream" }) : body === undefined ? as() : as({ body });
      const r = await admin.call(method, files(url), c);
      expect(r.status, r.text).toBe(status);
      expect(r.body.error.code).toBe("invalid");
      // admin's own check (details: issues with a reason) or box's (details.reason)
      const reasons = Array.isArray(r.body.error.details) ? r.body.error.details.map((i: { reason?: string }) => i.reason) : [r.body.error.details?.reason];
      expect(reasons).toContain(reason);
      expect(r.body.error.message).not.toMatch(/root:|volume shadow/);
      expect(snapshot()).toBe(before);
      expect(existsSync(`/etc/${hostMarker}`)).toBe(false);
      expect(existsSync(`/tmp/${hostMarker}`)).toBe(false);
    },
    60_000,
  );

  it("never reads the host's or the container's /etc/shadow (a double-encoded `..` is just a name)", async () => {
    const r = await admin.call("GET", files("/download?path=%252e%252e%252fetc%252fshadow"), as());
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe("not_found");
    // a link kept inside the volume is followed inside it: /app/data/… and relative targets
    const abs = await admin.call("GET", files("/text?path=inside-abs%2Fkeep.txt"), as());
    expect(abs.status, abs.text).toBe(200);
    expect(abs.body.content).toBe("inside\n");
    const rel = await admin.call("GET", files("/text?path=inside-rel"), as());
    expect(rel.body.content).toBe("inside\n");
  }, 60_000);

  it("lists links without following them, and deleting a link leaves its target", async () => {
    const r = await admin.call("GET", files("?path="), as());
    expect(r.status, r.text).toBe(200);
    const byName = Object.fromEntries(r.body.entries.map((e: { name: string }) => [e.name, e]));
    expect(byName.shadow).toMatchObject({ type: "symlink", target: "/etc/shadow" });
    expect(byName.root).toMatchObject({ type: "symlink", target: "/" });
    // folders first, then by name
    expect(r.body.entries.slice(0, 3).map((e: { name: string }) => e.name)).toEqual(["etc", "rootonly", "sub"]);
    const del = await admin.call("POST", files("/delete"), as({ body: { path: "hostetc" } }));
    expect(del.status, del.text).toBe(200);
    expect(existsSync("/etc/passwd")).toBe(true);
    expect(onVolume("ls /data")).not.toContain("hostetc");
  }, 60_000);

  it("is for admins only, and refuses a cross-site request", async () => {
    const token = await plainUserToken(db);
    const r = await admin.call("GET", files("?path="), { token });
    expect(r.status).toBe(403);
    const csrf = await admin.call("POST", files("/mkdir"), { cookie, origin: "https://evil.example", body: { path: "evil" } });
    expect(csrf.status).toBe(403);
    expect(onVolume("ls /data")).not.toContain("evil");
  });
});

describe("the file manager's happy paths", () => {
  it("uploads, lists, renames, edits, downloads byte-identical and deletes, as the app's user, with events", async () => {
    const mk = await admin.call("POST", files("/mkdir"), as({ body: { path: "docs" } }));
    expect(mk.status, mk.text).toBe(200);
    const again = await admin.call("POST", files("/mkdir"), as({ body: { path: "docs" } }));
    expect(again.status).toBe(409);

    // 24 MiB of random bytes, streamed up and down (more than Next would buffer for its proxy: 10 MB)
    const bytes = randomBytes(24 * 1024 * 1024);
    const up = await fetch(`${admin.base}${files("/upload?path=docs%2Fblob.bin")}`, {
      method: "POST",
      headers: { cookie, origin: admin.base, "content-type": "application/octet-stream" },
      body: bytes,
    });
    expect(up.status, await up.clone().text()).toBe(200);
    expect(await up.json()).toMatchObject({ size: bytes.length });
    const dup = await admin.call("POST", files("/upload?path=docs%2Fblob.bin"), as({ raw: "x", contentType: "application/octet-stream" }));
    expect(dup.status).toBe(409);
    expect(onVolume("stat -c '%u:%g %s' /data/docs/blob.bin /data/docs")).toBe(`${APP_UID}:${APP_UID} ${bytes.length}\n${APP_UID}:${APP_UID} 4096`);

    const list = await admin.call("GET", files("?path=docs"), as());
    expect(list.body).toMatchObject({ path: "docs", total: 1, entries: [{ name: "blob.bin", type: "file", size: bytes.length }] });

    // the helper acts as the app's user: a folder only root may write to stays closed
    const closed = await admin.call("POST", files("/rename"), as({ body: { from: "docs/blob.bin", to: "rootonly/blob.bin" } }));
    expect(closed.status, closed.text).toBe(403);
    expect(closed.body.error.details.reason).toBe("forbidden");
    const mv = await admin.call("POST", files("/rename"), as({ body: { from: "docs/blob.bin", to: 'sub/ünïcode "name".bin' } }));
    expect(mv.status, mv.text).toBe(200);
    const down = await fetch(`${admin.base}${files(`/download?path=${encodeURIComponent('sub/ünïcode "name".bin')}`)}`, { headers: { cookie } });
    expect(down.status).toBe(200);
    expect(down.headers.get("content-disposition")).toBe(`attachment; filename="_n_code _name_.bin"; filename*=UTF-8''%C3%BCn%C3%AFcode%20%22name%22.bin`);
    const got = Buffer.from(await down.arrayBuffer());
    expect(createHash("sha256").update(got).digest("hex")).toBe(createHash("sha256").update(bytes).digest("hex"));

    // a binary file is not opened as text; a text file is edited and saved
    const bin = await admin.call("GET", files(`/text?path=${encodeURIComponent('sub/ünïcode "name".bin')}`), as());
    expect(bin.status).toBe(400);
    expect(bin.body.error.details.reason).toBe("too_big");
    const small = await admin.call("POST", files("/upload?path=docs%2Fsmall.bin"), as({ raw: "PK\u0003\u0004\u0000\u0000binary", contentType: "application/octet-stream" }));
    expect(small.status, small.text).toBe(200);
    const notText = await admin.call("GET", files("/text?path=docs%2Fsmall.bin"), as());
    expect(notText.status).toBe(400);
    expect(notText.body.error.details.reason).toBe("not_text");
    const save = await admin.call("PUT", files("/text"), as({ body: { path: "docs/notes.txt", content: "first\n", overwrite: false } }));
    expect(save.status, save.text).toBe(200);
    const edit = await admin.call("PUT", files("/text"), as({ body: { path: "docs/notes.txt", content: "second ✓\n" } }));
    expect(edit.status).toBe(200);
    const read = await admin.call("GET", files("/text?path=docs%2Fnotes.txt"), as());
    expect(read.body).toMatchObject({ content: "second ✓\n", size: Buffer.byteLength("second ✓\n") });
    expect(onVolume("stat -c '%u:%g' /data/docs/notes.txt")).toBe(`${APP_UID}:${APP_UID}`);
    // up to 1 MiB of text is saved (far more than other JSON bodies may carry) and read back whole
    const large = `✓ ${"line of text\n".repeat(80_000)}`.slice(0, 1000 * 1024);
    const saveLarge = await admin.call("PUT", files("/text"), as({ body: { path: "docs/large.txt", content: large } }));
    expect(saveLarge.status, saveLarge.text.slice(0, 300)).toBe(200);
    expect((await admin.call("GET", files("/text?path=docs%2Flarge.txt"), as())).body.content).toBe(large);
    const tooBig = await admin.call("PUT", files("/text"), as({ body: { path: "docs/big.txt", content: "x".repeat(1024 * 1024 + 1) } }));
    expect(tooBig.status).toBe(400);
    expect(tooBig.text).toContain("at most 1 MiB");

    const del = await admin.call("POST", files("/delete"), as({ body: { path: "docs" } }));
    expect(del.status, del.text).toBe(200);
    expect(del.body.removed).toBe(4); // notes.txt, large.txt, small.bin and the folder
    expect(onVolume("ls /data")).not.toContain("docs");
    const gone = await admin.call("GET", files("/text?path=docs%2Fnotes.txt"), as());
    expect(gone.status).toBe(404);

    const events = await db.event.findMany({ where: { action: { startsWith: "app.files_" } }, orderBy: { createdAt: "asc" } });
    const actions = events.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["app.files_mkdir", "app.files_upload", "app.files_rename", "app.files_write", "app.files_delete"]));
    const upload = events.find((e) => e.action === "app.files_upload")!;
    expect(upload.data).toMatchObject({ appId, path: "docs/blob.bin", size: bytes.length });
    // paths, never content
    expect(JSON.stringify(events.map((e) => e.data))).not.toContain("second");
  }, 120_000);

  it("pages a big folder, folders first", async () => {
    onVolume("mkdir /data/big && cd /data/big && i=0; while [ $i -lt 1500 ]; do : > f$i; i=$((i+1)); done; mkdir zdir");
    const p1 = await admin.call("GET", files("?path=big&limit=1000"), as());
    expect(p1.body.total).toBe(1501);
    expect(p1.body.entries).toHaveLength(1000);
    expect(p1.body.entries[0]).toMatchObject({ name: "zdir", type: "dir" });
    const p2 = await admin.call("GET", files("?path=big&offset=1000&limit=1000"), as());
    expect(p2.body.entries).toHaveLength(501);
    const all = new Set([...p1.body.entries, ...p2.body.entries].map((e: { name: string }) => e.name));
    expect(all.size).toBe(1501);
  }, 60_000);
});

describe("the file manager on the app page (Chromium)", () => {
  it("uploads a file, edits it, downloads it with the edit, and deletes it after naming it", async () => {
    mkdirSync(path.join(REPO_ROOT, "test-results"), { recursive: true });
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const [name, value] = cookie.split("=") as [string, string];
    await context.addCookies([{ name, value, url: admin.base }]);
    const page = await context.newPage();
    await steadyGoto(page, `${admin.base}/apps/${appId}/files`);
    const fm = page.getByTestId("app-files");
    await fm.scrollIntoViewIfNeeded();
    await fm.getByRole("button", { name: "sub/" }).waitFor();

    await fm.getByLabel("Upload files").setInputFiles({ name: "hello.txt", mimeType: "text/plain", buffer: Buffer.from("hello from the browser\n") });
    const row = fm.getByTestId("file-row").filter({ hasText: "hello.txt" });
    await row.waitFor();
    await expect.poll(() => row.textContent(), { timeout: 20_000 }).toContain("23 B");
    expect(onVolume("cat /data/hello.txt")).toBe("hello from the browser");

    await fm.getByRole("button", { name: "Edit hello.txt" }).click();
    const editor = page.getByRole("textbox", { name: "File content" });
    try {
      await expect.poll(() => editor.inputValue(), { timeout: 20_000 }).toBe("hello from the browser\n");
    } catch (e) {
      await page.screenshot({ path: path.join(REPO_ROOT, "test-results", "app-files-failed.png"), fullPage: true }).catch(() => {});
      throw new Error(`the editor did not open: ${await fm.textContent()}`, { cause: e });
    }
    await editor.fill("edited in Hearth ✓\nsecond line\n");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await editor.waitFor({ state: "detached" });
    expect(onVolume("cat /data/hello.txt")).toBe("edited in Hearth ✓\nsecond line");

    const [download] = await Promise.all([page.waitForEvent("download"), fm.getByRole("button", { name: "Download hello.txt" }).click()]);
    expect(download.suggestedFilename()).toBe("hello.txt");
    const saved = path.join(tmp, "hello-download.txt");
    await download.saveAs(saved);
    expect(readFileSync(saved, "utf8")).toBe("edited in Hearth ✓\nsecond line\n");

    await page.screenshot({ path: path.join(REPO_ROOT, "test-results", "app-files.png"), fullPage: false });

    await fm.getByRole("button", { name: "Delete hello.txt" }).click();
    const dialog = page.getByRole("dialog", { name: "Delete from the app's data?" });
    await expect.poll(() => dialog.textContent(), { timeout: 20_000 }).toContain("/app/data/hello.txt");
    await dialog.getByRole("button", { name: "Delete", exact: true }).click();
    await row.waitFor({ state: "detached" });
    expect(onVolume("ls /data")).not.toContain("hello.txt");
    await context.close();
  }, 300_000);
});
