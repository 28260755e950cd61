import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

/** The Node options in a unit's ExecStart: the words between …/node and the script. */
export function nodeFlagsOf(unitText: string): string[] {
  const line = unitText.split("\n").find((l) => l.startsWith("ExecStart="));
  if (!line) throw new Error("no ExecStart= line");
  const words = line.slice("ExecStart=".length).trim().split(/\s+/);
  const node = words.findIndex((w) => w.endsWith("/node"));
  if (node < 0) throw new Error(`ExecStart does not run node: ${line}`);
  const rest = words.slice(node + 1);
  const script = rest.findIndex((w) => !w.startsWith("--"));
  return script < 0 ? rest : rest.slice(0, script);
}

/** The Node options of systemd/<unit> in this checkout. */
export const unitNodeFlags = (unit: string) => nodeFlagsOf(readFileSync(path.resolve(import.meta.dirname, "../systemd", unit), "utf8"));

/**
 * The environment setup/install.sh gives admin beside its unit's options (in
 * /etc/hearth/admin.env, read by systemd and the supervisor alike): jemalloc preloaded
 * (Debian's libjemalloc2) when this machine has it, else nothing.
 */
export function adminAllocatorEnv(): Record<string, string> {
  const r = spawnSync("ldconfig", ["-p"], { encoding: "utf8" });
  const lib = /^\s*libjemalloc\.so\.2 .*=> (\S+)$/m.exec(r.stdout ?? "")?.[1];
  return lib ? { LD_PRELOAD: lib } : {};
}
