"use client";

import { useEffect, useRef } from "react";
import type uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { alignLines, formatValue, type ChartLine } from "../../lib/client/metrics-format";
import styles from "./MetricChart.module.css";

export { formatValue, type ChartLine };

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
