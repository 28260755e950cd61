import { describe, expect, it } from "vitest";
import { undecodablePathSegment } from "./path-check";

describe("undecodablePathSegment", () => {
  it("passes paths without escapes or with valid ones", () => {
    expect(undecodablePathSegment("/api/v1/apps")).toBeNull();
    expect(undecodablePathSegment("/api/v1/apps/abc%20def")).toBeNull();
    expect(undecodablePathSegment("/api/v1/domains/%25zz")).toBeNull();
    expect(undecodablePathSegment("/api/v1/apps/caf%C3%A9")).toBeNull();
  });

  it("names the first segment that is not valid UTF-8 or not an escape", () => {
    expect(undecodablePathSegment("/api/v1/apps/%ff%fe")).toBe("%ff%fe");
    expect(undecodablePathSegment("/api/v1/apps/%zz/logs")).toBe("%zz");
    expect(undecodablePathSegment("/api/v1/apps/x/%")).toBe("%");
    expect(undecodablePathSegment("/api/v1/tasks/%C3/logs")).toBe("%C3");
    expect(undecodablePathSegment("/api/v1/tasks/%ED%A0%80")).toBe("%ED%A0%80");
  });
});
