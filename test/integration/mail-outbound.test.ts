import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import nodemailer from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAIL_SETTINGS_KEY } from "@hearth/contracts";
import { getSetting, getTask, openSecret, sealSecret, setSetting, type Db, type Task } from "@hearth/db";
import { createLogger } from "../../apps/box/src/logger";
import { hashRelayPassword, newRelayPassword } from "../../apps/box/src/mail/accounts";
import { mailTasks } from "../../apps/box/src/mail/mail-test.task";
import { SettingOutbound } from "../../apps/box/src/mail/outbound-setting";
import { MailRelay } from "../../apps/box/src/mail/relay";
import { ensureRelayCert, type RelayCert } from "../../apps/box/src/mail/relay-cert";
import { mailAccountLookup } from "../../apps/box/src/mail/sendmail.addon";
import { TaskRegistry } from "../../apps/box/src/tasks/registry";
import { taskLogPath } from "../../apps/box/src/tasks/task-log";
import { prismaTaskStore } from "../../apps/box/src/tasks/task-store";
import { TaskRunner } from "../../apps/box/src/tasks/tasks.service";
import { freePort, startAdmin, type Call, type Reply, type RunningAdmin } from "../helpers/admin";
import { ownerSession, plainUserToken } from "../helpers/admin-accounts";
import { startStandInBox, type StandInBox } from "../helpers/stand-in-box";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { startMailSink, type MailSink } from "../helpers/mail-sink";

/**
 * The mail outbound setting end to end, all real processes and sockets: admin (`next start`)
 * stores it through /api/v1/settings/mail on a migrated database; box's relay (smtp-server)
 * in this process takes its outbound from that Setting row (SettingOutbound, as main.ts wires
 * it) and box's task runner runs the mail.test tasks admin queues (the socket's /wake wakes
 * it). The smarthost is a second smtp-server that requires AUTH over STARTTLS with a
 * self-signed certificate that only the setting's caCertificate makes verifiable.
 */
let t: TestDatabase & { db: Db };
let admin: RunningAdmin;
let box: StandInBox;
let runner: TaskRunner;
let relay: MailRelay;
let sink: MailSink;
let sinkPort = 0;
let sinkCert: RelayCert;
let relayCert: RelayCert;
let ownerCookie = "";
let userToken = "";
const tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-mailout-"));
const SECRET_KEY = randomBytes(32);
const SMARTHOST_USER = "relay@provider.test";
const SMARTHOST_PASS = `pw-${randomBytes(12).toString("hex")}`;
const WRONG_PASS = `wrong-${randomBytes(12).toString("hex")}`;
const APP_ID = randomUUID();
const APP_PASS = newRelayPassword();
const APP_FROM = "blog.app@example.test";
const logLines: string[] = [];
const log = createLogger("info", "mailout-test", { write: (s: string) => void logLines.push(s) });
const replies: Reply[] = [];
const taskIds: string[] = [];

const as = (extra: Call = {}): Call => admin.browser(ownerCookie, extra);
async function call(method: string, url: string, c: Call = {}): Promise<Reply> {
  const r = await admin.call(method, url, c);
  replies.push(r);
  return r;
}
const putMail = (body: unknown) => call("PUT", "/api/v1/settings/mail", as({ body }));
const issues = (r: Reply): string[] => ((r.body?.error?.details ?? []) as { path: (string | number)[]; message: string }[]).map((i) => `${i.path.join(".")}: ${i.message}`);
const smarthost = (over: Record<string, unknown> = {}) => ({
  mode: "smarthost",
  host: "localhost",
  port: sinkPort,
  security: "starttls",
  username: SMARTHOST_USER,
  caCertificate: sinkCert.cert.toString(),
  ...over,
});

