"use client";

import { AppBackups } from "../../backups/AppBackups";
import { useAppPage } from "./app-page";
import { AppFiles } from "./AppFiles";
import { AppTerminal } from "./AppTerminal";

/** The app page's tabs for the backups, terminal and file manager: each a self-contained component given the app. */
export function BackupsTab() {
  const { app } = useAppPage();
  return <AppBackups appId={app.id} />;
}

export function TerminalTab() {
  const { app } = useAppPage();
  return <AppTerminal appId={app.id} running={app.installState === "installed" && app.runState === "running"} />;
}

export function FilesTab() {
  const { app } = useAppPage();
  return (
    <section className="card" id="files" aria-labelledby="files-heading">
      <AppFiles appId={app.id} />
    </section>
  );
}
