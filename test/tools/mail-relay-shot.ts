// Screenshots of the Settings page's "Mail relay" card (not a test): npx tsx test/tools/mail-relay-shot.ts <outdir>
// A real admin on a migrated database, box's socket + task runner + SettingOutbound in this
// process, and an smtp-server on loopback as the smarthost (AUTH over STARTTLS).
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import type net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { SMTPServer } from "smtp-server";
import { getTask } from "@hearth/db";
import { createLogger } from "../../apps/box/src/logger";
import { mailTasks } from "../../apps/box/src/mail/mail-test.task";
import { SettingOutbound } from "../../apps/box/src/mail/outbound-setting";
import { ensureRelayCert } from "../../apps/box/src/mail/relay-cert";
import { startBoxSocket } from "../../apps/box/src/socket/socket.server";
import { TaskRegistry } from "../../apps/box/src/tasks/registry";
import { taskLogPath } from "../../apps/box/src/tasks/task-log";
import { prismaTaskStore } from "../../apps/box/src/tasks/task-store";
import { TaskRunner } from "../../apps/box/src/tasks/tasks.service";
import { migratedDatabase } from "../helpers/db";
import { sessionCookieOf, startAdmin } from "../helpers/admin";

const out = process.argv[2] ?? "/tmp/shots";
mkdirSync(out, { recursive: true });
const tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-mailshot-"));
const key = randomBytes(32);
const PASS = randomBytes(9).toString("hex");
const t = await migratedDatabase("mailshot");
const log = createLogger("silent", "shot");
const cert = await ensureRelayCert(path.join(tmp, "sink"), "localhost");
const sink = new SMTPServer({
  key: cert.key,
  cert: cert.cert,
  authMethods: ["PLAIN", "LOGIN"],
  disableReverseLookup: true,
  logger: false,
  onAuth: (a, _s, cb) => (a.password === PASS ? cb(null, { user: a.username }) : cb(Object.assign(new Error("5.7.8 Authentication failed"), { responseCode: 535 }))),
  onData: (s, _x, cb) => {
    s.resume();
    s.on("end", () => cb(null, "2.0.0 Ok: queued as 4F2A19C"));
  },
});
await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
const sinkPort = (sink.server.address() as net.AddressInfo).port;

const outbound = new SettingOutbound({ db: t.db, secretKey: key, heloName: "box.example.com", log });
const runner = new TaskRunner({
  store: prismaTaskStore(t.db),
  registry: new TaskRegistry(mailTasks({ db: t.db, outbound, hostname: "box.example.com" })),
  boxId: "shot",
  leasedBy: `shot/${randomUUID()}`,
  dataDir: tmp,
  pollMs: 1000,
  leaseMs: 30_000,
  concurrency: 1,
  log,
});
runner.start();
const sock = path.join(tmp, "box.sock");
const socket = await startBoxSocket(
  { socketPath: sock, gid: null },
  {
    boxId: "shot",
    version: "0.1.0",
    startedAt: Date.now(),
    runningTasks: () => runner.runningCount,
    wake: () => runner.wake(),
    getTask: async (id) => {
      const x = await getTask(t.db, id);
      return x && { state: x.state, percent: x.percent, message: x.message, errorCode: x.errorCode, errorMessage: x.errorMessage };
    },
    logPath: (id) => taskLogPath(tmp, id),
    log,
  },
);
const admin = await startAdmin({ HEARTH_DATABASE_URL: t.url, HEARTH_BOX_SOCKET: sock, HEARTH_SECRET_KEY: key.toString("base64") });
try {
  const setup = await admin.setupOwner({ username: "owner", email: "owner@example.com", password: "correct horse battery staple" });
  const cookie = sessionCookieOf(setup);
  await t.db.domain.create({ data: { domain: "example.com", provider: "manual", isDashboardDomain: true } });
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"] });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const u = new URL(admin.base);
  const [name, value] = cookie.split(";")[0]!.split("=");
  await ctx.addCookies([{ name: name!, value: value!, domain: u.hostname, path: "/", secure: false }]);
  const page = await ctx.newPage();
  const card = page.locator("section[aria-labelledby=mail-heading]");
  await page.goto(`${admin.base}/settings`);
  await card.getByText("Direct delivery").waitFor();
  await card.screenshot({ path: path.join(out, "mail-1-direct.png") });

  // smarthost with a bad port: the server's 400 beside the field
  await card.locator("#mail-mode-smarthost").check();
  await card.getByLabel("SMTP server", { exact: true }).fill("localhost");
  await card.getByLabel("Port", { exact: true }).fill("70000");
  await card.getByLabel("Username", { exact: true }).fill("relay@example.com");
  await card.getByLabel("Password", { exact: true }).fill(PASS);
  await card.getByRole("button", { name: "Save" }).click();
  await card.getByText("Must be 1–65535").waitFor();
  await card.screenshot({ path: path.join(out, "mail-2-error.png") });

  await card.getByLabel("Port", { exact: true }).fill(String(sinkPort));
  await card.locator("#mail-ca").fill(cert.cert.toString());
  await card.getByRole("button", { name: "Save" }).click();
  await card.getByText("Saved. The next message uses it.").waitFor();
  await page.reload();
  await card.getByPlaceholder("saved — leave empty to keep").waitFor();
  await card.getByRole("button", { name: "Send test mail" }).click();
  await card.getByText("Test mail accepted").waitFor({ timeout: 30_000 });
  await card.getByRole("log", { name: "Task log" }).filter({ hasText: "accepted: 250" }).waitFor({ timeout: 10_000 });
  await card.screenshot({ path: path.join(out, "mail-3-test.png") });
  await browser.close();
} finally {
  await admin.stop();
  await runner.stop();
  await socket.close();
  await new Promise<void>((r) => sink.close(() => r()));
  await t.drop();
  rmSync(tmp, { recursive: true, force: true });
}
