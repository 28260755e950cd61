import { generateKeyPairSync } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { inspectCertificate, needsRenewal, splitPemCertificates } from "./inspect";
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
