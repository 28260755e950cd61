import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ensureFallbackCert } from "./fallback-cert";
import { NginxError, SudoNginx } from "./nginx";

/**
 * A stand-in for `sudo`: checks it is called as `sudo -n <helper>` with nothing else on the
 * command line, keeps what came on stdin in <dir>/stdin, then behaves as told.
 */
function fakeSudo(script: string): { bin: string; stdin: () => string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-sudo-"));
  const bin = path.join(dir, "sudo");
  writeFileSync(bin, `#!/bin/sh\n[ "$1" = "-n" ] && [ "$2" = "/helper.sh" ] && [ $# -eq 2 ] || { echo "bad args: $*" >&2; exit 99; }\ncat > ${dir}/stdin\n${script}\n`);
  chmodSync(bin, 0o755);
  return { bin, stdin: () => readFileSync(path.join(dir, "stdin"), "utf8") };
}

async function vhostWithCert(): Promise<{ files: Map<string, string>; key: string; certPath: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-sudo-cert-"));
  const c = await ensureFallbackCert(dir, "example.com");
  const text = `server {\n    listen 443 ssl;\n    ssl_certificate     ${c.certPath};\n    ssl_certificate_key ${c.keyPath};\n}\n`;
  return { files: new Map([["app-x.conf", text]]), key: readFileSync(c.keyPath, "utf8"), certPath: c.certPath };
}

describe("SudoNginx (the install-vhosts.sh helper through sudo -n, the set on stdin)", () => {
  it("hands the set over on stdin, the PEMs included and the paths moved to root's folder", async () => {
    const { files, key, certPath } = await vhostWithCert();
    const sudo = fakeSudo("exit 0");
    const nginx = new SudoNginx("/helper.sh", sudo.bin, "/etc/nginx/hearth");
    expect(nginx.synced).toBe(false);
    await nginx.checkAndReload(files);
    expect(nginx.synced).toBe(true);
    const payload = JSON.parse(sudo.stdin()) as { sites: Record<string, string>; certs: Record<string, { cert: string; key: string }> };
    const [name] = Object.keys(payload.certs);
    expect(name).toMatch(/^c-[0-9a-f]{32}$/);
    expect(payload.certs[name!]!.key).toBe(key);
    expect(payload.sites["app-x.conf"]).toContain(`ssl_certificate /etc/nginx/hearth/live/certs/${name}.crt;`);
    expect(payload.sites["app-x.conf"]).toContain(`ssl_certificate_key /etc/nginx/hearth/live/certs/${name}.key;`);
    expect(payload.sites["app-x.conf"]).not.toContain(certPath);
  });

  it("exit 1 (nginx -t) and 2 (refused) are a rejected check, carrying the message", async () => {
    const err = await new SudoNginx("/helper.sh", fakeSudo('echo "nginx: [emerg] unknown directive \\"x\\"" >&2; exit 1').bin).checkAndReload(new Map()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NginxError);
    expect((err as NginxError).stage).toBe("check");
    expect((err as NginxError).output).toContain('unknown directive "x"');
    const refused = await new SudoNginx("/helper.sh", fakeSudo('echo "install-vhosts: refused: zz.conf" >&2; exit 2').bin).checkAndReload(new Map()).catch((e: unknown) => e);
    expect((refused as NginxError).stage).toBe("check");
    expect((refused as NginxError).output).toContain("refused: zz.conf");
  });

  it("anything else (sudo refused, reload failed) is a reload failure", async () => {
    const nginx = new SudoNginx("/helper.sh", fakeSudo('echo "sudo: a password is required" >&2; exit 3').bin);
    const err = await nginx.checkAndReload(new Map()).catch((e: unknown) => e);
    expect((err as NginxError).stage).toBe("reload");
    expect((err as NginxError).output).toContain("password is required");
    expect(nginx.synced).toBe(false);
  });
});

/** A fake sudo that keeps every stdin (stdin.1, stdin.2 …) and answers like the helper: `live=gen-…-<n>`, or `exit <code>` from the file `next-exit` once. */
function countingSudo(): { bin: string; inputs: () => Record<string, unknown>[]; failNext: (code: number) => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-sudo-n-"));
  const bin = path.join(dir, "sudo");
  writeFileSync(
    bin,
    `#!/bin/sh
n=$(( $(ls ${dir} | grep -c '^stdin\\.') + 1 ))
cat > ${dir}/stdin.$n
if [ -f ${dir}/next-exit ]; then c=$(cat ${dir}/next-exit); rm ${dir}/next-exit; echo "install-vhosts: failing with $c" >&2; exit $c; fi
printf 'install-vhosts: installed; live=gen-x1-%08d\\n' $n
`,
  );
  chmodSync(bin, 0o755);
  return {
    bin,
    inputs: () =>
      readdirSync(dir)
        .filter((f) => f.startsWith("stdin."))
        .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)))
        .map((f) => JSON.parse(readFileSync(path.join(dir, f), "utf8"))),
    failNext: (code) => writeFileSync(path.join(dir, "next-exit"), String(code)),
  };
}

