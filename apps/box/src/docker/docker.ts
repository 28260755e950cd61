import { createHash } from "node:crypto";
import { readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Duplex, Readable } from "node:stream";
import type Docker from "dockerode";
import { HearthError, isHearthImage } from "@hearth/contracts";
import { SYSTEM_PATHS } from "../paths";
import { dockerode } from "./client";
import { hostRoutes } from "./host-routes";
import { isOverlapError, type NetworkPlan, networkPlanFromEnv, SubnetAllocator, type SubnetSources } from "./subnets";

/**
 * A thin adapter over the Docker Engine API (dockerode): no product logic here. Services take
 * a `DockerApi` so unit tests can pass a fake; integration tests use `createDocker()`.
 *
 * Hearth never changes a Docker object it did not make: every list is filtered on the label
 * `hearth.managed=true`, and every stop/remove first checks that label on the object and
 * refuses (`NotManagedError`) when it is missing. Creating objects is up to the caller, who
 * must put the label on them (container-spec.ts does).
 */
export const MANAGED_LABEL = "hearth.managed";
export const APP_LABEL = "hearth.app";
export const MANIFEST_LABEL = "hearth.manifest";
export const OWNER_LABEL = "hearth.owner";

export class NotManagedError extends Error {
  constructor(kind: string, name: string) {
    super(`${kind} ${name} is not labelled ${MANAGED_LABEL}=true; Hearth does not touch it`);
    this.name = "NotManagedError";
  }
}

/** The engine's own message of a Docker API error (dockerode puts it in `json.message`). */
export function dockerMessageOf(e: unknown): string {
  const m = (e as { json?: { message?: unknown } })?.json?.message;
  return typeof m === "string" && m ? m : e instanceof Error ? e.message : String(e);
}

/** A Docker API error with its HTTP status (404 = no such object, 409 = conflict …). */
export function dockerStatusOf(e: unknown): number | undefined {
  const s = (e as { statusCode?: unknown })?.statusCode;
  return typeof s === "number" ? s : undefined;
}

export interface ContainerSummary {
  id: string;
  name: string;
  labels: Record<string, string>;
  state: string;
  /** when the engine made it (null when it does not say) */
  createdAt?: Date | null;
}
export interface ContainerState {
  id: string;
  name: string;
  labels: Record<string, string>;
  running: boolean;
  status: string;
  oomKilled: boolean;
  exitCode: number;
  raw: Docker.ContainerInspectInfo;
}
export interface NamedObject {
  name: string;
  labels: Record<string, string>;
  /** when the engine made it (lists only; null when it does not say) */
  createdAt?: Date | null;
}

/** A Docker time (ISO string or unix seconds) as a Date, or null. */
export function dockerTime(v: unknown): Date | null {
  if (typeof v === "number" && v > 0) return new Date(v * 1000);
  if (typeof v === "string" && v) {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) || d.getTime() <= 0 ? null : d;
  }
  return null;
}
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}
export interface DockerEvent {
  type: string;
  action: string;
  id: string;
  attributes: Record<string, string>;
  time: number;
}
export interface LogOptions {
  follow?: boolean;
  /** How many of the newest lines; "all" for every one. Default 100. */
  tail?: number | "all";
  /** Only lines from this time on: UNIX seconds, or Docker's "<seconds>.<nanoseconds>". */
  since?: number | string;
  timestamps?: boolean;
}

export interface DockerApi {
  ping(): Promise<void>;

