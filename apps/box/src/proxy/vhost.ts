import { HearthError } from "@hearth/contracts";
import { APP_PAGE_STATES, APP_UNAVAILABLE_PAGE_FILE, appPageName, type AppPageState } from "./pages";

/**
 * Pure nginx vhost renderer: a list of vhost descriptions in, one config file (name + text)
 * per vhost out. Nothing here touches the disk or nginx; `proxy.service.ts` writes the set
 * and reloads.
 *
 * Every value that reaches the config text is validated first (hostnames, paths, URLs,
 * ports, ids), so data can never inject nginx syntax: a bad value throws HearthError
 * `invalid` and no file is rendered.
 *
 * The files go into box's own directory, which the system nginx includes in its http
 * context next to setup's conf.d/hearth.conf; they use that file's
 * `$hearth_connection_upgrade` map for websockets and never redefine it.
 */

export interface TlsFiles {
  certPath: string;
  keyPath: string;
  /**
   * What is in the files (e.g. the certificate's fingerprint), rendered as a comment: a
   * renewed certificate keeps its paths, and only a changed text makes apply() reload nginx.
   */
  version?: string;
}

export interface AppVhost extends TlsFiles {
  type: "app";
  appId: string;
  fqdn: string;
  aliases?: string[];
  /**
   * An app's extra name served by a vhost of its own (its own certificate): the file is
   * `app-<id>--<fileKey>.conf`. Absent for the app's primary vhost.
   */
  fileKey?: string;
  /** The app's HTTP port published on 127.0.0.1. */
  upstreamPort: number;
  /** "SAMEORIGIN" (default), "DENY", or "" to let other sites frame the app. */
  xFrameOptions?: string;
  /**
   * What the app's page (`<errorPagesDir>/app-state-<id>.html`, written by ProxyService)
   * says; "stopped": nginx does not proxy at all and answers 503 with that page. Default
   * "not_responding".
   */
  state?: AppPageState;
  /** The app's title, for its page. Default: its name. */
  title?: string;
}

export interface RedirectVhost extends TlsFiles {
  type: "redirect";
  fqdn: string;
  /** Where to send visitors: an http(s) URL with an optional path prefix; the request's path and query are appended. */
  target: string;
}

export interface DashboardVhost extends TlsFiles {
  type: "dashboard";
  /** my.<domain> */
  fqdn: string;
  /** admin's port on 127.0.0.1 (default 3000). */
  upstreamPort?: number;
}

/**
 * Not a server of its own: what setup's default server (the dashboard on the server's IP,
 * setup/nginx/dashboard.conf) includes from `<sites>/*.inc`. Present once the dashboard's
 * my.<domain> has a trusted certificate: the IP URL then redirects there.
 */
export interface DefaultRedirect {
  type: "default-redirect";
  /** https://my.<domain> (with a port when not 443) */
  target: string;
}

export type Vhost = AppVhost | RedirectVhost | DashboardVhost | DefaultRedirect;

export interface RenderOptions {
  /** Ports nginx listens on (tests use high ports). */
  httpPort: number;
  httpsPort: number;
  /** Also listen on [::] (the machine has IPv6). */
  ipv6: boolean;
  /** Directory served at /.well-known/acme-challenge/ (token files). */
  acmeChallengeDir: string;
  /** Directory of the pages shown on 502/503/504 (`app-unavailable.html`, `app-state-<id>.html`: see pages.ts). */
  errorPagesDir: string;
}

export const ERROR_PAGE_FILE = APP_UNAVAILABLE_PAGE_FILE;
export const DEFAULT_DASHBOARD_PORT = 3000;
export const DEFAULT_X_FRAME_OPTIONS = "SAMEORIGIN";
const HSTS = "max-age=63072000";

