"use client";

import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import type { FilesystemUsage, MetricsRange, ServerMetricsResponse } from "@hearth/contracts";
import { api } from "../../../lib/client/api";
import { ErrorAlert } from "../../components/ErrorAlert";
import { formatValue, MetricChart } from "../../components/MetricChart";
import { RangeSwitch } from "../../components/RangeSwitch";
import styles from "../../components/MetricChart.module.css";

function duration(s: number): string {
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : `${m} min`;
}

function Volume({ fs, label }: { fs: FilesystemUsage; label: string }) {
  const used = fs.sizeBytes > 0 ? (fs.usedBytes / fs.sizeBytes) * 100 : 0;
  return (
    <div>
      <div className={styles.head} style={{ marginBottom: 2 }}>
        <span>
          <strong>{label}</strong> <span className={styles.notice}>{fs.device ? `${fs.device} · ${fs.fsType}` : ""}</span>
        </span>
        <span>
          {formatValue(fs.usedBytes, "bytes")} of {formatValue(fs.sizeBytes, "bytes")} used · {formatValue(fs.availableBytes, "bytes")} free
        </span>
      </div>
      <div className={styles.bar} role="meter" aria-label={`${label} used`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(used)}>
        <div className={`${styles.barFill} ${used >= 90 ? styles.barFull : ""}`} style={{ width: `${used}%` }} />
      </div>
    </div>
  );
}

/** The server overview (GET /api/v1/server/metrics): facts, disk space per volume, and the server's graphs with a range switch. */
export function ServerOverview() {
  const [range, setRange] = useState<MetricsRange>("1h");
  const q = useQuery({
    queryKey: ["server-metrics", range],
    queryFn: () => api<ServerMetricsResponse>(`/api/v1/server/metrics?range=${range}`),
    refetchInterval: range === "1h" ? 10_000 : 60_000,
  });
  const m = q.data;
  const o = m?.overview;
  const samples = m ? m.series.memoryUsedBytes.length : 0;
  return (
    <div className="stack">
      <ErrorAlert error={q.error} />
      {o ? (
        <section className="card" aria-labelledby="facts-heading">
          <h2 id="facts-heading">Overview</h2>
          <dl className="props">
            <div>
              <dt>Hearth version</dt>
              <dd>{o.version}</dd>
            </div>
            <div>
              <dt>Host</dt>
              <dd>{o.hostname}</dd>
            </div>
            <div>
              <dt>Up for</dt>
              <dd>{duration(o.uptimeSeconds)}</dd>
            </div>
            <div>
              <dt>Hearth running for</dt>
              <dd>{duration(o.boxUptimeSeconds)}</dd>
            </div>
            <div>
              <dt>CPU cores</dt>
              <dd>{o.cpuCores}</dd>
            </div>
            <div>
              <dt>Memory</dt>
              <dd>{formatValue(o.memoryTotalBytes, "bytes")}</dd>
            </div>
          </dl>
        </section>
      ) : null}
      {o ? (
        <section className="card" aria-labelledby="disks-heading">
          <h2 id="disks-heading">Disk space</h2>
          <div className={styles.volumes}>
            {o.dataDir ? <Volume fs={o.dataDir} label={`Hearth's data (${o.dataDir.mount})`} /> : null}
            {o.filesystems.map((f) => (
              <Volume key={f.device + f.mount} fs={f} label={f.mount} />
            ))}
          </div>
        </section>
      ) : null}
      <section className="card" aria-labelledby="server-graphs-heading">
        <div className={styles.head}>
          <h2 id="server-graphs-heading">Graphs</h2>
          <RangeSwitch value={range} onChange={setRange} />
        </div>
        {q.isPending ? <p className={styles.notice}>Loading…</p> : null}
        {m && samples < 2 ? (
          <p className={styles.notice} role="status">
            Not enough samples yet: Hearth records the server every {m.intervalSeconds} s; the graphs fill in from the first minute.
          </p>
        ) : null}
        {m && samples >= 2 ? (
          <div className={styles.grid}>
            <MetricChart title="CPU" unit="percent" max={100} lines={[{ label: "CPU (all cores)", points: m.series.cpuPercent, color: "#2563eb" }]} />
            <MetricChart
              title="Memory"
              unit="bytes"
              lines={[
                { label: "Used", points: m.series.memoryUsedBytes, color: "#7c3aed" },
                { label: "Total", points: m.series.memoryTotalBytes, color: "#9ca3af" },
              ]}
            />
            <MetricChart title="Load" unit="plain" lines={[{ label: "Load (1 min)", points: m.series.load1, color: "#0f766e" }]} />
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
    </div>
  );
}
