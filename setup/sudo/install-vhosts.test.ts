import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureFallbackCert } from "../../apps/box/src/proxy/fallback-cert";
import { helperPayload, type HelperPayload } from "../../apps/box/src/proxy/nginx";
import { renderFlatVhosts, renderVhosts, type Vhost } from "../../apps/box/src/proxy/vhost";
import { type CurrentSet, masterErrors, parse, Refusal, Stale, tokenize, validateDelta, validatePayload, validateSite } from "./install-vhosts.mjs";

const ROOT = "/etc/nginx/hearth";
const PUBLIC = "/var/lib/hearth-public";
const opts = { root: ROOT, publicDir: PUBLIC };

let payload: HelperPayload;

beforeAll(async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-iv-"));
  const a = await ensureFallbackCert(dir, "example.com");
  const b = await ensureFallbackCert(dir, "example.org");
  const tls = (c: typeof a) => ({ certPath: c.certPath, keyPath: c.keyPath, version: "v1" });
  const vhosts: Vhost[] = [
    { type: "dashboard", fqdn: "my.example.com", ...tls(a) },
    { type: "default-redirect", target: "https://my.example.com" },
    { type: "app", appId: "Abc123", fqdn: "wiki.example.com", upstreamPort: 40123, ...tls(a) },
    { type: "app", appId: "Abc123", fileKey: "wiki.example.org", fqdn: "wiki.example.org", upstreamPort: 40123, xFrameOptions: "", ...tls(b) },
    { type: "redirect", fqdn: "old.example.org", target: "https://wiki.example.com/sub", ...tls(b) },
  ];
  const files = renderVhosts(vhosts, { httpPort: 80, httpsPort: 443, ipv6: true, acmeChallengeDir: `${PUBLIC}/acme-challenges`, errorPagesDir: `${PUBLIC}/pages` });
  payload = await helperPayload(files, ROOT);
});

/** The payload with one file's text changed. */
function withSite(file: string, edit: (text: string) => string): HelperPayload {
  const base = payload.sites[file] ?? "";
  return { ...payload, sites: { ...payload.sites, [file]: edit(base) } };
}

