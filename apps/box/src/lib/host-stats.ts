import { readFileSync, statfsSync } from "node:fs";
import { PROC_ROOT } from "../paths";
import { parseNetDev } from "../docker/container-stats";

/** The server's counters from /proc (cumulative ones are rated by the collector). */
export interface HostCounters {
  /** /proc/stat "cpu" line: all jiffies, and idle + iowait jiffies. */
  cpuTotal: number;
  cpuIdle: number;
  memoryTotalBytes: number;
  memoryUsedBytes: number;
  load1: number;
  diskReadBytes: number;
  diskWriteBytes: number;
  netRxBytes: number;
  netTxBytes: number;
}

export function parseProcStatCpu(text: string): { total: number; idle: number } | null {
  const m = /^cpu\s+(.*)$/m.exec(text);
  if (!m) return null;
  const f = m[1]!.trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal (guest is already in user)
  const total = f.slice(0, 8).reduce((a, b) => a + (b || 0), 0);
  return { total, idle: (f[3] ?? 0) + (f[4] ?? 0) };
}

export function parseMeminfo(text: string): { total: number; available: number } | null {
  const total = /^MemTotal:\s+(\d+) kB$/m.exec(text);
  const avail = /^MemAvailable:\s+(\d+) kB$/m.exec(text);
  if (!total || !avail) return null;
  return { total: Number(total[1]) * 1024, available: Number(avail[1]) * 1024 };
}

// whole disks only (a partition's or a device mapper's sectors are already in its disk's)
const WHOLE_DISK = /^(sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+|nvme\d+n\d+|mmcblk\d+)$/;

/** /proc/diskstats → bytes read and written on whole disks (sectors are 512 bytes there). */
export function parseDiskstats(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !WHOLE_DISK.test(f[2]!)) continue;
    read += Number(f[5]) * 512;
    write += Number(f[9]) * 512;
  }
  return { read, write };
}

/** The server's own traffic: not loopback and not the bridges and veths of containers (their traffic is counted on the way out). */
export const hostInterface = (i: string) => i !== "lo" && !/^(veth|docker|br-|hth|virbr|ifb)/.test(i);

// file systems with disk space worth showing (not proc, tmpfs, overlay layers …)
const DISK_FS = new Set(["ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "vfat", "exfat", "jfs", "reiserfs", "bcachefs"]);

export interface MountEntry {
  device: string;
  mount: string;
  fsType: string;
}
/** /proc/mounts → disk file systems, one per device (the first mount point). */
export function parseMounts(text: string): MountEntry[] {
  const seen = new Set<string>();
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const [device, mount, fsType] = line.split(" ");
    if (!device || !mount || !fsType || !DISK_FS.has(fsType) || seen.has(device)) continue;
    seen.add(device);
    out.push({ device, mount: mount.replace(/\\040/g, " "), fsType });
  }
  return out;
}

export interface SpaceUsage {
  sizeBytes: number;
  usedBytes: number;
  availableBytes: number;
}
export function spaceOf(dir: string): SpaceUsage | null {
  try {
    const s = statfsSync(dir);
    const size = s.blocks * s.bsize;
    return { sizeBytes: size, usedBytes: size - s.bfree * s.bsize, availableBytes: s.bavail * s.bsize };
  } catch {
    return null;
  }
}

export class HostStatsReader {
  constructor(private readonly proc = PROC_ROOT) {}

  private text(name: string): string {
    try {
      return readFileSync(`${this.proc}/${name}`, "utf8");
    } catch {
      return "";
    }
  }

  read(): HostCounters | null {
    const cpu = parseProcStatCpu(this.text("stat"));
    const mem = parseMeminfo(this.text("meminfo"));
    if (!cpu || !mem) return null;
    const disk = parseDiskstats(this.text("diskstats"));
    const net = parseNetDev(this.text("net/dev"), hostInterface);
    return {
      cpuTotal: cpu.total,
      cpuIdle: cpu.idle,
      memoryTotalBytes: mem.total,
      memoryUsedBytes: mem.total - mem.available,
      load1: Number(this.text("loadavg").split(" ")[0]) || 0,
      diskReadBytes: disk.read,
      diskWriteBytes: disk.write,
      netRxBytes: net.rx,
      netTxBytes: net.tx,
    };
  }

  uptimeSeconds(): number {
    return Math.floor(Number(this.text("uptime").split(" ")[0]) || 0);
  }

  mounts(): MountEntry[] {
    return parseMounts(this.text("mounts"));
  }
}
