import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { ContainerStatsReader, parseBlkioV1, parseIoStatV2, parseNetDev, type ContainerCounters } from "../docker/container-stats";
import { parseDiskstats, parseMeminfo, parseMounts, parseProcStatCpu, type HostCounters } from "../lib/host-stats";
import { APP_STORE_SPEC, MetricsService, mountOf, SERVER_STORE_SPEC, type MetricsSources } from "./metrics.service";
import { MetricsStore } from "./ring-store";

const log = pino({ level: "silent" });
const T0 = 1_796_000_100 - (1_796_000_100 % 300);

function setup(apps: Set<string>) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-metrics-svc-"));
  let now = T0 * 1000;
  let round = 0;
  const container = (): ContainerCounters => ({
    // 0.5 s of CPU per 10 s = 5 % of one core; 1000 B/s read, 100 B/s rx
    cpuNs: round * 0.5e9,
    memoryBytes: 100 * 2 ** 20,
    memoryLimitBytes: 256 * 2 ** 20,
    ioReadBytes: round * 10_000,
    ioWriteBytes: 0,
    netRxBytes: round * 1000,
    netTxBytes: null,
    netSource: "proc",
  });
  const host = (): HostCounters => ({
    cpuTotal: round * 2000,
    cpuIdle: round * 1500,
    memoryTotalBytes: 8 * 2 ** 30,
    memoryUsedBytes: 2 * 2 ** 30,
    load1: 0.5,
    diskReadBytes: round * 5120,
    diskWriteBytes: round * 10240,
    netRxBytes: 0,
    netTxBytes: 0,
  });
  const sources: MetricsSources = {
    appContainers: async () => [...apps].map((appId) => ({ appId, containerId: `c-${appId}` })),
    container,
    host,
    uptimeSeconds: () => 1234,
    mounts: () => [{ device: "/dev/vda", mount: "/", fsType: "ext4" }],
    space: () => ({ sizeBytes: 100, usedBytes: 40, availableBytes: 60 }),
    cpuCores: () => 2,
  };
  const store = new MetricsStore(dir, { app: APP_STORE_SPEC, server: SERVER_STORE_SPEC });
  const svc = new MetricsService({ store, sources, appExists: async (id) => apps.has(id), log, version: "9.9.9", dataDir: dir, startedAt: now, now: () => now });
  const step = async () => {
    await svc.collect();
    round++;
    now += 10_000;
  };
  return { svc, store, step, dir };
}

describe("MetricsService", () => {
  it("turns cumulative counters into rates per app and for the server, and serves them as [ms, value] series", async () => {
    const { svc, step } = setup(new Set(["a1"]));
    for (let i = 0; i < 6; i++) await step();
    const m = svc.appMetrics("a1", "1h");
    // the first round has nothing to rate against: memory yes, CPU no
    expect(m.series.memoryBytes).toHaveLength(6);
    expect(m.series.cpuPercent).toHaveLength(5);
    expect(m.series.cpuPercent.every(([, v]) => Math.abs(v - 5) < 1e-4)).toBe(true);
    expect(m.series.diskReadBps.every(([, v]) => v === 1000)).toBe(true);
    expect(m.series.netRxBps.every(([, v]) => v === 100)).toBe(true);
    expect(m.series.netTxBps).toEqual([]);
    expect(m.series.memoryLimitBytes[0]![1]).toBe(256 * 2 ** 20);
    expect(m.series.cpuPercent[0]![0]).toBe((T0 + 10) * 1000);
    const s = svc.serverMetrics("24h");
    expect(s.stepSeconds).toBe(300);
    expect(s.series.cpuPercent).toHaveLength(1);
    expect(s.series.cpuPercent[0]![1]).toBeCloseTo(25);
    expect(s.series.diskWriteBps[0]![1]).toBe(1024);
    expect(s.overview).toMatchObject({ version: "9.9.9", uptimeSeconds: 1234, cpuCores: 2, filesystems: [{ mount: "/", usedBytes: 40 }] });
    expect(s.overview.dataDir).toMatchObject({ device: "/dev/vda", sizeBytes: 100 });
  });

  it("answers an app with no samples yet with empty series, not an error", async () => {
    const { svc } = setup(new Set());
    const m = svc.appMetrics("fresh", "30d");
    expect(m.stepSeconds).toBe(3600);
    expect(m.series.cpuPercent).toEqual([]);
  });

  it("drops the series of an app whose row is gone, and keeps the others'", async () => {
    const apps = new Set(["a1", "a2"]);
    const { svc, store, step } = setup(apps);
    await step();
    expect(store.appIds().sort()).toEqual(["a1", "a2"]);
    apps.delete("a2");
    expect(await svc.sweep()).toEqual(["a2"]);
    expect(store.appIds()).toEqual(["a1"]);
  });
});

