import { randomBytes } from "node:crypto";
import { chmod, lstat, mkdir, readdir, rename, rm, symlink } from "node:fs/promises";
import path from "node:path";
import { HearthError } from "@hearth/contracts";
import { readIfExists, syncDir, writeDurable } from "../lib/durable-files";

/**
 * Where certificate pairs live on disk, and how they are replaced without nginx ever seeing
 * a certificate next to a key that is not its own.
 *
 *   <certDir>/<slug>/cert.pem        leaf + chain (0644)
 *   <certDir>/<slug>/key.pem         private key (0600)
 *
 * `<certDir>/<slug>` is a symlink to a generation directory
 * `<certDir>/.generations/<slug>+<gen>/`. A new pair is written (and fsynced) into a fresh
 * generation, then one rename of a new symlink over `<slug>` swaps cert and key together;
 * older generations of that slug are removed afterwards. A crash at any point leaves either
 * the old pair or the new pair, never a mix, and a failed issuance never touches the files.
 * vhosts reference the stable paths `<certDir>/<slug>/{cert,key}.pem`.
 */

export interface CertificatePaths {
  /** `<certDir>/<slug>` (a symlink to the current generation). */
  dir: string;
  certPath: string;
  keyPath: string;
}

export interface CertificatePair {
  certPem: string;
  keyPem: string;
}

/** The seam the ACME engine writes through; FileCertificateStore is the real one. */
export interface CertificateStore {
  paths(slug: string): CertificatePaths;
  /** The current pair, or null when there is none. */
  read(slug: string): Promise<CertificatePair | null>;
  /** Replaces the pair atomically (both files or neither). */
  write(slug: string, pair: CertificatePair): Promise<CertificatePaths>;
  /** Removes the pair; no-op when absent. */
  remove(slug: string): Promise<void>;
}

const SLUG = /^[a-z0-9_][a-z0-9._-]{0,252}$/;
const GENERATIONS = ".generations";

function checkSlug(slug: string): string {
  if (typeof slug !== "string" || !SLUG.test(slug) || slug.includes("..") || slug === "account") {
    throw new HearthError("invalid", `invalid certificate slug ${JSON.stringify(slug)}`);
  }
  return slug;
}

export class FileCertificateStore implements CertificateStore {
  private readonly genDir: string;
  // one writer per slug at a time in this process (a second writer's cleanup must not remove the first's new generation)
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(readonly certDir: string) {
    this.genDir = path.join(certDir, GENERATIONS);
  }

  paths(slug: string): CertificatePaths {
    const dir = path.join(this.certDir, checkSlug(slug));
    return { dir, certPath: path.join(dir, "cert.pem"), keyPath: path.join(dir, "key.pem") };
  }

  async read(slug: string): Promise<CertificatePair | null> {
    const p = this.paths(slug);
    const [certPem, keyPem] = await Promise.all([readIfExists(p.certPath), readIfExists(p.keyPath)]);
    return certPem !== null && keyPem !== null ? { certPem, keyPem } : null;
  }

  write(slug: string, pair: CertificatePair): Promise<CertificatePaths> {
    return this.serialize(slug, () => this.writeNow(slug, pair));
  }

  remove(slug: string): Promise<void> {
    return this.serialize(slug, async () => {
      const p = this.paths(slug);
      await rm(p.dir, { recursive: true, force: true });
      await this.removeGenerations(slug, null);
    });
  }

  private serialize<T>(slug: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(slug) ?? Promise.resolve();
    const run = prev.then(fn);
    const tail = run.catch(() => undefined);
    this.queues.set(slug, tail);
    void tail.then(() => {
      if (this.queues.get(slug) === tail) this.queues.delete(slug);
    });
    return run;
  }

  private async writeNow(slug: string, pair: CertificatePair): Promise<CertificatePaths> {
    const p = this.paths(slug);
    if (!pair.certPem.includes("-----BEGIN CERTIFICATE-----") || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pair.keyPem)) {
      throw new HearthError("internal", "refusing to store a certificate pair that is not PEM");
    }
    await mkdir(this.certDir, { recursive: true, mode: 0o700 });
    await mkdir(this.genDir, { recursive: true, mode: 0o700 });
    await chmod(this.genDir, 0o700);

    const gen = `${slug}+${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
    const genPath = path.join(this.genDir, gen);
    await mkdir(genPath, { mode: 0o755 });
    try {
      await writeDurable(path.join(genPath, "key.pem"), pair.keyPem, 0o600, { exclusive: true });
      await writeDurable(path.join(genPath, "cert.pem"), pair.certPem, 0o644, { exclusive: true });
      await syncDir(genPath);
      await syncDir(this.genDir);
    } catch (e) {
      await rm(genPath, { recursive: true, force: true });
      throw e;
    }

    // an older layout (or a hand-made directory) at <slug>: keep it as a generation so the rename below can replace it
    const st = await lstat(p.dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return null;
      throw e;
    });
    if (st && st.isDirectory()) await rename(p.dir, path.join(this.genDir, `${slug}+legacy-${randomBytes(4).toString("hex")}`));
    else if (st && !st.isSymbolicLink()) throw new HearthError("internal", `${p.dir} is neither a directory nor a symlink`);

    const tmpLink = path.join(this.certDir, `.${slug}.link-${randomBytes(4).toString("hex")}`);
    await symlink(path.join(GENERATIONS, gen), tmpLink);
    try {
      await rename(tmpLink, p.dir);
    } catch (e) {
      await rm(tmpLink, { force: true });
      await rm(genPath, { recursive: true, force: true });
      throw e;
    }
    await syncDir(this.certDir);
    await this.removeGenerations(slug, gen);
    return p;
  }

  private async removeGenerations(slug: string, keep: string | null): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.genDir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
      throw e;
    }
    for (const entry of entries) {
      if (entry.startsWith(`${slug}+`) && entry !== keep) await rm(path.join(this.genDir, entry), { recursive: true, force: true });
    }
  }
}
