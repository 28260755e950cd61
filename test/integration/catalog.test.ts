import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hearthManifest } from "@hearth/contracts";
import { appLabels, containerNameOf, containerSpec, dataVolumeNameOf, networkNameOf } from "../../apps/box/src/apps/container-spec";
import { createDocker } from "../../apps/box/src/docker/docker";
import { BASE_IMAGE, listCatalogApps, type CatalogApp } from "../../packages/catalog/src/catalog";
import { REPO_ROOT } from "../helpers/db";

/**
 * The Debian base image and the built-in catalog on a real Docker engine: build the base
 * (setup/images/base/build.sh) and each app's image (packages/catalog/build.sh), run each
 * container exactly as box runs apps: the spec comes from box's own containerSpec()
 * (apps/box/src/apps/container-spec.ts: read-only root, tmpfs /run and /tmp, the app's data
 * volume at /app/data, no-new-privileges, the capability list, memory and pids limits,
 * docker-init, its own network) and is created through box's Docker adapter, so a change
 * there that breaks a catalog app fails here. Wait for its health check and check what the
 * app is for. Containers, networks, volumes and app images made here are removed
 * afterwards; localhost/hearth/base:bookworm is kept.
 */

const RUN = randomBytes(3).toString("hex");
const BASE_BUILD = path.join(REPO_ROOT, "setup/images/base/build.sh");
const CATALOG_BUILD = path.join(REPO_ROOT, "packages/catalog/build.sh");

/** The owner label of what this file creates: no box's reconciler takes these for its own. */
const OWNER = `catalog-test-${RUN}`;
const DOMAIN = "catalog-test.example";
const engine = createDocker();

const made = { containers: new Set<string>(), networks: new Set<string>(), volumes: new Set<string>(), images: new Set<string>() };
const buildTimes: Record<string, number> = {};

