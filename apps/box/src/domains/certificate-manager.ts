import { createHash } from "node:crypto";
import { ACME_SETTINGS_KEY, isHearthError, LETSENCRYPT_PRODUCTION, LETSENCRYPT_STAGING, type AcmeSettings } from "@hearth/contracts";
import {
  deleteCertificates,
  ensureCertificateRow,
  getSetting,
  listAcmeCertificates,
  listAllCertificatesWithFiles,
  listCertificatesWithFiles,
  listCustomCertificates,
  namesKeyOf,
  recordCertificateFailure,
  recordCertificateIssued,
  recordEvent,
  type Certificate,
  type Db,
  type NamedLocks,
} from "@hearth/db";
import { AcmeEngine, type AcmeEngineOptions, type ChallengeType } from "../certs/acme";
import { inspectCertificate, needsRenewal } from "../certs/inspect";
import { installCustomCertificate } from "../certs/custom";
import { certificateSlug } from "../certs/names";
import { FileCertificateStore } from "../certs/store";
import type { TlsFiles } from "../proxy/vhost";
import { TaskError } from "../tasks/registry";
import { planRenewals, retryDelayMs } from "../certs/renewal";
import { waitForPropagation } from "../dns";
import type { OpenDomain } from "./domain-access";
import { closeCertificateNotices, raiseCertificateFailure } from "../notifications/notices";

/**
 * Which certificate each served name gets, getting them, and keeping them.
 *
 * The Certificate rows are the record (names, issuer, expiry, last attempt and error);
 * the files live in the engine's store under <certDir>/<slug>/ (cert.pem = leaf + chain,
 * key.pem 0600), replaced atomically. Per domain TLS mode:
 *  - letsencrypt(-staging): one certificate per served name; DNS-01 through the domain's
 *    API provider when it has one (works before DNS points here), else HTTP-01 through
 *    nginx's /.well-known/acme-challenge/ location;
 *  - letsencrypt-wildcard: one `*.domain` + `domain` certificate by DNS-01, shared by all;
 *  - custom: the uploaded pair, written to the store as `custom.<domain>`;
 *  - fallback: none here (the proxy's self-signed one).
 * A name without a usable certificate is served with the fallback, so an app is reachable
 * (with a browser warning) while its certificate is pending or failing.
 *
 * One order per set of names at a time: a MySQL named lock `cert:<names>` across box
 * processes, on top of the engine's in-process one.
 */

export interface CertificateManagerDeps {
  db: Db;
  locks: NamedLocks | null;
  certDir: string;
  acmeChallengeDir: string;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  now?: () => Date;
  /** Engine tuning (tests: faster polling). */
  engineOptions?: Partial<Pick<AcmeEngineOptions, "poll" | "requestTimeoutMs" | "txtTtl">>;
  /** DNS-01 propagation wait. */
  propagation?: { timeoutMs?: number; intervalMs?: number };
}

/** Where a domain's uploaded certificate is stored (apart from its ACME ones). */
const customSlugOf = (domain: string) => `_custom.${domain}`;

export interface CertContext {
  log(line: string): void;
}

/** What a name needs: a set of names, how to prove them, and from which directory. */
export interface CertificatePlan {
  names: string[];
  challenge: ChallengeType;
  directoryUrl: string;
}

export interface EnsureResult {
  issued: string[];
  kept: string[];
  failed: { names: string[]; error: string }[];
}

interface StoredAcme {
  directoryUrl: string;
  email: string | null;
  caCertificate: string | null;
}

export class CertificateManager {
  private readonly engines = new Map<string, AcmeEngine>();

  constructor(private readonly d: CertificateManagerDeps) {}

  private now(): Date {
    return this.d.now?.() ?? new Date();
  }

  async acmeSettings(): Promise<StoredAcme> {
    const s = await getSetting<Partial<AcmeSettings>>(this.d.db, ACME_SETTINGS_KEY);
    return { directoryUrl: s?.directoryUrl ?? LETSENCRYPT_PRODUCTION, email: s?.email ?? null, caCertificate: s?.caCertificate ?? null };
  }

