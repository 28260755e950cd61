import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { HearthError } from "@hearth/contracts";
import { makeSelfSignedPair } from "../lib/self-signed";

/**
 * The relay's STARTTLS certificate: self-signed (ECDSA P-256, made with the `openssl` CLI
 * like the proxy's fallback certificate), kept in `<dir>/relay.crt` + `relay.key` (0600 in
 * a 0700 folder), made again when missing, mismatched or within 30 days of its end. Apps
 * reach the relay on their private Docker network by IP, so no public CA could name it
 * anyway; what TLS buys here is that the password never crosses a bridge in clear text.
 */
export interface RelayCert {
  key: Buffer;
  cert: Buffer;
  created: boolean;
}

const DAYS = 3650;
const RENEW_DAYS = 30;

export async function ensureRelayCert(dir: string, name = "hearth-mail-relay", now = new Date()): Promise<RelayCert> {
  const certPath = path.join(dir, "relay.crt");
  const keyPath = path.join(dir, "relay.key");
  try {
    const [cert, key] = [await readFile(certPath), await readFile(keyPath)];
    const x = new X509Certificate(cert);
    if (x.checkPrivateKey(createPrivateKey(key)) && new Date(x.validTo).getTime() - now.getTime() > RENEW_DAYS * 86_400_000) {
      return { key, cert, created: false };
    }
  } catch {
    // missing or unreadable: made below
  }
  if (!/^[a-z0-9.-]{1,253}$/i.test(name)) throw new HearthError("invalid", `${JSON.stringify(name)} is not a host name`);
  await makeSelfSignedPair({ certPath, keyPath, commonName: name, dnsNames: [name], days: DAYS, what: "the mail relay's certificate" });
  return { key: await readFile(keyPath), cert: await readFile(certPath), created: true };
}
