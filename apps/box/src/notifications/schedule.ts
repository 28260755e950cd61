import { statfs } from "node:fs/promises";
import { HEARTH_RELEASE_KEY, hearthReleaseState, type VersionRef } from "@hearth/contracts";
import { appRunStatus, getSetting, listAcmeCertificatesByNames, type Db } from "@hearth/db";
import { sweep } from "./notices";

/** How often box sweeps the open notifications (and the disk). */
export const NOTIFICATION_SWEEP_MS = 5 * 60_000;

/**
 * Periodic sweep (see notices.ts `sweep`): closes what went away without telling, raises or
 * closes "disk nearly full" for the data directory, "backups overdue" and "updates available"
 * (the catalog's newer versions, the release check's newer Hearth). Once at start, then every 5 minutes;
 * delivery (mail, webhook) every 30 s.
 */
export class NotificationSweep {
  private timer: NodeJS.Timeout | null = null;
  private deliverTimer: NodeJS.Timeout | null = null;
  private delivering: Promise<unknown> | null = null;
  private readonly stopping = new AbortController();
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly d: {
      db: Db;
      dataDir: string;
      servedNames: () => Promise<Set<string>>;
      log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
      intervalMs?: number;
      /** mail and webhook of newly opened notifications (deliver.ts), every `deliverMs`; `signal` aborts at stop() */
      deliver?: (signal: AbortSignal) => Promise<void>;
      deliverMs?: number;
      /** the catalog's versions by manifest id (box: readCatalogManifests of HEARTH_CATALOG_DIRS), for "updates available" */
      catalog?: () => Map<string, VersionRef[]>;
    },
  ) {}

  start(): void {
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.d.intervalMs ?? NOTIFICATION_SWEEP_MS);
    this.timer.unref();
    if (this.d.deliver) {
      this.deliverTimer = setInterval(() => void this.deliverOnce(), this.d.deliverMs ?? 30_000);
      this.deliverTimer.unref();
    }
  }

  /** One delivery pass (never two at once); its errors are logged. */
  async deliverOnce(): Promise<void> {
    if (!this.d.deliver || this.delivering || this.stopping.signal.aborted) return;
    this.delivering = this.d
      .deliver(this.stopping.signal)
      .catch((err) => this.d.log.warn({ err: (err as Error).message }, "delivering notifications failed; trying again later"))
      .finally(() => (this.delivering = null));
    await this.delivering;
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
          appStatus: (id) => appRunStatus(this.d.db, id),
          diskUsed: async () => {
            const s = await statfs(this.d.dataDir);
            return s.blocks > 0 ? { path: this.d.dataDir, used: 1 - s.bavail / s.blocks } : null;
          },
          ...(this.d.catalog ? { catalog: async () => this.d.catalog!() } : {}),
          hearthRelease: async () => {
            const r = hearthReleaseState.safeParse(await getSetting(this.d.db, HEARTH_RELEASE_KEY));
            return r.success ? r.data : null;
          },
        });
        if (r.closed > 0) this.d.log.info({ closed: r.closed }, "notifications closed: their cause went away");
      } catch (err) {
        this.d.log.warn({ err: (err as Error).message }, "the notification sweep failed; trying again later");
      }
    })().finally(() => (this.running = null));
    await this.running;
  }

  /**
   * Stops the timers and aborts a delivery in flight without waiting for it: a direct SMTP
   * delivery can take minutes, and box's shutdown must not wait on it (the group was claimed
   * before sending, so it is not sent twice). Waits for a sweep pass (database only).
   */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.deliverTimer) clearInterval(this.deliverTimer);
    this.timer = null;
    this.deliverTimer = null;
    this.stopping.abort(new Error("box is stopping"));
    await this.running;
  }
}
