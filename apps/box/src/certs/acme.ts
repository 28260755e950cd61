import { generateKeyPairSync, randomBytes, createPrivateKey, type X509Certificate } from "node:crypto";
import { chmod, mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type * as acme from "acme-client";
import { HearthError, isHearthError } from "@hearth/contracts";
import type { DnsProvider } from "../dns/provider";
import { loadOrCreateAccountKey } from "./account";
import { inspectCertificate, parseChain, type CertificateInfo } from "./inspect";
import { certificateSlug, isWildcard, namesKey, normalizeNames, uncoveredNames, WILDCARD_PREFIX } from "./names";
import { FileCertificateStore, type CertificatePaths, type CertificateStore } from "./store";
import { AcmeTransport, type AcmeProblem } from "./transport";

/**
 * The ACME engine: one account per directory URL, and `issueCertificate` for a set of names
 * through HTTP-01 (token files nginx serves) or DNS-01 (TXT records through a DnsProvider).
 *
 * It holds no product logic and touches no database: the caller (box's certificate service)
 * decides which names, which challenge, which provider, stores the outcome in its tables,
 * installs the files into vhosts and takes the cross-process lock. This module only:
 *  - keeps the account key (<certDir>/account/, see account.ts) and registers it once;
 *  - runs one order per set of names at a time in this process (a second call for the same
 *    names while one runs gets the running call's result: never two orders for one set);
 *  - uses the explicit order flow of acme-client (not `client.auto`), so it chooses the
 *    challenge, publishes every challenge of the order before answering any (DNS-01 of
 *    `*.d` and `d` share one TXT name: both values go into one record set), and always
 *    cleans up what it published, also when the CA refuses;
 *  - makes a new ECDSA P-256 key per certificate and checks what the CA returns (key
 *    matches, names covered) before swapping it in atomically (store.ts); a failure leaves
 *    the previous pair untouched;
 *  - turns whatever the CA says into HearthError `external` with the CA's own problem text
 *    (details.reason `acme_rate_limited` with Retry-After for rate limits).
 */

export const LETSENCRYPT_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory";
export const LETSENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";
export const DEFAULT_DIRECTORY_URL = LETSENCRYPT_PRODUCTION;

export type ChallengeType = "http-01" | "dns-01";

export interface AcmeSettings {
  /** ACME directory URL (https). Default Let's Encrypt production. */
  directoryUrl?: string;
  /** Account contact; optional for Let's Encrypt, required by some CAs. */
  email?: string | null;
}

/**
 * Waits until every authoritative server of the zone serves `values` (among others) at the
 * TXT `name`: dns/propagation.ts's `waitForPropagation` with the domain's options bound,
 * e.g. `(n, t, v) => waitForPropagation(n, t, v, { nameservers })`.
 */
export type WaitForPropagation = (name: string, type: "TXT", values: string[]) => Promise<unknown>;

export interface AcmeEngineOptions {
  /** Root of the certificate files: `<certDir>/account/`, `<certDir>/<slug>/`. */
  certDir: string;
  /** Directory nginx serves at /.well-known/acme-challenge/ (ProxyService.acmeChallengeDir). */
  acmeChallengeDir: string;
  settings?: AcmeSettings;
  /** PEM bundle trusted for the directory's TLS on top of the system roots (test CA, private CA). */
  caCertificates?: string;
  store?: CertificateStore;
  /** How the order/challenge status is polled (acme-client's backoff). */
  poll?: { attempts?: number; minMs?: number; maxMs?: number };
  requestTimeoutMs?: number;
  /** TTL of the `_acme-challenge` TXT records. */
  txtTtl?: number;
}

export interface IssueRequest {
  /** The names, primary first (the slug and CN come from it); `*.d` needs dns-01. */
  names: string[];
  challenge: ChallengeType;
  /** dns-01: the provider of the zone holding every name. */
  dnsProvider?: DnsProvider;
  /** dns-01: waits until the TXT records are visible on the zone's authoritative servers. */
  waitForPropagation?: WaitForPropagation;
  /** Directory name under certDir; default certificateSlug(names). */
  slug?: string;
  /** Progress lines for the task log (no secrets in them). */
  onProgress?: (message: string) => void;
}

export interface IssuedCertificate extends CertificatePaths {
  names: string[];
  slug: string;
  challenge: ChallengeType;
  directoryUrl: string;
  /** cert.pem as stored: leaf then chain. */
  certPem: string;
  info: CertificateInfo;
  /** Milliseconds: authorizations done (challenges valid), then certificate stored. */
  timings: { authorizedMs: number; totalMs: number };
  /** Cleanup steps that failed after a successful issuance (left-over token or TXT value). */
  warnings: string[];
}

type AcmeClientModule = typeof import("acme-client");
let acmeLoading: Promise<AcmeClientModule> | null = null;
/** acme-client is loaded when a certificate is first ordered: about 40 MiB that an idle box does not pay. */
const loadAcme = () => (acmeLoading ??= import("acme-client"));

type Challenge = acme.Authorization["challenges"][number];
type Client = acme.Client;

const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
const ACME_ERROR = "urn:ietf:params:acme:error:";

/** One published challenge and how to take it back. */
interface Published {
  authz: acme.Authorization;
  challenge: Challenge;
  describe: string;
}

export class AcmeEngine {
  readonly store: CertificateStore;
  private settings: { directoryUrl: string; email: string | null };
  private account: Promise<{ directoryUrl: string; keyPem: string; accountUrl: string }> | null = null;
  private readonly inflight = new Map<string, Promise<IssuedCertificate>>();
  private readonly txtLocks = new Map<string, Promise<unknown>>();

  constructor(private readonly opts: AcmeEngineOptions) {
    this.store = opts.store ?? new FileCertificateStore(opts.certDir);
    this.settings = AcmeEngine.checkSettings(opts.settings ?? {});
  }

  static checkSettings(s: AcmeSettings): { directoryUrl: string; email: string | null } {
    const directoryUrl = s.directoryUrl ?? DEFAULT_DIRECTORY_URL;
    let u: URL;
    try {
      u = new URL(directoryUrl);
    } catch {
      throw new HearthError("invalid", `the ACME directory URL ${JSON.stringify(directoryUrl)} is not a URL`);
    }
    if (u.protocol !== "https:") throw new HearthError("invalid", `the ACME directory URL must use https (got ${JSON.stringify(directoryUrl)})`);
    const email = s.email ? s.email.trim() : null;
    if (email !== null && !EMAIL.test(email)) throw new HearthError("invalid", `${JSON.stringify(email)} is not an email address`);
    return { directoryUrl, email };
  }

  get directoryUrl(): string {
    return this.settings.directoryUrl;
  }

  /** New directory URL / email (the settings page): the next call registers or looks up the account again. */
  updateSettings(s: AcmeSettings): void {
    this.settings = AcmeEngine.checkSettings(s);
    this.account = null;
  }

  /** Calls for these names are running now (names in any order). */
  isIssuing(names: string[]): boolean {
    return this.inflight.has(namesKey(normalizeNames(names)));
  }

  /**
   * The account of the current directory: the key is made once; at first use in a process
   * the CA is asked for the existing account (onlyReturnExisting) and only when it has none
   * is a new one registered (terms of service agreed: the admin chose the CA). A changed
   * email updates the account's contact.
   */
  async ensureAccount(): Promise<{ directoryUrl: string; accountUrl: string }> {
    const { directoryUrl, accountUrl } = await this.currentAccount();
    return { directoryUrl, accountUrl };
  }

  private currentAccount(): Promise<{ directoryUrl: string; keyPem: string; accountUrl: string }> {
    if (!this.account) {
      const p = this.loadAccount();
      this.account = p;
      p.catch(() => {
        if (this.account === p) this.account = null;
      });
    }
    return this.account;
  }

  private async loadAccount(): Promise<{ directoryUrl: string; keyPem: string; accountUrl: string }> {
    const { directoryUrl, email } = this.settings;
    const { keyPem } = await loadOrCreateAccountKey(this.opts.certDir, directoryUrl);
    const { client, transport } = await this.client(directoryUrl, keyPem);
    const contact = email ? [`mailto:${email}`] : [];
    try {
      let account: { contact?: string[] };
      try {
        account = await this.step(transport, "looking up the ACME account", () => client.createAccount({ onlyReturnExisting: true }));
      } catch (e) {
        if (!(isHearthError(e) && (e.details as { problemType?: string } | undefined)?.problemType === `${ACME_ERROR}accountDoesNotExist`)) throw e;
        account = await this.step(transport, "registering the ACME account", () => client.createAccount({ termsOfServiceAgreed: true, ...(contact.length ? { contact } : {}) }));
      }
      const have = [...(account.contact ?? [])].sort().join(",");
      if (have !== contact.join(",")) {
        await this.step(transport, "updating the ACME account's email", () => client.updateAccount({ contact }));
      }
      return { directoryUrl, keyPem, accountUrl: client.getAccountUrl() };
    } finally {
      transport.close();
    }
  }

  /** A client for one operation, with its own transport (so a problem document is never another call's). */
  private async client(directoryUrl: string, keyPem: string, accountUrl?: string): Promise<{ client: Client; transport: AcmeTransport }> {
    const acmeClient = await loadAcme();
    const transport = new AcmeTransport({ caCertificates: this.opts.caCertificates, timeoutMs: this.opts.requestTimeoutMs });
    const client = new acmeClient.Client({
      directoryUrl,
      accountKey: keyPem,
      accountUrl,
      backoffAttempts: this.opts.poll?.attempts ?? 12,
      backoffMin: this.opts.poll?.minMs ?? 1_000,
      backoffMax: this.opts.poll?.maxMs ?? 15_000,
    });
    // see transport.ts: acme-client's one HTTP entry point, replaced per client
    const http = (client as unknown as { http?: { request?: unknown } }).http;
    if (!http || typeof http.request !== "function") throw new HearthError("internal", "acme-client's HttpClient.request is gone: check transport.ts against the installed acme-client");
    http.request = (url: string, method: string, o?: { data?: unknown; headers?: Record<string, string> }) => transport.request(url, method, o);
    return { client, transport };
  }

  /** Runs one protocol step; any failure becomes HearthError `external` carrying the CA's problem. */
  private async step<T>(transport: AcmeTransport, what: string, fn: () => Promise<T>): Promise<T> {
    transport.takeProblem();
    try {
      return await fn();
    } catch (e) {
      throw this.caError(what, e, transport.takeProblem());
    }
  }

  private caError(what: string, e: unknown, problem: AcmeProblem | null): HearthError {
    if (isHearthError(e) && e.code !== "external") return e;
    const base = isHearthError(e) ? ((e.details as Record<string, unknown> | undefined) ?? {}) : {};
    // an RFC 8555 problem document says it best; a non-ACME error body (a 404 page) does not
    const detail = (problem?.type ? problem.detail : undefined) ?? (e as Error)?.message ?? String(e);
    const rateLimited = problem?.type === `${ACME_ERROR}rateLimited` || problem?.status === 429;
    const extra = rateLimited && problem?.retryAfter ? ` (the CA asks to retry after ${problem.retryAfter})` : "";
    return new HearthError("external", `${what} failed: ${detail}${extra}`, {
      details: {
        ...base,
        reason: rateLimited ? "acme_rate_limited" : (base.reason ?? "acme_error"),
        directoryUrl: this.settings.directoryUrl,
        ...(problem ? { problemType: problem.type, status: problem.status, retryAfter: problem.retryAfter } : {}),
      },
      cause: e,
    });
  }

  /**
   * Orders a certificate for `names` and stores it in `<certDir>/<slug>/`. HearthError
   * `invalid` for bad input (bad names, a wildcard without dns-01, dns-01 without a
   * provider or a name outside its zone), `external` when the CA or DNS refuses.
   */
  issueCertificate(req: IssueRequest): Promise<IssuedCertificate> {
    const names = normalizeNames(req.names);
    if (req.challenge !== "http-01" && req.challenge !== "dns-01") {
      throw new HearthError("invalid", `unknown ACME challenge ${JSON.stringify(req.challenge)} (http-01 or dns-01)`);
    }
    const wildcards = names.filter(isWildcard);
    if (wildcards.length > 0 && req.challenge !== "dns-01") {
      throw new HearthError("invalid", `wildcard names (${wildcards.join(", ")}) can only be validated with dns-01, which needs a DNS provider with an API`);
    }
    if (req.challenge === "dns-01") {
      if (!req.dnsProvider) throw new HearthError("invalid", "dns-01 needs the domain's DNS provider");
      if (!req.waitForPropagation) throw new HearthError("invalid", "dns-01 needs a propagation check");
      const zone = req.dnsProvider.zone.toLowerCase().replace(/\.$/, "");
      const outside = names.map((n) => (isWildcard(n) ? n.slice(WILDCARD_PREFIX.length) : n)).filter((n) => n !== zone && !n.endsWith(`.${zone}`));
      if (outside.length > 0) throw new HearthError("invalid", `${outside.join(", ")} not in the DNS zone ${zone} of this provider`);
    }
    const slug = req.slug ?? certificateSlug(names);
    this.store.paths(slug); // validates the slug before anything is ordered

    const key = namesKey(names);
    const running = this.inflight.get(key);
    if (running) return running;
    const run = this.issueNow({ ...req, names }, slug)
      .catch((e: unknown) => {
        // the CA forgot the account (deactivated, or a test CA restarted): look it up / register again next time
        const type = isHearthError(e) ? (e.details as { problemType?: string } | undefined)?.problemType : undefined;
        if (type === `${ACME_ERROR}accountDoesNotExist` || type === `${ACME_ERROR}unauthorized`) this.account = null;
        throw e;
      })
      .finally(() => this.inflight.delete(key));
    this.inflight.set(key, run);
    return run;
  }

  private async issueNow(req: IssueRequest & { names: string[] }, slug: string): Promise<IssuedCertificate> {
    const started = Date.now();
    const names = req.names;
    const progress = (m: string) => req.onProgress?.(m);
    const account = await this.currentAccount();
    const { client, transport } = await this.client(account.directoryUrl, account.keyPem, account.accountUrl);
    const label = names.join(", ");
    const warnings: string[] = [];
    try {
      progress(`ordering a certificate for ${label} from ${new URL(account.directoryUrl).host}`);
      let order = await this.step(transport, `ordering a certificate for ${label}`, () => client.createOrder({ identifiers: names.map((value) => ({ type: "dns", value })) }));
      const authzs = await this.step(transport, `reading the authorizations for ${label}`, () => client.getAuthorizations(order));

      const pending: acme.Authorization[] = [];
      for (const a of authzs) {
        if (a.status === "valid") continue; // the CA still trusts an earlier validation
        if (a.status !== "pending") {
          throw new HearthError("external", `the CA's authorization for ${authzName(a)} is ${a.status}`, { details: { reason: "acme_error", directoryUrl: account.directoryUrl } });
        }
        pending.push(a);
      }

      const published: Published[] = [];
      const cleanups: (() => Promise<void>)[] = [];
      try {
        if (req.challenge === "http-01") {
          for (const authz of pending) {
            const challenge = pick(authz, "http-01");
            const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
            const file = await this.writeToken(challenge, keyAuthorization);
            cleanups.push(() => rm(file, { force: true }));
            published.push({ authz, challenge, describe: `http-01 challenge for ${authzName(authz)}` });
          }
        } else {
          // every TXT value of the order first: `*.d` and `d` put two values under one name
          const byRecord = new Map<string, string[]>();
          for (const authz of pending) {
            const challenge = pick(authz, "dns-01");
            const value = await client.getChallengeKeyAuthorization(challenge);
            const record = `_acme-challenge.${authz.identifier.value.toLowerCase()}`;
            byRecord.set(record, [...(byRecord.get(record) ?? []), value]);
            published.push({ authz, challenge, describe: `dns-01 challenge for ${authzName(authz)}` });
          }
          for (const [record, values] of byRecord) {
            progress(`setting the TXT record ${record}`);
            cleanups.push(() => this.removeTxt(req.dnsProvider!, record, values));
            await this.addTxt(req.dnsProvider!, record, values);
          }
          for (const [record, values] of byRecord) {
            progress(`waiting until ${record} is visible on the authoritative DNS servers`);
            try {
              await req.waitForPropagation!(record, "TXT", values);
            } catch (e) {
              if (isHearthError(e)) throw e;
              throw new HearthError("external", `the TXT record ${record} did not propagate: ${(e as Error).message}`, { cause: e });
            }
          }
        }

        if (published.length > 0) progress(`asking the CA to validate ${published.map((p) => p.describe).join(", ")}`);
        for (const p of published) {
          await this.step(transport, `starting the ${p.describe}`, () => client.completeChallenge(p.challenge));
        }
        const results = await Promise.allSettled(published.map((p) => this.step(transport, `the ${p.describe}`, () => client.waitForValidStatus(p.challenge))));
        const failed = results.flatMap((r) => (r.status === "rejected" ? [r.reason as HearthError] : []));
        if (failed.length === 1) throw failed[0]!;
        if (failed.length > 1) {
          throw new HearthError("external", failed.map((f) => f.message).join("; "), { details: failed[0]!.details, cause: failed[0] });
        }
        const orderUrl = order.url;
        // waitForValidStatus returns the body only: keep the order's URL (finalize and download need it)
        order = { ...(await this.step(transport, `waiting for the order of ${label} to become ready`, () => client.waitForValidStatus(order))), url: orderUrl };
      } finally {
        for (const cleanup of cleanups) {
          try {
            await cleanup();
          } catch (e) {
            warnings.push((e as Error).message);
          }
        }
      }
      const authorizedMs = Date.now() - started;

      progress(`finalizing the certificate for ${label}`);
      const { privateKey: keyPem } = generateKeyPairSync("ec", {
        namedCurve: "P-256",
        privateKeyEncoding: { type: "pkcs8", format: "pem" },
        publicKeyEncoding: { type: "spki", format: "pem" },
      });
      const [, csr] = await (await loadAcme()).crypto.createCsr(
        // the CN is limited to 64 characters; the SANs are what counts
        { ...(names[0]!.length <= 64 ? { commonName: names[0] } : {}), altNames: [...names] },
        keyPem,
      );
      order = await this.step(transport, `finalizing the order of ${label}`, () => client.finalizeOrder(order, csr));
      const certPem = await this.step(transport, `downloading the certificate for ${label}`, () => client.getCertificate(order));

      const normalized = checkIssued(certPem, keyPem, names);
      const paths = await this.store.write(slug, { certPem: normalized, keyPem });
      progress(`stored the certificate for ${label}`);
      return {
        ...paths,
        names,
        slug,
        challenge: req.challenge,
        directoryUrl: account.directoryUrl,
        certPem: normalized,
        info: inspectCertificate(normalized),
        timings: { authorizedMs, totalMs: Date.now() - started },
        warnings,
      };
    } finally {
      transport.close();
    }
  }

  /** Writes `<acmeChallengeDir>/<token>` (0644, atomically: the CA never reads half a file). */
  private async writeToken(challenge: Challenge, keyAuthorization: string): Promise<string> {
    if (!TOKEN.test(challenge.token)) throw new HearthError("external", `the CA sent an unusable http-01 token ${JSON.stringify(challenge.token.slice(0, 80))}`);
    const dir = this.opts.acmeChallengeDir;
    await mkdir(dir, { recursive: true, mode: 0o755 });
    const file = path.join(dir, challenge.token);
    const tmp = path.join(dir, `.${challenge.token}.${randomBytes(4).toString("hex")}.tmp`);
    try {
      await writeFile(tmp, keyAuthorization, { mode: 0o644 });
      await chmod(tmp, 0o644); // nginx's workers are another user; the umask must not hide it
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    return file;
  }

  /**
   * Token files older than `maxAgeMs` (left by a crash between writing and cleanup). Called
   * at start; a running order's tokens are minutes old at most.
   */
  async sweepStaleTokens(now = new Date(), maxAgeMs = 3_600_000): Promise<string[]> {
    const removed: string[] = [];
    let entries: string[];
    try {
      entries = await readdir(this.opts.acmeChallengeDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return removed;
      throw e;
    }
    for (const name of entries) {
      const file = path.join(this.opts.acmeChallengeDir, name);
      const st = await stat(file).catch(() => null);
      if (st?.isFile() && now.getTime() - st.mtimeMs > maxAgeMs) {
        await rm(file, { force: true });
        removed.push(name);
      }
    }
    return removed;
  }

  /** Adds our values to the TXT set (keeping values another order of the same name put there). */
  private addTxt(provider: DnsProvider, name: string, values: string[]): Promise<void> {
    return this.withTxtLock(provider, name, async () => {
      try {
        const current = await provider.get(name, "TXT");
        const merged = [...new Set([...(current?.values ?? []), ...values])];
        await provider.upsert({ name, type: "TXT", values: merged, ttl: this.opts.txtTtl ?? 60 });
      } catch (e) {
        if (isHearthError(e)) throw e;
        throw new HearthError("external", `could not set the TXT record ${name} through ${provider.kind}: ${(e as Error).message}`, { cause: e });
      }
    });
  }

  private removeTxt(provider: DnsProvider, name: string, values: string[]): Promise<void> {
    return this.withTxtLock(provider, name, async () => {
      try {
        await provider.remove(name, "TXT", values);
      } catch (e) {
        throw new Error(`could not remove the TXT record ${name} through ${provider.kind}: ${(e as Error).message}`, { cause: e });
      }
    });
  }

  private withTxtLock<T>(provider: DnsProvider, name: string, fn: () => Promise<T>): Promise<T> {
    const key = `${provider.kind}|${provider.zone}|${name}`;
    const prev = this.txtLocks.get(key) ?? Promise.resolve();
    const run = prev.then(fn);
    const tail = run.catch(() => undefined);
    this.txtLocks.set(key, tail);
    void tail.then(() => {
      if (this.txtLocks.get(key) === tail) this.txtLocks.delete(key);
    });
    return run;
  }
}

function authzName(a: acme.Authorization): string {
  return a.wildcard ? `*.${a.identifier.value}` : a.identifier.value;
}

function pick(authz: acme.Authorization, type: ChallengeType): Challenge {
  const c = authz.challenges.find((ch) => ch.type === type);
  if (!c) {
    const offered = authz.challenges.map((ch) => ch.type).join(", ") || "none";
    throw new HearthError("external", `the CA offers no ${type} challenge for ${authzName(authz)} (offered: ${offered})`, { details: { reason: "acme_error" } });
  }
  return c;
}

/** The CA's answer must be a chain whose leaf is ours (key) and covers every name we asked for. */
function checkIssued(certPem: string, keyPem: string, names: string[]): string {
  let chain: X509Certificate[];
  try {
    chain = parseChain(certPem);
  } catch (e) {
    throw new HearthError("external", `the CA returned something that is not a certificate: ${(e as Error).message}`, { cause: e });
  }
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(createPrivateKey(keyPem))) throw new HearthError("external", "the CA returned a certificate for another key");
  const info = inspectCertificate(certPem);
  const missing = uncoveredNames(info.names, names);
  if (missing.length > 0) throw new HearthError("external", `the CA returned a certificate without ${missing.join(", ")}`);
  return chain.map((c) => c.toString().trim()).join("\n") + "\n";
}
