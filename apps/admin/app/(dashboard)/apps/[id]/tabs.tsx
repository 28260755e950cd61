import type { ComponentType } from "react";
import type { AppView } from "@hearth/contracts";
import { OverviewTab } from "./OverviewTab";
import { LocationTab, ResourcesTab } from "./ConfigureCard";
import { UpdatesTab } from "./UpdateCard";
import { LogsTab } from "./LogsTab";
import { UninstallTab } from "./UninstallCard";
import { BackupsTab, FilesTab, TerminalTab } from "./FeatureTabs";

export interface AppTab {
  /** the URL segment: /apps/<id>/<slug> */
  slug: string;
  label: string;
  /** the tab body; it reads the app from `useAppPage()` */
  Component: ComponentType;
  /** shown only when this says so (e.g. a terminal only for a running app); always when absent */
  shownFor?: (app: AppView) => boolean;
}

/**
 * The app page's tabs, in order: the one place to add one (an entry here and its component).
 * `/apps/<id>` opens the first. A feature that is not merged has no entry, so no empty tab.
 * No "use client" here: the server page (`[tab]/page.tsx`) looks the tab up (an unknown one is
 * a 404) and renders its client component; AppDetail (client) lists them as links.
 */
/**
 * The terminal, files and backups need the app's container or volume, which a first install has
 * not made yet. Every other state shows them (an app in `error` after a failed update needs its
 * Backups tab most; a restart must not pull the open tab from under the admin): each tab says
 * itself when its container is not running.
 */
const installed = (app: AppView) => app.installState !== "pending_install";

export const APP_TABS: readonly AppTab[] = [
  { slug: "overview", label: "Overview", Component: OverviewTab },
  { slug: "location", label: "Location", Component: LocationTab },
  { slug: "resources", label: "Resources", Component: ResourcesTab },
  { slug: "backups", label: "Backups", Component: BackupsTab, shownFor: installed },
  { slug: "updates", label: "Updates", Component: UpdatesTab },
  { slug: "logs", label: "Logs", Component: LogsTab },
  { slug: "terminal", label: "Terminal", Component: TerminalTab, shownFor: installed },
  { slug: "files", label: "Files", Component: FilesTab, shownFor: installed },
  { slug: "uninstall", label: "Uninstall", Component: UninstallTab },
];

export function tabsFor(app: AppView): AppTab[] {
  return APP_TABS.filter((t) => !t.shownFor || t.shownFor(app));
}

export function tabNamed(slug: string): AppTab | undefined {
  return APP_TABS.find((t) => t.slug === slug);
}
