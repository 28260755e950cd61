import { spawn, type ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";

export interface TestDaemon {
  child: ChildProcess;
  /** What it printed so far (stdout and stderr). */
  output(): string;
  exited(): boolean;
  /** SIGTERM (SIGKILL after 5 s), then the folder is removed. */
  stop(): Promise<void>;
}

/** A server of a test (named, pdns_server) run in the foreground with its own folder `dir`. */
export function startTestDaemon(command: string, args: string[], dir: string): TestDaemon {
  let out = "";
  const child: ChildProcess = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) =>
    child.on("exit", () => {
      exited = true;
      resolve();
    }),
  );
  return {
    child,
    output: () => out,
    exited: () => exited,
    async stop() {
      if (!exited) {
        child.kill("SIGTERM");
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exitedPromise;
        clearTimeout(t);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
