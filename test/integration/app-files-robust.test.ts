import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HearthError } from "@hearth/contracts";
import { JOB_IMAGE } from "../../apps/box/src/addons/localstorage";
import { createDocker, MANAGED_LABEL, OWNER_LABEL, type DockerApi } from "../../apps/box/src/docker/docker";
import { createVolumeHelper } from "../../apps/box/src/docker/volume-helper";
import { handleFilesRequest } from "../../apps/box/src/files/files-socket";
import { FilesService } from "../../apps/box/src/files/files.service";
import { removeLeftoverFileHelpers } from "../../apps/box/src/files/leftovers";
import { createLogger } from "../../apps/box/src/logger";
import { startBoxSocket, type BoxSocketServer } from "../../apps/box/src/socket/socket.server";

/**
 * The file manager when transfers go wrong, on a real Docker volume through box's real
 * socket and FilesService (no admin: what is tested is box's side): a cut-off upload never
 * lands, a cancelled download leaves no helper container behind, and so on. The volume and
 * every helper carry a random owner label of this test alone.
 */
const OWNER = `files-robust-${randomBytes(4).toString("hex")}`;
const VOLUME = `hearth-test-${OWNER}`;
const APP = randomUUID();
const APP_UID = 4321;
let docker: DockerApi;
let fm: FilesService;
let box: BoxSocketServer;
let tmp = "";
let socketPath = "";

/** A shell in a throw-away container on the volume (the test's own hands, not Hearth's). */
const onVolume = (script: string) => execFileSync("docker", ["run", "--rm", "--network", "none", "-v", `${VOLUME}:/data`, JOB_IMAGE, "sh", "-c", script], { encoding: "utf8" }).trim();
/** The helper containers of this test's store that exist now. */
const helpers = async () => (await docker.listContainers({ [OWNER_LABEL]: OWNER, "hearth.role": "files" })).map((c) => c.name);

