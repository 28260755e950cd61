import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CommandError, rootHelper, run, runChecked } from "./shell";

describe("run (box's one process runner)", () => {
  it("runs in `cwd` and hands stdout to `onStdout` as it arrives (and still keeps it)", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-shell-cwd-"));
    const chunks: string[] = [];
    const r = await run("sh", ["-c", "pwd; sleep 0.2; echo second"], { cwd: dir, onStdout: (c) => void chunks.push(c) });
    expect(r.stdout).toBe(`${dir}\nsecond\n`);
    expect(chunks.join("")).toBe(r.stdout);
    expect(chunks.length).toBeGreaterThanOrEqual(2);
  });

  it("returns the exit code, stdout and stderr, and passes arguments without a shell", async () => {
    const r = await run("sh", ["-c", 'printf "%s" "$1"; echo oops >&2; exit 3', "sh", "a b; $(id)"]);
    expect(r).toMatchObject({ code: 3, stdout: "a b; $(id)", stderr: "oops\n", missing: false, timedOut: false });
    expect(r.output).toContain("oops");
  });

  it("feeds stdin and closes it", async () => {
    const r = await run("cat", [], { stdin: "secret on stdin\n" });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("secret on stdin\n");
  });

  it("reports a missing command instead of throwing", async () => {
    const r = await run("/nonexistent/hearth-no-such-command", []);
    expect(r.missing).toBe(true);
    expect(r.code).toBe(-1);
  });

  it("kills a command that runs too long", async () => {
    const t = Date.now();
    const r = await run("sleep", ["10"], { timeoutMs: 200, killSignal: "SIGKILL" });
    expect(r.timedOut).toBe(true);
    expect(r.code).toBe(-1);
    expect(Date.now() - t).toBeLessThan(5000);
  });

  it("kills the child when its signal aborts, and at once when it is already aborted", async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 200);
    const r = await run("sleep", ["30"], { signal: ac.signal, timeoutMs: 60_000 });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(r).toMatchObject({ code: -1, aborted: true, timedOut: false });
    const again = await run("sleep", ["30"], { signal: ac.signal, timeoutMs: 60_000 });
    expect(again).toMatchObject({ code: -1, aborted: true });
    const plain = await run("true", [], { signal: new AbortController().signal });
    expect(plain.code).toBe(0);
    expect(plain.aborted).toBeUndefined();
  });

  it("runChecked rejects with the command's stderr", async () => {
    const err = await runChecked("sh", ["-c", "echo broken >&2; exit 2"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandError);
    expect((err as CommandError).stderr.trim()).toBe("broken");
    expect((err as CommandError).result.code).toBe(2);
    await expect(runChecked("true", [])).resolves.toMatchObject({ code: 0 });
  });
});

describe("rootHelper (sudo -n <helper dir>/<name>)", () => {
  const fakeSudo = () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-sudo-"));
    const bin = path.join(dir, "sudo");
    // prints its argv one per line, then its stdin
    writeFileSync(bin, '#!/bin/sh\nfor a in "$@"; do echo "arg:$a"; done\ncat\n');
    chmodSync(bin, 0o755);
    return bin;
  };

  it("calls sudo -n with the helper's full path, its arguments and stdin", async () => {
    const r = await rootHelper("install-vhosts.sh", ["one", "two"], "on stdin\n", { sudo: fakeSudo(), helperDir: "/opt/x/setup/sudo" });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("arg:-n\narg:/opt/x/setup/sudo/install-vhosts.sh\narg:one\narg:two\non stdin\n");
  });

  it("refuses a name that is not a helper in the helper folder", () => {
    for (const bad of ["../bin/sh", "/bin/sh", "reload-nginx", "x.sh; id", ""]) {
      expect(() => rootHelper(bad, [], undefined, { sudo: "/bin/false" })).toThrow(/not a root helper/);
    }
  });
});
