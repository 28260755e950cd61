import { X509Certificate } from "node:crypto";
import { HearthError } from "@hearth/contracts";

/**
 * Reading certificates (node:crypto's X509Certificate, no openssl process): what a PEM
 * holds, whether it is due for renewal, and whether an uploaded pair may be served.
 */

export interface CertificateInfo {
  /** DNS names of the subjectAltName extension (the subject CN when there is none), lower case. */
  names: string[];
  /** The issuer's CN (else O, else the whole DN). */
  issuer: string;
  /** The issuer's distinguished name, one `K=V` per line as node prints it. */
  issuerDn: string;
  subject: string;
  notBefore: Date;
  notAfter: Date;
  /** Serial number, upper-case hex without separators. */
  serial: string;
  /** SHA-256 fingerprint, upper-case hex with colons. */
  fingerprint256: string;
  /** Certificates in the PEM, leaf first (1 = no chain). */
  chainLength: number;
  /** The leaf is self-signed. */
  selfSigned: boolean;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?\r?\n-----END CERTIFICATE-----/g;
const DAY_MS = 86_400_000;
export const RENEW_BEFORE_DAYS = 30;

function invalid(message: string, details?: unknown): HearthError {
  return new HearthError("invalid", message, details === undefined ? {} : { details });
}

/** The CERTIFICATE blocks of a PEM text, in order, normalised to `\n` line ends. */
export function splitPemCertificates(pem: string): string[] {
  if (typeof pem !== "string") return [];
  return (pem.match(PEM_CERT) ?? []).map((b) => b.replace(/\r\n/g, "\n"));
}

/** Parses every certificate of a PEM bundle, leaf first. HearthError `invalid` on garbage. */
export function parseChain(pem: string): X509Certificate[] {
  const blocks = splitPemCertificates(pem);
  if (blocks.length === 0) throw invalid("the certificate is not in PEM format (no -----BEGIN CERTIFICATE----- block found)");
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (e) {
      throw invalid(`certificate ${i + 1} of ${blocks.length} in the PEM cannot be read: ${(e as Error).message}`);
    }
  });
}

/** DNS names of a certificate's subjectAltName (node quotes unusual values as JSON strings). */
export function certificateNames(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  const names: string[] = [];
  if (san) {
    for (const part of san.split(/,\s*(?=[A-Za-z ]+:)/)) {
      if (!part.startsWith("DNS:")) continue;
      let value = part.slice(4);
      if (value.startsWith('"')) {
        try {
          value = JSON.parse(value) as string;
        } catch {
          continue;
        }
      }
      names.push(value.toLowerCase());
    }
  }
  if (names.length === 0) {
    const cn = dnField(cert.subject, "CN");
    if (cn) names.push(cn.toLowerCase());
  }
  return names;
}

function dnField(dn: string, key: string): string | undefined {
  for (const line of dn.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0 && line.slice(0, i) === key) return line.slice(i + 1);
  }
  return undefined;
}

function infoOf(cert: X509Certificate, chainLength: number): CertificateInfo {
  return {
    names: certificateNames(cert),
    issuer: dnField(cert.issuer, "CN") ?? dnField(cert.issuer, "O") ?? cert.issuer,
    issuerDn: cert.issuer,
    subject: cert.subject,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    serial: cert.serialNumber.toUpperCase(),
    fingerprint256: cert.fingerprint256,
    chainLength,
    selfSigned: cert.checkIssued(cert) && cert.verify(cert.publicKey),
  };
}

/** What the first certificate of a PEM (leaf, chain after it) says. HearthError `invalid` on garbage. */
export function inspectCertificate(pem: string): CertificateInfo {
  const chain = parseChain(pem);
  return infoOf(chain[0]!, chain.length);
}

/** Due when fewer than `days` days are left (or already expired). */
export function needsRenewal(cert: Pick<CertificateInfo, "notAfter">, now: Date, days = RENEW_BEFORE_DAYS): boolean {
  return cert.notAfter.getTime() - now.getTime() < days * DAY_MS;
}
