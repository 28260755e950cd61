import { NETWORK_SETTINGS_KEY, networkSettings, type NetworkSettings } from "@hearth/contracts";
import { detectPublicIp } from "@hearth/contracts/public-ip";
import { getSetting, type Db } from "@hearth/db";

/**
 * The addresses app records point at, as box computes them (apps/box/src/domains/dns-sync.ts
 * serverIps): the `network` setting when it names at least one address (exactly those),
 * else what the machine's interfaces say (packages/contracts/src/public-ip.ts).
 */
export interface Addresses {
  ipv4: string | null;
  ipv6: string | null;
}

/** What the machine itself says its public addresses are. */
export async function detectAddresses(): Promise<Addresses> {
  const d = await detectPublicIp();
  return { ipv4: d.ipv4 ?? null, ipv6: d.ipv6 ?? null };
}

/** The stored `network` setting, or both null. */
export async function readNetworkSettings(db: Db): Promise<NetworkSettings> {
  const raw = await getSetting(db, NETWORK_SETTINGS_KEY);
  const r = networkSettings.safeParse(raw);
  return r.success ? r.data : { ipv4: null, ipv6: null };
}

/** The addresses records point at and where they came from. */
export async function serverAddresses(db: Db): Promise<Addresses & { source: "settings" | "detected" }> {
  const s = await readNetworkSettings(db);
  if (s.ipv4 || s.ipv6) return { ipv4: s.ipv4, ipv6: s.ipv6, source: "settings" };
  return { ...(await detectAddresses()), source: "detected" };
}
