"use client";

import { useEffect, useRef } from "react";
import type uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import styles from "./MetricChart.module.css";

/** One line of a chart: a series of [ms, value] from the metrics API. */
export interface ChartLine {
  label: string;
  points: readonly (readonly [number, number])[];
  color: string;
}

/** Values as the admin reads them: bytes in KiB/MiB/GiB, rates per second, percentages. */
export function formatValue(v: number | null | undefined, unit: "percent" | "bytes" | "bps" | "plain"): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  if (unit === "percent") return `${v.toFixed(v < 10 ? 1 : 0)} %`;
  if (unit === "plain") return v.toFixed(2);
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let x = Math.abs(v);
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  const s = `${x.toFixed(x < 10 && x !== 0 ? 1 : 0)} ${units[i]}`;
  return unit === "bps" ? `${s}/s` : s;
}

/** The lines on one time axis (seconds, as uPlot wants), null where a line has no sample at a time another has. */
export function alignLines(lines: readonly ChartLine[]): [number[], ...(number | null)[][]] {
  const times = [...new Set(lines.flatMap((l) => l.points.map((p) => p[0])))].sort((a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const ys = lines.map((l) => {
    const y: (number | null)[] = new Array(times.length).fill(null);
    for (const [t, v] of l.points) y[index.get(t)!] = v;
    return y;
  });
  return [times.map((t) => t / 1000), ...ys];
}

/**
 * A time-series chart drawn with uPlot (apps/admin/README.md says why uPlot). It sizes itself
 * to its box and redraws on resize; the numbers of the newest sample are shown under it for
 * screen readers and for reading without hovering.
 */
export function MetricChart({ title, lines, unit, max }: { title: string; lines: readonly ChartLine[]; unit: "percent" | "bytes" | "bps" | "plain"; max?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const hasData = lines.some((l) => l.points.length > 0);

  useEffect(() => {
    const el = box.current;
    if (!el || !hasData) return;
    let plot: uPlot | null = null;
    let cancelled = false;
    let observer: ResizeObserver | null = null;
    void import("uplot").then(({ default: UPlot }) => {
      if (cancelled) return;
      const opts: uPlot.Options = {
        width: Math.max(200, el.clientWidth),
        height: 180,
        legend: { show: true, live: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: max !== undefined ? { range: (_u, min, mx) => [0, Math.max(max, mx, min)] } : { range: (_u, _min, mx) => [0, mx > 0 ? mx * 1.1 : 1] } },
        axes: [{ stroke: "currentColor" }, { stroke: "currentColor", size: 70, values: (_u, splits) => splits.map((v) => formatValue(v, unit)) }],
        series: [{}, ...lines.map((l) => ({ label: l.label, stroke: l.color, width: 1.5, fill: `${l.color}22`, value: (_u: uPlot, v: number | null) => formatValue(v, unit) }))],
      };
      plot = new UPlot(opts, alignLines(lines) as uPlot.AlignedData, el);
      observer = new ResizeObserver(() => plot?.setSize({ width: Math.max(200, el.clientWidth), height: 180 }));
      observer.observe(el);
    });
    return () => {
      cancelled = true;
      observer?.disconnect();
      plot?.destroy();
    };
  }, [lines, unit, max, hasData]);

  return (
    <figure className={styles.chart} data-testid={`chart-${title}`}>
      <figcaption className={styles.title}>{title}</figcaption>
      {hasData ? (
        <>
          <div ref={box} className={styles.plot} />
          <p className={styles.latest}>
            {lines.map((l) => (
              <span key={l.label}>
                {l.label}: {formatValue(l.points.at(-1)?.[1], unit)}
              </span>
            ))}
          </p>
        </>
      ) : (
        <p className={styles.empty}>No samples in this range yet.</p>
      )}
    </figure>
  );
}
