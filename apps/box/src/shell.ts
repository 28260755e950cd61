import { spawn } from "node:child_process";
import path from "node:path";
import { SUDO_HELPER_DIR } from "./paths";

/**
 * box's one process runner: every child process box starts (openssl, dig, nsupdate,
 * nginx, the root helpers through sudo) goes through `run`. No shell is involved: the
 * command and its arguments are passed as they are, so nothing in them is interpreted.
 * Secrets never go in `args` (argv is visible to every user in `ps`): pass them on stdin
 * or in a 0600 file.
 */
export interface RunOptions {
  /** Killed after this long (default 60 s); the result then has `timedOut`. */
  timeoutMs?: number;
  /** The signal a timeout sends (default SIGTERM). */
  killSignal?: NodeJS.Signals;
  /** Written to the child's stdin, which is then closed; without it stdin is empty. */
  stdin?: string;
  /** Each of stdout and stderr keeps at most this many bytes (default 4 MiB); the rest is dropped. */
  maxBuffer?: number;
  env?: NodeJS.ProcessEnv;
  /** The child's working directory (default box's). */
  cwd?: string;
  /** Each chunk of stdout as it arrives (e.g. a tool's JSON progress lines); it is still kept in `stdout`. */
  onStdout?: (chunk: string) => void;
  /** When it aborts (a task's signal: box stopping, a cancel) the child is killed with `killSignal`; the result then has `aborted`. */
  signal?: AbortSignal;
}

export interface RunResult {
  /** The exit code; -1 when the process was killed by a signal or could not start. */
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr in the order they arrived. */
  output: string;
  /** The command was not found (ENOENT). */
  missing: boolean;
  timedOut: boolean;
  /** The child was killed because `signal` aborted. */
  aborted?: boolean;
  /** Why the process could not start (spawn error), if it could not. */
  error?: Error;
}

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_BUFFER = 4 * 1024 * 1024;

/** Runs `cmd` with `args` and resolves with what happened; never rejects. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const max = opts.maxBuffer ?? DEFAULT_MAX_BUFFER;
  return new Promise((resolve) => {
    let stdout = "";
    let stderr = "";
    let output = "";
    let timedOut = false;
    let aborted = false;
    let settled = false;
    const done = (r: Omit<RunResult, "stdout" | "stderr" | "output" | "timedOut">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      resolve({ ...r, stdout, stderr, output, timedOut, ...(aborted ? { aborted } : {}) });
    };
    const onAbort = () => {
      aborted = true;
      child.kill(opts.killSignal ?? "SIGTERM");
    };
    const child = spawn(cmd, [...args], { stdio: ["pipe", "pipe", "pipe"], env: opts.env ?? process.env, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill(opts.killSignal ?? "SIGTERM");
    }, opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", (d: Buffer) => {
      const s = d.toString();
      opts.onStdout?.(s);
      if (stdout.length < max) stdout += s.slice(0, max - stdout.length);
      if (output.length < 2 * max) output += s;
    });
    child.stderr.on("data", (d: Buffer) => {
      const s = d.toString();
      if (stderr.length < max) stderr += s.slice(0, max - stderr.length);
      if (output.length < 2 * max) output += s;
    });
    child.on("error", (e: NodeJS.ErrnoException) => {
      done({ code: -1, missing: e.code === "ENOENT", error: e });
    });
    child.on("close", (code) => done({ code: code ?? -1, missing: false }));
    child.stdin.on("error", () => {}); // the child may exit before reading all of stdin
    child.stdin.end(opts.stdin ?? "");
  });
}

/** The error `runChecked` throws: the command's exit code and its stderr. */
export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly result: RunResult,
  ) {
    const why = result.missing ? "not found" : result.timedOut ? "timed out" : `exited with ${result.code}`;
    super(`${command}: ${why}${result.stderr.trim() ? `: ${result.stderr.trim()}` : ""}`);
    this.name = "CommandError";
  }
  get stderr(): string {
    return this.result.stderr;
  }
}

/** Like `run`, but rejects with a CommandError unless the command exits 0. */
export async function runChecked(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new CommandError(cmd, r);
  return r;
}

/** A root helper's name: a file in the helper folder (setup/sudo), nothing else. */
const HELPER_NAME = /^[a-z][a-z0-9-]*\.sh$/;

export interface RootHelperOptions extends Omit<RunOptions, "stdin"> {
  /** Where the helpers are (default /opt/hearth/app/setup/sudo, the folder sudoers whitelists). */
  helperDir?: string;
  /** The sudo binary (tests). */
  sudo?: string;
}

/**
 * The one way box reaches root: `sudo -n <helperDir>/<name> <args…>`, where the helper is
 * one of the root-owned scripts in setup/sudo that /etc/sudoers.d/hearth whitelists one by
 * one. `-n`: sudo never asks for a password, it fails. Input the helper needs that is not
 * a plain word goes on `stdin`. Resolves with the helper's result (exit code and output);
 * what a non-zero exit means is up to each helper (see apps/box/README.md, "Root helpers").
 */
export function rootHelper(name: string, args: readonly string[] = [], stdin?: string, opts: RootHelperOptions = {}): Promise<RunResult> {
  if (!HELPER_NAME.test(name)) throw new Error(`${JSON.stringify(name)} is not a root helper's name`);
  const { helperDir = SUDO_HELPER_DIR, sudo = "sudo", ...runOpts } = opts;
  return run(sudo, ["-n", path.join(helperDir, name), ...args], { ...runOpts, stdin });
}