describe("per-app network", () => {
  it("gives no rate when the counters' source differs from the round before (no bogus spike)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-metrics-net-"));
    let now = T0 * 1000;
    const rounds: { rx: number; src: "bridge" | "proc" }[] = [
      { rx: 1000, src: "bridge" },
      { rx: 2000, src: "bridge" },
      { rx: 9_000_000, src: "proc" },
      { rx: 9_001_000, src: "proc" },
    ];
    let i = 0;
    const sources: MetricsSources = {
      appContainers: async () => [{ appId: "n1", containerId: "c-n1" }],
      container: () => ({ cpuNs: 0, memoryBytes: 1, memoryLimitBytes: null, ioReadBytes: 0, ioWriteBytes: 0, netRxBytes: rounds[i]!.rx, netTxBytes: 0, netSource: rounds[i]!.src }),
      host: () => null,
      uptimeSeconds: () => 1,
      mounts: () => [],
      space: () => null,
      cpuCores: () => 2,
    };
    const store = new MetricsStore(dir, { app: APP_STORE_SPEC, server: SERVER_STORE_SPEC });
    const svc = new MetricsService({ store, sources, appExists: async () => true, log, version: "t", dataDir: dir, startedAt: now, now: () => now });
    for (; i < rounds.length; i++, now += 10_000) await svc.collect();
    expect(svc.appMetrics("n1", "1h").series.netRxBps.map(([, v]) => v)).toEqual([100, 100]);
    await svc.stop();
  });
});

describe("the data directory's file system", () => {
  it("is the longest mount point holding it, even when two file systems have the same size and use", () => {
    const mounts = [
      { device: "/dev/vda", mount: "/", fsType: "ext4", sizeBytes: 100, usedBytes: 40 },
      { device: "/dev/vdb", mount: "/srv", fsType: "xfs", sizeBytes: 100, usedBytes: 40 },
      { device: "/dev/vdc", mount: "/srv/hearth-other", fsType: "xfs", sizeBytes: 100, usedBytes: 40 },
    ];
    expect(mountOf("/srv/hearth", mounts)?.device).toBe("/dev/vdb");
    expect(mountOf("/srv/hearth-other/x", mounts)?.device).toBe("/dev/vdc");
    expect(mountOf("/var/lib/hearth", mounts)?.device).toBe("/dev/vda");
    expect(mountOf("/srv", mounts)?.device).toBe("/dev/vdb");
    expect(mountOf("/x", [])).toBeNull();
  });
});

