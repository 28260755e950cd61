import { readFileSync } from "node:fs";
import { CGROUP_ROOT, PROC_ROOT, SYS_CLASS_NET } from "../paths";

/**
 * A running container's counters, read straight from its cgroup and its network namespace
 * (`/proc/<pid>/net/dev`) instead of Docker's stats API: the one-shot stats call costs the
 * engine a round of work per container (and waits for a second sample unless `one-shot`),
 * while these are a handful of small reads (see apps/box/README.md, "Metrics"). cgroup v1
 * (`<root>/<controller>/docker/<id>`) and v2 (`<root>/docker/<id>` or
 * `<root>/system.slice/docker-<id>.scope`), cgroupfs and systemd drivers.
 */
export interface ContainerCounters {
  /** CPU time used, nanoseconds (cumulative). */
  cpuNs: number;
  /** Memory in use less the inactive page cache (what `docker stats` shows), bytes. */
  memoryBytes: number;
  /** The memory limit, bytes; null when unlimited. */
  memoryLimitBytes: number | null;
  /** Block I/O, bytes (cumulative). */
  ioReadBytes: number;
  ioWriteBytes: number;
  /** Network of the container's namespace except lo, bytes (cumulative); null when no process can be read. */
  netRxBytes: number | null;
  netTxBytes: number | null;
  /** Where the network counters came from: the app's bridge on the host or the namespace's /proc net/dev (two different counters: never rated against each other). */
  netSource: "bridge" | "proc" | null;
}

type Layout = { kind: "v1"; cpu: string; memory: string; blkio: string } | { kind: "v2"; dir: string };

const read = (f: string): string | null => {
  try {
    return readFileSync(f, "utf8");
  } catch {
    return null;
  }
};

/** "key value" lines (memory.stat, cpu.stat) → the value of `key`. */
export function statValue(text: string, key: string): number | null {
  const m = new RegExp(`^${key} (\\d+)$`, "m").exec(text);
  return m ? Number(m[1]) : null;
}

/** v1 blkio.throttle.io_service_bytes ("8:0 Read 123") → read/write byte sums over devices. */
export function parseBlkioV1(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const m of text.matchAll(/^\d+:\d+ (Read|Write) (\d+)$/gm)) {
    if (m[1] === "Read") read += Number(m[2]);
    else write += Number(m[2]);
  }
  return { read, write };
}

/** v2 io.stat ("8:0 rbytes=1 wbytes=2 …") → read/write byte sums over devices. */
export function parseIoStatV2(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const m of text.matchAll(/\brbytes=(\d+)/g)) read += Number(m[1]);
  for (const m of text.matchAll(/\bwbytes=(\d+)/g)) write += Number(m[1]);
  return { read, write };
}

/** /proc/<pid>/net/dev → rx/tx byte sums over the interfaces that pass `keep`. */
export function parseNetDev(text: string, keep: (iface: string) => boolean = (i) => i !== "lo"): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const m = /^\s*([^:\s]+):\s*(.*)$/.exec(line);
    if (!m || !keep(m[1]!)) continue;
    const f = m[2]!.trim().split(/\s+/);
    rx += Number(f[0] ?? 0);
    tx += Number(f[8] ?? 0);
  }
  return { rx, tx };
}

// v1 reports "no limit" as a page-aligned 2^63-ish number; anything past 2^60 is unlimited
const UNLIMITED = 2 ** 60;

export class ContainerStatsReader {
  private readonly layouts = new Map<string, Layout>();

  constructor(
    private readonly root = CGROUP_ROOT,
    private readonly proc = PROC_ROOT,
    private readonly sysNet = SYS_CLASS_NET,
  ) {}

  private layoutOf(id: string): Layout | null {
    const known = this.layouts.get(id);
    if (known) return known;
    const r = this.root;
    const candidates: Layout[] = [
      { kind: "v1", cpu: `${r}/cpuacct/docker/${id}`, memory: `${r}/memory/docker/${id}`, blkio: `${r}/blkio/docker/${id}` },
      { kind: "v1", cpu: `${r}/cpuacct/system.slice/docker-${id}.scope`, memory: `${r}/memory/system.slice/docker-${id}.scope`, blkio: `${r}/blkio/system.slice/docker-${id}.scope` },
      { kind: "v2", dir: `${r}/docker/${id}` },
      { kind: "v2", dir: `${r}/system.slice/docker-${id}.scope` },
    ];
    for (const c of candidates) {
      if (read(c.kind === "v1" ? `${c.cpu}/cpuacct.usage` : `${c.dir}/cpu.stat`) !== null) {
        this.layouts.set(id, c);
        return c;
      }
    }
    return null;
  }

