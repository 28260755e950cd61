// Root helper: installs box's nginx vhost set into a root-owned folder, after checking every
// file against the directives Hearth renders (apps/box/src/proxy/vhost.ts), then reloads;
// when nginx refuses the set the previous set is put back. `nginx -t` runs first, always (a
// set it refuses never stays live); then, with a running master and its error log
// (/var/log/nginx/error.log, or --nginx-error-log), the reload is watched too: a master that
// cannot load the set (a port another process holds) logs [emerg] and keeps the old set and
// workers; the helper reads that line and puts the previous set back. nginx's error log is
// the one file root reads that another user (nginx's workers) can write: its content decides
// only whether the previous set is put back.
//
//   box:   sudo -n /opt/hearth/app/setup/sudo/install-vhosts.sh  < payload.json
//   tests: node install-vhosts.mjs --root DIR --public-dir DIR --nginx-prefix DIR --nginx-conf FILE < payload.json
//
// The .sh wrapper (the only thing /etc/sudoers.d/hearth allows) takes no arguments and runs
// this file with a clean environment, so a sudo caller can pass nothing but stdin. The same
// options may be in install-vhosts.conf next to this file (one "--option value" a line),
// used only when that file and its folder are root's and writable by no one else: tests
// point a copy of the helper at their own nginx that way; an install has no such file.
// This file imports only node:* built-ins: it loads no code from a path another user can write.
//
// stdin, either the whole set:
//   {"sites": {"<file>": "<text>", ...}, "certs": {"<name>": {"cert": PEM, "key": PEM}, ...}}
// or a delta against the live generation (what box sends once it knows it):
//   {"base": "gen-<id>", "sites": {written or replaced}, "certs": {new ones}, "remove": ["<file>", ...]}
//   - file names: hearth-apps.conf (the flat layout: every app and redirect name in maps, the
//     default), app-*.conf, redirect-*.conf (the per-vhost layout), dashboard-*.conf, default-redirect.inc
//   - every ssl_certificate(_key) must be <root>/live/certs/<name>.crt|.key of a cert given
//     here (or, for a delta, one the live generation holds)
//   - a delta is applied to root's own live files and the whole result checked again; a
//     certificate no file names any more is dropped; a delta that changes nothing installs
//     and reloads nothing. Unchanged files are hard links to the previous generation's.
// Layout (all root's):
//   <root>/live             symlink to the current generation (swapped atomically)
//   <root>/gen-<id>/sites/  the vhost files   (nginx: include <root>/live/sites/*.conf;)
//   <root>/gen-<id>/certs/  <name>.crt, <name>.key (0600): root's nginx never reads a PEM box can write;
//                           with the flat layout's hearth-apps.conf (certificates by variable,
//                           opened by the workers at each handshake) the folder is 0750 and the
//                           files 0640, group of nginx's workers (--nginx-group, else the running
//                           workers' group, else www-data)
// Exit: 0 installed (or unchanged), 2 refused (nothing touched), 1 nginx rejected the set
// (nginx -t, or the master on reload: previous set restored, nginx serves it as before), 3 reload failed, 4 internal error, 5 the delta's
// base is not the live generation (nothing touched: send the whole set). stdout/stderr end
// with "live=<gen>" naming the live generation after the run, when there is one.
// Reload = SIGHUP to the master named by /run/nginx.pid (or --nginx-pid), else start nginx.
import { spawnSync } from "node:child_process";
import { createPrivateKey, X509Certificate, randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const DEFAULT_ROOT = "/etc/nginx/hearth";
export const DEFAULT_PUBLIC_DIR = "/var/lib/hearth-public";
export const MAX_INPUT = 16 * 1024 * 1024;
export /** admin listens on 127.0.0.1:3000 (systemd/hearth-admin.service, setup/lib/supervise.sh). */
const ADMIN_PORT = 3000;
const SITE_FILE = /^((app|redirect|dashboard)-[a-z0-9._-]{1,253}\.conf|hearth-apps\.conf|default-redirect\.inc)$/;
/** The flat layout's file (apps/box/src/proxy/vhost.ts renderFlatVhosts): the only one with maps. */
export const FLAT_FILE = "hearth-apps.conf";
/** The maps the flat file may define: "<source> <variable>" → what its values are. */
const FLAT_MAPS = new Map([
  ["$host $hearth_app_port", "port"],
  ["$host $hearth_app_page", "page"],
  ["$host $hearth_redirect", "redirect"],
  ["$ssl_server_name $hearth_cert", "cert"],
  ["$ssl_server_name $hearth_cert_key", "key"],
]);
export const CERT_NAME = /^[a-z0-9][a-z0-9_-]{0,127}$/;
/** An app's page under <public dir>/pages/ (apps/box/src/proxy/pages.ts), without ".html". */
const APP_PAGE = /^app-state-[a-z0-9_-]{1,64}$/;
const GEN = /^gen-[a-z0-9]+-[a-f0-9]+$/;

export class Refusal extends Error {
  constructor(message) {
    super(message);
    this.name = "Refusal";
  }
}

// ---------------------------------------------------------------------------------------
// Tokenizer: nginx's configuration syntax (words, "quoted" / 'quoted' strings, ; { } and
// # comments). Refuses what Hearth never renders: control characters, non-ASCII, ${...}.

/** @returns {{type: "word"|"string"|";"|"{"|"}", value: string, line: number}[]} */
export function tokenize(text, file = "<input>") {
  const tokens = [];
  let i = 0;
  let line = 1;
  const fail = (msg) => {
    throw new Refusal(`${file}:${line}: ${msg}`);
  };
  while (i < text.length) {
    const c = text[i];
    const code = text.charCodeAt(i);
    if (code > 0x7e || (code < 0x20 && c !== "\n" && c !== "\t" && c !== "\r")) fail(`character U+${code.toString(16).padStart(4, "0")} is not allowed`);
    if (c === "\n") {
      line++;
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "#") {
      while (i < text.length && text[i] !== "\n") {
        const cc = text.charCodeAt(i);
        if (cc > 0x7e || (cc < 0x20 && text[i] !== "\t" && text[i] !== "\r")) fail(`character U+${cc.toString(16).padStart(4, "0")} is not allowed`);
        i++;
      }
      continue;
    }
    if (c === ";" || c === "{" || c === "}") {
      tokens.push({ type: c, value: c, line });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const start = line;
      let v = "";
      i++;
      for (;;) {
        if (i >= text.length) throw new Refusal(`${file}:${start}: unterminated string`);
        const d = text[i];
        // Hearth renders no escapes, and nginx reads \n, \r, \t in a string as the control
        // characters (a header value could split the response): refuse every backslash
        if (d === "\\") fail("backslash escapes are not allowed in strings");
        if (d === c) {
          i++;
          break;
        }
        if (d === "\n") fail("a string may not span lines");
        if (!/^[\x20-\x7e]$/.test(d)) fail("only printable ASCII is allowed in strings");
        v += d;
        i++;
      }
      const next = text[i];
      if (next !== undefined && !/[\s;{}]/.test(next)) fail(`unexpected ${JSON.stringify(next)} after a quoted string`);
      if (v.includes("${")) fail("${...} variables are not allowed");
      tokens.push({ type: "string", value: v, line: start });
      continue;
    }
    let v = "";
    while (i < text.length && !/[\s;{}]/.test(text[i])) {
      if (text[i] === "\\") fail("backslash escapes are not allowed");
      if (text[i] === "#" && v === "") break;
      const cc = text.charCodeAt(i);
      if (cc > 0x7e || cc < 0x20) fail(`character U+${cc.toString(16).padStart(4, "0")} is not allowed`);
      v += text[i];
      i++;
    }
    if (v.includes("$") && text[i] === "{") fail("${...} variables are not allowed");
    tokens.push({ type: "word", value: v, line });
  }
  return tokens;
}

/**
 * @typedef {{name: string, args: {type: string, value: string}[], line: number, block: Directive[] | null}} Directive
 * @returns {Directive[]}
 */
export function parse(text, file = "<input>") {
  const tokens = tokenize(text, file);
  let p = 0;
  // inside a map block the "directives" are its entries: a hostname (or *.wildcard) and a value
  const block = (depth, inMap = false) => {
    const out = [];
    for (;;) {
      const t = tokens[p];
      if (!t) {
        if (depth > 0) throw new Refusal(`${file}: unexpected end of file: a block is not closed`);
        return out;
      }
      if (t.type === "}") {
        if (depth === 0) throw new Refusal(`${file}:${t.line}: unexpected "}"`);
        p++;
        return out;
      }
      if (t.type !== "word" || !(inMap ? /^[a-z0-9*][a-z0-9.*-]*$/ : /^[a-z_][a-z0-9_]*$/).test(t.value))
        throw new Refusal(`${file}:${t.line}: expected a directive name, got ${JSON.stringify(t.value)}`);
      p++;
      const d = { name: t.value, args: [], line: t.line, block: null };
      for (;;) {
        const a = tokens[p];
        if (!a) throw new Refusal(`${file}:${t.line}: directive "${d.name}" is not terminated by ";"`);
        if (a.type === ";") {
          p++;
          break;
        }
        if (a.type === "{") {
          if (depth >= 3) throw new Refusal(`${file}:${a.line}: blocks nested too deep`);
          p++;
          d.block = block(depth + 1, d.name === "map" && depth === 0);
          break;
        }
        if (a.type === "}") throw new Refusal(`${file}:${a.line}: directive "${d.name}" is not terminated by ";"`);
        d.args.push({ type: a.type, value: a.value });
        p++;
      }
      out.push(d);
    }
  };
  return block(0);
}

// ---------------------------------------------------------------------------------------
// Validator: an allowlist of the directives vhost.ts renders, per context, with their values.

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const SIZE = /^\d{1,10}[kKmMgG]?$/;
const DURATION = /^\d{1,7}(ms|s|m|h|d)?$/;
const HEADER_VALUE = /^[A-Za-z0-9 =;,._-]{0,200}$/;

function isPort(s) {
  return /^[1-9]\d{0,4}$/.test(s) && Number(s) <= 65535;
}

function isHostname(name, wildcard) {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  if (labels.length < 2) return false;
  for (let i = 0; i < labels.length; i++) {
    if (i === 0 && wildcard && labels[i] === "*") continue;
    if (!LABEL.test(labels[i])) return false;
  }
  return !/^\d+$/.test(labels[labels.length - 1]);
}

/** https://$host[:port]$request_uri, or http(s)://host[:port][/prefix]$request_uri */
function isRedirectTarget(s) {
  const m = /^(https?):\/\/([^/:$]+|\$host)(?::(\d+))?((?:\/[A-Za-z0-9._~%!&*+,=@:-]+)*)\$request_uri$/.exec(s);
  if (!m) return false;
  if (m[2] === "$host") return m[1] === "https" && (m[3] === undefined || isPort(m[3])) && m[4] === "";
  return isHostname(m[2], false) && (m[3] === undefined || isPort(m[3]));
}

export const PROXY_HEADERS = new Map([
  ["Host", "$host"],
  ["X-Real-IP", "$remote_addr"],
  ["X-Forwarded-For", "$remote_addr"],
  ["X-Forwarded-Proto", "$scheme"],
  ["X-Forwarded-Host", "$host"],
  ["X-Forwarded-Port", "$server_port"],
  ["Upgrade", "$http_upgrade"],
  ["Connection", "$hearth_connection_upgrade"],
]);
const ADD_HEADERS = new Set(["Strict-Transport-Security", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"]);
const HIDE_HEADERS = new Set([...ADD_HEADERS, "X-Powered-By"]);
const EXACT = {
  server_tokens: ["off"],
  ssl_protocols: ["TLSv1.2", "TLSv1.3"],
  ssl_prefer_server_ciphers: ["off"],
  ssl_session_cache: ["shared:hearth_ssl:10m"],
  ssl_session_timeout: ["1d"],
  ssl_session_tickets: ["off"],
  error_page: ["502", "503", "504", "/__hearth/app-unavailable.html"],
  proxy_http_version: ["1.1"],
  proxy_buffering: ["off"],
  proxy_cache: ["off"],
  proxy_request_buffering: ["off"],
  internal: [],
};

/**
 * Checks one parsed file. `o`: {file, root, publicDir, certs: Set of cert names}.
 * Throws Refusal naming the file, line and reason; returns the cert names it references.
 */
export function validateSite(file, text, o) {
  if (!SITE_FILE.test(file)) throw new Refusal(`${JSON.stringify(file)} is not a vhost file name (app-*.conf, redirect-*.conf, dashboard-*.conf, default-redirect.inc)`);
  const tree = parse(text, file);
  const used = new Set();
  const certDir = `${o.root}/live/certs/`;
  const at = (d) => `${file}:${d.line}`;
  const refuse = (d, msg) => {
    throw new Refusal(`${at(d)}: ${msg}`);
  };
  const words = (d, n) => {
    if (n !== undefined && d.args.length !== n) refuse(d, `"${d.name}" takes ${n} argument(s), got ${d.args.length}`);
    for (const a of d.args) if (a.type !== "word") refuse(d, `"${d.name}" does not take quoted strings`);
    return d.args.map((a) => a.value);
  };
  const noBlock = (d) => {
    if (d.block) refuse(d, `"${d.name}" does not take a block`);
  };
  const exact = (d) => {
    const want = EXACT[d.name];
    const got = words(d);
    if (got.length !== want.length || got.some((v, i) => v !== want[i])) refuse(d, `"${d.name} ${got.join(" ")}" is not what Hearth renders (${[d.name, ...want].join(" ")})`);
  };
  const logPath = (d) => {
    const v = words(d);
    if (v.length === 1 && v[0] === "off" && d.name === "access_log") return;
    if (v.length < 1 || v.length > (d.name === "error_log" ? 2 : 1)) refuse(d, `"${d.name}" takes a file in /var/log/nginx/${d.name === "error_log" ? " and a level" : ""}`);
    if (!/^\/var\/log\/nginx\/[A-Za-z0-9_-][A-Za-z0-9._-]{0,200}$/.test(v[0]) || v[0].includes(".."))
      refuse(d, `"${d.name}" may only write a file directly in /var/log/nginx/ (got ${JSON.stringify(v[0])})`);
    if (v[1] !== undefined && !["debug", "info", "notice", "warn", "error", "crit"].includes(v[1])) refuse(d, `error_log level ${JSON.stringify(v[1])} is not allowed`);
  };
  const flat = file === FLAT_FILE;
  const returnDirective = (d, kind) => {
    // a stopped app's https "location /": 503 and its page (error_page), nothing proxied
    if (kind === "root" && d.args.length === 1 && words(d, 1)[0] === "503") return;
    const v = words(d, 2);
    if (v[0] !== "301") refuse(d, `"return" may only be a 301 redirect`);
    if (flat && v[1] === "$hearth_redirect$request_uri") return;
    if (!isRedirectTarget(v[1])) refuse(d, `redirect target ${JSON.stringify(v[1])} is not https://$host[:port]$request_uri or an http(s) URL of a hostname followed by $request_uri`);
  };

  const locationBody = (loc, kind) => {
    for (const d of loc.block) {
      noBlock(d);
      switch (d.name) {
        case "alias": {
          const v = words(d, 1)[0];
          const pages = `${o.publicDir}/pages/`;
          if (kind === "error" && v.startsWith(pages) && v.endsWith(".html")) {
            // the dashboard's page, an app's page, or (the flat file) the page its map names
            const page = v.slice(pages.length, -".html".length);
            if (page === "app-unavailable" || APP_PAGE.test(page)) break;
            if (flat && page === "$hearth_app_page") {
              pageVariable = d;
              break;
            }
          }
          const want = kind === "acme" ? `${o.publicDir}/acme-challenges/` : kind === "error" ? `${pages}app-unavailable.html or ${pages}app-state-<id>.html` : null;
          if (v !== want) refuse(d, `"alias ${v}" is not allowed here${want ? ` (only ${want})` : ""}`);
          break;
        }
        case "default_type": {
          const v = words(d, 1)[0];
          const want = kind === "acme" ? "text/plain" : kind === "error" ? "text/html" : null;
          if (v !== want) refuse(d, `"default_type ${v}" is not allowed here`);
          break;
        }
        case "internal":
          if (kind !== "error") refuse(d, `"internal" is only allowed in the error page's location`);
          exact(d);
          break;
        case "proxy_pass": {
          if (kind !== "root") refuse(d, `"proxy_pass" is only allowed in "location /"`);
          const v = words(d, 1)[0];
          const m = /^http:\/\/127\.0\.0\.1:(\d+)$/.exec(v);
          if (flat && v === "http://127.0.0.1:$hearth_app_port") break;
          if (!m || !isPort(m[1])) refuse(d, `proxy_pass may only go to http://127.0.0.1:<port> (got ${JSON.stringify(v)})`);
          break;
        }
        case "proxy_set_header": {
          if (kind !== "root") refuse(d, `"proxy_set_header" is only allowed in "location /"`);
          const [name, value] = words(d, 2);
          // the secret admin believes X-Real-IP with goes to admin only: a dashboard vhost
          // whose location proxies to admin's port (any other upstream would learn it)
          if (name === "X-Hearth-Proxy-Secret" && value === "$hearth_proxy_secret" && file.startsWith("dashboard-")) {
            const upstream = loc.block.filter((x) => x.name === "proxy_pass").map((x) => x.args[0]?.value);
            const admin = `http://127.0.0.1:${o.adminPort ?? ADMIN_PORT}`;
            if (upstream.length !== 1 || upstream[0] !== admin) refuse(d, `X-Hearth-Proxy-Secret may only be sent to admin (proxy_pass ${admin})`);
            break;
          }
          if (PROXY_HEADERS.get(name) !== value) refuse(d, `"proxy_set_header ${name} ${value}" is not one Hearth renders`);
          break;
        }
        case "proxy_read_timeout":
        case "proxy_send_timeout":
          if (kind !== "root") refuse(d, `"${d.name}" is only allowed in "location /"`);
          if (!DURATION.test(words(d, 1)[0])) refuse(d, `"${d.name}" must be a duration`);
          break;
        case "proxy_http_version":
        case "proxy_buffering":
        case "proxy_cache":
        case "proxy_request_buffering":
          if (kind !== "root") refuse(d, `"${d.name}" is only allowed in "location /"`);
          exact(d);
          break;
        case "return":
          if (kind !== "root" && kind !== "http-root") refuse(d, `"return" is not allowed here`);
          returnDirective(d, kind);
          break;
        default:
          refuse(d, `directive "${d.name}" is not allowed in a location`);
      }
    }
  };

  const location = (d, http) => {
    if (!d.block) refuse(d, `"location" needs a block`);
    const v = words(d);
    const key = v.join(" ");
    let kind;
    if (key === "^~ /.well-known/acme-challenge/") kind = "acme";
    else if (key === "= /__hearth/app-unavailable.html" && !http) kind = "error";
    else if (key === "/") kind = http ? "http-root" : "root";
    else refuse(d, `"location ${key}" is not one Hearth renders`);
    locationBody(d, kind);
  };

  const server = (srv) => {
    if (srv.args.length) refuse(srv, `"server" takes no arguments`);
    if (!srv.block) refuse(srv, `"server" needs a block`);
    const listens = srv.block.filter((d) => d.name === "listen");
    const https = listens.some((d) => d.args.some((a) => a.value === "ssl"));
    let cert = null;
    let key = null;
    for (const d of srv.block) {
      if (d.name === "location") {
        location(d, !https);
        continue;
      }
      noBlock(d);
      switch (d.name) {
        case "listen": {
          const [addr, ...flags] = words(d);
          const m = /^(?:\[::\]:)?(\d+)$/.exec(addr ?? "");
          if (!m || !isPort(m[1])) refuse(d, `"listen ${addr}" must be a port or [::]:port`);
          for (const f of flags) if (f !== "ssl" && f !== "http2") refuse(d, `listen option ${JSON.stringify(f)} is not allowed (only ssl, http2)`);
          if (new Set(flags).size !== flags.length) refuse(d, "repeated listen option");
          break;
        }
        case "server_name": {
          const v = words(d);
          if (v.length === 0) refuse(d, `"server_name" needs a name`);
          for (const n of v) if (!isHostname(n, true)) refuse(d, `server name ${JSON.stringify(n)} is not a hostname`);
          break;
        }
        case "ssl_certificate":
        case "ssl_certificate_key": {
          if (!https) refuse(d, `"${d.name}" in a server that does not listen with ssl`);
          const v = words(d, 1)[0];
          if (flat && v === (d.name === "ssl_certificate" ? "$hearth_cert" : "$hearth_cert_key")) {
            // the certificate of the name asked for, from the maps (checked below)
            if (d.name === "ssl_certificate") cert = "$map";
            else key = "$map";
            break;
          }
          const ext = d.name === "ssl_certificate" ? ".crt" : ".key";
          const name = v.startsWith(certDir) && v.endsWith(ext) ? v.slice(certDir.length, -ext.length) : null;
          if (name === null || !CERT_NAME.test(name)) refuse(d, `"${d.name}" must be ${certDir}<name>${ext} (got ${JSON.stringify(v)})`);
          if (!o.certs.has(name)) refuse(d, `"${d.name}" names certificate ${JSON.stringify(name)}, which is not in the set handed over`);
          if (d.name === "ssl_certificate") cert = name;
          else key = name;
          used.add(name);
          break;
        }
        case "add_header": {
          if (!https) refuse(d, `"add_header" is only allowed in the https server`);
          if (d.args.length !== 3 || d.args[0].type !== "word" || d.args[2].type !== "word" || d.args[2].value !== "always") refuse(d, `"add_header" must be: add_header <name> "<value>" always`);
          const [name, value] = [d.args[0].value, d.args[1].value];
          if (!ADD_HEADERS.has(name)) refuse(d, `header ${JSON.stringify(name)} is not one Hearth adds`);
          if (!HEADER_VALUE.test(value)) refuse(d, `header value ${JSON.stringify(value)} has characters Hearth never renders`);
          break;
        }
        case "proxy_hide_header": {
          const v = words(d, 1)[0];
          if (!HIDE_HEADERS.has(v)) refuse(d, `"proxy_hide_header ${v}" is not one Hearth renders`);
          break;
        }
        case "client_max_body_size":
        case "proxy_buffer_size":
        case "proxy_busy_buffers_size":
        case "proxy_max_temp_file_size":
          if (!SIZE.test(words(d, 1)[0])) refuse(d, `"${d.name}" must be a size`);
          break;
        case "proxy_buffers": {
          const v = words(d, 2);
          if (!/^\d{1,4}$/.test(v[0]) || !SIZE.test(v[1])) refuse(d, `"proxy_buffers" must be <number> <size>`);
          break;
        }
        case "access_log":
        case "error_log":
          logPath(d);
          break;
        case "server_tokens":
        case "ssl_protocols":
        case "ssl_prefer_server_ciphers":
        case "ssl_session_cache":
        case "ssl_session_timeout":
        case "ssl_session_tickets":
        case "error_page":
          exact(d);
          break;
        default:
          refuse(d, `directive "${d.name}" is not allowed in a server`);
      }
    }
    if (listens.length === 0) refuse(srv, `a server without "listen"`);
    if (https && (cert === null || key === null || cert !== key)) refuse(srv, "an https server needs ssl_certificate and ssl_certificate_key of the same certificate");
    if (cert === "$map" && !maps.has("cert")) refuse(srv, "ssl_certificate $hearth_cert without its map");
  };

  const maps = new Map(); // kind → Map host → value
  let pageVariable = null; // an alias naming $hearth_app_page (needs its map)
  const map = (d) => {
    if (!flat) refuse(d, `"map" is only allowed in ${FLAT_FILE}`);
    if (!d.block) refuse(d, `"map" needs a block`);
    const key = words(d, 2).join(" ");
    const kind = FLAT_MAPS.get(key);
    if (!kind) refuse(d, `"map ${key}" is not one Hearth renders`);
    if (maps.has(kind)) refuse(d, `"map ${key}" is defined twice`);
    const entries = new Map();
    maps.set(kind, entries);
    d.block.forEach((e, i) => {
      if (e.block) refuse(e, "a map entry does not take a block");
      if (i === 0) {
        if (e.name !== "hostnames" || e.args.length !== 0) refuse(e, `a map starts with "hostnames;"`);
        return;
      }
      if (i === 1) {
        if (e.name !== "default" || e.args.length !== 1 || e.args[0].type !== "string" || e.args[0].value !== "") refuse(e, `a map's second line is 'default "";'`);
        return;
      }
      if (!isHostname(e.name, true)) refuse(e, `map entry ${JSON.stringify(e.name)} is not a hostname`);
      if (entries.has(e.name)) refuse(e, `${e.name} is in "map ${key}" twice`);
      const v = words(e, 1)[0];
      if (kind === "port") {
        if (!isPort(v)) refuse(e, `${e.name}: ${JSON.stringify(v)} is not a port`);
      } else if (kind === "page") {
        if (!APP_PAGE.test(v)) refuse(e, `${e.name}: ${JSON.stringify(v)} is not an app's page (app-state-<id>)`);
      } else if (kind === "redirect") {
        if (v.includes("$") || !isRedirectTarget(`${v}$request_uri`)) refuse(e, `${e.name}: redirect target ${JSON.stringify(v)} is not an http(s) URL of a hostname`);
      } else {
        const ext = kind === "cert" ? ".crt" : ".key";
        const name = v.startsWith(certDir) && v.endsWith(ext) ? v.slice(certDir.length, -ext.length) : null;
        if (name === null || !CERT_NAME.test(name)) refuse(e, `${e.name}: the certificate must be ${certDir}<name>${ext} (got ${JSON.stringify(v)})`);
        if (!o.certs.has(name)) refuse(e, `${e.name}: certificate ${JSON.stringify(name)} is not in the set handed over`);
        entries.set(e.name, name);
        used.add(name);
        return;
      }
      entries.set(e.name, v);
    });
  };

  if (file.endsWith(".inc")) {
    // included inside setup's default server: one redirect and nothing else
    if (tree.length !== 1 || tree[0].name !== "return" || tree[0].block) throw new Refusal(`${file}: may only hold one "return 301 <url>$request_uri;"`);
    returnDirective(tree[0]);
  } else {
    if (tree.length === 0) throw new Refusal(`${file}: holds no server`);
    for (const d of tree) {
      if (d.name === "map") map(d);
      else if (d.name !== "server") refuse(d, `directive "${d.name}" is not allowed at the top of a vhost file (only "server" blocks${flat ? ' and "map"' : ""})`);
    }
    for (const d of tree) if (d.name === "server") server(d);
    if (pageVariable && !maps.has("page")) refuse(pageVariable, "alias of $hearth_app_page without its map");
    if (flat) {
      // each name its certificate and that certificate's key
      const certs = maps.get("cert") ?? new Map();
      const keys = maps.get("key") ?? new Map();
      for (const [host, name] of certs) if (keys.get(host) !== name) throw new Refusal(`${file}: ${host} has certificate ${name} but ${keys.has(host) ? `the key of ${keys.get(host)}` : "no key"}`);
      for (const host of keys.keys()) if (!certs.has(host)) throw new Refusal(`${file}: ${host} has a key but no certificate`);
    }
  }
  return used;
}

function validatePem(name, pair) {
  if (!CERT_NAME.test(name)) throw new Refusal(`certificate name ${JSON.stringify(name)} is not allowed (lower-case letters, digits, _ and -)`);
  if (!pair || typeof pair !== "object" || typeof pair.cert !== "string" || typeof pair.key !== "string" || Object.keys(pair).length !== 2) {
    throw new Refusal(`certificate ${name}: must be {"cert": PEM, "key": PEM}`);
  }
  if (pair.cert.length > 65536 || pair.key.length > 65536) throw new Refusal(`certificate ${name}: too large`);
  const certPem = /^(-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\r?\n?)+$/;
  const keyPem = /^-----BEGIN (RSA |EC )?PRIVATE KEY-----\r?\n[A-Za-z0-9+/=\r\n]+-----END (RSA |EC )?PRIVATE KEY-----\r?\n?$/;
  if (!certPem.test(pair.cert)) throw new Refusal(`certificate ${name}: "cert" is not a PEM certificate chain`);
  if (!keyPem.test(pair.key)) throw new Refusal(`certificate ${name}: "key" is not a PEM private key`);
  let x509;
  let key;
  try {
    x509 = new X509Certificate(pair.cert);
    key = createPrivateKey(pair.key);
  } catch (e) {
    throw new Refusal(`certificate ${name}: cannot be read (${e.message})`);
  }
  if (!x509.checkPrivateKey(key)) throw new Refusal(`certificate ${name}: the key does not belong to the certificate`);
}

/** Checks a whole payload (the parsed JSON). Returns {sites: Map, certs: Map}. */
export function validatePayload(payload, o) {
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) throw new Refusal('stdin must be a JSON object {"sites": {...}, "certs": {...}}');
  for (const k of Object.keys(payload)) if (k !== "sites" && k !== "certs") throw new Refusal(`unknown key ${JSON.stringify(k)} in the payload`);
  const { sites, certs } = checkShapes(payload);
  const certNames = new Set();
  for (const [name, pair] of Object.entries(certs)) {
    validatePem(name, pair);
    certNames.add(name);
  }
  const outSites = new Map();
  for (const [file, text] of Object.entries(sites)) {
    validateSite(file, text, { ...o, certs: certNames });
    outSites.set(file, text);
  }
  return { sites: outSites, certs: new Map(Object.entries(certs)) };
}

function checkShapes(payload) {
  const sites = payload.sites ?? {};
  const certs = payload.certs ?? {};
  if (!sites || !certs || typeof sites !== "object" || Array.isArray(sites) || typeof certs !== "object" || Array.isArray(certs)) throw new Refusal('"sites" and "certs" must be objects');
  for (const [file, text] of Object.entries(sites)) {
    if (typeof text !== "string") throw new Refusal(`${file}: the file's text must be a string`);
    if (text.length > 1024 * 1024) throw new Refusal(`${file}: too large`);
  }
  return { sites, certs };
}

/** Whether the parsed payload is a delta (it names the generation it applies to). */
export function isDelta(payload) {
  return !!payload && typeof payload === "object" && !Array.isArray(payload) && Object.hasOwn(payload, "base");
}

/**
 * Checks a delta against the set root serves now (`current`: {gen, sites: Map file → text,
 * certs: Map "<name>.crt|.key" → PEM}, read from root's own live generation) and returns the
 * whole new set {sites, certs} the way validatePayload does, plus `fromCurrent` (the cert
 * names kept from the current generation). Delta: {"base": "<live gen>", "sites": {file:
 * text} written or replaced, "certs": {name: {cert, key}} new, "remove": [file, ...]}.
 * Every file written is checked in full; a file kept is root's own from the live generation
 * (checked when it was written); certificates no file names any more are left out. Throws Refusal; a base that is not the
 * live generation is a Stale (box then sends the whole set).
 */
export function validateDelta(payload, current, o) {
  if (!payload || typeof payload !== "object" || Array.isArray(payload)) throw new Refusal("stdin must be a JSON object");
  for (const k of Object.keys(payload)) if (!["base", "sites", "certs", "remove"].includes(k)) throw new Refusal(`unknown key ${JSON.stringify(k)} in the delta`);
  if (typeof payload.base !== "string" || !GEN.test(payload.base)) throw new Refusal(`"base" must name a generation (gen-<id>), got ${JSON.stringify(payload.base)}`);
  const { sites, certs } = checkShapes(payload);
  const remove = payload.remove ?? [];
  if (!Array.isArray(remove) || remove.some((f) => typeof f !== "string")) throw new Refusal('"remove" must be a list of vhost file names');
  if (new Set(remove).size !== remove.length) throw new Refusal('"remove" names a file twice');
  if (remove.length > 100000) throw new Refusal('"remove" is too long');
  if (payload.base !== current.gen) throw new Stale(`the delta is for ${payload.base}, but ${current.gen ?? "no generation"} is live`);
  for (const f of remove) {
    if (!SITE_FILE.test(f)) throw new Refusal(`cannot remove ${JSON.stringify(f)}: not a vhost file name (app-*.conf, redirect-*.conf, dashboard-*.conf, default-redirect.inc)`);
    if (!current.sites.has(f)) throw new Refusal(`cannot remove ${JSON.stringify(f)}: no such file in ${current.gen}`);
    if (Object.hasOwn(sites, f)) throw new Refusal(`${JSON.stringify(f)} is both written and removed`);
  }
  const certNames = new Set();
  for (const [name, pair] of Object.entries(certs)) {
    validatePem(name, pair);
    certNames.add(name);
  }
  for (const f of current.certs.keys()) if (f.endsWith(".crt") && current.certs.has(`${f.slice(0, -4)}.key`)) certNames.add(f.slice(0, -4));
  const outSites = new Map(current.sites);
  for (const f of remove) outSites.delete(f);
  for (const [file, text] of Object.entries(sites)) outSites.set(file, text);
  // what box sends is checked in full; a file kept from the live generation was checked when
  // this helper wrote it there (root's own folder; box's first sync after each start sends
  // the whole set, so every file is checked again by the helper of that version): only the
  // certificates it names are read from it
  const used = new Set();
  // an ssl_certificate(_key) line, or a certificate map's entry (the flat file)
  const certRef = new RegExp(
    `^[ \\t]*(?:ssl_certificate(?:_key)?|[a-z0-9*][a-z0-9.*-]*)[ \\t]+${o.root.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/live/certs/([a-z0-9][a-z0-9_-]{0,127})\\.(?:crt|key);`,
    "gm",
  );
  for (const [file, text] of outSites) {
    if (Object.hasOwn(sites, file)) for (const n of validateSite(file, text, { ...o, certs: certNames })) used.add(n);
    else
      for (const m of text.matchAll(certRef)) {
        if (!certNames.has(m[1])) throw new Refusal(`${file} (kept from ${current.gen}) names certificate ${m[1]}, which is neither kept nor handed over`);
        used.add(m[1]);
      }
  }
  const outCerts = new Map();
  const fromCurrent = new Set();
  for (const name of used) {
    if (Object.hasOwn(certs, name)) outCerts.set(name, certs[name]);
    else {
      outCerts.set(name, { cert: current.certs.get(`${name}.crt`), key: current.certs.get(`${name}.key`) });
      fromCurrent.add(name);
    }
  }
  return { sites: outSites, certs: outCerts, fromCurrent };
}

/** A delta for a generation that is no longer live (exit 5): nothing was touched. */
export class Stale extends Error {
  constructor(message) {
    super(message);
    this.name = "Stale";
  }
}

// ---------------------------------------------------------------------------------------
// Installing

/** The folder and every one above it must be root's and writable by no one else. */
export function checkRootOwned(dir) {
  for (let d = dir; ; d = path.dirname(d)) {
    const st = lstatSync(d);
    if (st.isSymbolicLink()) throw new Refusal(`${d} is a symlink; refusing to write below it`);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) throw new Refusal(`${d} must be owned by root and writable only by root`);
    if (path.dirname(d) === d) return;
  }
}

function nginxArgs(o, ...extra) {
  return [...(o.nginxPrefix ? ["-p", o.nginxPrefix] : []), ...(o.nginxConf ? ["-c", o.nginxConf] : []), ...extra];
}

function runNginx(o, ...args) {
  const r = spawnSync(o.nginxBin ?? "nginx", nginxArgs(o, ...args), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  return { ok: r.status === 0, output: `${r.stderr ?? ""}${r.stdout ?? ""}${r.error ? r.error.message : ""}`.trim() };
}

/**
 * The running master's pid from its pid file (root's: /run/nginx.pid, or --nginx-pid), when
 * that process is alive and is nginx; else null.
 */
function nginxMaster(pidFile) {
  let pid = "";
  try {
    pid = readFileSync(pidFile, "utf8").trim();
  } catch {
    return null;
  }
  if (!/^\d{1,9}$/.test(pid)) return null;
  try {
    process.kill(Number(pid), 0);
    if (readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "nginx") return null;
  } catch {
    return null;
  }
  return Number(pid);
}

/** The pids whose parent is `pid`: the "children" file of each of its tasks, else a scan of /proc. */
function childrenOf(pid) {
  try {
    const out = [];
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").trim().split(" ")) if (c) out.push(Number(c));
    }
    return out;
  } catch {}
  const out = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(e));
    } catch {}
  }
  return out;
}