  inspectContainer(nameOrId: string): Promise<ContainerState | null>;
  /** Returns the new container's id. */
  createContainer(opts: Docker.ContainerCreateOptions): Promise<string>;
  startContainer(nameOrId: string): Promise<void>;
  stopContainer(nameOrId: string, timeoutSeconds?: number): Promise<void>;
  restartContainer(nameOrId: string, timeoutSeconds?: number): Promise<void>;
  /** Force-removes a managed container (and its anonymous volumes); no-op when it is gone. */
  removeContainer(nameOrId: string): Promise<void>;
  listContainers(labels?: Record<string, string>): Promise<ContainerSummary[]>;
  /** Runs a command in a running container and returns its exit code and output (tests, diagnostics). */
  exec(nameOrId: string, cmd: string[]): Promise<{ exitCode: number; output: string }>;
  /**
   * An interactive shell (`docker exec` with a TTY) in a running managed container: bash when
   * the image has it, else /bin/sh. `stream` carries the terminal's bytes both ways (a TTY is
   * not multiplexed); it ends when the shell exits or the container stops or is removed.
   * Nothing secret goes into the command: the shell inherits the container's own environment.
   */
  execShell?(nameOrId: string, size: { cols: number; rows: number }, tag?: string): Promise<ShellSession>;
  /**
   * Ends what a tagged execShell left in the container (Docker cannot kill an exec): one short
   * exec of a fixed program that sends SIGHUP, then SIGKILL a second later, to every process
   * whose environment carries `HEARTH_TERMINAL=<tag>`. The tag (a UUID, checked) is its own
   * argv entry, never part of the program.
   */
  endTaggedExecs?(nameOrId: string, tag: string): Promise<void>;

  inspectNetwork(name: string): Promise<NamedObject | null>;
  /**
   * A bridge network whose host interface is `bridgeNameOf(name)` (setup/lib/app-firewall.sh
   * filters `hth+`), with a subnet of Hearth's address plan (subnets.ts). Returns the subnet.
   * When the plan has no free subnet left: `HearthError("bad_state")` naming the range.
   */
  createNetwork(name: string, labels: Record<string, string>): Promise<{ subnet: string; gateway: string }>;
  removeNetwork(name: string): Promise<void>;
  listNetworks(labels?: Record<string, string>): Promise<NamedObject[]>;

  inspectVolume(name: string): Promise<NamedObject | null>;
  createVolume(name: string, labels: Record<string, string>): Promise<void>;
  removeVolume(name: string): Promise<void>;
  listVolumes(labels?: Record<string, string>): Promise<NamedObject[]>;

  /** The image's id, or null when it is not present locally. */
  inspectImage(ref: string): Promise<{ id: string } | null>;
  /** Pulls; rejects with the engine's message on failure. Each progress message goes to onLine. */
  pullImage(ref: string, auth: RegistryAuth | null, onLine: (line: string) => void, signal?: AbortSignal): Promise<void>;
  /** Builds the folder `contextDir` (with its Dockerfile) as `tag`; each output line goes to onLine. */
  buildImage(contextDir: string, tag: string, labels: Record<string, string>, onLine: (line: string) => void, signal?: AbortSignal): Promise<void>;
  /** `docker import`: a root filesystem tarball becomes the image `ref`. */
  importImage(tarball: Readable, ref: string): Promise<void>;
  removeImage(ref: string): Promise<void>;

  /** Engine events (filtered on the managed label); returns a function that stops listening. */
  events(onEvent: (e: DockerEvent) => void, onError?: (e: Error) => void): Promise<() => void>;
  /** A container's stdout+stderr as plain text lines (demultiplexed). */
  logs(nameOrId: string, opts: LogOptions): Promise<Readable>;
  /**
   * How many processes the kernel has killed in the container's memory cgroup for memory
   * (the cgroup's `oom_kill` counter), or null when it cannot be read. Docker's own `oom`
   * event is not sent on every kernel (seen: none for a process started with exec), the
   * counter is.
   */
  oomKills?(containerId: string): Promise<number | null>;
}

export interface ShellSession {
  stream: Duplex;
  resize(size: { cols: number; rows: number }): Promise<void>;
}

/** The variable execShell tags its shell (and so every process started from it) with. */
export const TERMINAL_TAG_VAR = "HEARTH_TERMINAL";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** endTaggedExecs' program (`sh -c <this> sh <tag>`): HUP the tagged processes, then KILL what is left. */
export const END_TAGGED_SCRIPT = `t="${TERMINAL_TAG_VAR}=$1"; sig=HUP
for round in 1 2; do
  for d in /proc/[0-9]*; do
    p=\${d#/proc/}; [ "$p" = "$$" ] && continue
    grep -qs -- "$t" "$d/environ" && kill -$sig "$p" 2>/dev/null
  done
  [ "$round" = 1 ] && sleep 1; sig=KILL
done
exit 0`;

/** What execShell runs: bash when present, else sh (every Hearth image has /bin/sh). */
export const SHELL_COMMAND = ["/bin/sh", "-c", "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec /bin/sh -l; fi"];

