import { mkdtempSync, readFileSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { customCertificateSlug, installCustomCertificate } from "./custom";
import { FileCertificateStore } from "./store";
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
    expect(readFileSync(installed.certPath, "utf8")).toBe(good.certPem);
    expect(statSync(installed.keyPath).mode & 0o777).toBe(0o600);

    const other = await issueLeaf(ca, ["*.example.com", "example.com"]);
    await expect(
      installCustomCertificate(store, { names: ["*.example.com", "example.com"], certPem: good.certPem, keyPem: other.keyPem, now: new Date() }),
    ).rejects.toMatchObject({ code: "invalid", message: expect.stringMatching(/does not match/) });
    expect(readFileSync(installed.keyPath, "utf8")).toBe(good.keyPem);
  }, 30_000);
});
