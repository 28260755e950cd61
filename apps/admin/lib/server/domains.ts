import {
  appFqdn,
  domainName,
  HearthError,
  isApiDnsProvider,
  parseHostPort,
  parseProviderConfig,
  publicProviderConfig,
  type DnsRecordView,
  type DomainProvider,
  type DomainView,
  type TlsMode,
} from "@hearth/contracts";
import { dnsNamesOf, parseCertificateChain, uncoveredNames, validateCustomCertificate, type CertificateSummary } from "@hearth/contracts/x509";
import { activeDomainTasks, appsOnDomain, extraNamesOnDomain, getDomain, listDomains, openSecret, sealSecret, type Db, type Domain, type DomainRecord } from "@hearth/db";
import { domainViewOf } from "../views";
import type { AdminContext } from "./context";
import { serverAddresses, type Addresses } from "./public-ip";
import { guardEndpoint } from "./endpoint-guard";

/** The DNS provider's server (rfc2136 nameserver, API URLs) may not be on this machine or the metadata service. */
async function guardProviderEndpoints(app: AdminContext, provider: DomainProvider, config: Record<string, unknown>): Promise<void> {
  if (provider === "rfc2136" && typeof config.nameserver === "string") {
    const hp = parseHostPort(config.nameserver);
    if (hp) await guardEndpoint(app, hp.host, ["providerConfig", "nameserver"]);
  }
  for (const field of ["apiUrl", "endpoint"] as const) {
    const v = config[field];
    if (typeof v === "string" && v !== "") await guardEndpoint(app, v, ["providerConfig", field], { url: true });
  }
}

/**
 * Domains as admin handles them: provider settings validated and sealed, TLS mode rules,
 * custom certificates checked, views without secrets, and the DNS records a domain needs.
 *
 * Sealed forms (what box opens, apps/box/src/domains/domain-access.ts):
 *  - Domain.providerConfigEnc = sealSecret(HEARTH_SECRET_KEY, JSON of the parsed settings,
 *    defaults applied); null for manual / wildcard / noop;
 *  - Domain.customCertPem = the chain re-encoded leaf first (certificates are public);
 *  - Domain.customKeyEnc = sealSecret(HEARTH_SECRET_KEY, the key as PKCS#8 PEM).
 */

/**
 * :domain of a route → the domain name; anything that is not one is simply not found.
 * Next.js has already percent-decoded the segment once: decoding it again would turn a
 * literal `%` (sent as `%25`) into a URIError.
 */
export function domainParam(params: Record<string, string>): string {
  const parsed = domainName.safeParse(params.domain ?? "");
  if (!parsed.success) throw new HearthError("not_found", "No such domain");
  return parsed.data;
}

export function secretKeyOf(app: AdminContext): Buffer {
  if (!app.config.secretKey) throw new HearthError("bad_state", "HEARTH_SECRET_KEY is not configured on this server; run setup again");
  return app.config.secretKey;
}

/** The stored provider settings in clear, or null (none, or not openable: logged, never thrown). */
export function openProviderConfig(app: AdminContext, row: Pick<Domain, "domain" | "provider" | "providerConfigEnc">): Record<string, unknown> | null {
  if (!row.providerConfigEnc || !isApiDnsProvider(row.provider)) return null;
  if (!app.config.secretKey) {
    app.logger.warn({ domain: row.domain }, "cannot open the DNS provider settings: HEARTH_SECRET_KEY is not set");
    return null;
  }
  try {
    const v = JSON.parse(openSecret(app.config.secretKey, row.providerConfigEnc)) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    // a changed HEARTH_SECRET_KEY; the admin re-enters the settings
    app.logger.warn({ domain: row.domain }, "cannot open the DNS provider settings with this HEARTH_SECRET_KEY");
    return null;
  }
}

export async function domainViewsOf(app: AdminContext, rows: Domain[]): Promise<DomainView[]> {
  const tasks = await activeDomainTasks(app.db);
  return rows.map((d) => domainViewOf(d, { providerConfig: openProviderConfig(app, d), taskId: tasks.get(d.domain)?.id ?? null }));
}

export async function listDomainViews(app: AdminContext): Promise<DomainView[]> {
  return domainViewsOf(app, await listDomains(app.db));
}

export async function domainViewByName(app: AdminContext, name: string): Promise<DomainView> {
  const row = await getDomain(app.db, name);
  if (!row) throw new HearthError("not_found", `No domain ${name}`);
  return (await domainViewsOf(app, [row]))[0]!;
}

// ---- the names a domain serves ----------------------------------------------------------

export interface ServedName {
  fqdn: string;
  role: "dashboard" | "primary" | "alias" | "redirect";
  /** null for the dashboard */
  appId: string | null;
}

