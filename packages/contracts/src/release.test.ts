import { describe, expect, it } from "vitest";
import { hearthRelease, hearthVersionView } from "./release";

describe("hearthVersionView", () => {
  const state = (version: string) => ({ latest: { version, notes: "", url: "" }, checkedAt: "2026-12-03T00:00:00.000Z", error: null });
  it("a newer release is an update; the same, an older one, any pre-release (even a newer one) or none is not", () => {
    expect(hearthVersionView("0.1.0", state("0.2.0"))).toMatchObject({ current: "0.1.0", updateAvailable: true, latest: { version: "0.2.0" } });
    expect(hearthVersionView("0.1.0", state("0.1.0")).updateAvailable).toBe(false);
    expect(hearthVersionView("0.1.0", state("0.0.9")).updateAvailable).toBe(false);
    expect(hearthVersionView("0.1.0", state("0.1.0-rc.1")).updateAvailable).toBe(false);
    expect(hearthVersionView("0.1.0", state("0.2.0-rc.1")).updateAvailable).toBe(false);
    expect(hearthVersionView("0.1.0", state("1.0.0-beta")).updateAvailable).toBe(false);
    expect(hearthVersionView("0.1.0", null)).toEqual({ current: "0.1.0", latest: null, updateAvailable: false, checkedAt: null, error: null });
  });
  it("the release file needs a semantic version; the link only http(s)", () => {
    expect(hearthRelease.safeParse({ version: "latest" }).success).toBe(false);
    expect(hearthRelease.safeParse({ version: "1.0.0", url: "javascript:alert(1)" }).success).toBe(false);
    expect(hearthRelease.parse({ version: "1.0.0" })).toEqual({ version: "1.0.0", notes: "", url: "" });
  });
});
