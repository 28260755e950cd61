import type { HealthState, InstallState, RunState } from "@hearth/contracts";

/**
 * The static pages nginx serves when it cannot (or must not) hand a request to an app. They
 * are written by box into `<publicDir>/pages/` (ProxyService), read by nginx's workers, and
 * need nothing else: no dashboard assets, no scripts, no login, one inline style.
 *
 *   no-app.html                 setup's default server: a name no app has (404)
 *   app-unavailable.html        the dashboard's vhost when admin does not answer
 *   app-state-<app id>.html     one per app, saying the state box knows it in (below)
 *
 * An app's page is chosen per app by the vhost sync and rewritten when the app's state
 * changes (a task, or the health monitor seeing a change), so it always says what box
 * knows. A stopped app is not proxied at all: nginx answers 503 with its page. The other
 * states are shown when nginx cannot reach the app (502/504).
 */

/** What an app's page says; see appPageState for how box's states map onto it. */
export const APP_PAGE_STATES = ["stopped", "stopping", "starting", "installing", "updating", "restarting", "restoring", "configuring", "crashed", "not_responding", "failed"] as const;
export type AppPageState = (typeof APP_PAGE_STATES)[number];

export const NO_APP_PAGE_FILE = "no-app.html";
export const APP_UNAVAILABLE_PAGE_FILE = "app-unavailable.html";
/** `app-state-<lower-case app id>` (nginx's map value in the flat layout; the file adds `.html`). */
export const appPageName = (appId: string) => `app-state-${appId.toLowerCase()}`;
export const APP_PAGE_FILE = /^app-state-[a-z0-9_-]{1,64}\.html$/;

/**
 * The app's state as its page tells it. An admin's pending operation wins (the app is
 * being worked on); then a stopped app; then, for an app meant to run, its last health
 * check: `dead` (the container is not running: Docker's restart policy `unless-stopped`
 * starts it again) → crashed, `unhealthy` → not responding, no check yet or `starting` →
 * starting; `healthy` → not responding (box saw it answer, nginx now cannot reach it).
 */
export function appPageState(app: { installState: InstallState | string; runState: RunState | string; health: HealthState | string | null }): AppPageState {
  switch (app.installState) {
    case "pending_install":
      return "installing";
    case "pending_update":
      return "updating";
    case "pending_restart":
      return "restarting";
    case "pending_start":
      return "starting";
    case "pending_stop":
      return "stopping";
    case "pending_restore":
      return "restoring";
    case "pending_configure":
      return "configuring";
    case "error":
      return "failed";
  }
  if (app.runState === "stopped") return "stopped";
  switch (app.health) {
    case "dead":
      return "crashed";
    case "unhealthy":
    case "healthy":
      return "not_responding";
    default:
      return "starting";
  }
}

interface PageText {
  heading: string;
  lines: string[];
  /** Seconds before the browser asks again; none: the page stays as it is. */
  refresh?: number;
}

function textOf(title: string, state: AppPageState): PageText {
  const admin = "An administrator can see its state and logs in the Hearth dashboard.";
  switch (state) {
    case "stopped":
      return { heading: `${title} is stopped by the administrator`, lines: ["It will be back when an administrator starts it again."] };
    case "stopping":
      return { heading: `${title} is being stopped by the administrator`, lines: ["It will be back when an administrator starts it again."] };
    case "installing":
      return { heading: `${title} is being installed`, lines: ["This page reloads by itself until it is ready."], refresh: 10 };
    case "updating":
      return { heading: `${title} is being updated`, lines: ["This page reloads by itself until it is back."], refresh: 10 };
    case "restarting":
      return { heading: `${title} is restarting`, lines: ["This page reloads by itself until it is back."], refresh: 10 };
    case "restoring":
      return { heading: `${title} is being restored`, lines: ["This page reloads by itself until it is back."], refresh: 10 };
    case "configuring":
      return { heading: `${title} is being reconfigured`, lines: ["This page reloads by itself until it is back."], refresh: 10 };
    case "starting":
      return { heading: `${title} is starting`, lines: ["This page reloads by itself until it is ready."], refresh: 10 };
    case "crashed":
      return { heading: `${title} has crashed and is being restarted`, lines: ["This page reloads by itself every 30 seconds.", admin], refresh: 30 };
    case "not_responding":
      return { heading: `${title} is not responding`, lines: ["This page reloads by itself every 30 seconds.", admin], refresh: 30 };
    case "failed":
      return { heading: `${title} is not available`, lines: ["Its last operation failed.", admin] };
  }
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** One self-contained page in Hearth's look: no scripts, no external assets. */
function page(o: { title: string; heading: string; lines: string[]; refresh?: number; state?: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
${o.refresh ? `<meta http-equiv="refresh" content="${o.refresh}">\n` : ""}<title>${escapeHtml(o.title)}</title>
<style>
  body { font-family: system-ui, sans-serif; background: #f6f4f1; color: #2b2b2b; display: flex;
         align-items: center; justify-content: center; min-height: 100vh; margin: 0; }
  main { max-width: 32rem; padding: 2rem; text-align: center; }
  h1 { font-size: 1.5rem; margin-bottom: .5rem; overflow-wrap: anywhere; }
  p { color: #555; line-height: 1.5; }
  footer { margin-top: 2rem; font-size: .8rem; color: #999; }
</style>
</head>
<body>
<main${o.state ? ` data-state="${o.state}"` : ""}>
  <h1>${escapeHtml(o.heading)}</h1>
${o.lines.map((l) => `  <p>${escapeHtml(l)}</p>`).join("\n")}
  <footer>Hearth</footer>
</main>
</body>
</html>
`;
}

/** The page of one app in one state. `title` is the app's title (escaped here). */
export function renderAppPage(title: string, state: AppPageState): string {
  const t = textOf(title.trim() || "This app", state);
  return page({ title: t.heading, heading: t.heading, lines: t.lines, refresh: t.refresh, state });
}

/** setup's default server: a name that belongs to no app (and is not the dashboard's). */
export const NO_APP_HTML = page({
  title: "No app here",
  heading: "No app here",
  lines: ["There is no app at this address. It may have been uninstalled or moved to another name."],
});

/** The dashboard's vhost when admin does not answer (502/503/504). */
export const APP_UNAVAILABLE_HTML = page({
  title: "Not responding",
  heading: "This service is not responding",
  lines: ["This page reloads by itself every 30 seconds.", "If it stays like this, an administrator can check Hearth's services on the server."],
  refresh: 30,
});
