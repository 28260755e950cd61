import { createPrivateKey, X509Certificate, type KeyObject } from "node:crypto";
import { HearthError } from "./errors";

/**
 * Checks an uploaded certificate chain and key before Hearth stores them (tlsMode `custom`).
 *
 * Server-only: it uses node:crypto, so it is exported only as `@hearth/contracts/x509` and
 * never from the package index (the browser bundle imports the index).
 *
 * Refused, each with HearthError("invalid") naming the field (`customCertificate` or
 * `customKey`) in `details[].path`:
 *  - text that holds no PEM certificate, a PEM block that does not parse, or a private key
 *    pasted into the certificate field;
 *  - a key that does not parse, is encrypted, or is not the leaf certificate's key;
 *  - a certificate of the chain that is expired or not yet valid;
 *  - a leaf that does not cover one of the required names (subjectAltName DNS entries only,
 *    as browsers do; the subject CN is ignored);
 *  - a broken chain: every certificate must be issued and signed by the next one
 *    (X509Certificate.checkIssued + verify). The chain need not end in a public root: a
 *    private CA is the admin's choice; browsers judge trust.
 */

export const MAX_CHAIN_LENGTH = 10;

export interface CertificateSummary {
  subject: string;
  issuer: string;
  serial: string;
  /** SHA-256, "AB:CD:…" */
  fingerprint256: string;
  /** subjectAltName DNS names, lower case */
  names: string[];
  notBefore: Date;
  notAfter: Date;
}

export interface ValidatedCertificate {
  /** the chain re-encoded: leaf first, one PEM block each, nothing else */
  chainPem: string;
  /** the key as PKCS#8 PEM */
  keyPem: string;
  leaf: CertificateSummary;
  chain: CertificateSummary[];
}

function refuse(field: string, message: string): HearthError {
  return new HearthError("invalid", message, { details: [{ path: [field], code: "custom", message }] });
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/** The PEM blocks of `text` (label + whole block), in order. */
export function pemBlocks(text: string): { label: string; pem: string }[] {
  const out: { label: string; pem: string }[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) out.push({ label: m[1]!, pem: m[0] });
  return out;
}

/** The subjectAltName DNS names of a certificate, lower case. */
export function dnsNamesOf(cert: X509Certificate): string[] {
  const san = cert.subjectAltName;
  if (!san) return [];
  const out: string[] = [];
  // Node's form: `DNS:a.example, DNS:*.example, IP Address:192.0.2.1`; a name with
  // unusual characters is JSON-quoted (`DNS:"…"`), which no valid host name needs
  for (const part of san.split(/,\s*/)) {
    const m = /^DNS:(.+)$/.exec(part.trim());
    if (!m) continue;
    let name = m[1]!;
    if (name.startsWith('"')) {
      try {
        name = JSON.parse(name) as string;
      } catch {
        continue;
      }
    }
    out.push(name.toLowerCase().replace(/\.$/, ""));
  }
  return out;
}

/**
 * Whether a certificate name covers a host name, the way browsers match (RFC 6125 §6.4.3):
 * equal, or `*.b.c` for `a.b.c` (exactly one label in place of `*`, never the bare `b.c`).
 * A wildcard host (`*.b.c`) is covered only by the same wildcard.
 */
export function nameCovers(certName: string, host: string): boolean {
  const c = certName.toLowerCase().replace(/\.$/, "");
  const h = host.toLowerCase().replace(/\.$/, "");
  if (c === h) return true;
  if (!c.startsWith("*.") || h.startsWith("*.")) return false;
  const dot = h.indexOf(".");
  return dot > 0 && h.slice(dot + 1) === c.slice(2);
}

/** The names of `hosts` that none of `certNames` covers. */
export function uncoveredNames(certNames: readonly string[], hosts: readonly string[]): string[] {
  return hosts.filter((h) => !certNames.some((c) => nameCovers(c, h)));
}

function dateOf(s: string): Date {
  return new Date(s);
}

function summaryOf(cert: X509Certificate): CertificateSummary {
  return {
    subject: cert.subject.replace(/\n/g, ", "),
    issuer: cert.issuer.replace(/\n/g, ", "),
    serial: cert.serialNumber,
    fingerprint256: cert.fingerprint256,
    names: dnsNamesOf(cert),
    notBefore: dateOf(cert.validFrom),
    notAfter: dateOf(cert.validTo),
  };
}

/** A short label of a certificate for messages: its first name or its subject. */
function labelOf(s: CertificateSummary, index: number): string {
  const cn = /(?:^|, )CN=([^,]+)/.exec(s.subject)?.[1];
  const what = index === 0 ? "the certificate" : `chain certificate ${index + 1}`;
  return `${what} (${s.names[0] ?? cn ?? s.subject})`;
}

/**
 * Parses a certificate field: one or more CERTIFICATE blocks (a chain leaf first, or a CA
 * bundle), nothing else. `field` is the request field errors name.
 */
export function parseCertificateChain(text: string, field = "customCertificate"): X509Certificate[] {
  const blocks = pemBlocks(text);
  if (blocks.length === 0) throw refuse(field, "The certificate is not PEM text (expected -----BEGIN CERTIFICATE-----)");
  const stray = blocks.find((b) => b.label !== "CERTIFICATE");
  if (stray) {
    throw refuse(
      field,
      /PRIVATE KEY/.test(stray.label)
        ? "The certificate field holds a private key; put the key in the key field"
        : `The certificate field holds a ${stray.label} block; only CERTIFICATE blocks belong there`,
    );
  }
  if (blocks.length > MAX_CHAIN_LENGTH) throw refuse(field, `The chain has ${blocks.length} certificates; at most ${MAX_CHAIN_LENGTH} are accepted`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b.pem);
    } catch {
      throw refuse(field, i === 0 ? "The certificate cannot be parsed (damaged PEM?)" : `Chain certificate ${i + 1} cannot be parsed (damaged PEM?)`);
    }
  });
}

