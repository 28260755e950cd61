"use client";

import { LogPanel } from "../../../components/LogPanel";
import { useAppPage } from "./app-page";

export function LogsTab() {
  const { app } = useAppPage();
  // reconnects whenever the app's state changes (a new container, a start after a stop)
  return <LogPanel key={`${app.installState}-${app.runState}`} appId={app.id} />;
}
