import { HearthError } from "@hearth/contracts";
import { canonicalValues, describeValues, normalizeName } from "./names.ts";
import type { DnsProvider, DnsRecordType } from "./provider.ts";

export interface AppRecordIps {
  ipv4?: string;
  ipv6?: string;
}

export interface EnsureAppRecordResult {
  /** False when the records were already exactly right (nothing written). */
  changed: boolean;
}

/**
 * Points `fqdn` at this server: A for `ipv4`, AAAA for `ipv6`.
 *
 * Hearth never silently takes over a name. Everything is checked before anything is
 * written, and without `overwrite` a `conflict` is thrown (naming what is there) when:
 *  - an A/AAAA record exists with other values;
 *  - an AAAA (or A) record exists for a family this server has no address for — left in
 *    place it would send those clients elsewhere;
 *  - a CNAME exists at the name (it cannot coexist with A/AAAA).
 * With `overwrite`, those are replaced or removed. Running it again is a no-op.
 */
export async function ensureAppRecord(provider: DnsProvider, fqdn: string, ips: AppRecordIps, opts: { overwrite: boolean; ttl?: number }): Promise<EnsureAppRecordResult> {
  const name = normalizeName(fqdn);
  const want: Record<"A" | "AAAA", string[]> = {
    A: ips.ipv4 ? canonicalValues("A", [ips.ipv4], name) : [],
    AAAA: ips.ipv6 ? canonicalValues("AAAA", [ips.ipv6], name) : [],
  };
  if (want.A.length === 0 && want.AAAA.length === 0) {
    throw new HearthError("invalid", `no IP address to point ${name} at: set the server's public IPv4 or IPv6 address`);
  }
  const ttl = opts.ttl ?? 300;

  const [a, aaaa, cname] = await Promise.all([provider.get(name, "A"), provider.get(name, "AAAA"), provider.get(name, "CNAME")]);
  const current: Record<"A" | "AAAA", string[]> = { A: a?.values ?? [], AAAA: aaaa?.values ?? [] };

  const conflicts: string[] = [];
  if (cname) conflicts.push(`CNAME ${describeValues(cname.values)}`);
  for (const type of ["A", "AAAA"] as const) {
    const cur = current[type];
    if (cur.length === 0) continue;
    const same = cur.length === want[type].length && cur.every((v) => want[type].includes(v));
    if (!same) conflicts.push(`${type} ${describeValues(cur)}`);
  }
  if (conflicts.length > 0 && !opts.overwrite) {
    const wanted = [want.A.length ? `A ${want.A[0]}` : "", want.AAAA.length ? `AAAA ${want.AAAA[0]}` : ""].filter(Boolean).join(" and ");
    throw new HearthError("conflict", `${name} already has DNS records that Hearth would overwrite: ${conflicts.join("; ")} (Hearth wants ${wanted}). ` + `Remove them, or confirm overwriting them.`, {
      details: { name, existing: { A: current.A, AAAA: current.AAAA, CNAME: cname?.values ?? [] }, wanted: want },
    });
  }

  let changed = false;
  if (cname) {
    await provider.remove(name, "CNAME");
    changed = true;
  }
  for (const type of ["A", "AAAA"] as const) {
    const cur = type === "A" ? a : aaaa;
    const values = want[type];
    if (values.length === 0) {
      if (cur) {
        await provider.remove(name, type);
        changed = true;
      }
      continue;
    }
    const same = cur !== null && cur.ttl === ttl && cur.values.length === values.length && cur.values.every((v) => values.includes(v));
    if (!same) {
      await provider.upsert({ name, type, values, ttl });
      changed = true;
    }
  }
  return { changed };
}

/**
 * Removes the app's A/AAAA records. With `ips`, only those values are removed, so a record
 * someone re-pointed elsewhere after the install is left alone; without, the whole sets go.
 * Idempotent.
 */
export async function removeAppRecord(provider: DnsProvider, fqdn: string, ips?: AppRecordIps): Promise<void> {
  const name = normalizeName(fqdn);
  const plan: [DnsRecordType, string | undefined][] = [
    ["A", ips?.ipv4],
    ["AAAA", ips?.ipv6],
  ];
  for (const [type, ip] of plan) {
    if (ips === undefined) await provider.remove(name, type);
    else if (ip) await provider.remove(name, type, [ip]);
  }
}