/** Every name served on `domain`: the dashboard's my.<domain>, then each app's primary name, aliases and redirects. */
export async function servedNames(db: Db, domain: string): Promise<ServedName[]> {
  const d = await getDomain(db, domain);
  const out: ServedName[] = d?.isDashboardDomain ? [{ fqdn: `my.${domain}`, role: "dashboard", appId: null }] : [];
  const apps = await appsOnDomain(db, domain);
  for (const a of apps) out.push({ fqdn: appFqdn(a.subdomain, domain), role: "primary", appId: a.id });
  const extra = await extraNamesOnDomain(db, domain);
  for (const e of extra) out.push({ fqdn: appFqdn(e.subdomain, domain), role: e.type, appId: e.appId });
  return out;
}

/**
 * The names a domain's custom certificate must cover: `*.<domain>` always, so every app,
 * the dashboard and apps installed later are covered without a new upload (as for a
 * letsencrypt-wildcard certificate); and `<domain>` itself while a name is served at the
 * bare domain (a wildcard never covers it). Installing or moving an app to the bare domain
 * of a domain whose custom certificate lacks it is refused (checkCustomCertificates).
 */
export function customCertificateNames(domain: string, served: readonly { fqdn: string }[]): string[] {
  return [`*.${domain}`, ...(served.some((s) => s.fqdn === domain) ? [domain] : [])];
}

// ---- add / update -------------------------------------------------------------------------

interface DomainInput {
  provider?: DomainProvider;
  providerConfig?: Record<string, unknown>;
  tlsMode?: TlsMode;
  customCertificate?: string;
  customKey?: string;
}

function invalidField(path: string[], message: string): HearthError {
  return new HearthError("invalid", message, { details: [{ path, code: "custom", message }] });
}

export interface PreparedDomain {
  record: Partial<DomainRecord>;
  /** the settings in clear after the change (for the view; never logged) */
  providerConfig: Record<string, unknown> | null;
  /** set when a new custom certificate was accepted */
  certificate: CertificateSummary | null;
  /** what an event may say (no secrets) */
  eventData: Record<string, unknown>;
}

/**
 * Validates a POST (current null) or PATCH body against the rules and returns the columns to
 * write. Run under the placement lock: the names a custom certificate must cover are read here.
 *  - providerConfig is checked against the provider's schema: 400 naming each field. On a
 *    PATCH with the same provider, secret fields left out (or "") keep their stored values and
 *    the other fields are replaced by what is sent; a new provider needs its full settings.
 *  - letsencrypt-wildcard needs an API provider (DNS-01).
 *  - custom needs customCertificate + customKey (on a PATCH that stays custom, either may be
 *    sent alone: a renewed certificate for the same key is the common case), validated by
 *    validateCustomCertificate; leaving custom forgets the stored pair.
 */
export async function prepareDomain(app: AdminContext, domain: string, body: DomainInput, current: Domain | null): Promise<PreparedDomain> {
  const provider = body.provider ?? current?.provider;
  if (!provider) throw invalidField(["provider"], "provider is required");
  const providerChanged = !current || provider !== current.provider;
  const tlsMode: TlsMode = body.tlsMode ?? (current?.tlsMode as TlsMode | undefined) ?? "letsencrypt";
  const record: Partial<DomainRecord> = {};
  let providerConfig: Record<string, unknown> | null = current ? openProviderConfig(app, current) : null;

  if (providerChanged || body.providerConfig !== undefined) {
    const previous = providerChanged ? null : providerConfig;
    const r = parseProviderConfig(provider, body.providerConfig, previous);
    if (!r.ok) {
      const message = `The ${provider} settings are invalid: ${r.issues.map((i) => `${i.path.replace(/^providerConfig\./, "")} ${i.message}`).join("; ")}`;
      throw new HearthError("invalid", message, { details: r.issues.map((i) => ({ path: i.path.split("."), code: "custom", message: i.message })) });
    }
    providerConfig = r.config;
    if (r.config) await guardProviderEndpoints(app, provider, r.config);
    record.provider = provider;
    record.providerConfigEnc = r.config ? sealSecret(secretKeyOf(app), JSON.stringify(r.config)) : null;
  }

  if (tlsMode === "letsencrypt-wildcard" && !isApiDnsProvider(provider)) {
    throw invalidField(["tlsMode"], `letsencrypt-wildcard needs DNS-01, so a DNS provider with an API (rfc2136, powerdns, cloudflare, route53), not ${provider}`);
  }
  if (body.tlsMode !== undefined) record.tlsMode = tlsMode;

  let certificate: CertificateSummary | null = null;
  if (tlsMode === "custom") {
    const keepsCustom = current?.tlsMode === "custom" && current.customCertPem !== null && current.customKeyEnc !== null;
    if (body.customCertificate !== undefined || body.customKey !== undefined || !keepsCustom) {
      const certPem = body.customCertificate ?? (keepsCustom ? current.customCertPem : null);
      let keyPem = body.customKey ?? null;
      if (keyPem === null && keepsCustom) {
        try {
          keyPem = openSecret(secretKeyOf(app), current.customKeyEnc!);
        } catch (e) {
          if (e instanceof HearthError) throw e;
          throw invalidField(["customKey"], "The stored key cannot be opened with this HEARTH_SECRET_KEY; upload the key again");
        }
      }
      const missing = [...(certPem ? [] : ["customCertificate"]), ...(keyPem ? [] : ["customKey"])];
      if (missing.length > 0) {
        throw new HearthError("invalid", `tlsMode custom needs ${missing.join(" and ")}`, {
          details: missing.map((f) => ({ path: [f], code: "custom", message: "required for tlsMode custom" })),
        });
      }
      const names = customCertificateNames(domain, await servedNames(app.db, domain));
      const v = validateCustomCertificate({ certificate: certPem!, key: keyPem!, names });
      record.customCertPem = v.chainPem;
      record.customKeyEnc = sealSecret(secretKeyOf(app), v.keyPem);
      certificate = v.leaf;
    }
  } else {
    const sent = (["customCertificate", "customKey"] as const).filter((f) => body[f] !== undefined);
    if (sent.length > 0) {
      throw new HearthError("invalid", `${sent.join(" and ")} only go with tlsMode custom`, {
        details: sent.map((f) => ({ path: [f], code: "custom", message: "only with tlsMode custom" })),
      });
    }
    // leaving custom: the uploaded pair is not kept around
    if (current?.customCertPem || current?.customKeyEnc) {
      record.customCertPem = null;
      record.customKeyEnc = null;
    }
  }

  const eventData: Record<string, unknown> = {
    provider,
    providerConfig: publicProviderConfig(provider, providerConfig),
    tlsMode,
    ...(current ? { changed: Object.keys(body).filter((k) => body[k as keyof DomainInput] !== undefined) } : {}),
    ...(certificate ? { certificate: { names: certificate.names, issuer: certificate.issuer, notAfter: certificate.notAfter.toISOString() } } : {}),
  };
  return { record, providerConfig, certificate, eventData };
}

