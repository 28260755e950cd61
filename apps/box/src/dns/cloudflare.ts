import { HearthError } from "@hearth/contracts";
import { BaseDnsProvider } from "./base.ts";
import type { CloudflareConfig } from "@hearth/contracts";
import { HttpUnreachableError, httpRequest, parseJson } from "./http.ts";
import { canonicalIPv6 } from "./names.ts";
import type { DnsRecordSet, DnsRecordType } from "./provider.ts";
import { decodeTxt, quoteTxtSimple } from "./txt.ts";

export const CLOUDFLARE_API = "https://api.cloudflare.com/client/v4";

interface CfRecord {
  id: string;
  name: string;
  type: string;
  content: string;
  ttl: number;
  proxied?: boolean;
}
interface CfEnvelope<T> {
  success?: boolean;
  errors?: { code?: number; message?: string }[];
  result?: T;
  result_info?: { page?: number; total_pages?: number };
}

/**
 * Cloudflare API v4 with an API token (Authorization: Bearer). Cloudflare keeps one
 * record per value, so a record set is the records of (name, type): upsert updates or
 * reuses records in place (no gap, and CNAMEs cannot coexist), creates the missing ones
 * and deletes the rest. App records are created unproxied ("DNS only"): Hearth terminates
 * TLS itself. TXT content is sent as quoted character-strings, as Cloudflare documents.
 */
export class CloudflareProvider extends BaseDnsProvider {
  readonly kind = "cloudflare";
  private readonly base: string;
  private zoneId: string | undefined;

  constructor(
    zone: string,
    private readonly config: CloudflareConfig,
    private readonly opts: { timeoutMs?: number } = {},
  ) {
    super(zone);
    this.base = (config.apiUrl ?? CLOUDFLARE_API).replace(/\/+$/, "");
    this.zoneId = config.zoneId?.toLowerCase();
  }

  protected describe(): string {
    return `Cloudflare (zone ${this.zone})`;
  }

