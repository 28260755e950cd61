import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, writeSync } from "node:fs";
import path from "node:path";

/**
 * The metrics store: one fixed-size file per series set (an app, the server), RRD-style.
 * Two rings in the file, each a fixed number of slots written in place:
 *
 *   fine   — one row per `fine.step` seconds (10 s) for `fine.slots` slots (2160 = 6 h):
 *            [u32 time, N × f32 value]
 *   coarse — one row per `coarse.step` seconds (300 s) for `coarse.slots` slots (8640 = 30 d):
 *            [u32 time, N × f32 average, N × f32 max]
 *
 * A sample at time t goes to fine slot ⌊t/step⌋ mod slots (overwriting what was there six
 * hours ago); then the coarse row of t's 5-minute bucket is recomputed from the fine rows of
 * that bucket (one contiguous read: a bucket never straddles the ring's end because
 * fine.slots is a multiple of coarse.step / fine.step). Nothing is held in memory between
 * samples, so a restart loses nothing written, and the file never grows: its size is fixed
 * by the spec (`fileSize`). A row whose time does not belong to the slot is stale and is
 * not read. Missing values are NaN and are left out of averages and series.
 */
export interface RingSpec {
  step: number;
  slots: number;
}
export interface StoreSpec {
  fields: number;
  fine: RingSpec;
  coarse: RingSpec;
}
export const FINE: RingSpec = { step: 10, slots: 6 * 360 };
export const COARSE: RingSpec = { step: 300, slots: 30 * 288 };

const MAGIC = 0x48_4d_54_52; // "HMTR"
const VERSION = 1;
const HEADER = 32;

export function fineRowSize(fields: number): number {
  return 4 + 4 * fields;
}
export function coarseRowSize(fields: number): number {
  return 4 + 8 * fields;
}
/** The file's size in bytes: constant for a spec, whatever was written. */
export function fileSize(spec: StoreSpec): number {
  return HEADER + spec.fine.slots * fineRowSize(spec.fields) + spec.coarse.slots * coarseRowSize(spec.fields);
}

function checkSpec(spec: StoreSpec): void {
  const per = spec.coarse.step / spec.fine.step;
  if (!Number.isInteger(per) || per < 1 || spec.fine.slots % per !== 0) throw new Error("coarse.step must be a multiple of fine.step and fine.slots a multiple of that ratio");
  if (spec.fields < 1 || spec.fields > 64) throw new Error("1 to 64 fields");
}

export interface Point {
  t: number;
  values: number[];
}
export interface CoarsePoint {
  t: number;
  avg: number[];
  max: number[];
}

/** One series set's file. Kept open; `close()` when done. */
export class RingFile {
  private fd: number;
  private readonly fineOff = HEADER;
  private readonly coarseOff: number;
  private readonly fineRow: number;
  private readonly coarseRow: number;

  constructor(
    readonly file: string,
    readonly spec: StoreSpec,
  ) {
    checkSpec(spec);
    this.fineRow = fineRowSize(spec.fields);
    this.coarseRow = coarseRowSize(spec.fields);
    this.coarseOff = HEADER + spec.fine.slots * this.fineRow;
    this.fd = this.openOrCreate();
  }

  private header(): Buffer {
    const h = Buffer.alloc(HEADER);
    h.writeUInt32BE(MAGIC, 0);
    h.writeUInt8(VERSION, 4);
    h.writeUInt8(this.spec.fields, 5);
    h.writeUInt32LE(this.spec.fine.step, 8);
    h.writeUInt32LE(this.spec.fine.slots, 12);
    h.writeUInt32LE(this.spec.coarse.step, 16);
    h.writeUInt32LE(this.spec.coarse.slots, 20);
    return h;
  }

