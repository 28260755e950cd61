import { describe, expect, it } from "vitest";
import { ERROR_CODES, HearthError, httpStatusOf, toHearthError } from "./errors";

describe("HearthError", () => {
  it("maps every code to a real HTTP status in one place", () => {
    const statuses = Object.fromEntries(ERROR_CODES.map((c) => [c, httpStatusOf(c)]));
    expect(statuses).toEqual({
      not_found: 404,
      conflict: 409,
      bad_state: 409,
      invalid: 400,
      forbidden: 403,
      unauthorized: 401,
      rate_limited: 429,
      external: 502,
      internal: 500,
    });
  });

  it("has the documented wire shape, details only when given", () => {
    expect(new HearthError("not_found", "no such app").toWire()).toEqual({ error: { code: "not_found", message: "no such app" } });
    const e = new HearthError("invalid", "bad body", { details: [{ path: ["x"] }] });
    expect(e.status).toBe(400);
    expect(e.toWire()).toEqual({ error: { code: "invalid", message: "bad body", details: [{ path: ["x"] }] } });
  });

  it("hides the text of unknown errors", () => {
    const e = toHearthError(new Error("password=hunter2 leaked in a driver message"));
    expect(e.code).toBe("internal");
    expect(e.message).toBe("Internal error");
    expect(JSON.stringify(e.toWire())).not.toContain("hunter2");
  });
});

describe("HearthError across module copies", () => {
  it("recognises a HearthError made by another copy of the module by name and code", async () => {
    const foreign = Object.assign(new Error("box is down"), { name: "HearthError", code: "external", details: { socket: "x" } });
    const e = toHearthError(foreign);
    expect(e).toBeInstanceOf(HearthError);
    expect(e.status).toBe(502);
    expect(e.toWire()).toEqual({ error: { code: "external", message: "box is down", details: { socket: "x" } } });
    // a look-alike with an unknown code is not trusted
    expect(toHearthError(Object.assign(new Error("x"), { name: "HearthError", code: "teapot" })).code).toBe("internal");
  });
});