/**
 * nginx reloads asynchronously: on SIGHUP the master parses the configuration again, starts
 * new workers (which serve the new set from their first connection) and then tells the old
 * ones to stop accepting and finish. Waits until a new worker runs and every old one is
 * shutting down (or gone), so a vhost box installed is served when the helper returns.
 */
function waitForNewWorkers(master, before, timeoutMs, log = null) {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const end = Date.now() + timeoutMs;
  for (;;) {
    const now = childrenOf(master);
    // the master could not load the new set (a listen socket it cannot bind, or anything else
    // nginx -t did not see): it logs [emerg] and keeps running the old set with the old workers
    const refused = log && now.every((p) => before.has(p)) ? masterErrors(log, master) : "";
    // a port in use: the master tries to bind five times, 500 ms apart, before it gives up
    // ("still could not bind()"); it may still succeed, so wait for its verdict
    if (refused && !(/bind\(\) to \S+ failed/.test(refused) && !/still could not bind/.test(refused))) return { ok: false, rejected: true, output: refused };
    // the master starts the new workers, then (about 100 ms later) tells the old ones to stop
    // accepting ("worker process is shutting down"): until then an old worker may take a
    // request and answer it with the old set
    if (now.some((p) => !before.has(p)) && [...before].every((p) => !now.includes(p) || !/worker process/.test(titleOf(p)) || /shutting down/.test(titleOf(p)))) {
      return { ok: true, output: "" };
    }
    if (!processAlive(master)) return { ok: false, output: `nginx (${master}) exited during the reload` };
    if (Date.now() > end) return { ok: false, output: `nginx (${master}) started no new workers within ${Math.round(timeoutMs / 1000)} s of the reload signal; see nginx's error log` };
    Atomics.wait(pause, 0, 0, 10);
  }
}

