import { describe, expect, it } from "vitest";
import { isHearthError } from "@hearth/contracts";
import {
  FLAT_FILE,
  renderFlatVhosts,
  renderVhost,
  renderVhosts,
  validateHostname,
  validateRedirectTarget,
  vhostFileName,
  VHOST_FILE_PATTERN,
  type AppVhost,
  type RenderOptions,
  type Vhost,
} from "./vhost";

const opts: RenderOptions = {
  httpPort: 80,
  httpsPort: 443,
  ipv6: false,
  acmeChallengeDir: "/var/lib/hearth/acme-challenges",
  errorPagesDir: "/var/lib/hearth/nginx/pages",
};

const app: AppVhost = {
  type: "app",
  appId: "app_123",
  fqdn: "wiki.example.com",
  aliases: ["docs.example.com"],
  upstreamPort: 30001,
  certPath: "/var/lib/hearth/certs/fallback/example.com.crt",
  keyPath: "/var/lib/hearth/certs/fallback/example.com.key",
};

/** The server blocks of a rendered file, in order. */
function servers(text: string): string[] {
  return text.split(/^server \{$/m).slice(1);
}

function expectInvalid(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(isHearthError(e)).toBe(true);
    expect((e as { code: string }).code).toBe("invalid");
    return;
  }
  throw new Error("expected an invalid error");
}

describe("app vhost", () => {
  const text = renderVhost(app, opts);
  const [http, https] = servers(text);

  it("has an http server redirecting to https except ACME, and an https server", () => {
    expect(servers(text)).toHaveLength(2);
    expect(http).toContain("listen 80;");
    expect(http).toContain("server_name wiki.example.com docs.example.com;");
    expect(http).toContain("return 301 https://$host$request_uri;");
    expect(http).toContain("location ^~ /.well-known/acme-challenge/ {");
    expect(http).toContain("alias /var/lib/hearth/acme-challenges/;");
    expect(https).toContain("location ^~ /.well-known/acme-challenge/ {");
    expect(https).toContain("listen 443 ssl http2;");
    expect(text).not.toContain("[::]");
  });

  it("carries every required directive", () => {
    for (const d of [
      `ssl_certificate     ${app.certPath};`,
      `ssl_certificate_key ${app.keyPath};`,
      'add_header Strict-Transport-Security "max-age=63072000" always;',
      'add_header X-Content-Type-Options "nosniff" always;',
      'add_header Referrer-Policy "strict-origin-when-cross-origin" always;',
      'add_header X-Frame-Options "SAMEORIGIN" always;',
      "proxy_hide_header Strict-Transport-Security;",
      "proxy_hide_header X-Content-Type-Options;",
      "proxy_hide_header Referrer-Policy;",
      "proxy_hide_header X-Frame-Options;",
      "client_max_body_size 0;",
      "proxy_buffer_size 128k;",
      "proxy_buffers 4 256k;",
      "proxy_busy_buffers_size 256k;",
      "proxy_max_temp_file_size 0;",
      "proxy_pass http://127.0.0.1:30001;",
      "proxy_http_version 1.1;",
      "proxy_set_header Host              $host;",
      "proxy_set_header X-Forwarded-For   $remote_addr;",
      "proxy_set_header X-Forwarded-Proto $scheme;",
      "proxy_set_header X-Forwarded-Host  $host;",
      "proxy_set_header Upgrade           $http_upgrade;",
      "proxy_set_header Connection        $hearth_connection_upgrade;",
      "error_page 502 503 504 /__hearth/app-unavailable.html;",
      "alias /var/lib/hearth/nginx/pages/app-state-app_123.html;",
      "internal;",
    ]) {
      expect(https, d).toContain(d);
    }
  });

  it("reuses setup's websocket map instead of defining one", () => {
    expect(text).not.toMatch(/^\s*map /m);
  });

  it("adds IPv6 listens when asked and uses the configured ports", () => {
    const t = renderVhost(app, { ...opts, ipv6: true, httpPort: 8080, httpsPort: 8443 });
    expect(t).toContain("listen 8080;");
    expect(t).toContain("listen [::]:8080;");
    expect(t).toContain("listen 8443 ssl http2;");
    expect(t).toContain("listen [::]:8443 ssl http2;");
    expect(t).toContain("return 301 https://$host:8443$request_uri;");
  });

  it("X-Frame-Options is configurable, and empty lets the app be framed", () => {
    expect(renderVhost({ ...app, xFrameOptions: "DENY" }, opts)).toContain('add_header X-Frame-Options "DENY" always;');
    const open = renderVhost({ ...app, xFrameOptions: "" }, opts);
    expect(open).not.toContain("X-Frame-Options");
    expectInvalid(() => renderVhost({ ...app, xFrameOptions: 'DENY" always; evil' }, opts));
    expectInvalid(() => renderVhost({ ...app, xFrameOptions: "ALLOW-FROM x" }, opts));
  });

  it("is named after the app id", () => {
    expect(vhostFileName(app)).toBe("app-app_123.conf");
    expect(VHOST_FILE_PATTERN.test(vhostFileName(app))).toBe(true);
    expectInvalid(() => vhostFileName({ ...app, appId: "../../etc/x" }));
    expectInvalid(() => vhostFileName({ ...app, appId: "" }));
  });
});

