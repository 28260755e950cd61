import type { VhostSyncResult } from "./vhost-sync";

/**
 * The task-log line an app task writes after each vhost sync, and its reader (bench/scale.ts
 * sums these per install). One format, kept here so writer and reader cannot drift apart:
 *   vhost sync: 412 ms for 31 vhosts; nginx -t 120 ms, reload 9 ms      (an nginx of one's own)
 *   vhost sync: 412 ms for 31 vhosts; nginx -t + reload 140 ms          (the root helper does both)
 *   vhost sync: 35 ms for 31 vhosts; nginx not reloaded (unchanged)
 */
export function vhostSyncLogLine(ms: number, r: VhostSyncResult): string {
  const n = r.nginx;
  const nginx = !n ? "nginx not reloaded (unchanged)" : n.checkMs !== undefined ? `nginx -t ${n.checkMs} ms, reload ${n.reloadMs ?? "?"} ms` : `nginx -t + reload ${n.totalMs} ms`;
  return `vhost sync: ${Math.round(ms)} ms for ${r.vhosts} vhosts; ${nginx}`;
}

export interface VhostSyncFigures {
  /** Each sync's duration (ms), in log order. */
  syncMs: number[];
  /** Each reload's `nginx -t` (ms), or check + reload where the two are one call. */
  checkMs: number[];
  /** How many vhosts the last sync rendered, or null without any sync line. */
  vhosts: number | null;
}

export function parseVhostSyncLines(log: string): VhostSyncFigures {
  const out: VhostSyncFigures = { syncMs: [], checkMs: [], vhosts: null };
  for (const m of log.matchAll(/vhost sync: (\d+) ms for (\d+) vhosts; ([^\n]*)/g)) {
    out.syncMs.push(Number(m[1]));
    out.vhosts = Number(m[2]);
    const t = /nginx -t (\d+) ms/.exec(m[3]!) ?? /nginx -t \+ reload (\d+) ms/.exec(m[3]!);
    if (t) out.checkMs.push(Number(t[1]));
  }
  return out;
}
