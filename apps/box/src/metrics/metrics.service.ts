import { hostname } from "node:os";
import path from "node:path";
import { APP_METRICS, HearthError, SERVER_METRICS, type AppMetricsResponse, type FilesystemUsage, type MetricPoint, type MetricsRange, type ServerMetricsResponse } from "@hearth/contracts";
import type { ContainerCounters } from "../docker/container-stats";
import type { HostCounters, MountEntry, SpaceUsage } from "../lib/host-stats";
import type { Logger } from "../logger";
import { COARSE, FINE, mergeCoarse, type MetricsStore, type RingFile } from "./ring-store";

/**
 * The metrics collector: every `intervalMs` (10 s) one round reads each running app
 * container's cgroup counters and the server's /proc counters (through the lower layer:
 * docker/container-stats.ts, lib/host-stats.ts), turns the cumulative ones into rates
 * against the round before, and stores one sample per app and one for the server in the
 * bounded store (ring-store.ts). Every `sweepMs` (and at start) the series of apps whose row
 * is gone (purged) are dropped.
 */
export interface MetricsSources {
  /** The running containers of this store's apps. */
  appContainers(): Promise<{ appId: string; containerId: string; bridge?: string }[]>;
  container(containerId: string, bridge?: string): ContainerCounters | null;
  /** Containers still running (the reader forgets the others' cached cgroup folders). */
  retainContainers?(live: ReadonlySet<string>): void;
  host(): HostCounters | null;
  uptimeSeconds(): number;
  mounts(): MountEntry[];
  space(dir: string): SpaceUsage | null;
  cpuCores(): number;
}

export interface MetricsServiceOptions {
  store: MetricsStore;
  sources: MetricsSources;
  /** Is this app's row still there (else its series are dropped). */
  appExists(appId: string): Promise<boolean>;
  log: Logger;
  version: string;
  dataDir: string;
  /** Process start, ms. */
  startedAt: number;
  intervalMs?: number;
  sweepMs?: number;
  /** How long a round waits for the engine's list of containers (a hung engine must not stop the rounds). */
  dockerTimeoutMs?: number;
  /** The least time between two warnings of the same kind (a down engine would otherwise warn every round). */
  warnEveryMs?: number;
  now?: () => number;
}

export const APP_STORE_SPEC = { fields: APP_METRICS.length, fine: FINE, coarse: COARSE };
export const SERVER_STORE_SPEC = { fields: SERVER_METRICS.length, fine: FINE, coarse: COARSE };

const RANGES: Record<MetricsRange, { seconds: number; step: number }> = {
  "1h": { seconds: 3600, step: FINE.step },
  "24h": { seconds: 86_400, step: COARSE.step },
  "30d": { seconds: 30 * 86_400, step: 3600 },
};

interface Prev<T> {
  at: number;
  c: T;
}

