import { createPrivateKey } from "node:crypto";
import { mkdtempSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { accountKeyPath, loadOrCreateAccountKey } from "./account";

describe("ACME account key", () => {
  it("is ECDSA P-256, 0600 in a 0700 dir, one per directory URL, made once", async () => {
    const certDir = mkdtempSync(path.join(os.tmpdir(), "hearth-acct-"));
    const url = "https://acme.example/dir";
    const results = await Promise.all([1, 2, 3].map(() => loadOrCreateAccountKey(certDir, url)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.keyPem)).size).toBe(1);
    const file = accountKeyPath(certDir, url);
    expect(file).toMatch(new RegExp(`^${certDir}/account/[0-9a-f]{32}\\.key$`));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    const key = createPrivateKey(results[0]!.keyPem);
    expect(key.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");

    const again = await loadOrCreateAccountKey(certDir, url);
    expect(again).toMatchObject({ created: false, keyPem: results[0]!.keyPem });
    const other = await loadOrCreateAccountKey(certDir, "https://acme-staging.example/dir");
    expect(other.created).toBe(true);
    expect(other.keyPem).not.toBe(again.keyPem);
  });
});