  /**
   * The container's counters, or null when it has no cgroup (gone, or not a container id).
   * Network: its namespace's /proc/<pid>/net/dev; where box may not see the container's
   * processes (systemd's ProtectProc=invisible hides other users' /proc entries) the app's own
   * bridge `bridge` on the host (one app per bridge), whose received bytes are what the app sent.
   */
  read(containerId: string, bridge?: string): ContainerCounters | null {
    if (!/^[0-9a-f]{64}$/.test(containerId)) return null;
    const l = this.layoutOf(containerId);
    if (!l) return null;
    let cpuNs: number | null;
    let memoryBytes: number | null;
    let memoryLimitBytes: number | null;
    let io: { read: number; write: number };
    let procs: string | null;
    if (l.kind === "v1") {
      const usage = read(`${l.cpu}/cpuacct.usage`);
      cpuNs = usage === null ? null : Number(usage.trim());
      const used = Number(read(`${l.memory}/memory.usage_in_bytes`)?.trim() ?? Number.NaN);
      const inactive = statValue(read(`${l.memory}/memory.stat`) ?? "", "total_inactive_file") ?? 0;
      memoryBytes = Number.isFinite(used) ? Math.max(0, used - inactive) : null;
      const limit = Number(read(`${l.memory}/memory.limit_in_bytes`)?.trim() ?? Number.NaN);
      memoryLimitBytes = Number.isFinite(limit) && limit < UNLIMITED ? limit : null;
      io = parseBlkioV1(read(`${l.blkio}/blkio.throttle.io_service_bytes`) ?? "");
      procs = read(`${l.cpu}/cgroup.procs`);
    } else {
      const usec = statValue(read(`${l.dir}/cpu.stat`) ?? "", "usage_usec");
      cpuNs = usec === null ? null : usec * 1000;
      const used = Number(read(`${l.dir}/memory.current`)?.trim() ?? Number.NaN);
      const inactive = statValue(read(`${l.dir}/memory.stat`) ?? "", "inactive_file") ?? 0;
      memoryBytes = Number.isFinite(used) ? Math.max(0, used - inactive) : null;
      const max = read(`${l.dir}/memory.max`)?.trim();
      memoryLimitBytes = max && max !== "max" ? Number(max) : null;
      io = parseIoStatV2(read(`${l.dir}/io.stat`) ?? "");
      procs = read(`${l.dir}/cgroup.procs`);
    }
    if (cpuNs === null || memoryBytes === null) {
      this.layouts.delete(containerId); // the container went away
      return null;
    }
    // the bridge whenever one is known (production always, box cannot see the app's /proc), so the meaning stays the same round to round
    let n: { rx: number; tx: number } | null = null;
    let netSource: ContainerCounters["netSource"] = null;
    if (bridge && /^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) {
      const rx = Number(read(`${this.sysNet}/${bridge}/statistics/rx_bytes`)?.trim() ?? Number.NaN);
      const tx = Number(read(`${this.sysNet}/${bridge}/statistics/tx_bytes`)?.trim() ?? Number.NaN);
      if (Number.isFinite(rx) && Number.isFinite(tx)) {
        n = { rx: tx, tx: rx };
        netSource = "bridge";
      }
    }
    if (n === null) {
      const pid = procs?.split("\n")[0]?.trim();
      const net = pid && /^\d+$/.test(pid) ? read(`${this.proc}/${pid}/net/dev`) : null;
      n = net === null ? null : parseNetDev(net);
      if (n) netSource = "proc";
    }
    return { cpuNs, memoryBytes, memoryLimitBytes, ioReadBytes: io.read, ioWriteBytes: io.write, netRxBytes: n?.rx ?? null, netTxBytes: n?.tx ?? null, netSource };
  }

  /** Forget containers not in `live` (their cached cgroup folder). */
  retain(live: ReadonlySet<string>): void {
    for (const id of this.layouts.keys()) if (!live.has(id)) this.layouts.delete(id);
  }
}