  /** One engine per (directory, email, trusted CA); settings changes make a new one. */
  private engineFor(directoryUrl: string, s: StoredAcme): AcmeEngine {
    const ca = directoryUrl === s.directoryUrl ? s.caCertificate : null;
    const key = createHash("sha256")
      .update(`${directoryUrl}\n${s.email ?? ""}\n${ca ?? ""}`)
      .digest("hex");
    let e = this.engines.get(key);
    if (!e) {
      e = new AcmeEngine({
        certDir: this.d.certDir,
        acmeChallengeDir: this.d.acmeChallengeDir,
        settings: { directoryUrl, email: s.email },
        ...(ca ? { caCertificates: ca } : {}),
        ...this.d.engineOptions,
      });
      this.engines.set(key, e);
    }
    return e;
  }

  /** What certificate `fqdn` on `domain` needs, or null when the domain's mode issues none. */
  planFor(domain: OpenDomain, fqdn: string, acme: StoredAcme): CertificatePlan | null {
    switch (domain.tlsMode) {
      case "fallback":
      case "custom":
        return null;
      case "letsencrypt-wildcard":
        return { names: [`*.${domain.domain}`, domain.domain], challenge: "dns-01", directoryUrl: acme.directoryUrl };
      case "letsencrypt-staging":
        return { names: [fqdn], challenge: domain.dns ? "dns-01" : "http-01", directoryUrl: LETSENCRYPT_STAGING };
      case "letsencrypt":
        return { names: [fqdn], challenge: domain.dns ? "dns-01" : "http-01", directoryUrl: acme.directoryUrl };
    }
  }

  /** The files nginx serves for `fqdn`: the domain's custom or ACME certificate, else null (fallback). */
  async tlsFor(domain: { domain: string; tlsMode: string }, fqdn: string): Promise<(TlsFiles & { trusted: boolean }) | null> {
    if (domain.tlsMode === "fallback") return null;
    const rows = await listCertificatesWithFiles(this.d.db, domain.domain);
    const directoryUrl = domain.tlsMode === "letsencrypt" ? (await this.acmeSettings()).directoryUrl : LETSENCRYPT_STAGING;
    return this.pick(rows, domain, fqdn, directoryUrl);
  }

  /**
   * tlsFor for a whole vhost sync: every certificate and the ACME settings read once (one
   * query each), then each name picked in memory.
   */
  async tlsPicker(): Promise<(domain: { domain: string; tlsMode: string }, fqdn: string) => Promise<(TlsFiles & { trusted: boolean }) | null>> {
    const [rows, acme] = await Promise.all([listAllCertificatesWithFiles(this.d.db), this.acmeSettings()]);
    const byDomain = new Map<string, Certificate[]>();
    for (const r of rows) {
      const list = byDomain.get(r.domain);
      if (list) list.push(r);
      else byDomain.set(r.domain, [r]);
    }
    return async (domain, fqdn) => {
      if (domain.tlsMode === "fallback") return null;
      return this.pick(byDomain.get(domain.domain) ?? [], domain, fqdn, domain.tlsMode === "letsencrypt" ? acme.directoryUrl : LETSENCRYPT_STAGING);
    };
  }

  /** `directoryUrl`: the ACME directory the domain's per-name certificates come from (letsencrypt(-staging) modes). */
  private pick(rows: Certificate[], domain: { domain: string; tlsMode: string }, fqdn: string, directoryUrl: string): (TlsFiles & { trusted: boolean }) | null {
    const usable = (c: Certificate) => c.certPath && c.keyPath && c.notAfter && c.notAfter > this.now();
    const covers = (c: Certificate) => (c.names as string[]).some((n) => n === fqdn || (n.startsWith("*.") && fqdn.endsWith(n.slice(1)) && !fqdn.slice(0, -n.length + 1).includes(".")));
    let pick: Certificate | undefined;
    if (domain.tlsMode === "fallback") return null;
    if (domain.tlsMode === "custom") pick = rows.find((c) => c.kind === "custom" && usable(c) && covers(c));
    else if (domain.tlsMode === "letsencrypt-wildcard") pick = rows.find((c) => c.kind === "acme" && usable(c) && c.namesKey === namesKeyOf([`*.${domain.domain}`, domain.domain]));
    else pick = rows.find((c) => c.kind === "acme" && usable(c) && c.namesKey === namesKeyOf([fqdn]) && c.directoryUrl === directoryUrl);
    // while the mode's own certificate is pending (a mode change, a new name), any other
    // still valid certificate of the domain that covers the name serves rather than the
    // self-signed one; the domain sync removes those it no longer needs once it has its own
    pick ??= rows.find((c) => usable(c) && covers(c));
    if (!pick) return null;
    // a staging certificate is served but browsers do not trust it (no IP → name redirect)
    const trusted = !(pick.kind === "acme" && pick.directoryUrl === LETSENCRYPT_STAGING);
    return { certPath: pick.certPath!, keyPath: pick.keyPath!, ...(pick.fingerprint ? { version: pick.fingerprint } : {}), trusted };
  }

