import net from "node:net";
import { describe, expect, it } from "vitest";
import { allocateHttpPort, isPortFree, type PortStore } from "./ports";

/** An in-memory store with a unique constraint across apps, like the App table's index. */
function memStore(initial: Record<string, number | null> = {}, tcp: number[] = []) {
  const apps = new Map(Object.entries(initial));
  const claims: number[] = [];
  const store: PortStore = {
    async current(appId) {
      return apps.get(appId) ?? null;
    },
    async used() {
      return new Set([...[...apps.values()].filter((p): p is number => p !== null), ...tcp]);
    },
    async claim(appId, port) {
      claims.push(port);
      if ([...apps.values()].includes(port)) return "taken";
      if ((apps.get(appId) ?? null) !== null) return "has-one";
      apps.set(appId, port);
      return "ok";
    },
  };
  return { store, apps, claims };
}

const always = async () => true;
const range = { from: 100, to: 104 };

describe("allocateHttpPort", () => {
  it("keeps the port an app already has (idempotent)", async () => {
    const { store, claims } = memStore({ a: 103 });
    expect(await allocateHttpPort(store, "a", { range, isFree: always })).toBe(103);
    expect(claims).toEqual([]);
  });

  it("skips ports held by apps' HTTP or TCP ports", async () => {
    const { store } = memStore({ a: null, b: 100 }, [101]);
    expect(await allocateHttpPort(store, "a", { range, isFree: always, random: () => 0 })).toBe(102);
  });

  it("skips ports something on the machine listens on", async () => {
    const { store } = memStore({ a: null });
    const busy = new Set([100, 101, 102]);
    expect(await allocateHttpPort(store, "a", { range, isFree: async (p) => !busy.has(p), random: () => 0 })).toBe(103);
  });

  it("wraps around the range from a random start", async () => {
    const { store } = memStore({ a: null, b: 104 });
    expect(await allocateHttpPort(store, "a", { range, isFree: always, random: () => 0.99 })).toBe(100);
  });

  it("tries the next port when a concurrent claim wins the unique index", async () => {
    const { store, apps } = memStore({ a: null, b: null });
    const racing: PortStore = {
      ...store,
      async used() {
        return new Set(); // stale view: does not see b's claim yet
      },
      async claim(appId, port) {
        if (port === 100 && appId === "a") apps.set("b", 100); // b got there first
        return store.claim(appId, port);
      },
    };
    expect(await allocateHttpPort(racing, "a", { range, isFree: always, random: () => 0 })).toBe(101);
  });

  it("returns the port a concurrent run of the same task claimed", async () => {
    const { store, apps } = memStore({ a: null });
    const racing: PortStore = {
      ...store,
      async claim(appId, port) {
        apps.set("a", 104);
        return store.claim(appId, port);
      },
    };
    expect(await allocateHttpPort(racing, "a", { range, isFree: always, random: () => 0 })).toBe(104);
  });

  it("fails clearly when the range is full", async () => {
    const { store } = memStore({ a: null, b: 100, c: 101, d: 102, e: 103, f: 104 });
    await expect(allocateHttpPort(store, "a", { range, isFree: always })).rejects.toThrow(/no free host port in 100-104/);
  });
});

describe("isPortFree", () => {
  it("sees a port in use on 127.0.0.1", async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as net.AddressInfo).port;
    expect(await isPortFree(port)).toBe(false);
    await new Promise<void>((r) => srv.close(() => r()));
    expect(await isPortFree(port)).toBe(true);
  });
});
