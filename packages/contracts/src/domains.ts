import { z } from "zod";
import { API_DNS_PROVIDERS, DNS_PROVIDER_CONFIG_SCHEMAS, DNS_PROVIDER_SECRET_FIELDS, type ApiDnsProviderKind } from "./dns-config";

/**
 * Domains, their DNS providers and TLS modes, certificates, and the settings they use.
 *
 * A provider says how Hearth's names get into DNS:
 *  - manual      the admin creates the records; Hearth shows which (GET /domains/:d/records)
 *  - wildcard    a `*` record already points at this server
 *  - noop        Hearth does nothing and checks nothing (e.g. an internal resolver)
 *  - rfc2136     dynamic update with TSIG (bind9, PowerDNS, Knot, …)
 *  - powerdns    the PowerDNS Authoritative HTTP API
 *  - cloudflare  Cloudflare API v4 with an API token
 *  - route53     AWS Route 53 with an access key
 * The last four are "API providers": Hearth creates and removes the app's A/AAAA records
 * and answers ACME DNS-01 challenges through them.
 */
export const DOMAIN_PROVIDERS = ["manual", "wildcard", "noop", "rfc2136", "powerdns", "cloudflare", "route53"] as const;
export type DomainProvider = (typeof DOMAIN_PROVIDERS)[number];
export { API_DNS_PROVIDERS };
export type ApiDnsProvider = ApiDnsProviderKind;
export function isApiDnsProvider(p: string): p is ApiDnsProvider {
  return (API_DNS_PROVIDERS as readonly string[]).includes(p);
}

/**
 * How a domain's names get certificates:
 *  - letsencrypt           ACME with the configured directory (settings/acme), one
 *                          certificate per app name: DNS-01 with an API provider, else HTTP-01
 *  - letsencrypt-staging   the same against Let's Encrypt's staging directory (untrusted; for trying things)
 *  - letsencrypt-wildcard  one `*.domain` + `domain` certificate by DNS-01 (API providers only), shared by every app
 *  - custom                the admin uploads a certificate chain and key covering the names
 *  - fallback              a self-signed certificate box makes
 */
export const TLS_MODES = ["letsencrypt", "letsencrypt-staging", "letsencrypt-wildcard", "custom", "fallback"] as const;
export type TlsMode = (typeof TLS_MODES)[number];

export const LETSENCRYPT_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory";
export const LETSENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";

/** A DNS name we serve: lowercase labels, no trailing dot, at least one dot. */
export const domainName = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be a domain name like example.com");

/** One DNS label (or empty for the bare domain). `my` is the dashboard's. */
export const subdomain = z
  .string()
  .trim()
  .toLowerCase()
  .max(63)
  .regex(/^$|^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be one DNS label: letters, digits and '-'")
  .refine((s) => s !== "my", "my is reserved for the dashboard");

/** Provider settings by provider (apps/box/src/dns uses the same schemas): see dns-config.ts. */
export const PROVIDER_CONFIG_SCHEMAS = DNS_PROVIDER_CONFIG_SCHEMAS;
export type ProviderConfig<P extends ApiDnsProvider = ApiDnsProvider> = z.infer<(typeof PROVIDER_CONFIG_SCHEMAS)[P]>;
/** Secret fields: stored sealed, never returned, never logged. */
export const PROVIDER_SECRET_FIELDS: Record<ApiDnsProvider, readonly string[]> = DNS_PROVIDER_SECRET_FIELDS;
/**
 * Fields that say where the secret is sent. When one of them changes, the secret must be
 * sent again: a saved secret is never re-pointed at another server (by a stolen session,
 * say) without the person knowing it.
 */
export const PROVIDER_ENDPOINT_FIELDS: Record<ApiDnsProvider, readonly string[]> = {
  rfc2136: ["nameserver"],
  powerdns: ["apiUrl", "serverId"],
  cloudflare: ["apiUrl"],
  route53: ["endpoint", "region"],
};

const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).max(512);

/** The provider settings with secret fields removed (what the API returns). */
export function publicProviderConfig(provider: DomainProvider, config: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!config || !isApiDnsProvider(provider)) return null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (!PROVIDER_SECRET_FIELDS[provider].includes(k)) out[k] = v;
  return out;
}

/**
 * Validates provider settings for `provider`. On an edit, secret fields left out are
 * taken from `previous` (the stored settings of the same provider), so a form never has
 * to show a secret to keep it.
 */
