import { isHearthError, NETWORK_SETTINGS_KEY, type NetworkSettings } from "@hearth/contracts";
import { deleteDnsRecord, getSetting, listDnsRecordsOf, recordEvent, saveDnsRecord, type Db } from "@hearth/db";
import { detectPublicIp, ensureAppRecord, removeAppRecord, type AppRecordIps } from "../dns";
import { TaskError } from "../tasks/registry";
import type { OpenDomain } from "./domain-access";

/**
 * A/AAAA records for the names Hearth serves, on domains with an API DNS provider.
 *
 * What box created is remembered in DnsRecord rows (fqdn, type, value), so it removes
 * exactly what it made: on uninstall, when an app moves, and when a name stops being
 * served. A record somebody else points elsewhere is never taken over unless the admin
 * said so (`overwriteDns` on install/configure); without it the task fails with
 * `dns_conflict` naming the record.
 */

/** The addresses app records point at: the admin's setting, else what the machine has. */
export async function serverIps(db: Db): Promise<AppRecordIps> {
  const s = await getSetting<NetworkSettings>(db, NETWORK_SETTINGS_KEY);
  if (s && (s.ipv4 || s.ipv6)) return { ...(s.ipv4 ? { ipv4: s.ipv4 } : {}), ...(s.ipv6 ? { ipv6: s.ipv6 } : {}) };
  const d = await detectPublicIp();
  return { ...(d.ipv4 ? { ipv4: d.ipv4 } : {}), ...(d.ipv6 ? { ipv6: d.ipv6 } : {}) };
}

export interface RecordContext {
  log(line: string): void;
}

/**
 * Makes the records of `fqdns` (all on `domain`) point here and forgets/removes the
 * records box made earlier for `owner` (an app id, or null for the dashboard) on this
 * domain that are no longer wanted.
 */
export async function syncRecords(db: Db, domain: OpenDomain, owner: string | null, fqdns: string[], ctx: RecordContext, opts: { overwrite?: boolean; ips?: AppRecordIps } = {}): Promise<void> {
  if (!domain.dns) return;
  const ips = opts.ips ?? (await serverIps(db));
  for (const fqdn of fqdns) {
    try {
      const r = await ensureAppRecord(domain.dns, fqdn, ips, { overwrite: opts.overwrite === true });
      ctx.log(r.changed ? `DNS: ${fqdn} now points at ${describeIps(ips)}` : `DNS: ${fqdn} already points at ${describeIps(ips)}`);
    } catch (e) {
      if (isHearthError(e) && e.code === "conflict") {
        await recordEvent(db, { action: "dns.record_conflict", target: fqdn, data: { domain: domain.domain } }).catch(() => {});
        throw new TaskError(e.message, "dns_conflict");
      }
      if (isHearthError(e)) throw new TaskError(`DNS (${domain.provider}) for ${fqdn}: ${e.message}`, e.code === "invalid" ? "invalid" : "external");
      throw e;
    }
    for (const [type, value] of [
      ["A", ips.ipv4],
      ["AAAA", ips.ipv6],
    ] as const) {
      if (!value) continue;
      await saveDnsRecord(db, { domain: domain.domain, fqdn, type, value, appId: owner });
    }
  }
  const stale = await listDnsRecordsOf(db, owner, { domain: domain.domain, exceptFqdns: fqdns });
  for (const r of stale) await removeRecord(db, domain, r, ctx);
}

/** Removes every record box made for `owner` (all domains; `domains` opens them). */
export async function removeRecordsOf(db: Db, owner: string, domains: (name: string) => Promise<OpenDomain | null>, ctx: RecordContext): Promise<void> {
  const rows = await listDnsRecordsOf(db, owner);
  for (const r of rows) {
    const d = await domains(r.domain);
    if (d) await removeRecord(db, d, r, ctx);
    else await deleteDnsRecord(db, r.id);
  }
}

/**
 * Removes the records on a domain that box made for `owner` whose names are not in
 * `keep`, on every domain (an app moved from one domain to another).
 */
export async function pruneRecordsOf(db: Db, owner: string, keep: string[], domains: (name: string) => Promise<OpenDomain | null>, ctx: RecordContext): Promise<void> {
  const rows = await listDnsRecordsOf(db, owner, { exceptFqdns: keep });
  for (const r of rows) {
    const d = await domains(r.domain);
    if (d) await removeRecord(db, d, r, ctx);
    else await deleteDnsRecord(db, r.id);
  }
}

async function removeRecord(db: Db, domain: OpenDomain, r: { id: string; fqdn: string; type: string; value: string }, ctx: RecordContext): Promise<void> {
  if (domain.dns) {
    try {
      // only the value box wrote: a record somebody re-pointed since is left alone
      await removeAppRecord(domain.dns, r.fqdn, r.type === "A" ? { ipv4: r.value } : { ipv6: r.value });
      ctx.log(`DNS: removed ${r.type} ${r.fqdn} ${r.value}`);
    } catch (e) {
      if (isHearthError(e)) throw new TaskError(`DNS (${domain.provider}): removing ${r.type} ${r.fqdn}: ${e.message}`, "external");
      throw e;
    }
  }
  await deleteDnsRecord(db, r.id);
}

function describeIps(ips: AppRecordIps): string {
  return [ips.ipv4, ips.ipv6].filter(Boolean).join(" and ");
}