describe("SudoNginx hands over only what changed", () => {
  async function twoVhosts() {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-sudo-delta-"));
    const a = await ensureFallbackCert(dir, "a.test");
    const b = await ensureFallbackCert(dir, "b.test");
    const site = (c: typeof a, v: string, extra = "") =>
      `server {\n    listen 443 ssl;\n    # certificate ${v}\n    ssl_certificate     ${c.certPath};\n    ssl_certificate_key ${c.keyPath};\n${extra}}\n`;
    return { a, b, site };
  }

  it("the first call sends the whole set; then a delta with the changed file only, no PEM root has; nothing changed: no call", async () => {
    const { a, b, site } = await twoVhosts();
    const sudo = countingSudo();
    const nginx = new SudoNginx("/helper.sh", sudo.bin, "/etc/nginx/hearth");
    const files = new Map([
      ["app-a.conf", site(a, "v1")],
      ["app-b.conf", site(b, "v1")],
    ]);
    await nginx.checkAndReload(files);
    expect(sudo.inputs()).toHaveLength(1);
    expect(Object.keys(sudo.inputs()[0]!).sort()).toEqual(["certs", "sites"]);
    expect(Object.keys((sudo.inputs()[0] as { certs: object }).certs)).toHaveLength(2);

    await nginx.checkAndReload(new Map(files));
    expect(sudo.inputs()).toHaveLength(1);

    files.set("app-b.conf", site(b, "v1", "    client_max_body_size 1g;\n"));
    files.set("app-c.conf", site(a, "v1"));
    files.delete("app-a.conf");
    await nginx.checkAndReload(files);
    const delta = sudo.inputs()[1] as { base: string; sites: Record<string, string>; certs: object; remove: string[] };
    expect(delta.base).toBe("gen-x1-00000001");
    expect(Object.keys(delta.sites).sort()).toEqual(["app-b.conf", "app-c.conf"]);
    expect(delta.sites["app-c.conf"]).toMatch(/ssl_certificate \/etc\/nginx\/hearth\/live\/certs\/c-[0-9a-f]{32}\.crt;/);
    expect(delta.certs).toEqual({});
    expect(delta.remove).toEqual(["app-a.conf"]);
    expect(nginx.calls).toEqual({ total: 2, full: 1 });
  });

  it("a renewed certificate (new version) is read again and its PEM sent; an unchanged version is not re-read", async () => {
    const { a, site } = await twoVhosts();
    const sudo = countingSudo();
    const nginx = new SudoNginx("/helper.sh", sudo.bin, "/etc/nginx/hearth");
    await nginx.checkAndReload(new Map([["app-a.conf", site(a, "v1")]]));
    const key = readFileSync(a.keyPath, "utf8");
    // same version: the PEMs are remembered, even if the files on disk went away
    rmSync(a.certPath);
    await nginx.checkAndReload(new Map([["app-a.conf", site(a, "v1", "    client_max_body_size 1m;\n")]]));
    expect((sudo.inputs()[1] as { certs: object }).certs).toEqual({});
    // a new version: read from disk (the renewal wrote new files)
    const renewed = await ensureFallbackCert(path.dirname(a.certPath), "a.test");
    await nginx.checkAndReload(new Map([["app-a.conf", site(renewed, "v2")]]));
    const certs = (sudo.inputs()[2] as { certs: Record<string, { key: string }> }).certs;
    expect(Object.values(certs).map((p) => p.key)).toEqual([readFileSync(renewed.keyPath, "utf8")]);
    expect(readFileSync(renewed.keyPath, "utf8")).not.toBe(key);
  });

  it("a stale delta (exit 5) is followed by the whole set; after a failure the next call sends the whole set", async () => {
    const { a, b, site } = await twoVhosts();
    const sudo = countingSudo();
    const nginx = new SudoNginx("/helper.sh", sudo.bin, "/etc/nginx/hearth");
    await nginx.checkAndReload(new Map([["app-a.conf", site(a, "v1")]]));
    sudo.failNext(5);
    await nginx.checkAndReload(
      new Map([
        ["app-a.conf", site(a, "v1")],
        ["app-b.conf", site(b, "v1")],
      ]),
    );
    const [, stale, full] = sudo.inputs() as { base?: string; sites: object }[];
    expect(stale!.base).toBe("gen-x1-00000001");
    expect(full!.base).toBeUndefined();
    expect(Object.keys(full!.sites).sort()).toEqual(["app-a.conf", "app-b.conf"]);

    sudo.failNext(1);
    const err = await nginx.checkAndReload(new Map([["app-a.conf", site(a, "v1")]])).catch((e: unknown) => e);
    expect((err as NginxError).stage).toBe("check");
    await nginx.checkAndReload(new Map([["app-a.conf", site(a, "v1")]]));
    const last = sudo.inputs().at(-1) as { base?: string; sites: object };
    expect(last.base).toBeUndefined();
    expect(Object.keys(last.sites)).toEqual(["app-a.conf"]);
    expect(nginx.calls).toEqual({ total: 5, full: 3 });
  });
});