const managedFilter = (labels: Record<string, string> = {}) => ({
  label: [`${MANAGED_LABEL}=true`, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`)],
});

const isManaged = (labels: Record<string, string> | null | undefined) => labels?.[MANAGED_LABEL] === "true";

async function nullOn404<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (e) {
    if (dockerStatusOf(e) === 404) return null;
    throw e;
  }
}

async function ignore404(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (dockerStatusOf(e) !== 404) throw e;
  }
}

/**
 * The host interface of a Docker network Hearth makes: `hth` + 12 hex digits of the
 * network name's SHA-256 (Linux allows 15 characters). The prefix is what the host
 * firewall (setup/lib/app-firewall.sh) matches: app containers cannot reach the metadata
 * address or the host's own services except those Hearth gives them.
 */
export const BRIDGE_PREFIX = "hth";
export const BRIDGE_NAME_OPTION = "com.docker.network.bridge.name";
export function bridgeNameOf(network: string): string {
  return BRIDGE_PREFIX + createHash("sha256").update(network).digest("hex").slice(0, 12);
}

/** Every file below dir, relative to it (what the build context tarball holds). */
function filesBelow(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const ent of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${ent.name}` : ent.name;
    if (ent.isDirectory()) out.push(...filesBelow(dir, p));
    else out.push(p);
  }
  return out;
}

/** Reads a JSON-lines progress stream (pull, build) to its end; rejects on an error message. */
function followJsonStream(modem: Docker["modem"], stream: NodeJS.ReadableStream, onMessage: (m: Record<string, unknown>) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let failed: Error | null = null;
    modem.followProgress(
      stream,
      (err: Error | null) => {
        if (err) reject(err);
        else if (failed) reject(failed);
        else resolve();
      },
      (m: Record<string, unknown>) => {
        const detail = m.errorDetail as { message?: string } | undefined;
        if (typeof m.error === "string" || detail?.message) failed ??= new Error(String(detail?.message ?? m.error));
        onMessage(m);
      },
    );
  });
}

export interface NetworkOptions {
  /** Hearth's address plan; default from HEARTH_NETWORK_POOL / HEARTH_NETWORK_SIZE (read at the first network) */
  plan?: NetworkPlan;
  /** what a new subnet must not overlap besides Docker's networks; default the host's routes (host-routes.ts) */
  hostRoutes?: () => Promise<string[]>;
}

/** The IPv4 subnets of every network on the engine (all owners: a new subnet must overlap none). */
async function dockerSubnets(d: Docker): Promise<string[]> {
  const list = (await d.listNetworks()) as Array<{ IPAM?: { Config?: Array<{ Subnet?: string }> | null } }>;
  return list.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? "")).filter((s) => s.includes("."));
}

