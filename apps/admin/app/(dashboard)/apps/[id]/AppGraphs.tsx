"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { AppMetricsResponse, MetricsRange } from "@hearth/contracts";
import { api } from "../../../../lib/client/api";
import { ErrorAlert } from "../../../components/ErrorAlert";
import { MetricChart } from "../../../components/MetricChart";
import { RangeSwitch } from "../../../components/RangeSwitch";
import styles from "../../../components/MetricChart.module.css";

/**
 * An app's graphs (GET /api/v1/apps/:id/metrics): CPU, memory against its limit, disk I/O and
 * network, over 1 h / 24 h / 30 d, refreshed every interval box samples at. Self-contained:
 * the app page mounts it in its own section (and a tab later).
 */
/** What the graphs wait for: an app that does not run gets no samples; the longer ranges need two of their averaged rows. */
export function emptyGraphsNotice(range: MetricsRange, running: boolean, intervalSeconds: number): string {
  if (!running) return "This app is not running: Hearth records its CPU, memory, disk and network only while it runs.";
  if (range === "24h") return "Not enough samples yet: 5-minute averages appear after 10 minutes; switch to 1 hour for the latest samples.";
  if (range === "30d") return "Not enough samples yet: hourly averages appear after 2 hours; switch to 1 hour for the latest samples.";
  return `Not enough samples yet: Hearth records this app's CPU, memory, disk and network every ${intervalSeconds} s while it runs; the graphs fill in from the first minute.`;
}

export function AppGraphs({ appId, running }: { appId: string; running: boolean }) {
  const [range, setRange] = useState<MetricsRange>("1h");
  const q = useQuery({
    queryKey: ["app-metrics", appId, range],
    queryFn: () => api<AppMetricsResponse>(`/api/v1/apps/${encodeURIComponent(appId)}/metrics?range=${range}`),
    refetchInterval: range === "1h" ? 10_000 : 60_000,
  });
  const m = q.data;
  const samples = m ? m.series.memoryBytes.length : 0;
  return (
    <section className="card" aria-labelledby="graphs-heading">
      <div className={styles.head}>
        <h2 id="graphs-heading">Graphs</h2>
        <RangeSwitch value={range} onChange={setRange} />
      </div>
      <ErrorAlert error={q.error} />
      {q.isPending ? <p className={styles.notice}>Loading…</p> : null}
      {m && samples < 2 ? (
        <p className={styles.notice} role="status">
          {emptyGraphsNotice(range, running, m.intervalSeconds)}
        </p>
      ) : null}
      {m && samples >= 2 ? (
        <div className={styles.grid}>
          <MetricChart title="CPU" unit="percent" lines={[{ label: "CPU (% of one core)", points: m.series.cpuPercent, color: "#2563eb" }]} />
          <MetricChart
            title="Memory"
            unit="bytes"
            lines={[
              { label: "Used", points: m.series.memoryBytes, color: "#7c3aed" },
              { label: "Limit", points: m.series.memoryLimitBytes, color: "#9ca3af" },
            ]}
          />
          <MetricChart
            title="Disk I/O"
            unit="bps"
            lines={[
              { label: "Read", points: m.series.diskReadBps, color: "#059669" },
              { label: "Write", points: m.series.diskWriteBps, color: "#d97706" },
            ]}
          />
          <MetricChart
            title="Network"
            unit="bps"
            lines={[
              { label: "In", points: m.series.netRxBps, color: "#0891b2" },
              { label: "Out", points: m.series.netTxBps, color: "#db2777" },
            ]}
          />
        </div>
      ) : null}
    </section>
  );
}
