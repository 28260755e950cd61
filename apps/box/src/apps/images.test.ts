import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { DockerApi, RegistryAuth } from "../docker/docker";
import { TaskError } from "../tasks/registry";
import { dockerfileFromImages, ensureImage, findCatalogContext, registryHostOf, type RegistryCredentials } from "./images";

function fakeDocker(opts: { present?: string[]; pull?: (ref: string, auth: RegistryAuth | null) => string | null; build?: (dir: string) => string | null }) {
  const present = new Set(opts.present ?? []);
  const calls: string[] = [];
  const docker = {
    async inspectImage(ref: string) {
      return present.has(ref) ? { id: `sha256:${ref}` } : null;
    },
    async pullImage(ref: string, auth: RegistryAuth | null, onLine: (l: string) => void) {
      calls.push(`pull ${ref}${auth ? ` as ${auth.username}` : ""}`);
      const err = opts.pull?.(ref, auth) ?? "no such host";
      if (err === "ok") {
        present.add(ref);
        onLine("Pull complete");
        return;
      }
      throw new Error(err);
    },
    async buildImage(dir: string, tag: string, _labels: Record<string, string>, onLine: (l: string) => void) {
      calls.push(`build ${path.basename(dir)} as ${tag}`);
      onLine("Step 1/2 : FROM base");
      const err = opts.build?.(dir) ?? null;
      if (err) {
        onLine("oops, RUN failed");
        throw new Error(err);
      }
      present.add(tag);
    },
  } as unknown as DockerApi;
  return { docker, calls };
}
const noCreds: RegistryCredentials = { credentialsFor: async () => null };
const creds = (host: string): RegistryCredentials => ({
  credentialsFor: async (h) => (h === host ? { username: "bob", password: "pw", serveraddress: h } : null),
});
const log = () => {
  const lines: string[] = [];
  return { lines, log: (l: string) => void lines.push(l) };
};

function catalog(entries: Record<string, { id: string; dockerImage: string; dockerfile?: boolean; from?: string }>) {
  const root = mkdtempSync(path.join(os.tmpdir(), "hearth-catalog-"));
  for (const [slug, e] of Object.entries(entries)) {
    mkdirSync(path.join(root, slug));
    writeFileSync(path.join(root, slug, "HearthManifest.json"), JSON.stringify({ id: e.id, dockerImage: e.dockerImage }));
    if (e.dockerfile !== false) writeFileSync(path.join(root, slug, "Dockerfile"), `FROM ${e.from ?? "localhost/hearth/base:bookworm"}\nRUN true\n`);
  }
  return root;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TaskError);
    return (e as TaskError).code;
  }
  throw new Error("expected a failure");
}

describe("registryHostOf", () => {
  it.each([
    ["nginx", "docker.io"],
    ["library/nginx:1", "docker.io"],
    ["team/app:2", "docker.io"],
    ["docker.io/team/app", "docker.io"],
    ["index.docker.io/team/app", "docker.io"],
    ["registry.example.com/team/app:1", "registry.example.com"],
    ["localhost:5000/app", "localhost:5000"],
    ["localhost/app", "localhost"],
    ["10.0.0.1:5000/x/y@sha256:" + "a".repeat(64), "10.0.0.1:5000"],
  ])("%s → %s", (ref, host) => expect(registryHostOf(ref)).toBe(host));
});

