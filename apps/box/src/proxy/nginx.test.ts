import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
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