export function parseProviderConfig(
  provider: DomainProvider,
  config: unknown,
  previous: Record<string, unknown> | null = null,
): { ok: true; config: Record<string, unknown> | null } | { ok: false; issues: { path: string; message: string }[] } {
  if (!isApiDnsProvider(provider)) {
    if (config !== undefined && config !== null && !(typeof config === "object" && Object.keys(config as object).length === 0)) {
      return { ok: false, issues: [{ path: "providerConfig", message: `the ${provider} provider takes no settings` }] };
    }
    return { ok: true, config: null };
  }
  const input: Record<string, unknown> = { ...((config ?? {}) as Record<string, unknown>) };
  const kept: string[] = [];
  if (previous) {
    for (const k of PROVIDER_SECRET_FIELDS[provider]) {
      if (input[k] === undefined || input[k] === "") {
        input[k] = previous[k];
        kept.push(k);
      }
    }
  }
  const r = PROVIDER_CONFIG_SCHEMAS[provider].safeParse(input);
  if (!r.success) return { ok: false, issues: r.error.issues.map((i) => ({ path: ["providerConfig", ...i.path].join("."), message: i.message })) };
  const parsed = r.data as Record<string, unknown>;
  if (previous && kept.length > 0) {
    const moved = PROVIDER_ENDPOINT_FIELDS[provider].filter((f) => JSON.stringify(parsed[f] ?? null) !== JSON.stringify(previous[f] ?? null));
    if (moved.length > 0) {
      return {
        ok: false,
        issues: kept.map((k) => ({ path: `providerConfig.${k}`, message: `must be entered again when ${moved.join(" or ")} change${moved.length === 1 ? "s" : ""}` })),
      };
    }
  }
  return { ok: true, config: parsed };
}

const pem = z
  .string()
  .max(64 * 1024)
  .regex(/-----BEGIN [A-Z0-9 ]+-----/, "must be PEM text");

export const addDomainRequest = z.strictObject({
  domain: domainName,
  provider: z.enum(DOMAIN_PROVIDERS),
  providerConfig: z.record(z.string(), z.unknown()).optional(),
  tlsMode: z.enum(TLS_MODES).default("letsencrypt"),
  /** tlsMode custom: the certificate chain (leaf first) and its private key */
  customCertificate: pem.optional(),
  customKey: pem.optional(),
});
export type AddDomainRequest = z.infer<typeof addDomainRequest>;

export const updateDomainRequest = z
  .strictObject({
    provider: z.enum(DOMAIN_PROVIDERS).optional(),
    providerConfig: z.record(z.string(), z.unknown()).optional(),
    tlsMode: z.enum(TLS_MODES).optional(),
    customCertificate: pem.optional(),
    customKey: pem.optional(),
  })
  .refine((r) => Object.keys(r).length > 0, "nothing to change");
export type UpdateDomainRequest = z.infer<typeof updateDomainRequest>;

export const domainView = z.object({
  domain: z.string(),
  provider: z.enum(DOMAIN_PROVIDERS),
  /** settings without secrets; null for providers without settings */
  providerConfig: z.record(z.string(), z.unknown()).nullable(),
  tlsMode: z.enum(TLS_MODES),
  hasCustomCertificate: z.boolean(),
  isDashboardDomain: z.boolean(),
  /** the task that applies the domain's last change (certificates, records), if any */
  taskId: z.string().nullable().optional(),
  createdAt: z.string(),
});
export type DomainView = z.infer<typeof domainView>;

/** A record the admin must create by hand (provider manual), or that Hearth manages. */
export const dnsRecordView = z.object({ name: z.string(), type: z.enum(["A", "AAAA", "CNAME", "TXT"]), value: z.string(), managed: z.boolean() });
export type DnsRecordView = z.infer<typeof dnsRecordView>;

export const CERTIFICATE_KINDS = ["acme", "custom", "fallback"] as const;
export const CERTIFICATE_STATUSES = ["valid", "expiring", "expired", "pending", "failed"] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

export const certificateView = z.object({
  id: z.string(),
  names: z.array(z.string()),
  domain: z.string(),
  kind: z.enum(CERTIFICATE_KINDS),
  challenge: z.string().nullable(),
  issuer: z.string().nullable(),
  serial: z.string().nullable(),
  notBefore: z.string().nullable(),
  notAfter: z.string().nullable(),
  status: z.enum(CERTIFICATE_STATUSES),
  issuedAt: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
});
export type CertificateView = z.infer<typeof certificateView>;

/** Days before expiry from which a certificate is renewed (and shown as expiring). */
export const RENEW_BEFORE_DAYS = 30;

export function certificateStatusOf(c: { notAfter: Date | null; lastError: string | null; failures: number }, now: Date = new Date()): CertificateStatus {
  if (!c.notAfter) return c.failures > 0 || c.lastError ? "failed" : "pending";
  const left = c.notAfter.getTime() - now.getTime();
  if (left <= 0) return "expired";
  if (left <= RENEW_BEFORE_DAYS * 86_400_000) return "expiring";
  return "valid";
}

/** PUT /api/v1/settings/acme */
export const acmeSettings = z.strictObject({
  directoryUrl: httpUrl.default(LETSENCRYPT_PRODUCTION),
  email: z.email().max(254),
  /** PEM of a CA to trust for the directory's own HTTPS (a private CA such as step-ca, or a test CA) */
  caCertificate: pem.nullable().optional(),
});
export type AcmeSettings = z.infer<typeof acmeSettings>;
export const ACME_SETTINGS_KEY = "acme";

/** PUT /api/v1/settings/network: the addresses app records point at; null = detect. */
export const networkSettings = z.strictObject({
  ipv4: z.ipv4().nullable(),
  ipv6: z.ipv6().nullable(),
});
export type NetworkSettings = z.infer<typeof networkSettings>;
export const NETWORK_SETTINGS_KEY = "network";

/** Args of the box tasks of this area. */
export const domainSyncTaskArgs = z.object({ domain: z.string() });
export const certificateRenewTaskArgs = z.object({ certificateId: z.string().optional(), force: z.boolean().optional() });