/** An app sending through the relay, as in sendmail.test.ts. */
function send(subject: string) {
  return nodemailer
    .createTransport({
      host: "127.0.0.1",
      port: relay.port,
      secure: false,
      requireTLS: true,
      auth: { user: APP_ID, pass: APP_PASS },
      tls: { ca: relayCert.cert.toString(), servername: "hearth-mail-relay" },
    })
    .sendMail({ from: APP_FROM, to: "someone@dest.test", subject, text: "from an app" });
}
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => ({ code: 250, response: "" }),
    (e: { responseCode?: number; response?: string }) => ({ code: e.responseCode ?? -1, response: e.response ?? "" }),
  );

async function finish(taskId: string, timeoutMs = 60_000): Promise<Task> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await getTask(t.db, taskId);
    if (task && ["succeeded", "failed", "cancelled"].includes(task.state)) return task;
    if (Date.now() > deadline) throw new Error(`task ${taskId} is still ${task?.state}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const taskLog = (id: string) => {
  try {
    return readFileSync(taskLogPath(tmp, id), "utf8");
  } catch {
    return "";
  }
};

beforeAll(async () => {
  t = await migratedDatabase("mailout");
  relayCert = await ensureRelayCert(path.join(tmp, "relay"));
  sinkCert = await ensureRelayCert(path.join(tmp, "sink"), "localhost");
  sink = await startMailSink({ tls: sinkCert, login: { username: SMARTHOST_USER, password: SMARTHOST_PASS, refusal: "5.7.8 bad smarthost login" }, reply: "2.0.0 Ok: queued as SINK1" });
  sinkPort = sink.port;

  // direct delivery asks a DNS server on a loopback port where nothing listens
  const nowhere = await freePort();
  const outbound = new SettingOutbound({ db: t.db, secretKey: SECRET_KEY, heloName: "box.example.test", log, direct: { port: nowhere, dnsServers: [`127.0.0.1:${nowhere}`] } });
  const account = { username: APP_ID, passwordHash: await hashRelayPassword(APP_PASS), from: APP_FROM };
  relay = new MailRelay({ host: "127.0.0.1", port: 0, tls: relayCert, lookup: mailAccountLookup(async (id) => (id === APP_ID ? account : null)), outbound, log });
  await relay.start();

  const boxId = `test-${randomUUID().slice(0, 8)}`;
  runner = new TaskRunner({
    store: prismaTaskStore(t.db),
    registry: new TaskRegistry(mailTasks({ db: t.db, outbound, hostname: "box.example.test" })),
    boxId,
    leasedBy: `${boxId}/${randomUUID()}`,
    dataDir: tmp,
    pollMs: 5_000,
    leaseMs: 30_000,
    concurrency: 1,
    log,
  });
  await runner.recoverAtStartup();
  runner.start();
  const boxSocket = path.join(tmp, "box.sock");
  box = await startStandInBox(boxSocket, { onWake: () => runner.wake() });

  admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: boxSocket, HEARTH_SECRET_KEY: SECRET_KEY.toString("base64") });
  ownerCookie = await ownerSession(admin);
  // the smarthost here is a local sink (localhost); the guard itself is checked below
  await setSetting(t.db, "network.allowPrivateEndpoints", true);
  userToken = await plainUserToken(t.db);
}, 400_000);

afterAll(async () => {
  await runner?.stop();
  await admin?.stop();
  await relay?.stop();
  await sink?.close();
  await box?.close();
  // no secret reached a response, a log line, a task log, an event or a task row
  const events = t ? JSON.stringify(await t.db.event.findMany({ select: { action: true, target: true, data: true } })) : "";
  const tasks = t ? JSON.stringify(await t.db.task.findMany({ select: { args: true, result: true, message: true, errorMessage: true } })) : "";
  const everything = [replies.map((r) => r.text).join("\n"), logLines.join("\n"), admin?.output() ?? "", taskIds.map(taskLog).join("\n"), events, tasks].join("\n");
  expect(everything).toContain("settings.mail"); // the haystack is not empty
  for (const s of [SMARTHOST_PASS, WRONG_PASS, APP_PASS]) expect(everything).not.toContain(s);
  await t?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe("settings/mail API", () => {
  it("GET: direct delivery until set; owner and admins only", async () => {
    const r = await call("GET", "/api/v1/settings/mail", { cookie: ownerCookie });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ mode: "direct", heloName: null });
    expect((await call("GET", "/api/v1/settings/mail", { token: userToken })).status).toBe(403);
    expect((await call("PUT", "/api/v1/settings/mail", { token: userToken, body: { mode: "direct" } })).status).toBe(403);
    expect((await call("POST", "/api/v1/settings/mail/test", { token: userToken, body: { to: "x@dest.test" } })).status).toBe(403);
    // a browser PUT without the same-origin header is refused (CSRF)
    expect((await call("PUT", "/api/v1/settings/mail", { cookie: ownerCookie, body: { mode: "direct" } })).status).toBe(403);
    expect(await getSetting(t.db, MAIL_SETTINGS_KEY)).toBeNull();
  });

  it("PUT smarthost with a password: the answer and GET hold no password; the row holds it sealed", async () => {
    const r = await putMail(smarthost({ password: SMARTHOST_PASS }));
    expect(r.status, r.text).toBe(200);
    const view = {
      mode: "smarthost",
      host: "localhost",
      port: sinkPort,
      security: "starttls",
      username: SMARTHOST_USER,
      hasPassword: true,
      caCertificate: expect.stringContaining("-----BEGIN CERTIFICATE-----"),
    };
    expect(r.body).toEqual(view);
    expect(r.text).not.toContain(SMARTHOST_PASS);
    const g = await call("GET", "/api/v1/settings/mail", { cookie: ownerCookie });
    expect(g.body).toEqual(view);
    const row = await t.db.setting.findUniqueOrThrow({ where: { key: MAIL_SETTINGS_KEY } });
    const stored = row.value as { passwordEnc: string };
    expect(JSON.stringify(row.value)).not.toContain(SMARTHOST_PASS);
    expect(stored.passwordEnc).toMatch(/^v1:/);
    expect(openSecret(SECRET_KEY, stored.passwordEnc)).toBe(SMARTHOST_PASS);
    const ev = await t.db.event.findFirstOrThrow({ where: { action: "settings.mail" }, orderBy: { createdAt: "desc" } });
    expect(ev.data).toMatchObject({ mode: "smarthost", host: "localhost", hasPassword: true, password: "set", caCertificate: true });
  });

  it("PUT without a password keeps the stored one", async () => {
    const before = ((await getSetting(t.db, MAIL_SETTINGS_KEY)) as { passwordEnc: string }).passwordEnc;
    const r = await putMail(smarthost());
    expect(r.status, r.text).toBe(200);
    expect(r.body.hasPassword).toBe(true);
    expect(((await getSetting(t.db, MAIL_SETTINGS_KEY)) as { passwordEnc: string }).passwordEnc).toBe(before);
    const ev = await t.db.event.findFirstOrThrow({ where: { action: "settings.mail" }, orderBy: { createdAt: "desc" } });
    expect(ev.data).toMatchObject({ password: "kept" });
  });

  it("the kept password is not sent to another server: a new host, port or security needs it again (400), nothing changes", async () => {
    const before = await getSetting(t.db, MAIL_SETTINGS_KEY);
    for (const [change, field] of [
      [{ host: "127.0.0.2" }, "host"],
      [{ port: sinkPort + 1 }, "port"],
      [{ security: "none" }, "security"],
    ] as const) {
      const r = await putMail(smarthost(change));
      expect(r.status, field).toBe(400);
      expect(r.body.error.details).toEqual([{ path: ["password"], code: "custom", message: `must be entered again when ${field} changes` }]);
    }
    expect(await getSetting(t.db, MAIL_SETTINGS_KEY)).toEqual(before);
  });

  it("a smarthost on this machine or the metadata service is refused unless network.allowPrivateEndpoints is set", async () => {
    const before = await getSetting(t.db, MAIL_SETTINGS_KEY);
    await setSetting(t.db, "network.allowPrivateEndpoints", false);
    try {
      for (const host of ["localhost", "127.0.0.1", "169.254.169.254", "::1"]) {
        const r = await putMail(smarthost({ host, password: SMARTHOST_PASS }));
        expect(r.status, host).toBe(400);
        expect(r.body.error.details[0].path).toEqual(["host"]);
      }
      expect(await getSetting(t.db, MAIL_SETTINGS_KEY)).toEqual(before);
    } finally {
      await setSetting(t.db, "network.allowPrivateEndpoints", true);
    }
  });

  it("bad input is 400 with the fields in details, and changes nothing", async () => {
    const before = await getSetting(t.db, MAIL_SETTINGS_KEY);
    const cases: [unknown, string][] = [
      [smarthost({ host: "smtp example com" }), "host: must be a host name like smtp.example.com or an IP address"],
      [smarthost({ port: 0 }), "port: must be 1–65535"],
      [smarthost({ security: "ssl" }), "security: must be starttls, tls or none"],
      [smarthost({ caCertificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }), "caCertificate: The certificate cannot be parsed (damaged PEM?)"],
      [smarthost({ caCertificate: "hello" }), "caCertificate: must be PEM text (-----BEGIN CERTIFICATE-----)"],
      [smarthost({ username: null }), "username: required with a password (or remove the password)"],
      [{ mode: "smtp" }, "mode: must be direct or smarthost"],
    ];
    for (const [body, issue] of cases) {
      const r = await putMail(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe("invalid");
      expect(issues(r)).toContain(issue);
    }
    expect(await getSetting(t.db, MAIL_SETTINGS_KEY)).toEqual(before);
    const r = await call("POST", "/api/v1/settings/mail/test", as({ body: { to: "not an address" } }));
    expect(r.status).toBe(400);
    expect(issues(r)).toEqual(["to: must be an email address"]);
  });
});

describe("the relay uses the setting, live", () => {
  it("delivers an app's mail to the smarthost with the stored login over verified STARTTLS", async () => {
    const n = sink.received.length;
    expect(await outcome(send("first"))).toEqual({ code: 250, response: "" });
    expect(sink.received.length).toBe(n + 1);
    expect(sink.received.at(-1)).toMatchObject({ from: APP_FROM, to: ["someone@dest.test"], user: SMARTHOST_USER, secure: true });
    expect(sink.received.at(-1)!.raw).toContain("Subject: first");
  });

  it("a wrong password saved in the dashboard: the next message is a 4xx for the app and nothing arrives; fixed again, it goes", async () => {
    expect((await putMail(smarthost({ password: WRONG_PASS }))).status).toBe(200);
    const n = sink.received.length;
    const bad = await outcome(send("wrong"));
    expect(bad.code).toBe(451);
    expect(bad.response).toContain("smarthost localhost");
    expect(bad.response).toContain("535");
    expect(sink.received.length).toBe(n);
    expect((await putMail(smarthost({ password: SMARTHOST_PASS }))).status).toBe(200);
    expect((await outcome(send("fixed"))).code).toBe(250);
    expect(sink.received.length).toBe(n + 1);
  });

  it("without the CA the smarthost's certificate does not verify: 451", async () => {
    expect((await putMail(smarthost({ caCertificate: null }))).status).toBe(200);
    const n = sink.received.length;
    const r = await outcome(send("no ca"));
    expect(r.code).toBe(451);
    expect(sink.received.length).toBe(n);
    expect((await putMail(smarthost())).status).toBe(200); // password kept, CA back
    expect((await outcome(send("ca again"))).code).toBe(250);
  });

  it("switched to direct delivery it goes by MX (here: no DNS answers, so a 4xx); back to the smarthost it needs the password again", async () => {
    const d = await putMail({ mode: "direct", heloName: "mail.example.test" });
    expect(d.body).toEqual({ mode: "direct", heloName: "mail.example.test" });
    const n = sink.received.length;
    const r = await outcome(send("direct"));
    expect(r.code).toBe(451);
    expect(r.response).toContain("dest.test: DNS lookup failed");
    expect(sink.received.length).toBe(n);
    // direct forgot the smarthost's password
    const again = await putMail(smarthost());
    expect(again.status).toBe(400);
    expect(issues(again)).toEqual(["password: required with a username"]);
    expect((await putMail(smarthost({ password: SMARTHOST_PASS }))).status).toBe(200);
    expect((await outcome(send("smarthost again"))).code).toBe(250);
    expect(sink.received.length).toBe(n + 1);
  });

  it("a password that does not open with this server's key: a 4xx for the app and one error log line, no secret", async () => {
    const current = (await getSetting(t.db, MAIL_SETTINGS_KEY)) as Record<string, string>;
    await setSetting(t.db, MAIL_SETTINGS_KEY, { ...current, passwordEnc: sealSecret(randomBytes(32), SMARTHOST_PASS) });
    const n = sink.received.length;
    const lines = logLines.length;
    const r = await outcome(send("unsealable"));
    expect(r.code).toBe(451);
    expect(r.response).toContain("outbound mail setting cannot be used");
    expect(sink.received.length).toBe(n);
    const errors = logLines.slice(lines).filter((l) => l.includes("the outbound mail setting cannot be used"));
    expect(errors.length).toBe(1);
    expect(JSON.parse(errors[0]!)).toMatchObject({ level: 50, reason: expect.stringContaining("does not open with this server's HEARTH_SECRET_KEY") });
    await setSetting(t.db, MAIL_SETTINGS_KEY, current);
    expect((await outcome(send("sealed right"))).code).toBe(250);
  });
});

describe("mail.test task", () => {
  it("box sends from no-reply@<dashboard domain> through the smarthost; the task's message is the remote's answer", async () => {
    await t.db.domain.create({ data: { domain: "example.test", provider: "manual", isDashboardDomain: true } });
    const n = sink.received.length;
    const r = await call("POST", "/api/v1/settings/mail/test", as({ body: { to: "admin@dest.test" } }));
    expect(r.status).toBe(202);
    taskIds.push(r.body.taskId);
    const task = await finish(r.body.taskId);
    expect(task.state, taskLog(task.id)).toBe("succeeded");
    expect(task.message).toBe("Accepted: 250 2.0.0 Ok: queued as SINK1");
    expect(task.result).toMatchObject({ accepted: true, from: "no-reply@example.test", to: "admin@dest.test", response: "250 2.0.0 Ok: queued as SINK1" });
    expect(sink.received.length).toBe(n + 1);
    const m = sink.received.at(-1)!;
    expect(m).toMatchObject({ from: "no-reply@example.test", to: ["admin@dest.test"], user: SMARTHOST_USER, secure: true });
    expect(m.raw).toContain("Subject: Hearth test mail");
    expect(m.raw).toMatch(/^From: Hearth <no-reply@example\.test>\r$/m);
    // the dashboard's view of the task and its log
    const view = await call("GET", `/api/v1/tasks/${task.id}`, { cookie: ownerCookie });
    expect(view.body).toMatchObject({ type: "mail.test", state: "succeeded", message: "Accepted: 250 2.0.0 Ok: queued as SINK1", error: null });
    expect(taskLog(task.id)).toContain(`through smarthost localhost:${sinkPort} (STARTTLS, with a login)`);
    const ev = await t.db.event.findFirstOrThrow({ where: { action: "mail.test" } });
    expect(ev.data).toEqual({ to: "admin@dest.test", taskId: task.id });
  });

  it("a refused login fails the task with the remote's answer", async () => {
    expect((await putMail(smarthost({ password: WRONG_PASS }))).status).toBe(200);
    const n = sink.received.length;
    const r = await call("POST", "/api/v1/settings/mail/test", as({ body: { to: "admin@dest.test" } }));
    taskIds.push(r.body.taskId);
    const task = await finish(r.body.taskId);
    expect(task.state).toBe("failed");
    expect(task.errorCode).toBe("external");
    expect(task.errorMessage).toMatch(/^Not accepted: smarthost localhost: .*535 5\.7\.8 bad smarthost login/);
    expect(taskLog(task.id)).toContain("not accepted:");
    expect(sink.received.length).toBe(n);
    expect((await putMail(smarthost({ password: SMARTHOST_PASS }))).status).toBe(200);
  });
});
