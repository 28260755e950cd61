import { Readable, Writable } from "node:stream";
import { FILE_TEXT_MAX_BYTES, FILE_UPLOAD_MAX_BYTES, HearthError, type ErrorCode, type FileEntry, type FileListResponse } from "@hearth/contracts";
import type { VolumeHelper } from "../docker/volume-helper";
import { FILES_HELPER_SCRIPT } from "./helper-script";

/**
 * The file manager of an app's /app/data (apps/box/README.md, "The file manager"). Every
 * operation is one run of the fixed helper program (helper-script.ts) in a throw-away
 * container that mounts only the app's data volume and chroots into it; paths travel as
 * separate argv entries, file contents on stdin/stdout as streams.
 */
export interface FilesDeps {
  helper: VolumeHelper;
  /** the image with perl-base (Hearth's base image) */
  image: string;
  /** the app's data volume's name, or null for an unknown app */
  volumeOf(appId: string): Promise<string | null>;
  /** labels of this store's objects (hearth.owner) */
  labels: Record<string, string>;
  /** ms an operation other than a transfer may take (default 60 s) */
  timeoutMs?: number;
}

/** Capabilities the helper needs: chroot into the volume, then become the volume's owner. */
const CAPS = ["SYS_CHROOT", "SETUID", "SETGID"];
export const FILES_ROLE_LABEL = "hearth.role";

const CODE_OF: Record<string, ErrorCode> = {
  not_found: "not_found",
  exists: "conflict",
  forbidden: "forbidden",
  outside_volume: "invalid",
  too_big: "invalid",
  is_dir: "invalid",
  not_dir: "invalid",
  not_file: "invalid",
  invalid: "invalid",
  no_space: "bad_state",
  io: "external",
};

export function helperError(stderr: string, exitCode: number): HearthError {
  const m = /^HEARTH-ERR (\w+) (.*)$/m.exec(stderr);
  if (m) {
    const reason = m[1]!;
    return new HearthError(CODE_OF[reason] ?? "external", m[2]!, { details: { reason } });
  }
  return new HearthError("external", `the file helper failed (exit ${exitCode})`, { details: { stderr: stderr.slice(0, 500) } });
}