export function createDocker(opts?: Docker.DockerOptions, net: NetworkOptions = {}): DockerApi {
  const d = dockerode(opts);
  let allocator: SubnetAllocator | null = null;
  const allocatorOf = () => {
    const sources: SubnetSources = { dockerSubnets: () => dockerSubnets(d), hostRoutes: net.hostRoutes ?? hostRoutes };
    allocator ??= new SubnetAllocator(net.plan ?? networkPlanFromEnv(), sources, { settingHint: SYSTEM_PATHS.envFile.path });
    return allocator;
  };

  const managedContainer = async (nameOrId: string) => {
    const info = await nullOn404(d.getContainer(nameOrId).inspect());
    if (!info) return null;
    if (!isManaged(info.Config.Labels)) throw new NotManagedError("container", nameOrId);
    return d.getContainer(info.Id);
  };

  const api: DockerApi = {
    oomKills: readOomKills,
    async ping() {
      await d.ping();
    },

    async inspectContainer(nameOrId) {
      const i = await nullOn404(d.getContainer(nameOrId).inspect());
      if (!i) return null;
      return {
        id: i.Id,
        name: i.Name.replace(/^\//, ""),
        labels: i.Config.Labels ?? {},
        running: i.State.Running,
        status: i.State.Status,
        oomKilled: i.State.OOMKilled,
        exitCode: i.State.ExitCode,
        raw: i,
      };
    },
    async createContainer(opts) {
      if (!isManaged(opts.Labels)) throw new NotManagedError("container", opts.name ?? "(unnamed)");
      const c = await d.createContainer(opts);
      return c.id;
    },
    async startContainer(nameOrId) {
      const c = await managedContainer(nameOrId);
      if (!c) throw Object.assign(new Error(`no container ${nameOrId}`), { statusCode: 404 });
      try {
        await c.start();
      } catch (e) {
        if (dockerStatusOf(e) !== 304) throw e; // 304: already started
      }
    },
    async stopContainer(nameOrId, timeoutSeconds = 10) {
      const c = await managedContainer(nameOrId);
      if (!c) return;
      try {
        await c.stop({ t: timeoutSeconds });
      } catch (e) {
        if (dockerStatusOf(e) !== 304 && dockerStatusOf(e) !== 404) throw e; // 304: already stopped
      }
    },
    async restartContainer(nameOrId, timeoutSeconds = 10) {
      const c = await managedContainer(nameOrId);
      if (!c) throw Object.assign(new Error(`no container ${nameOrId}`), { statusCode: 404 });
      await c.restart({ t: timeoutSeconds });
    },
    async removeContainer(nameOrId) {
      const c = await managedContainer(nameOrId);
      if (!c) return;
      try {
        await c.remove({ force: true, v: true });
      } catch (e) {
        // 404: gone meanwhile; 409 "removal already in progress": wait for it below
        if (dockerStatusOf(e) !== 404 && dockerStatusOf(e) !== 409) throw e;
      }
      for (let i = 0; i < 100; i++) {
        if (!(await nullOn404(d.getContainer(nameOrId).inspect()))) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`container ${nameOrId} is still there after removal`);
    },
    async listContainers(labels) {
      const list = await d.listContainers({ all: true, filters: managedFilter(labels) });
      return list.filter((c) => isManaged(c.Labels)).map((c) => ({ id: c.Id, name: (c.Names[0] ?? "").replace(/^\//, ""), labels: c.Labels, state: c.State, createdAt: dockerTime(c.Created) }));
    },
    async exec(nameOrId, cmd) {
      const c = await managedContainer(nameOrId);
      if (!c) throw Object.assign(new Error(`no container ${nameOrId}`), { statusCode: 404 });
      const ex = await c.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
      const stream = await ex.start({ hijack: true, stdin: false });
      const chunks: Buffer[] = [];
      const sink = new (await import("node:stream")).PassThrough();
      sink.on("data", (b: Buffer) => chunks.push(b));
      d.modem.demuxStream(stream, sink, sink);
      await new Promise<void>((resolve, reject) => {
        stream.on("end", resolve);
        stream.on("close", resolve);
        stream.on("error", reject);
      });
      const info = await ex.inspect();
      return { exitCode: info.ExitCode ?? -1, output: Buffer.concat(chunks).toString("utf8") };
    },

    async execShell(nameOrId, size, tag) {
      if (tag !== undefined && !UUID.test(tag)) throw new Error("a terminal's tag is a UUID");
      const c = await managedContainer(nameOrId);
      if (!c) throw Object.assign(new Error(`no container ${nameOrId}`), { statusCode: 404 });
      const ex = await c.exec({
        Cmd: SHELL_COMMAND,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        Tty: true,
        Env: ["TERM=xterm-256color", ...(tag ? [`${TERMINAL_TAG_VAR}=${tag}`] : [])],
      });
      const stream = (await ex.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
      const resize = async (s: { cols: number; rows: number }) => {
        // the engine refuses a resize before the process started; the next one applies
        await ex.resize({ h: s.rows, w: s.cols }).catch(() => {});
      };
      await resize(size);
      return { stream, resize };
    },

    async endTaggedExecs(nameOrId, tag) {
      if (!UUID.test(tag)) throw new Error("a terminal's tag is a UUID");
      const c = await managedContainer(nameOrId);
      if (!c) return; // gone: its processes went with it
      const ex = await c.exec({ Cmd: ["/bin/sh", "-c", END_TAGGED_SCRIPT, "sh", tag], AttachStdout: true, AttachStderr: true });
      const stream = await ex.start({ hijack: true, stdin: false });
      stream.resume();
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          stream.destroy();
          resolve();
        }, 10_000);
        const done = () => {
          clearTimeout(t);
          resolve();
        };
        stream.once("close", done);
        stream.once("end", done);
        stream.once("error", done);
      });
    },

    async inspectNetwork(name) {
      const n = await nullOn404(d.getNetwork(name).inspect() as Promise<{ Name: string; Labels?: Record<string, string> }>);
      return n && { name: n.Name, labels: n.Labels ?? {} };
    },
    async createNetwork(name, labels) {
      if (!isManaged(labels)) throw new NotManagedError("network", name);
      return allocatorOf().allocate(name, async ({ subnet, gateway }) => {
        try {
          await d.createNetwork({
            Name: name,
            Driver: "bridge",
            CheckDuplicate: true,
            Labels: labels,
            Options: { [BRIDGE_NAME_OPTION]: bridgeNameOf(name) },
            // the gateway is named: with only a subnet, Docker's inspect shows none (mail/network.ts reads it)
            IPAM: { Driver: "default", Config: [{ Subnet: subnet, Gateway: gateway }] },
          });
        } catch (e) {
          if (isOverlapError(e) || dockerStatusOf(e) === 409) throw e; // the allocator's / the caller's business
          throw new HearthError("external", `Docker could not create the network ${name} (${subnet}): ${dockerMessageOf(e)}`, { cause: e });
        }
      });
    },
    async removeNetwork(name) {
      const n = await api.inspectNetwork(name);
      if (!n) return;
      if (!isManaged(n.labels)) throw new NotManagedError("network", name);
      await ignore404(d.getNetwork(name).remove());
    },
    async listNetworks(labels) {
      const list = await d.listNetworks({ filters: managedFilter(labels) });
      return list.filter((n) => isManaged(n.Labels)).map((n) => ({ name: n.Name, labels: n.Labels ?? {}, createdAt: dockerTime(n.Created) }));
    },

    async inspectVolume(name) {
      const v = await nullOn404(d.getVolume(name).inspect());
      return v && { name: v.Name, labels: v.Labels ?? {} };
    },
    async createVolume(name, labels) {
      if (!isManaged(labels)) throw new NotManagedError("volume", name);
      await d.createVolume({ Name: name, Driver: "local", Labels: labels });
    },
    async removeVolume(name) {
      const v = await api.inspectVolume(name);
      if (!v) return;
      if (!isManaged(v.labels)) throw new NotManagedError("volume", name);
      await ignore404(d.getVolume(name).remove());
    },
    async listVolumes(labels) {
      const r = await d.listVolumes({ filters: managedFilter(labels) });
      return (r.Volumes ?? []).filter((v) => isManaged(v.Labels)).map((v) => ({ name: v.Name, labels: v.Labels ?? {}, createdAt: dockerTime((v as { CreatedAt?: string }).CreatedAt) }));
    },

    async inspectImage(ref) {
      const i = await nullOn404(d.getImage(ref).inspect());
      return i && { id: i.Id };
    },
    async pullImage(ref, auth, onLine, signal) {
      // Hearth's own images are built on this machine: a pull could only fetch a stranger's
      if (isHearthImage(ref)) throw new HearthError("invalid", `${ref} is one of Hearth's own images: it is built on this server, never pulled`);
      const stream = (await d.pull(ref, { ...(auth ? { authconfig: auth } : {}), abortSignal: signal })) as NodeJS.ReadableStream;
      await followJsonStream(d.modem, stream, (m) => {
        const line = [m.id, m.status, m.progress ? "" : undefined].filter((x) => typeof x === "string" && x).join(": ");
        if (line && !m.progressDetail) onLine(line);
        else if (line && typeof m.status === "string" && !/Downloading|Extracting|Waiting/.test(m.status)) onLine(line);
      });
    },
    async buildImage(contextDir, tag, labels, onLine, signal) {
      const stream = await d.buildImage({ context: contextDir, src: filesBelow(contextDir) }, { t: tag, labels, rm: true, forcerm: true, abortSignal: signal } as Docker.ImageBuildOptions);
      let partial = "";
      await followJsonStream(d.modem, stream, (m) => {
        const text = typeof m.stream === "string" ? m.stream : typeof m.status === "string" ? `${m.status}\n` : typeof m.error === "string" ? `${m.error}\n` : "";
        partial += text;
        const lines = partial.split("\n");
        partial = lines.pop() ?? "";
        for (const l of lines) if (l.trim()) onLine(l.trimEnd());
      });
      if (partial.trim()) onLine(partial.trimEnd());
    },
    async importImage(tarball, ref) {
      const [repo, tag] = splitTag(ref);
      const stream = (await d.importImage(tarball as unknown as string, { repo, tag })) as NodeJS.ReadableStream;
      await followJsonStream(d.modem, stream, () => {});
    },
    async removeImage(ref) {
      await ignore404(d.getImage(ref).remove({ force: false }));
    },

    async events(onEvent, onError) {
      const stream = (await d.getEvents({ filters: managedFilter() })) as unknown as Readable;
      let buf = "";
      stream.on("data", (chunk: Buffer) => {
        buf += chunk.toString("utf8");
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          try {
            const e = JSON.parse(line) as { Type?: string; Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> }; time?: number };
            onEvent({ type: e.Type ?? "", action: e.Action ?? "", id: e.Actor?.ID ?? "", attributes: e.Actor?.Attributes ?? {}, time: e.time ?? 0 });
          } catch {
            /* not JSON: ignore */
          }
        }
      });
      stream.on("error", (e: Error) => onError?.(e));
      return () => stream.destroy();
    },
    async logs(nameOrId, opts) {
      const { PassThrough } = await import("node:stream");
      const c = d.getContainer(nameOrId);
      const out = new PassThrough();
      // the engine takes tail=all and since=<s>.<ns> in the query; dockerode's types say numbers only
      const common = { stdout: true, stderr: true, timestamps: opts.timestamps ?? false, tail: (opts.tail ?? 100) as number, since: (opts.since ?? 0) as number };
      if (opts.follow) {
        const raw = await c.logs({ ...common, follow: true });
        d.modem.demuxStream(raw, out, out);
        raw.on("end", () => out.end());
        raw.on("error", (e: Error) => out.destroy(e));
        out.on("close", () => (raw as unknown as Readable).destroy?.());
      } else {
        const buf = await c.logs({ ...common, follow: false });
        out.end(demuxBuffer(buf));
      }
      return out;
    },
  };
  return api;
}