/**
 * 409 when one of an app's new names is on a domain whose custom certificate does not cover
 * it (only the bare domain can be: the certificate covers `*.<domain>`). Unknown domains
 * are left to the placement check (404).
 */
export async function checkCustomCertificates(db: Db, names: { subdomain: string; domain: string; field: string }[]): Promise<void> {
  const byDomain = new Map<string, Domain | null>();
  for (const n of names) {
    if (!byDomain.has(n.domain)) byDomain.set(n.domain, await getDomain(db, n.domain));
    const d = byDomain.get(n.domain);
    if (!d || d.tlsMode !== "custom" || !d.customCertPem) continue;
    const fqdn = appFqdn(n.subdomain, n.domain);
    let certNames: string[];
    try {
      certNames = dnsNamesOf(parseCertificateChain(d.customCertPem)[0]!);
    } catch {
      certNames = [];
    }
    if (uncoveredNames(certNames, [fqdn]).length > 0) {
      throw new HearthError("conflict", `The custom certificate of ${n.domain} does not cover ${fqdn}; upload one that does first`, {
        details: { field: n.field, domain: n.domain },
      });
    }
  }
}

// ---- DNS records ----------------------------------------------------------------------------

export interface DomainRecords {
  domain: string;
  provider: DomainProvider;
  /** true: Hearth creates and removes these itself (API providers) */
  managed: boolean;
  addresses: Addresses & { source: "settings" | "detected" };
  records: DnsRecordView[];
}

/** The records `names` need, A for IPv4 and AAAA for IPv6, in name order. */
export function recordsFor(names: readonly string[], addresses: Addresses, managed: boolean): DnsRecordView[] {
  const out: DnsRecordView[] = [];
  for (const name of [...new Set(names)]) {
    if (addresses.ipv4) out.push({ name, type: "A", value: addresses.ipv4, managed });
    if (addresses.ipv6) out.push({ name, type: "AAAA", value: addresses.ipv6, managed });
  }
  return out;
}

/**
 * The A/AAAA records a domain needs: my.<domain> when it is the dashboard's, then every app
 * name on it. Provider `wildcard`: the one `*.<domain>` record (plus `<domain>` while an app
 * serves the bare domain, which `*` does not match). Names are fully qualified.
 */
export async function domainRecords(app: AdminContext, row: Domain): Promise<DomainRecords> {
  const addresses = await serverAddresses(app.db);
  const served = await servedNames(app.db, row.domain);
  const managed = isApiDnsProvider(row.provider);
  const names = row.provider === "wildcard" ? [`*.${row.domain}`, ...served.filter((s) => s.fqdn === row.domain).map((s) => s.fqdn)] : served.map((s) => s.fqdn);
  return { domain: row.domain, provider: row.provider, managed, addresses, records: recordsFor(names, addresses, managed) };
}
