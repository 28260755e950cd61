import { describe, expect, it } from "vitest";
import { addonChanges, APP_TASK_TYPES, checkMinHearthVersion, checkPublishedPortsKept, appUpdateTaskArgs, INSTALL_STATES, updateAppRequest, updateRefusal } from "./apps";
import { hearthManifest } from "./manifest";
import { VALID_MANIFEST } from "./manifest.examples";

const m = (version: string, addons: Record<string, object> = {}, id = VALID_MANIFEST.id) => hearthManifest.parse({ ...VALID_MANIFEST, id, version, addons });

describe("app update: request and version rules", () => {
  it("has the pending_update state and the app.update task", () => {
    expect(INSTALL_STATES).toContain("pending_update");
    expect(APP_TASK_TYPES["app.update"]).toBe("pending_update");
  });

  it("accepts an empty request (the catalog's newest), a confirmed version, a manifest, force and overwriteDns; refuses unknown fields and bad manifests", () => {
    expect(updateAppRequest.parse({})).toEqual({});
    expect(updateAppRequest.parse({ manifest: VALID_MANIFEST, force: true, overwriteDns: true }).manifest?.version).toBe(VALID_MANIFEST.version);
    // version: the confirmed target (a semantic version); unknown fields are refused
    expect(updateAppRequest.parse({ version: "2.0.0" })).toEqual({ version: "2.0.0" });
    expect(updateAppRequest.safeParse({ version: "two" }).success).toBe(false);
    expect(updateAppRequest.safeParse({ target: "2.0.0" }).success).toBe(false);
    const bad = updateAppRequest.safeParse({ manifest: { ...VALID_MANIFEST, version: "two" } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(["manifest", "version"]);
    expect(updateAppRequest.safeParse({ force: "yes" }).success).toBe(false);
  });

  it("allows a newer version, refuses the same or an older one unless forced, and another id always", () => {
    expect(updateRefusal(m("1.0.0"), m("1.0.1"))).toBeNull();
    expect(updateRefusal(m("1.9.0"), m("1.10.0"))).toBeNull();
    expect(updateRefusal(m("1.0.0-beta.2"), m("1.0.0"))).toBeNull();
    expect(updateRefusal(m("1.0.0"), m("1.0.0"))).toMatchObject({ code: "bad_state", message: expect.stringMatching(/already at version 1\.0\.0.*force/) });
    expect(updateRefusal(m("1.0.0"), m("1.0.0-rc.1"))).toMatchObject({ code: "bad_state", message: expect.stringMatching(/older.*downgrade/) });
    expect(updateRefusal(m("1.10.0"), m("1.9.0"))).toMatchObject({ code: "bad_state" });
    expect(updateRefusal(m("1.0.0"), m("1.0.0"), true)).toBeNull();
    expect(updateRefusal(m("2.0.0"), m("1.0.0"), true)).toBeNull();
    expect(updateRefusal(m("1.0.0"), m("2.0.0", {}, "org.example.other"), true)).toMatchObject({ code: "invalid", message: expect.stringContaining("org.example.other") });
  });

  it("lists the addons an update adds, removes and keeps", () => {
    expect(addonChanges(m("1.0.0", { localstorage: {}, redis: {} }), m("2.0.0", { localstorage: {}, mysql: {} }))).toEqual({ added: ["mysql"], removed: ["redis"], kept: ["localstorage"] });
    expect(addonChanges(m("1.0.0"), m("2.0.0"))).toEqual({ added: [], removed: [], kept: [] });
  });

  it("task args carry both manifests, validated", () => {
    const args = appUpdateTaskArgs.parse({ appId: "a", manifest: m("2.0.0"), fromManifest: m("1.0.0") });
    expect(args.manifest.version).toBe("2.0.0");
    expect(args.fromManifest.version).toBe("1.0.0");
    expect(appUpdateTaskArgs.safeParse({ appId: "a", manifest: m("2.0.0") }).success).toBe(false);
  });
});

describe("the update checks shared by admin's update and box's nightly one", () => {
  it("checkMinHearthVersion: 400 invalid when the manifest needs a newer Hearth", () => {
    expect(() => checkMinHearthVersion({ minHearthVersion: "0.2.0" }, "0.1.0")).toThrow(expect.objectContaining({ code: "invalid", message: "This app needs Hearth 0.2.0 or newer (this is 0.1.0)" }));
    expect(() => checkMinHearthVersion({ minHearthVersion: "0.1.0" }, "0.1.0")).not.toThrow();
    expect(() => checkMinHearthVersion({}, "0.1.0")).not.toThrow();
  });
  it("checkPublishedPortsKept: 400 invalid naming a published port the new version drops", () => {
    const to = { version: "2.0.0", tcpPorts: { SSH_PORT: { description: "ssh", containerPort: 22 } } } as never;
    expect(() => checkPublishedPortsKept([{ envName: "SSH_PORT" }, { envName: "GIT_PORT" }], to)).toThrow(
      expect.objectContaining({ code: "invalid", message: "Version 2.0.0 has no TCP port GIT_PORT; unpublish it first (Configure)" }),
    );
    expect(() => checkPublishedPortsKept([{ envName: "SSH_PORT" }], to)).not.toThrow();
    expect(() => checkPublishedPortsKept([], to)).not.toThrow();
  });
});
