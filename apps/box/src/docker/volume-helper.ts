import { randomBytes } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type Docker from "dockerode";
import { dockerode } from "./client";
import { dockerStatusOf, MANAGED_LABEL } from "./docker";

/**
 * One short-lived container that mounts one volume (only it) at /data and runs a fixed
 * program given as argv, with a stream on its stdin and its stdout streamed to a Writable
 * (with backpressure). No network, read-only root, every capability dropped but those
 * named, no new privileges, small memory and pid limits; removed when it ends. The file
 * manager (files/) is its user: the program chroots into /data itself.
 */
export interface VolumeHelperRun {
  /** the volume's name; the helper refuses a volume Hearth did not make (no managed label) */
  volume: string;
  image: string;
  cmd: string[];
  capAdd: string[];
  /** the container's name prefix (a random suffix is added) */
  namePrefix: string;
  labels: Record<string, string>;
  stdin?: Readable;
  stdout: Writable;
  /**
   * aborting sends SIGTERM to the program (SIGKILL 3 s later; then the container is
   * removed); so does `stdout` closing or failing before the program ends (a cancelled
   * download), instead of waiting for a `drain` that never comes
   */
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface VolumeHelper {
  run(o: VolumeHelperRun): Promise<{ exitCode: number; stderr: string }>;
}

const STDERR_MAX = 16 * 1024;

export function createVolumeHelper(opts?: Docker.DockerOptions): VolumeHelper {
  const d = dockerode(opts);
  return {
    async run(o) {
      const vol = await d
        .getVolume(o.volume)
        .inspect()
        .catch((e) => {
          if (dockerStatusOf(e) === 404) return null;
          throw e;
        });
      if (vol?.Labels?.[MANAGED_LABEL] !== "true") throw Object.assign(new Error(`no volume ${o.volume} of Hearth's`), { code: "ENOVOLUME" });
      const c = await d.createContainer({
        name: `${o.namePrefix}${randomBytes(4).toString("hex")}`,
        Image: o.image,
        Cmd: o.cmd,
        User: "0",
        AttachStdin: !!o.stdin,
        OpenStdin: !!o.stdin,
        StdinOnce: !!o.stdin,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        Labels: { [MANAGED_LABEL]: "true", ...o.labels },
        HostConfig: {
          Mounts: [{ Type: "volume", Source: o.volume, Target: "/data", ReadOnly: false }],
          NetworkMode: "none",
          ReadonlyRootfs: true,
          CapDrop: ["ALL"],
          CapAdd: o.capAdd,
          SecurityOpt: ["no-new-privileges:true"],
          Memory: 64 * 1024 * 1024,
          PidsLimit: 16,
          // a download's bytes are streamed through attach; they must not be copied into
          // Docker's json-file log on disk too (attach works without a log driver)
          LogConfig: { Type: "none", Config: {} },
        },
      });
      let stderr = "";
      let killed = false;
      let killTimer: NodeJS.Timeout | undefined;
      const stop = () => {
        if (killed) return;
        killed = true;
        void c.kill({ signal: "SIGTERM" }).catch(() => {});
        // a program stuck writing to an output nobody reads any more: end it for good
        killTimer = setTimeout(() => void c.kill({ signal: "SIGKILL" }).catch(() => {}), 3000);
      };
      /** Resolves true on `drain`, false when the output closes or fails or the run is aborted (then no drain ever comes). */
      const drained = (w: Writable) =>
        new Promise<boolean>((resolve) => {
          if (w.destroyed || w.writableEnded || o.signal?.aborted) return resolve(false);
          const done = (ok: boolean) => {
            w.off("drain", onDrain);
            w.off("close", onGone);
            w.off("error", onGone);
            o.signal?.removeEventListener("abort", onGone);
            resolve(ok);
          };
          const onDrain = () => done(true);
          const onGone = () => done(false);
          w.once("drain", onDrain);
          w.once("close", onGone);
          w.once("error", onGone);
          o.signal?.addEventListener("abort", onGone, { once: true });
        });
      const timer = o.timeoutMs ? setTimeout(stop, o.timeoutMs) : undefined;
      o.signal?.addEventListener("abort", stop, { once: true });
      // an output that fails (its receiver went away) ends the run; never an unhandled error
      o.stdout.on("error", stop);
      try {
        const stream = (await c.attach({ stream: true, stdin: !!o.stdin, stdout: true, stderr: true, hijack: !!o.stdin })) as NodeJS.ReadWriteStream & { end(): void; destroy?(): void };
        // Docker's multiplexed stream: 8-byte headers (kind, 0, 0, 0, length)
        let buf: Buffer = Buffer.alloc(0);
        const reading = (async () => {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
            while (buf.length >= 8) {
              const len = buf.readUInt32BE(4);
              if (buf.length < 8 + len) break;
              const kind = buf[0];
              const payload = buf.subarray(8, 8 + len);
              buf = buf.subarray(8 + len);
              if (kind === 1) {
                if (o.stdout.destroyed || (!o.stdout.write(payload) && !(await drained(o.stdout)))) {
                  // the output is gone (a cancelled download): end the program, stop reading
                  stop();
                  stream.destroy?.();
                  return;
                }
              } else if (kind === 2 && stderr.length < STDERR_MAX) stderr += payload.toString("utf8");
            }
          }
        })();
        reading.catch(() => {}); // awaited below; a broken stream must not go unhandled meanwhile
        await c.start();
        if (o.stdin) {
          // the end of the input half-closes the connection: Docker then closes the program's stdin
          await pipeline(o.stdin, stream, { end: true }).catch((e) => {
            stop();
            throw e;
          });
        }
        const [status] = await Promise.all([c.wait() as Promise<{ StatusCode?: number }>, reading]);
        return { exitCode: killed ? -1 : (status.StatusCode ?? -1), stderr };
      } finally {
        if (timer) clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        o.signal?.removeEventListener("abort", stop);
        o.stdout.off("error", stop);
        await c.remove({ force: true, v: false }).catch(() => {});
      }
    },
  };
}
