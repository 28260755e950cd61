import { describe, expect, it } from "vitest";
import { addonSource, mayCollect } from "./orphans";
import type { AddonHandler } from "../addons/handler";

const t = (iso: string) => new Date(iso);
const ctx = { appCount: 2, oldestAppCreatedAt: t("2026-01-10T00:00:00Z"), storeCreatedAt: t("2026-01-05T00:00:00Z") };

describe("mayCollect (the pause rule for containers and networks without an app)", () => {
  it("collects an object younger than the oldest app and the store identity", () => {
    expect(mayCollect(t("2026-01-11T00:00:00Z"), ctx)).toEqual({ ok: true });
  });

  it("pauses when the App table is empty, however young the object", () => {
    expect(mayCollect(t("2026-06-01T00:00:00Z"), { ...ctx, appCount: 0, oldestAppCreatedAt: null })).toEqual({ ok: false, reason: "the App table is empty" });
    // a count of 0 alone pauses too (no oldest row to compare with)
    expect(mayCollect(t("2026-06-01T00:00:00Z"), { ...ctx, appCount: 0 }).ok).toBe(false);
  });

  it("leaves an object older than the oldest app row alone (an older dump was restored)", () => {
    expect(mayCollect(t("2026-01-09T23:59:59Z"), ctx)).toEqual({ ok: false, reason: "it is older than the oldest app" });
  });

  it("leaves an object older than the store identity alone (a fresh database whose first app is older than the object is impossible, but a restored row is not)", () => {
    // an app row restored with its original createdAt can be older than the identity
    const restored = { appCount: 1, oldestAppCreatedAt: t("2025-12-01T00:00:00Z"), storeCreatedAt: t("2026-01-05T00:00:00Z") };
    expect(mayCollect(t("2026-01-01T00:00:00Z"), restored)).toEqual({ ok: false, reason: "it is older than the store's identity" });
    expect(mayCollect(t("2026-01-06T00:00:00Z"), restored)).toEqual({ ok: true });
  });

  it("leaves an object whose creation time is unknown alone", () => {
    expect(mayCollect(null, ctx)).toEqual({ ok: false, reason: "its creation time is unknown" });
    expect(mayCollect(undefined, ctx).ok).toBe(false);
  });

  it("an object made in the same millisecond as the oldest app is collected (not older)", () => {
    expect(mayCollect(t("2026-01-10T00:00:00Z"), ctx)).toEqual({ ok: true });
  });
});

describe("addonSource", () => {
  const handler = (name: AddonHandler["name"], withList: boolean): AddonHandler => ({
    name,
    provision: async () => ({ env: {}, credentials: {} }),
    deprovision: async () => {},
    ...(withList ? { appsWithData: async () => [{ appId: "a", name: "x" }] } : {}),
  });
  it("exists for the data addons that can list their apps' data, not for the others", () => {
    expect(addonSource(handler("mysql", true))?.kind).toBe("mysql");
    expect(addonSource(handler("redis", true))?.kind).toBe("redis");
    expect(addonSource(handler("mysql", false))).toBeNull();
    expect(addonSource(handler("sendmail", true))).toBeNull();
    expect(addonSource(handler("localstorage", true))).toBeNull();
  });
  it("removes through the handler's deprovision with the app's id and network", async () => {
    const calls: unknown[] = [];
    const h = { ...handler("postgresql", true), deprovision: async (app: unknown, creds: unknown) => void calls.push([app, creds]) };
    await addonSource(h)!.remove({ appId: "11111111-2222-3333-4444-555555555555", name: "app_x" }, { taskId: "t", progress: async () => {}, log: () => {}, signal: new AbortController().signal });
    expect(calls).toEqual([[{ id: "11111111-2222-3333-4444-555555555555", fqdn: "", domain: "", subdomain: "", network: "hearth-app-11111111-2222-3333-4444-555555555555" }, null]]);
  });
});

describe("appIdOfDbName", () => {
  it("gives back the UUID a database name of dbNameOf came from, and nothing for other names", async () => {
    const { appIdOfDbName, dbNameOf } = await import("../addons/common");
    const id = "0f8fad5b-d9cb-469f-a165-70867728950e";
    expect(appIdOfDbName(dbNameOf(id))).toBe(id);
    // a non-UUID id is hashed: the name maps to some UUID-shaped id, never back to it
    expect(appIdOfDbName(dbNameOf("not-a-uuid"))).not.toBe("not-a-uuid");
    expect(appIdOfDbName("app_0f8fad5bd9cb469fa16570867728950e_extra")).toBeNull();
    expect(appIdOfDbName("wordpress")).toBeNull();
  });
});
