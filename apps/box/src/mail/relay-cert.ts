import { createPrivateKey, randomBytes, X509Certificate } from "node:crypto";
import { chmod, mkdir, readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { HearthError } from "@hearth/contracts";
import { runChecked } from "../shell";

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
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const tag = randomBytes(6).toString("hex");
  const tmpKey = path.join(dir, `.relay.key.${tag}`);
  const tmpCert = path.join(dir, `.relay.crt.${tag}`);
  try {
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
        String(DAYS),
        "-subj",
        `/O=Hearth self-signed/CN=${name}`,
        "-addext",
        `subjectAltName=DNS:${name}`,
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
    await rename(tmpKey, keyPath);
    await rename(tmpCert, certPath);
  } catch (e) {
    await rm(tmpKey, { force: true });
    await rm(tmpCert, { force: true });
    const msg = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
    throw new HearthError("external", `could not create the mail relay's certificate: ${msg}`, { cause: e });
  }
  return { key: await readFile(keyPath), cert: await readFile(certPath), created: true };
}
