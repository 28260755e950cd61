import { listDomainsByName, listProxiedApps, type Db } from "@hearth/db";
import { appPageState } from "./pages";
import type { ApplyResult, ProxyService } from "./proxy.service";
import type { TlsFiles, Vhost } from "./vhost";

/** What box's proxy gives the app tasks: re-render every vhost from the database, check, reload. */
export interface VhostSync {
  /** Resolves with what changed and nginx's timings (dbVhostSync), or nothing (fakes, HEARTH_PROXY=off). */
  // biome-ignore lint/suspicious/noConfusingVoidType: implementations that report nothing (fakes in tests) return Promise<void>
  syncVhosts(): Promise<VhostSyncResult | void>;
}
export type VhostSyncResult = ApplyResult & { vhosts: number };
export const noopVhostSync: VhostSync = { syncVhosts: async () => {} };

/**
 * The vhost set is derived from the database alone, every time: the dashboard at
 * my.<dashboard domain>, and per app that has a published HTTP port and is not being
 * uninstalled: its primary name, each alias (a vhost of its own, so it gets its own
 * certificate) and each redirect (301 to the primary URL, path kept). Each app vhost carries
 * the app's state and title for its page (pages.ts): a stopped app keeps its names, which
 * answer 503 "stopped by the administrator"; a name of no app lands on setup's default
 * server ("No app here"). Run it again when an app's state or health changes.
 *
 * Each name is served with the certificate `tls` picks (custom, wildcard or its own ACME
 * certificate: see CertificateManager.tlsFor), else its domain's self-signed fallback.
 */
export type TlsPicker = (domain: { domain: string; tlsMode: string }, fqdn: string) => Promise<(TlsFiles & { trusted?: boolean }) | null>;

export interface VhostsFromDbOptions {
  dashboardPort?: number;
  /** Picks a name's certificate (may read the database each time). */
  tls?: TlsPicker;
  /** Made once per sync with everything it needs read up front (one query), then asked per name; wins over `tls`. */
  tlsForSync?: () => Promise<TlsPicker>;
}

const fqdnOf = (subdomain: string, domain: string) => (subdomain ? `${subdomain}.${domain}` : domain);
/** The manifest's title when it has one (the page escapes it). */
const titleOf = (manifest: unknown): string | undefined => {
  const t = (manifest as { title?: unknown } | null)?.title;
  return typeof t === "string" && t.trim() ? t.trim().slice(0, 200) : undefined;
};

export async function vhostsFromDb(db: Db, proxy: Pick<ProxyService, "fallbackCert" | "httpsPort">, opts: VhostsFromDbOptions = {}): Promise<Vhost[]> {
  const [domains, apps, picker] = await Promise.all([listDomainsByName(db), listProxiedApps(db), opts.tlsForSync ? opts.tlsForSync() : opts.tls]);
  const byName = new Map(domains.map((d) => [d.domain, d]));
  const fallback = new Map<string, TlsFiles>();
  const fallbackOf = async (domain: string): Promise<TlsFiles> => {
    let f = fallback.get(domain);
    if (!f) {
      const c = await proxy.fallbackCert(domain);
      f = { certPath: c.certPath, keyPath: c.keyPath, version: `fallback-${c.notAfter.getTime()}` };
      fallback.set(domain, f);
    }
    return f;
  };
  /** The picked certificate (trusted: ACME or custom) or null, and what is served. */
  const tlsOf = async (domain: string, fqdn: string): Promise<{ trusted: boolean; files: TlsFiles } | null> => {
    const d = byName.get(domain);
    if (!d) return null; // the foreign keys make this impossible; never render a vhost without a certificate
    const picked = picker ? await picker(d, fqdn) : null;
    if (!picked) return { trusted: false, files: await fallbackOf(domain) };
    const { trusted, ...files } = picked;
    return { trusted: trusted !== false, files };
  };
  const vhosts: Vhost[] = [];
  const port = proxy.httpsPort === 443 ? "" : `:${proxy.httpsPort}`;
  for (const d of domains) {
    if (!d.isDashboardDomain) continue;
    const fqdn = `my.${d.domain}`;
    const tls = (await tlsOf(d.domain, fqdn))!;
    vhosts.push({ type: "dashboard", fqdn, upstreamPort: opts.dashboardPort, ...tls.files });
    // the IP URL moves to the name only once the name has a certificate browsers trust
    if (tls.trusted) vhosts.push({ type: "default-redirect", target: `https://${fqdn}${port}` });
  }
  for (const a of apps) {
    const primary = fqdnOf(a.subdomain, a.domain);
    const tls = (await tlsOf(a.domain, primary))?.files;
    if (!tls) continue;
    const state = appPageState(a);
    const title = titleOf(a.manifest);
    vhosts.push({ type: "app", appId: a.id, fqdn: primary, upstreamPort: a.httpHostPort!, state, ...(title ? { title } : {}), ...tls });
    for (const extra of a.appDomains) {
      const fqdn = fqdnOf(extra.subdomain, extra.domain);
      const etls = (await tlsOf(extra.domain, fqdn))?.files;
      if (!etls) continue;
      if (extra.type === "alias") vhosts.push({ type: "app", appId: a.id, fileKey: fqdn, fqdn, upstreamPort: a.httpHostPort!, state, ...etls });
      else vhosts.push({ type: "redirect", fqdn, target: `https://${primary}${port}`, ...etls });
    }
  }
  return vhosts;
}

/**
 * Syncs one at a time, each reading the store after the previous one was applied: a sync
 * that read the store earlier (the health monitor's, while a stop task records its end) can
 * never be applied after a later one and put back a state the store no longer has.
 */
export function dbVhostSync(db: Db, proxy: ProxyService, opts: VhostsFromDbOptions = {}): VhostSync {
  let last: Promise<unknown> = Promise.resolve();
  return {
    syncVhosts() {
      const run = last.then(async () => {
        const vhosts = await vhostsFromDb(db, proxy, opts);
        return { ...(await proxy.apply(vhosts)), vhosts: vhosts.length };
      });
      last = run.catch(() => {});
      return run;
    },
  };
}