function refusal(p: unknown): string {
  try {
    validatePayload(p, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(Refusal);
    return (e as Error).message;
  }
  throw new Error("not refused");
}

const APP = "app-abc123.conf";
const insertInServer = (line: string) => (t: string) => t.replace("    server_tokens off;\n\n    # certificate", `    server_tokens off;\n${line}\n\n    # certificate`);
const insertInLocation = (line: string) => (t: string) => t.replace("        proxy_http_version 1.1;", `        proxy_http_version 1.1;\n${line}`);

describe("install-vhosts.mjs: what box renders is accepted", () => {
  it("accepts every kind of vhost vhost.ts renders, with the certificates moved to root's folder", () => {
    const set = validatePayload(payload, opts);
    expect([...set.sites.keys()].sort()).toEqual(["app-abc123--wiki.example.org.conf", APP, "dashboard-my.example.com.conf", "default-redirect.inc", "redirect-old.example.org.conf"]);
    expect(set.certs.size).toBe(2);
    for (const text of set.sites.values()) expect(text).not.toContain("/tmp/");
    expect(payload.sites[APP]).toMatch(/ssl_certificate \/etc\/nginx\/hearth\/live\/certs\/c-[0-9a-f]{32}\.crt;/);
  });

  it("tokenizes quotes, comments and blocks like nginx", () => {
    expect(tokenize("a \"b c\" 'd'; # x\n{ }").map((t) => `${t.type}:${t.value}`)).toEqual(["word:a", "string:b c", "string:d", ";:;", "{:{", "}:}"]);
    expect(parse("server { listen 80; }")[0]).toMatchObject({ name: "server", block: [{ name: "listen", args: [{ value: "80" }] }] });
  });
});

describe("install-vhosts.mjs refuses what Hearth never renders, with a clear message", () => {
  it("file names outside the vhost pattern", () => {
    expect(refusal({ sites: { "zz.conf": "server { listen 80; }" } })).toMatch(/"zz.conf" is not a vhost file name/);
    expect(refusal({ sites: { "../../etc/cron.d/x.conf": "" } })).toMatch(/is not a vhost file name/);
    expect(refusal({ sites: { "app-x.conf.bak": "" } })).toMatch(/is not a vhost file name/);
  });

  it("access_log / error_log outside /var/log/nginx/", () => {
    expect(refusal(withSite(APP, insertInServer("    access_log /root/x.log;")))).toMatch(/app-abc123.conf:\d+: "access_log" may only write a file directly in \/var\/log\/nginx\//);
    expect(refusal(withSite(APP, insertInServer("    error_log /var/log/nginx/../../../root/x.log;")))).toMatch(/error_log/);
    expect(refusal(withSite(APP, insertInServer("    access_log /var/log/nginx/a.log combined;")))).toMatch(/access_log/);
    // inside /var/log/nginx/ is fine
    expect(() => validatePayload(withSite(APP, insertInServer("    access_log /var/log/nginx/app.log;")), opts)).not.toThrow();
  });

  it("include, load_module, lua, log_format, root and top-level directives", () => {
    expect(refusal(withSite(APP, insertInServer("    include /etc/shadow;")))).toMatch(/directive "include" is not allowed in a server/);
    expect(refusal(withSite(APP, (t) => `load_module /tmp/x.so;\n${t}`))).toMatch(/directive "load_module" is not allowed at the top/);
    expect(refusal(withSite(APP, insertInLocation("        content_by_lua_file /tmp/x.lua;")))).toMatch(/"content_by_lua_file" is not allowed in a location/);
    expect(refusal(withSite(APP, insertInLocation("        access_by_lua_block { os.execute('id') }")))).toMatch(/expected a directive name/);
    expect(refusal(withSite(APP, (t) => `log_format x '$x';\n${t}`))).toMatch(/"log_format" is not allowed/);
    expect(refusal(withSite(APP, insertInServer("    root /root;")))).toMatch(/directive "root" is not allowed/);
  });

  it("alias, proxy_pass and ssl paths outside Hearth's own", () => {
    expect(refusal(withSite(APP, (t) => t.replace(`alias ${PUBLIC}/acme-challenges/;`, "alias /etc/;")))).toMatch(
      /"alias \/etc\/" is not allowed here \(only \/var\/lib\/hearth-public\/acme-challenges\/\)/,
    );
    expect(refusal(withSite(APP, (t) => t.replace(/proxy_pass [^;]+;/, "proxy_pass http://169.254.169.254;")))).toMatch(/proxy_pass may only go to http:\/\/127.0.0.1:<port>/);
    expect(refusal(withSite(APP, (t) => t.replace(/proxy_pass [^;]+;/, "proxy_pass http://unix:/var/run/docker.sock;")))).toMatch(/proxy_pass may only go/);
    expect(refusal(withSite(APP, (t) => t.replace(/ssl_certificate \S+;/, "ssl_certificate /var/lib/hearth/certs/x.crt;")))).toMatch(
      /"ssl_certificate" must be \/etc\/nginx\/hearth\/live\/certs\/<name>.crt/,
    );
    expect(refusal(withSite(APP, (t) => t.replace(/(ssl_certificate \S+\/)c-[0-9a-f]+\.crt;/, "$1c-nothere.crt;")))).toMatch(/not in the set handed over/);
  });

  it("the proxy secret header anywhere but a dashboard vhost", () => {
    expect(payload.sites["dashboard-my.example.com.conf"]).toContain("proxy_set_header X-Hearth-Proxy-Secret $hearth_proxy_secret;");
    expect(refusal(withSite(APP, insertInLocation("        proxy_set_header X-Hearth-Proxy-Secret $hearth_proxy_secret;")))).toMatch(
      /"proxy_set_header X-Hearth-Proxy-Secret \$hearth_proxy_secret" is not one Hearth renders/,
    );
  });

  it("the proxy secret to anything but admin's port, even from a dashboard vhost (box names the files)", () => {
    const DASH = "dashboard-my.example.com.conf";
    const elsewhere = { ...payload, sites: { ...payload.sites, [DASH]: payload.sites[DASH]!.replace(/proxy_pass http:\/\/127\.0\.0\.1:3000;/, "proxy_pass http://127.0.0.1:9999;") } };
    expect(elsewhere.sites[DASH]).toContain("proxy_pass http://127.0.0.1:9999;");
    expect(() => validatePayload(elsewhere, opts)).toThrow(/X-Hearth-Proxy-Secret may only be sent to admin \(proxy_pass http:\/\/127\.0\.0\.1:3000\)/);
    // and a test's admin on another port, named in root's install-vhosts.conf
    expect(() => validatePayload(elsewhere, { ...opts, adminPort: 9999 })).not.toThrow();
  });

  it("backslash escapes and control characters in strings (nginx reads \\r\\n as CR LF: a split response)", () => {
    expect(refusal(withSite(APP, insertInServer('    add_header X-Frame-Options "DENY\\r\\nX-Injected: 1" always;')))).toMatch(/backslash escapes are not allowed in strings/);
    expect(refusal(withSite(APP, insertInServer('    add_header X-Frame-Options "DENY\x01" always;')))).toMatch(/only printable ASCII is allowed in strings/);
  });

  it("headers and variables Hearth does not set, and syntax tricks", () => {
    expect(refusal(withSite(APP, insertInLocation("        proxy_set_header X-Real-IP 1.2.3.4;")))).toMatch(/"proxy_set_header X-Real-IP 1.2.3.4" is not one Hearth renders/);
    expect(refusal(withSite(APP, insertInServer('    add_header Set-Cookie "a=b" always;')))).toMatch(/header "Set-Cookie" is not one Hearth adds/);
    expect(refusal(withSite(APP, insertInServer('    add_header X-Frame-Options "${x}" always;')))).toMatch(/\$\{...\} variables are not allowed/);
    expect(refusal(withSite(APP, (t) => `${t}\n}`))).toMatch(/unexpected "}"/);
    expect(refusal(withSite(APP, (t) => t.replace("server_tokens off;", "server_tokens off")))).toMatch(/"server_tokens" does not take a block/);
    expect(refusal(withSite(APP, insertInServer("    listen 80 default_server;")))).toMatch(/listen option "default_server" is not allowed/);
    expect(refusal(withSite(APP, insertInServer("    server_name \u00e9.example.com;")))).toMatch(/character U\+00e9 is not allowed/);
    expect(refusal(withSite("default-redirect.inc", () => "return 301 https://my.example.com$request_uri;\naccess_log /root/x;"))).toMatch(/may only hold one "return 301/);
  });

  it("certificates that are not a matching PEM pair, and unknown keys", () => {
    const [name, pair] = Object.entries(payload.certs)[0]!;
    const other = Object.values(payload.certs)[1]!;
    expect(refusal({ ...payload, certs: { ...payload.certs, [name]: { cert: pair.cert, key: other.key } } })).toMatch(/the key does not belong to the certificate/);
    expect(refusal({ ...payload, certs: { ...payload.certs, [name]: { cert: "hello", key: pair.key } } })).toMatch(/is not a PEM certificate chain/);
    expect(refusal({ ...payload, certs: { "../x": pair } })).toMatch(/certificate name "..\/x" is not allowed/);
    expect(refusal({ ...payload, paths: ["/etc/shadow"] })).toMatch(/unknown key "paths"/);
  });

  it("validateSite names the file and line", () => {
    expect(() => validateSite("dashboard-my.example.com.conf", "server {\n  listen 80;\n  root /;\n}\n", { ...opts, certs: new Set() })).toThrow(
      /dashboard-my.example.com.conf:3: directive "root" is not allowed in a server/,
    );
  });
});

describe("install-vhosts.mjs: a delta against the live generation", () => {
  const GEN = "gen-abc123-0123abcd";
  /** What root serves now: the payload installed as generation GEN. */
  function current(): CurrentSet {
    const certs = new Map<string, string>();
    for (const [name, pair] of Object.entries(payload.certs)) {
      certs.set(`${name}.crt`, pair.cert);
      certs.set(`${name}.key`, pair.key);
    }
    return { gen: GEN, sites: new Map(Object.entries(payload.sites)), certs };
  }
  function deltaRefusal(d: unknown): string {
    try {
      validateDelta(d, current(), opts);
    } catch (e) {
      expect(e).toBeInstanceOf(Refusal);
      return (e as Error).message;
    }
    throw new Error("not refused");
  }

  it("applies written and removed files to root's set and keeps only the certificates still named", () => {
    const redirectCert = /live\/certs\/(c-[0-9a-f]+)\.crt/.exec(payload.sites["redirect-old.example.org.conf"]!)![1]!;
    const changed = payload.sites[APP]!.replace("client_max_body_size 0;", "client_max_body_size 1g;");
    expect(changed).not.toBe(payload.sites[APP]);
    // the .org certificate is named by the alias vhost and the redirect: removing both drops it
    const set = validateDelta({ base: GEN, sites: { [APP]: changed }, remove: ["redirect-old.example.org.conf", "app-abc123--wiki.example.org.conf"] }, current(), opts);
    expect([...set.sites.keys()].sort()).toEqual([APP, "dashboard-my.example.com.conf", "default-redirect.inc"]);
    expect(set.sites.get(APP)).toBe(changed);
    expect(set.certs.has(redirectCert)).toBe(false);
    expect(set.certs.size).toBe(1);
    expect([...set.fromCurrent]).toEqual([...set.certs.keys()]);
    expect(set.certs.get([...set.certs.keys()][0]!)!.key).toMatch(/PRIVATE KEY/);
  });

  it("a written file may name a certificate root already holds, or one handed over with it", () => {
    const [name] = Object.keys(payload.certs);
    const site = payload.sites[APP]!.replace("app-abc123", "app-new1");
    expect(() => validateDelta({ base: GEN, sites: { "app-new1.conf": site } }, current(), opts)).not.toThrow();
    const noCerts = { ...current(), certs: new Map() };
    expect(() => validateDelta({ base: GEN, sites: { "app-new1.conf": site }, remove: Object.keys(payload.sites) }, noCerts, opts)).toThrow(/not in the set handed over/);
    const withPem = validateDelta({ base: GEN, sites: { "app-new1.conf": site }, certs: payload.certs, remove: Object.keys(payload.sites) }, noCerts, opts);
    expect([...withPem.sites.keys()]).toEqual(["app-new1.conf"]);
    expect(withPem.fromCurrent.size).toBe(0);
    expect(withPem.certs.has(name!)).toBe(true);
  });

  it("refuses removing a file root does not have, path tricks and a file both written and removed", () => {
    expect(deltaRefusal({ base: GEN, remove: ["app-nothere.conf"] })).toMatch(/cannot remove "app-nothere.conf": no such file in gen-abc123-0123abcd/);
    expect(deltaRefusal({ base: GEN, remove: ["../gen-x/sites/app-abc123.conf"] })).toMatch(/not a vhost file name/);
    expect(deltaRefusal({ base: GEN, remove: ["app-abc123.conf/../../../etc/passwd"] })).toMatch(/not a vhost file name/);
    expect(deltaRefusal({ base: GEN, remove: ["/etc/nginx/nginx.conf"] })).toMatch(/not a vhost file name/);
    expect(deltaRefusal({ base: GEN, remove: [APP, APP] })).toMatch(/names a file twice/);
    expect(deltaRefusal({ base: GEN, remove: "app-abc123.conf" })).toMatch(/"remove" must be a list/);
    expect(deltaRefusal({ base: GEN, remove: [{ f: 1 }] })).toMatch(/"remove" must be a list/);
    expect(deltaRefusal({ base: GEN, sites: { [APP]: payload.sites[APP] }, remove: [APP] })).toMatch(/is both written and removed/);
    expect(deltaRefusal({ base: GEN, sites: { "../../etc/cron.d/x.conf": "server { listen 80; }" } })).toMatch(/is not a vhost file name/);
  });

  it("checks every written file like a whole set, and what the delta itself may hold", () => {
    expect(deltaRefusal({ base: GEN, sites: { [APP]: insertInServer("    include /etc/shadow;")(payload.sites[APP]!) } })).toMatch(/directive "include" is not allowed in a server/);
    expect(deltaRefusal({ base: GEN, sites: { [APP]: payload.sites[APP]!.replace(/(ssl_certificate \S+\/)c-[0-9a-f]+\.crt;/, "$1c-nothere.crt;") } })).toMatch(/not in the set handed over/);
    const [name, pair] = Object.entries(payload.certs)[0]!;
    const other = Object.values(payload.certs)[1]!;
    expect(deltaRefusal({ base: GEN, certs: { [name]: { cert: pair.cert, key: other.key } } })).toMatch(/the key does not belong to the certificate/);
    expect(deltaRefusal({ base: GEN, paths: ["/etc/shadow"] })).toMatch(/unknown key "paths" in the delta/);
    expect(deltaRefusal({ base: "../../etc", sites: {} })).toMatch(/"base" must name a generation/);
    expect(deltaRefusal({ base: 42 })).toMatch(/"base" must name a generation/);
  });

  it("a base that is not the live generation is stale, not refused: nothing is read from it", () => {
    expect(() => validateDelta({ base: "gen-zzz-00000000", remove: ["app-nothere.conf"] }, current(), opts)).toThrow(Stale);
    expect(() => validateDelta({ base: GEN }, { gen: null, sites: new Map(), certs: new Map() }, opts)).toThrow(/no generation is live/);
  });

  it("a file kept from the live generation must name a certificate that is kept (root's own files are not re-read as input)", () => {
    const cur = current();
    const [name] = Object.keys(payload.certs);
    cur.certs.delete(`${name}.crt`);
    expect(() => validateDelta({ base: GEN, sites: {} }, cur, opts)).toThrow(/\(kept from gen-abc123-0123abcd\) names certificate c-[0-9a-f]+, which is neither kept nor handed over/);
    // handing the certificate over again mends it
    expect(validateDelta({ base: GEN, certs: { [name!]: payload.certs[name!]! } }, cur, opts).certs.has(name!)).toBe(true);
  });
});

describe("install-vhosts.mjs: a reload nginx refuses is seen in the master's error log", () => {
  it("reports the master's [emerg] lines written after the mark, whole lines only, not its workers', older ones or other levels", () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "hearth-iv-log-")), "error.log");
    writeFileSync(file, '2026/12/03 14:00:00 [emerg] 100#100: unknown directive "old" in /x.conf:1\n');
    const log = { file, offset: 74 };
    expect(masterErrors(log, 100)).toBe("");
    appendFileSync(file, "2026/12/03 14:00:01 [notice] 100#100: signal 1 (SIGHUP) received from 7, reconfiguring\n");
    appendFileSync(file, "2026/12/03 14:00:01 [emerg] 101#101: a worker's own trouble\n");
    appendFileSync(file, "2026/12/03 14:00:01 [error] 100#100: an error that does not stop the reload\n");
    appendFileSync(file, "2026/12/03 14:00:01 [alert] 100#100: nor does an alert (the set may still be loaded)\n");
    appendFileSync(file, "2026/12/03 14:00:01 [crit] 100#100: nor a crit\n");
    expect(masterErrors(log, 100)).toBe("");
    appendFileSync(file, '2026/12/03 14:00:01 [emerg] 100#100: "proxy_busy_buffers_size" must be less than');
    expect(masterErrors(log, 100)).toBe("");
    appendFileSync(file, " the size of all buffers in /x.conf:6\n");
    expect(masterErrors(log, 100)).toBe('[emerg] 100#100: "proxy_busy_buffers_size" must be less than the size of all buffers in /x.conf:6');
    expect(masterErrors(log, 1000)).toBe("");
  });

  it("reads a rotated (shorter) log from its start, and a missing one as nothing", () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "hearth-iv-log-")), "error.log");
    writeFileSync(file, "2026/12/03 14:00:01 [emerg] 7#7: x\n");
    expect(masterErrors({ file, offset: 100_000 }, 7)).toBe("[emerg] 7#7: x");
    expect(masterErrors({ file: `${file}.gone`, offset: 0 }, 7)).toBe("");
  });
});