/** The error log's size now, to read what the master writes after the reload signal. */
function logMark(file) {
  try {
    return { file, offset: statSync(file).size };
  } catch {
    return null;
  }
}

/**
 * The [emerg] lines the master (`<pid>#`) wrote to its error log after the mark, joined; ""
 * when none (a worker's lines, other pids, are not the reload's; [alert] and [crit] lines do
 * not mean the set was refused). The last MiB written since the mark is read.
 */
export function masterErrors(log, master) {
  let text = "";
  try {
    const size = statSync(log.file).size;
    // rotated (logrotate): read the new file from its start
    const from = size < log.offset ? 0 : log.offset;
    if (size === from) return "";
    const fd = openSync(log.file, "r");
    try {
      const start = Math.max(from, size - 1024 * 1024);
      const buf = Buffer.alloc(size - start);
      const n = readSync(fd, buf, 0, buf.length, start);
      text = buf.subarray(0, n).toString("utf8");
    } finally {
      closeSync(fd);
    }
  } catch {
    return "";
  }
  // only whole lines: the master may be writing the rest
  const lines = text.slice(0, text.lastIndexOf("\n") + 1).split("\n");
  const re = new RegExp(`^\\S+ \\S+ \\[emerg\\] ${master}#\\d+: `);
  return lines
    .filter((l) => re.test(l))
    .map((l) => l.replace(/^\S+ \S+ /, ""))
    .join("\n");
}

