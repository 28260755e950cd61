import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/db";

/**
 * The rotation of root's logs in /var/log/hearth (setup/lib/rotate-log.sh), for real as root:
 * copytruncate by size with gzipped copies, writers that keep their O_APPEND descriptor, the
 * refusals (a link, a file of another user, a hard link, a folder others can write), and the
 * supervisor (setup/lib/supervise.sh) rotating the log of a chatty service on its own.
 */

const LIB = path.join(REPO_ROOT, "setup/lib");
const ID = randomBytes(4).toString("hex");
let T = "";

function bash(script: string, env: Record<string, string> = {}) {
  return spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 60_000 });
}
const rotate = (file: string, max: number, keep: number) =>
  spawnSync("bash", ["-c", `. ${LIB}/rotate-log.sh; hearth_rotate_log "$1" ${max} ${keep}`, "rotate", file], { encoding: "utf8", timeout: 60_000 });

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error("these tests run as root (test/run.sh does)");
  T = mkdtempSync(path.join(os.tmpdir(), `hearth-rotate-${ID}-`));
  chmodSync(T, 0o750);
});

afterAll(() => {
  if (T) rmSync(T, { recursive: true, force: true });
});

function fresh(name: string): string {
  const d = path.join(T, name);
  mkdirSync(d, { mode: 0o750 });
  return d;
}

describe("hearth_rotate_log", () => {
  it("copies a full log to .1.gz and truncates it in place; a writer's O_APPEND descriptor goes on at the new start; at most KEEP copies", () => {
    const d = fresh("basic");
    const log = path.join(d, "box.log");
    const fd = openSync(log, "a", 0o640);
    const first = `${"a".repeat(99)}\n`.repeat(30_000); // 3 MB
    writeSync(fd, first);
    expect(rotate(log, 1_000_000, 2).status).toBe(0);
    expect(statSync(log).size).toBe(0);
    expect(gunzipSync(readFileSync(`${log}.1.gz`)).toString()).toBe(first);
    writeSync(fd, "after the rotation\n");
    expect(readFileSync(log, "utf8")).toBe("after the rotation\n"); // no hole of zeros before it
    // below the size: nothing happens
    expect(rotate(log, 1_000_000, 2).status).toBe(0);
    expect(readdirSync(d).sort()).toEqual(["box.log", "box.log.1.gz"]);
    for (const round of ["b", "c", "d"]) {
      writeSync(fd, `${round.repeat(99)}\n`.repeat(12_000));
      expect(rotate(log, 1_000_000, 2).status).toBe(0);
    }
    closeSync(fd);
    expect(readdirSync(d).sort()).toEqual(["box.log", "box.log.1.gz", "box.log.2.gz"]);
    expect(
      gunzipSync(readFileSync(`${log}.1.gz`))
        .toString()
        .startsWith("d"),
    ).toBe(true);
    expect(
      gunzipSync(readFileSync(`${log}.2.gz`))
        .toString()
        .startsWith("c"),
    ).toBe(true);
    for (const f of readdirSync(d)) expect(lstatSync(path.join(d, f)).uid).toBe(0);
    expect((statSync(`${log}.1.gz`).mode & 0o777).toString(8)).toBe("640");
  });

  it("follows no link and touches no file another user could have put there", () => {
    const target = path.join(T, `target-${ID}`);
    writeFileSync(target, "x".repeat(5000));
    const big = "y".repeat(5000);

    const linked = fresh("link");
    symlinkSync(target, path.join(linked, "box.log"));
    const r1 = rotate(path.join(linked, "box.log"), 1000, 2);
    expect([r1.status, r1.stderr]).toEqual([1, expect.stringContaining("not a root-owned regular file")]);

    const others = fresh("others");
    writeFileSync(path.join(others, "box.log"), big);
    chownSync(path.join(others, "box.log"), 65534, 65534);
    expect(rotate(path.join(others, "box.log"), 1000, 2).status).toBe(1);

    const hard = fresh("hard");
    linkSync(target, path.join(hard, "box.log"));
    expect(rotate(path.join(hard, "box.log"), 1000, 2).status).toBe(1);

    const planted = fresh("planted");
    writeFileSync(path.join(planted, "box.log"), big);
    symlinkSync(target, path.join(planted, "box.log.2.gz"));
    const r4 = rotate(path.join(planted, "box.log"), 1000, 3);
    expect([r4.status, r4.stderr]).toEqual([1, expect.stringContaining("box.log.2.gz")]);
    expect(readFileSync(path.join(planted, "box.log"), "utf8")).toBe(big);

    const open = fresh("open");
    chmodSync(open, 0o777);
    writeFileSync(path.join(open, "box.log"), big);
    const r5 = rotate(path.join(open, "box.log"), 1000, 2);
    expect([r5.status, r5.stderr]).toEqual([1, expect.stringContaining("no one else can write")]);
    expect(readFileSync(path.join(open, "box.log"), "utf8")).toBe(big);

    expect(readFileSync(target, "utf8")).toBe("x".repeat(5000));
    expect(readdirSync(T).filter((f) => f.startsWith("target-"))).toEqual([`target-${ID}`]);
  });
});

