"use client";

import { useEffect, useMemo, useRef } from "react";
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

  // the plot is made once per mount and series layout (labels, colours, unit, max); new numbers go in by setData.
  // `lines` is a new array every render (the page polls): these keys change only when what they stand for does.
  const layoutKey = lines.map((l) => `${l.label}\u0000${l.color}`).join("\u0001");
  const dataKey = lines.map((l) => `${l.points.length}:${l.points[0]?.[0]}:${l.points.at(-1)?.[0]}:${l.points.at(-1)?.[1]}`).join("|");
  const latest = useRef(lines);
  latest.current = lines;
  // biome-ignore lint/correctness/useExhaustiveDependencies: dataKey stands for the contents of `lines`
  const data = useMemo(() => alignLines(latest.current) as uPlot.AlignedData, [dataKey]);
  const dataRef = useRef(data);
  dataRef.current = data;
  const plotRef = useRef<uPlot | null>(null);

  // biome-ignore lint/correctness/useExhaustiveDependencies: layoutKey stands for the labels and colours of `lines`
  useEffect(() => {
    const el = box.current;
    if (!el || !hasData) return;
    let cancelled = false;
    let observer: ResizeObserver | null = null;
    void import("uplot").then(({ default: UPlot }) => {
      if (cancelled) return;
      const ls = latest.current;
      const opts: uPlot.Options = {
        width: Math.max(200, el.clientWidth),
        height: 180,
        legend: { show: true, live: true },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: max !== undefined ? { range: (_u, min, mx) => [0, Math.max(max, mx, min)] } : { range: (_u, _min, mx) => [0, mx > 0 ? mx * 1.1 : 1] } },
        axes: [{ stroke: "currentColor" }, { stroke: "currentColor", size: 70, values: (_u, splits) => splits.map((v) => formatValue(v, unit)) }],
        series: [{}, ...ls.map((l) => ({ label: l.label, stroke: l.color, width: 1.5, fill: `${l.color}22`, value: (_u: uPlot, v: number | null) => formatValue(v, unit) }))],
      };
      const plot = new UPlot(opts, dataRef.current, el);
      plotRef.current = plot;
      observer = new ResizeObserver(() => plot.setSize({ width: Math.max(200, el.clientWidth), height: 180 }));
      observer.observe(el);
    });
    return () => {
      cancelled = true;
      observer?.disconnect();
      plotRef.current?.destroy();
      plotRef.current = null;
    };
  }, [layoutKey, unit, max, hasData]);

  // new samples: the same plot, new data
  useEffect(() => {
    plotRef.current?.setData(data);
  }, [data]);

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