describe("hostnames", () => {
  it("accepts valid names and lower-cases them", () => {
    expect(validateHostname("Wiki.Example.COM")).toBe("wiki.example.com");
    expect(validateHostname("a-b.c0.example.org")).toBe("a-b.c0.example.org");
    expect(validateHostname("xn--bcher-kva.example")).toBe("xn--bcher-kva.example");
    expect(validateHostname("*.example.com", { wildcard: true })).toBe("*.example.com");
  });

  const bad = [
    "",
    "localhost",
    "example.com;",
    "a.example.com; include /etc/passwd",
    "a.example.com\n}",
    "a b.example.com",
    "a.example.com{",
    "a.example.com}",
    "$host.example.com",
    '"a.example.com"',
    "'a.example.com'",
    "-a.example.com",
    "a-.example.com",
    "a..example.com",
    ".example.com",
    "example.com.",
    "a_b.example.com",
    "*.example.com",
    "a.*.example.com",
    "1.2.3.4",
    "[::1]",
    "a.example.com:443",
    "a/b.example.com",
    "a\\.example.com",
    "a#b.example.com",
    `${"a".repeat(64)}.example.com`,
    `${"a.".repeat(127)}com`,
    "é.example.com",
    "a.example.com\u0000",
  ];
  for (const name of bad) {
    it(`rejects ${JSON.stringify(name)}`, () => {
      expectInvalid(() => validateHostname(name));
      expectInvalid(() => renderVhost({ ...app, fqdn: name }, opts));
    });
  }

  it("rejects injection through aliases, ports, paths and non-string values", () => {
    expectInvalid(() => renderVhost({ ...app, aliases: ["ok.example.com", "x.example.com; return 200"] }, opts));
    expectInvalid(() => renderVhost({ ...app, aliases: "x.example.com" as unknown as string[] }, opts));
    expectInvalid(() => renderVhost({ ...app, upstreamPort: "3000; evil" as unknown as number }, opts));
    expectInvalid(() => renderVhost({ ...app, upstreamPort: 0 }, opts));
    expectInvalid(() => renderVhost({ ...app, upstreamPort: 70000 }, opts));
    expectInvalid(() => renderVhost({ ...app, upstreamPort: 3000.5 }, opts));
    expectInvalid(() => renderVhost({ ...app, certPath: "/a b/c.crt" }, opts));
    expectInvalid(() => renderVhost({ ...app, certPath: "/a/c.crt;\nssl_stapling on" }, opts));
    expectInvalid(() => renderVhost({ ...app, keyPath: "relative/key.pem" }, opts));
    expectInvalid(() => renderVhost({ ...app, keyPath: "/a/../etc/shadow" }, opts));
    expectInvalid(() => renderVhost({ ...app, fqdn: 42 as unknown as string }, opts));
    expectInvalid(() => renderVhost(app, { ...opts, acmeChallengeDir: "/tmp/x; root /" }));
    expectInvalid(() => renderVhost(app, { ...opts, httpsPort: -1 }));
    expectInvalid(() => renderVhost({ type: "nope" } as unknown as Vhost, opts));
  });

  it("allows wildcard aliases", () => {
    expect(renderVhost({ ...app, aliases: ["*.wiki.example.com"] }, opts)).toContain("server_name wiki.example.com *.wiki.example.com;");
  });
});

