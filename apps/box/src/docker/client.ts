import Module, { createRequire } from "node:module";
import path from "node:path";
import type Docker from "dockerode";
import { DEFAULT_DOCKER_SOCKET } from "../paths";

/**
 * The one module that makes dockerode clients: everything in box that talks to the Docker
 * engine gets its client here (docker.ts's `DockerApi`, the addon services' extras, the
 * mail relay's network lookup), so there is one place that knows where the engine is
 * (`DOCKER_SOCKET`, default /var/run/docker.sock) and one connection pool for the process.
 */
export type DockerOptions = Docker.DockerOptions;
export type Dockerode = Docker;

const require = createRequire(import.meta.url);

/**
 * dockerode loads two transports box never uses, at its own start: docker-modem's ssh
 * transport (`ssh2`, whose poly1305 module allocates 16 MiB of wasm memory) and BuildKit
 * sessions (`dockerode/lib/session.js`: `@grpc/grpc-js` and protobufjs). Together ~26 MiB of
 * box's idle RSS (bench/idle-rss.ts). box reaches the engine only through its unix socket and
 * builds with the classic builder, so those two modules are put into Node's module cache
 * (`require.cache`, which Node lets a program fill) as small stand-ins that fail clearly if
 * something ever asks for them. A module already loaded (by a test, say) is left alone.
 */
function skipUnusedTransports(): void {
  const dockerodeMain = require.resolve("dockerode");
  const modemMain = require.resolve("docker-modem", { paths: [path.dirname(dockerodeMain)] });
  const standIn = (id: string, exports: unknown) => {
    if (require.cache[id]) return;
    const m = new Module(id);
    m.filename = id;
    m.loaded = true;
    m.exports = exports;
    require.cache[id] = m;
  };
  standIn(require.resolve("ssh2", { paths: [path.dirname(modemMain)] }), {
    Client: class {
      constructor() {
        throw new Error("box reaches Docker only through its unix socket (DOCKER_SOCKET): the ssh transport is not loaded");
      }
    },
  });
  standIn(path.join(path.dirname(dockerodeMain), "session.js"), () => {
    throw new Error("box builds images with Docker's classic builder: BuildKit sessions (version 2) are not loaded");
  });
}

let DockerClass: typeof Docker | null = null;
function dockerClass(): typeof Docker {
  if (!DockerClass) {
    skipUnusedTransports();
    DockerClass = require("dockerode") as typeof Docker;
  }
  return DockerClass;
}

let shared: Docker | null = null;

/** The process's shared client; with `opts`, a client of its own for that engine (tests). */
export function dockerode(opts?: DockerOptions): Docker {
  const D = dockerClass();
  if (opts) return new D(opts);
  shared ??= new D({ socketPath: process.env.DOCKER_SOCKET ?? DEFAULT_DOCKER_SOCKET });
  return shared;
}