/** A process's title (nginx sets "nginx: worker process", "... is shutting down"); "" when it is gone. */
function titleOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Whether process `pid` exists (signal 0). */
function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reload: SIGHUP to the running master, which is what `nginx -s reload` and Debian's
 * `systemctl reload nginx` do, without parsing the whole configuration (every vhost and
 * certificate) a second time just to find the pid; then waits for the new workers. Starts
 * nginx when none runs.
 */
function runningMaster(o) {
  const pidFile = o.nginxPid ?? (o.nginxConf ? null : "/run/nginx.pid");
  return pidFile ? nginxMaster(pidFile) : null;
}

/**
 * The running master's main error log: --nginx-error-log, else Debian's
 * /var/log/nginx/error.log for the system nginx; only when the master has that file open
 * (an nginx.conf that logs elsewhere, e.g. to syslog, would never show the [emerg]); else null.
 */
function errorLogOf(o, master) {
  const file = o.nginxErrorLog ?? (o.nginxConf ? null : "/var/log/nginx/error.log");
  if (!file || master === null) return null;
  try {
    if (!lstatSync(file).isFile()) return null;
    const real = realpathSync(file);
    for (const fd of readdirSync(`/proc/${master}/fd`)) {
      try {
        if (readlinkSync(`/proc/${master}/fd/${fd}`) === real) return file;
      } catch {}
    }
  } catch {}
  return null;
}