describe("the supervisor (no systemd)", () => {
  it("rotates the log of the service it runs once it reaches the size, keeps KEEP copies, and its rotation loop ends with it", async () => {
    const logDir = fresh("var-log-hearth");
    const supDir = path.join(T, "supervise");
    const name = `rotate-${ID}`;
    const env = { HEARTH_LOG_MAX_BYTES: "300000", HEARTH_LOG_KEEP: "2", HEARTH_LOG_CHECK_SECONDS: "1" };
    const common = `. ${LIB}/common.sh; HEARTH_LOG_DIR=${logDir}; HEARTH_SUPERVISE_DIR=${supDir}; export HEARTH_SUPERVISE_DIR HEARTH_LOG_MAX_BYTES HEARTH_LOG_KEEP HEARTH_LOG_CHECK_SECONDS`;
    // about 1 MB a second
    const chatty = `bash -c 'while :; do head -c 100000 /dev/zero | tr "\\\\0" x; echo; sleep 0.1; done'`;
    /** This test's processes: the supervisor, its rotation loop (both name it in their argv). */
    const mine = () =>
      readdirSync("/proc")
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").includes(name);
          } catch {
            return false;
          }
        });
    const argvOf = (p: string) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      } catch {
        return [];
      }
    };
    const start = bash(`${common}; hearth_supervise_start ${name} root / ${LIB} ${chatty}`, env);
    expect(start.status, start.stderr).toBe(0);
    const log = path.join(logDir, `${name}.log`);
    const sizes: number[] = [];
    try {
      for (let i = 0; i < 12; i++) {
        await new Promise((r) => setTimeout(r, 500));
        sizes.push(statSync(log).size);
      }
      // one supervise.sh for the service (the rotation loop is a process with its own command line)
      // polled: a bash that forks a subshell (a command substitution) shows the same command
      // line for a moment, so one look can count it twice (CI saw 3 supervise.sh once)
      const count = (script: string) => mine().filter((p) => argvOf(p).some((a) => a.endsWith(script))).length;
      await expect.poll(() => count("/supervise.sh"), { timeout: 10_000, interval: 100 }).toBe(1);
      await expect.poll(() => count("/rotate-log.sh"), { timeout: 10_000, interval: 100 }).toBe(1);
    } finally {
      const stop = bash(`${common}; hearth_supervise_stop ${name}`, env);
      expect(stop.status, stop.stderr).toBe(0);
    }
    // the supervisor and its rotation loop are gone (a rotation under way finishes first)
    for (let i = 0; i < 50 && mine().length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(mine()).toEqual([]);
    // some 6 MB were written; the live log never held much more than a check's worth past the limit
    expect(Math.max(...sizes)).toBeLessThan(2_500_000);
    expect(readdirSync(logDir).sort()).toEqual([`${name}.log`, `${name}.log.1.gz`, `${name}.log.2.gz`]);
    const copy = gunzipSync(readFileSync(path.join(logDir, `${name}.log.1.gz`))).toString();
    expect(copy.length).toBeGreaterThanOrEqual(300_000);
    expect(copy).toMatch(/^x+$/m);
    expect(existsSync(path.join(supDir, `${name}.supervisor.pid`))).toBe(false);
  }, 60_000);
});
