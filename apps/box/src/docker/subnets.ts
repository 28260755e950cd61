import { HearthError } from "@hearth/contracts";

/**
 * Hearth's own address plan for the Docker networks it makes (one per app, plus the addon
 * services' network). Docker's default address pools hold only about 30 bridge networks, so
 * every network box creates gets an explicit IPv4 subnet from a dedicated private range
 * instead: `HEARTH_NETWORK_POOL` (default 10.217.0.0/16) cut into subnets of
 * `HEARTH_NETWORK_SIZE` bits (default /27: 2048 networks of 29 addresses each).
 *
 * A subnet is taken only when it overlaps neither any Docker network (of any owner) nor any
 * of the host's own routes (its interfaces' networks, VPNs, static routes of every table).
 * Allocation is serialized inside the process, and when another process (another box, a
 * person with the docker CLI) takes the same subnet first, Docker's "Pool overlaps" refusal
 * moves on to the next free one. Networks that exist keep their subnet: only new ones come
 * from the plan.
 */
export const NETWORK_POOL_ENV = "HEARTH_NETWORK_POOL";
export const NETWORK_SIZE_ENV = "HEARTH_NETWORK_SIZE";
export const DEFAULT_NETWORK_POOL = "10.217.0.0/16";
export const DEFAULT_NETWORK_SIZE = 27;
/** The smallest network: /29 = 8 addresses, 5 for containers (network, gateway, broadcast taken). */
export const MAX_NETWORK_SIZE_BITS = 29;

/** The ranges a plan must lie in: RFC 1918 (the mail relay and the host firewall treat them as private). */
export const PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] as const;

export interface Cidr {
  /** the network address as an unsigned 32-bit number */
  base: number;
  bits: number;
}

export function ipToNumber(ip: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null;
  const [a = 0, b = 0, c = 0, d = 0] = m.slice(1).map(Number);
  if ([a, b, c, d].some((p) => p > 255)) return null;
  return ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

const maskOf = (bits: number) => (bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0);

/** "a.b.c.d/n" (or a bare address: /32) → its network; null when it is not IPv4 CIDR. */
export function parseCidr(text: string): Cidr | null {
  const [ip = "", b, ...rest] = text.trim().split("/");
  if (rest.length > 0) return null;
  const n = ipToNumber(ip);
  if (n === null) return null;
  const bits = b === undefined ? 32 : /^\d{1,2}$/.test(b) ? Number(b) : Number.NaN;
  if (!(bits >= 0 && bits <= 32)) return null;
  return { base: (n & maskOf(bits)) >>> 0, bits };
}

export const formatCidr = (c: Cidr) => `${numberToIp(c.base)}/${c.bits}`;

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const bits = Math.min(a.bits, b.bits);
  const m = maskOf(bits);
  return (a.base & m) >>> 0 === (b.base & m) >>> 0;
}

export const cidrContains = (outer: Cidr, inner: Cidr) => outer.bits <= inner.bits && cidrsOverlap(outer, inner);

export interface NetworkPlan {
  range: Cidr;
  /** the prefix length of each network */
  size: number;
}

export const planText = (p: NetworkPlan) => `${formatCidr(p.range)} in /${p.size} networks`;
export const planCapacity = (p: NetworkPlan) => 2 ** (p.size - p.range.bits);

