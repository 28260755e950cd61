"use client";

import { createContext, useContext } from "react";
import type { AppView } from "@hearth/contracts";

/**
 * What the app page's layout (AppDetail: header, tabs, task progress) gives every tab body:
 * the app as last read, whether an operation runs, and `onQueued` to show a new task's
 * progress under the header (it stays there whichever tab the admin opens).
 */
export interface AppPage {
  app: AppView;
  busy: boolean;
  onQueued: (taskId: string) => void;
  /** true right after the install (live or arriving from the install dialog): the ready card is open and says "is ready" */
  justInstalled: boolean;
}

export const AppPageContext = createContext<AppPage | null>(null);

export function useAppPage(): AppPage {
  const v = useContext(AppPageContext);
  if (!v) throw new Error("useAppPage outside the app page's layout");
  return v;
}
