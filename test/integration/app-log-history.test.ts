import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HearthManifestInput } from "@hearth/contracts";
import { ensureStoreIdentity, type Db } from "@hearth/db";
import { streamAppLogs } from "../../apps/box/src/apps/app-logs";
import type { AppService, StepContext } from "../../apps/box/src/apps/apps.service";
import { containerNameOf, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { HISTORY_FILE } from "../../apps/box/src/apps/log-history";
import { createDocker, type DockerApi } from "../../apps/box/src/docker/docker";
import { dataPaths } from "../../apps/box/src/paths";
import { migratedDatabase, type TestDatabase } from "../helpers/db";
import { ensureTestImages, TEST_HTTPD_IMAGE } from "../helpers/test-images";
import { fetchEvents as sseFetch, type SseEvent } from "../helpers/sse";
import { testAppService } from "../helpers/addon-stack";

/**
 * An app's log history against real Docker and MariaDB: a line the app printed is still
 * readable through box's GET /apps/:id/logs after configure recreated the container, older
 * lines page back across the history and the current container without gaps or duplicates,
 * the health probe's lines are hidden unless asked for, search, the text download, follow,
 * and the history's end with the app's data (kept by uninstall, deleted by purge).
 */

const DOMAIN = "loghistory-test.example";
let t: TestDatabase & { db: Db };
let db: Db;
let docker: DockerApi;
let service: AppService;
let tmp = "";
let server: http.Server;
let port = 0;
const cleanup: string[] = [];

const ctx = (): StepContext => ({ taskId: randomUUID(), signal: new AbortController().signal, log: () => {}, progress: async () => {} });
const cli = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
/** The app prints `text` (as its own output: written to the main process's stdout). */
const appPrints = (id: string, text: string) => cli("exec", containerNameOf(id), "/bin/busybox", "sh", "-c", `printf '%s\\n' "$1" > /proc/1/fd/1`, "sh", text);

type Ev = SseEvent;
const fetchEvents = (urlPath: string, until?: (events: Ev[]) => boolean) => sseFetch(port, urlPath, until);
const logLines = (evs: Ev[]) => evs.filter((e) => e.event === "log").map((e) => e.data as { line: string; ts: string });

async function installApp(subdomain: string): Promise<string> {
  const id = randomUUID();
  const m: HearthManifestInput = {
    manifestVersion: 1,
    id: "org.hearth.test.loghistory",
    title: "t",
    version: "1.0.0",
    dockerImage: TEST_HTTPD_IMAGE,
    httpPort: 8080,
    healthCheckPath: "/health",
    memoryLimit: 32 * 1024 * 1024,
  };
  await db.app.create({
    data: { id, manifestId: m.id, manifest: m as object, version: m.version, subdomain, domain: DOMAIN, installState: "pending_install", memoryLimit: BigInt(m.memoryLimit!), env: {} },
  });
  cleanup.push(id);
  await service.install(id, ctx());
  return id;
}

beforeAll(async () => {
  ensureTestImages();
  t = await migratedDatabase("loghist");
  db = t.db;
  docker = createDocker();
  tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-loghist-"));
  await db.domain.create({ data: { domain: DOMAIN, provider: "noop" } });
  const store = await ensureStoreIdentity(db);
  const appLogDir = dataPaths(tmp).appLogs;
  service = testAppService({ db, docker, owner: store.id, healthTimeoutMs: 30_000, healthIntervalMs: 200, appLogDir });
  server = http.createServer((req, res) => {
    const url = new URL(req.url!, "http://box");
    const id = /^\/apps\/([^/]+)\/logs$/.exec(url.pathname)![1]!;
    void streamAppLogs({ docker, appExists: async (x) => (await db.app.count({ where: { id: x } })) > 0, historyDir: appLogDir }, req, res, id, url);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
  for (const id of cleanup) {
    await docker.removeContainer(containerNameOf(id)).catch(() => {});
    await docker.removeNetwork(networkNameOf(id)).catch(() => {});
    await docker.removeVolume(dataVolumeNameOf(id)).catch(() => {});
  }
  await t?.drop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("app log history", () => {
  let id = "";
  const secret = `first admin password: ${randomBytes(6).toString("hex")}`;

  it("a line the app printed is still readable after configure recreated the container", async () => {
    id = await installApp("loghist");
    const first = cli("inspect", "-f", "{{.Id}}", containerNameOf(id));
    appPrints(id, secret);
    await service.configure(id, ctx());
    expect(cli("inspect", "-f", "{{.Id}}", containerNameOf(id)), "configure made a new container").not.toBe(first);
    expect(cli("logs", containerNameOf(id))).not.toContain(secret); // Docker alone lost it
    expect(existsSync(path.join(dataPaths(tmp).appLogs(id), HISTORY_FILE))).toBe(true);

    const r = await fetchEvents(`/apps/${id}/logs?lines=1000`);
    expect(r.status).toBe(200);
    const lines = logLines(r.events).map((l) => l.line);
    expect(lines.filter((l) => l === secret)).toHaveLength(1);
    // both containers' start lines, the old one's before the secret, the new one's after
    const starts = lines.flatMap((l, i) => (l.includes("test app starting") ? [i] : []));
    expect(starts).toHaveLength(2);
    expect(starts[0]).toBeLessThan(lines.indexOf(secret));
    expect(starts[1]).toBeGreaterThan(lines.indexOf(secret));
    expect(r.events.at(-2)).toEqual({ event: "page", data: { older: false } });
    expect(r.events.at(-1)).toEqual({ event: "end", data: {} });
  });

  it("pages back through the history and the current container without gaps or duplicates", async () => {
    for (let i = 0; i < 25; i++) appPrints(id, `numbered ${i}`);
    await service.configure(id, ctx()); // these 25 go to the history too
    for (let i = 25; i < 40; i++) appPrints(id, `numbered ${i}`);
    const everything = logLines((await fetchEvents(`/apps/${id}/logs?lines=10000`)).events);
    expect(everything.filter((l) => l.line.startsWith("numbered ")).map((l) => l.line)).toEqual(Array.from({ length: 40 }, (_, i) => `numbered ${i}`));
    const tss = everything.map((l) => l.ts);
    expect([...tss].sort()).toEqual(tss);

    const pages: { line: string; ts: string }[][] = [];
    let before: string | null = null;
    for (let n = 0; n < 100; n++) {
      const r = await fetchEvents(`/apps/${id}/logs?lines=7${before ? `&before=${encodeURIComponent(before)}` : ""}`);
      const page = logLines(r.events);
      pages.unshift(page);
      const older = r.events.find((e) => e.event === "page")!.data.older as boolean;
      if (!older) break;
      expect(page).toHaveLength(7);
      before = page[0]!.ts;
    }
    expect(pages.length).toBe(Math.ceil(everything.length / 7));
    expect(pages.flat()).toEqual(everything);
  });

  it("hides the health probe's lines unless health=1; searches; downloads the whole log as text", async () => {
    const probe = `172.18.0.1 - - [03/Dec/2026:18:50:00 +0000] "GET /health HTTP/1.1" 200 3 "-" "hearth-health"`;
    appPrints(id, probe);
    appPrints(id, "after the probe");
    const plain = logLines((await fetchEvents(`/apps/${id}/logs?lines=3`)).events).map((l) => l.line);
    expect(plain).not.toContain(probe);
    expect(plain.at(-1)).toBe("after the probe");
    const withHealth = logLines((await fetchEvents(`/apps/${id}/logs?lines=3&health=1`)).events).map((l) => l.line);
    expect(withHealth.slice(-2)).toEqual([probe, "after the probe"]);

    const found = logLines((await fetchEvents(`/apps/${id}/logs?lines=50&q=${encodeURIComponent("FIRST ADMIN")}`)).events).map((l) => l.line);
    expect(found).toEqual([secret]);

    const text = await fetchEvents(`/apps/${id}/logs?format=text`);
    expect(text.status).toBe(200);
    expect(text.headers["content-type"]).toMatch(/^text\/plain/);
    const rows = text.body.trimEnd().split("\n");
    expect(rows.some((r) => /^\d{4}-\d\d-\d\dT[\d:.]+Z first admin password: /.test(r))).toBe(true);
    expect(rows.filter((r) => r.includes("numbered "))).toHaveLength(40);
    expect(rows.some((r) => r.includes("hearth-health"))).toBe(false);
    expect((await fetchEvents(`/apps/${id}/logs?format=text&health=1`)).body).toContain(probe);
  });

  it("follows new lines after the first page, none twice", async () => {
    // the line is printed once the first page has arrived (however long box took for it); the
    // follow that comes after the page starts from the page's newest line, so it is not missed
    let printed = false;
    const got = fetchEvents(`/apps/${id}/logs?lines=2&follow=1`, (evs) => {
      if (!printed && evs.some((e) => e.event === "page")) {
        printed = true;
        appPrints(id, "followed line");
      }
      return logLines(evs).some((l) => l.line === "followed line");
    });
    const r = await Promise.race([got, sleep(15_000).then(() => null)]);
    expect(r, "no followed line within 15 s").not.toBeNull();
    expect(logLines(r!.events).map((l) => l.line)).toEqual(["numbered 39", "after the probe", "followed line"]);
  });

  it("a first page from a long container output (box's quick tail) continues seamlessly into older pages", async () => {
    cli("exec", containerNameOf(id), "/bin/busybox", "sh", "-c", "{ i=1; while [ $i -le 1500 ]; do echo long $i; i=$((i+1)); done ; } > /proc/1/fd/1");
    const first = await fetchEvents(`/apps/${id}/logs?lines=300`);
    const p1 = logLines(first.events);
    expect(p1.map((l) => l.line)).toEqual(Array.from({ length: 300 }, (_, i) => `long ${1201 + i}`));
    expect(first.events.find((e) => e.event === "page")!.data).toEqual({ older: true });
    const p2 = logLines((await fetchEvents(`/apps/${id}/logs?lines=1200&before=${encodeURIComponent(p1[0]!.ts)}`)).events);
    expect(p2.map((l) => l.line)).toEqual(Array.from({ length: 1200 }, (_, i) => `long ${1 + i}`));
  });

  it("refuses a bad query with 400 invalid", async () => {
    for (const q of ["before=yesterday", "before=2026-12-03T18:50:00.000000000Z&follow=1", "lines=-1", "health=yes", `q=${"x".repeat(201)}`, "nope=1"]) {
      const r = await fetchEvents(`/apps/${id}/logs?${q}`);
      expect(r.status, q).toBe(400);
      expect(JSON.parse(r.body).error.code).toBe("invalid");
    }
  });

  it("uninstall keeps the history with the data; purge deletes it", async () => {
    appPrints(id, "last words");
    await service.uninstall(id, ctx());
    const dir = dataPaths(tmp).appLogs(id);
    const { LogHistory } = await import("../../apps/box/src/apps/log-history");
    const kept = await new LogHistory(dir).read();
    expect(kept.map((l) => l.text)).toContain("last words");
    expect(kept.map((l) => l.text)).toContain(secret);
    await db.uninstalledApp.update({ where: { id }, data: { state: "purging" } });
    await service.purge(id, ctx());
    expect(existsSync(dir)).toBe(false);
  });
});
