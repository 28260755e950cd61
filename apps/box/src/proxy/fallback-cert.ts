import { randomBytes, X509Certificate, createPrivateKey } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { HearthError } from "@hearth/contracts";
import { runChecked } from "../shell";
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

  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const tag = randomBytes(6).toString("hex");
  const tmpKey = path.join(dir, `.${domain}.key.${tag}`);
  const tmpCert = path.join(dir, `.${domain}.crt.${tag}`);
  try {
    // the directory is 0700, so the key is never readable by others, even before the chmod
    await runChecked(
      "openssl",
      [
        "req",
        "-x509",
        "-new",
        "-nodes",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-sha256",
        "-days",
        String(opts.days ?? FALLBACK_CERT_DAYS),
        "-subj",
        `/O=Hearth self-signed/CN=${domain}`,
        "-addext",
        `subjectAltName=DNS:*.${domain},DNS:${domain}`,
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-addext",
        "extendedKeyUsage=serverAuth",
        "-keyout",
        tmpKey,
        "-out",
        tmpCert,
      ],
      { timeoutMs: 30_000 },
    );
    await chmod(tmpKey, 0o600);
    await chmod(tmpCert, 0o644);
    // key first: a crash between the renames leaves a mismatched pair, which the next call remakes
    await rename(tmpKey, keyPath);
    await rename(tmpCert, certPath);
  } catch (e) {
    await rm(tmpKey, { force: true });
    await rm(tmpCert, { force: true });
    const msg = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
    throw new HearthError("external", `could not create a self-signed certificate for ${domain}: ${msg}`, { cause: e });
  }
  const notAfter = new Date(new X509Certificate(await readFile(certPath)).validTo);
  return { certPath, keyPath, created: true, notAfter };
}