describe("ensureImage", () => {
  it("uses a present image without pulling", async () => {
    const { docker, calls } = fakeDocker({ present: ["a/b:1"] });
    expect(await ensureImage({ docker, registries: noCreds, catalogDirs: [] }, { ref: "a/b:1", manifestId: "x.y" }, log())).toBe("present");
    expect(calls).toEqual([]);
  });

  it("pulls with the saved credentials of the image's registry", async () => {
    const { docker, calls } = fakeDocker({ pull: () => "ok" });
    const r = await ensureImage({ docker, registries: creds("reg.example.com:5000"), catalogDirs: [] }, { ref: "reg.example.com:5000/t/a:1", manifestId: "x.y" }, log());
    expect(r).toBe("pulled");
    expect(calls).toEqual(["pull reg.example.com:5000/t/a:1 as bob"]);
  });

  it("registry_auth when the registry refuses the saved credentials", async () => {
    const { docker } = fakeDocker({ pull: () => "Head https://reg.example.com/v2/t/a/manifests/1: unauthorized: authentication required" });
    expect(await codeOf(ensureImage({ docker, registries: creds("reg.example.com"), catalogDirs: [] }, { ref: "reg.example.com/t/a:1", manifestId: "x.y" }, log()))).toBe("registry_auth");
  });

  it("image_not_found when a registry image cannot be pulled", async () => {
    const { docker } = fakeDocker({});
    expect(await codeOf(ensureImage({ docker, registries: noCreds, catalogDirs: [] }, { ref: "t/a:1", manifestId: "x.y" }, log()))).toBe("image_not_found");
  });

  it("never builds a catalog package under a registry image's name when its pull fails", async () => {
    // the catalog has org.wiki; an update names t/wiki:1 (not Hearth's) and the pull fails
    const root = catalog({ wiki: { id: "org.wiki", dockerImage: "localhost/hearth/org.wiki:1", from: "localhost/hearth/base:bookworm" } });
    const { docker, calls } = fakeDocker({ present: ["localhost/hearth/base:bookworm"] });
    expect(await codeOf(ensureImage({ docker, registries: noCreds, catalogDirs: [root] }, { ref: "t/wiki:1", manifestId: "org.wiki" }, log()))).toBe("image_not_found");
    expect(calls).toEqual(["pull t/wiki:1"]);
  });

  it("builds a missing Hearth image from the catalog folder that names it, and never pulls it", async () => {
    const root = catalog({
      other: { id: "org.other", dockerImage: "localhost/hearth/org.other:1" },
      old: { id: "org.wiki", dockerImage: "localhost/hearth/org.wiki:0" },
      wiki: { id: "org.wiki", dockerImage: "localhost/hearth/org.wiki:1" },
    });
    const { docker, calls } = fakeDocker({ present: ["localhost/hearth/base:bookworm"], pull: () => "ok" });
    const l = log();
    expect(await ensureImage({ docker, registries: noCreds, catalogDirs: [root] }, { ref: "localhost/hearth/org.wiki:1", manifestId: "org.wiki" }, l)).toBe("built");
    expect(calls).toEqual(["build wiki as localhost/hearth/org.wiki:1"]);
    expect(l.lines).toContain("build: Step 1/2 : FROM base");
  });

  it("a legacy hearth/ name (an install from before localhost/hearth/) is built under the local name, never pulled from Docker Hub", async () => {
    const root = catalog({ wiki: { id: "org.wiki", dockerImage: "hearth/org.wiki:1" } });
    const { docker, calls } = fakeDocker({ present: ["localhost/hearth/base:bookworm"], pull: () => "ok" });
    expect(await ensureImage({ docker, registries: noCreds, catalogDirs: [root] }, { ref: "hearth/org.wiki:1", manifestId: "org.wiki" }, log())).toBe("built");
    expect(calls).toEqual(["build wiki as localhost/hearth/org.wiki:1"]);
    // and a present image under the new name is used as is
    const present = fakeDocker({ present: ["localhost/hearth/org.wiki:1"], pull: () => "ok" });
    expect(await ensureImage({ docker: present.docker, registries: noCreds, catalogDirs: [root] }, { ref: "hearth/org.wiki:1", manifestId: "org.wiki" }, log())).toBe("present");
    expect(present.calls).toEqual([]);
  });

  it("image_not_found for a Hearth image no catalog folder builds (another version, another id): no pull, no build", async () => {
    const root = catalog({ wiki: { id: "org.wiki", dockerImage: "localhost/hearth/org.wiki:1" } });
    const { docker, calls } = fakeDocker({ present: ["localhost/hearth/base:bookworm"], pull: () => "ok" });
    expect(await codeOf(ensureImage({ docker, registries: noCreds, catalogDirs: [root] }, { ref: "localhost/hearth/org.wiki:2", manifestId: "org.wiki" }, log()))).toBe("image_not_found");
    expect(await codeOf(ensureImage({ docker, registries: noCreds, catalogDirs: [root] }, { ref: "localhost/hearth/org.wiki:1", manifestId: "org.other" }, log()))).toBe("image_not_found");
    expect(calls).toEqual([]);
  });

  it("refuses to build when the base is missing or is not a local Hearth image (the build would pull it)", async () => {
    const missing = catalog({ wiki: { id: "org.wiki", dockerImage: "localhost/hearth/org.wiki:1" } });
    const a = fakeDocker({ pull: () => "ok" });
    const l = log();
    const err = ensureImage({ docker: a.docker, registries: noCreds, catalogDirs: [missing] }, { ref: "localhost/hearth/org.wiki:1", manifestId: "org.wiki" }, l);
    await expect(err).rejects.toThrow(/base image localhost\/hearth\/base:bookworm .* is missing/);
    expect(a.calls).toEqual([]);

    const foreign = catalog({ wiki: { id: "org.wiki", dockerImage: "localhost/hearth/org.wiki:1", from: "debian:12" } });
    const b = fakeDocker({ present: ["debian:12"], pull: () => "ok" });
    expect(await codeOf(ensureImage({ docker: b.docker, registries: noCreds, catalogDirs: [foreign] }, { ref: "localhost/hearth/org.wiki:1", manifestId: "org.wiki" }, log()))).toBe("build_failed");
    // the legacy base name would be read by the build as a Docker Hub name, even with the local one present
    const legacyFrom = catalog({ wiki: { id: "org.wiki", dockerImage: "localhost/hearth/org.wiki:1", from: "hearth/base:bookworm" } });
    const c = fakeDocker({ present: ["localhost/hearth/base:bookworm", "hearth/base:bookworm"], pull: () => "ok" });
    await expect(ensureImage({ docker: c.docker, registries: noCreds, catalogDirs: [legacyFrom] }, { ref: "localhost/hearth/org.wiki:1", manifestId: "org.wiki" }, log())).rejects.toThrow(
      /FROM hearth\/base:bookworm, a Docker Hub name/,
    );
    expect(c.calls).toEqual([]);
    const arg = catalog({ wiki: { id: "org.wiki", dockerImage: "localhost/hearth/org.wiki:1", from: "$BASE" } });
    expect(await codeOf(ensureImage({ docker: b.docker, registries: noCreds, catalogDirs: [arg] }, { ref: "localhost/hearth/org.wiki:1", manifestId: "org.wiki" }, log()))).toBe("build_failed");
    expect(b.calls).toEqual([]);
  });

  it("build_failed with the build output in the log", async () => {
    const root = catalog({ wiki: { id: "org.wiki", dockerImage: "localhost/hearth/org.wiki:1" } });
    const { docker } = fakeDocker({ present: ["localhost/hearth/base:bookworm"], build: () => "The command '/bin/sh -c false' returned a non-zero code: 1" });
    const l = log();
    expect(await codeOf(ensureImage({ docker, registries: noCreds, catalogDirs: [root] }, { ref: "localhost/hearth/org.wiki:1", manifestId: "org.wiki" }, l))).toBe("build_failed");
    expect(l.lines).toContain("build: oops, RUN failed");
  });
});