function reload(o, master = runningMaster(o)) {
  if (master !== null) {
    const before = new Set(childrenOf(master));
    const errorLog = errorLogOf(o, master);
    const log = errorLog ? logMark(errorLog) : null;
    try {
      process.kill(master, "SIGHUP");
    } catch (e) {
      return { ok: false, output: `cannot signal nginx (${master}): ${e.message}` };
    }
    // no worker seen before the signal (a /proc this process may not read): nothing to wait for
    if (before.size === 0) return { ok: true, output: "" };
    return waitForNewWorkers(master, before, o.reloadWaitMs ?? 15_000, log);
  }
  if (o.nginxConf) return runNginx(o, "-s", "reload");
  if (existsSync("/run/systemd/system") && process.env.HEARTH_INIT !== "direct") {
    const active = spawnSync("systemctl", ["is-active", "--quiet", "nginx"]).status === 0;
    const r = spawnSync("systemctl", [active ? "reload" : "start", "nginx"], { encoding: "utf8" });
    return { ok: r.status === 0, output: `${r.stderr ?? ""}${r.stdout ?? ""}`.trim() };
  }
  const r = spawnSync("nginx", [], { stdio: "ignore" });
  return { ok: r.status === 0, output: r.status === 0 ? "" : "nginx did not start" };
}