/** The plan from `HEARTH_NETWORK_POOL` / `HEARTH_NETWORK_SIZE`; throws an Error naming the variable when one is wrong. */
export function networkPlanFrom(pool: string | undefined, size: string | number | undefined): NetworkPlan {
  const poolText = pool?.trim() ? pool.trim() : DEFAULT_NETWORK_POOL;
  const range = parseCidr(poolText);
  if (!range || !poolText.includes("/")) throw new Error(`${NETWORK_POOL_ENV}: "${poolText}" is not an IPv4 range such as ${DEFAULT_NETWORK_POOL}`);
  if (formatCidr(range) !== poolText) throw new Error(`${NETWORK_POOL_ENV}: "${poolText}" has host bits set; did you mean ${formatCidr(range)}?`);
  if (!PRIVATE_RANGES.some((r) => cidrContains(parseCidr(r) as Cidr, range))) {
    throw new Error(`${NETWORK_POOL_ENV}: ${poolText} is not inside a private range (${PRIVATE_RANGES.join(", ")})`);
  }
  const sizeText = size === undefined || size === "" ? String(DEFAULT_NETWORK_SIZE) : String(size).trim().replace(/^\//, "");
  const bits = /^\d{1,2}$/.test(sizeText) ? Number(sizeText) : Number.NaN;
  if (!(bits >= range.bits && bits <= MAX_NETWORK_SIZE_BITS)) {
    throw new Error(`${NETWORK_SIZE_ENV}: "${sizeText}" must be a prefix length from ${range.bits} (the whole ${NETWORK_POOL_ENV}) to ${MAX_NETWORK_SIZE_BITS}`);
  }
  return { range, size: bits };
}

export function networkPlanFromEnv(env: NodeJS.ProcessEnv = process.env): NetworkPlan {
  return networkPlanFrom(env[NETWORK_POOL_ENV], env[NETWORK_SIZE_ENV]);
}

/** What a subnet is checked against. Each returns CIDR texts; entries that are not IPv4 CIDR are ignored. */
export interface SubnetSources {
  /** the IPv4 subnets of every Docker network on the engine, whoever made it */
  dockerSubnets(): Promise<string[]>;
  /** the destinations of the host's routes, every table (a default route is ignored) */
  hostRoutes(): Promise<string[]>;
}

export interface Allocation {
  subnet: string;
  /** the first address: the host's side of the bridge (the mail relay's address for the app) */
  gateway: string;
}

/** Docker's refusal of a subnet another network holds ("Pool overlaps with other one on this address space"). */
export function isOverlapError(e: unknown): boolean {
  const msg = String((e as { json?: { message?: unknown } })?.json?.message ?? (e as Error)?.message ?? "");
  return /overlap/i.test(msg);
}

// one allocation at a time in this process, whichever allocator does it
let tail: Promise<unknown> = Promise.resolve();
function serialized<T>(fn: () => Promise<T>): Promise<T> {
  const next = tail.then(fn, fn);
  tail = next.catch(() => {});
  return next;
}

export interface AllocatorOptions {
  /** how many subnets Docker may refuse as overlapping (other processes taking them first) before giving up; default 64 */
  maxRefusals?: number;
  /** where the admin changes the plan (named in the exhaustion error) */
  settingHint?: string;
}

export class SubnetAllocator {
  constructor(
    readonly plan: NetworkPlan,
    private readonly sources: SubnetSources,
    private readonly opts: AllocatorOptions = {},
  ) {}

  /**
   * Picks the lowest free subnet of the plan and hands it to `make` (which creates the
   * network with it); when Docker refuses it as overlapping, the next free one. Returns the
   * subnet used. Throws `HearthError("bad_state")` naming the range when none is left.
   */
  allocate(name: string, make: (a: Allocation) => Promise<void>): Promise<Allocation> {
    return serialized(() => this.allocateNow(name, make));
  }

  private async used(): Promise<{ docker: Cidr[]; host: Cidr[] }> {
    const [docker, host] = await Promise.all([this.sources.dockerSubnets(), this.sources.hostRoutes()]);
    const parse = (list: string[]) => list.map(parseCidr).filter((c): c is Cidr => c !== null);
    return { docker: parse(docker), host: parse(host).filter((c) => c.bits > 0) };
  }

  private async allocateNow(name: string, make: (a: Allocation) => Promise<void>): Promise<Allocation> {
    const { range, size } = this.plan;
    const step = 2 ** (32 - size);
    const count = planCapacity(this.plan);
    const refused = new Set<number>();
    const maxRefusals = this.opts.maxRefusals ?? 64;
    let used = await this.used();
    for (let i = 0; i < count; i++) {
      const candidate: Cidr = { base: (range.base + i * step) >>> 0, bits: size };
      if (refused.has(candidate.base)) continue;
      if (used.docker.some((u) => cidrsOverlap(u, candidate)) || used.host.some((u) => cidrsOverlap(u, candidate))) continue;
      const a: Allocation = { subnet: formatCidr(candidate), gateway: numberToIp(candidate.base + 1) };
      try {
        await make(a);
        return a;
      } catch (e) {
        if (!isOverlapError(e)) throw e;
        refused.add(candidate.base);
        if (refused.size >= maxRefusals) {
          throw new HearthError("external", `Docker refused ${refused.size} subnets of ${planText(this.plan)} for the network ${name} as overlapping other networks; try again`, { cause: e });
        }
        used = await this.used(); // someone else made networks meanwhile
      }
    }
    throw this.exhausted(name, used, refused.size);
  }

  private exhausted(name: string, used: { docker: Cidr[]; host: Cidr[] }, refused: number): HearthError {
    const { range } = this.plan;
    const inRange = (list: Cidr[]) => list.filter((c) => cidrsOverlap(c, range));
    const docker = inRange(used.docker);
    const host = inRange(used.host);
    const parts = [`${docker.length} Docker network${docker.length === 1 ? "" : "s"}`];
    if (host.length > 0) parts.push(`the host's route${host.length === 1 ? "" : "s"} to ${host.slice(0, 3).map(formatCidr).join(", ")}${host.length > 3 ? " …" : ""}`);
    if (refused > 0) parts.push(`${refused} refused by Docker`);
    const where = this.opts.settingHint ?? "box's environment";
    return new HearthError(
      "bad_state",
      `no free subnet left for the network ${name}: Hearth's app network range ${planText(this.plan)} (${planCapacity(this.plan)} networks) is used up by ${parts.join(", ")}. ` +
        `Uninstall apps that are no longer needed, or set ${NETWORK_POOL_ENV} (a larger private range no host network uses, e.g. 10.216.0.0/14) and/or ${NETWORK_SIZE_ENV} (e.g. 28 for smaller networks) in ${where} and restart box; existing networks keep their addresses.`,
      { details: { range: formatCidr(range), size: this.plan.size, capacity: planCapacity(this.plan), dockerNetworks: docker.length, hostRoutes: host.map(formatCidr) } },
    );
  }
}

/** `ip -4 -j route show table all` output → the destinations (CIDR text); `default` is skipped. */
export function parseIpRouteJson(text: string): string[] {
  let rows: unknown;
  try {
    rows = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(rows)) return [];
  const out: string[] = [];
  for (const r of rows as Array<{ dst?: unknown }>) {
    const dst = typeof r?.dst === "string" ? r.dst : "";
    if (!dst || dst === "default") continue;
    if (parseCidr(dst)) out.push(dst.includes("/") ? dst : `${dst}/32`);
  }
  return out;
}

/** /proc/net/route (the main table: little-endian hex destination and mask) → the destinations; the default route is skipped. */
export function parseProcNetRoute(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    const [dstHex = "", maskHex = ""] = [f[1], f[7]];
    if (!/^[0-9A-Fa-f]{8}$/.test(dstHex) || !/^[0-9A-Fa-f]{8}$/.test(maskHex)) continue;
    const le = (h: string) => Buffer.from(h, "hex").readUInt32LE(0);
    const dst = le(dstHex);
    const mask = le(maskHex);
    if (mask === 0) continue;
    const bits = mask.toString(2).replace(/0+$/, "").length;
    out.push(`${numberToIp(dst)}/${bits}`);
  }
  return out;
}
