/**
 * Benchmark (not a test): the idle memory of an installed Hearth, per part, from
 * /proc/<pid>/smaps_rollup (RSS, and PSS, which shares each shared page among the processes
 * that map it, so PSS figures add up):
 *
 *   box, admin        their systemd unit's cgroup (hearth-box.service, hearth-admin.service),
 *                     else the supervisor's pid file /run/hearth-supervise/<name>.pid, with
 *                     every descendant process
 *   nginx             /run/nginx.pid and its workers
 *   platform MariaDB  mariadb.service's cgroup, else /run/mysqld/mysqld.pid
 *   dockerd           /var/run/docker.pid; containerd, the containerd shims and docker-proxy
 *                     processes on their own lines
 *   services          every running container labelled hearth.service (MariaDB, PostgreSQL,
 *                     per-app Redis), its processes from `docker top`; stopped ones are listed
 *   apps              the app containers (label hearth.app), in one line
 *
 * Then box + admin RSS against the goal of 250 MiB, as a ratio (≤ 1 meets it).
 *
 *   sudo npx tsx bench/footprint.ts [--json] [--pid NAME=PID ...]
 *
 * Run as root (other users' smaps_rollup). `--pid box=1234` measures that process tree as
 * NAME instead of looking for it (e.g. a box started by hand); a part that is not found is
 * reported as such and the rest is measured anyway.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { listProcesses, measure, mib, MiB, readPidFile, withDescendants, type Measured, type ProcInfo } from "./footprint-proc";

const GOAL_MIB = 250;
const SUPERVISE_DIR = "/run/hearth-supervise";

interface Part {
  name: string;
  /** where its pids came from, or why it was not found */
  source: string;
  m: Measured | null;
  /** counted in the platform total (apps are not) */
  platform: boolean;
}

function parseArgs(argv: string[]): { json: boolean; pids: Map<string, number> } {
  const pids = new Map<string, number>();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--json") json = true;
    else if (a === "--pid") {
      const m = /^([a-z][a-z0-9-]*)=(\d+)$/.exec(argv[++i] ?? "");
      if (!m) throw new Error("--pid takes NAME=PID, e.g. --pid box=1234");
      pids.set(m[1]!, Number(m[2]));
    } else throw new Error(`unknown argument ${a}; usage: footprint.ts [--json] [--pid NAME=PID ...]`);
  }
  return { json, pids };
}

const hasSystemd = existsSync("/run/systemd/system");

function sh(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 20_000 });
  } catch {
    return null;
  }
}

/** The pids in a systemd unit's cgroup, or null when the unit is not running. */
function unitPids(unit: string): number[] | null {
  if (!hasSystemd) return null;
  const cg = sh("systemctl", ["show", "-p", "ControlGroup", "--value", unit])?.trim();
  if (!cg) return null;
  try {
    const pids = readFileSync(`/sys/fs/cgroup${cg}/cgroup.procs`, "utf8").split("\n").filter(Boolean).map(Number);
    return pids.length ? pids : null;
  } catch {
    return null;
  }
}

function tree(root: number, all: ProcInfo[]): number[] {
  return withDescendants([root], all);
}

function findPart(name: string, all: ProcInfo[], o: { override?: number; unit?: string; pidFiles: string[] }): Part {
  if (o.override !== undefined) return { name, source: `--pid ${o.override} and descendants`, m: measure(tree(o.override, all)), platform: true };
  if (o.unit) {
    const pids = unitPids(o.unit);
    if (pids) return { name, source: `${o.unit} cgroup`, m: measure(pids), platform: true };
  }
  for (const f of o.pidFiles) {
    const pid = readPidFile(f);
    if (pid !== null) return { name, source: `${f} (${pid}) and descendants`, m: measure(tree(pid, all)), platform: true };
  }
  return { name, source: `not found (${[o.unit, ...o.pidFiles].filter(Boolean).join(", ")})`, m: null, platform: true };
}

function byComm(name: string, all: ProcInfo[], match: (comm: string) => boolean, exclude: ReadonlySet<number>): Part {
  const pids = all.filter((p) => match(p.comm) && !exclude.has(p.pid)).map((p) => p.pid);
  return { name, source: pids.length ? `${pids.length} process(es) by name` : "none running", m: pids.length ? measure(pids) : null, platform: true };
}

/** Host pids of a container's processes (`docker top NAME -eo pid`). */
function containerPids(container: string): number[] {
  const out = sh("docker", ["top", container, "-eo", "pid"]);
  if (!out) return [];
  return out
    .split("\n")
    .slice(1)
    .map((l) => l.trim())
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

function containers(filter: string[]): { name: string; state: string }[] {
  const out = sh("docker", ["ps", "-a", ...filter.flatMap((f) => ["--filter", f]), "--format", "{{.Names}}\t{{.State}}"]);
  if (out === null) return [];
  return out
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [name, state] = l.split("\t");
      return { name: name!, state: state ?? "?" };
    });
}

