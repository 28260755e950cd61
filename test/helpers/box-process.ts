import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { REPO_ROOT } from "./db";

export interface TestBoxProcess {
  child: ChildProcess;
  /** Resolves on the "box ready" log line; rejects when the process exits first. */
  ready: Promise<void>;
  /** What it printed so far (stdout and stderr). */
  out: string[];
}

/**
 * A real box (`node --import tsx apps/box/src/main.ts`) on the test's database and data
 * folder, without nginx and the addon services (HEARTH_PROXY=off, HEARTH_SERVICES=off, so
 * localstorage only), polling tasks every 200 ms with a 30 s lease. Our environment minus any
 * HEARTH_* of the outer shell; `env` adds the test's own (e.g. HEARTH_TEST_APP_STEP_DELAY_MS).
 */
export function startTestBox(o: { databaseUrl: string; dataDir: string; boxId: string; env?: Record<string, string> }): TestBoxProcess {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("HEARTH_")) env[k] = v;
  Object.assign(env, {
    HEARTH_DATABASE_URL: o.databaseUrl,
    HEARTH_DATA_DIR: o.dataDir,
    HEARTH_PROXY: "off",
    HEARTH_SERVICES: "off",
    HEARTH_BOX_SOCKET: path.join(o.dataDir, "box.sock"),
    HEARTH_SOCKET_GROUP: "",
    HEARTH_BOX_ID: o.boxId,
    HEARTH_TASK_POLL_MS: "200",
    HEARTH_TASK_LEASE_MS: "30000",
    HEARTH_LOG_LEVEL: "info",
    ...o.env,
  });
  const child = spawn(process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "apps/box/src/main.ts")], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  const out: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (c: Buffer) => {
      out.push(c.toString());
      if (out.join("").includes('"msg":"box ready"')) resolve();
    });
    child.stderr!.on("data", (c: Buffer) => out.push(c.toString()));
    child.once("exit", (code) => reject(new Error(`box exited (${code}) before it was ready:\n${out.join("")}`)));
  });
  ready.catch(() => {});
  return { child, ready, out };
}

/** kill -9, as a crash or a power cut would; waits for the exit. */
export async function killBox(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }
}

/** Polls `fn` every 100 ms until it returns something truthy; throws after `ms`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