  /** The existing file when its header matches the spec; else a fresh one (all slots empty) put in place atomically. */
  private openOrCreate(): number {
    const want = this.header();
    try {
      const fd = openSync(this.file, "r+");
      const got = Buffer.alloc(HEADER);
      readSync(fd, got, 0, HEADER, 0);
      if (got.equals(want) && fstatSync(fd).size === fileSize(this.spec)) return fd;
      closeSync(fd);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o750 });
    const tmp = `${this.file}.new`;
    const fd = openSync(tmp, "w+", 0o640);
    // zeros written, not a sparse ftruncate: the bound is real on disk, and a full disk fails here, once, not on some later sample
    try {
      const size = fileSize(this.spec);
      const zeros = Buffer.alloc(Math.min(size, 1 << 16));
      for (let off = 0; off < size; off += zeros.length) writeSync(fd, zeros, 0, Math.min(zeros.length, size - off), off);
      writeSync(fd, want, 0, HEADER, 0);
    } catch (e) {
      closeSync(fd);
      rmSync(tmp, { force: true });
      throw e;
    }
    renameSync(tmp, this.file);
    return fd;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** Stores one sample taken at `tSec` (unix seconds); `values` has `fields` numbers (NaN: not known). */
  record(tSec: number, values: readonly number[]): void {
    if (values.length !== this.spec.fields) throw new Error(`expected ${this.spec.fields} values, got ${values.length}`);
    const { fine, coarse } = this.spec;
    const slotT = Math.floor(tSec / fine.step) * fine.step;
    const row = Buffer.alloc(this.fineRow);
    row.writeUInt32LE(slotT, 0);
    for (let i = 0; i < values.length; i++) row.writeFloatLE(values[i]!, 4 + 4 * i);
    const slot = (slotT / fine.step) % fine.slots;
    writeSync(this.fd, row, 0, this.fineRow, this.fineOff + slot * this.fineRow);

    // the coarse row of this bucket, from the fine rows of the bucket (as written, so a restart changes nothing)
    const bucketT = Math.floor(tSec / coarse.step) * coarse.step;
    const per = coarse.step / fine.step;
    const first = (bucketT / fine.step) % fine.slots;
    const buf = Buffer.alloc(per * this.fineRow);
    readSync(this.fd, buf, 0, buf.length, this.fineOff + first * this.fineRow);
    const n = this.spec.fields;
    const sum = new Array<number>(n).fill(0);
    const count = new Array<number>(n).fill(0);
    const max = new Array<number>(n).fill(Number.NaN);
    for (let r = 0; r < per; r++) {
      const t = buf.readUInt32LE(r * this.fineRow);
      if (t < bucketT || t >= bucketT + coarse.step) continue; // stale: an older round of the ring
      for (let i = 0; i < n; i++) {
        const v = buf.readFloatLE(r * this.fineRow + 4 + 4 * i);
        if (Number.isNaN(v)) continue;
        sum[i]! += v;
        count[i]! += 1;
        if (!(max[i]! >= v)) max[i] = v;
      }
    }
    const out = Buffer.alloc(this.coarseRow);
    out.writeUInt32LE(bucketT, 0);
    for (let i = 0; i < n; i++) {
      out.writeFloatLE(count[i]! > 0 ? sum[i]! / count[i]! : Number.NaN, 4 + 4 * i);
      out.writeFloatLE(max[i]!, 4 + 4 * (n + i));
    }
    const cslot = (bucketT / coarse.step) % coarse.slots;
    writeSync(this.fd, out, 0, this.coarseRow, this.coarseOff + cslot * this.coarseRow);
  }

  /** Fine rows with fromSec < t ≤ toSec, oldest first. */
  readFine(fromSec: number, toSec: number): Point[] {
    const { fine } = this.spec;
    const buf = Buffer.alloc(fine.slots * this.fineRow);
    readSync(this.fd, buf, 0, buf.length, this.fineOff);
    const out: Point[] = [];
    for (let s = 0; s < fine.slots; s++) {
      const o = s * this.fineRow;
      const t = buf.readUInt32LE(o);
      if (t === 0 || t <= fromSec || t > toSec || (t / fine.step) % fine.slots !== s) continue;
      const values: number[] = [];
      for (let i = 0; i < this.spec.fields; i++) values.push(buf.readFloatLE(o + 4 + 4 * i));
      out.push({ t, values });
    }
    return out.sort((a, b) => a.t - b.t);
  }

