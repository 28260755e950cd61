import { describe, expect, it } from "vitest";
import { compareSemver, DEFAULT_MEMORY_LIMIT, hearthManifest, isPrerelease, manifestJsonSchema, needsNewerHearth, newerPatchVersion, newerVersion } from "./manifest";
import { INVALID_MANIFESTS, VALID_MANIFEST } from "./manifest.examples";

describe("HearthManifest", () => {
  it("accepts a minimal manifest and fills the defaults", () => {
    const m = hearthManifest.parse(VALID_MANIFEST);
    expect(m.memoryLimit).toBe(DEFAULT_MEMORY_LIMIT);
    expect(m.addons).toEqual({});
    expect(m.tcpPorts).toEqual({});
    expect(m.optionalSso).toBe(false);
  });

  it("accepts a full manifest", () => {
    const m = hearthManifest.parse({
      ...VALID_MANIFEST,
      upstreamVersion: "2024-02-06a",
      tagline: "Notes for everyone",
      description: "# Notes\nA notebook.",
      icon: "icon.svg",
      author: "Example",
      website: "https://example.org",
      tags: ["notes", "productivity"],
      memoryLimit: 512 * 1024 * 1024,
      addons: { localstorage: {}, mysql: { multipleDatabases: true } },
      tcpPorts: { SSH_PORT: { title: "SSH", description: "git over ssh", containerPort: 22, defaultValue: 2222 } },
      optionalSso: true,
      postInstallMessage: "Log in as **admin**.",
      minHearthVersion: "0.1.0",
    });
    expect(m.addons.mysql).toEqual({ multipleDatabases: true });
  });

  it("takes a firstAdmin account: the password's variable, the username defaulting to admin", () => {
    expect(hearthManifest.parse(VALID_MANIFEST).firstAdmin).toBeUndefined();
    expect(hearthManifest.parse({ ...VALID_MANIFEST, firstAdmin: { passwordEnv: "NOTES_ADMIN_PASSWORD" } }).firstAdmin).toEqual({ username: "admin", passwordEnv: "NOTES_ADMIN_PASSWORD" });
    const full = { username: "root@notes", usernameEnv: "NOTES_ADMIN_USER", passwordEnv: "NOTES_ADMIN_PASSWORD" };
    expect(hearthManifest.parse({ ...VALID_MANIFEST, firstAdmin: full }).firstAdmin).toEqual(full);
  });

  it.each(INVALID_MANIFESTS)("refuses: %s", (_what, change, names) => {
    const input: Record<string, unknown> = { ...VALID_MANIFEST, ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete input[k];
    const r = hearthManifest.safeParse(input);
    expect(r.success).toBe(false);
    const text = r.error!.issues.map((i) => `${i.path.join(".")}: ${i.message} ${"keys" in i ? (i.keys as string[]).join(",") : ""}`).join("\n");
    expect(text).toMatch(names);
  });

  it("has at least 30 invalid examples", () => {
    expect(INVALID_MANIFESTS.length).toBeGreaterThanOrEqual(30);
  });

  it("is published as JSON Schema", () => {
    const s = manifestJsonSchema() as { properties: Record<string, unknown>; required: string[]; additionalProperties: boolean };
    expect(s.additionalProperties).toBe(false);
    expect(s.required).toEqual(expect.arrayContaining(["manifestVersion", "id", "title", "version", "dockerImage", "httpPort", "healthCheckPath"]));
    expect(Object.keys(s.properties)).toContain("tcpPorts");
    const fa = s.properties.firstAdmin as { type: string; required: string[]; properties: Record<string, { pattern?: string; default?: string }>; additionalProperties: boolean };
    expect(fa.type).toBe("object");
    expect(fa.required).toEqual(["passwordEnv"]);
    expect(fa.additionalProperties).toBe(false);
    expect(fa.properties.username?.default).toBe("admin");
    expect(fa.properties.passwordEnv?.pattern).toBe("^[A-Z][A-Z0-9_]{0,63}$");
  });
});

describe("compareSemver", () => {
  it.each([
    ["1.0.0", "1.0.0", 0],
    ["1.0.0", "2.0.0", -1],
    ["1.10.0", "1.2.0", 1],
    ["1.0.0-alpha", "1.0.0", -1],
    ["1.0.0-alpha", "1.0.0-alpha.1", -1],
    ["1.0.0-alpha.beta", "1.0.0-beta", -1],
    ["1.0.0-beta.2", "1.0.0-beta.11", -1],
    ["1.0.0-rc.1", "1.0.0", -1],
    ["1.0.0+build.1", "1.0.0+build.2", 0],
  ])("%s vs %s → %i", (a, b, want) => {
    expect(compareSemver(a, b)).toBe(want);
  });
});

describe("newerVersion (which catalog version an update offers)", () => {
  it.each([
    ["1.0.0", ["1.0.0", "1.0.1", "1.2.0"], "1.2.0"],
    ["1.0.0", ["2.0.0", "10.0.0", "9.9.9"], "10.0.0"],
    ["1.2.0", ["1.10.0", "1.9.0"], "1.10.0"],
    // pre-releases are never offered, even when they are the newest
    ["1.0.0", ["1.1.0", "2.0.0-rc.1", "2.0.0-beta"], "1.1.0"],
    ["1.0.0", ["2.0.0-rc.1"], null],
    // an installed pre-release is offered its release
    ["2.0.0-rc.1", ["2.0.0-rc.2", "2.0.0"], "2.0.0"],
    // same, older, build metadata only, garbage: nothing
    ["1.0.0", ["1.0.0", "0.9.0", "1.0.0+build.7", "latest", ""], null],
    ["1.0.0", [], null],
  ] as const)("%s in %j → %s", (installed, versions, want) => {
    expect(newerVersion(installed, versions)).toBe(want);
  });

  it("isPrerelease", () => {
    expect(isPrerelease("1.0.0-rc.1")).toBe(true);
    expect(isPrerelease("1.0.0+build")).toBe(false);
    expect(isPrerelease("1.0.0")).toBe(false);
    expect(() => isPrerelease("v1")).toThrow(/not a semantic version/);
  });
});

describe("changelog", () => {
  it("defaults to empty, is kept as text and is bounded", () => {
    const base = { manifestVersion: 1, id: "org.example.app", title: "App", version: "1.0.0", dockerImage: "hearth/app:1", httpPort: 80, healthCheckPath: "/" };
    expect(hearthManifest.parse(base).changelog).toBe("");
    expect(hearthManifest.parse({ ...base, changelog: "- fixes *login*\n<b>x</b>" }).changelog).toBe("- fixes *login*\n<b>x</b>");
    const r = hearthManifest.safeParse({ ...base, changelog: "x".repeat(20_001) });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(["changelog"]);
  });
});

describe("newerPatchVersion (what an automatic update may install)", () => {
  it.each([
    ["1.2.3", ["1.2.4", "1.2.10", "1.3.0", "2.0.0"], "1.2.10"],
    ["1.2.3", ["1.3.0", "2.0.0", "1.2.3"], null],
    ["1.2.3", ["1.2.4-rc.1", "1.2.2"], null],
    ["1.2.3", ["11.2.4", "1.22.4", "1.2.4"], "1.2.4"],
    ["0.1.0", ["0.1.1", "0.2.0"], "0.1.1"],
    ["1.2.3-rc.1", ["1.2.3", "1.2.4"], "1.2.4"],
    ["garbage", ["1.2.4"], null],
  ] as const)("%s in %j → %s", (installed, versions, want) => {
    expect(newerPatchVersion(installed, versions)).toBe(want);
  });
});

describe("versions that need a newer Hearth are not offered", () => {
  const refs = [{ version: "1.2.4" }, { version: "1.2.5", minHearthVersion: "0.2.0" }, { version: "1.3.0", minHearthVersion: "9.0.0" }];
  it("newerVersion skips a version whose minHearthVersion is above the running Hearth", () => {
    expect(newerVersion("1.2.3", refs, "0.1.0")).toBe("1.2.4");
    expect(newerVersion("1.2.3", refs, "0.2.0")).toBe("1.2.5");
    expect(newerVersion("1.2.3", refs, "9.0.0")).toBe("1.3.0");
    // without the running Hearth, as before
    expect(newerVersion("1.2.3", refs)).toBe("1.3.0");
  });
  it("newerPatchVersion too", () => {
    expect(newerPatchVersion("1.2.3", refs, "0.1.0")).toBe("1.2.4");
    expect(newerPatchVersion("1.2.3", refs, "0.2.0")).toBe("1.2.5");
    expect(newerPatchVersion("1.2.4", refs, "0.1.0")).toBeNull();
  });
  it("needsNewerHearth", () => {
    expect(needsNewerHearth({}, "0.1.0")).toBe(false);
    expect(needsNewerHearth({ minHearthVersion: "0.1.0" }, "0.1.0")).toBe(false);
    expect(needsNewerHearth({ minHearthVersion: "0.1.1" }, "0.1.0")).toBe(true);
  });
});
