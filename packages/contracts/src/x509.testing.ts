import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * Test certificates made with the openssl CLI, for the tests of x509.ts and the domains API
 * (never imported by product code). OpenSSL here is 3.0, whose `req -x509` has no
 * -not_before/-not_after, so everything is signed with `openssl ca`: its -startdate and
 * -enddate set any validity, past or future (an expired or not-yet-valid certificate).
 */

export interface TestCa {
  name: string;
  certPath: string;
  keyPath: string;
  certPem: string;
}

export interface TestPair {
  /** leaf first, then the chain given */
  certPem: string;
  keyPem: string;
}

const DAY = 86_400_000;

/** openssl ca's time format (UTCTime, good for 1950–2049). */
function asn1Time(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

function openssl(args: string[]): void {
  try {
    execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  } catch (e) {
    throw new Error(`openssl ${args[0]} failed: ${String((e as { stderr?: Buffer }).stderr ?? (e as Error).message)}`);
  }
}

/** A scratch directory of test CAs; `cleanup()` removes it. */
export function createCertFactory(root: string = os.tmpdir()) {
  const dir = mkdtempSync(path.join(root, "hearth-x509-"));
  const conf = path.join(dir, "ca.cnf");
  writeFileSync(path.join(dir, "index.txt"), "");
  mkdirSync(path.join(dir, "newcerts"));
  writeFileSync(
    conf,
    [
      "[ ca ]",
      "default_ca = CA_default",
      "[ CA_default ]",
      `database = ${dir}/index.txt`,
      `new_certs_dir = ${dir}/newcerts`,
      `serial = ${dir}/serial`,
      "default_md = sha256",
      "policy = policy_any",
      "unique_subject = no",
      "[ policy_any ]",
      "commonName = supplied",
      "organizationName = optional",
      "[ req ]",
      "distinguished_name = dn",
      "[ dn ]",
      "",
    ].join("\n"),
  );
  const file = (ext: string) => path.join(dir, `${randomBytes(4).toString("hex")}.${ext}`);

  function key(): string {
    const k = file("key");
    openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", k]);
    return k;
  }

  function sign(o: { subject: string; keyPath: string; signer: TestCa | null; ext: string[]; start: Date; end: Date }): string {
    const csr = file("csr");
    const out = file("crt");
    const ext = file("cnf");
    openssl(["req", "-new", "-key", o.keyPath, "-subj", o.subject, "-out", csr, "-config", conf]);
    writeFileSync(ext, `[ ext ]\n${o.ext.join("\n")}\n`);
    openssl([
      "ca",
      "-batch",
      "-config",
      conf,
      "-notext",
      "-rand_serial",
      ...(o.signer ? ["-cert", o.signer.certPath, "-keyfile", o.signer.keyPath] : ["-selfsign", "-keyfile", o.keyPath]),
      "-in",
      csr,
      "-out",
      out,
      "-startdate",
      asn1Time(o.start),
      "-enddate",
      asn1Time(o.end),
      "-extfile",
      ext,
      "-extensions",
      "ext",
    ]);
    return out;
  }

  return {
    dir,
    /** A root CA, or with `parent` an intermediate signed by it. */
    ca(name: string, opts: { parent?: TestCa; start?: Date; end?: Date } = {}): TestCa {
      const keyPath = key();
      const certPath = sign({
        subject: `/O=Hearth test/CN=${name}`,
        keyPath,
        signer: opts.parent ?? null,
        ext: ["basicConstraints = critical,CA:TRUE", "keyUsage = critical,keyCertSign,cRLSign", "subjectKeyIdentifier = hash", "authorityKeyIdentifier = keyid"],
        start: opts.start ?? new Date(Date.now() - DAY),
        end: opts.end ?? new Date(Date.now() + 3650 * DAY),
      });
      return { name, certPath, keyPath, certPem: readFileSync(certPath, "utf8") };
    },
    /** A server certificate for `names` (subjectAltName DNS; CN = the first), signed by `ca`, then `chain` appended. */
    leaf(ca: TestCa, names: string[], opts: { start?: Date; end?: Date; chain?: TestCa[]; authorityKeyId?: boolean } = {}): TestPair {
      const keyPath = key();
      const certPath = sign({
        subject: `/CN=${names[0]}`,
        keyPath,
        signer: ca,
        ext: [
          "basicConstraints = critical,CA:FALSE",
          "keyUsage = critical,digitalSignature",
          "extendedKeyUsage = serverAuth",
          `subjectAltName = ${names.map((n) => `DNS:${n}`).join(",")}`,
          // without it, only the issuer's name links the leaf to its CA (an impostor CA of the same name passes checkIssued)
          opts.authorityKeyId === false ? "authorityKeyIdentifier = none" : "authorityKeyIdentifier = keyid",
        ],
        start: opts.start ?? new Date(Date.now() - DAY),
        end: opts.end ?? new Date(Date.now() + 90 * DAY),
      });
      const chain = (opts.chain ?? []).map((c) => c.certPem.trim());
      return { certPem: [readFileSync(certPath, "utf8").trim(), ...chain].join("\n") + "\n", keyPem: readFileSync(keyPath, "utf8") };
    },
    /** A fresh key that belongs to no certificate. */
    strayKey(): string {
      return readFileSync(key(), "utf8");
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type CertFactory = ReturnType<typeof createCertFactory>;