  /** Coarse rows with fromSec < t ≤ toSec, oldest first. */
  readCoarse(fromSec: number, toSec: number): CoarsePoint[] {
    const { coarse } = this.spec;
    const n = this.spec.fields;
    const buf = Buffer.alloc(coarse.slots * this.coarseRow);
    readSync(this.fd, buf, 0, buf.length, this.coarseOff);
    const out: CoarsePoint[] = [];
    for (let s = 0; s < coarse.slots; s++) {
      const o = s * this.coarseRow;
      const t = buf.readUInt32LE(o);
      if (t === 0 || t <= fromSec || t > toSec || (t / coarse.step) % coarse.slots !== s) continue;
      const avg: number[] = [];
      const max: number[] = [];
      for (let i = 0; i < n; i++) {
        avg.push(buf.readFloatLE(o + 4 + 4 * i));
        max.push(buf.readFloatLE(o + 4 + 4 * (n + i)));
      }
      out.push({ t, avg, max });
    }
    return out.sort((a, b) => a.t - b.t);
  }
}

/** Coarse points merged into steps of `step` seconds (bucket start time; mean of the averages, max of the maxima). */
export function mergeCoarse(points: readonly CoarsePoint[], step: number): CoarsePoint[] {
  const out: CoarsePoint[] = [];
  let cur: { t: number; sum: number[]; count: number[]; max: number[] } | null = null;
  const flush = () => {
    if (cur) out.push({ t: cur.t, avg: cur.sum.map((s, i) => (cur!.count[i]! > 0 ? s / cur!.count[i]! : Number.NaN)), max: cur.max });
  };
  for (const p of points) {
    const t = Math.floor(p.t / step) * step;
    if (!cur || cur.t !== t) {
      flush();
      cur = { t, sum: p.avg.map(() => 0), count: p.avg.map(() => 0), max: p.max.map(() => Number.NaN) };
    }
    p.avg.forEach((v, i) => {
      if (!Number.isNaN(v)) {
        cur!.sum[i]! += v;
        cur!.count[i]! += 1;
      }
    });
    p.max.forEach((v, i) => {
      if (!Number.isNaN(v) && !(cur!.max[i]! >= v)) cur!.max[i] = v;
    });
  }
  flush();
  return out;
}

/** The store's folder: `server.hmtr` and `app-<id>.hmtr`, one RingFile each, opened on first use. */
export class MetricsStore {
  private readonly open = new Map<string, RingFile>();

  constructor(
    readonly dir: string,
    private readonly specs: { app: StoreSpec; server: StoreSpec },
  ) {}

  private fileOf(key: string): string {
    return path.join(this.dir, `${key}.hmtr`);
  }

  ring(key: "server" | `app-${string}`): RingFile {
    if (!/^(server|app-[A-Za-z0-9_-]{1,64})$/.test(key)) throw new Error(`bad metrics key ${key}`);
    let r = this.open.get(key);
    if (!r) {
      r = new RingFile(this.fileOf(key), key === "server" ? this.specs.server : this.specs.app);
      this.open.set(key, r);
    }
    return r;
  }

  /** The ring of an app only when its file exists (a read must not create one). */
  existingRing(key: "server" | `app-${string}`): RingFile | null {
    if (this.open.has(key)) return this.open.get(key)!;
    try {
      return readdirSync(this.dir).includes(`${key}.hmtr`) ? this.ring(key) : null;
    } catch {
      return null;
    }
  }

  /** App ids that have a file. */
  appIds(): string[] {
    try {
      return readdirSync(this.dir)
        .map((f) => /^app-([A-Za-z0-9_-]{1,64})\.hmtr$/.exec(f)?.[1])
        .filter((x): x is string => !!x);
    } catch {
      return [];
    }
  }

  /** Drops an app's series (its app row is gone). */
  dropApp(appId: string): void {
    const key = `app-${appId}`;
    this.open.get(key)?.close();
    this.open.delete(key);
    rmSync(this.fileOf(key), { force: true });
  }

  close(): void {
    for (const r of this.open.values()) r.close();
    this.open.clear();
  }
}