/** Parses the key field: one unencrypted private key (PKCS#8, PKCS#1 RSA or SEC1 EC). */
export function parsePrivateKey(text: string): KeyObject {
  const blocks = pemBlocks(text);
  if (blocks.length === 0) throw refuse("customKey", "The key is not PEM text (expected -----BEGIN PRIVATE KEY-----)");
  const keys = blocks.filter((b) => /PRIVATE KEY$/.test(b.label) && b.label !== "ENCRYPTED PRIVATE KEY");
  if (blocks.some((b) => b.label === "ENCRYPTED PRIVATE KEY") || /Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw refuse("customKey", "The key is encrypted; remove its passphrase first (openssl pkey -in key.pem -out key-plain.pem)");
  }
  if (keys.length === 0)
    throw refuse("customKey", blocks.some((b) => b.label === "CERTIFICATE") ? "The key field holds a certificate; put the private key there" : "The key field holds no private key");
  if (keys.length > 1) throw refuse("customKey", "The key field holds more than one private key");
  try {
    return createPrivateKey({ key: keys[0]!.pem, format: "pem" });
  } catch {
    throw refuse("customKey", "The private key cannot be parsed (damaged PEM?)");
  }
}

/**
 * Validates a custom certificate: the chain (leaf first) and key parse, the key is the
 * leaf's, every certificate is valid at `now`, each certificate is issued and signed by
 * the next, and the leaf covers every name of `names` (wildcards allowed on both sides,
 * see nameCovers). Returns the normalised chain and key and what the UI shows.
 */
export function validateCustomCertificate(input: { certificate: string; key: string; names: readonly string[]; now?: Date }): ValidatedCertificate {
  const now = input.now ?? new Date();
  const certs = parseCertificateChain(input.certificate);
  const key = parsePrivateKey(input.key);
  const chain = certs.map(summaryOf);
  const leaf = certs[0]!;
  const leafSummary = chain[0]!;

  const owns = (c: X509Certificate) => {
    try {
      return c.checkPrivateKey(key);
    } catch {
      return false; // another key type
    }
  };
  if (!owns(leaf)) {
    const at = certs.findIndex(owns);
    throw at > 0
      ? refuse("customCertificate", `The server certificate must come first: the key belongs to certificate ${at + 1} of the chain`)
      : refuse("customKey", "The private key does not belong to the certificate");
  }

  for (const [i, s] of chain.entries()) {
    if (s.notAfter.getTime() <= now.getTime()) throw refuse("customCertificate", `${capital(labelOf(s, i))} expired on ${s.notAfter.toISOString()}`);
    if (s.notBefore.getTime() > now.getTime()) throw refuse("customCertificate", `${capital(labelOf(s, i))} is not valid before ${s.notBefore.toISOString()}`);
  }

  const issues = (child: X509Certificate, parent: X509Certificate) => child.checkIssued(parent) && child.verify(parent.publicKey);
  for (let i = 0; i + 1 < certs.length; i++) {
    if (issues(certs[i]!, certs[i + 1]!)) continue;
    // the right certificates in another order is the usual mistake: say so
    throw refuse(
      "customCertificate",
      orderable(certs, issues)
        ? "The chain is in the wrong order: put the server certificate first, then the certificate that issued it, and so on"
        : `The chain is broken: ${labelOf(chain[i]!, i)} was not issued by ${labelOf(chain[i + 1]!, i + 1)}`,
    );
  }

  if (leafSummary.names.length === 0) {
    throw refuse("customCertificate", "The certificate has no DNS names (subjectAltName); browsers ignore the subject's common name");
  }
  const missing = uncoveredNames(leafSummary.names, input.names);
  if (missing.length > 0) {
    throw refuse("customCertificate", `The certificate does not cover ${missing.join(", ")} (it is for ${leafSummary.names.join(", ")})`);
  }

  return {
    chainPem: certs.map((c) => c.toString().trim()).join("\n") + "\n",
    keyPem: key.export({ format: "pem", type: "pkcs8" }).toString(),
    leaf: leafSummary,
    chain,
  };
}

/** Whether the certificates after the leaf, in some order, make a chain from it. */
function orderable(certs: X509Certificate[], issues: (child: X509Certificate, parent: X509Certificate) => boolean): boolean {
  const rest = certs.slice(1);
  let current = certs[0]!;
  while (rest.length > 0) {
    const i = rest.findIndex((c) => issues(current, c));
    if (i < 0) return false;
    current = rest.splice(i, 1)[0]!;
  }
  return true;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
