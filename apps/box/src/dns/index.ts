import { HearthError } from "@hearth/contracts";
import { CloudflareProvider } from "./cloudflare.ts";
import { DnsProviderConfig, describeConfigIssues, type DnsProviderConfigInput } from "@hearth/contracts";
import { normalizeName } from "./names.ts";
import { PowerDnsProvider } from "./powerdns.ts";
import type { DnsProvider } from "./provider.ts";
import { Rfc2136Provider } from "./rfc2136.ts";
import { Route53Provider } from "./route53.ts";

export type { DnsProvider, DnsRecordSet, DnsRecordType, PropagationOptions } from "./provider.ts";
export { waitForPropagation, findAuthoritativeServers } from "./propagation.ts";
export { ensureAppRecord, removeAppRecord, type AppRecordIps } from "./app-records.ts";
export { detectPublicIp, pickPublicIps } from "@hearth/contracts/public-ip";

export interface CreateDnsProviderOptions {
  /** Per-request timeout: an API call, one nsupdate run or one DNS read (default 15 s; DNS reads 8 s). */
  timeoutMs?: number;
}

/**
 * The provider for `zone` (the Hearth domain) from a config such as
 * `{ kind: "rfc2136", nameserver, tsigKeyName, tsigSecret }`. The config is validated here
 * (an `invalid` HearthError names each bad field, never a value); creating a provider does
 * no I/O — call `verify()` to prove the credentials work.
 */
export function createDnsProvider(zone: string, config: DnsProviderConfigInput | unknown, opts: CreateDnsProviderOptions = {}): DnsProvider {
  const z = normalizeName(zone, "zone");
  const parsed = DnsProviderConfig.safeParse(config);
  if (!parsed.success) {
    const kind = (config as { kind?: unknown } | null)?.kind;
    const label = typeof kind === "string" && /^[a-z0-9]{1,20}$/.test(kind) ? `${kind} ` : "";
    throw new HearthError("invalid", `invalid ${label}DNS provider configuration for ${z}: ${describeConfigIssues(parsed.error)}`, {
      details: parsed.error.issues.map((i) => ({ path: i.path, message: i.message })),
    });
  }
  const c = parsed.data;
  switch (c.kind) {
    case "rfc2136":
      return new Rfc2136Provider(z, c, opts);
    case "powerdns":
      return new PowerDnsProvider(z, c, opts);
    case "cloudflare":
      return new CloudflareProvider(z, c, opts);
    case "route53":
      return new Route53Provider(z, c, opts);
  }
}