describe("install-vhosts.mjs: the flat layout (hearth-apps.conf: maps and a constant number of servers)", () => {
  let flat: HelperPayload;
  const FLAT = "hearth-apps.conf";
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-iv-flat-"));
    const a = await ensureFallbackCert(dir, "example.com");
    const b = await ensureFallbackCert(dir, "example.org");
    const tls = (c: typeof a) => ({ certPath: c.certPath, keyPath: c.keyPath, version: "v1" });
    const vhosts: Vhost[] = [
      { type: "dashboard", fqdn: "my.example.com", ...tls(a) },
      { type: "app", appId: "Abc123", fqdn: "wiki.example.com", aliases: ["*.wiki.example.com"], upstreamPort: 40123, ...tls(a) },
      { type: "app", appId: "Abc123", fileKey: "wiki.example.org", fqdn: "wiki.example.org", upstreamPort: 40123, xFrameOptions: "", ...tls(b) },
      { type: "app", appId: "Other", fqdn: "chat.example.com", upstreamPort: 40200, xFrameOptions: "DENY", ...tls(a) },
      { type: "redirect", fqdn: "old.example.org", target: "https://wiki.example.com/sub", ...tls(b) },
    ];
    const files = renderFlatVhosts(vhosts, { httpPort: 80, httpsPort: 443, ipv6: true, acmeChallengeDir: `${PUBLIC}/acme-challenges`, errorPagesDir: `${PUBLIC}/pages` });
    flat = await helperPayload(files, ROOT);
  });
  const edit = (f: (t: string) => string): HelperPayload => ({ ...flat, sites: { ...flat.sites, [FLAT]: f(flat.sites[FLAT]!) } });
  const refused = (p: HelperPayload) => {
    try {
      validatePayload(p, opts);
    } catch (e) {
      expect(e).toBeInstanceOf(Refusal);
      return (e as Error).message;
    }
    throw new Error("not refused");
  };

  it("accepts what renderFlatVhosts renders, each name's certificate moved to root's folder in both maps", () => {
    const set = validatePayload(flat, opts);
    expect([...set.sites.keys()].sort()).toEqual(["dashboard-my.example.com.conf", FLAT]);
    expect(set.certs.size).toBe(2);
    const text = flat.sites[FLAT]!;
    expect(text).not.toContain("/tmp/");
    const cert = /^ {4}wiki\.example\.org \/etc\/nginx\/hearth\/live\/certs\/(c-[0-9a-f]{32})\.crt;$/m.exec(text)?.[1];
    expect(cert).toBeDefined();
    expect(text).toMatch(new RegExp(`^ {4}wiki\\.example\\.org /etc/nginx/hearth/live/certs/${cert}\\.key;$`, "m"));
    expect(text).toMatch(/^ {4}\*\.wiki\.example\.com \/etc\/nginx\/hearth\/live\/certs\/c-[0-9a-f]{32}\.crt;$/m);
    // a delta that keeps the flat file still finds the certificates its maps name
    const certs = new Map<string, string>();
    for (const [n, pair] of Object.entries(flat.certs)) {
      certs.set(`${n}.crt`, pair.cert);
      certs.set(`${n}.key`, pair.key);
    }
    const kept = validateDelta({ base: "gen-a-00", remove: ["dashboard-my.example.com.conf"] }, { gen: "gen-a-00", sites: new Map(Object.entries(flat.sites)), certs }, opts);
    expect(kept.certs.size).toBe(2);
  });

  it("refuses maps outside the flat file, maps and variables Hearth does not render, and bad entries", () => {
    const dash = flat.sites["dashboard-my.example.com.conf"]!;
    expect(refused({ ...flat, sites: { ...flat.sites, "dashboard-my.example.com.conf": `map $host $hearth_app_port {\n    hostnames;\n    default "";\n}\n${dash}` } })).toMatch(
      /"map" is only allowed in hearth-apps.conf/,
    );
    expect(refused(edit((t) => t.replace("map $host $hearth_redirect {", "map $http_x $hearth_redirect {")))).toMatch(/"map \$http_x \$hearth_redirect" is not one Hearth renders/);
    expect(refused(edit((t) => t.replace("map $host $hearth_redirect {", "map $host $hearth_app_port {")))).toMatch(/defined twice/);
    expect(refused(edit((t) => t.replace("    wiki.example.com 40123;", "    wiki.example.com 40123;\n    include /etc/passwd;")))).toMatch(/map entry "include" is not a hostname|takes/);
    expect(refused(edit((t) => t.replace("    chat.example.com 40200;", "    chat.example.com 99999;")))).toMatch(/chat.example.com: "99999" is not a port/);
    expect(refused(edit((t) => t.replace("    chat.example.com 40200;", "    chat.example.com 40200;\n    chat.example.com 40201;")))).toMatch(/twice/);
    expect(refused(edit((t) => t.replace("old.example.org https://wiki.example.com/sub;", "old.example.org https://wiki.example.com/sub$host;")))).toMatch(/redirect target/);
    expect(refused(edit((t) => t.replace("old.example.org https://wiki.example.com/sub;", "old.example.org /etc/passwd;")))).toMatch(/redirect target/);
    expect(refused(edit((t) => t.replace(/(chat\.example\.com) \/etc\/nginx\/hearth\/live\/certs\/(c-[0-9a-f]+)\.crt;/, "$1 /etc/ssl/private/x.crt;")))).toMatch(
      /chat.example.com: the certificate must be \/etc\/nginx\/hearth\/live\/certs\/<name>.crt/,
    );
    expect(refused(edit((t) => t.replace(/(chat\.example\.com) \/etc\/nginx\/hearth\/live\/certs\/(c-[0-9a-f]+)\.crt;/, "$1 /etc/nginx/hearth/live/certs/c-0000.crt;")))).toMatch(
      /not in the set handed over/,
    );
    expect(refused(edit((t) => t.replace('    hostnames;\n    default "";\n    wiki.example.com 40123;', '    volatile;\n    default "";\n    wiki.example.com 40123;')))).toMatch(
      /starts with "hostnames;"/,
    );
    expect(refused(edit((t) => t.replace('    hostnames;\n    default "";\n    wiki.example.com 40123;', '    hostnames;\n    default "x";\n    wiki.example.com 40123;')))).toMatch(
      /second line is 'default "";'/,
    );
  });

  it("refuses a name whose key is another certificate's, and the variables outside the flat file", () => {
    const names = [...new Set([...flat.sites[FLAT]!.matchAll(/live\/certs\/(c-[0-9a-f]+)\.key/g)].map((m) => m[1]!))];
    expect(names).toHaveLength(2);
    const swapped = edit((t) => t.replace(/^( {4}wiki\.example\.org \/etc\/nginx\/hearth\/live\/certs\/)(c-[0-9a-f]+)(\.key;)$/m, (_m, a, n, c) => `${a}${n === names[0] ? names[1] : names[0]}${c}`));
    expect(refused(swapped)).toMatch(/wiki.example.org has certificate c-[0-9a-f]+ but the key of c-[0-9a-f]+/);
    expect(refused(edit((t) => t.replace(/^ {4}chat\.example\.com \/etc\/nginx\/hearth\/live\/certs\/c-[0-9a-f]+\.key;\n/m, "")))).toMatch(/chat.example.com has certificate c-[0-9a-f]+ but no key/);
    const dash = flat.sites["dashboard-my.example.com.conf"]!;
    const withVar = (f: (t: string) => string) => ({ ...flat, sites: { ...flat.sites, "dashboard-my.example.com.conf": f(dash) } });
    expect(refused(withVar((t) => t.replace(/ssl_certificate \S+;/, "ssl_certificate $hearth_cert;")))).toMatch(/"ssl_certificate" must be/);
    expect(refused(withVar((t) => t.replace("proxy_pass http://127.0.0.1:3000;", "proxy_pass http://127.0.0.1:$hearth_app_port;")))).toMatch(/proxy_pass may only go to/);
    expect(refused(edit((t) => t.replace("proxy_pass http://127.0.0.1:$hearth_app_port;", "proxy_pass http://127.0.0.1:$hearth_redirect;")))).toMatch(/proxy_pass may only go to/);
    expect(refused(edit((t) => t.replace("return 301 $hearth_redirect$request_uri;", "return 301 $hearth_redirect$uri;")))).toMatch(/redirect target/);
  });
});

