"use client";

import { notFound } from "next/navigation";
import type { ComponentType } from "react";
import type { AppView } from "@hearth/contracts";
import { useAppPage } from "./app-page";
import { OverviewTab } from "./OverviewTab";
import { LocationTab, ResourcesTab } from "./ConfigureCard";
import { UpdatesTab } from "./UpdateCard";
import { LogsTab } from "./LogsTab";
import { UninstallTab } from "./UninstallCard";

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
 */
export const APP_TABS: readonly AppTab[] = [
  { slug: "overview", label: "Overview", Component: OverviewTab },
  { slug: "location", label: "Location", Component: LocationTab },
  { slug: "resources", label: "Resources", Component: ResourcesTab },
  { slug: "updates", label: "Updates", Component: UpdatesTab },
  { slug: "logs", label: "Logs", Component: LogsTab },
  { slug: "uninstall", label: "Uninstall", Component: UninstallTab },
];

export function tabsFor(app: AppView): AppTab[] {
  return APP_TABS.filter((t) => !t.shownFor || t.shownFor(app));
}

/** The body of `/apps/<id>/<tab>`: an unknown tab is a 404. */
export function AppTabBody({ tab }: { tab: string }) {
  const { app } = useAppPage();
  const found = tabsFor(app).find((t) => t.slug === tab);
  if (!found) notFound();
  const { Component } = found;
  return <Component />;
}
