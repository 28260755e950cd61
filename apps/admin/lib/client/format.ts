/** Dates as the dashboard shows them, in the browser's locale; `empty` when there is none. */
export function fmtDate(iso: string | null, empty = "—"): string {
  return iso ? new Date(iso).toLocaleDateString(undefined, { dateStyle: "medium" }) : empty;
}

export function fmtDateTime(iso: string | null, empty = "—"): string {
  return iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : empty;
}

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86_400_000],
  ["month", 30 * 86_400_000],
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/**
 * "in 89 days", "3 hours ago", "now": the largest unit that fits, rounded down, so that
 * "in 1 day" never means 23 hours. Days up to 100 (a 90-day certificate reads in days), then
 * months.
 */
export function fmtRelative(iso: string | null, now: Date = new Date(), locale?: string, empty = "—"): string {
  if (!iso) return empty;
  const diff = new Date(iso).getTime() - now.getTime();
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  for (const [unit, ms] of UNITS) {
    if (unit === "month" && abs < 100 * 86_400_000) continue;
    if (abs >= ms) return rtf.format(Math.sign(diff) * Math.floor(abs / ms), unit);
  }
  return rtf.format(0, "second");
}
