import { isApiDnsProvider, type DomainProvider, type TlsMode } from "@hearth/contracts";
import { openSecret, type App, type AppDomain, type Domain } from "@hearth/db";
import { createDnsProvider, type DnsProvider } from "../dns";
import { TaskError } from "../tasks/registry";

/**
 * A Domain row opened for box: the provider settings and the custom key unsealed with
 * HEARTH_SECRET_KEY (they exist in clear only in box's memory, never in logs or task
 * logs), and the DnsProvider for API providers.
 */
export interface OpenDomain {
  domain: string;
  provider: DomainProvider;
  tlsMode: TlsMode;
  isDashboardDomain: boolean;
  /** null for manual / wildcard / noop */
  dns: DnsProvider | null;
  /** rfc2136: its nameserver is authoritative, so propagation is checked there */
  propagationNameservers?: string[];
  custom: { certPem: string; keyPem: string } | null;
}

export function openDomain(row: Domain, secretKey: Buffer | null): OpenDomain {
  const unseal = (sealed: string, what: string) => {
    if (!secretKey) throw new TaskError(`the ${what} of ${row.domain} is encrypted but HEARTH_SECRET_KEY is not set`, "invalid");
    try {
      return openSecret(secretKey, sealed);
    } catch {
      throw new TaskError(`the ${what} of ${row.domain} cannot be decrypted with this HEARTH_SECRET_KEY`, "invalid");
    }
  };
  let dns: DnsProvider | null = null;
  let propagationNameservers: string[] | undefined;
  if (isApiDnsProvider(row.provider)) {
    if (!row.providerConfigEnc) throw new TaskError(`the ${row.provider} provider of ${row.domain} has no settings`, "invalid");
    const config = JSON.parse(unseal(row.providerConfigEnc, "DNS provider settings")) as Record<string, unknown>;
    dns = createDnsProvider(row.domain, { kind: row.provider, ...config });
    if (row.provider === "rfc2136" && typeof config.nameserver === "string") propagationNameservers = [config.nameserver];
  }
  const custom = row.tlsMode === "custom" && row.customCertPem && row.customKeyEnc ? { certPem: row.customCertPem, keyPem: unseal(row.customKeyEnc, "custom certificate key") } : null;
  return {
    domain: row.domain,
    provider: row.provider,
    tlsMode: row.tlsMode as TlsMode,
    isDashboardDomain: row.isDashboardDomain,
    dns,
    propagationNameservers,
    custom,
  };
}

/** One name an app is served at. */
export interface AppName {
  fqdn: string;
  domain: string;
  role: "primary" | "alias" | "redirect";
}

export const fqdnOf = (subdomain: string, domain: string) => (subdomain ? `${subdomain}.${domain}` : domain);

export function appNames(app: Pick<App, "subdomain" | "domain"> & { appDomains?: Pick<AppDomain, "subdomain" | "domain" | "type">[] }): AppName[] {
  return [
    { fqdn: fqdnOf(app.subdomain, app.domain), domain: app.domain, role: "primary" },
    ...(app.appDomains ?? []).map((d) => ({ fqdn: fqdnOf(d.subdomain, d.domain), domain: d.domain, role: d.type })),
  ];
}

/** The dashboard's name on its domain. */
export const dashboardFqdn = (domain: string) => `my.${domain}`;
