import { describe, expect, it } from "vitest";
import { compareSemver, DEFAULT_MEMORY_LIMIT, hearthManifest, manifestJsonSchema } from "./manifest";

export const VALID_MANIFEST = {
  manifestVersion: 1,
  id: "org.example.notes",
  title: "Notes",
  version: "1.2.3",
  dockerImage: "hearth/org.example.notes:1.2.3",
  httpPort: 8080,
  healthCheckPath: "/healthz",
};

/** [what is wrong, the change, a fragment the error names] — at least 30 bad manifests. */
export const INVALID_MANIFESTS: [string, Record<string, unknown>, RegExp][] = [
  ["unknown top-level field", { colour: "red" }, /colour/],
  ["manifestVersion 2", { manifestVersion: 2 }, /manifestVersion/],
  ["manifestVersion as string", { manifestVersion: "1" }, /manifestVersion/],
  ["id missing", { id: undefined }, /id/],
  ["id not reverse-domain", { id: "notes" }, /reverse-domain/],
  ["id with uppercase", { id: "Org.Example.Notes" }, /reverse-domain/],
  ["id with spaces", { id: "org.example. notes" }, /reverse-domain/],
  ["title empty", { title: "" }, /title/],
  ["title too long", { title: "x".repeat(65) }, /title/],
  ["version not semver", { version: "1.2" }, /semantic version/],
  ["version with v prefix", { version: "v1.2.3" }, /semantic version/],
  ["version leading zero", { version: "01.2.3" }, /semantic version/],
  ["dockerImage missing", { dockerImage: undefined }, /dockerImage/],
  ["dockerImage with spaces", { dockerImage: "hearth/notes app:1" }, /Docker image/],
  ["dockerImage uppercase name", { dockerImage: "Hearth/Notes:1" }, /Docker image/],
  ["dockerImage shell injection", { dockerImage: "notes;rm -rf /" }, /Docker image/],
  ["httpPort zero", { httpPort: 0 }, /httpPort/],
  ["httpPort too big", { httpPort: 70000 }, /httpPort/],
  ["httpPort fractional", { httpPort: 80.5 }, /httpPort/],
  ["httpPort string", { httpPort: "8080" }, /httpPort/],
  ["healthCheckPath relative", { healthCheckPath: "healthz" }, /absolute path/],
  ["healthCheckPath with space", { healthCheckPath: "/health check" }, /absolute path/],
  ["memoryLimit too small", { memoryLimit: 1024 }, /memoryLimit/],
  ["memoryLimit negative", { memoryLimit: -1 }, /memoryLimit/],
  ["unknown addon", { addons: { mongodb: {} } }, /mongodb/],
  ["addons as array", { addons: ["mysql"] }, /addons/],
  ["tcpPorts bad env name", { tcpPorts: { "ssh-port": { title: "SSH", containerPort: 22, defaultValue: 2222 } } }, /UPPER_CASE/],
  ["tcpPorts missing containerPort", { tcpPorts: { SSH_PORT: { title: "SSH", defaultValue: 2222 } } }, /containerPort/],
  ["tcpPorts unknown field", { tcpPorts: { SSH_PORT: { title: "SSH", containerPort: 22, defaultValue: 2222, proto: "udp" } } }, /proto/],
  ["tags not lowercase words", { tags: ["Wiki Engine"] }, /lowercase/],
  ["tags as string", { tags: "wiki" }, /tags/],
  ["website not a URL", { website: "example dot com" }, /website/],
  ["website javascript: URL", { website: "javascript:alert(1)" }, /website/],
  ["optionalSso as string", { optionalSso: "yes" }, /optionalSso/],
  ["minHearthVersion not semver", { minHearthVersion: "latest" }, /semantic version/],
];

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