function currentGen(root) {
  try {
    const t = readlinkSync(path.join(root, "live"));
    return GEN.test(t) && existsSync(path.join(root, t)) ? t : null;
  } catch {
    return null;
  }
}

function pointLive(root, gen) {
  const tmp = path.join(root, `.live-${randomBytes(4).toString("hex")}`);
  symlinkSync(gen, tmp);
  renameSync(tmp, path.join(root, "live"));
}

function readGen(root, gen) {
  const out = { sites: new Map(), certs: new Map() };
  if (!gen) return out;
  const sitesDir = path.join(root, gen, "sites");
  for (const f of readdirSync(sitesDir)) out.sites.set(f, readFileSync(path.join(sitesDir, f), "utf8"));
  const certDir = path.join(root, gen, "certs");
  for (const f of readdirSync(certDir)) out.certs.set(f, readFileSync(path.join(certDir, f), "utf8"));
  return out;
}

function sameSet(a, b) {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/**
 * One helper at a time per root folder: <root>/.lock, a folder that always holds its holder's
 * pid (made as a temporary folder with the pid inside, then renamed into place: a helper
 * killed halfway leaves a temporary folder, never a lock without a pid). A lock whose holder
 * is gone is renamed away and its pid read again there: when it is not the dead one, another
 * helper had taken the lock meanwhile and it is put back.
 */
function lock(root) {
  const dir = path.join(root, ".lock");
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const pidIn = (d) => {
    try {
      return Number(readFileSync(path.join(d, "pid"), "utf8"));
    } catch {
      return Number.NaN;
    }
  };
  for (let i = 0; i < 600; i++) {
    const tmp = path.join(root, `.lock-new-${process.pid}-${randomBytes(4).toString("hex")}`);
    mkdirSync(tmp, { mode: 0o700 });
    writeFileSync(path.join(tmp, "pid"), String(process.pid), { flag: "wx" });
    try {
      renameSync(tmp, dir);
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      if (e.code !== "EEXIST" && e.code !== "ENOTEMPTY") throw e;
    }
    const pid = pidIn(dir);
    if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) {
      const stale = path.join(root, `.lock-stale-${randomBytes(4).toString("hex")}`);
      try {
        renameSync(dir, stale);
        if (pidIn(stale) !== pid)
          renameSync(stale, dir); // a new holder's lock: give it back
        else rmSync(stale, { recursive: true, force: true });
      } catch {}
      continue;
    }
    Atomics.wait(pause, 0, 0, 100);
  }
  throw new Refusal(`another install-vhosts holds ${dir} (waited 60 s)`);
}

