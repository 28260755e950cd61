import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ALL_EVENT_ACTIONS, REAL_TASK_TYPES, TASK_OUTCOME_ACTIONS, TASK_TYPES, taskOutcomeAction } from "@hearth/contracts";
import { EVENT_LABELS, eventErrorOf, eventLabel, isFailureAction } from "./event-labels";

const ROOT = path.resolve(__dirname, "../../..");

/** Source files of the two processes and the packages (no tests, no generated code). */
function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "generated" || name === ".next") continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.(ts|tsx)$/.test(name) && !/\.test\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

/** Every string literal written as an event's action: `recordEvent(db, { action: "…" })` and `this.event("…", …)` in box's monitor. */
function writtenActions(): Map<string, string> {
  const found = new Map<string, string>();
  for (const dir of ["apps/admin", "apps/box/src", "packages/db/src"]) {
    for (const file of sources(path.join(ROOT, dir))) {
      const text = readFileSync(file, "utf8");
      if (!/recordEvent|this\.event\(/.test(text)) continue;
      for (const m of text.matchAll(/\baction:\s*(?:[^"\n,]*\?\s*)?"([a-z_]+\.[a-z_.]+)"(?:\s*:\s*"([a-z_]+\.[a-z_.]+)")?/g)) {
        for (const a of [m[1], m[2]]) if (a) found.set(a, path.relative(ROOT, file));
      }
      for (const m of text.matchAll(/this\.event\("([a-z_]+\.[a-z_.]+)"/g)) found.set(m[1]!, path.relative(ROOT, file));
    }
  }
  return found;
}

describe("event labels", () => {
  it("every action has a readable label of its own (not the action itself)", () => {
    for (const a of ALL_EVENT_ACTIONS) {
      const label = EVENT_LABELS[a];
      expect(label, a).toMatch(/^[A-Z]\S* \S/);
      expect(label, a).not.toMatch(/[a-z][._][a-z]/);
      expect(label, a).not.toBe(a);
      expect(label, a).not.toMatch(/undefined/);
    }
    expect(Object.keys(EVENT_LABELS).sort()).toEqual([...ALL_EVENT_ACTIONS].sort());
  });

  it("labels tell actions apart", () => {
    const byLabel = new Map<string, string[]>();
    for (const a of ALL_EVENT_ACTIONS) byLabel.set(EVENT_LABELS[a], [...(byLabel.get(EVENT_LABELS[a]) ?? []), a]);
    expect([...byLabel.entries()].filter(([, actions]) => actions.length > 1)).toEqual([]);
  });

  it("every action written anywhere in admin, box or the repositories has a label", () => {
    const written = writtenActions();
    // the scan finds the writers (a scan that finds nothing proves nothing)
    for (const a of ["user.login", "app.install", "app.oom", "certificate.renewal_failed", "certificate.issue_failed", "housekeeping.purge", "orphan.found"]) expect([...written.keys()]).toContain(a);
    const missing = [...written].filter(([a]) => !Object.hasOwn(EVENT_LABELS, a)).map(([a, file]) => `${a} (${file})`);
    expect(missing).toEqual([]);
  });

  it("each real task type has a succeeded and a failed outcome, labelled after the task; test-only types none", () => {
    expect(TASK_OUTCOME_ACTIONS.length).toBe(REAL_TASK_TYPES.length * 2);
    expect(EVENT_LABELS["app.install.succeeded"]).toBe("App install succeeded");
    expect(EVENT_LABELS["app.install.failed"]).toBe("App install failed");
    expect(EVENT_LABELS["certificate.renew.failed"]).toBe("Certificate renewal failed");
    for (const t of TASK_TYPES) {
      if (t.startsWith("_")) expect(taskOutcomeAction(t, "failed")).toBeNull();
      else expect(eventLabel(taskOutcomeAction(t, "failed")!)).toMatch(/ failed$/);
    }
    expect(taskOutcomeAction("no.such", "succeeded")).toBeNull();
  });

  it("an unknown action shows as itself; failures are flagged", () => {
    expect(eventLabel("future.thing")).toBe("future.thing");
    expect(eventLabel("constructor")).toBe("constructor");
    expect(isFailureAction("app.install.failed")).toBe(true);
    expect(isFailureAction("user.login_failed")).toBe(true);
    expect(isFailureAction("app.install.succeeded")).toBe(false);
  });

  it("reads the error of a task outcome and of a certificate failure", () => {
    expect(eventErrorOf({ taskId: "t", error: { code: "task_failed", message: "the app did not answer /health" } })).toBe("task_failed: the app did not answer /health");
    expect(eventErrorOf({ error: "getaddrinfo ENOTFOUND x.example", nextAttemptAt: "2026-12-04T00:00:00.000Z" })).toBe("getaddrinfo ENOTFOUND x.example");
    expect(eventErrorOf({ taskId: "t" })).toBe("");
    expect(eventErrorOf(null)).toBe("");
    expect(eventErrorOf({ error: { code: 1 } })).toBe("");
  });
});
