import { describe, expect, it } from "vitest";
import { certificateSlug, nameCovers, namesKey, normalizeNames, uncoveredNames } from "./names";

describe("certificate names", () => {
  it("normalizes: lower case, no trailing dot, duplicates dropped, order kept", () => {
    expect(normalizeNames(["App.Example.COM.", "*.example.com", "app.example.com"])).toEqual(["app.example.com", "*.example.com"]);
  });

  it("refuses bad names with HearthError invalid", () => {
    for (const bad of [[], ["localhost"], ["a..b"], ["*"], ["a.*.example.com"], ["x*.example.com"], ["-a.example.com"], ["1.2.3.4"], ["a b.com"]]) {
      expect(() => normalizeNames(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ name: "HearthError", code: "invalid" }));
    }
    expect(() => normalizeNames(Array.from({ length: 101 }, (_, i) => `h${i}.example.com`))).toThrow(/at most 100/);
  });

  it("wildcards cover exactly one label", () => {
    expect(nameCovers("*.a.b", "x.a.b")).toBe(true);
    expect(nameCovers("*.a.b", "X.A.B.")).toBe(true);
    expect(nameCovers("*.a.b", "a.b")).toBe(false);
    expect(nameCovers("*.a.b", "x.y.a.b")).toBe(false);
    expect(nameCovers("*.a.b", "xa.b")).toBe(false);
    expect(nameCovers("*.a.b", "*.a.b")).toBe(true);
    expect(nameCovers("x.a.b", "*.a.b")).toBe(false);
    expect(nameCovers("a.b", "x.a.b")).toBe(false);
    expect(uncoveredNames(["*.example.com", "example.com"], ["example.com", "app.example.com", "a.b.example.com"])).toEqual(["a.b.example.com"]);
  });

  it("slug from the primary name, wildcard spelled _wildcard; key ignores order", () => {
    expect(certificateSlug(["App.example.com", "b.example.com"])).toBe("app.example.com");
    expect(certificateSlug(["*.example.com", "example.com"])).toBe("_wildcard.example.com");
    expect(namesKey(["b.x.com", "a.x.com"])).toBe(namesKey(["a.x.com", "b.x.com"]));
  });
});
