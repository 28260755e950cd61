import { X509Certificate, createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ensureFallbackCert, fallbackCertPaths } from "./fallback-cert";

describe("self-signed fallback certificate", () => {
  it("is ECDSA P-256 for *.domain and domain, key 0600, made once", async () => {
    const dir = path.join(mkdtempSync(path.join(os.tmpdir(), "hearth-cert-")), "fallback");
    const a = await ensureFallbackCert(dir, "Example.com");
    expect(a.created).toBe(true);
    expect(a.certPath).toBe(path.join(dir, "example.com.crt"));
    const cert = new X509Certificate(readFileSync(a.certPath));
    expect(cert.subjectAltName).toContain("DNS:*.example.com");
    expect(cert.subjectAltName).toContain("DNS:example.com");
    const key = createPrivateKey(readFileSync(a.keyPath));
    expect(key.asymmetricKeyType).toBe("ec");
    expect(key.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    expect(statSync(a.keyPath).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(a.notAfter.getTime()).toBeGreaterThan(Date.now() + 365 * 86_400_000);

    const b = await ensureFallbackCert(dir, "example.com");
    expect(b.created).toBe(false);
    expect(readFileSync(b.certPath, "utf8")).toBe(readFileSync(a.certPath, "utf8"));
  });

  it("is made again when expiring, broken or for other names", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-cert-"));
    const first = await ensureFallbackCert(dir, "example.org");
    const pem = readFileSync(first.certPath, "utf8");
    // 2 years from now the 825-day certificate has less than 30 days left
    const later = await ensureFallbackCert(dir, "example.org", { now: new Date(Date.now() + 800 * 86_400_000) });
    expect(later.created).toBe(true);
    expect(readFileSync(later.certPath, "utf8")).not.toBe(pem);

    writeFileSync(first.keyPath, "garbage");
    expect((await ensureFallbackCert(dir, "example.org")).created).toBe(true);

    // another domain's pair copied under this name does not pass
    const other = await ensureFallbackCert(dir, "example.net");
    writeFileSync(first.certPath, readFileSync(other.certPath));
    writeFileSync(first.keyPath, readFileSync(other.keyPath));
    expect((await ensureFallbackCert(dir, "example.org")).created).toBe(true);
  });

  it("refuses names that are not hostnames", async () => {
    await expect(ensureFallbackCert("/tmp/x", "../etc")).rejects.toMatchObject({ code: "invalid" });
    expect(() => fallbackCertPaths("/tmp/x", "a.example.com/../../x")).toThrow();
  });
});
