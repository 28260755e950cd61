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
