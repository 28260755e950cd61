import type { TaskView } from "@hearth/contracts";

/** How each app (and domain, certificate) task reads while it runs, after it succeeded, and as the noun of a failure. */
const WORDS: Record<string, { running: string; succeeded: string; noun: string }> = {
  "app.install": { running: "Installing", succeeded: "Installed", noun: "Install" },
  "app.configure": { running: "Applying the configuration", succeeded: "Configured", noun: "Configuration" },
  "app.uninstall": { running: "Uninstalling", succeeded: "Uninstalled", noun: "Uninstall" },
  "app.start": { running: "Starting", succeeded: "Started", noun: "Start" },
  "app.stop": { running: "Stopping", succeeded: "Stopped", noun: "Stop" },
  "app.restart": { running: "Restarting", succeeded: "Restarted", noun: "Restart" },
  "app.update": { running: "Updating", succeeded: "Updated", noun: "Update" },
  "domain.sync": { running: "Applying the domain's DNS and certificates", succeeded: "Domain up to date", noun: "Domain update" },
  "certificate.renew": { running: "Renewing certificates", succeeded: "Renewal done", noun: "Renewal" },
  "mail.test": { running: "Sending a test mail", succeeded: "Test mail accepted", noun: "Test mail" },
  "backup.app": { running: "Backing up", succeeded: "Backed up and read back", noun: "Backup" },
  "backup.restore": { running: "Restoring from the backup", succeeded: "Restored", noun: "Restore" },
  "backup.test": { running: "Testing the backup site", succeeded: "The backup site works", noun: "Site test" },
};

/** What the task does, whatever its state ("Installing"): the label of its progress bar. */
export function taskActivity(type: string | undefined): string {
  return (type !== undefined && WORDS[type]?.running) || "Working";
}

/**
 * The title of a task's card: what it is doing while it runs ("Installing"), what happened
 * once it finished ("Installed", "Install failed", "Install cancelled").
 */
export function taskTitle(t: Pick<TaskView, "type" | "state"> | undefined): string {
  if (!t) return "Working";
  const w = WORDS[t.type];
  switch (t.state) {
    case "succeeded":
      return w?.succeeded ?? "Done";
    case "failed":
      return w ? `${w.noun} failed` : "Failed";
    case "cancelled":
      return w ? `${w.noun} cancelled` : "Cancelled";
    default:
      return taskActivity(t.type);
  }
}
