import { describe, expect, it } from "vitest";
import { TASK_TYPES } from "@hearth/contracts";
import { taskActivity, taskTitle } from "./tasks";

describe("task titles", () => {
  it("say what is happening while a task is queued or runs", () => {
    expect(taskTitle({ type: "app.install", state: "pending" })).toBe("Installing");
    expect(taskTitle({ type: "app.install", state: "running" })).toBe("Installing");
    expect(taskTitle({ type: "app.configure", state: "running" })).toBe("Applying the configuration");
  });

  it("say what happened, in the past tense, once it finished", () => {
    const done = Object.fromEntries(["app.install", "app.configure", "app.uninstall", "app.start", "app.stop", "app.restart"].map((type) => [type, taskTitle({ type, state: "succeeded" })]));
    expect(done).toEqual({
      "app.install": "Installed",
      "app.configure": "Configured",
      "app.uninstall": "Uninstalled",
      "app.start": "Started",
      "app.stop": "Stopped",
      "app.restart": "Restarted",
    });
    expect(taskTitle({ type: "app.install", state: "failed" })).toBe("Install failed");
    expect(taskTitle({ type: "app.configure", state: "failed" })).toBe("Configuration failed");
    expect(taskTitle({ type: "app.stop", state: "cancelled" })).toBe("Stop cancelled");
  });

  it("never shows an in-progress word for a finished task of any type", () => {
    for (const type of TASK_TYPES) {
      for (const state of ["succeeded", "failed", "cancelled"] as const) {
        expect(taskTitle({ type, state })).not.toMatch(/ing\b/);
      }
    }
  });

  it("falls back to neutral words for a type it does not know", () => {
    expect(taskTitle(undefined)).toBe("Working");
    expect(taskTitle({ type: "_sleep", state: "running" })).toBe("Working");
    expect(taskTitle({ type: "_sleep", state: "succeeded" })).toBe("Done");
    expect(taskTitle({ type: "_fail", state: "failed" })).toBe("Failed");
    expect(taskActivity("app.restart")).toBe("Restarting");
    expect(taskActivity(undefined)).toBe("Working");
  });
});
