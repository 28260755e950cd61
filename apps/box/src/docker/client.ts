import Docker from "dockerode";
import { DEFAULT_DOCKER_SOCKET } from "../paths";

/**
 * The one module that makes dockerode clients: everything in box that talks to the Docker
 * engine gets its client here (docker.ts's `DockerApi`, the addon services' extras, the
 * mail relay's network lookup), so there is one place that knows where the engine is
 * (`DOCKER_SOCKET`, default /var/run/docker.sock) and one connection pool for the process.
 */
export type DockerOptions = Docker.DockerOptions;
export type Dockerode = Docker;

let shared: Docker | null = null;

/** The process's shared client; with `opts`, a client of its own for that engine (tests). */
export function dockerode(opts?: DockerOptions): Docker {
  if (opts) return new Docker(opts);
  shared ??= new Docker({ socketPath: process.env.DOCKER_SOCKET ?? DEFAULT_DOCKER_SOCKET });
  return shared;
}
