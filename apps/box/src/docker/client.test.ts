import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * docker/client.ts keeps dockerode's unused transports (ssh2, BuildKit's gRPC session) out of
 * box's memory. Checked in a fresh Node process (the test runner's own module cache may hold
 * anything): after making a client, which of them are loaded, and what asking for one says.
 */
const ROOT = path.resolve(import.meta.dirname, "../../../..");
const TSX = path.join(ROOT, "node_modules/tsx/dist/cli.mjs");

function inFreshNode(code: string): string {
  const r = spawnSync(process.execPath, [TSX, "--eval", code], { cwd: import.meta.dirname, encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`node exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout.trim();
}

describe("docker/client", () => {
  it("makes a client without loading ssh2 or gRPC, and the stand-ins say why when asked", () => {
    const out = inFreshNode(`
      import { createRequire } from "node:module";
      import path from "node:path";
      import { dockerode } from "./client.ts";
      const require = createRequire(path.join(process.cwd(), "x.js"));
      const d = dockerode({ socketPath: "/nonexistent/docker.sock" });
      const loaded = Object.keys(require.cache);
      const errorOf = (f) => { try { f(); return "no error"; } catch (e) { return e.message; } };
      const ssh2 = require(require.resolve("ssh2", { paths: [path.dirname(require.resolve("docker-modem", { paths: [path.dirname(require.resolve("dockerode"))] }))] }));
      const session = require(path.join(path.dirname(require.resolve("dockerode")), "session.js"));
      console.log(JSON.stringify({
        client: typeof d.listContainers,
        dockerode: loaded.some((p) => p.includes("/dockerode/lib/docker.js")),
        grpc: loaded.filter((p) => p.includes("/@grpc/") || p.includes("/protobufjs/")).length,
        ssh2: loaded.filter((p) => p.includes("/ssh2/lib/protocol/")).length,
        sshError: errorOf(() => new ssh2.Client()),
        sessionError: errorOf(() => session()),
      }));
    `);
    const r = JSON.parse(out.split("\n").pop()!);
    expect(r).toEqual({
      client: "function",
      dockerode: true,
      grpc: 0,
      ssh2: 0,
      sshError: expect.stringContaining("the ssh transport is not loaded"),
      sessionError: expect.stringContaining("BuildKit sessions (version 2) are not loaded"),
    });
  });
});
