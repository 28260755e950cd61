import { HearthError, isHearthError } from "@hearth/contracts";
import type { DnsProvider, DnsRecordSet, DnsRecordType } from "./provider.ts";
import { RECORD_TYPES, canonicalValues, nameInZone, normalizeName, validTtl } from "./names.ts";

/**
 * What every provider does the same way: names are normalized and must be inside the zone,
 * values are validated and canonical (so "the same record" means the same thing for every
 * provider), `upsert` with no values deletes the set, and anything that is not already a
 * HearthError becomes an `external` one naming the provider and zone. Subclasses only
 * speak their protocol.
 */
export abstract class BaseDnsProvider implements DnsProvider {
  abstract readonly kind: string;
  readonly zone: string;

  constructor(zone: string) {
    this.zone = normalizeName(zone, "zone");
  }

  /** "rfc2136 provider for zone example.com (ns1.example.com:53)" */
  protected abstract describe(): string;
  protected abstract doGet(name: string, type: DnsRecordType): Promise<DnsRecordSet | null>;
  protected abstract doUpsert(set: DnsRecordSet): Promise<void>;
  protected abstract doRemove(name: string, type: DnsRecordType, values?: string[]): Promise<void>;
  protected abstract doVerify(): Promise<void>;

  private checkType(type: DnsRecordType): void {
    if (!RECORD_TYPES.includes(type)) throw new HearthError("invalid", `record type ${String(type)} is not supported (A, AAAA, TXT, CNAME)`);
  }

  async get(name: string, type: DnsRecordType): Promise<DnsRecordSet | null> {
    const n = nameInZone(name, this.zone);
    this.checkType(type);
    return this.guard(`reading ${n} ${type}`, () => this.doGet(n, type));
  }

  async upsert(set: DnsRecordSet): Promise<void> {
    const n = nameInZone(set.name, this.zone);
    this.checkType(set.type);
    const values = canonicalValues(set.type, set.values, n);
    if (values.length === 0) return this.remove(n, set.type);
    const ttl = validTtl(set.ttl, n);
    return this.guard(`setting ${n} ${set.type}`, () => this.doUpsert({ name: n, type: set.type, values, ttl }));
  }

  async remove(name: string, type: DnsRecordType, values?: string[]): Promise<void> {
    const n = nameInZone(name, this.zone);
    this.checkType(type);
    const vs = values === undefined ? undefined : canonicalValues(type, values, n);
    if (vs !== undefined && vs.length === 0) return;
    return this.guard(`removing ${n} ${type}`, () => this.doRemove(n, type, vs));
  }

  async verify(): Promise<void> {
    return this.guard("checking access", () => this.doVerify());
  }

  private async guard<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isHearthError(e)) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      throw new HearthError("external", `${this.describe()}: ${action} failed: ${msg}`, { cause: e });
    }
  }
}
