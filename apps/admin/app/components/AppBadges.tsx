import type { AppView } from "@hearth/contracts";

const STATE_TEXT: Record<AppView["installState"], string> = {
  pending_install: "Installing",
  pending_configure: "Configuring",
  pending_uninstall: "Uninstalling",
  pending_start: "Starting",
  pending_stop: "Stopping",
  pending_restart: "Restarting",
  pending_update: "Updating",
  pending_restore: "Restoring",
  installed: "Installed",
  error: "Error",
};

export function stateText(a: Pick<AppView, "installState" | "runState">): string {
  if (a.installState === "installed") return a.runState === "stopped" ? "Stopped" : "Running";
  return STATE_TEXT[a.installState];
}

export function isBusy(a: Pick<AppView, "installState" | "taskId">): boolean {
  return a.installState.startsWith("pending_") || a.taskId !== null;
}

export function AppBadges({ app }: { app: AppView }) {
  const state = stateText(app);
  const stateClass = app.installState === "error" ? "badge badge-danger" : isBusy(app) ? "badge badge-info" : app.runState === "stopped" ? "badge" : "badge badge-ok";
  const health = app.installState === "installed" && app.runState === "running" ? app.health : null;
  const healthClass = health === "healthy" ? "badge badge-ok" : health === "starting" ? "badge badge-info" : "badge badge-danger";
  return (
    <span className="badges">
      <span className={stateClass} title="State">
        {state}
      </span>
      {health ? (
        <span className={healthClass} title="Health">
          {health.charAt(0).toUpperCase() + health.slice(1)}
        </span>
      ) : null}
      {app.updateAvailable ? (
        <span className="badge badge-warn" title={`Version ${app.updateAvailable.version} is available (installed: ${app.version})`}>
          Update available
        </span>
      ) : null}
    </span>
  );
}

export function AppIcon({ app, size = 48 }: { app: { icon: string | null; title: string }; size?: number }) {
  if (app.icon) return <img className="app-icon" src={app.icon} alt="" width={size} height={size} />;
  return (
    <span className="app-icon app-icon-letter" style={{ width: size, height: size }} aria-hidden="true">
      {app.title.slice(0, 1).toUpperCase()}
    </span>
  );
}
