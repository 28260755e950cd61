import { createReadStream, createWriteStream } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type Docker from "dockerode";
import { dockerode } from "../docker/client";
import { demuxBuffer, dockerStatusOf, MANAGED_LABEL, NotManagedError } from "../docker/docker";

/**
 * What the addon services need from Docker beyond `DockerApi` (docker/docker.ts): an exec
 * whose stdout goes to a file as a stream (dumps can be larger than memory), renaming a
 * container (the old one steps aside during an upgrade) and one-shot job containers (to
 * empty a data folder the box user cannot delete: its files belong to the service's user).
 * Same rule as DockerApi: only objects labelled hearth.managed=true are touched.
 */
export interface ServiceDockerExtras {
  /**
   * Runs `cmd` in a running managed container; its stdout is streamed to `file` (written as
   * `file`.partial with mode 0600, fsynced, then renamed, so `file` is only ever complete).
   * Returns the exit code and stderr (the last 64 KiB); on a non-zero exit `file` is not made.
   */
  execToFile(nameOrId: string, cmd: string[], file: string): Promise<{ exitCode: number; stderr: string }>;
  renameContainer(nameOrId: string, newName: string): Promise<void>;
  /** Attaches a managed container to a managed network under `aliases`; no-op when attached. */
  connectNetwork(network: string, nameOrId: string, aliases: string[]): Promise<void>;
  /** Detaches a managed container from a network; no-op when it is not attached or either is gone. */
  disconnectNetwork(network: string, nameOrId: string): Promise<void>;
  /**
   * Runs `cmd` in a running managed container with `input` on its stdin (a string — e.g.
   * SQL that holds a password, which must never be in a process's argv — or a file, streamed).
   * Returns the exit code, stdout and stderr (each the last 64 KiB).
   */
  execWithInput(nameOrId: string, cmd: string[], input: { text: string } | { file: string }): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Creates a managed container, runs it to its end, removes it; returns its exit code and output (last 64 KiB). */
  runJob(opts: Docker.ContainerCreateOptions, timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /**
   * Removes an image by id when it is Hearth's (managed label), has no tag left (a rebuild
   * moved its tag to a new image) and no container uses it; otherwise does nothing.
   */
  removeDanglingImage(id: string): Promise<void>;
}

const TAIL = 64 * 1024;
const keepTail = (s: string) => (s.length > TAIL ? s.slice(-TAIL) : s);

/**
 * Docker's multiplexed exec stream (8-byte frame headers: kind, 0, 0, 0, length) split into
 * stdout, written to `out` with backpressure, and stderr, kept as text.
 */
class Demux extends Writable {
  private buf: Buffer = Buffer.alloc(0);
  stderr = "";
  constructor(private readonly out: Writable) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    void this.drainFrames().then(() => cb(), cb);
  }
  private async drainFrames(): Promise<void> {
    while (this.buf.length >= 8) {
      const kind = this.buf[0];
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) return;
      const payload = this.buf.subarray(8, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      if (kind === 1) {
        if (!this.out.write(payload)) await new Promise<void>((r) => this.out.once("drain", r));
      } else if (kind === 2) {
        this.stderr = keepTail(this.stderr + payload.toString("utf8"));
      } else {
        throw new Error(`unexpected frame kind ${kind} in an exec stream`);
      }
    }
  }
}

