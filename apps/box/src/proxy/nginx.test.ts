import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { NginxError, SudoNginx } from "./nginx";

/** A stand-in for `sudo`: checks it is called as `sudo -n <helper>`, then behaves as told. */
function fakeSudo(script: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-sudo-"));
  const bin = path.join(dir, "sudo");
  writeFileSync(bin, `#!/bin/sh\n[ "$1" = "-n" ] && [ "$2" = "/helper.sh" ] && [ $# -eq 2 ] || { echo "bad args: $*" >&2; exit 99; }\n${script}\n`);
  chmodSync(bin, 0o755);
  return bin;
}

describe("SudoNginx (the reload-nginx.sh helper through sudo -n)", () => {
  it("resolves when the helper succeeds", async () => {
    await new SudoNginx("/helper.sh", fakeSudo("exit 0")).checkAndReload();
  });

  it("exit 1 is a rejected check, carrying nginx's message", async () => {
    const err = await new SudoNginx("/helper.sh", fakeSudo('echo "nginx: [emerg] unknown directive \\"x\\"" >&2; exit 1')).checkAndReload().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NginxError);
    expect((err as NginxError).stage).toBe("check");
    expect((err as NginxError).output).toContain('unknown directive "x"');
  });

  it("anything else (sudo refused, reload failed) is a reload failure", async () => {
    const err = await new SudoNginx("/helper.sh", fakeSudo('echo "sudo: a password is required" >&2; exit 3')).checkAndReload().catch((e: unknown) => e);
    expect((err as NginxError).stage).toBe("reload");
    expect((err as NginxError).output).toContain("password is required");
  });
});
