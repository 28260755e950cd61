import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { raiseNotification, setSetting, type Db } from "@hearth/db";
import { createOutbound } from "../../apps/box/src/mail/outbound";
import { ensureRelayCert } from "../../apps/box/src/mail/relay-cert";
import { deliverNotifications, type DeliveryDeps } from "../../apps/box/src/notifications/deliver";
import { raiseCertificateFailure } from "../../apps/box/src/notifications/notices";
import { resolverVia } from "../../apps/box/src/notifications/webhook";
import { startBind9 } from "../helpers/bind9";
import { freePort } from "../helpers/admin";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { startAdmin, type Call, type RunningAdmin } from "../helpers/admin";
import { ownerSession } from "../helpers/admin-accounts";
import { startStandInBox, type StandInBox } from "../helpers/stand-in-box";
import { startMailSink, type MailSink } from "../helpers/mail-sink";

/**
 * Notification email and webhook: box's delivery (apps/box/src/notifications/deliver.ts)
 * mails a new notification group ONCE to the admins who chose its kind, through a real SMTP
 * smarthost (the test sink, STARTTLS + login), never again on later passes or when more
 * items join; and POSTs it to the admin's webhook (set through the real admin API, the
 * secret shown once) with a signature the receiver verifies; a failing webhook is recorded
 * and blocks nothing.
 */
let t: TestDatabase & { db: Db };
let admin: RunningAdmin;
let box: StandInBox;
let sink: MailSink;
let hookServer: http.Server;
let tmp = "";
let ownerCookie = "";
let hookStatus = 200;
const hooks: { headers: http.IncomingHttpHeaders; body: string }[] = [];
const SECRET_KEY = randomBytes(32);
const USER = "hearth@provider.test";
const PASS = randomBytes(12).toString("hex");
const as = (extra: Call = {}): Call => admin.browser(ownerCookie, extra);
const silent = { info: () => {}, warn: () => {} };
let deps: DeliveryDeps;
const at = (ms: number) => new Date(Date.now() + ms);

beforeAll(async () => {
  t = await migratedDatabase("notifydeliver");
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-notify-deliver-"));
  const cert = await ensureRelayCert(path.join(tmp, "sink"), "localhost");
  sink = await startMailSink({ tls: cert, login: { username: USER, password: PASS } });
  hookServer = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      hooks.push({ headers: req.headers, body });
      if (hookStatus === 302) res.writeHead(302, { location: "http://127.0.0.1:1/elsewhere" }).end();
      else res.writeHead(hookStatus).end();
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, "127.0.0.1", r));
  const boxSocket = path.join(tmp, "box.sock");
  box = await startStandInBox(boxSocket, {
    handle(req, res) {
      if (req.url !== "/health") return false;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, version: "0.1.0", boxId: "stand-in", uptimeSeconds: 1, runningTasks: 0 }));
      return true;
    },
  });
  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: boxSocket, HEARTH_SECRET_KEY: SECRET_KEY.toString("base64") });
  ownerCookie = await ownerSession(admin);
  deps = {
    db: t.db,
    secretKey: SECRET_KEY,
    outbound: async () => ({ ok: true, outbound: createOutbound({ mode: "smarthost", host: "localhost", port: sink.port, username: USER, password: PASS, ca: cert.cert.toString() }) }),
    senderDomain: async () => "lab.example",
    dashboardUrl: async () => "https://my.lab.example",
    log: silent,
    webhookTimeoutMs: 3_000,
  };
}, 300_000);