describe("redirect vhost", () => {
  const redirect: Vhost = { type: "redirect", fqdn: "old.example.com", target: "https://new.example.com", certPath: app.certPath, keyPath: app.keyPath };

  it("sends every path (and query) to the target, keeping it", () => {
    const text = renderVhost(redirect, opts);
    const [http, https] = servers(text);
    expect(https).toContain("return 301 https://new.example.com$request_uri;");
    expect(https).toContain("listen 443 ssl http2;");
    expect(http).toContain("return 301 https://$host$request_uri;");
    expect(http).toContain("location ^~ /.well-known/acme-challenge/ {");
    expect(https).toContain("location ^~ /.well-known/acme-challenge/ {");
    expect(vhostFileName(redirect)).toBe("redirect-old.example.com.conf");
  });

  it("keeps a path prefix of the target without doubling the slash", () => {
    expect(validateRedirectTarget("https://new.example.com/wiki/")).toBe("https://new.example.com/wiki");
    expect(validateRedirectTarget("http://new.example.com:8080")).toBe("http://new.example.com:8080");
  });

  for (const target of [
    "ftp://x.example.com",
    "javascript:alert(1)",
    "https://new.example.com/?a=1",
    "https://new.example.com/#x",
    "https://new.example.com/a b",
    "https://new.example.com/;return 200",
    'https://new.example.com/"',
    "https://new.example.com/$host",
    "https://new.example.com/{x}",
    "https://user:pw@new.example.com",
    "https://bad_host.example.com",
    "not a url",
  ]) {
    it(`rejects target ${JSON.stringify(target)}`, () => {
      expectInvalid(() => validateRedirectTarget(target));
    });
  }
});

describe("dashboard vhost", () => {
  it("proxies my.<domain> to admin on 127.0.0.1:3000, unbuffered, DENY framing", () => {
    const text = renderVhost({ type: "dashboard", fqdn: "my.example.com", certPath: app.certPath, keyPath: app.keyPath }, opts);
    expect(text).toContain("server_name my.example.com;");
    expect(text).toContain("proxy_pass http://127.0.0.1:3000;");
    expect(text).toContain("proxy_buffering off;");
    expect(text).toContain('add_header X-Frame-Options "DENY" always;');
    expect(text).toContain("proxy_set_header Connection        $hearth_connection_upgrade;");
    expect(servers(text)[0]).toContain("location ^~ /.well-known/acme-challenge/ {");
  });
});

describe("the set", () => {
  it("one file per vhost", () => {
    const files = renderVhosts(
      [
        app,
        { ...app, appId: "b", fqdn: "b.example.com", aliases: [] },
        { type: "redirect", fqdn: "old.example.com", target: "https://wiki.example.com", certPath: app.certPath, keyPath: app.keyPath },
        { type: "dashboard", fqdn: "my.example.com", certPath: app.certPath, keyPath: app.keyPath },
      ],
      opts,
    );
    expect([...files.keys()].sort()).toEqual(["app-app_123.conf", "app-b.conf", "dashboard-my.example.com.conf", "redirect-old.example.com.conf"]);
  });

  it("refuses two vhosts claiming the same name or file", () => {
    expect(() => renderVhosts([app, { ...app, appId: "other", aliases: [] }], opts)).toThrow(/served by both/);
    expect(() => renderVhosts([app, { ...app, fqdn: "x.example.com", aliases: [] }], opts)).toThrow(/both be written/);
    expect(() => renderVhosts([app, { ...app, appId: "c", fqdn: "c.example.com", aliases: ["DOCS.example.com"] }], opts)).toThrow(/served by both/);
  });

  it("an alias vhost of its own and the IP redirect snippet for setup's default server", () => {
    const files = renderVhosts([app, { ...app, aliases: [], fileKey: "docs.other.com", fqdn: "docs.other.com" }, { type: "default-redirect", target: "https://my.example.com" }], opts);
    expect([...files.keys()].sort()).toEqual(["app-app_123--docs.other.com.conf", "app-app_123.conf", "default-redirect.inc"]);
    expect(files.get("default-redirect.inc")).toContain("return 301 https://my.example.com$request_uri;");
    expect(files.get("default-redirect.inc")).not.toContain("server {");
    expect(() => renderVhosts([{ type: "default-redirect", target: "https://x; root /" }], opts)).toThrow();
  });
});

