import { randomUUID } from "node:crypto";
import type { Db, DnsRecord, Prisma } from "../client";

/** DnsRecord rows: the records box made at a DNS provider, and for which app, so it removes only its own. */
type Client = Db | Prisma.TransactionClient;

export async function saveDnsRecord(db: Client, r: { domain: string; fqdn: string; type: "A" | "AAAA"; value: string; appId: string | null }): Promise<void> {
  await db.dnsRecord.upsert({
    where: { fqdn_type: { fqdn: r.fqdn, type: r.type } },
    create: { id: randomUUID(), domain: r.domain, fqdn: r.fqdn, type: r.type, value: r.value, appId: r.appId },
    update: { value: r.value, appId: r.appId, domain: r.domain },
  });
}

/** The records made for `appId`, optionally only on `domain` and only those whose name is not in `exceptFqdns`. */
export async function listDnsRecordsOf(db: Client, appId: string | null, opts: { domain?: string; exceptFqdns?: readonly string[] } = {}): Promise<DnsRecord[]> {
  return db.dnsRecord.findMany({
    where: { appId, ...(opts.domain === undefined ? {} : { domain: opts.domain }), ...(opts.exceptFqdns === undefined ? {} : { fqdn: { notIn: [...opts.exceptFqdns] } }) },
  });
}

/** No-op when the row is gone. */
export async function deleteDnsRecord(db: Client, id: string): Promise<void> {
  await db.dnsRecord.deleteMany({ where: { id } });
}