describe("MetricsService with one failing app", () => {
  it("stores the apps after it and warns once for that app and cause", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-metrics-oneapp-"));
    const lines: string[] = [];
    const warnLog = pino({ level: "warn" }, { write: (l: string) => void lines.push(l) });
    let now = T0 * 1000;
    let round = 0;
    const sources: MetricsSources = {
      appContainers: async () => [
        { appId: "bad", containerId: "c-bad" },
        { appId: "good", containerId: "c-good" },
      ],
      container: (id) => {
        if (id === "c-bad") throw Object.assign(new Error("EIO: i/o error, read"), { code: "EIO" });
        return { cpuNs: round * 1e9, memoryBytes: 1, memoryLimitBytes: null, ioReadBytes: 0, ioWriteBytes: 0, netRxBytes: null, netTxBytes: null, netSource: null };
      },
      host: () => null,
      uptimeSeconds: () => 1,
      mounts: () => [],
      space: () => null,
      cpuCores: () => 2,
    };
    const store = new MetricsStore(dir, { app: APP_STORE_SPEC, server: SERVER_STORE_SPEC });
    const svc = new MetricsService({ store, sources, appExists: async () => true, log: warnLog, version: "t", dataDir: dir, startedAt: now, now: () => now });
    for (; round < 3; round++, now += 10_000) await svc.collect();
    expect(svc.appMetrics("good", "1h").series.memoryBytes).toHaveLength(3);
    expect(svc.appMetrics("good", "1h").series.cpuPercent).toHaveLength(2);
    expect(svc.appMetrics("bad", "1h").series.memoryBytes).toEqual([]);
    const warnings = lines.map((l) => JSON.parse(l) as { msg: string }).filter((l) => l.msg === "metrics: an app's sample failed");
    expect(warnings).toHaveLength(1);
    await svc.stop();
  });
});

describe("MetricsService with a hung Docker engine", () => {
  it("still stores the server's samples, fails each round after the timeout, warns once and keeps ticking", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-metrics-hung-"));
    const lines: string[] = [];
    const warnLog = pino({ level: "warn" }, { write: (l: string) => void lines.push(l) });
    let now = T0 * 1000;
    let hostReads = 0;
    const sources: MetricsSources = {
      appContainers: () => new Promise(() => {}), // listContainers that never answers
      container: () => null,
      host: () => {
        hostReads++;
        now += 10_000;
        return {
          cpuTotal: hostReads * 2000,
          cpuIdle: hostReads * 1500,
          memoryTotalBytes: 8 * 2 ** 30,
          memoryUsedBytes: 2 * 2 ** 30,
          load1: 0.5,
          diskReadBytes: 0,
          diskWriteBytes: 0,
          netRxBytes: 0,
          netTxBytes: 0,
        };
      },
      uptimeSeconds: () => 1,
      mounts: () => [],
      space: () => null,
      cpuCores: () => 2,
    };
    const store = new MetricsStore(dir, { app: APP_STORE_SPEC, server: SERVER_STORE_SPEC });
    const svc = new MetricsService({ store, sources, appExists: async () => true, log: warnLog, version: "t", dataDir: dir, startedAt: now, now: () => now, intervalMs: 5, dockerTimeoutMs: 30 });
    await expect(svc.collect()).rejects.toMatchObject({ code: "external" });
    svc.start();
    const deadline = Date.now() + 5000;
    while (hostReads < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await svc.stop();
    expect(hostReads).toBeGreaterThanOrEqual(5);
    const reopened = new MetricsStore(dir, { app: APP_STORE_SPEC, server: SERVER_STORE_SPEC });
    expect(reopened.ring("server").readFine(T0 - 1, T0 + 3600).length).toBeGreaterThanOrEqual(5);
    reopened.close();
    const warnings = lines.map((l) => JSON.parse(l) as { msg: string }).filter((l) => l.msg === "metrics round failed");
    expect(warnings).toHaveLength(1);
  });
});