  private async call<T>(method: string, pathAndQuery: string, body?: unknown): Promise<CfEnvelope<T>> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.config.apiToken}`, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let r;
    try {
      r = await httpRequest(`${this.base}${pathAndQuery}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }, this.opts.timeoutMs);
    } catch (e) {
      if (e instanceof HttpUnreachableError) throw new HearthError("external", `cannot reach the Cloudflare API (zone ${this.zone}): ${e.message}`);
      throw e;
    }
    const env = (parseJson(r.text) ?? {}) as CfEnvelope<T>;
    if (r.status >= 200 && r.status < 300 && env.success !== false) return env;
    const errors = (env.errors ?? []).map((e) => `${e.message ?? "error"}${e.code !== undefined ? ` (${e.code})` : ""}`).join("; ") || `HTTP ${r.status}`;
    const details = { status: r.status, errors: env.errors ?? [] };
    if (r.status === 401 || r.status === 403) {
      throw new HearthError("invalid", `Cloudflare rejected the API token for zone ${this.zone}: ${errors}. The token needs Zone:DNS:Edit on this zone.`, { details });
    }
    if (r.status === 429) throw new HearthError("external", `Cloudflare rate limit reached (zone ${this.zone}): ${errors}; try again later`, { details });
    if (r.status >= 500 || r.status < 400) throw new HearthError("external", `Cloudflare API error (zone ${this.zone}): ${errors}`, { details });
    throw new HearthError("invalid", `Cloudflare refused the request for zone ${this.zone}: ${errors}`, { details });
  }

  private async zoneIdOf(): Promise<string> {
    if (this.zoneId) return this.zoneId;
    const env = await this.call<{ id: string; name: string }[]>("GET", `/zones?${new URLSearchParams({ name: this.zone, per_page: "50" })}`);
    const found = (env.result ?? []).find((z) => z.name.toLowerCase() === this.zone);
    if (!found) {
      throw new HearthError("invalid", `Cloudflare has no zone ${this.zone} that this API token can see: check the domain, or give the zone id (the token then needs only Zone:DNS:Edit)`);
    }
    this.zoneId = found.id;
    return found.id;
  }

  private value(type: DnsRecordType, content: string): string {
    if (type === "TXT") return decodeTxt(content, "decimal");
    if (type === "AAAA") return canonicalIPv6(content);
    if (type === "CNAME") return content.toLowerCase().replace(/\.$/, "");
    return content;
  }

  private content(type: DnsRecordType, value: string): string {
    return type === "TXT" ? quoteTxtSimple(value) : value;
  }

  /** Cloudflare: 1 means "automatic" (300 s); otherwise 60…86400 on the plans Hearth expects. */
  private cfTtl(ttl: number): number {
    return Math.min(86_400, Math.max(60, ttl));
  }

  private async list(name: string, type: DnsRecordType): Promise<CfRecord[]> {
    const zid = await this.zoneIdOf();
    const out: CfRecord[] = [];
    for (let page = 1; page <= 50; page++) {
      const q = new URLSearchParams({ type, "name.exact": name, per_page: "100", page: String(page) });
      const env = await this.call<CfRecord[]>("GET", `/zones/${zid}/dns_records?${q}`);
      for (const r of env.result ?? []) if (r.type === type && r.name.toLowerCase().replace(/\.$/, "") === name) out.push(r);
      if (!env.result_info?.total_pages || page >= env.result_info.total_pages) break;
    }
    return out;
  }

  protected async doGet(name: string, type: DnsRecordType): Promise<DnsRecordSet | null> {
    const records = await this.list(name, type);
    if (records.length === 0) return null;
    const values: string[] = [];
    for (const r of records) {
      const v = this.value(type, r.content);
      if (!values.includes(v)) values.push(v);
    }
    return { name, type, values, ttl: Math.min(...records.map((r) => (r.ttl === 1 ? 300 : r.ttl))) };
  }

  protected async doUpsert(set: DnsRecordSet): Promise<void> {
    const zid = await this.zoneIdOf();
    const ttl = this.cfTtl(set.ttl);
    const existing = await this.list(set.name, set.type);
    const keep = new Map<string, CfRecord>();
    const spare: CfRecord[] = [];
    for (const r of existing) {
      const v = this.value(set.type, r.content);
      if (set.values.includes(v) && !keep.has(v)) keep.set(v, r);
      else spare.push(r);
    }
    const proxied = set.type === "TXT" ? {} : { proxied: false };
    for (const [, r] of keep) {
      // A record the admin proxied through Cloudflare stays proxied (its TTL is Cloudflare's).
      if (r.ttl !== ttl && !r.proxied) await this.call("PATCH", `/zones/${zid}/dns_records/${r.id}`, { ttl });
    }
    for (const v of set.values) {
      if (keep.has(v)) continue;
      const body = { type: set.type, name: set.name, content: this.content(set.type, v), ttl, ...proxied };
      const reuse = spare.shift();
      if (reuse) await this.call("PUT", `/zones/${zid}/dns_records/${reuse.id}`, body);
      else await this.call("POST", `/zones/${zid}/dns_records`, body);
    }
    for (const r of spare) await this.deleteRecord(zid, r.id);
  }

  private async deleteRecord(zid: string, id: string): Promise<void> {
    try {
      await this.call("DELETE", `/zones/${zid}/dns_records/${id}`);
    } catch (e) {
      // Already gone (a concurrent removal): that is what we wanted.
      if ((e as { details?: { status?: number } }).details?.status === 404) return;
      throw e;
    }
  }

  protected async doRemove(name: string, type: DnsRecordType, values?: string[]): Promise<void> {
    const zid = await this.zoneIdOf();
    for (const r of await this.list(name, type)) {
      if (values === undefined || values.includes(this.value(type, r.content))) await this.deleteRecord(zid, r.id);
    }
  }

  protected async doVerify(): Promise<void> {
    const zid = await this.zoneIdOf();
    if (this.config.zoneId) {
      // A zone id of another zone would make Cloudflare create "www.example.com.other.com":
      // check the id belongs to this zone. Reading the zone needs Zone:Read; a token with only
      // DNS:Edit gets 403 there, and the records' zone_name below is checked instead.
      try {
        const env = await this.call<{ id: string; name: string }>("GET", `/zones/${zid}`);
        const name = env.result?.name?.toLowerCase();
        if (name && name !== this.zone) throw new HearthError("invalid", `Cloudflare zone id ${zid} is the zone ${name}, not ${this.zone}`);
      } catch (e) {
        if ((e as { details?: { status?: number } }).details?.status !== 403) throw e;
      }
    }
    const env = await this.call<(CfRecord & { zone_name?: string })[]>("GET", `/zones/${zid}/dns_records?per_page=5`);
    const other = (env.result ?? []).find((r) => r.zone_name && r.zone_name.toLowerCase() !== this.zone);
    if (other) throw new HearthError("invalid", `Cloudflare zone id ${zid} is the zone ${other.zone_name}, not ${this.zone}`);
  }
}