function main(): void {
  const { json, pids } = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) process.stderr.write("footprint: not root: other users' processes cannot be read and are skipped\n");
  const all = listProcesses();
  const parts: Part[] = [];
  parts.push(findPart("box", all, { override: pids.get("box"), unit: "hearth-box.service", pidFiles: [`${SUPERVISE_DIR}/box.pid`] }));
  parts.push(findPart("admin", all, { override: pids.get("admin"), unit: "hearth-admin.service", pidFiles: [`${SUPERVISE_DIR}/admin.pid`] }));
  parts.push(findPart("nginx", all, { override: pids.get("nginx"), unit: "nginx.service", pidFiles: ["/run/nginx.pid"] }));
  parts.push(findPart("mariadb (platform)", all, { override: pids.get("mariadb"), unit: "mariadb.service", pidFiles: ["/run/mysqld/mysqld.pid"] }));
  const dockerd = readPidFile("/var/run/docker.pid");
  parts.push({ name: "dockerd", source: dockerd ? `/var/run/docker.pid (${dockerd})` : "not found (/var/run/docker.pid)", m: dockerd ? measure([dockerd]) : null, platform: true });
  const none = new Set<number>();
  parts.push(byComm("containerd", all, (c) => c === "containerd", none));
  parts.push(byComm("containerd-shim", all, (c) => c.startsWith("containerd-shim"), none));
  parts.push(byComm("docker-proxy", all, (c) => c === "docker-proxy", none));

  const stopped: string[] = [];
  for (const c of containers(["label=hearth.service"])) {
    if (c.name.endsWith("-wipe") || c.name.endsWith("-restore")) continue; // one-shot jobs
    if (c.state !== "running") {
      stopped.push(`${c.name} (${c.state})`);
      continue;
    }
    const p = containerPids(c.name);
    parts.push({ name: `service ${c.name}`, source: `docker top (${p.length} processes)`, m: p.length ? measure(p) : null, platform: true });
  }
  const apps = containers(["label=hearth.app", "status=running"]);
  const appPids = apps.flatMap((c) => containerPids(c.name));
  parts.push({ name: `apps (${apps.length} containers)`, source: "docker top", m: appPids.length ? measure(appPids) : null, platform: false });

  const sum = (ps: Part[], k: "rss" | "pss") => ps.reduce((s, p) => s + (p.m?.[k] ?? 0), 0);
  const platformPss = sum(
    parts.filter((p) => p.platform),
    "pss",
  );
  const boxAdmin = parts.filter((p) => p.name === "box" || p.name === "admin");
  const boxAdminRss = sum(boxAdmin, "rss");
  const missing = boxAdmin.filter((p) => !p.m).map((p) => p.name);
  const ratio = boxAdminRss / (GOAL_MIB * MiB);

  if (json) {
    process.stdout.write(
      `${JSON.stringify(
        {
          parts: parts.map((p) => ({ name: p.name, source: p.source, processes: p.m?.pids.length ?? 0, rssBytes: p.m?.rss ?? null, pssBytes: p.m?.pss ?? null, swapBytes: p.m?.swap ?? null })),
          stoppedServices: stopped,
          platformPssBytes: platformPss,
          boxAdminRssBytes: boxAdminRss,
          goalMiB: GOAL_MIB,
          ratio: missing.length ? null : ratio,
          missing,
        },
        null,
        2,
      )}\n`,
    );
    return;
  }
  const w = Math.max(...parts.map((p) => p.name.length), 20);
  console.log(`${"part".padEnd(w)}  procs   RSS MiB   PSS MiB  source`);
  for (const p of parts) {
    const n = p.m ? String(p.m.pids.length).padStart(5) : "    -";
    const r = p.m ? mib(p.m.rss).padStart(9) : "        -";
    const s = p.m ? mib(p.m.pss).padStart(9) : "        -";
    console.log(`${p.name.padEnd(w)}  ${n} ${r} ${s}  ${p.source}`);
  }
  console.log(`stopped services (no app needs them): ${stopped.length ? stopped.join(", ") : "none"}`);
  console.log(`platform idle PSS (all but apps): ${mib(platformPss)} MiB`);
  if (missing.length) console.log(`box + admin RSS: ${missing.join(" and ")} not found; no ratio`);
  else console.log(`box + admin RSS: ${mib(boxAdminRss)} MiB; goal ${GOAL_MIB} MiB; ratio ${ratio.toFixed(2)} (≤ 1.00 meets the goal)`);
}

main();
