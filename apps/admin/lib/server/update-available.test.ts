import { describe, expect, it } from "vitest";
import { hearthManifest, type HearthManifestInput } from "@hearth/contracts";
import type { CatalogApp } from "../catalog";
import { updateAvailableOf, updateTargetOf } from "./apps";

const m = (version: string, extra: Partial<HearthManifestInput> = {}) =>
  hearthManifest.parse({ manifestVersion: 1, id: "org.example.site", title: "Site", version, dockerImage: "hearth/site:1", httpPort: 80, healthCheckPath: "/", ...extra });
/** newest first, like scanCatalog */
const catalog = (...versions: ReturnType<typeof m>[]): CatalogApp[] => [{ id: "org.example.site", packages: versions.map((manifest) => ({ manifest, dir: `/c/${manifest.version}` })) }];
const row = (version: string, addons: Record<string, object> = { localstorage: {} }) => ({ storeId: "org.example.site", version, manifest: m(version, { addons }) });

describe("updateAvailableOf", () => {
  const cat = catalog(
    m("3.0.0-rc.1", { changelog: "rc", addons: { localstorage: {}, redis: {} } }),
    m("2.1.0", { changelog: "2.1 notes", addons: { localstorage: {}, mysql: {} } }),
    m("2.0.0", { changelog: "" }),
    m("1.5.0", { changelog: "1.5 notes" }),
    m("1.0.0", { changelog: "first" }),
  );

  it("offers the newest stable version, its addon diff and the changelogs since the installed one, newest first", () => {
    expect(updateAvailableOf(row("1.0.0"), cat)).toEqual({
      version: "2.1.0",
      addons: { added: ["mysql"], removed: [], kept: ["localstorage"] },
      changelog: [
        { version: "2.1.0", text: "2.1 notes" },
        { version: "1.5.0", text: "1.5 notes" },
      ],
    });
    expect(updateTargetOf(row("1.0.0"), cat)?.manifest.version).toBe("2.1.0");
  });

  it("an addon the installed version has and the new one lacks is removed", () => {
    expect(updateAvailableOf(row("2.0.0", { localstorage: {}, sendmail: {} }), cat)?.addons).toEqual({ added: ["mysql"], removed: ["sendmail"], kept: ["localstorage"] });
  });

  it("nothing at the newest stable version (a newer pre-release is not offered), for a custom app, or an app the catalog lacks", () => {
    expect(updateAvailableOf(row("2.1.0"), cat)).toBeNull();
    expect(updateTargetOf(row("2.1.0"), cat)).toBeNull();
    expect(updateAvailableOf({ ...row("1.0.0"), storeId: null }, cat)).toBeNull();
    expect(updateAvailableOf({ ...row("1.0.0"), storeId: "org.example.other" }, cat)).toBeNull();
    expect(updateAvailableOf(row("9.0.0"), cat)).toBeNull();
  });
});
