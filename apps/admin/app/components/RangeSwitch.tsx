"use client";

import { METRICS_RANGES, type MetricsRange } from "@hearth/contracts";
import styles from "./MetricChart.module.css";

const LABEL: Record<MetricsRange, string> = { "1h": "1 hour", "24h": "24 hours", "30d": "30 days" };

/** The range of the graphs: 1 h (10 s samples), 24 h (5-minute averages), 30 d (hourly). */
export function RangeSwitch({ value, onChange }: { value: MetricsRange; onChange: (r: MetricsRange) => void }) {
  return (
    <div className={styles.range} role="group" aria-label="Range">
      {METRICS_RANGES.map((r) => (
        <button key={r} type="button" aria-pressed={r === value} onClick={() => onChange(r)}>
          {LABEL[r]}
        </button>
      ))}
    </div>
  );
}