/** Collects a small stdout (answers of list, mkdir …) with a bound. */
class Collect extends Writable {
  chunks: Buffer[] = [];
  size = 0;
  override _write(chunk: Buffer, _e: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.size += chunk.length;
    if (this.size > 64 * 1024 * 1024) {
      cb(new Error("the file helper answered too much"));
      return;
    }
    this.chunks.push(chunk);
    cb();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

/**
 * Passes a stream on after its first line (`OK <size>`): `onHeader` is called with the size
 * once the line is complete and returns where the rest goes.
 */
class AfterHeader extends Writable {
  private head: Buffer = Buffer.alloc(0);
  private out: Writable | null = null;
  constructor(private readonly onHeader: (size: number) => Writable) {
    super();
  }
  override _write(chunk: Buffer, _e: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (!this.out) {
      this.head = Buffer.concat([this.head, chunk]);
      const nl = this.head.indexOf(10);
      if (nl < 0) {
        cb(this.head.length > 100 ? new Error("the file helper answered junk") : null);
        return;
      }
      const m = /^OK (\d+)$/.exec(this.head.subarray(0, nl).toString("utf8"));
      if (!m) {
        cb(new Error("the file helper answered junk"));
        return;
      }
      this.out = this.onHeader(Number(m[1]));
      chunk = this.head.subarray(nl + 1);
      this.head = Buffer.alloc(0);
      if (!chunk.length) {
        cb();
        return;
      }
    }
    const out = this.out;
    if (out.destroyed) {
      cb(new Error("the download's receiver went away"));
      return;
    }
    if (out.write(chunk)) {
      cb();
      return;
    }
    // a destroyed receiver (the client cancelled) never emits drain: end on its close or error too
    const done = (e?: Error) => {
      out.off("drain", onDrain);
      out.off("close", onClose);
      out.off("error", onClose);
      cb(e);
    };
    const onDrain = () => done();
    const onClose = () => done(new Error("the download's receiver went away"));
    out.once("drain", onDrain);
    out.once("close", onClose);
    out.once("error", onClose);
  }
  get started(): boolean {
    return this.out !== null;
  }
}

const fromHex = (h: string) => Buffer.from(h, "hex").toString("utf8");

/** True when `buf` looks like text: valid UTF-8 without NUL bytes. */
export function isText(buf: Buffer): boolean {
  if (buf.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}

export class FilesService {
  constructor(private readonly d: FilesDeps) {}

  private async run(appId: string, argv: string[], io: { stdin?: Readable; stdout?: Writable; signal?: AbortSignal; timeout?: boolean } = {}): Promise<string> {
    const volume = await this.d.volumeOf(appId);
    if (!volume) throw new HearthError("not_found", "No such app");
    const collect = io.stdout ? null : new Collect();
    let r: { exitCode: number; stderr: string };
    try {
      r = await this.d.helper.run({
        volume,
        image: this.d.image,
        cmd: ["perl", "-e", FILES_HELPER_SCRIPT, "--", ...argv],
        capAdd: CAPS,
        namePrefix: `hearth-files-${appId.slice(0, 8)}-`,
        labels: { [FILES_ROLE_LABEL]: "files", ...this.d.labels },
        stdin: io.stdin,
        stdout: io.stdout ?? collect!,
        signal: io.signal,
        timeoutMs: io.timeout === false ? undefined : (this.d.timeoutMs ?? 60_000),
      });
    } catch (e) {
      if ((e as { code?: string }).code === "ENOVOLUME") throw new HearthError("not_found", "This app has no data volume");
      throw e;
    }
    if (r.exitCode !== 0) throw helperError(r.stderr, r.exitCode);
    return collect ? collect.text() : "";
  }

  async list(appId: string, dir: string, offset = 0, limit = 200): Promise<FileListResponse> {
    const out = await this.run(appId, ["list", dir, String(offset), String(limit)]);
    const lines = out.split("\n").filter(Boolean);
    const head = /^OK (\d+)$/.exec(lines.shift() ?? "");
    if (!head) throw new HearthError("external", "the file helper answered junk");
    const entries: FileEntry[] = lines.map((l) => {
      const [type, size, mtime, name, target] = l.split("\t");
      const e: FileEntry = { name: fromHex(name ?? ""), type: type as FileEntry["type"], size: Number(size), mtime: Number(mtime) * 1000 };
      if (type === "symlink") e.target = fromHex(target ?? "");
      return e;
    });
    return { path: dir, total: Number(head[1]), offset, entries };
  }

  /**
   * Streams a file: `onHeader(size)` is called before the first byte and returns the
   * destination. An error before that throws; after it, the destination is destroyed.
   */
  async download(appId: string, file: string, onHeader: (size: number) => Writable, signal?: AbortSignal): Promise<void> {
    const split = new AfterHeader(onHeader);
    split.on("error", () => {}); // a receiver gone away: the run ends and reports it
    await this.run(appId, ["read", file, "0"], { stdout: split, signal, timeout: false });
  }

  async readText(appId: string, file: string): Promise<{ content: string; size: number }> {
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c);
        cb();
      },
    });
    await this.run(appId, ["read", file, String(FILE_TEXT_MAX_BYTES)], { stdout: new AfterHeader(() => sink) });
    const buf = Buffer.concat(chunks);
    if (!isText(buf)) throw new HearthError("invalid", `/app/data/${file} is not a text file (it has NUL bytes or is not UTF-8)`, { details: { reason: "not_text" } });
    return { content: buf.toString("utf8"), size: buf.length };
  }

  /**
   * Writes `input` as `file` (a new file unless `replace`), at most `max` bytes; returns the
   * size written. `size` is the length the client announced: an input that ends before (a
   * cut-off upload) or runs past it fails with `external` (reason `io`) and changes nothing.
   */
  async write(appId: string, file: string, input: Readable, o: { replace: boolean; size: number; max?: number; signal?: AbortSignal }): Promise<number> {
    if (!Number.isSafeInteger(o.size) || o.size < 0) throw new HearthError("invalid", "the upload's length is not a byte count", { details: { reason: "length_required" } });
    const out = await this.run(appId, ["write", file, String(o.max ?? FILE_UPLOAD_MAX_BYTES), o.replace ? "replace" : "new", String(o.size)], { stdin: input, signal: o.signal, timeout: false });
    const m = /^OK (\d+)$/m.exec(out);
    if (!m) throw new HearthError("external", "the file helper answered junk");
    return Number(m[1]);
  }

  async writeText(appId: string, file: string, content: string, replace: boolean): Promise<number> {
    const buf = Buffer.from(content, "utf8");
    if (buf.length > FILE_TEXT_MAX_BYTES) throw new HearthError("invalid", "a text file is at most 1 MiB", { details: { reason: "too_big" } });
    return this.write(appId, file, Readable.from([buf]), { replace, size: buf.length, max: FILE_TEXT_MAX_BYTES });
  }

  async mkdir(appId: string, dir: string): Promise<void> {
    await this.run(appId, ["mkdir", dir]);
  }

  async rename(appId: string, from: string, to: string): Promise<void> {
    await this.run(appId, ["rename", from, to]);
  }

  /** Deletes a file, a link (not what it points to) or a folder with everything in it; returns how many entries went. */
  async delete(appId: string, target: string): Promise<number> {
    const out = await this.run(appId, ["delete", target]);
    return Number(/^OK (\d+)$/m.exec(out)?.[1] ?? 0);
  }
}
