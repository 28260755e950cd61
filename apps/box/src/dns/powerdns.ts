import { HearthError } from "@hearth/contracts";
import { BaseDnsProvider } from "./base.ts";
import type { PowerDnsConfig } from "@hearth/contracts";
import { HttpUnreachableError, httpRequest, parseJson, type HttpResult } from "./http.ts";
import { canonicalIPv6 } from "./names.ts";
import type { DnsRecordSet, DnsRecordType } from "./provider.ts";
import { decodeTxt, encodeTxt } from "./txt.ts";

interface PdnsRecord {
  content: string;
  disabled?: boolean;
}
interface PdnsRrset {
  name: string;
  type: string;
  ttl?: number;
  records?: PdnsRecord[];
}
interface PdnsZone {
  name?: string;
  kind?: string;
  rrsets?: PdnsRrset[];
}

/**
 * The PowerDNS Authoritative HTTP API v1: GET /servers/{server}/zones/{zone} to read,
 * PATCH with rrsets changetype REPLACE/DELETE to write. Zone and record names are absolute
 * with a trailing dot; TXT content is in zone-file format (quoted, escaped).
 */
export class PowerDnsProvider extends BaseDnsProvider {
  readonly kind = "powerdns";
  private readonly zoneUrl: string;
  private readonly base: string;

  constructor(
    zone: string,
    private readonly config: PowerDnsConfig,
    private readonly opts: { timeoutMs?: number } = {},
  ) {
    super(zone);
    // Admins paste either the webserver address or the API root; accept both.
    this.base = config.apiUrl.replace(/\/+$/, "").replace(/\/api\/v1$/, "");
    this.zoneUrl = `${this.base}/api/v1/servers/${encodeURIComponent(config.serverId)}/zones/${encodeURIComponent(`${this.zone}.`)}`;
  }

  protected describe(): string {
    return `PowerDNS API at ${this.base} (zone ${this.zone})`;
  }

  private async call(method: string, url: string, body?: unknown): Promise<HttpResult> {
    const headers: Record<string, string> = { "X-API-Key": this.config.apiKey, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let r: HttpResult;
    try {
      r = await httpRequest(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }, this.opts.timeoutMs);
    } catch (e) {
      if (e instanceof HttpUnreachableError) {
        throw new HearthError("external", `cannot reach the PowerDNS API at ${this.base} (zone ${this.zone}): ${e.message}`);
      }
      throw e;
    }
    if (r.status >= 200 && r.status < 300) return r;
    const apiError = (parseJson(r.text) as { error?: unknown } | undefined)?.error;
    const detail = typeof apiError === "string" ? apiError : r.text.trim().slice(0, 200) || `HTTP ${r.status}`;
    if (r.status === 401 || r.status === 403) {
      throw new HearthError("invalid", `the PowerDNS API at ${this.base} rejected the API key (HTTP ${r.status}) for zone ${this.zone}: check api-key in pdns.conf`, {
        details: { status: r.status },
      });
    }
    if (r.status === 404) {
      throw new HearthError("invalid", `PowerDNS server "${this.config.serverId}" at ${this.base} has no zone ${this.zone}. (HTTP 404: ${detail})`, {
        details: { status: r.status },
      });
    }
    if (r.status === 400 || r.status === 422) {
      throw new HearthError("invalid", `the PowerDNS API at ${this.base} refused the change to zone ${this.zone}: ${detail}`, { details: { status: r.status } });
    }
    throw new HearthError("external", `the PowerDNS API at ${this.base} failed for zone ${this.zone}: HTTP ${r.status}: ${detail}`, { details: { status: r.status } });
  }

  private content(type: DnsRecordType, value: string): string {
    if (type === "TXT") return encodeTxt(value, "decimal");
    if (type === "CNAME") return `${value}.`;
    return value;
  }

  private value(type: DnsRecordType, content: string): string {
    if (type === "TXT") return decodeTxt(content, "decimal");
    if (type === "AAAA") return canonicalIPv6(content.trim());
    if (type === "CNAME") return content.trim().toLowerCase().replace(/\.$/, "");
    return content.trim();
  }

  protected async doGet(name: string, type: DnsRecordType): Promise<DnsRecordSet | null> {
    // rrset_name/rrset_type filter server side (4.x); the filter below keeps older servers right.
    const q = new URLSearchParams({ rrset_name: `${name}.`, rrset_type: type });
    const r = await this.call("GET", `${this.zoneUrl}?${q}`);
    const zone = parseJson(r.text) as PdnsZone | undefined;
    const rrset = zone?.rrsets?.find((s) => s.type === type && s.name.toLowerCase().replace(/\.$/, "") === name);
    const records = (rrset?.records ?? []).filter((x) => !x.disabled);
    if (!rrset || records.length === 0) return null;
    const values: string[] = [];
    for (const x of records) {
      const v = this.value(type, x.content);
      if (!values.includes(v)) values.push(v);
    }
    return { name, type, values, ttl: rrset.ttl ?? 3600 };
  }

  private async patch(rrset: Record<string, unknown>): Promise<void> {
    await this.call("PATCH", this.zoneUrl, { rrsets: [rrset] });
  }

  protected async doUpsert(set: DnsRecordSet): Promise<void> {
    await this.patch({
      name: `${set.name}.`,
      type: set.type,
      ttl: set.ttl,
      changetype: "REPLACE",
      records: set.values.map((v) => ({ content: this.content(set.type, v), disabled: false })),
    });
  }

  protected async doRemove(name: string, type: DnsRecordType, values?: string[]): Promise<void> {
    // DELETE of an absent rrset succeeds, so removal is idempotent.
    if (values === undefined) return this.patch({ name: `${name}.`, type, changetype: "DELETE" });
    // The API replaces whole rrsets: read, drop the given values, write back the rest.
    const current = await this.doGet(name, type);
    if (!current) return;
    const rest = current.values.filter((v) => !values.includes(v));
    if (rest.length === current.values.length) return;
    if (rest.length === 0) return this.patch({ name: `${name}.`, type, changetype: "DELETE" });
    await this.doUpsert({ ...current, values: rest });
  }

  protected async doVerify(): Promise<void> {
    const r = await this.call("GET", `${this.zoneUrl}?rrsets=false`);
    const zone = parseJson(r.text) as PdnsZone | undefined;
    const kind = zone?.kind?.toLowerCase();
    if (kind === "slave" || kind === "secondary" || kind === "consumer") {
      throw new HearthError("invalid", `zone ${this.zone} is a ${zone?.kind} zone on the PowerDNS server at ${this.base}: point the provider at the zone's primary`);
    }
  }
}