/** File names this renderer produces; the applier touches no other file in its directory. */
export const VHOST_FILE_PATTERN = /^((app|redirect|dashboard)-[a-z0-9._-]{1,253}\.conf|hearth-apps\.conf|default-redirect\.inc)$/;
/** The flat layout's one file of every app and redirect name (renderFlatVhosts). */
export const FLAT_FILE = "hearth-apps.conf";
export const DEFAULT_REDIRECT_FILE = "default-redirect.inc";

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const APP_ID = /^[A-Za-z0-9_-]{1,64}$/;
// absolute paths made only of characters that need no quoting in nginx
const SAFE_PATH = /^\/[A-Za-z0-9._/@+-]*$/;
const SAFE_URL = /^[A-Za-z0-9\-._~:/?#[\]@!&'()*+,=%]+$/;

function invalid(message: string, details?: unknown): HearthError {
  return new HearthError("invalid", message, details === undefined ? {} : { details });
}

/**
 * A valid DNS hostname in lower case (at least two labels, each 1-63 letters, digits or
 * inner hyphens, 253 chars at most), or with `wildcard` a leading `*.` label. Anything else
 * — spaces, ';', '{', quotes, '$', newlines, IP literals with ':' — is refused.
 */
export function validateHostname(name: unknown, opts: { wildcard?: boolean } = {}): string {
  if (typeof name !== "string") throw invalid("hostname must be a string");
  const host = name.toLowerCase();
  if (host.length === 0 || host.length > 253) throw invalid(`invalid hostname ${JSON.stringify(name)}`);
  const labels = host.split(".");
  if (labels.length < 2) throw invalid(`invalid hostname ${JSON.stringify(name)}: needs a domain`);
  labels.forEach((label, i) => {
    if (i === 0 && label === "*" && opts.wildcard) return;
    if (!LABEL.test(label)) throw invalid(`invalid hostname ${JSON.stringify(name)}`);
  });
  // the top-level label is never all digits (keeps IPv4 literals out)
  if (/^\d+$/.test(labels[labels.length - 1]!)) throw invalid(`invalid hostname ${JSON.stringify(name)}`);
  return host;
}

function validatePath(p: unknown, what: string): string {
  if (typeof p !== "string" || !SAFE_PATH.test(p) || p.split("/").some((seg) => seg === "." || seg === "..") || p.includes("//")) {
    throw invalid(`${what} must be an absolute path of letters, digits and ._/@+- (got ${JSON.stringify(p)})`);
  }
  return p;
}

function validatePort(port: unknown, what: string): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw invalid(`${what} must be a port number 1-65535 (got ${JSON.stringify(port)})`);
  }
  return port;
}

function validateXFrameOptions(v: unknown): string {
  if (v === undefined) return DEFAULT_X_FRAME_OPTIONS;
  if (v === "" || v === "SAMEORIGIN" || v === "DENY") return v;
  throw invalid(`xFrameOptions must be "SAMEORIGIN", "DENY" or "" (got ${JSON.stringify(v)})`);
}

