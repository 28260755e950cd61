import { HearthError, type CertificateView } from "@hearth/contracts";
import { activeTasksOfType, getCertificate, listCertificates, queueCertificateRenewal, recordEvent, type Task } from "@hearth/db";
import { certificateViewOf } from "../views";
import type { AdminContext } from "./context";

export async function certificateViews(app: AdminContext, now: Date = new Date()): Promise<CertificateView[]> {
  return (await listCertificates(app.db)).map((c) => certificateViewOf(c, now));
}

/**
 * Queues a certificate.renew task: one certificate (forced: renewed even when not due) or,
 * without an id, every due one. While the same renewal is still pending or running, that
 * task is returned instead of queueing another (a double click orders nothing twice).
 */
export async function requestRenewal(app: AdminContext, certificateId: string | null, actor: { id: string; username: string; ip: string }): Promise<{ task: Task; queued: boolean }> {
  let names = "all due certificates";
  if (certificateId !== null) {
    const cert = certificateId.length <= 36 ? await getCertificate(app.db, certificateId) : null;
    if (!cert) throw new HearthError("not_found", "No such certificate");
    names = (cert.names as string[]).join(", ");
  }
  const active = await activeTasksOfType(app.db, "certificate.renew");
  const same = active.find((t) => ((t.args as { certificateId?: string } | null)?.certificateId ?? null) === certificateId);
  if (same) return { task: same, queued: false };
  const task = await queueCertificateRenewal(app.db, certificateId ? { certificateId, force: true } : {}, actor.id);
  await recordEvent(app.db, { action: "certificate.renew", actorId: actor.id, actorName: actor.username, sourceIp: actor.ip, target: names, data: { taskId: task.id } });
  return { task, queued: true };
}
