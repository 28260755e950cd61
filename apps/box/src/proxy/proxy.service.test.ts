import { mkdtempSync, rmSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync, lstatSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isHearthError } from "@hearth/contracts";
import { NginxError, type NginxAdapter } from "./nginx";
import { APP_UNAVAILABLE_HTML, ProxyService } from "./proxy.service";
import type { AppVhost, Vhost } from "./vhost";

/** A fake nginx: records what the sites directory held at each reload, fails on demand. */
class FakeNginx implements NginxAdapter {
  reloads = 0;
  fail: NginxError | null = null;
  seen: string[][] = [];
  constructor(private readonly sitesDir: string) {}
  async checkAndReload(): Promise<void> {
    this.seen.push(readdirSync(this.sitesDir).sort());
    if (this.fail) throw this.fail;
    this.reloads++;
  }
}

/** The generation mechanics, seen with the per-vhost layout (a file per app; the default, flat, has one file for all). */
function setup() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "hearth-proxy-"));
  const nginx = new FakeNginx(path.join(dataDir, "nginx", "sites"));
  const svc = new ProxyService({ dataDir, nginx, ipv6: false, layout: "per-vhost" });
  return { dataDir, nginx, svc, sites: path.join(dataDir, "nginx", "sites") };
}

const app = (id: string, fqdn: string, port = 30000): AppVhost => ({
  type: "app",
  appId: id,
  fqdn,
  upstreamPort: port,
  certPath: "/c/example.com.crt",
  keyPath: "/c/example.com.key",
});

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir)) out[f] = readFileSync(path.join(dir, f), "utf8");
  return out;
}