beforeAll(async () => {
  docker = createDocker();
  await docker.createVolume(VOLUME, { [MANAGED_LABEL]: "true", [OWNER_LABEL]: OWNER });
  onVolume(`printf 'original\\n' > /data/keep.txt && chown -R ${APP_UID}:${APP_UID} /data`);
  fm = new FilesService({ helper: createVolumeHelper(), image: JOB_IMAGE, volumeOf: async (id) => (id === APP ? VOLUME : null), labels: { [OWNER_LABEL]: OWNER } });
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-files-robust-"));
  socketPath = path.join(tmp, "box.sock");
  box = await startBoxSocket(
    { socketPath },
    {
      boxId: "files-robust",
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
}, 120_000);

afterAll(async () => {
  // a hung transfer (the bug a test here catches) must not hang the clean-up
  await Promise.race([box?.close(), new Promise((r) => setTimeout(r, 5000))]);
  for (const c of (await docker?.listContainers({ [OWNER_LABEL]: OWNER }).catch(() => [])) ?? []) await docker.removeContainer(c.id).catch(() => {});
  await docker?.removeVolume(VOLUME).catch(() => {});
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const waitFor = async (what: string, ok: () => Promise<boolean>, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe("a cut-off upload saves nothing", () => {
  it("an input that ends before its announced size fails with io and leaves the original and no temporary file", async () => {
    const half = Readable.from([randomBytes(300_000)]);
    const err = await fm.write(APP, "keep.txt", half, { replace: true, size: 600_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HearthError);
    expect((err as HearthError).code).toBe("external");
    expect((err as HearthError).details).toMatchObject({ reason: "io" });
    expect(onVolume("cat /data/keep.txt")).toBe("original");
    expect(onVolume("ls -A /data")).toBe("keep.txt");
    // a new file is not made either
    const err2 = await fm.write(APP, "new.bin", Readable.from([Buffer.from("abc")]), { replace: false, size: 10 }).catch((e: unknown) => e);
    expect((err2 as HearthError).details).toMatchObject({ reason: "io" });
    // and more bytes than announced is refused too
    const err3 = await fm.write(APP, "new.bin", Readable.from([Buffer.from("abcdef")]), { replace: false, size: 3 }).catch((e: unknown) => e);
    expect((err3 as HearthError).details).toMatchObject({ reason: "io" });
    expect(onVolume("ls -A /data")).toBe("keep.txt");
    // the exact size is saved
    expect(await fm.write(APP, "new.bin", Readable.from([Buffer.from("abc")]), { replace: false, size: 3 })).toBe(3);
    expect(onVolume("cat /data/new.bin && rm /data/new.bin")).toBe("abc");
  }, 60_000);

  it("a client that aborts an upload halfway over box's socket changes nothing", async () => {
    const total = 8 * 1024 * 1024;
    const req = http.request({ socketPath, method: "PUT", path: `/apps/${APP}/files/upload?path=keep.txt&overwrite=1`, headers: { "content-length": String(total) } });
    req.on("error", () => {});
    req.write(randomBytes(total / 2));
    // the helper is running and has the first half
    await waitFor("the helper", async () => (await helpers()).length > 0);
    // what passes through the helper is never copied into Docker's log on disk
    const [name] = await helpers();
    expect(execFileSync("docker", ["inspect", "-f", "{{.HostConfig.LogConfig.Type}}", name!], { encoding: "utf8" }).trim()).toBe("none");
    await new Promise((r) => setTimeout(r, 1000));
    req.destroy();
    await waitFor("the helper to end", async () => (await helpers()).length === 0);
    expect(onVolume("cat /data/keep.txt")).toBe("original");
    expect(onVolume("ls -A /data")).toBe("keep.txt");
  }, 60_000);

  it("an upload without Content-Length is refused", async () => {
    const r = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ socketPath, method: "PUT", path: `/apps/${APP}/files/upload?path=chunked.bin`, headers: { "transfer-encoding": "chunked" } }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end("some bytes");
    });
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error.details.reason).toBe("length_required");
    expect(onVolume("ls -A /data")).toBe("keep.txt");
  }, 30_000);
});

describe("a cancelled download", () => {
  it("ends its helper container within seconds, and the volume is free again", async () => {
    onVolume(`head -c 200000000 /dev/urandom > /data/big.bin && chown ${APP_UID}:${APP_UID} /data/big.bin`);
    const got = await new Promise<number>((resolve, reject) => {
      const req = http.request({ socketPath, method: "GET", path: `/apps/${APP}/files/download?path=big.bin` }, (res) => {
        expect(res.statusCode).toBe(200);
        let n = 0;
        res.on("data", (c: Buffer) => {
          n += c.length;
          // stop reading after 1 MiB: Docker and the socket fill up and the helper waits for drain
          if (n > 1024 * 1024) res.pause();
        });
        setTimeout(() => {
          req.destroy();
          resolve(n);
        }, 1500);
      });
      req.on("error", () => {});
      req.on("close", () => {});
      req.end();
      setTimeout(() => reject(new Error("no answer")), 20_000);
    });
    expect(got).toBeGreaterThan(0);
    expect(got).toBeLessThan(200_000_000);
    const t0 = Date.now();
    await waitFor("no helper container left", async () => (await helpers()).length === 0, 10_000);
    const seconds = (Date.now() - t0) / 1000;
    console.log(`cancelled download: helper gone ${seconds.toFixed(1)} s after the client left`);
    onVolume("rm /data/big.bin");
    expect(onVolume("ls -A /data")).toBe("keep.txt");
  }, 90_000);
});

describe("helper containers a crash of box left behind", () => {
  it("are removed at box's start: this store's file helpers only", async () => {
    const other = `${OWNER}-other`;
    const make = (name: string, labels: Record<string, string>) =>
      execFileSync("docker", ["create", "--name", name, "--network", "none", ...Object.entries(labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]), JOB_IMAGE, "sleep", "600"], {
        encoding: "utf8",
      }).trim();
    const sfx = randomBytes(3).toString("hex");
    const mine = make(`hearth-files-left-${sfx}`, { [MANAGED_LABEL]: "true", [OWNER_LABEL]: OWNER, "hearth.role": "files" });
    execFileSync("docker", ["start", mine]);
    const otherStore = make(`hearth-files-other-${sfx}`, { [MANAGED_LABEL]: "true", [OWNER_LABEL]: other, "hearth.role": "files" });
    const notFiles = make(`hearth-notfiles-${sfx}`, { [MANAGED_LABEL]: "true", [OWNER_LABEL]: OWNER, "hearth.role": "app" });
    try {
      const removed = await removeLeftoverFileHelpers(docker, OWNER, OWNER_LABEL);
      expect(removed).toEqual([`hearth-files-left-${sfx}`]);
      const exists = (id: string) => execFileSync("docker", ["ps", "-aq", "--no-trunc", "--filter", `id=${id}`], { encoding: "utf8" }).trim() !== "";
      expect(exists(mine)).toBe(false);
      expect(exists(otherStore)).toBe(true);
      expect(exists(notFiles)).toBe(true);
    } finally {
      execFileSync("docker", ["rm", "-f", mine, otherStore, notFiles], { stdio: "ignore" });
    }
  }, 60_000);
});

describe("a file that changes while it is downloaded", () => {
  it("a file that grows meanwhile is sent as it was announced: exactly Content-Length bytes", async () => {
    onVolume(`head -c 60000000 /dev/zero > /data/grow.bin && chown ${APP_UID}:${APP_UID} /data/grow.bin`);
    const r = await new Promise<{ length: number; got: number; complete: boolean }>((resolve, reject) => {
      const req = http.request({ socketPath, method: "GET", path: `/apps/${APP}/files/download?path=grow.bin` }, (res) => {
        let got = 0;
        let paused = false;
        res.on("data", (c: Buffer) => {
          got += c.length;
          if (!paused) {
            // hold the transfer while the file grows by 4 MB
            paused = true;
            res.pause();
            onVolume("head -c 4000000 /dev/zero >> /data/grow.bin");
            res.resume();
          }
        });
        res.on("end", () => resolve({ length: Number(res.headers["content-length"]), got, complete: res.complete }));
        res.on("error", reject);
        res.on("aborted", () => resolve({ length: Number(res.headers["content-length"]), got, complete: false }));
      });
      req.on("error", reject);
      req.end();
    });
    expect(r.length).toBe(60_000_000);
    expect(r.complete).toBe(true);
    expect(r.got).toBe(60_000_000);
    onVolume("rm /data/grow.bin");
  }, 90_000);
});

describe("saving over a file", () => {
  it("of another user than the app's data is refused (its owner would change), and nothing changes", async () => {
    onVolume("printf 'theirs\\n' > /data/other.txt && chown 1000:1000 /data/other.txt && chmod 640 /data/other.txt");
    const err = await fm.writeText(APP, "other.txt", "mine\n", true).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HearthError);
    expect((err as HearthError).code).toBe("forbidden");
    expect((err as HearthError).message).toContain("owner");
    expect(onVolume("stat -c '%u:%g %a' /data/other.txt && cat /data/other.txt")).toBe("1000:1000 640\ntheirs");
    // one of the app's user is saved, owner and mode kept
    onVolume(`printf 'app\\n' > /data/app.txt && chown ${APP_UID}:${APP_UID} /data/app.txt && chmod 600 /data/app.txt`);
    expect(await fm.writeText(APP, "app.txt", "edited\n", true)).toBe(7);
    expect(onVolume("stat -c '%u:%g %a' /data/app.txt && cat /data/app.txt && rm /data/app.txt /data/other.txt")).toBe(`${APP_UID}:${APP_UID} 600\nedited`);
  }, 60_000);
});
