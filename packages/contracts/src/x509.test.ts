import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HearthError } from "./errors";
import { nameCovers, pemBlocks, uncoveredNames, validateCustomCertificate } from "./x509";
import { createCertFactory, type CertFactory, type TestCa, type TestPair } from "./x509.testing";

/** Real certificates from the openssl CLI: a root, an intermediate, leaves good and bad. */
const DAY = 86_400_000;
let f: CertFactory;
let root: TestCa;
let inter: TestCa;
let good: TestPair;
const NAMES = ["*.example.com", "example.com"];

beforeAll(() => {
  f = createCertFactory();
  root = f.ca("Test Root");
  inter = f.ca("Test Intermediate", { parent: root });
  good = f.leaf(inter, ["*.example.com", "example.com"], { chain: [inter] });
}, 60_000);

afterAll(() => f?.cleanup());

/** The HearthError thrown by fn (fails the test when it does not throw one). */
function refusal(fn: () => unknown): HearthError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HearthError);
    return e as HearthError;
  }
  throw new Error("expected a refusal");
}

describe("validateCustomCertificate", () => {
  it("accepts a good chain and key; returns the names, dates and the normalised chain", () => {
    const v = validateCustomCertificate({ certificate: good.certPem, key: good.keyPem, names: NAMES });
    expect(v.leaf.names).toEqual(["*.example.com", "example.com"]);
    expect(v.leaf.issuer).toMatch(/CN=Test Intermediate/);
    expect(v.leaf.notAfter.getTime()).toBeGreaterThan(Date.now() + 80 * DAY);
    expect(v.chain).toHaveLength(2);
    expect(pemBlocks(v.chainPem).map((b) => b.label)).toEqual(["CERTIFICATE", "CERTIFICATE"]);
    expect(v.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    // names under the wildcard are covered too
    expect(() => validateCustomCertificate({ certificate: good.certPem, key: good.keyPem, names: ["my.example.com", "blog.example.com"] })).not.toThrow();
  });

  it("accepts the leaf alone (no chain) and a chain that ends in the root", () => {
    const alone = f.leaf(root, ["app.example.net"]);
    expect(validateCustomCertificate({ certificate: alone.certPem, key: alone.keyPem, names: ["app.example.net"] }).chain).toHaveLength(1);
    const full = f.leaf(inter, ["app.example.net"], { chain: [inter, root] });
    expect(validateCustomCertificate({ certificate: full.certPem, key: full.keyPem, names: ["app.example.net"] }).chain).toHaveLength(3);
  });

  it("refuses a key that is not the certificate's", () => {
    const e = refusal(() => validateCustomCertificate({ certificate: good.certPem, key: f.strayKey(), names: NAMES }));
    expect(e.code).toBe("invalid");
    expect(e.message).toBe("The private key does not belong to the certificate");
    expect(e.details).toEqual([{ path: ["customKey"], code: "custom", message: e.message }]);
  });

  it("refuses an expired certificate and one not yet valid", () => {
    const old = f.leaf(inter, NAMES, { start: new Date(Date.now() - 100 * DAY), end: new Date(Date.now() - DAY), chain: [inter] });
    const e = refusal(() => validateCustomCertificate({ certificate: old.certPem, key: old.keyPem, names: NAMES }));
    expect(e.message).toMatch(/^The certificate \(\*\.example\.com\) expired on \d{4}-/);
    expect(e.details).toEqual([expect.objectContaining({ path: ["customCertificate"] })]);
    const early = f.leaf(inter, NAMES, { start: new Date(Date.now() + 10 * DAY), end: new Date(Date.now() + 100 * DAY), chain: [inter] });
    expect(refusal(() => validateCustomCertificate({ certificate: early.certPem, key: early.keyPem, names: NAMES })).message).toMatch(/is not valid before/);
    // the same good pair, judged at a later date
    expect(refusal(() => validateCustomCertificate({ certificate: good.certPem, key: good.keyPem, names: NAMES, now: new Date(Date.now() + 200 * DAY) })).message).toMatch(/expired/);
  });

  it("refuses an expired intermediate", () => {
    const oldCa = f.ca("Old Intermediate", { parent: root, start: new Date(Date.now() - 400 * DAY), end: new Date(Date.now() - 2 * DAY) });
    const leaf = f.leaf(oldCa, NAMES, { start: new Date(Date.now() - 10 * DAY), chain: [oldCa] });
    expect(refusal(() => validateCustomCertificate({ certificate: leaf.certPem, key: leaf.keyPem, names: NAMES })).message).toMatch(/^Chain certificate 2 \(Old Intermediate\) expired/);
  });

  it("refuses a certificate that does not cover the names, naming them", () => {
    const other = f.leaf(inter, ["www.example.org"], { chain: [inter] });
    const e = refusal(() => validateCustomCertificate({ certificate: other.certPem, key: other.keyPem, names: NAMES }));
    expect(e.message).toBe("The certificate does not cover *.example.com, example.com (it is for www.example.org)");
    // a wildcard does not cover the bare domain, nor names two labels down
    const wild = f.leaf(inter, ["*.example.com"], { chain: [inter] });
    expect(refusal(() => validateCustomCertificate({ certificate: wild.certPem, key: wild.keyPem, names: NAMES })).message).toMatch(/does not cover example\.com \(/);
    expect(refusal(() => validateCustomCertificate({ certificate: wild.certPem, key: wild.keyPem, names: ["a.b.example.com"] })).message).toMatch(/does not cover a\.b\.example\.com/);
  });

  it("refuses a broken chain", () => {
    const otherRoot = f.ca("Other Root");
    const leaf = f.leaf(inter, NAMES);
    // a chain certificate that did not issue the leaf
    expect(refusal(() => validateCustomCertificate({ certificate: `${leaf.certPem}${otherRoot.certPem}`, key: leaf.keyPem, names: NAMES })).message).toBe(
      "The chain is broken: the certificate (*.example.com) was not issued by chain certificate 2 (Other Root)",
    );
    // the issuer's name but another key (and no key id in the leaf): checkIssued matches names, verify() must catch it
    const impostor = f.ca("Test Intermediate", { parent: otherRoot });
    const bare = f.leaf(inter, NAMES, { authorityKeyId: false });
    expect(validateCustomCertificate({ certificate: `${bare.certPem}${inter.certPem}`, key: bare.keyPem, names: NAMES }).chain).toHaveLength(2);
    expect(refusal(() => validateCustomCertificate({ certificate: `${bare.certPem}${impostor.certPem}`, key: bare.keyPem, names: NAMES })).message).toBe(
      "The chain is broken: the certificate (*.example.com) was not issued by chain certificate 2 (Test Intermediate)",
    );
    // a gap: leaf, then the root without the intermediate
    expect(refusal(() => validateCustomCertificate({ certificate: `${leaf.certPem}${root.certPem}`, key: leaf.keyPem, names: NAMES })).message).toMatch(/^The chain is broken/);
  });

  it("says when the right certificates are in the wrong order", () => {
    const reversed = f.leaf(inter, NAMES, { chain: [root, inter] });
    expect(refusal(() => validateCustomCertificate({ certificate: reversed.certPem, key: reversed.keyPem, names: NAMES })).message).toMatch(/^The chain is in the wrong order/);
    // the leaf not first: the key names where it is
    const leaf = f.leaf(inter, NAMES);
    const e = refusal(() => validateCustomCertificate({ certificate: `${inter.certPem}${leaf.certPem}`, key: leaf.keyPem, names: NAMES }));
    expect(e.message).toBe("The server certificate must come first: the key belongs to certificate 2 of the chain");
    expect(e.details).toEqual([expect.objectContaining({ path: ["customCertificate"] })]);
  });

  it("refuses a certificate without DNS names", () => {
    // a CA certificate has no subjectAltName; with its own key it passes every other check
    const e = refusal(() => validateCustomCertificate({ certificate: inter.certPem, key: readFileSync(inter.keyPath, "utf8"), names: NAMES }));
    expect(e.message).toMatch(/has no DNS names/);
  });

  it("refuses garbage, a key in the certificate field, a certificate in the key field, encrypted keys", () => {
    expect(refusal(() => validateCustomCertificate({ certificate: "hello", key: good.keyPem, names: NAMES })).message).toMatch(/not PEM text/);
    const damaged = good.certPem.replace(/(-----BEGIN CERTIFICATE-----\n)(.{20})/, "$1AAAAAAAAAAAAAAAAAAAA");
    expect(refusal(() => validateCustomCertificate({ certificate: damaged, key: good.keyPem, names: NAMES })).message).toMatch(/cannot be parsed/);
    expect(refusal(() => validateCustomCertificate({ certificate: good.keyPem, key: good.keyPem, names: NAMES })).message).toMatch(/holds a private key/);
    const e = refusal(() => validateCustomCertificate({ certificate: good.certPem, key: good.certPem, names: NAMES }));
    expect(e.message).toMatch(/holds a certificate/);
    expect(e.details).toEqual([expect.objectContaining({ path: ["customKey"] })]);
    expect(refusal(() => validateCustomCertificate({ certificate: good.certPem, key: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", names: NAMES })).message).toMatch(
      /cannot be parsed/,
    );
    const encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    expect(refusal(() => validateCustomCertificate({ certificate: good.certPem, key: encrypted, names: NAMES })).message).toMatch(/encrypted/);
  });
});

describe("nameCovers", () => {
  it.each([
    ["example.com", "example.com", true],
    ["EXAMPLE.com.", "example.COM", true],
    ["*.example.com", "a.example.com", true],
    ["*.example.com", "example.com", false],
    ["*.example.com", "a.b.example.com", false],
    ["*.example.com", "*.example.com", true],
    ["a.example.com", "*.example.com", false],
    ["*.a.example.com", "*.example.com", false],
  ])("%s covers %s: %s", (cert, host, want) => {
    expect(nameCovers(cert, host)).toBe(want);
  });

  it("uncoveredNames lists what no name covers", () => {
    expect(uncoveredNames(["*.example.com"], ["my.example.com", "example.com", "*.example.com"])).toEqual(["example.com"]);
  });
});