describe("ProxyService.apply (layout per-vhost)", () => {
  it("writes only what changed: an unchanged file is the previous generation's (same inode), a changed one is new", async () => {
    const { svc, sites } = setup();
    await svc.apply([app("a", "a.example.com"), app("b", "b.example.com"), app("c", "c.example.com")]);
    const ino = (f: string) => statSync(path.join(sites, f)).ino;
    const before = { a: ino("app-a.conf"), b: ino("app-b.conf") };
    const gen = readlinkSync(sites);
    const r = await svc.apply([app("a", "a.example.com"), app("b", "b.example.com", 30001)]);
    expect(r).toMatchObject({ changed: true, added: [], updated: ["app-b.conf"], removed: ["app-c.conf"] });
    expect(readlinkSync(sites)).not.toBe(gen);
    expect(ino("app-a.conf")).toBe(before.a);
    expect(ino("app-b.conf")).not.toBe(before.b);
    expect(readFileSync(path.join(sites, "app-b.conf"), "utf8")).toContain("proxy_pass http://127.0.0.1:30001;");
    expect(readdirSync(sites).sort()).toEqual(["app-a.conf", "app-b.conf"]);
    // a new service (box restarted) reads the generation from disk and goes on the same way
    const again = new ProxyService({ dataDir: path.dirname(path.dirname(sites)), nginx: { checkAndReload: async () => {} }, ipv6: false, layout: "per-vhost" });
    const r2 = await again.apply([app("a", "a.example.com"), app("b", "b.example.com", 30001), app("d", "d.example.com")]);
    expect(r2).toMatchObject({ changed: true, added: ["app-d.conf"], updated: [], removed: [] });
    expect(ino("app-a.conf")).toBe(before.a);
  });

  it("writes one file per vhost into a symlinked generation and reloads", async () => {
    const { svc, nginx, sites, dataDir } = setup();
    const r = await svc.apply([app("a", "a.example.com"), app("b", "b.example.com")]);
    expect(r).toMatchObject({ changed: true, reloaded: true, added: ["app-a.conf", "app-b.conf"] });
    // how long nginx took (an adapter that reports nothing gets the time of its call)
    expect(r.nginx?.totalMs).toBeGreaterThanOrEqual(0);
    expect(lstatSync(sites).isSymbolicLink()).toBe(true);
    expect(readdirSync(sites).sort()).toEqual(["app-a.conf", "app-b.conf"]);
    expect(nginx.reloads).toBe(1);
    expect(nginx.seen[0]).toEqual(["app-a.conf", "app-b.conf"]);
    expect(readFileSync(path.join(sites, "app-a.conf"), "utf8")).toContain("server_name a.example.com;");
    expect(statSync(path.join(sites, "app-a.conf")).mode & 0o777).toBe(0o644);
    expect(readFileSync(path.join(dataDir, "public/pages/app-unavailable.html"), "utf8")).toBe(APP_UNAVAILABLE_HTML);
    expect(statSync(path.join(dataDir, "public/acme-challenges")).mode & 0o777).toBe(0o755);
    expect(svc.includeLine).toBe(`include ${dataDir}/nginx/sites/*.conf;`);
  });

  it("is idempotent: the same set again writes and reloads nothing", async () => {
    const { svc, nginx, sites } = setup();
    const set = [app("a", "a.example.com")];
    await svc.apply(set);
    const target = readlinkSync(sites);
    const r = await svc.apply(set);
    expect(r).toEqual({ changed: false, reloaded: false, added: [], updated: [], removed: [] });
    expect(r).not.toHaveProperty("nginx");
    expect(readlinkSync(sites)).toBe(target);
    expect(nginx.reloads).toBe(1);
  });

  it("removes the file of a vhost no longer in the set, updates changed ones, and drops old generations", async () => {
    const { svc, sites, dataDir } = setup();
    await svc.apply([app("a", "a.example.com"), app("b", "b.example.com")]);
    const r = await svc.apply([app("a", "a.example.com", 30005)]);
    expect(r).toMatchObject({ changed: true, removed: ["app-b.conf"], updated: ["app-a.conf"], added: [] });
    expect(readdirSync(sites)).toEqual(["app-a.conf"]);
    expect(readFileSync(path.join(sites, "app-a.conf"), "utf8")).toContain("127.0.0.1:30005");
    expect(readdirSync(path.join(dataDir, "nginx")).filter((n) => n.startsWith("sites-"))).toHaveLength(1);
  });

  it("a rejected set restores the previous one exactly and throws external with nginx's message", async () => {
    const { svc, nginx, sites } = setup();
    await svc.apply([app("a", "a.example.com")]);
    const before = snapshot(sites);
    const target = readlinkSync(sites);
    nginx.fail = new NginxError("check", 'nginx: [emerg] unknown directive "bogus" in x.conf:3');
    const err = await svc.apply([app("a", "a.example.com", 31000), app("c", "c.example.com")]).catch((e: unknown) => e);
    expect(isHearthError(err)).toBe(true);
    expect((err as { code: string }).code).toBe("external");
    expect((err as Error).message).toContain('unknown directive "bogus"');
    expect((err as { details: { reason: string } }).details.reason).toBe("nginx_config_invalid");
    // nginx was shown the new set, then it was taken back
    expect(nginx.seen.at(-1)).toEqual(["app-a.conf", "app-c.conf"]);
    expect(readlinkSync(sites)).toBe(target);
    expect(snapshot(sites)).toEqual(before);
    expect(nginx.reloads).toBe(1);

    // once nginx is happy again the same set goes through
    nginx.fail = null;
    expect((await svc.apply([app("a", "a.example.com", 31000), app("c", "c.example.com")])).changed).toBe(true);
  });

  it("reloads an unchanged set that was never loaded (box died between swap and reload)", async () => {
    const { svc, nginx, dataDir } = setup();
    await svc.apply([app("a", "a.example.com")]);
    writeFileSync(path.join(dataDir, "nginx", "loaded"), "sites-0-00000000\n");
    const r = await svc.apply([app("a", "a.example.com")]);
    expect(r).toMatchObject({ changed: false, reloaded: true });
    expect(nginx.reloads).toBe(2);
    expect((await svc.apply([app("a", "a.example.com")])).reloaded).toBe(false);
  });

  it("never touches files it did not write", async () => {
    const { svc, sites, dataDir } = setup();
    await svc.apply([app("a", "a.example.com")]);
    writeFileSync(path.join(sites, "custom.conf"), "# mine\n");
    writeFileSync(path.join(sites, "notes.txt"), "hello\n");
    await svc.apply([]);
    expect(readdirSync(sites).sort()).toEqual(["custom.conf", "notes.txt"]);
    expect(readFileSync(path.join(sites, "custom.conf"), "utf8")).toBe("# mine\n");
    // and outside its own directory nothing is written
    expect(readdirSync(path.join(dataDir, "nginx")).sort()).toEqual(expect.arrayContaining(["loaded", "sites"]));
  });

  it("adopts a plain sites directory as the first generation", async () => {
    const { svc, sites, nginx } = setup();
    mkdirSync(sites, { recursive: true });
    writeFileSync(path.join(sites, "app-old.conf"), "# old\n");
    const r = await svc.apply([app("a", "a.example.com")]);
    expect(r.removed).toEqual(["app-old.conf"]);
    expect(lstatSync(sites).isSymbolicLink()).toBe(true);
    expect(readdirSync(sites)).toEqual(["app-a.conf"]);
    expect(nginx.reloads).toBe(1);
  });

  it("recovers from a sites symlink whose generation is gone", async () => {
    const { svc, sites, dataDir, nginx } = setup();
    await svc.apply([app("a", "a.example.com")]);
    rmSync(path.join(dataDir, "nginx", readlinkSync(sites)), { recursive: true });
    const r = await svc.apply([app("a", "a.example.com")]);
    expect(r).toMatchObject({ changed: true, added: ["app-a.conf"] });
    expect(readdirSync(sites)).toEqual(["app-a.conf"]);
    expect(nginx.reloads).toBe(2);
  });

  it("refuses invalid data before touching anything", async () => {
    const { svc, nginx, sites } = setup();
    await svc.apply([app("a", "a.example.com")]);
    const before = snapshot(sites);
    const bad: Vhost = app("b", "b.example.com; include /etc/shadow");
    await expect(svc.apply([app("a", "a.example.com"), bad])).rejects.toMatchObject({ code: "invalid" });
    expect(snapshot(sites)).toEqual(before);
    expect(nginx.seen).toHaveLength(1);
  });

  it("runs concurrent applies one at a time", async () => {
    const { svc, sites } = setup();
    const results = await Promise.all([svc.apply([app("a", "a.example.com")]), svc.apply([app("b", "b.example.com")]), svc.apply([app("b", "b.example.com")])]);
    expect(results.map((r) => r.changed)).toEqual([true, true, false]);
    expect(readdirSync(sites)).toEqual(["app-b.conf"]);
  });
});