/** A ".lock-new-<pid>-…" folder whose helper is gone (killed while taking the lock). */
function leftoverOfDeadHelper(name) {
  const m = /^\.lock-new-(\d+)-[0-9a-f]+$/.exec(name);
  return m !== null && !processAlive(Number(m[1]));
}

/** The cert files of a set: "<name>.crt" / "<name>.key" → PEM. */
function certFilesOf(certs) {
  const out = new Map();
  for (const [name, pair] of certs) {
    out.set(`${name}.crt`, pair.cert);
    out.set(`${name}.key`, pair.key);
  }
  return out;
}

function lockedRoot(o, fn) {
  const root = o.root;
  if (!existsSync(root)) mkdirSync(root, { mode: 0o755 });
  checkRootOwned(root);
  const unlock = lock(root);
  try {
    const live = path.join(root, "live");
    if (existsSync(live) && !lstatSync(live).isSymbolicLink()) throw new Refusal(`${live} is not a symlink; move it away first`);
    const prev = currentGen(root);
    return fn({ gen: prev, ...readGen(root, prev) });
  } finally {
    unlock();
  }
}

/** Installs a validated whole set. Returns {code, message, gen}. */
export function install(set, o) {
  return lockedRoot(o, (current) => {
    if (current.gen && sameSet(current.sites, set.sites) && sameSet(current.certs, certFilesOf(set.certs)) && !o.forceReload) {
      // box hands its whole set over at each start: make sure nginx runs what is installed,
      // checked first (a helper killed between pointing `live` and its nginx -t leaves an
      // unchecked set live; it is never reloaded unchecked)
      const t = runNginx(o, "-t");
      if (!t.ok) return { code: 1, message: `the installed set ${current.gen} fails nginx -t; nothing was reloaded:\n${t.output}`, gen: current.gen };
      const r = reload(o);
      return r.ok
        ? { code: 0, message: `unchanged set (${set.sites.size} files) in ${o.root}/${current.gen}: reloaded; live=${current.gen}`, gen: current.gen }
        : { code: 3, message: `nginx could not be reloaded: ${r.output}`, gen: current.gen };
    }
    return installLocked(set, o, current);
  });
}

/**
 * Checks a delta (validateDelta) against the live generation and installs the resulting set,
 * one helper at a time. A delta that changes nothing installs and reloads nothing.
 */
export function installDelta(payload, o) {
  return lockedRoot(o, (current) => {
    const set = validateDelta(payload, current, o);
    if (current.gen && sameSet(current.sites, set.sites) && sameSet(current.certs, certFilesOf(set.certs))) {
      return { code: 0, message: `nothing changed in ${o.root}/${current.gen}; nothing reloaded; live=${current.gen}`, gen: current.gen };
    }
    return installLocked(set, o, current);
  });
}

/**
 * Writes the set as a new generation (a file equal to the current generation's, with the
 * same owner and mode, is a hard link to it: root's own, never changed in place), points
 * `live` at it, nginx -t, reload; when nginx -t fails, or the running master refuses the set
 * on the reload, `live` goes back to the current generation, untouched.
 */
