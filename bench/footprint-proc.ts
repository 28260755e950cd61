import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * Reading a process's memory from /proc, for bench/footprint.ts: /proc/<pid>/smaps_rollup
 * (Rss, Pss, … in kB), the parent of every process (/proc/<pid>/stat) to take whole process
 * trees, and the command name. Everything takes the /proc folder as an argument so the
 * tests read the real one with processes they started themselves.
 */

export interface Rollup {
  /** bytes */
  rss: number;
  pss: number;
  pssAnon: number;
  pssFile: number;
  swap: number;
}

const FIELDS: Record<string, keyof Rollup> = { Rss: "rss", Pss: "pss", Pss_Anon: "pssAnon", Pss_File: "pssFile", Swap: "swap" };

/** The text of /proc/<pid>/smaps_rollup → bytes. Throws on text without Rss and Pss (not a rollup). */
export function parseSmapsRollup(text: string): Rollup {
  const out: Rollup = { rss: 0, pss: 0, pssAnon: 0, pssFile: 0, swap: 0 };
  const seen = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z_]+):\s+(\d+) kB$/.exec(line.trim());
    if (!m) continue;
    const key = FIELDS[m[1]!];
    if (!key) continue;
    out[key] = Number(m[2]) * 1024;
    seen.add(m[1]!);
  }
  if (!seen.has("Rss") || !seen.has("Pss")) throw new Error(`not a smaps_rollup (no Rss/Pss line): ${JSON.stringify(text.slice(0, 120))}`);
  return out;
}

/** null when the process is gone (or is a kernel thread, which has no mappings). */
export function readRollup(pid: number, proc = "/proc"): Rollup | null {
  let text: string;
  try {
    text = readFileSync(path.join(proc, String(pid), "smaps_rollup"), "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ESRCH") return null;
    throw new Error(`reading ${path.join(proc, String(pid), "smaps_rollup")}: ${(e as Error).message} (run as root to read other users' processes)`);
  }
  if (text.trim() === "") return null;
  return parseSmapsRollup(text);
}

/** /proc/<pid>/stat → parent pid and command name (the name may hold spaces and parentheses). */
export function parseStat(text: string): { ppid: number; comm: string } {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${JSON.stringify(text.slice(0, 80))}`);
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const ppid = Number(rest[1]);
  if (!Number.isInteger(ppid)) throw new Error(`no parent pid in: ${JSON.stringify(text.slice(0, 80))}`);
  return { ppid, comm: text.slice(open + 1, close) };
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  comm: string;
}

/** Every process now (those that vanish while being read are left out). */
export function listProcesses(proc = "/proc"): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of readdirSync(proc)) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const { ppid, comm } = parseStat(readFileSync(path.join(proc, name, "stat"), "utf8"));
      out.push({ pid: Number(name), ppid, comm });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** `roots` and all their descendants, each once. */
export function withDescendants(roots: readonly number[], all: readonly ProcInfo[]): number[] {
  const children = new Map<number, number[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const seen = new Set<number>();
  const stack = [...roots];
  while (stack.length) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return [...seen].sort((a, b) => a - b);
}

export interface Measured {
  pids: number[];
  rss: number;
  pss: number;
  /** the anonymous part of pss (heaps; the rest is mapped files such as the node binary) */
  pssAnon: number;
  swap: number;
}

/** The sum over `pids` (gone ones are skipped and not counted). */
export function measure(pids: readonly number[], proc = "/proc"): Measured {
  const out: Measured = { pids: [], rss: 0, pss: 0, pssAnon: 0, swap: 0 };
  for (const pid of pids) {
    const r = readRollup(pid, proc);
    if (!r) continue;
    out.pids.push(pid);
    out.rss += r.rss;
    out.pss += r.pss;
    out.pssAnon += r.pssAnon;
    out.swap += r.swap;
  }
  return out;
}

/** A pid file's number, or null when it is missing, empty or not a live process. */
export function readPidFile(file: string, proc = "/proc"): number | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8").trim();
  } catch {
    return null;
  }
  if (!/^\d+$/.test(text)) return null;
  const pid = Number(text);
  try {
    readFileSync(path.join(proc, String(pid), "stat"));
    return pid;
  } catch {
    return null;
  }
}

export const MiB = 1024 * 1024;
export const mib = (bytes: number) => (bytes / MiB).toFixed(1);