describe("renderFlatVhosts: every app and redirect name in one file, a constant number of servers", () => {
  const many = (n: number): Vhost[] =>
    Array.from(
      { length: n },
      (_, i): Vhost => ({ ...app, appId: `a${i}`, fqdn: `app${i}.example.com`, aliases: [], upstreamPort: 30000 + i, certPath: `/c/${i}.crt`, keyPath: `/c/${i}.key`, version: `v${i}` }),
    );

  it("the number of servers does not grow with the apps; each name gets its port and its own certificate", () => {
    const five = renderFlatVhosts(many(5), opts).get(FLAT_FILE)!;
    const fiveHundred = renderFlatVhosts(many(500), opts).get(FLAT_FILE)!;
    expect(servers(five)).toHaveLength(2);
    expect(servers(fiveHundred)).toHaveLength(2);
    expect(fiveHundred).toContain("    app499.example.com 30499;");
    expect(fiveHundred).toContain("    # certificate v499\n    app499.example.com /c/499.crt;");
    expect(fiveHundred).toContain("    app499.example.com /c/499.key;");
    const [http, https] = servers(fiveHundred);
    expect(http).toContain("return 301 https://$host$request_uri;");
    expect(http).toContain("location ^~ /.well-known/acme-challenge/ {");
    expect(http).toMatch(/server_name app0\.example\.com .* app499\.example\.com;/);
    expect(https).toContain("ssl_certificate     $hearth_cert;");
    expect(https).toContain("ssl_certificate_key $hearth_cert_key;");
    expect(https).toContain("proxy_pass http://127.0.0.1:$hearth_app_port;");
    expect(https).toContain("error_page 502 503 504 /__hearth/app-unavailable.html;");
    expect(https).toContain("client_max_body_size 0;");
    expect(https).toContain("proxy_set_header Connection        $hearth_connection_upgrade;");
    expect(https).toContain('add_header X-Frame-Options "SAMEORIGIN" always;');
  });

  it("aliases (wildcards too), one server per X-Frame-Options value, redirects by map keeping the path; dashboards and the default redirect as files of their own", () => {
    const files = renderFlatVhosts(
      [
        { type: "dashboard", fqdn: "my.example.com", certPath: "/c/d.crt", keyPath: "/c/d.key" },
        { type: "default-redirect", target: "https://my.example.com" },
        { ...app, aliases: ["*.docs.example.com"] },
        { ...app, fileKey: "wiki.example.org", fqdn: "wiki.example.org", aliases: [], xFrameOptions: "", certPath: "/c/o.crt", keyPath: "/c/o.key" },
        { ...app, appId: "b", fqdn: "b.example.com", aliases: [], xFrameOptions: "DENY", upstreamPort: 30002 },
        { type: "redirect", fqdn: "old.example.org", target: "https://wiki.example.com/sub/", certPath: "/c/o.crt", keyPath: "/c/o.key" },
      ],
      opts,
    );
    expect([...files.keys()].sort()).toEqual(["dashboard-my.example.com.conf", "default-redirect.inc", FLAT_FILE]);
    const text = files.get(FLAT_FILE)!;
    for (const f of files.keys()) expect(VHOST_FILE_PATTERN.test(f)).toBe(true);
    expect(text).toContain("    *.docs.example.com 30001;");
    expect(text).toContain(`    *.docs.example.com ${app.certPath};`);
    expect(text).toContain("    wiki.example.org /c/o.crt;");
    expect(text).toContain("    old.example.org https://wiki.example.com/sub;");
    const [, sameorigin, deny, own, redirect] = servers(text);
    expect(sameorigin).toMatch(/server_name wiki\.example\.com \*\.docs\.example\.com;/);
    expect(deny).toMatch(/server_name b\.example\.com;[\s\S]*add_header X-Frame-Options "DENY" always;/);
    expect(own).toMatch(/server_name wiki\.example\.org;/);
    expect(own).not.toContain("X-Frame-Options");
    expect(redirect).toMatch(/server_name old\.example\.org;[\s\S]*return 301 \$hearth_redirect\$request_uri;/);
    expect(files.get("dashboard-my.example.com.conf")).toBe(renderVhost({ type: "dashboard", fqdn: "my.example.com", certPath: "/c/d.crt", keyPath: "/c/d.key" }, opts));
  });

  it("refuses a name claimed twice and bad values, like renderVhosts", () => {
    expect(() => renderFlatVhosts([app, { ...app, appId: "other" }], opts)).toThrow(/wiki.example.com is served by both/);
    expect(() => renderFlatVhosts([{ type: "dashboard", fqdn: "wiki.example.com", certPath: "/c/d.crt", keyPath: "/c/d.key" }, app], opts)).toThrow(/served by both/);
    expectInvalid(() => renderFlatVhosts([{ ...app, upstreamPort: 0 }], opts));
    expectInvalid(() => renderFlatVhosts([{ ...app, certPath: "/c/x y.crt" }], opts));
    expectInvalid(() => renderFlatVhosts([{ ...app, aliases: ["a;b.example.com"] }], opts));
    expectInvalid(() => renderFlatVhosts([{ type: "redirect", fqdn: "x.example.com", target: "https://a.example.com/?q", certPath: "/c/d.crt", keyPath: "/c/d.key" }], opts));
    expect(renderFlatVhosts([], opts).size).toBe(0);
  });
});

