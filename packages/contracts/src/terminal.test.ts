import { describe, expect, it } from "vitest";
import { terminalAppIdOf, terminalControl, terminalSize } from "./terminal";

describe("the terminal's paths and messages", () => {
  it("takes the app id from admin's and box's paths only", () => {
    expect(terminalAppIdOf("/api/v1/apps/3f1c0d3e-1111-4a2b-8c3d-0123456789ab/terminal", "/api/v1")).toBe("3f1c0d3e-1111-4a2b-8c3d-0123456789ab");
    expect(terminalAppIdOf("/apps/abc/terminal", "")).toBe("abc");
    expect(terminalAppIdOf("/apps/abc/terminal", "/api/v1")).toBeNull();
    expect(terminalAppIdOf("/api/v1/apps/abc/terminal", "")).toBeNull();
    expect(terminalAppIdOf("/api/v1/apps/abc/logs", "/api/v1")).toBeNull();
    expect(terminalAppIdOf("/api/v1/apps/..%2Fetc/terminal", "/api/v1")).toBeNull();
    expect(terminalAppIdOf("/api/v1/apps/%E0%A4%A/terminal", "/api/v1")).toBeNull();
    expect(terminalAppIdOf(`/apps/${"a".repeat(65)}/terminal`, "")).toBeNull();
  });

  it("accepts a resize in bounds and nothing else", () => {
    expect(terminalControl.safeParse({ type: "resize", cols: 80, rows: 24 }).success).toBe(true);
    expect(terminalControl.safeParse({ type: "resize", cols: 0, rows: 24 }).success).toBe(false);
    expect(terminalControl.safeParse({ type: "resize", cols: 80, rows: 501 }).success).toBe(false);
    expect(terminalControl.safeParse({ type: "exec", cmd: "ls" }).success).toBe(false);
    expect(terminalControl.safeParse("ls").success).toBe(false);
  });

  it("reads the first size from the query, 80×24 when absent", () => {
    expect(terminalSize.parse({})).toEqual({ cols: 80, rows: 24 });
    expect(terminalSize.parse({ cols: "120", rows: "40" })).toEqual({ cols: 120, rows: 40 });
    expect(terminalSize.safeParse({ cols: "1e9" }).success).toBe(false);
    expect(terminalSize.safeParse({ rows: "x" }).success).toBe(false);
  });
});
