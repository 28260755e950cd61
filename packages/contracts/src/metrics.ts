import { z } from "zod";

/**
 * Metrics (graphs): box samples every app and the server at a fixed interval into a bounded
 * store (apps/box/src/metrics) and serves them on its socket; admin passes them on at
 * `GET /api/v1/apps/:id/metrics?range=…` and `GET /api/v1/server/metrics?range=…`.
 * A series is a list of `[timestamp in ms since the epoch, value]`, oldest first, only the
 * samples that exist (a gap is a gap, never a made-up 0).
 */
export const METRICS_RANGES = ["1h", "24h", "30d"] as const;
export type MetricsRange = (typeof METRICS_RANGES)[number];

export const metricsQuery = z.strictObject({
  range: z.enum(METRICS_RANGES, { error: `range must be one of ${METRICS_RANGES.join(", ")}` }).default("1h"),
});
export type MetricsQuery = z.infer<typeof metricsQuery>;

export const metricPoint = z.tuple([z.number().int(), z.number()]);
export type MetricPoint = z.infer<typeof metricPoint>;
export const metricSeries = z.array(metricPoint);

/** Per app: CPU in % of one core, memory in bytes (used without page cache, and the limit), disk and network in bytes per second. */
export const APP_METRICS = ["cpuPercent", "memoryBytes", "memoryLimitBytes", "diskReadBps", "diskWriteBps", "netRxBps", "netTxBps"] as const;
/** The server: CPU in % of all cores, memory used/total, 1-minute load, disk and network in bytes per second. */
export const SERVER_METRICS = ["cpuPercent", "memoryUsedBytes", "memoryTotalBytes", "load1", "diskReadBps", "diskWriteBps", "netRxBps", "netTxBps"] as const;
export type AppMetricName = (typeof APP_METRICS)[number];
export type ServerMetricName = (typeof SERVER_METRICS)[number];

const seriesOf = <T extends readonly string[]>(names: T) => z.object(Object.fromEntries(names.map((n) => [n, metricSeries])) as { [K in T[number]]: typeof metricSeries });

const window = {
  range: z.enum(METRICS_RANGES),
  /** Seconds between two points of this range (10 for 1h, 300 for 24h, 3600 for 30d). */
  stepSeconds: z.number().int().positive(),
  /** How often box samples, in seconds. */
  intervalSeconds: z.number().positive(),
  from: z.number().int(),
  to: z.number().int(),
};

export const appMetricsResponse = z.object({
  appId: z.string(),
  ...window,
  /** Averages over each step. */
  series: seriesOf(APP_METRICS),
  /** The highest sample within each step (for 1h the samples themselves). */
  max: seriesOf(APP_METRICS),
});
export type AppMetricsResponse = z.infer<typeof appMetricsResponse>;

export const filesystemUsage = z.object({
  mount: z.string(),
  device: z.string(),
  fsType: z.string(),
  sizeBytes: z.number(),
  usedBytes: z.number(),
  availableBytes: z.number(),
});
export type FilesystemUsage = z.infer<typeof filesystemUsage>;

export const serverMetricsResponse = z.object({
  ...window,
  series: seriesOf(SERVER_METRICS),
  max: seriesOf(SERVER_METRICS),
  /** Now, not a series: for the overview. */
  overview: z.object({
    version: z.string(),
    hostname: z.string(),
    uptimeSeconds: z.number(),
    boxUptimeSeconds: z.number(),
    cpuCores: z.number().int(),
    memoryTotalBytes: z.number(),
    filesystems: z.array(filesystemUsage),
    /** The filesystem that holds Hearth's data folder (HEARTH_DATA_DIR), with that path as `mount`. */
    dataDir: filesystemUsage.nullable(),
  }),
});
export type ServerMetricsResponse = z.infer<typeof serverMetricsResponse>;
