import { generateKeyPairSync } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { inspectCertificate, needsRenewal, splitPemCertificates, validateCustomCertificate } from "./inspect";
import { issueLeaf, makeCa, type TestCa, type TestLeaf } from "./testing/openssl";

const DAY = 86_400_000;
const now = new Date();
let root: TestCa;
let inter: TestCa;
let otherInter: TestCa;
let good: TestLeaf;
let wildcard: TestLeaf;
let expired: TestLeaf;
let future: TestLeaf;
let other: TestLeaf;

beforeAll(async () => {
  root = await makeCa("Hearth Test Root");
  inter = await makeCa("Hearth Test Intermediate", { parent: root });
  otherInter = await makeCa("Unrelated Intermediate", { parent: await makeCa("Unrelated Root") });
  good = await issueLeaf(inter, ["app.example.com", "www.example.com"], { chain: [inter] });
  wildcard = await issueLeaf(inter, ["*.example.com", "example.com"], { chain: [inter] });
  expired = await issueLeaf(inter, ["app.example.com"], { chain: [inter], start: new Date(now.getTime() - 200 * DAY), end: new Date(now.getTime() - 3 * DAY) });
  future = await issueLeaf(inter, ["app.example.com"], { chain: [inter], start: new Date(now.getTime() + 5 * DAY), end: new Date(now.getTime() + 95 * DAY) });
  other = await issueLeaf(inter, ["app.example.com"], { chain: [inter] });
}, 60_000);

const refused = (fn: () => unknown, message: RegExp) => expect(fn).toThrow(expect.objectContaining({ name: "HearthError", code: "invalid", message: expect.stringMatching(message) }));