describe("install-vhosts.mjs: apps' pages and stopped apps (503 and their page, nothing proxied)", () => {
  let perVhost: HelperPayload;
  let flat: HelperPayload;
  const FLAT = "hearth-apps.conf";
  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-iv-pages-"));
    const a = await ensureFallbackCert(dir, "example.com");
    const tls = { certPath: a.certPath, keyPath: a.keyPath, version: "v1" };
    const vhosts: Vhost[] = [
      { type: "app", appId: "Run1", fqdn: "wiki.example.com", upstreamPort: 40123, state: "starting", ...tls },
      { type: "app", appId: "Stop1", fqdn: "chat.example.com", aliases: ["talk.example.com"], upstreamPort: 40200, state: "stopped", ...tls },
    ];
    const o = { httpPort: 80, httpsPort: 443, ipv6: true, acmeChallengeDir: `${PUBLIC}/acme-challenges`, errorPagesDir: `${PUBLIC}/pages` };
    perVhost = await helperPayload(renderVhosts(vhosts, o), ROOT);
    flat = await helperPayload(renderFlatVhosts(vhosts, o), ROOT);
  });

  it("accepts both layouts with a running and a stopped app", () => {
    expect([...validatePayload(perVhost, opts).sites.keys()].sort()).toEqual(["app-run1.conf", "app-stop1.conf"]);
    expect(perVhost.sites["app-stop1.conf"]).toContain("        return 503;");
    expect(perVhost.sites["app-stop1.conf"]).not.toContain("proxy_pass");
    expect(perVhost.sites["app-stop1.conf"]).toContain(`alias ${PUBLIC}/pages/app-state-stop1.html;`);
    expect([...validatePayload(flat, opts).sites.keys()]).toEqual([FLAT]);
    expect(flat.sites[FLAT]).toContain(`alias ${PUBLIC}/pages/$hearth_app_page.html;`);
  });

  it("refuses other statuses, pages outside the pages folder or not an app's, and the page variable without its map", () => {
    const stop = perVhost.sites["app-stop1.conf"]!;
    const with_ = (text: string): HelperPayload => ({ ...perVhost, sites: { ...perVhost.sites, "app-stop1.conf": text } });
    expect(refusal(with_(stop.replace("return 503;", "return 200;")))).toMatch(/"return" may only be a 301 redirect|takes 2 argument/);
    expect(refusal(with_(stop.replace("return 503;", 'return 503 "hello";')))).toMatch(/"return" may only be a 301 redirect|quoted/);
    expect(refusal(with_(stop.replace("pages/app-state-stop1.html", "pages/../../../etc/shadow.html")))).toMatch(/alias .* is not allowed here/);
    expect(refusal(with_(stop.replace("pages/app-state-stop1.html", "pages/no-app.html")))).toMatch(/alias .* is not allowed here/);
    expect(refusal(with_(stop.replace("pages/app-state-stop1.html", "pages/$hearth_app_page.html")))).toMatch(/alias .* is not allowed here/);
    // a 503 only in the https "location /", never in the .inc of setup's default server
    expect(refusal({ ...perVhost, sites: { ...perVhost.sites, "default-redirect.inc": "return 503;\n" } })).toMatch(/"return" may only be a 301 redirect|takes 2 argument/);
    const editFlat = (f: (t: string) => string): HelperPayload => ({ ...flat, sites: { [FLAT]: f(flat.sites[FLAT]!) } });
    expect(refusal(editFlat((t) => t.replace("    chat.example.com app-state-stop1;", "    chat.example.com ../../etc/passwd;")))).toMatch(/is not an app's page/);
    expect(refusal(editFlat((t) => t.replace("map $host $hearth_app_page {", "map $host $hearth_page {")))).toMatch(/is not one Hearth renders/);
    expect(refusal(editFlat((t) => t.replace(/map \$host \$hearth_app_page \{[^}]*\}\n/, "")))).toMatch(/alias of \$hearth_app_page without its map/);
  });
});