describe("the counters' parsers", () => {
  it("reads cgroup v1/v2 block I/O, net/dev, /proc/stat, meminfo, diskstats and mounts", () => {
    expect(parseBlkioV1("254:0 Read 4096\n254:0 Write 8192\n254:0 Sync 1\n254:16 Read 1\nTotal 12289\n")).toEqual({ read: 4097, write: 8192 });
    expect(parseIoStatV2("254:0 rbytes=10 wbytes=20 rios=1 wios=2\n8:0 rbytes=1 wbytes=2 rios=0\n")).toEqual({ read: 11, write: 22 });
    const netdev = "Inter-|\n face |\n    lo: 999 1 0 0 0 0 0 0 999 1 0 0 0 0 0 0\n  eth0: 100 1 0 0 0 0 0 0 200 2 0 0 0 0 0 0\n";
    expect(parseNetDev(netdev)).toEqual({ rx: 100, tx: 200 });
    expect(parseProcStatCpu("cpu  10 0 10 70 10 0 0 0 5 0\ncpu0 1 2\n")).toEqual({ total: 100, idle: 80 });
    expect(parseMeminfo("MemTotal:       1000 kB\nMemFree: 1 kB\nMemAvailable:    250 kB\n")).toEqual({ total: 1024000, available: 256000 });
    expect(parseDiskstats(" 254 0 vda 1 0 8 0 1 0 16 0 0 0 0\n 254 1 vda1 1 0 8 0 1 0 16 0 0 0 0\n 7 0 loop0 1 0 8 0 1 0 16 0 0 0 0\n")).toEqual({ read: 4096, write: 8192 });
    expect(parseMounts("/dev/vda / ext4 rw 0 0\nproc /proc proc rw 0 0\n/dev/vda /var/lib/docker ext4 rw 0 0\n/dev/vdb /srv xfs rw 0 0\n")).toEqual([
      { device: "/dev/vda", mount: "/", fsType: "ext4" },
      { device: "/dev/vdb", mount: "/srv", fsType: "xfs" },
    ]);
  });

  it("reads a cgroup v2 container (the machines here run v1, so v2 is a tree laid out as the kernel does)", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "hearth-cgroup-"));
    const proc = mkdtempSync(path.join(os.tmpdir(), "hearth-proc-"));
    const id = "a".repeat(64);
    const dir = path.join(root, "system.slice", `docker-${id}.scope`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, "cpu.stat"), "usage_usec 1500\nuser_usec 1000\n");
    writeFileSync(path.join(dir, "memory.current"), "1048576\n");
    writeFileSync(path.join(dir, "memory.stat"), "anon 1\ninactive_file 4096\n");
    writeFileSync(path.join(dir, "memory.max"), "max\n");
    writeFileSync(path.join(dir, "io.stat"), "254:0 rbytes=7 wbytes=9\n");
    writeFileSync(path.join(dir, "cgroup.procs"), "4242\n");
    mkdirSync(path.join(proc, "4242", "net"), { recursive: true });
    writeFileSync(path.join(proc, "4242", "net", "dev"), "h\nh\n  eth0: 5 0 0 0 0 0 0 0 6 0 0 0 0 0 0 0\n");
    const r = new ContainerStatsReader(root, proc);
    expect(r.read(id)).toEqual({ cpuNs: 1_500_000, memoryBytes: 1048576 - 4096, memoryLimitBytes: null, ioReadBytes: 7, ioWriteBytes: 9, netRxBytes: 5, netTxBytes: 6, netSource: "proc" });
    expect(r.read("b".repeat(64))).toBeNull();
    // where the container's /proc is hidden from box: the app's bridge, seen from the host (its rx is what the app sent)
    const sysNet = mkdtempSync(path.join(os.tmpdir(), "hearth-sysnet-"));
    mkdirSync(path.join(sysNet, "hth0123", "statistics"), { recursive: true });
    writeFileSync(path.join(sysNet, "hth0123", "statistics", "rx_bytes"), "70\n");
    writeFileSync(path.join(sysNet, "hth0123", "statistics", "tx_bytes"), "30\n");
    const hidden = new ContainerStatsReader(root, path.join(proc, "none"), sysNet);
    expect(hidden.read(id, "hth0123")).toMatchObject({ netRxBytes: 30, netTxBytes: 70, netSource: "bridge" });
    // a known bridge wins even where /proc is readable: one meaning round to round
    expect(new ContainerStatsReader(root, proc, sysNet).read(id, "hth0123")).toMatchObject({ netRxBytes: 30, netTxBytes: 70, netSource: "bridge" });
    expect(hidden.read(id)).toMatchObject({ netRxBytes: null, netTxBytes: null });
    expect(r.read("../etc")).toBeNull();
  });
});
