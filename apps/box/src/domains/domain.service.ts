import { certificateRenewTaskArgs, domainSyncTaskArgs, isHearthError } from "@hearth/contracts";
import { dashboardDomainNames, getAppRowWithNames, getCertificate, getDomain, listAcmeCertificatesByNames, listAcmeCertificatesExcept, listServedAppsWithNames, namesKeyOf, type Db } from "@hearth/db";
import type { VhostSync } from "../proxy/vhost-sync";
import type { AppNameHooks, StepContext } from "../tasks/steps";
import { defineTask, TaskError, type TaskDefinition } from "../tasks/registry";
import type { CertificateManager } from "./certificate-manager";
import { dashboardFqdn, appNames, openDomain, type OpenDomain } from "./domain-access";
import { pruneRecordsOf, removeRecordsOf, syncRecords } from "./dns-sync";

/**
 * What box does for names: DNS records through API providers, certificates, and the
 * vhosts that serve them. The app tasks call `publish`/`unpublish` (see AppService); the
 * `domain.sync` task applies a domain's change (added, provider, TLS mode, custom
 * certificate, dashboard moved here); `certificate.renew` renews what is due. Every step
 * is idempotent, so a box killed mid-task and run again ends in the same place.
 */
export interface DomainServiceDeps {
  db: Db;
  secretKey: Buffer | null;
  certs: CertificateManager;
  vhosts: VhostSync;
}

export class DomainService implements AppNameHooks {
  constructor(private readonly d: DomainServiceDeps) {}

  async open(name: string): Promise<OpenDomain | null> {
    const row = await getDomain(this.d.db, name);
    return row ? openDomain(row, this.d.secretKey) : null;
  }

  private async appWithNames(appId: string) {
    return getAppRowWithNames(this.d.db, appId);
  }

  private byDomain(names: { fqdn: string; domain: string }[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const n of names) out.set(n.domain, [...(out.get(n.domain) ?? []), n.fqdn]);
    return out;
  }

  async publishRecords(appId: string, ctx: StepContext, opts: { overwriteDns: boolean }): Promise<void> {
    const app = await this.appWithNames(appId);
    if (!app) return;
    const names = appNames(app);
    for (const [domainName, fqdns] of this.byDomain(names)) {
      const domain = await this.open(domainName);
      if (domain) await syncRecords(this.d.db, domain, appId, fqdns, ctx, { overwrite: opts.overwriteDns });
    }
    // names the app no longer has (moved to another subdomain or domain)
    await pruneRecordsOf(
      this.d.db,
      appId,
      names.map((n) => n.fqdn),
      (n) => this.open(n),
      ctx,
    );
  }

  async publishCertificates(appId: string, ctx: StepContext): Promise<void> {
    const app = await this.appWithNames(appId);
    if (!app) return;
    let failed = 0;
    for (const [domainName, fqdns] of this.byDomain(appNames(app))) {
      const domain = await this.open(domainName);
      if (!domain) continue;
      const r = await this.d.certs.ensure(domain, fqdns, ctx);
      failed += r.failed.length;
    }
    if (failed > 0) ctx.log(`${failed} certificate(s) could not be obtained yet; the app is served with the self-signed certificate until a retry succeeds (see Certificates)`);
  }

  async unpublish(appId: string, ctx: StepContext): Promise<void> {
    const app = await this.appWithNames(appId);
    await removeRecordsOf(this.d.db, appId, (n) => this.open(n), ctx);
    if (!app) return;
    const keys = appNames(app).map((n) => namesKeyOf([n.fqdn]));
    const own = await listAcmeCertificatesByNames(this.d.db, keys);
    await this.d.certs.remove(own, ctx);
  }

  /** Every name served now: dashboards, apps' primary names, aliases and redirects. */
  async servedNames(): Promise<Set<string>> {
    const [domains, apps] = await Promise.all([dashboardDomainNames(this.d.db), listServedAppsWithNames(this.d.db)]);
    const out = new Set<string>(domains.map((d) => dashboardFqdn(d)));
    for (const a of apps) for (const n of appNames(a)) out.add(n.fqdn);
    return out;
  }