  /**
   * Gets what `fqdns` (all on `domain`) need and is missing, due or from another
   * directory. Failures are recorded on the row (error, backoff, event) and returned, not
   * thrown: the names keep being served with what they had.
   */
  async ensure(domain: OpenDomain, fqdns: string[], ctx: CertContext, opts: { force?: boolean } = {}): Promise<EnsureResult> {
    const acme = await this.acmeSettings();
    const plans = new Map<string, CertificatePlan>();
    for (const fqdn of fqdns) {
      const p = this.planFor(domain, fqdn, acme);
      if (p) plans.set(namesKeyOf(p.names), p);
    }
    const out: EnsureResult = { issued: [], kept: [], failed: [] };
    for (const plan of plans.values()) {
      const row = await ensureCertificateRow(this.d.db, { names: plan.names, domain: domain.domain, kind: "acme", challenge: plan.challenge, directoryUrl: plan.directoryUrl });
      if (!opts.force && row.certPath && row.notAfter && row.directoryUrl === plan.directoryUrl && !needsRenewal({ notAfter: row.notAfter }, this.now())) {
        out.kept.push(plan.names.join(", "));
        continue;
      }
      if (!opts.force && row.nextAttemptAt && row.nextAttemptAt > this.now()) {
        ctx.log(`certificate for ${plan.names.join(", ")}: the last attempt failed (${row.lastError ?? "unknown error"}); next attempt at ${row.nextAttemptAt.toISOString()}`);
        out.failed.push({ names: plan.names, error: row.lastError ?? "waiting for the next attempt" });
        continue;
      }
      const r = await this.issue(domain, row, plan, acme, ctx);
      if (r.ok) out.issued.push(plan.names.join(", "));
      else out.failed.push({ names: plan.names, error: r.error });
    }
    return out;
  }

