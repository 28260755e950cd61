import net from "node:net";
import { appHttpHostPort, claimHttpHostPort, usedHostPorts, type Db } from "@hearth/db";

/**
 * Host ports for apps' HTTP ports (published on 127.0.0.1 for nginx). A port is free when no
 * App or AppPort row holds it and nothing on the machine listens on it now. Two allocations
 * racing for one port are settled by the unique index on App.httpHostPort: the loser sees a
 * conflict and tries the next port.
 */
export const HTTP_PORT_RANGE = { from: 20000, to: 29999 } as const;

export interface PortStore {
  /** The port the app already holds, if any. */
  current(appId: string): Promise<number | null>;
  /** Every host port any app holds (HTTP and TCP). */
  used(): Promise<Set<number>>;
  /** Sets the app's port if it has none: "ok", "taken" (unique conflict) or "has-one". */
  claim(appId: string, port: number): Promise<"ok" | "taken" | "has-one">;
}

export interface AllocateOptions {
  range?: { from: number; to: number };
  isFree?: (port: number) => Promise<boolean>;
  /** Where in the range to start looking (0..1); random by default so parallel boxes spread out. */
  random?: () => number;
}

/** Can something listen on 127.0.0.1:port right now? */
export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/**
 * The host ports of an app's TCP ports (AppPort rows, published on 0.0.0.0) that something
 * else listens on now: a real bind of each port, except those `held` by the app's own
 * current container (it is replaced next). admin refuses Hearth's own and well-known ports
 * (RESERVED_HOST_PORTS); this catches the rest (another service, another program).
 */
export async function busyTcpHostPorts(
  ports: readonly { hostPort: number }[],
  held: ReadonlySet<number>,
  isFree: (port: number) => Promise<boolean> = (p) => isPortFree(p, "0.0.0.0"),
): Promise<number[]> {
  const busy: number[] = [];
  for (const p of ports) if (!held.has(p.hostPort) && !(await isFree(p.hostPort))) busy.push(p.hostPort);
  return busy.sort((a, b) => a - b);
}

/** The host ports a container publishes (from its inspect data). */
export function publishedHostPorts(portBindings: Record<string, { HostPort?: string }[] | null | undefined> | null | undefined): Set<number> {
  const out = new Set<number>();
  for (const list of Object.values(portBindings ?? {})) for (const b of list ?? []) if (b.HostPort && /^\d+$/.test(b.HostPort)) out.add(Number(b.HostPort));
  return out;
}

/** Idempotent: an app that already has a port keeps it. */
export async function allocateHttpPort(store: PortStore, appId: string, opts: AllocateOptions = {}): Promise<number> {
  const existing = await store.current(appId);
  if (existing !== null) return existing;
  const { from, to } = opts.range ?? HTTP_PORT_RANGE;
  const isFree = opts.isFree ?? ((p: number) => isPortFree(p));
  const size = to - from + 1;
  const start = Math.floor((opts.random ?? Math.random)() * size) % size;
  let used = await store.used();
  for (let i = 0; i < size; i++) {
    const port = from + ((start + i) % size);
    if (used.has(port)) continue;
    if (!(await isFree(port))) continue;
    const r = await store.claim(appId, port);
    if (r === "ok") return port;
    if (r === "has-one") {
      const now = await store.current(appId);
      if (now !== null) return now;
    }
    used = await store.used(); // someone else took it: refresh what is taken
  }
  throw new Error(`no free host port in ${from}-${to}`);
}

export function prismaPortStore(db: Db): PortStore {
  return {
    current: (appId) => appHttpHostPort(db, appId),
    used: () => usedHostPorts(db),
    claim: (appId, port) => claimHttpHostPort(db, appId, port),
  };
}
