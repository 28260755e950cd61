import { describe, expect, it } from "vitest";
import { customCertificateNames, recordsFor, domainParam } from "./domains";

describe("customCertificateNames", () => {
  it("asks for *.<domain>, and <domain> only while the bare domain is served", () => {
    expect(customCertificateNames("example.com", [{ fqdn: "my.example.com" }, { fqdn: "app.example.com" }])).toEqual(["*.example.com"]);
    expect(customCertificateNames("example.com", [{ fqdn: "example.com" }])).toEqual(["*.example.com", "example.com"]);
  });
});

describe("recordsFor", () => {
  it("one A per name for IPv4 and one AAAA for IPv6, names once each, in order", () => {
    expect(recordsFor(["my.example.com", "app.example.com", "my.example.com"], { ipv4: "192.0.2.1", ipv6: "2001:db8::1" }, false)).toEqual([
      { name: "my.example.com", type: "A", value: "192.0.2.1", managed: false },
      { name: "my.example.com", type: "AAAA", value: "2001:db8::1", managed: false },
      { name: "app.example.com", type: "A", value: "192.0.2.1", managed: false },
      { name: "app.example.com", type: "AAAA", value: "2001:db8::1", managed: false },
    ]);
    expect(recordsFor(["*.example.com"], { ipv4: "192.0.2.1", ipv6: null }, true)).toEqual([{ name: "*.example.com", type: "A", value: "192.0.2.1", managed: true }]);
    expect(recordsFor(["a.example.com"], { ipv4: null, ipv6: null }, true)).toEqual([]);
  });
});

describe("domainParam", () => {
  it("takes the segment as Next decoded it, without decoding it again", () => {
    expect(domainParam({ domain: "Example.COM" })).toBe("example.com");
    // `%25zz` arrives as `%zz`: not a domain, so not found (decoding it again threw a URIError, a 500)
    expect(() => domainParam({ domain: "%zz" })).toThrow(expect.objectContaining({ code: "not_found" }));
    expect(() => domainParam({ domain: "%" })).toThrow(expect.objectContaining({ code: "not_found" }));
    expect(() => domainParam({})).toThrow(expect.objectContaining({ code: "not_found" }));
  });
});
