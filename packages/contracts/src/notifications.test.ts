import { describe, expect, it } from "vitest";
import { explainError, NOTIFICATION_KINDS, notificationTitle, notificationView } from "./notifications";

describe("notification titles", () => {
  it("name the kind, the number of open subjects and the cause, singular and plural", () => {
    expect(notificationTitle("cert_failing", 5, "lab.example")).toBe("Certificates failing for 5 names on lab.example");
    expect(notificationTitle("cert_failing", 1, "lab.example")).toBe("Certificates failing for 1 name on lab.example");
    expect(notificationTitle("app_down", 1)).toBe("1 app is down");
    expect(notificationTitle("app_down", 2)).toBe("2 apps are down");
    expect(notificationTitle("task_failed", 3)).toBe("3 tasks failed");
  });

  it("has a title for every kind", () => {
    for (const k of NOTIFICATION_KINDS) expect(notificationTitle(k, 2).length).toBeGreaterThan(5);
  });
});

describe("explainError", () => {
  it.each([
    ["getaddrinfo ENOTFOUND gone.lab.example", true, /cannot be found in public DNS/],
    ["DNS problem: NXDOMAIN looking up A for x.lan - check that a DNS record exists", true, /public DNS/],
    ["acme: urn:ietf:params:acme:error:rateLimited: too many certificates already issued", false, /rate limit/],
    ["connect ECONNREFUSED 10.0.0.1:443", false, /refused/],
    ["the ACME request timed out after 30000 ms", false, /did not answer in time/],
    ["urn:ietf:params:acme:error:unauthorized: Invalid response from http://x/.well-known/acme-challenge/abc: 404", false, /could not verify/],
  ])("%s", (raw, unresolvable, message) => {
    const e = explainError(raw);
    expect(e.unresolvable).toBe(unresolvable);
    expect(e.message).toMatch(message);
    // the admin's sentence never carries the raw code
    expect(e.message).not.toMatch(/ENOTFOUND|ECONNREFUSED|urn:ietf/);
  });

  it("keeps an unknown error's first line as a sentence", () => {
    expect(explainError("unexpected error: the vhost check failed\n    at x (y.ts:1)").message).toBe("The vhost check failed.");
    expect(explainError("").message).toBe("Unknown error.");
  });
});

describe("notificationView", () => {
  it("refuses an unknown kind", () => {
    const base = {
      id: "1",
      level: "error",
      title: "t",
      message: "",
      target: "",
      link: "",
      count: 1,
      items: [],
      unread: true,
      createdAt: "",
      updatedAt: "",
      raisedAt: "",
      dismissedAt: null,
      dismissedBy: null,
    };
    expect(notificationView.safeParse({ ...base, kind: "cert_failing" }).success).toBe(true);
    expect(notificationView.safeParse({ ...base, kind: "nope" }).success).toBe(false);
  });
});
