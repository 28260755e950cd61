import { describe, expect, it } from "vitest";
import { parseDigOutput } from "./dig.ts";
import { canonicalIPv6, canonicalValues, normalizeName } from "./names.ts";
import { decodeTxt, encodeTxt, quoteTxtSimple } from "./txt.ts";

describe("TXT presentation format", () => {
  it("quotes and escapes: quote, backslash, non-ASCII as \\DDD (decimal) or \\ooo (octal)", () => {
    expect(encodeTxt('say "hi" \\ é')).toBe('"say \\"hi\\" \\\\ \\195\\169"');
    expect(encodeTxt("é", "octal")).toBe('"\\303\\251"');
    expect(encodeTxt("")).toBe('""');
    expect(encodeTxt("tab\there")).toBe('"tab\\009here"');
  });

  it("splits values longer than 255 bytes into several strings", () => {
    const v = "a".repeat(600);
    const enc = encodeTxt(v);
    expect(enc).toBe(`"${"a".repeat(255)}" "${"a".repeat(255)}" "${"a".repeat(90)}"`);
    expect(decodeTxt(enc)).toBe(v);
  });

  it("round-trips any string in both escape styles", () => {
    for (const v of ["", "plain", 'q"uo"te', "back\\slash", "ünïcødé ✓ 🚀", "x".repeat(254) + "é" + "y".repeat(300), "\u0000\u0001\n"]) {
      expect(decodeTxt(encodeTxt(v, "decimal"), "decimal")).toBe(v);
      expect(decodeTxt(encodeTxt(v, "octal"), "octal")).toBe(v);
    }
  });

  it("decodes unquoted legacy content and the simple quoting", () => {
    expect(decodeTxt("v=spf1 -all")).toBe("v=spf1 -all");
    expect(decodeTxt(quoteTxtSimple('a "b" \\ é'))).toBe('a "b" \\ é');
  });
});

describe("dig output", () => {
  // captured from dig 9.18 against bind9
  const out = `;; Got answer:
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 10537
;; flags: qr aa; QUERY: 1, ANSWER: 3, AUTHORITY: 1, ADDITIONAL: 2

;; OPT PSEUDOSECTION:
; EDNS: version: 0, flags:; udp: 1232
; COOKIE: 87802b4e5df5f798010000006b02eabdbd39bf4f1bad124d (good)
;; ANSWER SECTION:
www.example.test.	300	IN	TXT	"hello world" "x"
www.example.test.	120	IN	TXT	"a \\"q\\" \\\\ back\\195\\169"
other.example.test.	300	IN	TXT	"not this one"
`;

  it("reads status, the AA flag and the records of exactly (name, type)", () => {
    expect(parseDigOutput(out, "WWW.example.test.", "TXT")).toEqual({
      status: "NOERROR",
      authoritative: true,
      records: [
        { ttl: 300, value: "hello worldx" },
        { ttl: 120, value: 'a "q" \\ backé' },
      ],
    });
  });

  it("reads NXDOMAIN and REFUSED without records, and no header as null", () => {
    const nx = `;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: 7987\n;; flags: qr aa; QUERY: 1, ANSWER: 0, AUTHORITY: 1, ADDITIONAL: 1\n`;
    expect(parseDigOutput(nx, "nope.example.test", "A")).toEqual({ status: "NXDOMAIN", authoritative: true, records: [] });
    const refused = `;; ->>HEADER<<- opcode: QUERY, status: REFUSED, id: 59100\n;; flags: qr; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1\n`;
    expect(parseDigOutput(refused, "x.other.test", "A")).toEqual({ status: "REFUSED", authoritative: false, records: [] });
    expect(parseDigOutput(";; communications error to 127.0.0.1#21997: timed out\n", "x", "A")).toBeNull();
  });

  it("canonicalizes AAAA and CNAME answers", () => {
    const o = `;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n;; flags: qr aa; QUERY: 1, ANSWER: 1\nx.example.test.\t60\tIN\tAAAA\t2001:db8:0:0::1\nx.example.test.\t60\tIN\tCNAME\tTarget.Example.NET.\n`;
    expect(parseDigOutput(o, "x.example.test", "AAAA")!.records).toEqual([{ ttl: 60, value: "2001:db8::1" }]);
    expect(parseDigOutput(o, "x.example.test", "CNAME")!.records).toEqual([{ ttl: 60, value: "target.example.net" }]);
  });
});

describe("names and values", () => {
  it("normalizes names and refuses anything that is not a DNS name", () => {
    expect(normalizeName("WWW.Example.COM.")).toBe("www.example.com");
    expect(normalizeName("*.example.com")).toBe("*.example.com");
    expect(normalizeName("_acme-challenge.example.com")).toBe("_acme-challenge.example.com");
    for (const bad of ["", ".", "a..b", "a b.com", "x\n.com", 'a"b.com', "www.*.com", "-a.com", `${"a".repeat(64)}.com`]) {
      expect(() => normalizeName(bad)).toThrow(/not a valid DNS name/);
    }
  });

  it("validates and canonicalizes values per type", () => {
    expect(canonicalValues("A", [" 192.0.2.1", "192.0.2.1"])).toEqual(["192.0.2.1"]);
    expect(canonicalValues("AAAA", ["2001:DB8:0000::0001"])).toEqual(["2001:db8::1"]);
    expect(canonicalValues("CNAME", ["Target.Example.net."])).toEqual(["target.example.net"]);
    expect(() => canonicalValues("A", ["2001:db8::1"])).toThrow(/not an IPv4 address/);
    expect(() => canonicalValues("AAAA", ["192.0.2.1"])).toThrow(/not an IPv6 address/);
    expect(() => canonicalValues("CNAME", ["a.example.net", "b.example.net"])).toThrow(/only one target/);
    expect(() => canonicalValues("MX" as "A", ["x"])).toThrow(/not supported/);
    expect(canonicalIPv6("::FFFF:192.0.2.1")).toBe("::ffff:c000:201");
  });
});
