import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { listProcesses, measure, MiB, parseSmapsRollup, parseStat, readPidFile, readRollup, withDescendants } from "./footprint-proc";

/** bench/footprint.ts's /proc reading, on the real /proc of processes this test starts. */

const started: ChildProcess[] = [];
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
});

/** A node process that holds `mib` MiB of touched memory; resolves once it has. */
function holder(mib: number): Promise<ChildProcess> {
  const c = spawn(process.execPath, ["-e", `const b = Buffer.alloc(${mib} * 1024 * 1024, 1); globalThis.keep = b; console.log("ready"); setInterval(() => {}, 1000);`], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  started.push(c);
  return new Promise((resolve, reject) => {
    c.stdout!.on("data", (d: Buffer) => {
      if (d.toString().includes("ready")) resolve(c);
    });
    c.on("exit", (code) => reject(new Error(`holder exited ${code}`)));
  });
}

describe("smaps_rollup", () => {
  it("parses the kernel's format into bytes", () => {
    const text = [
      "55d0c0a00000-7ffd6d5f1000 ---p 00000000 00:00 0                          [rollup]",
      "Rss:              123456 kB",
      "Pss:               98765 kB",
      "Pss_Anon:          80000 kB",
      "Pss_File:          18765 kB",
      "Pss_Shmem:             0 kB",
      "Shared_Clean:      20000 kB",
      "Swap:                 12 kB",
      "SwapPss:              12 kB",
    ].join("\n");
    expect(parseSmapsRollup(text)).toEqual({ rss: 123456 * 1024, pss: 98765 * 1024, pssAnon: 80000 * 1024, pssFile: 18765 * 1024, swap: 12 * 1024 });
  });

  it("refuses text that is not a rollup", () => {
    expect(() => parseSmapsRollup("Name:\tbash\nState:\tS (sleeping)\n")).toThrow(/not a smaps_rollup/);
  });

  it("measures a real process that holds 64 MiB: RSS and PSS at least that, PSS ≤ RSS", async () => {
    const c = await holder(64);
    const r = readRollup(c.pid!)!;
    expect(r.rss).toBeGreaterThanOrEqual(64 * MiB);
    expect(r.pss).toBeGreaterThanOrEqual(64 * MiB);
    expect(r.pss).toBeLessThanOrEqual(r.rss);
    // and agrees with the kernel's VmRSS in /proc/<pid>/status within 5 %
    const vmRss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${c.pid}/status`, "utf8"))![1]) * 1024;
    expect(Math.abs(r.rss - vmRss) / vmRss).toBeLessThan(0.05);
  });

  it("a gone process reads as null", async () => {
    const c = spawn("true");
    await new Promise((r) => c.on("exit", r));
    await new Promise((r) => setTimeout(r, 100));
    expect(readRollup(c.pid!)).toBeNull();
  });
});

describe("process trees", () => {
  it("parses stat lines whose command has spaces and parentheses", () => {
    expect(parseStat("1234 (my (odd) name) S 77 1234 1234 0 -1 4194560 ...")).toEqual({ ppid: 77, comm: "my (odd) name" });
    expect(() => parseStat("garbage")).toThrow(/not a \/proc/);
  });

  it("finds a shell's children and grandchildren, and sums their memory", async () => {
    const sh = spawn("sh", ["-c", "sleep 30 & (sleep 31 & wait) & wait"], { stdio: "ignore" });
    started.push(sh);
    let pids: number[] = [];
    for (let i = 0; i < 50 && pids.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 50));
      pids = withDescendants([sh.pid!], listProcesses());
    }
    const all = listProcesses();
    const comms = pids.map((p) => all.find((x) => x.pid === p)?.comm).sort();
    // sh, the subshell (sh) and two sleeps
    expect(comms).toEqual(["sh", "sh", "sleep", "sleep"]);
    const m = measure(pids);
    expect(m.pids).toEqual(pids);
    expect(m.rss).toBeGreaterThan(0);
    expect(m.pss).toBeLessThanOrEqual(m.rss);
    sh.kill("SIGKILL");
    for (const p of pids) if (p !== sh.pid) process.kill(p, "SIGKILL");
  });

  it("a pid file is read only when it names a live process", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "footprint-test-"));
    writeFileSync(`${dir}/live.pid`, `${process.pid}\n`);
    writeFileSync(`${dir}/junk.pid`, "not a pid\n");
    writeFileSync(`${dir}/dead.pid`, "4194303\n");
    expect(readPidFile(`${dir}/live.pid`)).toBe(process.pid);
    expect(readPidFile(`${dir}/junk.pid`)).toBeNull();
    expect(readPidFile(`${dir}/dead.pid`)).toBeNull();
    expect(readPidFile(`${dir}/missing.pid`)).toBeNull();
    rmSync(dir, { recursive: true, force: true });
  });
});
