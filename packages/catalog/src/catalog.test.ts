import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hearthManifest } from "@hearth/contracts";
import { BASE_IMAGE, catalogAppProblems, dockerfileBaseImage, listCatalogApps } from "./catalog";

const REQUIRED = [
  "manifestVersion",
  "id",
  "title",
  "version",
  "upstreamVersion",
  "tagline",
  "description",
  "icon",
  "author",
  "website",
  "tags",
  "dockerImage",
  "httpPort",
  "healthCheckPath",
  "memoryLimit",
  "addons",
  "optionalSso",
  "postInstallMessage",
  "minHearthVersion",
];

describe("the built-in catalog", () => {
  const apps = listCatalogApps();

  it("ships at least the static site, DokuWiki, Radicale, WordPress, Pastebin and Tiny Tiny RSS", () => {
    expect(apps.map((a) => a.slug)).toEqual(expect.arrayContaining(["dokuwiki", "pastebin", "radicale", "static-site", "tt-rss", "wordpress"]));
  });

  it("has unique ids and images", () => {
    expect(new Set(apps.map((a) => a.manifest.id)).size).toBe(apps.length);
    expect(new Set(apps.map((a) => a.manifest.dockerImage)).size).toBe(apps.length);
  });

  for (const app of apps) {
    describe(app.slug, () => {
      it("has a manifest with every field, valid against the schema", () => {
        for (const k of REQUIRED) expect(app.manifest, k).toHaveProperty(k);
        const r = hearthManifest.safeParse(app.manifest);
        expect(r.success ? [] : r.error.issues).toEqual([]);
      });
      it("has a Dockerfile on the base image, a start script and an icon", () => {
        expect(catalogAppProblems(app)).toEqual([]);
      });
    });
  }
});

describe("dockerfileBaseImage", () => {
  it("finds the first FROM, skipping comments and flags", () => {
    expect(dockerfileBaseImage(`# c\nFROM ${BASE_IMAGE}\nRUN x\n`)).toBe(BASE_IMAGE);
    expect(dockerfileBaseImage("from --platform=linux/amd64 debian:12 AS b\nFROM x\n")).toBe("debian:12");
    expect(dockerfileBaseImage("RUN x\n")).toBeUndefined();
  });
});

describe("catalogAppProblems", () => {
  const root = mkdtempSync(path.join(os.tmpdir(), "hearth-catalog-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const good = {
    manifestVersion: 1,
    id: "org.example.hearth",
    version: "1.2.0",
    icon: "icon.svg",
    dockerImage: "localhost/hearth/org.example:1.2.0",
    addons: { localstorage: {} },
  };
  function make(name: string, files: Record<string, string>, manifest: Record<string, unknown> = good) {
    const dir = path.join(root, name);
    mkdirSync(dir);
    for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, f), text);
    writeFileSync(path.join(dir, "HearthManifest.json"), JSON.stringify(manifest));
    return { slug: name, dir, manifest };
  }
  const files = { Dockerfile: `FROM ${BASE_IMAGE}\n`, "start.sh": "#!/bin/sh\n", "icon.svg": "<svg/>" };

  it("accepts a complete folder", () => {
    expect(catalogAppProblems(make("ok", files))).toEqual([]);
  });
  it("names each missing piece", () => {
    const p = catalogAppProblems(make("empty", {}));
    expect(p).toContain("no Dockerfile");
    expect(p).toContain("no start.sh");
    expect(p.join("\n")).toMatch(/icon icon.svg is not a file/);
  });
  it("refuses an image name a registry would resolve (the bare hearth/ is Docker Hub's)", () => {
    for (const dockerImage of ["hearth/org.example:1.2.0", "docker.io/hearth/org.example:1.2.0", "registry.example.com/org.example:1.2.0"]) {
      const p = catalogAppProblems(make(`name-${dockerImage.length}-${dockerImage.charCodeAt(0)}`, files, { ...good, dockerImage }));
      expect(p.join("\n")).toMatch(/must be a local Hearth image \(localhost\/hearth\//);
    }
    expect(catalogAppProblems(make("name-ok", files, good))).toEqual([]);
  });
  it("refuses another base image, a tag that is not the version, and apps without /app/data", () => {
    const p = catalogAppProblems(make("bad", { ...files, Dockerfile: "FROM debian:12\n" }, { ...good, dockerImage: "localhost/hearth/org.example:latest", addons: {} }));
    expect(p.join("\n")).toMatch(/FROM localhost\/hearth\/base:bookworm, not debian:12/);
    expect(p.join("\n")).toMatch(/tagged with the version 1.2.0/);
    expect(p.join("\n")).toMatch(/localstorage/);
  });
});