describe("findCatalogContext", () => {
  it("needs a Dockerfile and the exact id and image: no fallback to another version's folder", () => {
    const root = catalog({
      a: { id: "org.wiki", dockerImage: "localhost/hearth/org.wiki:1", dockerfile: false },
      b: { id: "org.wiki", dockerImage: "localhost/hearth/org.wiki:0" },
      c: { id: "org.wiki", dockerImage: "hearth/org.wiki:2" },
    });
    expect(path.basename(findCatalogContext([root], "org.wiki", "localhost/hearth/org.wiki:2")!)).toBe("c");
    expect(path.basename(findCatalogContext([root], "org.wiki", "hearth/org.wiki:0")!)).toBe("b");
    expect(findCatalogContext([root], "org.wiki", "localhost/hearth/org.wiki:1")).toBeNull();
    expect(findCatalogContext([root], "org.nope", "localhost/hearth/org.wiki:0")).toBeNull();
    expect(findCatalogContext(["/nonexistent"], "org.wiki", "localhost/hearth/org.wiki:0")).toBeNull();
  });
});

describe("dockerfileFromImages", () => {
  it("lists the FROM images, skipping earlier stages, and refuses build arguments", () => {
    expect(dockerfileFromImages("# syntax\nFROM localhost/hearth/base:bookworm\nRUN true\n")).toEqual(["localhost/hearth/base:bookworm"]);
    expect(dockerfileFromImages("FROM --platform=linux/amd64 localhost/hearth/base:bookworm AS build\nRUN x\nFROM build AS final\nfrom scratch\n")).toEqual([
      "localhost/hearth/base:bookworm",
      "scratch",
    ]);
    expect(dockerfileFromImages("FROM \\\n  debian:12\n")).toEqual(["debian:12"]);
    expect(() => dockerfileFromImages("ARG B=x\nFROM ${B}\n")).toThrow(/build argument/);
  });
});
