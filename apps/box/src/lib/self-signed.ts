import { randomBytes } from "node:crypto";
import { chmod, mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { HearthError } from "@hearth/contracts";
import { runChecked } from "../shell";

/**
 * Makes a self-signed ECDSA P-256 server certificate with the `openssl` CLI and puts it at
 * `certPath` + `keyPath` (key 0600, cert 0644) in their folder, made 0700 first so the key
 * is never readable by others, even before the chmod. Written under temporary names and
 * renamed key first: a crash between the renames leaves a mismatched pair, which callers
 * detect and make again. Used by the proxy's fallback certificate and the mail relay's.
 * Fails with `external` naming `what` and openssl's message; nothing is left behind.
 */
export async function makeSelfSignedPair(opts: { certPath: string; keyPath: string; commonName: string; dnsNames: string[]; days: number; what: string }): Promise<void> {
  const dir = path.dirname(opts.certPath);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const tag = randomBytes(6).toString("hex");
  const tmpKey = path.join(dir, `.${path.basename(opts.keyPath)}.${tag}`);
  const tmpCert = path.join(dir, `.${path.basename(opts.certPath)}.${tag}`);
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
        String(opts.days),
        "-subj",
        `/O=Hearth self-signed/CN=${opts.commonName}`,
        "-addext",
        `subjectAltName=${opts.dnsNames.map((n) => `DNS:${n}`).join(",")}`,
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
    await rename(tmpKey, opts.keyPath);
    await rename(tmpCert, opts.certPath);
  } catch (e) {
    await rm(tmpKey, { force: true });
    await rm(tmpCert, { force: true });
    const msg = (e as { stderr?: string }).stderr?.trim() || (e as Error).message;
    throw new HearthError("external", `could not create ${opts.what}: ${msg}`, { cause: e });
  }
}