/** An http(s) URL without query or fragment, as `scheme://host[:port][/prefix]` with no trailing slash. */
export function validateRedirectTarget(target: unknown): string {
  if (typeof target !== "string" || !SAFE_URL.test(target)) throw invalid(`invalid redirect target ${JSON.stringify(target)}`);
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw invalid(`invalid redirect target ${JSON.stringify(target)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw invalid("redirect target must be an http or https URL");
  if (url.username || url.password) throw invalid("redirect target must not contain credentials");
  if (url.search || url.hash || target.includes("?") || target.includes("#")) throw invalid("redirect target must not have a query or fragment (the request's are kept)");
  validateHostname(url.hostname);
  const prefix = url.pathname.replace(/\/+$/, "");
  const out = `${url.protocol}//${url.host}${prefix}`;
  // URL() may percent-encode; re-check the final text
  if (!SAFE_URL.test(out) || /[{};"'\s$\\]/.test(out)) throw invalid(`invalid redirect target ${JSON.stringify(target)}`);
  return out;
}

/** The file name of a vhost in box's sites directory. */
export function vhostFileName(v: Vhost): string {
  switch (v.type) {
    case "app":
      if (typeof v.appId !== "string" || !APP_ID.test(v.appId)) throw invalid(`invalid app id ${JSON.stringify(v.appId)}`);
      return v.fileKey === undefined ? `app-${v.appId.toLowerCase()}.conf` : `app-${v.appId.toLowerCase()}--${validateHostname(v.fileKey)}.conf`;
    case "redirect":
      return `redirect-${validateHostname(v.fqdn)}.conf`;
    case "dashboard":
      return `dashboard-${validateHostname(v.fqdn)}.conf`;
    case "default-redirect":
      return DEFAULT_REDIRECT_FILE;
    default:
      throw invalid(`unknown vhost type ${JSON.stringify((v as { type?: unknown }).type)}`);
  }
}

function listen(port: number, ipv6: boolean, extra = ""): string[] {
  const lines = [`    listen ${port}${extra};`];
  if (ipv6) lines.push(`    listen [::]:${port}${extra};`);
  return lines;
}

function acmeLocation(o: RenderOptions): string[] {
  return [
    "    # ACME HTTP-01 tokens, served before the app exists and never redirected",
    "    location ^~ /.well-known/acme-challenge/ {",
    `        alias ${o.acmeChallengeDir}/;`,
    "        default_type text/plain;",
    "    }",
  ];
}

function httpServer(names: string, o: RenderOptions): string[] {
  const port = o.httpsPort === 443 ? "" : `:${o.httpsPort}`;
  return [
    "server {",
    ...listen(o.httpPort, o.ipv6),
    `    server_name ${names};`,
    "    server_tokens off;",
    "",
    ...acmeLocation(o),
    "",
    "    location / {",
    `        return 301 https://$host${port}$request_uri;`,
    "    }",
    "}",
  ];
}

function certVersion(v: TlsFiles): string | undefined {
  if (v.version !== undefined && !/^[A-Za-z0-9:._-]{1,200}$/.test(v.version)) throw invalid(`invalid certificate version ${JSON.stringify(v.version)}`);
  return v.version || undefined;
}

/** `tls` null: the certificate of the name the client asked for (SNI), from the flat layout's maps. */
function tlsLines(v: TlsFiles | null): string[] {
  const version = v ? certVersion(v) : undefined;
  return [
    ...(version ? [`    # certificate ${version}`] : []),
    ...(v
      ? [`    ssl_certificate     ${validatePath(v.certPath, "certPath")};`, `    ssl_certificate_key ${validatePath(v.keyPath, "keyPath")};`]
      : ["    # the certificate of the name asked for (SNI): the maps above", "    ssl_certificate     $hearth_cert;", "    ssl_certificate_key $hearth_cert_key;"]),
    "    ssl_protocols TLSv1.2 TLSv1.3;",
    "    ssl_prefer_server_ciphers off;",
    // the same zone as setup's dashboard vhost (same name and size, so nginx shares it)
    "    ssl_session_cache shared:hearth_ssl:10m;",
    "    ssl_session_timeout 1d;",
    "    ssl_session_tickets off;",
  ];
}

function securityHeaders(xFrameOptions: string): string[] {
  const lines = [
    `    add_header Strict-Transport-Security "${HSTS}" always;`,
    '    add_header X-Content-Type-Options "nosniff" always;',
    '    add_header Referrer-Policy "strict-origin-when-cross-origin" always;',
  ];
  if (xFrameOptions) lines.push(`    add_header X-Frame-Options "${xFrameOptions}" always;`);
  lines.push(
    "    # nginx's values win over the app's: a header is never sent twice",
    "    proxy_hide_header Strict-Transport-Security;",
    "    proxy_hide_header X-Content-Type-Options;",
    "    proxy_hide_header Referrer-Policy;",
  );
  if (xFrameOptions) lines.push("    proxy_hide_header X-Frame-Options;");
  lines.push("    proxy_hide_header X-Powered-By;");
  return lines;
}

function proxyHeaders(): string[] {
  return [
    "        proxy_http_version 1.1;",
    "        proxy_set_header Host              $host;",
    "        proxy_set_header X-Real-IP         $remote_addr;",
    "        proxy_set_header X-Forwarded-For   $remote_addr;",
    "        proxy_set_header X-Forwarded-Proto $scheme;",
    "        proxy_set_header X-Forwarded-Host  $host;",
    "        proxy_set_header X-Forwarded-Port  $server_port;",
    "        proxy_set_header Upgrade           $http_upgrade;",
    "        proxy_set_header Connection        $hearth_connection_upgrade;",
  ];
}

/**
 * `page`: the page's name without `.html`: an app's `app-state-<id>`, the flat layout's
 * `$hearth_app_page` (its map), or the dashboard's `app-unavailable`.
 */
function errorPage(o: RenderOptions, page: string): string[] {
  return [
    "    # the app is stopped, starting or not answering: its page says which, same status",
    "    error_page 502 503 504 /__hearth/app-unavailable.html;",
    "    location = /__hearth/app-unavailable.html {",
    "        internal;",
    `        alias ${o.errorPagesDir}/${page}.html;`,
    "        default_type text/html;",
    "        # no add_header here: it would drop the server's security headers",
    "    }",
  ];
}

function checkOptions(o: RenderOptions): RenderOptions {
  validatePort(o.httpPort, "httpPort");
  validatePort(o.httpsPort, "httpsPort");
  validatePath(o.acmeChallengeDir, "acmeChallengeDir");
  validatePath(o.errorPagesDir, "errorPagesDir");
  return { ...o, acmeChallengeDir: o.acmeChallengeDir.replace(/\/+$/, ""), errorPagesDir: o.errorPagesDir.replace(/\/+$/, "") };
}

function serverNames(fqdn: string, aliases: readonly string[] = []): string {
  const names = [validateHostname(fqdn)];
  if (!Array.isArray(aliases)) throw invalid("aliases must be a list of hostnames");
  for (const a of aliases) {
    const n = validateHostname(a, { wildcard: true });
    if (!names.includes(n)) names.push(n);
  }
  return names.join(" ");
}

/**
 * Every vhost is the same pair: an http server (ACME tokens, else redirect to https) and
 * an https server whose head (listen, names, TLS) is shared; `body` is what differs.
 */
function serverPair(comment: string, names: string, tls: TlsFiles | null, o: RenderOptions, body: string[]): string[] {
  // the flat layout (tls null) has one http server for every name
  return [
    comment,
    ...(tls ? [...httpServer(names, o), ""] : []),
    "server {",
    ...listen(o.httpsPort, o.ipv6, " ssl http2"),
    `    server_name ${names};`,
    "    server_tokens off;",
    "",
    ...tlsLines(tls),
    ...body,
    "}",
  ];
}

function proxyLocation(port: number | "$hearth_app_port", extra: string[]): string[] {
  return ["    location / {", `        proxy_pass http://127.0.0.1:${port};`, ...proxyHeaders(), ...extra, "    }"];
}

function validateState(state: unknown): AppPageState {
  if (state === undefined) return "not_responding";
  if (!(APP_PAGE_STATES as readonly unknown[]).includes(state)) throw invalid(`invalid app state ${JSON.stringify(state)}`);
  return state as AppPageState;
}

function renderApp(v: AppVhost, o: RenderOptions): string[] {
  const names = serverNames(v.fqdn, v.aliases);
  const port = validatePort(v.upstreamPort, "upstreamPort");
  const xfo = validateXFrameOptions(v.xFrameOptions);
  vhostFileName(v); // checks the id
  const page = appPageName(v.appId);
  if (validateState(v.state) === "stopped") return stoppedServers(`# app ${v.appId} (stopped)`, names, v, xfo, page, o);
  return appServers(`# app ${v.appId}`, names, v, port, xfo, page, o);
}

/**
 * A stopped app's servers: nothing is proxied, every request gets 503 and the app's page
 * ("stopped by the administrator"); ACME tokens are still served (renewals go on).
 */
function stoppedServers(comment: string, names: string, tls: TlsFiles | null, xfo: string, page: string, o: RenderOptions): string[] {
  return serverPair(comment, names, tls, o, ["", ...securityHeaders(xfo), "", ...acmeLocation(o), "", ...errorPage(o, page), "", "    location / {", "        return 503;", "    }"]);
}

/** An app's servers: `tls` and `port` fixed, or null and "$hearth_app_port" in the flat layout. */
function appServers(comment: string, names: string, tls: TlsFiles | null, port: number | "$hearth_app_port", xfo: string, page: string, o: RenderOptions): string[] {
  return serverPair(comment, names, tls, o, [
    "",
    ...securityHeaders(xfo),
    "",
    "    # uploads of any size; big downloads must not stall at the temp-file limit",
    "    client_max_body_size 0;",
    "    proxy_buffer_size 128k;",
    "    proxy_buffers 4 256k;",
    "    proxy_busy_buffers_size 256k;",
    "    proxy_max_temp_file_size 0;",
    "",
    ...acmeLocation(o),
    "",
    ...errorPage(o, page),
    "",
    ...proxyLocation(port, ["        proxy_read_timeout 1h;", "        proxy_send_timeout 1h;"]),
  ]);
}

function renderRedirect(v: RedirectVhost, o: RenderOptions): string[] {
  const names = serverNames(v.fqdn);
  const target = validateRedirectTarget(v.target);
  return redirectServers(`# redirect ${names} -> ${target}`, names, v, target, o);
}

/** `tls` and `target` fixed, or null and "$hearth_redirect" in the flat layout. */
function redirectServers(comment: string, names: string, tls: TlsFiles | null, target: string, o: RenderOptions): string[] {
  return serverPair(comment, names, tls, o, [
    `    add_header Strict-Transport-Security "${HSTS}" always;`,
    "",
    ...acmeLocation(o),
    "",
    "    location / {",
    `        return 301 ${target}$request_uri;`,
    "    }",
  ]);
}

function renderDashboard(v: DashboardVhost, o: RenderOptions): string[] {
  const names = serverNames(v.fqdn);
  const port = validatePort(v.upstreamPort ?? DEFAULT_DASHBOARD_PORT, "upstreamPort");
  return serverPair(`# dashboard ${names}`, names, v, o, [
    "",
    ...securityHeaders("DENY"),
    "",
    "    # backups and app packages are uploaded through the dashboard",
    "    client_max_body_size 2g;",
    "",
    ...acmeLocation(o),
    "",
    ...errorPage(o, ERROR_PAGE_FILE.replace(/\.html$/, "")),
    "",
    ...proxyLocation(port, [
      "        # admin believes X-Real-IP only with this; the value is in root's nginx config (hearth.conf's map)",
      "        proxy_set_header X-Hearth-Proxy-Secret $hearth_proxy_secret;",
      "        # server-sent events (task progress, logs) reach the browser as they are written",
      "        proxy_buffering off;",
      "        proxy_cache off;",
      "        proxy_request_buffering off;",
      "        proxy_read_timeout 1h;",
      "        proxy_send_timeout 1h;",
    ]),
  ]);
}

/** One vhost as nginx config text. Throws HearthError `invalid` on any bad value. */
export function renderVhost(v: Vhost, options: RenderOptions): string {
  const o = checkOptions(options);
  const header = "# Written by Hearth's box from its database; edits are overwritten.\n";
  switch (v.type) {
    case "app":
      return header + renderApp(v, o).join("\n") + "\n";
    case "redirect":
      return header + renderRedirect(v, o).join("\n") + "\n";
    case "dashboard":
      return header + renderDashboard(v, o).join("\n") + "\n";
    case "default-redirect":
      return header + `# included by setup's default server: the IP URL goes to the dashboard's name\nreturn 301 ${validateRedirectTarget(v.target)}$request_uri;\n`;
    default:
      throw invalid(`unknown vhost type ${JSON.stringify((v as { type?: unknown }).type)}`);
  }
}

/**
 * The whole set: file name → config text. Two vhosts may not claim the same file or the
 * same server name (nginx would silently pick one), so that is refused too.
 */
export function renderVhosts(vhosts: readonly Vhost[], options: RenderOptions): Map<string, string> {
  const files = new Map<string, string>();
  const owners = new Map<string, string>();
  for (const v of vhosts) {
    const name = vhostFileName(v);
    if (files.has(name)) throw new HearthError("conflict", `two vhosts would both be written to ${name}`);
    if (v.type === "default-redirect") {
      files.set(name, renderVhost(v, options));
      continue;
    }
    const names = v.type === "app" ? serverNames(v.fqdn, v.aliases) : serverNames(v.fqdn);
    for (const n of names.split(" ")) {
      const other = owners.get(n);
      if (other) throw new HearthError("conflict", `${n} is served by both ${other} and ${name}`);
      owners.set(n, name);
    }
    files.set(name, renderVhost(v, options));
  }
  return files;
}

/**
 * The flat layout (see box's README, "nginx's cost per vhost"): every app and redirect name in
 * one file, FLAT_FILE, with a constant number of `server` blocks whatever the number of
 * names, so nginx's parse (reload) does not grow with the apps: per name it holds map
 * entries only. The file has
 *   - `map $host $hearth_app_port` (the app's port), `map $host $hearth_redirect` (where a
 *     redirect name goes; the request's path and query are appended), and `map
 *     $ssl_server_name $hearth_cert` / `$hearth_cert_key` (each name its own certificate, as
 *     with one server per name), all with `hostnames` so a wildcard alias works;
 *   - one plain-http server for every name (ACME tokens, else 301 to https);
 *   - `map $host $hearth_app_page`: each app name's page (`app-state-<id>`, see pages.ts);
 *   - one https server per X-Frame-Options value in use (the only setting that differs
 *     between apps; `proxy_hide_header` cannot take a variable), one for the redirects, and
 *     one per X-Frame-Options value of stopped apps (503 and their page, never proxied:
 *     their names are in no port map).
 * Dashboards and the default redirect are rendered as by renderVhosts (a file each). A name
 * no map holds never reaches these servers (nginx picks the default server).
 */
export function renderFlatVhosts(vhosts: readonly Vhost[], options: RenderOptions): Map<string, string> {
  const o = checkOptions(options);
  const files = new Map<string, string>();
  const owners = new Map<string, string>();
  const claim = (n: string, by: string) => {
    const other = owners.get(n);
    if (other) throw new HearthError("conflict", `${n} is served by both ${other} and ${by}`);
    owners.set(n, by);
  };
  const ports: string[] = [];
  const pages: string[] = [];
  const stopped = new Map<string, string[]>(); // X-Frame-Options value -> names of stopped apps
  const targets: string[] = [];
  const certs: string[] = [];
  const keys: string[] = [];
  const classes = new Map<string, string[]>(); // X-Frame-Options value -> names
  const redirects: string[] = [];
  const tlsFor = (n: string, v: TlsFiles) => {
    const version = certVersion(v);
    if (version) certs.push(`    # certificate ${version}`);
    certs.push(`    ${n} ${validatePath(v.certPath, "certPath")};`);
    keys.push(`    ${n} ${validatePath(v.keyPath, "keyPath")};`);
  };
  for (const v of vhosts) {
    if (v.type === "dashboard" || v.type === "default-redirect") {
      const name = vhostFileName(v);
      if (files.has(name)) throw new HearthError("conflict", `two vhosts would both be written to ${name}`);
      if (v.type === "dashboard") claim(validateHostname(v.fqdn), name);
      files.set(name, renderVhost(v, options));
      continue;
    }
    const by = vhostFileName(v);
    if (v.type === "app") {
      const port = validatePort(v.upstreamPort, "upstreamPort");
      const xfo = validateXFrameOptions(v.xFrameOptions);
      const isStopped = validateState(v.state) === "stopped";
      const page = appPageName(v.appId);
      for (const n of serverNames(v.fqdn, v.aliases).split(" ")) {
        claim(n, by);
        if (!isStopped) ports.push(`    ${n} ${port};`);
        pages.push(`    ${n} ${page};`);
        tlsFor(n, v);
        const into = isStopped ? stopped : classes;
        into.set(xfo, [...(into.get(xfo) ?? []), n]);
      }
    } else if (v.type === "redirect") {
      const n = validateHostname(v.fqdn);
      claim(n, by);
      targets.push(`    ${n} ${validateRedirectTarget(v.target)};`);
      tlsFor(n, v);
      redirects.push(n);
    } else {
      throw invalid(`unknown vhost type ${JSON.stringify((v as { type?: unknown }).type)}`);
    }
  }
  if (pages.length === 0 && targets.length === 0) return files;
  const map = (from: string, to: string, entries: string[]) => [`map ${from} ${to} {`, "    hostnames;", '    default "";', ...entries, "}"];
  const all = [...[...classes.values()].flat(), ...[...stopped.values()].flat(), ...redirects];
  const out = [
    "# Written by Hearth's box from its database; edits are overwritten.",
    "# Every app and redirect name: a constant number of servers, the per-name values in maps.",
    ...map("$host", "$hearth_app_port", ports),
    ...map("$host", "$hearth_app_page", pages),
    ...map("$host", "$hearth_redirect", targets),
    ...map("$ssl_server_name", "$hearth_cert", certs),
    ...map("$ssl_server_name", "$hearth_cert_key", keys),
    "",
    ...httpServer(all.join(" "), o),
  ];
  // a fixed order, so the text changes only when the names do
  for (const xfo of [DEFAULT_X_FRAME_OPTIONS, "DENY", ""]) {
    const names = classes.get(xfo);
    if (!names) continue;
    out.push("", ...appServers(`# apps with X-Frame-Options ${xfo || "(the app's own)"}`, names.join(" "), null, "$hearth_app_port", xfo, "$hearth_app_page", o));
  }
  for (const xfo of [DEFAULT_X_FRAME_OPTIONS, "DENY", ""]) {
    const names = stopped.get(xfo);
    if (!names) continue;
    out.push("", ...stoppedServers(`# stopped apps with X-Frame-Options ${xfo || "(the app's own)"}: 503 and their page`, names.join(" "), null, xfo, "$hearth_app_page", o));
  }
  if (redirects.length > 0) out.push("", ...redirectServers("# redirects: 301 to the target of the name, path and query kept", redirects.join(" "), null, "$hearth_redirect", o));
  files.set(FLAT_FILE, `${out.join("\n")}\n`);
  return files;
}