/** Rejects with `external` when `p` has not settled after `ms` (the timer is cleared either way). */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HearthError("external", `${what} did not answer within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** The mount holding `dir`: the longest mount point that is `dir` or one of its parents (never a guess by equal sizes). */
export function mountOf<T extends { mount: string }>(dir: string, mounts: readonly T[]): T | null {
  const d = path.resolve(dir);
  let best: T | null = null;
  for (const m of mounts) {
    const root = path.resolve(m.mount);
    const holds = root === "/" || d === root || d.startsWith(`${root}/`);
    if (holds && (!best || root.length > path.resolve(best.mount).length)) best = m;
  }
  return best;
}

const rate = (now: number, prev: number | null | undefined, secs: number) => (prev === null || prev === undefined || now < prev || secs <= 0 ? Number.NaN : (now - prev) / secs);

export class MetricsService {
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private stopped = true;
  private lastSweep = 0;
  private prevApps = new Map<string, Prev<ContainerCounters>>();
  private prevHost: Prev<HostCounters> | null = null;
  /** Last warning time and the warnings held back since, per kind. */
  private warned = new Map<string, { at: number; held: number }>();
  readonly intervalMs: number;

  constructor(private readonly o: MetricsServiceOptions) {
    this.intervalMs = o.intervalMs ?? 10_000;
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /** Warns at most once per `warnEveryMs` (default 10 min) for one kind; the next warning says how many were held back. */
  private warnLimited(kind: string, err: unknown, msg: string): void {
    const now = Date.now();
    const w = this.warned.get(kind);
    if (w && now - w.at < (this.o.warnEveryMs ?? 600_000)) {
      w.held++;
      return;
    }
    this.o.log.warn({ err, suppressed: w?.held ?? 0 }, msg);
    this.warned.set(kind, { at: now, held: 0 });
  }

  start(): void {
    this.stopped = false;
    const run = () =>
      this.collect()
        .catch((err) => this.warnLimited("round", err, "metrics round failed"))
        .finally(tick);
    const tick = () => {
      if (this.stopped) return;
      this.timer = setTimeout(() => void run(), this.intervalMs);
      this.timer.unref?.();
    };
    void run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.round?.catch(() => {});
    this.o.store.close();
  }

  /** One round: a sample for the server and for every running app. */
  collect(): Promise<void> {
    if (this.round) return this.round;
    this.round = this.collectOnce().finally(() => (this.round = null));
    return this.round;
  }

  private async collectOnce(): Promise<void> {
    const at = this.now();
    const tSec = Math.floor(at / 1000);
    const host = this.o.sources.host();
    if (host) {
      const p = this.prevHost;
      const secs = p ? (at - p.at) / 1000 : 0;
      const dTotal = p ? host.cpuTotal - p.c.cpuTotal : 0;
      const cpu = p && dTotal > 0 ? (100 * (dTotal - (host.cpuIdle - p.c.cpuIdle))) / dTotal : Number.NaN;
      this.o.store
        .ring("server")
        .record(tSec, [
          cpu,
          host.memoryUsedBytes,
          host.memoryTotalBytes,
          host.load1,
          rate(host.diskReadBytes, p?.c.diskReadBytes, secs),
          rate(host.diskWriteBytes, p?.c.diskWriteBytes, secs),
          rate(host.netRxBytes, p?.c.netRxBytes, secs),
          rate(host.netTxBytes, p?.c.netTxBytes, secs),
        ]);
      this.prevHost = { at, c: host };
    }

    // the server's sample above does not depend on the engine; a hung engine fails this round only
    const containers = await withTimeout(this.o.sources.appContainers(), this.o.dockerTimeoutMs ?? 5000, "the Docker engine's list of containers");
    const seen = new Map<string, Prev<ContainerCounters>>();
    for (const { appId, containerId, bridge } of containers) {
      // one app's failure (a vanished cgroup, EIO/ENOSPC on its ring) loses that app's sample only
      try {
        this.recordApp(appId, containerId, bridge, at, tSec, seen);
      } catch (err) {
        this.warnLimited(`app ${appId} ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err, "metrics: an app's sample failed");
      }
    }
    this.prevApps = seen;
    this.o.sources.retainContainers?.(new Set(containers.map((c) => c.containerId)));

    if (at - this.lastSweep >= (this.o.sweepMs ?? 3_600_000)) {
      this.lastSweep = at;
      await this.sweep();
    }
  }

  private recordApp(appId: string, containerId: string, bridge: string | undefined, at: number, tSec: number, seen: Map<string, Prev<ContainerCounters>>): void {
    const c = this.o.sources.container(containerId, bridge);
    if (!c) return;
    const key = `${appId}/${containerId}`;
    const p = this.prevApps.get(key);
    const secs = p ? (at - p.at) / 1000 : 0;
    const cpu = p && secs > 0 && c.cpuNs >= p.c.cpuNs ? ((c.cpuNs - p.c.cpuNs) / 1e9 / secs) * 100 : Number.NaN;
    const sameNet = !p || p.c.netSource === c.netSource;
    this.o.store.ring(`app-${appId}`).record(tSec, [
      cpu,
      c.memoryBytes,
      c.memoryLimitBytes ?? Number.NaN,
      rate(c.ioReadBytes, p?.c.ioReadBytes, secs),
      rate(c.ioWriteBytes, p?.c.ioWriteBytes, secs),
      // counters from another source than the round before (bridge vs /proc) are not comparable: no rate, no bogus spike
      sameNet ? rate(c.netRxBytes ?? Number.NaN, p?.c.netRxBytes, secs) : Number.NaN,
      sameNet ? rate(c.netTxBytes ?? Number.NaN, p?.c.netTxBytes, secs) : Number.NaN,
    ]);
    seen.set(key, { at, c });
  }

  /** Drops the series of apps whose row is gone (decision: an app's graphs go with its data, at the purge). */
  async sweep(): Promise<string[]> {
    const dropped: string[] = [];
    for (const id of this.o.store.appIds()) {
      if (await this.o.appExists(id)) continue;
      this.o.store.dropApp(id);
      dropped.push(id);
    }
    if (dropped.length) this.o.log.info({ apps: dropped }, "dropped the metrics of removed apps");
    return dropped;
  }

  private window(range: MetricsRange) {
    const r = RANGES[range];
    const to = Math.floor(this.now() / 1000);
    return { range, stepSeconds: r.step, intervalSeconds: this.intervalMs / 1000, from: (to - r.seconds) * 1000, to: to * 1000, fromSec: to - r.seconds, toSec: to };
  }

  private seriesOf<T extends readonly string[]>(names: T, ring: RingFile | null, range: MetricsRange, fromSec: number, toSec: number) {
    const avg = Object.fromEntries(names.map((n) => [n, [] as MetricPoint[]])) as Record<T[number], MetricPoint[]>;
    const max = Object.fromEntries(names.map((n) => [n, [] as MetricPoint[]])) as Record<T[number], MetricPoint[]>;
    if (!ring) return { series: avg, max };
    const push = (t: number, a: number[], m: number[]) => {
      names.forEach((n: T[number], i) => {
        if (Number.isFinite(a[i]!)) avg[n].push([t * 1000, a[i]!]);
        if (Number.isFinite(m[i]!)) max[n].push([t * 1000, m[i]!]);
      });
    };
    if (range === "1h") for (const p of ring.readFine(fromSec, toSec)) push(p.t, p.values, p.values);
    else {
      const coarse = ring.readCoarse(fromSec, toSec);
      const points = RANGES[range].step === COARSE.step ? coarse : mergeCoarse(coarse, RANGES[range].step);
      for (const p of points) push(p.t, p.avg, p.max);
    }
    return { series: avg, max };
  }

  appMetrics(appId: string, range: MetricsRange): AppMetricsResponse {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(appId)) throw new HearthError("not_found", "no such app");
    const w = this.window(range);
    const { fromSec, toSec, ...rest } = w;
    return { appId, ...rest, ...this.seriesOf(APP_METRICS, this.o.store.existingRing(`app-${appId}`), range, fromSec, toSec) };
  }

  serverMetrics(range: MetricsRange): ServerMetricsResponse {
    const w = this.window(range);
    const { fromSec, toSec, ...rest } = w;
    const s = this.o.sources;
    const filesystems: FilesystemUsage[] = [];
    for (const m of s.mounts()) {
      const u = s.space(m.mount);
      if (u && u.sizeBytes > 0) filesystems.push({ ...m, ...u });
    }
    const data = s.space(this.o.dataDir);
    const dataFs = data ? mountOf(this.o.dataDir, filesystems) : null;
    return {
      ...rest,
      ...this.seriesOf(SERVER_METRICS, this.o.store.ring("server"), range, fromSec, toSec),
      overview: {
        version: this.o.version,
        hostname: hostname(),
        uptimeSeconds: s.uptimeSeconds(),
        boxUptimeSeconds: Math.floor((this.now() - this.o.startedAt) / 1000),
        cpuCores: s.cpuCores(),
        memoryTotalBytes: s.host()?.memoryTotalBytes ?? 0,
        filesystems,
        dataDir: data ? { mount: this.o.dataDir, device: dataFs?.device ?? "", fsType: dataFs?.fsType ?? "", ...data } : null,
      },
    };
  }
}
