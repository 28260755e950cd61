import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

/**
 * Test certificates made with the openssl CLI (3.0 here: `req -x509` has no -not_before,
 * so everything is signed with `openssl ca`, whose -startdate/-enddate set any validity,
 * past or future). Used by the unit tests of inspect.ts; not used by box itself.
 */

const run = promisify(execFile);

export interface TestCa {
  name: string;
  dir: string;
  certPath: string;
  keyPath: string;
  certPem: string;
}

export interface TestLeaf {
  certPem: string;
  keyPem: string;
}

/** openssl ca's time format (UTCTime, fine for 1950–2049). */
function asn1Time(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run("openssl", args, { timeout: 30_000 });
  } catch (e) {
    throw new Error(`openssl ${args[0]} failed: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
  }
}

function caConfig(dir: string): string {
  const conf = path.join(dir, "ca.cnf");
  writeFileSync(path.join(dir, "index.txt"), "");
  mkdirSync(path.join(dir, "newcerts"), { recursive: true });
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
      "email_in_dn = no",
      "[ policy_any ]",
      "commonName = supplied",
      "organizationName = optional",
      "[ req ]",
      "distinguished_name = dn",
      "[ dn ]",
      "",
    ].join("\n"),
  );
  return conf;
}

async function newKey(file: string, type: "ec" | "rsa1024" = "ec"): Promise<void> {
  if (type === "ec") await openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file]);
  else await openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", file]);
}

async function sign(opts: { dir: string; csr: string; out: string; signerCert: string | null; signerKey: string; ext: string; start: Date; end: Date }): Promise<void> {
  const conf = caConfig(opts.dir);
  const extFile = path.join(opts.dir, `ext-${randomBytes(3).toString("hex")}.cnf`);
  writeFileSync(extFile, `[ ext ]\n${opts.ext}\n`);
  await openssl([
    "ca",
    "-batch",
    "-config",
    conf,
    "-notext",
    "-rand_serial",
    ...(opts.signerCert ? ["-cert", opts.signerCert] : ["-selfsign"]),
    "-keyfile",
    opts.signerKey,
    "-in",
    opts.csr,
    "-out",
    opts.out,
    "-startdate",
    asn1Time(opts.start),
    "-enddate",
    asn1Time(opts.end),
    "-extfile",
    extFile,
    "-extensions",
    "ext",
  ]);
}

const DAY = 86_400_000;

/** A root CA (self-signed) or, with `parent`, an intermediate signed by it. */
export async function makeCa(name: string, opts: { parent?: TestCa; root?: string; start?: Date; end?: Date } = {}): Promise<TestCa> {
  const dir = mkdtempSync(path.join(opts.root ?? os.tmpdir(), `hearth-ca-${name.replace(/\W/g, "")}-`));
  const keyPath = path.join(dir, "ca.key");
  const csr = path.join(dir, "ca.csr");
  const certPath = path.join(dir, "ca.crt");
  await newKey(keyPath);
  await openssl(["req", "-new", "-key", keyPath, "-subj", `/O=Hearth test/CN=${name}`, "-out", csr, "-config", caConfig(dir)]);
  await sign({
    dir,
    csr,
    out: certPath,
    signerCert: opts.parent?.certPath ?? null,
    signerKey: opts.parent?.keyPath ?? keyPath,
    ext: "basicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid",
    start: opts.start ?? new Date(Date.now() - DAY),
    end: opts.end ?? new Date(Date.now() + 3650 * DAY),
  });
  return { name, dir, certPath, keyPath, certPem: readFileSync(certPath, "utf8") };
}

/** A server certificate for `names` (SANs; CN = first), valid from `start` to `end`. */
export async function issueLeaf(ca: TestCa, names: string[], opts: { start?: Date; end?: Date; keyType?: "ec" | "rsa1024"; chain?: TestCa[] } = {}): Promise<TestLeaf> {
  const tag = randomBytes(4).toString("hex");
  const keyPath = path.join(ca.dir, `leaf-${tag}.key`);
  const csr = path.join(ca.dir, `leaf-${tag}.csr`);
  const out = path.join(ca.dir, `leaf-${tag}.crt`);
  await newKey(keyPath, opts.keyType);
  await openssl(["req", "-new", "-key", keyPath, "-subj", `/CN=${names[0]}`, "-out", csr, "-config", caConfig(ca.dir)]);
  await sign({
    dir: ca.dir,
    csr,
    out,
    signerCert: ca.certPath,
    signerKey: ca.keyPath,
    ext: [
      "basicConstraints = critical,CA:FALSE",
      "keyUsage = critical,digitalSignature",
      "extendedKeyUsage = serverAuth",
      `subjectAltName = ${names.map((n) => `DNS:${n}`).join(",")}`,
      "authorityKeyIdentifier = keyid",
    ].join("\n"),
    start: opts.start ?? new Date(Date.now() - DAY),
    end: opts.end ?? new Date(Date.now() + 90 * DAY),
  });
  const leaf = readFileSync(out, "utf8");
  const chain = (opts.chain ?? []).map((c) => c.certPem);
  return { certPem: [leaf, ...chain].map((p) => p.trim()).join("\n") + "\n", keyPem: readFileSync(keyPath, "utf8") };
}
