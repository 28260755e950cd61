import { describe, expect, it } from "vitest";
import { formatSetupCode, hashSetupCode, newSetupCode, normalizeSetupCode, SETUP_CODE_ALPHABET, setupCodeMatches } from "./setup-code";

describe("setup code", () => {
  it("is three groups of four from the unambiguous alphabet, different each time", () => {
    const codes = new Set(Array.from({ length: 200 }, () => newSetupCode()));
    expect(codes.size).toBe(200);
    for (const c of codes) {
      expect(c).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
      for (const ch of c.replace(/-/g, "")) expect(SETUP_CODE_ALPHABET).toContain(ch);
      expect(c).not.toMatch(/[01OIL]/);
    }
  });

  it("accepts the code typed in lower case, with spaces or without dashes", () => {
    const code = newSetupCode();
    const hash = hashSetupCode(code);
    expect(setupCodeMatches(code, hash)).toBe(true);
    expect(setupCodeMatches(code.toLowerCase(), hash)).toBe(true);
    expect(setupCodeMatches(` ${code.replace(/-/g, " ")} `, hash)).toBe(true);
    expect(setupCodeMatches(code.replace(/-/g, ""), hash)).toBe(true);
  });

  it("refuses another code, a malformed one and an empty one", () => {
    const hash = hashSetupCode("ABCD-EFGH-JKMN");
    expect(setupCodeMatches("ABCD-EFGH-JKMP", hash)).toBe(false);
    expect(setupCodeMatches("ABCD-EFGH-JKM", hash)).toBe(false);
    expect(setupCodeMatches("ABCD-EFGH-JKM0", hash)).toBe(false);
    expect(setupCodeMatches("", hash)).toBe(false);
    expect(normalizeSetupCode("abcd efgh jkmn")).toBe("ABCDEFGHJKMN");
    expect(formatSetupCode("abcdefghjkmn")).toBe("ABCD-EFGH-JKMN");
    expect(formatSetupCode("abc")).toBeNull();
    expect(normalizeSetupCode("ABCD-EFGH-JKMI")).toBeNull();
    expect(() => hashSetupCode("nope")).toThrow();
  });

  it("stores only a hash, never the code", () => {
    const code = newSetupCode();
    const hash = hashSetupCode(code);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hash).not.toContain(code.replace(/-/g, ""));
  });
});
