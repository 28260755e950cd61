import { describe, expect, it } from "vitest";
import { APP_PAGE_FILE, appPageName, appPageState, NO_APP_HTML, renderAppPage } from "./pages";

describe("an app's page says the state box knows", () => {
  it("maps install state, run state and health honestly", () => {
    const s = (installState: string, runState: string, health: string | null) => appPageState({ installState, runState, health });
    expect(s("installed", "stopped", null)).toBe("stopped");
    expect(s("pending_stop", "stopped", "healthy")).toBe("stopping");
    expect(s("pending_start", "stopped", null)).toBe("starting");
    expect(s("pending_install", "running", null)).toBe("installing");
    expect(s("pending_update", "running", null)).toBe("updating");
    expect(s("pending_restart", "running", "healthy")).toBe("restarting");
    expect(s("error", "running", null)).toBe("failed");
    expect(s("installed", "running", "dead")).toBe("crashed");
    expect(s("installed", "running", "unhealthy")).toBe("not_responding");
    expect(s("installed", "running", "healthy")).toBe("not_responding");
    expect(s("installed", "running", null)).toBe("starting");
    expect(s("installed", "running", "starting")).toBe("starting");
  });

  it("stopped: by the administrator, no reload; starting: a gentle reload; the title escaped", () => {
    const stopped = renderAppPage("Wiki <b>&", "stopped");
    expect(stopped).toContain("<h1>Wiki &#60;b&#62;&#38; is stopped by the administrator</h1>");
    expect(stopped).not.toMatch(/http-equiv="refresh"/i);
    expect(stopped).not.toMatch(/<script|<link|src=/i);
    expect(renderAppPage("Wiki", "starting")).toContain('<meta http-equiv="refresh" content="10">');
    expect(renderAppPage("Wiki", "crashed")).toContain("Wiki has crashed and is being restarted");
    expect(renderAppPage("Wiki", "not_responding")).toContain("Wiki is not responding");
    expect(renderAppPage("Wiki", "failed")).not.toMatch(/http-equiv="refresh"/i);
  });

  it("no app here: neutral, no login, no reload; page names fit the pattern nginx's map allows", () => {
    expect(NO_APP_HTML).toContain("<h1>No app here</h1>");
    expect(NO_APP_HTML).not.toMatch(/log ?in|sign ?in|http-equiv|<script/i);
    expect(APP_PAGE_FILE.test(`${appPageName("Cm9xAbc_12-z")}.html`)).toBe(true);
    expect(APP_PAGE_FILE.test("app-unavailable.html")).toBe(false);
  });
});