  /** domain.sync: the domain's provider works, its records and certificates exist, nginx serves them. */
  async sync(domainName: string, ctx: StepContext): Promise<{ domain: string; certificatesIssued: number; certificatesFailed: number }> {
    await ctx.progress(5, `opening ${domainName}`);
    const domain = await this.open(domainName);
    if (!domain) {
      // removed since the task was queued: the vhosts still have to lose it
      await this.d.vhosts.syncVhosts();
      await ctx.progress(100, `${domainName} is gone`);
      return { domain: domainName, certificatesIssued: 0, certificatesFailed: 0 };
    }
    if (domain.dns) {
      await ctx.progress(15, `checking the ${domain.provider} credentials`);
      try {
        await domain.dns.verify();
        ctx.log(`${domain.provider}: the credentials work for ${domain.domain}`);
      } catch (e) {
        throw new TaskError(`the ${domain.provider} provider of ${domain.domain} does not work: ${isHearthError(e) ? e.message : String(e)}`, "external");
      }
    }
    await ctx.progress(25, "custom certificate");
    await this.d.certs.syncCustom(domain, ctx);
    const served = [...(await this.servedNames())].filter((n) => n === domain.domain || n.endsWith(`.${domain.domain}`));
    if (domain.isDashboardDomain && domain.dns) {
      await ctx.progress(35, "the dashboard's DNS record");
      await syncRecords(this.d.db, domain, null, [dashboardFqdn(domain.domain)], ctx, { overwrite: false });
    }
    await ctx.progress(45, "serving the names with what they have");
    await this.d.vhosts.syncVhosts();
    await ctx.progress(55, `certificates for ${served.length} name(s)`);
    const r = await this.d.certs.ensure(domain, served, ctx);
    // certificates of this domain that no name uses any more (mode changed, apps moved)
    const wanted = new Set<string>();
    const acme = await this.d.certs.acmeSettings();
    for (const n of served) {
      const p = this.d.certs.planFor(domain, n, acme);
      if (p) wanted.add(namesKeyOf(p.names));
    }
    const stale = await listAcmeCertificatesExcept(this.d.db, domain.domain, [...wanted]);
    await this.d.certs.remove(stale, ctx);
    await ctx.progress(90, "reloading nginx");
    await this.d.vhosts.syncVhosts();
    if (r.failed.length > 0) ctx.log(`${r.failed.length} certificate(s) failed; they are retried with backoff by the renewal job`);
    await ctx.progress(100, `${domain.domain} is up to date`);
    return { domain: domain.domain, certificatesIssued: r.issued.length, certificatesFailed: r.failed.length };
  }

  /** certificate.renew */
  async renew(args: { certificateId?: string; force?: boolean }, ctx: StepContext): Promise<{ renewed: number; failed: number; removed: number }> {
    await ctx.progress(10, args.certificateId ? "renewing the certificate" : "renewing what is due");
    let r: { renewed: number; failed: number; removed: number };
    try {
      r = await this.d.certs.renew(
        args,
        (n) => this.open(n),
        () => this.servedNames(),
        ctx,
      );
    } catch (e) {
      if ((e as { code?: string }).code === "not_found") throw new TaskError((e as Error).message, "not_found");
      throw e;
    }
    await ctx.progress(90, "reloading nginx");
    await this.d.vhosts.syncVhosts();
    await ctx.progress(100, `${r.renewed} renewed, ${r.failed} failed, ${r.removed} removed`);
    if (args.certificateId && r.failed > 0) {
      const c = await getCertificate(this.d.db, args.certificateId);
      throw new TaskError(`renewal failed: ${c?.lastError ?? "see the task log"}`, "certificate_failed");
    }
    return r;
  }
}

export function domainTasks(service: DomainService): TaskDefinition[] {
  return [
    defineTask({ type: "domain.sync", resumable: true, args: domainSyncTaskArgs, run: (ctx) => service.sync(ctx.args.domain, ctx) }),
    defineTask({ type: "certificate.renew", resumable: true, args: certificateRenewTaskArgs, run: (ctx) => service.renew(ctx.args, ctx) }),
  ] as TaskDefinition[];
}