afterAll(async () => {
  await admin?.stop();
  await box?.close();
  await sink?.close();
  hookServer?.close();
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const verify = (secret: string, h: { headers: http.IncomingHttpHeaders; body: string }) =>
  h.headers["x-hearth-signature"] === `sha256=${createHmac("sha256", secret).update(`${h.headers["x-hearth-timestamp"]}.${h.body}`).digest("hex")}`;

describe("notification delivery", () => {
  let secret = "";

  it("the webhook and email choices are set through the API; the secret is shown once; events are recorded", async () => {
    // the receiver is on loopback: allowed only with private endpoints on
    const refused = await admin.call("PUT", "/api/v1/settings/notifications/webhook", as({ body: { url: `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hook` } }));
    expect(refused.status).toBe(400);
    expect((await admin.call("PUT", "/api/v1/settings/notifications/webhook", as({ body: { url: "ftp://x.example/" } }))).status).toBe(400);
    expect((await admin.call("PUT", "/api/v1/settings/notifications/webhook", as({ body: { url: "https://user:pw@x.example/" } }))).status).toBe(400);
    await setSetting(t.db, "network.allowPrivateEndpoints", true);
    const put = await admin.call("PUT", "/api/v1/settings/notifications/webhook", as({ body: { url: `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hook` } }));
    expect(put.status).toBe(200);
    secret = put.body.secret;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const get = await admin.call("GET", "/api/v1/settings/notifications/webhook", as());
    expect(get.body.secret).toBeUndefined();
    expect(JSON.stringify(get.body)).not.toContain(secret);
    // the owner gets certificate mail, not disk mail
    const prefs = await admin.call("PUT", "/api/v1/profile/notifications", as({ body: { emailKinds: ["cert_failing", "task_failed"] } }));
    expect(prefs.status).toBe(200);
    expect((await admin.call("PUT", "/api/v1/profile/notifications", as({ body: { emailKinds: ["nope"] } }))).status).toBe(400);
    expect((await admin.call("GET", "/api/v1/profile/notifications", as())).body).toEqual({ emailKinds: ["cert_failing", "task_failed"], chosen: true });
    const events = await t.db.event.findMany({ where: { action: { in: ["settings.notification_webhook", "user.notification_preferences"] } } });
    expect(events.map((e) => e.action).sort()).toEqual(["settings.notification_webhook", "user.notification_preferences"]);
    expect(JSON.stringify(events.map((e) => e.data))).not.toContain(secret);
  });

  it("a new group is mailed once to who chose its kind, after it settled, and posted signed to the webhook", async () => {
    for (const n of ["a", "b", "c"]) {
      await raiseCertificateFailure(t.db, {
        domain: "lab.example",
        namesKey: `${n}.lab.example`,
        names: [`${n}.lab.example`],
        error: `getaddrinfo ENOTFOUND ${n}.lab.example`,
        renewal: false,
        daysLeft: 0,
      });
    }
    await raiseNotification(t.db, { kind: "disk_full", cause: "", level: "warning", subject: "/data", label: "/data", message: "The disk is 93 % full." });
    // not settled yet: nothing goes out
    expect((await deliverNotifications({ ...deps, now: () => at(5_000) })).mailed).toHaveLength(0);
    expect(sink.received).toHaveLength(0);

    const r = await deliverNotifications({ ...deps, now: () => at(31_000) });
    // the cert group to the owner; the disk group to nobody (the owner opted out) but to the webhook
    expect(r.mailed).toHaveLength(1);
    expect(r.mailed[0]!.to).toEqual(["owner@example.com"]);
    expect(sink.received).toHaveLength(1);
    const mail = sink.received[0]!;
    // the body as the reader sees it (quoted-printable decoded)
    const text = mail.raw.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
    expect(mail.to).toEqual(["owner@example.com"]);
    expect(mail.from).toBe("no-reply@lab.example");
    expect(mail.raw).toContain("Subject: [Hearth] Certificates failing for 3 names on lab.example");
    expect(text).toContain("c.lab.example: The name cannot be found in public DNS");
    expect(text).not.toContain("ENOTFOUND");
    expect(text).toContain("https://my.lab.example/domains?edit=lab.example");

    expect(r.webhooks).toHaveLength(2);
    expect(r.webhooks.every((w) => w.ok)).toBe(true);
    expect(hooks).toHaveLength(2);
    for (const h of hooks) {
      expect(verify(secret, h)).toBe(true);
      expect(verify("wrong", h)).toBe(false);
      expect(h.headers["content-type"]).toBe("application/json");
    }
    const kinds = hooks.map((h) => (JSON.parse(h.body) as { notification: { kind: string } }).notification.kind).sort();
    expect(kinds).toEqual(["cert_failing", "disk_full"]);
    const certHook = JSON.parse(hooks.find((h) => h.body.includes("cert_failing"))!.body) as { notification: { items: { label: string }[] } };
    expect(certHook.notification.items.map((i) => i.label).sort()).toEqual(["a.lab.example", "b.lab.example", "c.lab.example"]);
  });

  it("later passes and more items in the open group send nothing again", async () => {
    await deliverNotifications({ ...deps, now: () => at(60_000) });
    await raiseCertificateFailure(t.db, { domain: "lab.example", namesKey: "d.lab.example", names: ["d.lab.example"], error: "getaddrinfo ENOTFOUND d.lab.example", renewal: false, daysLeft: 0 });
    await deliverNotifications({ ...deps, now: () => at(120_000) });
    await deliverNotifications({ ...deps, now: () => at(400_000) });
    expect(sink.received).toHaveLength(1);
    expect(hooks).toHaveLength(2);
  });

  it("a failing webhook (a redirect) is recorded, not followed, and the mail still goes", async () => {
    hookStatus = 302;
    await raiseNotification(t.db, { kind: "task_failed", cause: "", level: "error", subject: "box:domain.sync", label: "domain sync", message: "The other side did not answer in time." });
    const r = await deliverNotifications({ ...deps, now: () => at(31_000) });
    expect(r.mailed).toHaveLength(1);
    expect(sink.received).toHaveLength(2);
    expect(r.webhooks).toEqual([expect.objectContaining({ ok: false, error: "redirect (302) not followed" })]);
    // the receiver got one POST; nothing followed the redirect
    expect(hooks).toHaveLength(3);
    expect(await t.db.event.count({ where: { action: "notification.webhook_failed" } })).toBe(1);
    const get = await admin.call("GET", "/api/v1/settings/notifications/webhook", as());
    expect(get.body.lastDelivery).toEqual(expect.objectContaining({ ok: false, error: "redirect (302) not followed" }));
  });

  it("a webhook name that resolves to loopback at send time is refused and recorded, never posted (re-checked by box, not only at save)", async () => {
    hookStatus = 200;
    const port = (hookServer.address() as AddressInfo).port;
    // a real nameserver box asks at send time: the webhook's name points at this machine
    const dns = await startBind9({ port: await freePort(), zone: "hook-rebind.test", records: ["hook IN A 127.0.0.1", "mixed IN A 192.0.2.7", "mixed IN A 127.0.0.1"] });
    try {
      await setSetting(t.db, "network.allowPrivateEndpoints", false);
      // admin's save-time check passes: the system resolver does not know the name (yet)
      const put = await admin.call("PUT", "/api/v1/settings/notifications/webhook", as({ body: { url: `http://hook.hook-rebind.test:${port}/hook` } }));
      expect(put.status).toBe(200);
      const before = hooks.length;
      const failedBefore = await t.db.event.count({ where: { action: "notification.webhook_failed" } });
      const withDns: DeliveryDeps = { ...deps, resolveHost: resolverVia([dns.nameserver]) };

      await raiseNotification(t.db, { kind: "disk_full", cause: "/rebind-1", level: "warning", subject: "/rebind-1", label: "/rebind-1", message: "The disk is 95 % full." });
      const r = await deliverNotifications({ ...withDns, now: () => at(31_000) });
      expect(r.webhooks).toHaveLength(1);
      expect(r.webhooks[0]!.ok).toBe(false);
      expect(r.webhooks[0]!.error).toMatch(/^hook\.hook-rebind\.test resolves to 127\.0\.0\.1, a loopback address: not posted/);
      expect(hooks).toHaveLength(before);
      const failed = await t.db.event.findMany({ where: { action: "notification.webhook_failed" }, orderBy: { createdAt: "desc" } });
      expect(failed).toHaveLength(failedBefore + 1);
      expect(JSON.stringify(failed[0]!.data)).toContain("resolves to 127.0.0.1");
      const get = await admin.call("GET", "/api/v1/settings/notifications/webhook", as());
      expect(get.body.lastDelivery).toEqual(expect.objectContaining({ ok: false, error: expect.stringContaining("a loopback address") }));

      // one forbidden address among good ones is enough to refuse (box would not choose which one to use)
      const mixed = await admin.call("PUT", "/api/v1/settings/notifications/webhook", as({ body: { url: `http://mixed.hook-rebind.test:${port}/hook` } }));
      expect(mixed.status).toBe(200);
      await raiseNotification(t.db, { kind: "disk_full", cause: "/rebind-2", level: "warning", subject: "/rebind-2", label: "/rebind-2", message: "The disk is 96 % full." });
      const r2 = await deliverNotifications({ ...withDns, now: () => at(31_000) });
      expect(r2.webhooks).toEqual([expect.objectContaining({ ok: false, error: expect.stringMatching(/resolves to 127\.0\.0\.1, a loopback address/) })]);
      expect(hooks).toHaveLength(before);

      // the same name with private endpoints allowed (a lab) IS posted, through the address box resolved: the refusal above was the check
      await setSetting(t.db, "network.allowPrivateEndpoints", true);
      const again = await admin.call("PUT", "/api/v1/settings/notifications/webhook", as({ body: { url: `http://hook.hook-rebind.test:${port}/hook` } }));
      await raiseNotification(t.db, { kind: "disk_full", cause: "/rebind-3", level: "warning", subject: "/rebind-3", label: "/rebind-3", message: "The disk is 97 % full." });
      const r3 = await deliverNotifications({ ...withDns, now: () => at(31_000) });
      expect(r3.webhooks).toEqual([{ notificationId: expect.any(String), ok: true }]);
      expect(hooks).toHaveLength(before + 1);
      expect(hooks.at(-1)!.headers.host).toBe(`hook.hook-rebind.test:${port}`);
      expect(verify(again.body.secret, hooks.at(-1)!)).toBe(true);
    } finally {
      await dns.stop();
    }
  });
});