function docker(...args: string[]): string {
  return execFileSync("docker", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 })
    .toString()
    .trim();
}
function dockerOk(...args: string[]): boolean {
  return spawnSync("docker", args, { stdio: "ignore", timeout: 60_000 }).status === 0;
}
/** Runs a build script, returns its output and how long it took (s); throws with the output when it fails. */
function runScript(script: string, args: string[] = []): { out: string; seconds: number } {
  const t = Date.now();
  const r = spawnSync(script, args, { encoding: "utf8", timeout: 900_000, env: { ...process.env, PATH: `/opt/hearth/runtime/bin:${process.env.PATH}` } });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  if (r.status !== 0) throw new Error(`${script} ${args.join(" ")} failed (${r.status ?? r.signal}):\n${out}`);
  return { out, seconds: (Date.now() - t) / 1000 };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (a && typeof a === "object" ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

interface Running {
  appId: string;
  name: string;
  port: number;
  base: string;
}

/**
 * Creates and starts the app's container as box does: containerSpec() for an app row with
 * this manifest (no addons but the data volume), on its own network, through box's adapter.
 * `appId` of an earlier run reuses its data volume (as box recreates a container).
 */
async function start(app: CatalogApp, env: Record<string, string> = {}, appId?: string): Promise<Running> {
  const m = hearthManifest.parse(app.manifest);
  const id = appId ?? randomUUID();
  const labels = appLabels(id, OWNER);
  if (!(await engine.inspectVolume(dataVolumeNameOf(id)))) {
    await engine.createVolume(dataVolumeNameOf(id), labels);
    made.volumes.add(dataVolumeNameOf(id));
  }
  if (!(await engine.inspectNetwork(networkNameOf(id)))) {
    await engine.createNetwork(networkNameOf(id), labels);
    made.networks.add(networkNameOf(id));
  }
  const port = await freePort();
  const spec = containerSpec({
    app: { id, manifestId: m.id, version: m.version, subdomain: `${app.slug}-${RUN}`, domain: DOMAIN, memoryLimit: m.memoryLimit, env, httpHostPort: port },
    manifest: m,
    ports: [],
    image: m.dockerImage,
    owner: OWNER,
  });
  const name = containerNameOf(id);
  made.containers.add(name);
  await engine.createContainer(spec);
  await engine.startContainer(name);
  const r = { appId: id, name, port, base: `http://127.0.0.1:${port}` };
  await waitHealthy(app, r);
  return r;
}

async function waitHealthy(app: CatalogApp, r: Running, timeoutMs = 60_000): Promise<void> {
  const url = r.base + String(app.manifest.healthCheckPath);
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    try {
      const res = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(5000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = String(e);
    }
    if (docker("inspect", "-f", "{{.State.Running}}", r.name) !== "true") break;
    await sleep(250);
  }
  throw new Error(`${app.slug}: ${url} never answered 200 (${last}); logs:\n${logs(r)}`);
}

function logs(r: Running): string {
  const out = spawnSync("docker", ["logs", "--tail", "60", r.name], { encoding: "utf8" });
  return `${out.stdout}${out.stderr}`;
}

async function remove(r: Running): Promise<void> {
  await engine.removeContainer(r.name);
  made.containers.delete(r.name);
}

const apps = listCatalogApps();
const app = (slug: string): CatalogApp => {
  const a = apps.find((x) => x.slug === slug);
  if (!a) throw new Error(`no catalog app ${slug}`);
  return a;
};

const TESTED = ["static-site", "dokuwiki", "radicale"];
/** Addons this file can give an app: none but the /app/data volume. */
const STANDALONE_ADDONS = ["localstorage"];
const ownFile = (slug: string) => path.join(REPO_ROOT, "test/integration", `catalog-${slug}.test.ts`);

beforeAll(() => {
  // an image made by this test is removed afterwards; one that was here already is kept
  // (only the apps this file builds: apps that need service addons have a file of their own)
  for (const a of apps.filter((x) => TESTED.includes(x.slug))) {
    const image = String(a.manifest.dockerImage);
    if (!dockerOk("image", "inspect", image)) made.images.add(image);
  }
});

afterAll(() => {
  for (const c of made.containers) dockerOk("rm", "-f", c);
  for (const n of made.networks) dockerOk("network", "rm", n);
  for (const v of made.volumes) dockerOk("volume", "rm", "-f", v);
  for (const i of made.images) dockerOk("image", "rm", "-f", i);
  dockerOk("image", "prune", "-f", "--filter", "label=hearth.catalog.id");
  console.log(`catalog image build times (s): ${JSON.stringify(buildTimes)}`);
});

describe("the base image", () => {
  it("builds localhost/hearth/base:bookworm from Debian's archive (or finds it up to date)", () => {
    const r = runScript(BASE_BUILD);
    buildTimes.base = r.seconds;
    console.log(`base: ${r.out.trim()} (${r.seconds.toFixed(1)}s)`);
    expect(r.out).toMatch(/hearth\/base:bookworm/);
    const labels = JSON.parse(docker("image", "inspect", "-f", "{{json .Config.Labels}}", BASE_IMAGE)) as Record<string, string>;
    expect(labels["hearth.recipe"]).toMatch(/^[0-9a-f]{16}$/);
  }, 600_000);

  it("skips the build the second time, fast", () => {
    const before = docker("image", "inspect", "-f", "{{.Id}}", BASE_IMAGE);
    const r = runScript(BASE_BUILD);
    expect(r.out).toMatch(/up to date/);
    expect(r.seconds).toBeLessThan(10);
    expect(docker("image", "inspect", "-f", "{{.Id}}", BASE_IMAGE)).toBe(before);
  });

  it("has CA certificates and an apt that points at the machine's mirror", () => {
    const out = docker("run", "--rm", BASE_IMAGE, "sh", "-c", "cat /etc/apt/sources.list; ls /etc/ssl/certs/ca-certificates.crt; apt-get --version | head -1");
    expect(out).toMatch(/^deb https?:\/\/\S+ bookworm main$/m);
    expect(out).toMatch(/ca-certificates\.crt/);
    expect(out).toMatch(/^apt 2\./m);
  });
});

describe("which file checks which catalog app", () => {
  // this file runs images with no addons; an app that needs a database, Redis or mail is
  // installed by AppService with the real addons (and so the same hardening) in its own file
  it.each(apps.map((a) => a.slug))("%s is checked here or in test/integration/catalog-<slug>.test.ts", (slug) => {
    const addons = Object.keys((app(slug).manifest.addons ?? {}) as Record<string, unknown>);
    const needsServices = addons.some((n) => !STANDALONE_ADDONS.includes(n));
    if (TESTED.includes(slug)) expect(needsServices, `${slug} needs ${addons.join(", ")}: not runnable here`).toBe(false);
    else expect(existsSync(ownFile(slug)), `${slug} (addons ${addons.join(", ")}) is tested nowhere: add it to TESTED or write ${ownFile(slug)}`).toBe(true);
  });
});

describe.each(TESTED)("catalog app %s", (slug) => {
  it("builds its image on the base", () => {
    const r = runScript(CATALOG_BUILD, [slug]);
    buildTimes[slug] = r.seconds;
    console.log(`${slug}: ${r.out.trim().split("\n").pop()} (${r.seconds.toFixed(1)}s)`);
    const image = String(app(slug).manifest.dockerImage);
    const labels = JSON.parse(docker("image", "inspect", "-f", "{{json .Config.Labels}}", image)) as Record<string, string>;
    expect(labels["hearth.catalog.id"]).toBe(app(slug).manifest.id);
  }, 600_000);
});

describe("static site", () => {
  const a = app("static-site");
  let r: Running;
  afterAll(async () => {
    if (r) await remove(r);
  });

  it("answers its health check under Hearth's hardening and serves the default page", async () => {
    r = await start(a);
    const res = await fetch(`${r.base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/html/);
    expect(await res.text()).toMatch(/Your static site is running/);
    expect((await fetch(`${r.base}/missing-page`)).status).toBe(404);
    expect((await fetch(`${r.base}/.hidden`)).status).toBe(403);
    // the access log reaches the container's log (what Hearth's live logs show); lighttpd
    // flushes it every few seconds
    const until = Date.now() + 20_000;
    while (Date.now() < until && !/"GET \/missing-page HTTP\/1.1" 404/.test(logs(r))) await sleep(250);
    expect(logs(r)).toMatch(/"GET \/missing-page HTTP\/1.1" 404/);
  }, 120_000);

  it("serves what the admin puts in /app/data/public, and the web server does not run as root", async () => {
    docker("exec", r.name, "sh", "-c", "echo '<h1>my own site</h1>' > /app/data/public/index.html");
    expect(await (await fetch(`${r.base}/`)).text()).toMatch(/my own site/);
    // box's spec runs docker-init as PID 1; lighttpd is its child (exec'd by the start
    // script, so the only other process) and switched to www-data (uid 33)
    expect(docker("exec", r.name, "cat", "/proc/1/comm")).toBe("docker-init");
    const lighttpd = docker("exec", r.name, "sh", "-c", "grep -lx lighttpd /proc/[0-9]*/comm");
    expect(lighttpd.split("\n")).toHaveLength(1);
    expect(docker("exec", r.name, "grep", "^PPid:", lighttpd.replace(/comm$/, "status"))).toMatch(/^PPid:\s+1$/);
    expect(docker("exec", r.name, "grep", "^Uid:", lighttpd.replace(/comm$/, "status"))).toMatch(/^Uid:\s+33\s+33\s+33\s+33$/);
  });
});

describe("DokuWiki", () => {
  const a = app("dokuwiki");
  const password = `pw-${RUN}`;
  let r: Running;
  afterAll(async () => {
    if (r) await remove(r);
  });

  /** A tiny cookie jar over fetch. */
  const jar = new Map<string, string>();
  async function get(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair!.indexOf("=");
      const k = pair!.slice(0, i);
      const v = pair!.slice(i + 1);
      if (v === "deleted" || /expires=Thu, 01[- ]Jan[- ]1970/i.test(c)) jar.delete(k);
      else jar.set(k, v);
    }
    return res;
  }
  /** The hidden inputs of the form with the given id (or the first form) in an HTML page. */
  function formFields(html: string, formId: string): URLSearchParams {
    const form = new RegExp(`<form[^>]*id="${formId}"[\\s\\S]*?</form>`).exec(html)?.[0] ?? "";
    const fields = new URLSearchParams();
    for (const m of form.matchAll(/<input[^>]*>/g)) {
      const tag = m[0];
      if (!/type="hidden"/.test(tag)) continue;
      const name = /name="([^"]*)"/.exec(tag)?.[1];
      const value = /value="([^"]*)"/.exec(tag)?.[1] ?? "";
      if (name) fields.set(name, value.replace(/&quot;/g, '"').replace(/&amp;/g, "&"));
    }
    return fields;
  }

  it("renders its start page without a setup screen", async () => {
    r = await start(a, { DOKUWIKI_ADMIN_PASSWORD: password });
    const res = await get(`${r.base}/doku.php?id=start`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/<title>start \[DokuWiki\]<\/title>/);
    expect(html).not.toMatch(/install\.php/);
    expect(logs(r)).toMatch(/created the user 'admin' with the password from DOKUWIKI_ADMIN_PASSWORD/);
    // DokuWiki's internals are not served
    expect((await fetch(`${r.base}/inc/init.php`)).status).toBe(403);
    expect((await fetch(`${r.base}/install.php`)).status).toBe(403);
  }, 120_000);

  it("refuses anonymous edits, and a logged-in admin's edit saves a page that survives a restart", async () => {
    const page = `hearth:test${RUN}`;
    const text = `Hello from the Hearth catalog test ${RUN}`;
    // anonymous users may read, not edit
    expect(await (await get(`${r.base}/doku.php?id=${page}&do=edit`)).text()).not.toMatch(/name="wikitext"/);

    const login = await get(`${r.base}/doku.php`, {
      method: "POST",
      body: new URLSearchParams({ do: "login", id: "start", u: "admin", p: password }),
    });
    expect(login.status).toBe(302);
    const edit = await (await get(`${r.base}/doku.php?id=${page}&do=edit`)).text();
    expect(edit).toMatch(/name="wikitext"/);
    const fields = formFields(edit, "dw__editform");
    expect(fields.get("sectok")).toMatch(/^[0-9a-f]{32}$/);
    fields.set("wikitext", text);
    fields.set("summary", "test edit");
    fields.set("do[save]", "1");
    fields.delete("changecheck");
    const save = await get(`${r.base}/doku.php`, { method: "POST", body: fields });
    expect(save.status).toBe(302);
    expect(await (await fetch(`${r.base}/doku.php?id=${page}`)).text()).toContain(text);

    // a new container on the same volume (as Hearth recreates it) still has the page and the user
    const appId = r.appId;
    await remove(r);
    r = await start(a, {}, appId);
    expect(await (await fetch(`${r.base}/doku.php?id=${page}`)).text()).toContain(text);
    expect(logs(r)).not.toMatch(/first start/);
    jar.clear();
    const again = await get(`${r.base}/doku.php`, {
      method: "POST",
      body: new URLSearchParams({ do: "login", id: "start", u: "admin", p: password }),
    });
    expect(again.status).toBe(302);
    expect(await (await get(`${r.base}/doku.php?id=${page}&do=edit`)).text()).toMatch(/name="wikitext"/);
  }, 120_000);

  it("prints a random admin password on a first start without DOKUWIKI_ADMIN_PASSWORD", async () => {
    const other = await start(a, {}, undefined);
    try {
      expect(logs(other)).toMatch(/log in as 'admin' with the password: \S{12,}/);
    } finally {
      await remove(other);
    }
  }, 120_000);
});

describe("Radicale", () => {
  const a = app("radicale");
  const password = `pw-${RUN}`;
  let r: Running;
  afterAll(async () => {
    if (r) await remove(r);
  });
  const auth = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString("base64")}` });

  it("serves its web UI and requires a login for CalDAV", async () => {
    r = await start(a, { RADICALE_ADMIN_PASSWORD: password });
    const web = await fetch(`${r.base}/.web/`);
    expect(web.status).toBe(200);
    expect(await web.text()).toMatch(/Radicale/);
    const anon = await fetch(`${r.base}/admin/`, { method: "PROPFIND", headers: { depth: "0" } });
    expect(anon.status).toBe(401);
    const wrong = await fetch(`${r.base}/admin/`, { method: "PROPFIND", headers: { depth: "0", ...auth("admin", "nope") } });
    expect(wrong.status).toBe(401);
  }, 120_000);

  it("creates a calendar and an event that survive a restart, and adds users", async () => {
    const h = auth("admin", password);
    const mk = await fetch(`${r.base}/admin/work/`, {
      method: "MKCOL",
      headers: { ...h, "content-type": "application/xml" },
      body: `<?xml version="1.0"?><D:mkcol xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>
        <D:resourcetype><D:collection/><C:calendar/></D:resourcetype><D:displayname>Work</D:displayname></D:prop></D:set></D:mkcol>`,
    });
    expect(mk.status).toBe(201);
    const ics = [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//Hearth//test//EN",
      "BEGIN:VEVENT",
      `UID:hearth-${RUN}`,
      "DTSTAMP:20260101T000000Z",
      "DTSTART:20260102T100000Z",
      "DTEND:20260102T110000Z",
      "SUMMARY:Hearth test event",
      "END:VEVENT",
      "END:VCALENDAR",
      "",
    ].join("\r\n");
    const put = await fetch(`${r.base}/admin/work/event.ics`, { method: "PUT", headers: { ...h, "content-type": "text/calendar" }, body: ics });
    expect(put.status).toBe(201);

    const appId = r.appId;
    await remove(r);
    r = await start(a, {}, appId);
    const ev = await fetch(`${r.base}/admin/work/event.ics`, { headers: h });
    expect(ev.status).toBe(200);
    expect(await ev.text()).toMatch(/SUMMARY:Hearth test event/);
    const list = await fetch(`${r.base}/admin/`, { method: "PROPFIND", headers: { ...h, depth: "1" } });
    expect(list.status).toBe(207);
    expect(await list.text()).toMatch(/Work/);

    // the admin adds a user in the app's terminal; users see only their own collections
    docker("exec", r.name, "hearth-radicale-user", "alice", "alice-pw");
    const alice = auth("alice", "alice-pw");
    expect((await fetch(`${r.base}/alice/`, { method: "PROPFIND", headers: { ...alice, depth: "0" } })).status).toBe(207);
    expect((await fetch(`${r.base}/admin/work/event.ics`, { headers: alice })).status).toBe(403);
  }, 120_000);
});