describe("ProxyService.apply with the flat layout (the default)", () => {
  it("is the default layout", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "hearth-proxy-flat-"));
    const svc = new ProxyService({ dataDir, nginx: new FakeNginx(path.join(dataDir, "nginx", "sites")), ipv6: false });
    expect((await svc.apply([app("a", "a.example.com")])).added).toEqual(["hearth-apps.conf"]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("an install with per-vhost files moves to the flat layout at its first apply, and back, with nothing done by hand", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "hearth-proxy-flat-"));
    const sites = path.join(dataDir, "nginx", "sites");
    const dashboard: Vhost = { type: "dashboard", fqdn: "my.example.com", certPath: "/c/example.com.crt", keyPath: "/c/example.com.key" };
    const redirect: Vhost = { type: "redirect", fqdn: "www.example.com", target: "https://a.example.com", certPath: "/c/example.com.crt", keyPath: "/c/example.com.key" };
    const set = [dashboard, app("a", "a.example.com", 30001), app("b", "b.example.com", 30002), redirect];
    const old = new ProxyService({ dataDir, nginx: new FakeNginx(sites), ipv6: false, layout: "per-vhost" });
    await old.apply(set);
    expect(readdirSync(sites).sort()).toEqual(["app-a.conf", "app-b.conf", "dashboard-my.example.com.conf", "redirect-www.example.com.conf"]);
    const dashIno = statSync(path.join(sites, "dashboard-my.example.com.conf")).ino;
    // box restarted after the update: same data, the default layout
    const nginx = new FakeNginx(sites);
    const r = await new ProxyService({ dataDir, nginx, ipv6: false }).apply(set);
    expect(r).toMatchObject({ changed: true, reloaded: true, added: ["hearth-apps.conf"], updated: [], removed: ["app-a.conf", "app-b.conf", "redirect-www.example.com.conf"] });
    expect(nginx.seen).toEqual([["dashboard-my.example.com.conf", "hearth-apps.conf"]]);
    expect(readdirSync(sites).sort()).toEqual(["dashboard-my.example.com.conf", "hearth-apps.conf"]);
    expect(statSync(path.join(sites, "dashboard-my.example.com.conf")).ino).toBe(dashIno);
    const text = readFileSync(path.join(sites, "hearth-apps.conf"), "utf8");
    for (const line of ["    a.example.com 30001;", "    b.example.com 30002;", "    www.example.com https://a.example.com;"]) expect(text).toContain(line);
    // HEARTH_NGINX_LAYOUT=vhost puts the files per app back the same way
    const back = await new ProxyService({ dataDir, nginx: new FakeNginx(sites), ipv6: false, layout: "per-vhost" }).apply(set);
    expect(back).toMatchObject({ changed: true, removed: ["hearth-apps.conf"], added: ["app-a.conf", "app-b.conf", "redirect-www.example.com.conf"] });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("renders every app into hearth-apps.conf: adding or removing an app updates that one file, the dashboard keeps its own", async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "hearth-proxy-flat-"));
    const sites = path.join(dataDir, "nginx", "sites");
    const nginx = new FakeNginx(sites);
    const svc = new ProxyService({ dataDir, nginx, ipv6: false });
    const dashboard: Vhost = { type: "dashboard", fqdn: "my.example.com", certPath: "/c/example.com.crt", keyPath: "/c/example.com.key" };
    const r = await svc.apply([dashboard, app("a", "a.example.com", 30001), app("b", "b.example.com", 30002)]);
    expect(r).toMatchObject({ changed: true, reloaded: true, added: ["dashboard-my.example.com.conf", "hearth-apps.conf"] });
    const dashIno = statSync(path.join(sites, "dashboard-my.example.com.conf")).ino;
    const r2 = await svc.apply([dashboard, app("a", "a.example.com", 30001), app("b", "b.example.com", 30002), app("c", "c.example.com", 30003)]);
    expect(r2).toMatchObject({ changed: true, added: [], updated: ["hearth-apps.conf"], removed: [] });
    expect(statSync(path.join(sites, "dashboard-my.example.com.conf")).ino).toBe(dashIno);
    const text = readFileSync(path.join(sites, "hearth-apps.conf"), "utf8");
    expect(text).toContain("    c.example.com 30003;");
    expect(text.match(/^server \{$/gm)).toHaveLength(2);
    const r3 = await svc.apply([dashboard]);
    expect(r3).toMatchObject({ changed: true, removed: ["hearth-apps.conf"] });
    expect(readdirSync(sites)).toEqual(["dashboard-my.example.com.conf"]);
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe("ProxyService: the apps' pages", () => {
  it("writes each app's page before nginx sees the set, rewrites it alone when only the state changes, removes it with the app", async () => {
    const { svc, nginx, dataDir } = setup();
    const pages = path.join(dataDir, "public/pages");
    const pageSeen: string[] = [];
    const check = nginx.checkAndReload.bind(nginx);
    nginx.checkAndReload = async () => {
      pageSeen.push(readFileSync(path.join(pages, "app-state-a.html"), "utf8"));
      return check();
    };
    await svc.apply([{ ...app("A", "a.example.com"), state: "stopped", title: "Alpha" }, app("b", "b.example.com")]);
    expect(pageSeen[0]).toContain("Alpha is stopped by the administrator");
    expect(readdirSync(pages).sort()).toEqual(["app-state-a.html", "app-state-b.html", "app-unavailable.html", "no-app.html"]);
    expect(readFileSync(path.join(pages, "app-state-b.html"), "utf8")).toContain("b.example.com is not responding");
    expect(statSync(path.join(pages, "app-state-a.html")).mode & 0o777).toBe(0o644);

    const r = await svc.apply([
      { ...app("A", "a.example.com"), state: "stopped", title: "Alpha" },
      { ...app("b", "b.example.com"), state: "crashed", title: "Beta" },
    ]);
    expect(r).toMatchObject({ changed: false, reloaded: false });
    expect(readFileSync(path.join(pages, "app-state-b.html"), "utf8")).toContain("Beta has crashed and is being restarted");

    await svc.apply([{ ...app("b", "b.example.com"), state: "crashed", title: "Beta" }]);
    expect(readdirSync(pages).sort()).toEqual(["app-state-b.html", "app-unavailable.html", "no-app.html"]);
    expect(nginx.reloads).toBe(2);
  });
});
