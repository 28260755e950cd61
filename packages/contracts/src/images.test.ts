import { describe, expect, it } from "vitest";
import { canonicalImageRef, HEARTH_BASE_IMAGE, isHearthImage } from "./images";
import { hearthManifest } from "./manifest";
import { VALID_MANIFEST } from "./manifest.examples";

describe("Hearth image names", () => {
  it("maps a legacy bare hearth/ name to localhost/hearth/ and leaves every other name alone", () => {
    expect(canonicalImageRef("hearth/org.wordpress:1.0.0")).toBe("localhost/hearth/org.wordpress:1.0.0");
    expect(canonicalImageRef("hearth/base:bookworm")).toBe(HEARTH_BASE_IMAGE);
    expect(canonicalImageRef("localhost/hearth/org.wordpress:1.0.0")).toBe("localhost/hearth/org.wordpress:1.0.0");
    for (const other of [
      "docker.io/hearth/x:1",
      "index.docker.io/hearth/x:1",
      "hearthx/app:1",
      "myhearth/app:1",
      "localhost:5000/hearth/x:1",
      "registry.example.com/hearth/x:1",
      "nginx:1.25",
      "library/hearth:1",
    ]) {
      expect(canonicalImageRef(other)).toBe(other);
    }
  });

  it("recognises Hearth's images, legacy names included, and nothing else", () => {
    for (const ours of ["localhost/hearth/base:bookworm", "localhost/hearth/mariadb:10.11", "hearth/org.dokuwiki:1.0.0", "localhost/hearth/x"]) expect(isHearthImage(ours)).toBe(true);
    for (const theirs of [
      "docker.io/hearth/x:1",
      "localhost:5000/hearth/x:1",
      "localhost/other/x:1",
      "localhost/hearth/",
      "hearth:1",
      "reg.example.com/hearth/x:1",
      "ghcr.io/hearth/x:1",
      "hearthapp/x:1",
    ]) {
      expect(isHearthImage(theirs)).toBe(false);
    }
  });

  it("a stored manifest with a legacy image name reads as the local name; an explicit Docker Hub name stays one", () => {
    const legacy = hearthManifest.parse({ ...VALID_MANIFEST, dockerImage: "hearth/org.example.notes:1.2.3" });
    expect(legacy.dockerImage).toBe("localhost/hearth/org.example.notes:1.2.3");
    expect(hearthManifest.parse(VALID_MANIFEST).dockerImage).toBe("localhost/hearth/org.example.notes:1.2.3");
    expect(hearthManifest.parse({ ...VALID_MANIFEST, dockerImage: "docker.io/hearth/notes:1" }).dockerImage).toBe("docker.io/hearth/notes:1");
  });
});
