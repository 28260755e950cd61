import { createHash, createPrivateKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { chmod, link, mkdir, open, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { HearthError } from "@hearth/contracts";

/**
 * The ACME account key: one ECDSA P-256 key per directory URL (an account belongs to one
 * CA), in `<certDir>/account/<sha256(directoryUrl)[:32]>.key`, mode 0600 in a 0700
 * directory. Made once; two processes racing to make it end up with the same key (the
 * loser reads the winner's file).
 */

export function accountKeyPath(certDir: string, directoryUrl: string): string {
  const hash = createHash("sha256").update(directoryUrl).digest("hex").slice(0, 32);
  return path.join(certDir, "account", `${hash}.key`);
}

function checkKey(pem: string, file: string): string {
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType !== "ec" && key.asymmetricKeyType !== "rsa") throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
  } catch (e) {
    throw new HearthError("internal", `the ACME account key ${file} cannot be read: ${(e as Error).message}`, { cause: e });
  }
  return pem;
}

/** Reads the account key of a directory, making it first when there is none. */
export async function loadOrCreateAccountKey(certDir: string, directoryUrl: string): Promise<{ keyPem: string; created: boolean; path: string }> {
  const file = accountKeyPath(certDir, directoryUrl);
  try {
    return { keyPem: checkKey(await readFile(file, "utf8"), file), created: false, path: file };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256", privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
  const tmp = `${file}.tmp-${randomBytes(4).toString("hex")}`;
  const fh = await open(tmp, "wx", 0o600);
  try {
    await fh.writeFile(privateKey);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    // link() never replaces: if another process got there first, its key wins
    await link(tmp, file);
    return { keyPem: privateKey, created: true, path: file };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return { keyPem: checkKey(await readFile(file, "utf8"), file), created: false, path: file };
  } finally {
    await rm(tmp, { force: true });
  }
}