  private async issue(domain: OpenDomain, row: Certificate, plan: CertificatePlan, acme: StoredAcme, ctx: CertContext): Promise<{ ok: true } | { ok: false; error: string }> {
    const label = plan.names.join(", ");
    const at = this.now();
    const renewal = row.certPath !== null;
    if (plan.challenge === "dns-01" && !domain.dns) {
      const error = `${label} needs a DNS-01 challenge, but ${domain.domain} has no API DNS provider (${domain.provider})`;
      await this.fail(row, error, at, renewal);
      return { ok: false, error };
    }
    const run = async () => {
      const engine = this.engineFor(plan.directoryUrl, acme);
      ctx.log(`certificate for ${label}: ordering from ${plan.directoryUrl} (${plan.challenge})`);
      return engine.issueCertificate({
        names: plan.names,
        challenge: plan.challenge,
        slug: certificateSlug(plan.names),
        onProgress: (m) => ctx.log(`certificate for ${label}: ${m}`),
        ...(domain.dns
          ? {
              dnsProvider: domain.dns,
              waitForPropagation: async (name: string, _type: "TXT", values: string[]) => {
                await waitForPropagation(name, "TXT", values, {
                  nameservers: domain.propagationNameservers,
                  timeoutMs: this.d.propagation?.timeoutMs,
                  intervalMs: this.d.propagation?.intervalMs,
                });
              },
            }
          : {}),
      });
    };
    try {
      const issued = this.d.locks ? await this.d.locks.run(`cert:${namesKeyOf(plan.names)}`, { waitSeconds: 600 }, run) : await run();
      await recordCertificateIssued(this.d.db, row.id, {
        issuer: issued.info.issuer.slice(0, 512),
        serial: issued.info.serial.slice(0, 128),
        fingerprint: issued.info.fingerprint256.slice(0, 128),
        notBefore: issued.info.notBefore,
        notAfter: issued.info.notAfter,
        certPath: issued.certPath,
        keyPath: issued.keyPath,
        at: this.now(),
      });
      await recordEvent(this.d.db, {
        action: "certificate.new",
        target: label,
        data: { issuer: issued.info.issuer, notAfter: issued.info.notAfter.toISOString(), challenge: plan.challenge, renewal },
      });
      // a problem admins were told about is over (never failing the issued certificate)
      await closeCertificateNotices(this.d.db, [row.namesKey]).catch((err) => this.d.log.warn({ names: plan.names, err: (err as Error)?.message }, "could not close the certificate's notification"));
      for (const w of issued.warnings) ctx.log(`certificate for ${label}: warning: ${w}`);
      ctx.log(`certificate for ${label}: issued by ${issued.info.issuer}, valid until ${issued.info.notAfter.toISOString()} (${issued.timings.totalMs} ms)`);
      this.d.log.info({ names: plan.names, notAfter: issued.info.notAfter }, "certificate issued");
      return { ok: true };
    } catch (e) {
      const error = isHearthError(e) ? e.message : `unexpected error: ${(e as Error)?.message ?? String(e)}`;
      await this.fail(row, error, at, renewal);
      ctx.log(`certificate for ${label}: FAILED: ${error}`);
      this.d.log.warn({ names: plan.names, err: error }, "certificate failed");
      return { ok: false, error };
    }
  }

  private async fail(row: Certificate, error: string, at: Date, renewal: boolean): Promise<void> {
    const left = row.notAfter ? row.notAfter.getTime() - at.getTime() : 0;
    const nextAttemptAt = new Date(at.getTime() + retryDelayMs(row.failures + 1, left));
    const names = (row.names as string[]).join(", ");
    await recordCertificateFailure(this.d.db, row.id, { error, at, nextAttemptAt });
    await recordEvent(this.d.db, {
      action: renewal ? "certificate.renewal_failed" : "certificate.issue_failed",
      target: names,
      data: { error: error.slice(0, 1000), nextAttemptAt: nextAttemptAt.toISOString() },
    });
    // the admins' notification: one per domain and kind, this certificate's names inside;
    // a failure to raise is logged, never aborting the other names of ensure() nor failing the task
    try {
      await raiseCertificateFailure(
        this.d.db,
        { domain: row.domain, namesKey: row.namesKey, names: row.names as string[], error, renewal: renewal && !!row.certPath, daysLeft: Math.floor(left / 86_400_000) },
        // now, not the attempt's start: a name failing minutes later must make a group the
        // admin read meanwhile unread again
        this.now(),
      );
    } catch (err) {
      this.d.log.warn({ names, err: (err as Error)?.message }, "could not raise the certificate's notification");
    }
  }

  /** tlsMode custom: validates and stores the uploaded pair and records it; other modes: removes it. */
  async syncCustom(domain: OpenDomain, ctx: CertContext): Promise<void> {
    const slug = customSlugOf(domain.domain);
    const store = this.store();
    const existing = await listCustomCertificates(this.d.db, domain.domain);
    if (!domain.custom) {
      if (existing.length > 0) {
        await store.remove(slug);
        await deleteCertificates(
          this.d.db,
          existing.map((c) => c.id),
        );
        ctx.log(`custom certificate of ${domain.domain} removed`);
      }
      return;
    }
    const names = inspectCertificate(domain.custom.certPem).names;
    let installed;
    try {
      // checked again here (admin checked it at upload): the key, the chain, the dates
      installed = await installCustomCertificate(store, { names, certPem: domain.custom.certPem, keyPem: domain.custom.keyPem, now: this.now(), slug });
    } catch (e) {
      if (isHearthError(e)) throw new TaskError(`the custom certificate of ${domain.domain} cannot be used: ${e.message}`, "invalid");
      throw e;
    }
    const info = installed.info;
    const stale = existing.filter((c) => c.namesKey !== namesKeyOf(info.names));
    await deleteCertificates(
      this.d.db,
      stale.map((c) => c.id),
    );
    const row = await ensureCertificateRow(this.d.db, { names: info.names, domain: domain.domain, kind: "custom" });
    if (row.fingerprint !== info.fingerprint256) ctx.log(`custom certificate of ${domain.domain} installed (${info.names.join(", ")}, valid until ${info.notAfter.toISOString()})`);
    await recordCertificateIssued(this.d.db, row.id, {
      issuer: info.issuer.slice(0, 512),
      serial: info.serial.slice(0, 128),
      fingerprint: info.fingerprint256.slice(0, 128),
      notBefore: info.notBefore,
      notAfter: info.notAfter,
      certPath: installed.certPath,
      keyPath: installed.keyPath,
      at: row.issuedAt ?? this.now(),
    });
  }