/** "name:tag" → ["name", "tag"], keeping a registry port ("host:5000/x") in the name. */
export function splitTag(ref: string): [string, string] {
  const at = ref.indexOf("@");
  const noDigest = at >= 0 ? ref.slice(0, at) : ref;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  if (colon > slash) return [noDigest.slice(0, colon), noDigest.slice(colon + 1)];
  return [noDigest, "latest"];
}

/** Docker's multiplexed log format (8-byte frame headers) → plain bytes; TTY output passes as is. */
export function demuxBuffer(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const kind = buf[i];
    if ((kind !== 0 && kind !== 1 && kind !== 2) || buf[i + 1] !== 0 || buf[i + 2] !== 0 || buf[i + 3] !== 0) return buf;
    const len = buf.readUInt32BE(i + 4);
    parts.push(buf.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return i === buf.length ? Buffer.concat(parts) : buf;
}

/** Where the kernel keeps a Docker container's memory cgroup counters: cgroup v1, then v2 (cgroupfs and systemd drivers). */
export function oomCounterFiles(containerId: string, root = "/sys/fs/cgroup"): string[] {
  return [
    `${root}/memory/docker/${containerId}/memory.oom_control`,
    `${root}/memory/system.slice/docker-${containerId}.scope/memory.oom_control`,
    `${root}/docker/${containerId}/memory.events`,
    `${root}/system.slice/docker-${containerId}.scope/memory.events`,
  ];
}

/** The `oom_kill N` line of memory.oom_control (v1) or memory.events (v2). */
export function parseOomKill(text: string): number | null {
  const m = /^oom_kill (\d+)$/m.exec(text);
  return m ? Number(m[1]) : null;
}

async function readOomKills(containerId: string): Promise<number | null> {
  if (!/^[0-9a-f]{64}$/.test(containerId)) return null;
  for (const file of oomCounterFiles(containerId)) {
    const text = await readFile(file, "utf8").catch(() => null);
    if (text === null) continue;
    const n = parseOomKill(text);
    if (n !== null) return n;
  }
  return null;
}
