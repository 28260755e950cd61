import { mkdtempSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { customCertificateSlug, installCustomCertificate } from "./custom";
import { createPrivateKey } from "node:crypto";
import { FileCertificateStore } from "./store";

/** A key's identity whatever its PEM form (the validator stores PKCS#8). */
const inspectKey = (pem: string) => createPrivateKey(pem).export({ format: "jwk" }).d;
import { issueLeaf, makeCa, type TestCa } from "./testing/openssl";

let ca: TestCa;
beforeAll(async () => {
  ca = await makeCa("Custom Test CA");
}, 30_000);

describe("installCustomCertificate", () => {
  it("stores a valid upload under _custom.<slug>; a refused one leaves it untouched", async () => {
    const store = new FileCertificateStore(mkdtempSync(path.join(os.tmpdir(), "hearth-custom-")));
    const good = await issueLeaf(ca, ["*.example.com", "example.com"], { chain: [ca] });
    expect(customCertificateSlug(["*.example.com"])).toBe("_custom._wildcard.example.com");
    const installed = await installCustomCertificate(store, { names: ["*.example.com", "example.com"], certPem: good.certPem, keyPem: good.keyPem, now: new Date() });
    expect(installed.slug).toBe("_custom._wildcard.example.com");
    expect(installed.info.names).toEqual(["*.example.com", "example.com"]);
    // stored as re-encoded by the validator: leaf then chain, one PEM block each
    expect(readFileSync(installed.certPath, "utf8").replace(/\s+/g, "")).toBe(good.certPem.replace(/\s+/g, ""));
    expect(statSync(installed.keyPath).mode & 0o777).toBe(0o600);

    const other = await issueLeaf(ca, ["*.example.com", "example.com"]);
    await expect(installCustomCertificate(store, { names: ["*.example.com", "example.com"], certPem: good.certPem, keyPem: other.keyPem, now: new Date() })).rejects.toMatchObject({
      code: "invalid",
      message: expect.stringMatching(/does not (match|belong)/),
    });
    expect(inspectKey(readFileSync(installed.keyPath, "utf8"))).toBe(inspectKey(good.keyPem));
  }, 30_000);
});