describe("inspectCertificate", () => {
  it("reads names, issuer, dates, serial, fingerprint and chain length", () => {
    const info = inspectCertificate(good.certPem);
    expect(info.names).toEqual(["app.example.com", "www.example.com"]);
    expect(info.issuer).toBe("Hearth Test Intermediate");
    expect(info.chainLength).toBe(2);
    expect(info.selfSigned).toBe(false);
    expect(info.serial).toMatch(/^[0-9A-F]+$/);
    expect(info.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(info.notBefore.getTime()).toBeLessThan(now.getTime());
    expect(Math.round((info.notAfter.getTime() - now.getTime()) / DAY)).toBe(90);
    expect(inspectCertificate(root.certPem).selfSigned).toBe(true);
    expect(inspectCertificate(wildcard.certPem).names).toEqual(["*.example.com", "example.com"]);
  });

  it("accepts CRLF line ends and refuses garbage", () => {
    expect(inspectCertificate(good.certPem.replace(/\n/g, "\r\n")).names).toContain("app.example.com");
    expect(splitPemCertificates(good.certPem)).toHaveLength(2);
    refused(() => inspectCertificate("hello"), /not in PEM format/);
    refused(() => inspectCertificate("-----BEGIN CERTIFICATE-----\nnotbase64!!\n-----END CERTIFICATE-----\n"), /certificate 1 of 1 .* cannot be read/);
  });
});

describe("needsRenewal", () => {
  it("is due below 30 days left (or the given days), and when expired", () => {
    const notAfter = new Date("2030-03-31T00:00:00Z");
    expect(needsRenewal({ notAfter }, new Date("2030-02-28T23:59:59Z"))).toBe(false);
    expect(needsRenewal({ notAfter }, new Date("2030-03-01T00:00:01Z"))).toBe(true);
    expect(needsRenewal({ notAfter }, new Date("2030-04-02T00:00:00Z"))).toBe(true);
    expect(needsRenewal({ notAfter }, new Date("2030-03-20T00:00:00Z"), 12)).toBe(true);
    expect(needsRenewal({ notAfter }, new Date("2030-03-20T00:00:00Z"), 10)).toBe(false);
  });
});

describe("validateCustomCertificate", () => {
  it("accepts a good pair with its chain and normalizes the PEM", () => {
    const v = validateCustomCertificate(good.certPem.replace(/\n/g, "\r\n"), good.keyPem, ["www.example.com", "app.example.com"], now);
    expect(v.info.names).toEqual(["app.example.com", "www.example.com"]);
    expect(v.certPem).not.toContain("\r");
    expect(splitPemCertificates(v.certPem)).toHaveLength(2);
    expect(v.keyPem.endsWith("-----\n")).toBe(true);
    expect(v.publiclyTrusted).toBe(false);
    // a leaf without its chain is accepted (a private CA's admin may install the root in clients)
    expect(validateCustomCertificate(splitPemCertificates(good.certPem)[0]!, good.keyPem, ["app.example.com"], now).info.chainLength).toBe(1);
  });

  it("refuses a key that is not the certificate's", () => {
    refused(() => validateCustomCertificate(good.certPem, other.keyPem, ["app.example.com"], now), /private key does not match the certificate \(app\.example\.com\)/);
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    refused(() => validateCustomCertificate(good.certPem, privateKey, ["app.example.com"], now), /does not match/);
  });

  it("refuses expired and not-yet-valid certificates", () => {
    refused(() => validateCustomCertificate(expired.certPem, expired.keyPem, ["app.example.com"], now), /the certificate expired on \d{4}-/);
    refused(() => validateCustomCertificate(future.certPem, future.keyPem, ["app.example.com"], now), /not valid yet: it is valid from \d{4}-/);
    // the same certificates are fine at a time inside their validity
    expect(validateCustomCertificate(future.certPem, future.keyPem, ["app.example.com"], new Date(now.getTime() + 10 * DAY)).info.names).toEqual(["app.example.com"]);
  });

  it("refuses names it does not cover, with wildcard rules", () => {
    refused(() => validateCustomCertificate(good.certPem, good.keyPem, ["app.example.com", "mail.example.com"], now), /does not cover mail\.example\.com \(it is for app\.example\.com, www\.example\.com\)/);
    expect(validateCustomCertificate(wildcard.certPem, wildcard.keyPem, ["x.example.com", "example.com", "*.example.com"], now).info.names).toHaveLength(2);
    refused(() => validateCustomCertificate(wildcard.certPem, wildcard.keyPem, ["a.b.example.com"], now), /does not cover a\.b\.example\.com/);
    const apexless = validateCustomCertificate(good.certPem, good.keyPem, ["app.example.com"], now);
    expect(apexless.info.names).not.toContain("example.com");
    try {
      validateCustomCertificate(good.certPem, good.keyPem, ["other.example.org"], now);
    } catch (e) {
      expect((e as { details: unknown }).details).toEqual({ missing: ["other.example.org"], certificateNames: ["app.example.com", "www.example.com"] });
    }
  });

  it("refuses a broken or misordered chain", () => {
    const leafOnly = splitPemCertificates(good.certPem)[0]!;
    refused(() => validateCustomCertificate(`${leafOnly}\n${otherInter.certPem}`, good.keyPem, ["app.example.com"], now), /chain is broken: certificate 1 \(app\.example\.com\) is not issued by certificate 2 \(Unrelated Intermediate\)/);
    // leaf, intermediate, root: complete chain accepted; leaf, root (intermediate missing): broken
    expect(validateCustomCertificate(`${good.certPem}${root.certPem}`, good.keyPem, ["app.example.com"], now).info.chainLength).toBe(3);
    refused(() => validateCustomCertificate(`${leafOnly}\n${root.certPem}`, good.keyPem, ["app.example.com"], now), /chain is broken/);
    refused(() => validateCustomCertificate(`${inter.certPem}${leafOnly}\n`, good.keyPem, ["app.example.com"], now), /out of order: the one matching the key \(app\.example\.com\) must come first/);
  });

  it("refuses an expired intermediate", async () => {
    const oldInter = await makeCa("Old Intermediate", { parent: root, start: new Date(now.getTime() - 400 * DAY), end: new Date(now.getTime() - DAY) });
    const leaf = await issueLeaf(oldInter, ["app.example.com"], { chain: [oldInter] });
    refused(() => validateCustomCertificate(leaf.certPem, leaf.keyPem, ["app.example.com"], now), /certificate 2 \(Old Intermediate\) expired on/);
  }, 30_000);

  it("refuses garbage, encrypted and weak keys", async () => {
    refused(() => validateCustomCertificate("not a cert", good.keyPem, ["app.example.com"], now), /certificate is not in PEM format/);
    refused(() => validateCustomCertificate(good.certPem, "not a key", ["app.example.com"], now), /private key is not in PEM format/);
    refused(() => validateCustomCertificate(good.certPem, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", ["app.example.com"], now), /private key cannot be read/);
    refused(() => validateCustomCertificate(good.certPem, "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", ["app.example.com"], now), /encrypted/);
    const weak = await issueLeaf(inter, ["app.example.com"], { keyType: "rsa1024" });
    refused(() => validateCustomCertificate(weak.certPem, weak.keyPem, ["app.example.com"], now), /RSA key has 1024 bits/);
    refused(() => validateCustomCertificate(good.certPem, good.keyPem, [], now), /at least one name/);
  }, 30_000);
});
