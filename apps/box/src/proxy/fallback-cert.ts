import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { HearthError } from "@hearth/contracts";
import { makeSelfSignedPair } from "../lib/self-signed";
import { validateHostname } from "./vhost";

/**
 * The self-signed fallback certificate of a domain, served until the Certificates issue
 * brings real ones: ECDSA P-256, SAN `*.domain` and `domain`, made with the `openssl` CLI
 * (a package setup installs anyway) and kept in `<dir>/<domain>.crt` + `<domain>.key`
 * (key 0600). Made again only when missing, unreadable, for other names, not matching its
 * key, or expiring within `renewDays`.
 */
export interface FallbackCert {
  certPath: string;
  keyPath: string;
  /** True when this call made a new certificate. */
  created: boolean;
  notAfter: Date;
}

export const FALLBACK_CERT_DAYS = 825;
export const FALLBACK_RENEW_DAYS = 30;

export function fallbackCertPaths(dir: string, domain: string): { certPath: string; keyPath: string } {
  const d = validateHostname(domain);
  return { certPath: path.join(dir, `${d}.crt`), keyPath: path.join(dir, `${d}.key`) };
}

/** Why the stored pair is not usable, or null when it is. */
async function problemWith(certPath: string, keyPath: string, domain: string, now: Date, renewDays: number): Promise<string | null> {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(await readFile(certPath));
    const key = createPrivateKey(await readFile(keyPath));
    if (!cert.checkPrivateKey(key)) return "key does not match";
  } catch {
    return "missing or unreadable";
  }
  const sans = (cert.subjectAltName ?? "").split(",").map((s) => s.trim());
  if (!sans.includes(`DNS:${domain}`) || !sans.includes(`DNS:*.${domain}`)) return "names differ";
  if (new Date(cert.validTo).getTime() - now.getTime() < renewDays * 86_400_000) return "expiring";
  return null;
}

export async function ensureFallbackCert(dir: string, domainName: string, opts: { now?: Date; renewDays?: number; days?: number } = {}): Promise<FallbackCert> {
  const domain = validateHostname(domainName);
  const { certPath, keyPath } = fallbackCertPaths(dir, domain);
  const now = opts.now ?? new Date();
  const renewDays = opts.renewDays ?? FALLBACK_RENEW_DAYS;

  if ((await problemWith(certPath, keyPath, domain, now, renewDays)) === null) {
    return { certPath, keyPath, created: false, notAfter: new Date(new X509Certificate(await readFile(certPath)).validTo) };
  }

  await makeSelfSignedPair({ certPath, keyPath, commonName: domain, dnsNames: [`*.${domain}`, domain], days: opts.days ?? FALLBACK_CERT_DAYS, what: `a self-signed certificate for ${domain}` });
  const notAfter = new Date(new X509Certificate(await readFile(certPath)).validTo);
  return { certPath, keyPath, created: true, notAfter };
}