export function createServiceDockerExtras(opts?: Docker.DockerOptions): ServiceDockerExtras {
  const d = dockerode(opts);

  const managed = async (nameOrId: string) => {
    const info = await d.getContainer(nameOrId).inspect();
    if (info.Config.Labels?.[MANAGED_LABEL] !== "true") throw new NotManagedError("container", nameOrId);
    return d.getContainer(info.Id);
  };

  return {
    async execToFile(nameOrId, cmd, file) {
      const c = await managed(nameOrId);
      const ex = await c.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: false });
      const stream = await ex.start({ hijack: true, stdin: false });
      const partial = `${file}.partial`;
      const out = createWriteStream(partial, { mode: 0o600 });
      const demux = new Demux(out);
      try {
        await pipeline(stream, demux);
        await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
        const info = await ex.inspect();
        const exitCode = info.ExitCode ?? -1;
        if (exitCode !== 0) {
          await rm(partial, { force: true });
          return { exitCode, stderr: demux.stderr };
        }
        const fh = await open(partial, "r+");
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(partial, file);
        return { exitCode, stderr: demux.stderr };
      } catch (e) {
        out.destroy();
        await rm(partial, { force: true });
        throw e;
      }
    },

    async renameContainer(nameOrId, newName) {
      const c = await managed(nameOrId);
      await c.rename({ name: newName });
    },

    async connectNetwork(network, nameOrId, aliases) {
      const c = await managed(nameOrId);
      const n = d.getNetwork(network);
      const info = (await n.inspect()) as { Labels?: Record<string, string> };
      if (info.Labels?.[MANAGED_LABEL] !== "true") throw new NotManagedError("network", network);
      try {
        await n.connect({ Container: c.id, EndpointConfig: { Aliases: aliases } });
      } catch (e) {
        // 403 "endpoint … already exists in network": attached already
        if (dockerStatusOf(e) !== 403 && dockerStatusOf(e) !== 409) throw e;
      }
    },

    async disconnectNetwork(network, nameOrId) {
      let ci: Docker.ContainerInspectInfo;
      try {
        ci = await d.getContainer(nameOrId).inspect();
      } catch (e) {
        if (dockerStatusOf(e) === 404) return;
        throw e;
      }
      if (ci.Config.Labels?.[MANAGED_LABEL] !== "true") throw new NotManagedError("container", nameOrId);
      // Docker answers "not connected" with a 500: look first
      if (!Object.hasOwn(ci.NetworkSettings?.Networks ?? {}, network)) return;
      const n = d.getNetwork(network);
      let info: { Labels?: Record<string, string> };
      try {
        info = (await n.inspect()) as { Labels?: Record<string, string> };
      } catch (e) {
        if (dockerStatusOf(e) === 404) return;
        throw e;
      }
      if (info.Labels?.[MANAGED_LABEL] !== "true") throw new NotManagedError("network", network);
      try {
        await n.disconnect({ Container: ci.Id, Force: true });
      } catch (e) {
        // detached meanwhile
        if (dockerStatusOf(e) !== 403 && dockerStatusOf(e) !== 404 && !/is not connected/.test((e as Error).message)) throw e;
      }
    },

    async execWithInput(nameOrId, cmd, input) {
      const c = await managed(nameOrId);
      const ex = await c.exec({ Cmd: cmd, AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: false });
      const stream = (await ex.start({ hijack: true, stdin: true })) as NodeJS.ReadWriteStream & { end(): void };
      let stdout = "";
      const out = new Writable({
        write(chunk: Buffer, _e, cb) {
          stdout = keepTail(stdout + chunk.toString("utf8"));
          cb();
        },
      });
      const demux = new Demux(out);
      const reading = pipeline(stream, demux);
      // the end of the input half-closes the connection: Docker then closes the process's stdin
      if ("text" in input) stream.end(input.text);
      else await pipeline(createReadStream(input.file), stream);
      await reading;
      const info = await ex.inspect();
      return { exitCode: info.ExitCode ?? -1, stdout, stderr: demux.stderr };
    },

    async runJob(spec, timeoutMs) {
      if (spec.Labels?.[MANAGED_LABEL] !== "true") throw new NotManagedError("container", spec.name ?? "(unnamed)");
      const c = await d.createContainer(spec);
      try {
        await c.start();
        const timer = setTimeout(() => void c.kill().catch(() => {}), timeoutMs);
        let status: { StatusCode?: number };
        try {
          status = (await c.wait()) as { StatusCode?: number };
        } finally {
          clearTimeout(timer);
        }
        const logs = (await c.logs({ stdout: true, stderr: true, follow: false, tail: 200 })) as unknown as Buffer;
        return { exitCode: status.StatusCode ?? -1, output: keepTail(demuxBuffer(logs).toString("utf8")) };
      } finally {
        try {
          await c.remove({ force: true, v: true });
        } catch (e) {
          // biome-ignore lint/correctness/noUnsafeFinally: a job container that cannot be removed is worth the error, even over the job's own
          if (dockerStatusOf(e) !== 404 && dockerStatusOf(e) !== 409) throw e;
        }
      }
    },

    async removeDanglingImage(id) {
      let info: Docker.ImageInspectInfo;
      try {
        info = await d.getImage(id).inspect();
      } catch (e) {
        if (dockerStatusOf(e) === 404) return;
        throw e;
      }
      if (info.Config?.Labels?.[MANAGED_LABEL] !== "true" || (info.RepoTags ?? []).length > 0) return;
      try {
        await d.getImage(info.Id).remove({ force: false, noprune: false });
      } catch (e) {
        if (dockerStatusOf(e) !== 404 && dockerStatusOf(e) !== 409) throw e; // 409: still used
      }
    },
  };
}
