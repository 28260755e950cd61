import { createHash } from "node:crypto";
import cron, { type ScheduledTask } from "node-cron";
import { RENEW_BEFORE_DAYS } from "@hearth/contracts";
import { activeTasksOfType, countDueCertificates, queueCertificateRenewal, type Db } from "@hearth/db";
import { renewalCronExpression } from "../certs/renewal";

/**
 * Twice a day, at a minute and hour fixed per box (derived from its id, so restarts keep
 * it and different servers spread over the day), queue a `certificate.renew` task unless
 * one is already waiting or running. The task itself decides what is due (30 days before
 * expiry) and honours each certificate's backoff after failures. At start, a renewal is
 * queued at once when something is already due or its retry time has come.
 */
export class RenewalSchedule {
  private task: ScheduledTask | null = null;
  readonly expression: string;

  constructor(private readonly d: { db: Db; boxId: string; wake: () => void; log: { info(o: object, m?: string): void; warn(o: object, m?: string): void } }) {
    const seed = createHash("sha256").update(`hearth-renewal:${d.boxId}`).digest();
    let i = 0;
    this.expression = renewalCronExpression(() => seed[i++ % seed.length]! / 256);
  }

  async start(): Promise<void> {
    this.task = cron.schedule(this.expression, () => void this.queue("schedule"), { name: "certificate-renewal", noOverlap: true });
    this.d.log.info({ cron: this.expression }, "certificate renewal scheduled");
    const now = new Date();
    const due = await countDueCertificates(this.d.db, new Date(now.getTime() + RENEW_BEFORE_DAYS * 86_400_000), now);
    if (due > 0) await this.queue("start");
  }

  /** Queues a renewal unless one is pending or running. */
  async queue(reason: string): Promise<boolean> {
    try {
      const active = (await activeTasksOfType(this.d.db, "certificate.renew")).length;
      if (active > 0) return false;
      await queueCertificateRenewal(this.d.db, {});
      this.d.wake();
      this.d.log.info({ reason }, "certificate renewal queued");
      return true;
    } catch (e) {
      this.d.log.warn({ err: (e as Error).message }, "could not queue the certificate renewal");
      return false;
    }
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    this.task = null;
  }
}
