import net from "node:net";
import { describe, expect, it } from "vitest";
import { allocateHttpPort, busyTcpHostPorts, isPortFree, publishedHostPorts, type PortStore } from "./ports";

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

describe("busyTcpHostPorts", () => {
  it("finds, with a real bind on 0.0.0.0, a port another program listens on (also one bound to 127.0.0.1 only)", async () => {
    const any = net.createServer();
    await new Promise<void>((r) => any.listen(0, "0.0.0.0", r));
    const loopOnly = net.createServer();
    await new Promise<void>((r) => loopOnly.listen(0, "127.0.0.1", r));
    const a = (any.address() as net.AddressInfo).port;
    const b = (loopOnly.address() as net.AddressInfo).port;
    try {
      const free = net.createServer();
      await new Promise<void>((r) => free.listen(0, "0.0.0.0", r));
      const c = (free.address() as net.AddressInfo).port;
      await new Promise<void>((r) => free.close(() => r()));
      expect(await busyTcpHostPorts([{ hostPort: c }, { hostPort: b }, { hostPort: a }], new Set())).toEqual([a, b].sort((x, y) => x - y));
      // ports the app's own running container publishes are not "busy"
      expect(await busyTcpHostPorts([{ hostPort: a }, { hostPort: b }], new Set([a, b]))).toEqual([]);
    } finally {
      await new Promise<void>((r) => any.close(() => r()));
      await new Promise<void>((r) => loopOnly.close(() => r()));
    }
  });

  it("reads the host ports of a container's port bindings", () => {
    expect([...publishedHostPorts({ "80/tcp": [{ HostPort: "20001" }], "5000/tcp": [{ HostPort: "17000" }, { HostPort: "" }], "9/udp": null })].sort()).toEqual([17000, 20001]);
    expect(publishedHostPorts(undefined).size).toBe(0);
  });
});