function installLocked(set, o, current) {
  const root = o.root;
  const live = path.join(root, "live");
  const prev = current.gen;
  const certFiles = certFilesOf(set.certs);
  const master = runningMaster(o);
  const gid = set.sites.has(FLAT_FILE) ? workerGroup(o, master) : null;
  const gen = `gen-${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  const genDir = path.join(root, gen);
  mkdirSync(genDir, { mode: 0o755 });
  mkdirSync(path.join(genDir, "sites"), { mode: 0o755 });
  mkdirSync(path.join(genDir, "certs"), { mode: 0o700 });
  // the flat layout's certificates are variables: nginx's workers (not the master, root) open
  // them at each handshake, so they are the workers' group's to read (they hold every key in
  // memory with static certificates too)
  if (gid !== null) {
    chownSync(path.join(genDir, "certs"), 0, gid);
    chmodSync(path.join(genDir, "certs"), 0o750);
  }
  let written = 0;
  // a file equal to the previous generation's is a hard link to it only when that file already
  // has the owner and mode this set gives it: a link shares its inode, and changing it would
  // change the previous set too (the one put back if nginx refuses this one)
  const put = (kind, files, owner) => {
    for (const [f, text] of files) {
      const to = path.join(genDir, kind, f);
      const from = prev && current[kind].get(f) === text ? path.join(root, prev, kind, f) : null;
      if (from && hasOwner(from, owner)) linkSync(from, to);
      else {
        writeFileSync(to, text, { mode: 0o600, flag: "wx" });
        chownSync(to, owner.uid, owner.gid);
        chmodSync(to, owner.mode);
        written++;
      }
    }
  };
  put("sites", set.sites, { uid: 0, gid: 0, mode: 0o644 });
  put("certs", certFiles, gid === null ? { uid: 0, gid: 0, mode: 0o600 } : { uid: 0, gid, mode: 0o640 });
  pointLive(root, gen);
  const putBack = () => {
    if (prev) pointLive(root, prev);
    else rmSync(live, { force: true });
    rmSync(genDir, { recursive: true, force: true });
  };
  // nginx -t first, always: a set it refuses never stays live (nginx would not start with it
  // after a reboot). In the flat layout it takes ~20 ms at 200 apps. The reload is watched too:
  // a running master that cannot load the set (what nginx -t cannot see: a port another process
  // holds) keeps the old one and logs [emerg], and then the old set is put back as well.
  const t = runNginx(o, "-t");
  if (!t.ok) {
    putBack();
    return { code: 1, message: `nginx -t rejected the new set; the previous set was put back and nothing was reloaded:\n${t.output}`, gen: prev };
  }
  const r = reload(o, master);
  if (!r.ok && r.rejected) {
    putBack();
    return { code: 1, message: `nginx rejected the new set on reload and keeps serving the previous one; the previous set was put back:\n${r.output}`, gen: prev };
  }
  for (const e of readdirSync(root)) {
    if (e !== gen && GEN.test(e)) rmSync(path.join(root, e), { recursive: true, force: true });
    else if (e.startsWith(".live-")) rmSync(path.join(root, e), { force: true });
    else if (leftoverOfDeadHelper(e)) rmSync(path.join(root, e), { recursive: true, force: true });
  }
  if (!r.ok) return { code: 3, message: `the new set passed nginx -t and is installed, but nginx could not be reloaded: ${r.output}; live=${gen}`, gen };
  return {
    code: 0,
    message: `installed ${set.sites.size} vhost file(s) and ${set.certs.size} certificate(s) in ${genDir} (${written} file(s) written, the rest linked from ${prev ?? "nothing"}); nginx reloaded; live=${gen}`,
    gen,
  };
}

/** Whether `file` (not followed if a link) has exactly this owner, group and mode. */
function hasOwner(file, owner) {
  try {
    const st = lstatSync(file);
    return st.isFile() && st.uid === owner.uid && st.gid === owner.gid && (st.mode & 0o7777) === owner.mode;
  } catch {
    return false;
  }
}

/**
 * The group nginx's workers run as (they open the flat layout's certificates at each
 * handshake): --nginx-group when given; else the real group of the running master's workers
 * (whatever nginx.conf's `user` names: www-data on Debian and Ubuntu, nginx with nginx.org's
 * packages); else, with no master running yet, www-data.
 */
function workerGroup(o, master) {
  if (o.nginxGroup) return groupId(o.nginxGroup);
  if (master !== null) {
    for (const p of childrenOf(master)) {
      if (!/worker process/.test(titleOf(p))) continue;
      try {
        const m = /^Gid:\s+(\d+)\s/m.exec(readFileSync(`/proc/${p}/status`, "utf8"));
        if (m) return Number(m[1]);
      } catch {}
    }
  }
  return groupId("www-data");
}

/** A group's id from /etc/group (root's); refuses an unknown group. */
function groupId(name) {
  for (const line of readFileSync("/etc/group", "utf8").split("\n")) {
    const [n, , gid] = line.split(":");
    if (n === name && /^\d+$/.test(gid ?? "")) return Number(gid);
  }
  throw new Refusal(`nginx's worker group ${JSON.stringify(name)} does not exist (option --nginx-group)`);
}

/** Options from argv (tests only: the sudo wrapper passes none) and root's own files. */
export function parseArgs(argv) {
  const o = { root: DEFAULT_ROOT, publicDir: publicDirFromEnvFile(), nginxPrefix: null, nginxConf: null };
  const confFile = path.join(path.dirname(fileURLToPath(import.meta.url)), "install-vhosts.conf");
  if (existsSync(confFile)) {
    checkRootOwned(path.dirname(confFile));
    const st = lstatSync(confFile);
    if (!st.isFile() || st.uid !== 0 || (st.mode & 0o022) !== 0) throw new Refusal(`${confFile} must be a file owned by root and writable only by root`);
    const fromFile = readFileSync(confFile, "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"))
      .flatMap((l) => {
        const i = l.indexOf(" ");
        return i < 0 ? [l] : [l.slice(0, i), l.slice(i + 1).trim()];
      });
    argv = [...fromFile, ...argv];
  }
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (k === "--nginx-group") {
      if (v === undefined || !/^[a-z_][a-z0-9_-]{0,31}$/.test(v)) throw new Refusal(`option ${k} needs a group name`);
      o.nginxGroup = v;
      continue;
    }
    if (k === "--admin-port") {
      if (v === undefined || !isPort(v)) throw new Refusal(`option ${k} needs a port`);
      o.adminPort = Number(v);
      continue;
    }
    if (v === undefined || !path.isAbsolute(v)) throw new Refusal(`option ${k} needs an absolute path`);
    if (k === "--root") o.root = v;
    else if (k === "--public-dir") o.publicDir = v;
    else if (k === "--nginx-prefix") o.nginxPrefix = v;
    else if (k === "--nginx-conf") o.nginxConf = v;
    else if (k === "--nginx-pid") o.nginxPid = v;
    else if (k === "--nginx-error-log") o.nginxErrorLog = v;
    else throw new Refusal(`unknown option ${k}`);
  }
  return o;
}

/** HEARTH_PUBLIC_DIR from /etc/hearth/hearth.env, trusted only when root wrote it. */
function publicDirFromEnvFile(file = "/etc/hearth/hearth.env") {
  try {
    checkRootOwned(path.dirname(file));
    const st = lstatSync(file);
    if (!st.isFile() || st.uid !== 0 || (st.mode & 0o022) !== 0) return DEFAULT_PUBLIC_DIR;
    const m = /^HEARTH_PUBLIC_DIR=(\/[A-Za-z0-9._/-]+)$/m.exec(readFileSync(file, "utf8"));
    return m && !m[1].includes("..") ? m[1].replace(/\/+$/, "") : DEFAULT_PUBLIC_DIR;
  } catch {
    return DEFAULT_PUBLIC_DIR;
  }
}

async function readStdin() {
  const chunks = [];
  let size = 0;
  for await (const c of process.stdin) {
    size += c.length;
    if (size > MAX_INPUT) throw new Refusal(`stdin is larger than ${MAX_INPUT} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function main() {
  const say = (code, msg) => {
    process.stderr.write(`install-vhosts: ${msg}\n`);
    process.exit(code);
  };
  try {
    if (process.getuid() !== 0) say(2, "refused: must run as root (through sudo)");
    const o = parseArgs(process.argv.slice(2));
    const raw = await readStdin();
    let payload;
    try {
      payload = JSON.parse(raw);
    } catch (e) {
      throw new Refusal(`stdin is not JSON: ${e.message}`);
    }
    const r = isDelta(payload) ? installDelta(payload, o) : install(validatePayload(payload, o), o);
    if (r.code === 0) {
      process.stdout.write(`install-vhosts: ${r.message}\n`);
      process.exit(0);
    }
    say(r.code, r.message);
  } catch (e) {
    if (e instanceof Refusal) say(2, `refused: ${e.message}`);
    if (e instanceof Stale) say(5, `stale: ${e.message}; nothing was touched (send the whole set)`);
    say(4, `internal error: ${e && e.message}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname) await main();