describe("apps' pages and stopped apps", () => {
  it("a stopped app's vhost answers 503 with its page and proxies nothing; a running one proxies, its page on 502/503/504", () => {
    const stopped = renderVhost({ ...app, state: "stopped" }, opts);
    const https = servers(stopped)[1]!;
    expect(https).toContain("return 503;");
    expect(https).not.toContain("proxy_pass");
    expect(https).toContain("alias /var/lib/hearth/nginx/pages/app-state-app_123.html;");
    expect(https).toContain("location ^~ /.well-known/acme-challenge/");
    const running = servers(renderVhost({ ...app, state: "crashed" }, opts))[1]!;
    expect(running).toContain("proxy_pass http://127.0.0.1:30001;");
    expect(running).not.toContain("return 503;");
    expectInvalid(() => renderVhost({ ...app, state: "asleep" as never }, opts));
  });

  it("flat: every app name has its page in a map; stopped names are in no port map and in a server of their own", () => {
    const other: AppVhost = { ...app, appId: "Stopped1", fqdn: "chat.example.com", aliases: [], upstreamPort: 30002, state: "stopped" };
    const text = renderFlatVhosts([app, other], opts).get(FLAT_FILE)!;
    expect(text).toMatch(
      /map \$host \$hearth_app_page \{\n {4}hostnames;\n {4}default "";\n {4}wiki\.example\.com app-state-app_123;\n {4}docs\.example\.com app-state-app_123;\n {4}chat\.example\.com app-state-stopped1;\n\}/,
    );
    expect(text).not.toContain("chat.example.com 30002;");
    expect(text).toContain("wiki.example.com 30001;");
    const stoppedServer = servers(text).find((s) => s.includes("return 503;"))!;
    expect(stoppedServer).toMatch(/server_name chat\.example\.com;/);
    expect(stoppedServer).not.toContain("proxy_pass");
    expect(text).toContain("alias /var/lib/hearth/nginx/pages/$hearth_app_page.html;");
    // only stopped apps: the file is still there (their names must answer)
    expect(renderFlatVhosts([other], opts).get(FLAT_FILE)).toContain("return 503;");
  });
});
