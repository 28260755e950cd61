import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { JOB_IMAGE } from "../../apps/box/src/addons/localstorage";
import { handleAppTerminal } from "../../apps/box/src/apps/app-terminal";
import { containerNameOf } from "../../apps/box/src/apps/container-spec";
import { createDocker, MANAGED_LABEL, OWNER_LABEL, type DockerApi } from "../../apps/box/src/docker/docker";
import { createLogger } from "../../apps/box/src/logger";
import { startBoxSocket, type BoxSocketServer } from "../../apps/box/src/socket/socket.server";

/**
 * What a closed terminal leaves in the app's container: box's real socket and terminal
 * handler, a real container (Hearth's base image, labelled as an app container of a store of
 * this test alone). Docker has no API to kill an exec, so without box's clean-up the shell
 * and what runs in it would stay.
 */
const OWNER = `term-cleanup-${randomBytes(4).toString("hex")}`;
const APP = randomUUID();
const NAME = containerNameOf(APP);
let docker: DockerApi;
let box: BoxSocketServer;
let tmp = "";
let socketPath = "";

/** The container's processes' command lines (`docker top`). */
const top = () => execFileSync("docker", ["top", NAME, "-o", "pid,args"], { encoding: "utf8" });

beforeAll(async () => {
  docker = createDocker();
  execFileSync("docker", ["run", "-d", "--name", NAME, "--network", "none", "--label", `${MANAGED_LABEL}=true`, "--label", `${OWNER_LABEL}=${OWNER}`, JOB_IMAGE, "sleep", "3600"], { stdio: "ignore" });
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-term-cleanup-"));
  socketPath = path.join(tmp, "box.sock");
  box = await startBoxSocket(
    { socketPath },
    {
      boxId: "term-cleanup",
      version: "0.0.0",
      startedAt: Date.now(),
      runningTasks: () => 0,
      wake: () => {},
      getTask: async () => null,
      logPath: (id) => path.join(tmp, `${id}.log`),
      log: createLogger("silent", "test"),
      appTerminal: (req, sock, head, appId, url) => handleAppTerminal({ docker, appExists: async (id) => id === APP, log: createLogger("silent", "test") }, req, sock, head, appId, url),
    },
  );
}, 60_000);

afterAll(async () => {
  await Promise.race([box?.close(), new Promise((r) => setTimeout(r, 5000))]);
  await docker?.removeContainer(NAME).catch(() => {});
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const waitFor = async (what: string, ok: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${top()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe("closing a terminal", () => {
  it("ends its shell and what runs in it, even a process that ignores SIGHUP, and nothing else", async () => {
    const ws = new WebSocket(`ws+unix://${socketPath}:/apps/${APP}/terminal?cols=80&rows=24`);
    let out = "";
    ws.on("message", (d) => (out += d.toString()));
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    // one process that ignores HUP in the background, one in the foreground
    ws.send(Buffer.from("nohup sleep 4322 >/dev/null 2>&1 &\nsleep 4321\n"), { binary: true });
    await waitFor("the shell's processes", () => top().includes("sleep 4321") && top().includes("sleep 4322"), 10_000);
    expect(top()).toMatch(/bash/);
    const t0 = Date.now();
    ws.close();
    await waitFor("no leftover shell", () => !/sleep 432|bash/.test(top()), 10_000);
    console.log(`closed terminal: its processes gone ${((Date.now() - t0) / 1000).toFixed(1)} s after the close`);
    // the app's own process stays
    expect(top()).toContain("sleep 3600");
  }, 60_000);
});

describe("a WebSocket handshake that fails", () => {
  const raw = (headers: string, halfClose: boolean) =>
    new Promise<string>((resolve) => {
      const s = net.createConnection(socketPath);
      let answer = "";
      s.on("data", (d) => (answer += d.toString()));
      s.on("error", () => {});
      s.on("close", () => resolve(answer));
      s.write(`GET /apps/${APP}/terminal?cols=80&rows=24 HTTP/1.1\r\nHost: box\r\n${headers}\r\n`);
      if (halfClose) s.end();
      setTimeout(() => s.destroy(), 5000);
    });
  const upgrade = "Connection: Upgrade\r\nUpgrade: websocket\r\n";

  it("with a bad key or version is refused before a shell starts", async () => {
    expect(await raw(`${upgrade}Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: short\r\n`, false)).toMatch(/^HTTP\/1.1 400/);
    expect(await raw(`${upgrade}Sec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n`, false)).toMatch(/^HTTP\/1.1 400/);
    await new Promise((r) => setTimeout(r, 1000));
    expect(top()).not.toMatch(/bash/);
  }, 30_000);

  it("from a client that half-closes after sending it leaves no shell", async () => {
    await raw(`${upgrade}Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n`, true);
    await new Promise((r) => setTimeout(r, 1000));
    await waitFor("no leftover shell", () => !/bash/.test(top()), 10_000);
  }, 30_000);
});
