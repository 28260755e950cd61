import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { catalogAppView, filterCatalog, findCatalogApp, iconFileOf, packageOf, readCatalog } from "./catalog";

const root = mkdtempSync(path.join(os.tmpdir(), "hearth-catalog-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function pkg(dir: string, folder: string, manifest: unknown, files: Record<string, string> = {}) {
  const d = path.join(dir, folder);
  mkdirSync(d, { recursive: true });
  writeFileSync(path.join(d, "HearthManifest.json"), typeof manifest === "string" ? manifest : JSON.stringify(manifest));
  for (const [name, body] of Object.entries(files)) writeFileSync(path.join(d, name), body);
  return d;
}

const base = (id: string, title: string, version: string, extra: object = {}) => ({
  manifestVersion: 1,
  id,
  title,
  version,
  dockerImage: `localhost/hearth/${id}:${version}`,
  httpPort: 8080,
  healthCheckPath: "/",
  ...extra,
});

const a = path.join(root, "a");
const b = path.join(root, "b");
pkg(a, "wiki", base("org.example.wiki", "Wiki", "1.0.0", { tags: ["wiki", "docs"], tagline: "A wiki", icon: "icon.svg" }), { "icon.svg": "<svg/>" });
pkg(a, "wiki-2", base("org.example.wiki", "Wiki", "1.10.0", { tags: ["wiki", "docs"], tagline: "A wiki", icon: "icon.svg" }), { "icon.svg": "<svg/>" });
pkg(a, "bad-json", "{ not json");
pkg(a, "bad-schema", base("org.example.bad", "Bad", "1.0", {}));
pkg(a, "unknown-field", base("org.example.bad2", "Bad2", "1.0.0", { colour: "red" }));
pkg(a, "escape", base("org.example.escape", "Escape", "1.0.0", { icon: "../wiki/icon.svg" }));
pkg(a, "absolute", base("org.example.absolute", "Absolute", "1.0.0", { icon: "/etc/passwd.png" }));
const linkDir = pkg(a, "link", base("org.example.link", "Link", "1.0.0", { icon: "icon.png" }));
writeFileSync(path.join(root, "secret.png"), "secret");
symlinkSync(path.join(root, "secret.png"), path.join(linkDir, "icon.png"));
pkg(a, "notype", base("org.example.notype", "NoType", "1.0.0", { icon: "icon.txt" }), { "icon.txt": "x" });
mkdirSync(path.join(a, "empty-folder"));
writeFileSync(path.join(a, "README.md"), "not a package");
pkg(b, "static", base("org.example.static", "Static site", "2.0.0", { tags: ["web"], description: "Serves **files**", icon: "img/logo.png" }), {});
mkdirSync(path.join(b, "static/img"));
writeFileSync(path.join(b, "static/img/logo.png"), "PNG");
pkg(b, "wiki-dup", base("org.example.wiki", "Wiki", "1.0.0", {}));

describe("catalog reader", () => {
  it("reads valid packages from every directory, groups versions newest first, skips the rest with warnings", async () => {
    const warnings: string[] = [];
    const apps = await readCatalog([a, b, path.join(root, "missing")], (msg, data) => warnings.push(`${msg} ${JSON.stringify(data)}`));
    expect(apps.map((x) => x.id)).toEqual(["org.example.absolute", "org.example.escape", "org.example.link", "org.example.notype", "org.example.static", "org.example.wiki"]);
    const wiki = apps.find((x) => x.id === "org.example.wiki")!;
    expect(wiki.packages.map((p) => p.manifest.version)).toEqual(["1.10.0", "1.0.0"]);
    expect(wiki.packages[0]!.dir).toBe(path.join(a, "wiki-2"));
    expect(warnings.join("\n")).toMatch(/not valid JSON.*bad-json/);
    expect(warnings.join("\n")).toMatch(/invalid manifest.*bad-schema.*semantic version/);
    expect(warnings.join("\n")).toMatch(/invalid manifest.*unknown-field.*colour/);
    expect(warnings.join("\n")).toMatch(/duplicate package version.*wiki-dup/);
    expect(warnings.join("\n")).toMatch(/cannot read catalog directory.*missing/);
  });

  it("fills manifest defaults and exposes versions in the view", async () => {
    const wiki = (await findCatalogApp([a], "org.example.wiki"))!;
    const v = catalogAppView(wiki);
    expect(v).toMatchObject({
      id: "org.example.wiki",
      version: "1.10.0",
      versions: ["1.10.0", "1.0.0"],
      memoryLimit: 256 * 1024 * 1024,
      iconUrl: "/api/v1/appstore/org.example.wiki/icon",
      addons: [],
      description: "",
    });
    expect(catalogAppView(wiki, packageOf(wiki, "1.0.0")!).version).toBe("1.0.0");
    expect(packageOf(wiki, "9.9.9")).toBeNull();
    expect(packageOf(wiki)!.manifest.version).toBe("1.10.0");
    expect(await findCatalogApp([a], "org.example.nope")).toBeNull();
  });

  it("searches title, tagline, description and tags; filters by tag", async () => {
    const apps = await readCatalog([a, b]);
    expect(filterCatalog(apps, { search: "WIKI" }).map((x) => x.id)).toEqual(["org.example.wiki"]);
    expect(filterCatalog(apps, { search: "files" }).map((x) => x.id)).toEqual(["org.example.static"]);
    expect(filterCatalog(apps, { tag: "docs" }).map((x) => x.id)).toEqual(["org.example.wiki"]);
    expect(filterCatalog(apps, { tag: "docs", search: "static" })).toEqual([]);
    expect(filterCatalog(apps, {}).length).toBe(apps.length);
  });

  it("serves icons inside the package folder only", async () => {
    const apps = await readCatalog([a, b]);
    const icon = (id: string) => iconFileOf(apps.find((x) => x.id === id)!.packages[0]!);
    expect(await icon("org.example.wiki")).toMatchObject({ contentType: "image/svg+xml", size: 6 });
    expect(await icon("org.example.static")).toMatchObject({ contentType: "image/png", file: path.join(b, "static/img/logo.png") });
    expect(await icon("org.example.escape")).toBeNull();
    expect(await icon("org.example.absolute")).toBeNull();
    expect(await icon("org.example.link")).toBeNull();
    expect(await icon("org.example.notype")).toBeNull();
  });
});
