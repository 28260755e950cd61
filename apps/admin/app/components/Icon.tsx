import { Archive, Box, Globe, LayoutGrid, List, Lock, type LucideIcon, Settings, ShieldCheck, Store, Users } from "lucide-react";

/**
 * The dashboard's icons, from Lucide (https://lucide.dev, `lucide-react`): each is its own
 * module, so only the ones named here reach the bundle. Decorative (aria-hidden): the text
 * beside an icon says what it means.
 */
const ICONS = {
  apps: LayoutGrid,
  store: Store,
  users: Users,
  globe: Globe,
  archive: Archive,
  list: List,
  settings: Settings,
  box: Box,
  lock: Lock,
  shield: ShieldCheck,
} satisfies Record<string, LucideIcon>;

export type IconName = keyof typeof ICONS;

export function Icon({ name }: { name: IconName }) {
  const I = ICONS[name];
  return <I className="icon" size={18} strokeWidth={1.8} aria-hidden="true" focusable="false" />;
}
