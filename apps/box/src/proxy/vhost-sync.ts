import type { Db } from "@hearth/db";
import type { VhostSync } from "../apps/apps.service";
import type { ProxyService } from "./proxy.service";
import type { Vhost } from "./vhost";

/**
 * The vhost set is derived from the database alone, every time: the dashboard at
 * my.<dashboard domain>, and one vhost per app that has a published HTTP port and is not
 * being uninstalled (a stopped app keeps its vhost, which shows the "not responding" page).
 * Each domain's self-signed fallback certificate serves until the Certificates issue lands.
 */
export async function vhostsFromDb(db: Db, proxy: Pick<ProxyService, "fallbackCert">, opts: { dashboardPort?: number } = {}): Promise<Vhost[]> {
  const [domains, apps] = await Promise.all([
    db.domain.findMany({ orderBy: { domain: "asc" } }),
    db.app.findMany({
      where: { httpHostPort: { not: null }, installState: { not: "pending_uninstall" } },
      select: { id: true, subdomain: true, domain: true, httpHostPort: true },
      orderBy: { id: "asc" },
    }),
  ]);
  const certs = new Map<string, { certPath: string; keyPath: string }>();
  for (const d of domains) {
    const c = await proxy.fallbackCert(d.domain);
    certs.set(d.domain, { certPath: c.certPath, keyPath: c.keyPath });
  }
  const vhosts: Vhost[] = [];
  for (const d of domains) {
    if (d.isDashboardDomain) vhosts.push({ type: "dashboard", fqdn: `my.${d.domain}`, upstreamPort: opts.dashboardPort, ...certs.get(d.domain)! });
  }
  for (const a of apps) {
    const tls = certs.get(a.domain);
    if (!tls) continue; // the foreign key makes this impossible; never render a vhost without a certificate
    vhosts.push({ type: "app", appId: a.id, fqdn: a.subdomain ? `${a.subdomain}.${a.domain}` : a.domain, upstreamPort: a.httpHostPort!, ...tls });
  }
  return vhosts;
}

export function dbVhostSync(db: Db, proxy: ProxyService, opts: { dashboardPort?: number } = {}): VhostSync {
  return {
    async syncVhosts() {
      await proxy.apply(await vhostsFromDb(db, proxy, opts));
    },
  };
}
