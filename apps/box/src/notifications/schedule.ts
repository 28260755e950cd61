import { statfs } from "node:fs/promises";
import { appExists, listAcmeCertificatesByNames, type Db } from "@hearth/db";
import { sweep } from "./notices";

/** How often box sweeps the open notifications (and the disk). */
export const NOTIFICATION_SWEEP_MS = 5 * 60_000;

/**
 * Periodic sweep (see notices.ts `sweep`): closes what went away without telling, raises or
 * closes "disk nearly full" for the data directory. Once at start, then every 5 minutes.
 */
export class NotificationSweep {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly d: {
      db: Db;
      dataDir: string;
      servedNames: () => Promise<Set<string>>;
      log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
      intervalMs?: number;
      /** after each sweep (the email digest) */
      after?: () => Promise<void>;
    },
  ) {}

  start(): void {
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.d.intervalMs ?? NOTIFICATION_SWEEP_MS);
    this.timer.unref();
  }

  async runOnce(): Promise<void> {
    if (this.running) return;
    this.running = (async () => {
      try {
        const served = await this.d.servedNames();
        const r = await sweep({
          db: this.d.db,
          certificateState: async (namesKey) => {
            const [row] = await listAcmeCertificatesByNames(this.d.db, [namesKey]);
            if (!row || !(row.names as string[]).some((n) => served.has(n) || n.startsWith("*."))) return "gone";
            return row.failures > 0 && row.lastError ? "failing" : "ok";
          },
          appExists: (id) => appExists(this.d.db, id),
          diskUsed: async () => {
            const s = await statfs(this.d.dataDir);
            return s.blocks > 0 ? { path: this.d.dataDir, used: 1 - s.bavail / s.blocks } : null;
          },
        });
        if (r.closed > 0) this.d.log.info({ closed: r.closed }, "notifications closed: their cause went away");
        await this.d.after?.();
      } catch (err) {
        this.d.log.warn({ err: (err as Error).message }, "the notification sweep failed; trying again later");
      }
    })().finally(() => (this.running = null));
    await this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }
}