  private store() {
    return new FileCertificateStore(this.d.certDir);
  }

  /**
   * Renews what is due (or one certificate, forced). `domains` opens a domain by name;
   * `servedNames` says which names are still served, so certificates nobody uses any more
   * are removed instead of renewed.
   */
  async renew(
    opts: { certificateId?: string; force?: boolean },
    domains: (name: string) => Promise<OpenDomain | null>,
    servedNames: () => Promise<Set<string>>,
    ctx: CertContext,
  ): Promise<{ renewed: number; failed: number; removed: number }> {
    const served = await servedNames();
    const rows = await listAcmeCertificates(this.d.db, opts.certificateId);
    if (opts.certificateId && rows.length === 0) throw Object.assign(new Error(`no ACME certificate ${opts.certificateId}`), { code: "not_found" });
    const unused = rows.filter((c) => !(c.names as string[]).some((n) => served.has(n) || (n.startsWith("*.") && [...served].some((s) => s.endsWith(n.slice(1))))));
    let removed = 0;
    if (!opts.certificateId) removed = await this.remove(unused, ctx);
    const live = rows.filter((c) => !unused.includes(c) || opts.certificateId);
    const now = this.now();
    const plan = planRenewals(
      live.map((c) => ({ id: c.id, notAfter: c.notAfter ?? new Date(0), failures: c.failures, lastAttemptAt: c.lastAttemptAt })),
      now,
      { policy: { jitterMs: 0 } },
    );
    const ids = new Set(opts.force ? live.map((c) => c.id) : plan.renew.map((r) => r.id));
    let renewed = 0;
    let failed = 0;
    const acme = await this.acmeSettings();
    for (const c of live.filter((x) => ids.has(x.id))) {
      const domain = await domains(c.domain);
      if (!domain) continue;
      const names = c.names as string[];
      const p = this.planFor(domain, names.find((n) => !n.startsWith("*.")) ?? names[0]!, acme);
      const planNow: CertificatePlan =
        p && namesKeyOf(p.names) === c.namesKey ? p : { names, challenge: (c.challenge as ChallengeType) ?? "http-01", directoryUrl: c.directoryUrl ?? acme.directoryUrl };
      const r = await this.issue(domain, c, planNow, acme, ctx);
      if (r.ok) renewed++;
      else failed++;
    }
    if (ids.size === 0) ctx.log(`no certificate is due (${live.length} checked)`);
    return { renewed, failed, removed };
  }

  /** Removes certificates (rows and files). */
  async remove(rows: Certificate[], ctx: CertContext): Promise<number> {
    if (rows.length === 0) return 0;
    const store = this.store();
    for (const c of rows) {
      await store.remove(c.kind === "custom" ? customSlugOf(c.domain) : certificateSlug(c.names as string[]));
      ctx.log(`certificate for ${(c.names as string[]).join(", ")} removed (no longer served)`);
    }
    // their names are gone: so is what admins were told about them (the sweep retries a failure)
    await closeCertificateNotices(
      this.d.db,
      rows.map((c) => c.namesKey),
    ).catch((err) => this.d.log.warn({ err: (err as Error)?.message }, "could not close the certificates' notifications"));
    return deleteCertificates(
      this.d.db,
      rows.map((c) => c.id),
    );
  }
}
