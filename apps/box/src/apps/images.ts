import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { TaskErrorCode } from "@hearth/contracts";
import { findRegistryByServer, openSecret, parseSecretKey, type Db } from "@hearth/db";
import type { DockerApi, RegistryAuth } from "../docker/docker";
import { TaskError } from "../tasks/registry";

/**
 * Making sure an app's image exists locally: present → use it; else pull it (with the
 * credentials saved for its registry); else build it from the built-in catalog's context
 * for that manifest id. Failures end the task with `image_not_found`, `registry_auth` or
 * `build_failed` (the build's output is in the task log).
 */

// Not (yet) in contracts' TASK_ERROR_CODES; see the report to the lead.
export const IMAGE_ERROR_CODES = { notFound: "image_not_found", auth: "registry_auth", build: "build_failed" } as const;
const imageError = (code: (typeof IMAGE_ERROR_CODES)[keyof typeof IMAGE_ERROR_CODES], message: string) =>
  new TaskError(message, code as unknown as TaskErrorCode);

export const DOCKER_HUB = "docker.io";
const HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/** The registry host of an image reference ("docker.io" for Docker Hub names). */
export function registryHostOf(ref: string): string {
  const slash = ref.indexOf("/");
  if (slash < 0) return DOCKER_HUB;
  const first = ref.slice(0, slash);
  if (first.includes(".") || first.includes(":") || first === "localhost") return HUB_ALIASES.has(first) ? DOCKER_HUB : first;
  return DOCKER_HUB;
}

export interface RegistryCredentials {
  /** Credentials saved for this registry host, or null. Throws TaskError(registry_auth) when they cannot be opened. */
  credentialsFor(host: string): Promise<RegistryAuth | null>;
}

export function prismaRegistryCredentials(db: Db, secretKeyB64: string | undefined = process.env.HEARTH_SECRET_KEY): RegistryCredentials {
  return {
    async credentialsFor(host) {
      const candidates = host === DOCKER_HUB ? [...HUB_ALIASES] : [host];
      const row = await findRegistryByServer(db, candidates);
      if (!row) return null;
      if (!secretKeyB64) throw imageError("registry_auth", `credentials for ${host} are saved but HEARTH_SECRET_KEY is not set, so they cannot be opened`);
      let password: string;
      try {
        password = openSecret(parseSecretKey(secretKeyB64), row.passwordEnc);
      } catch {
        throw imageError("registry_auth", `the saved password for ${host} cannot be decrypted with this HEARTH_SECRET_KEY`);
      }
      return { username: row.username, password, serveraddress: host === DOCKER_HUB ? "https://index.docker.io/v1/" : host };
    },
  };
}

/** A catalog folder holding a build context (Dockerfile) for a manifest id, or null. */
export function findCatalogContext(catalogDirs: readonly string[], manifestId: string, dockerImage?: string): string | null {
  let fallback: string | null = null;
  for (const root of catalogDirs) {
    if (!existsSync(root)) continue;
    for (const ent of readdirSync(root, { withFileTypes: true })) {
      if (!ent.isDirectory()) continue;
      const dir = path.join(root, ent.name);
      const mf = path.join(dir, "HearthManifest.json");
      if (!existsSync(mf) || !existsSync(path.join(dir, "Dockerfile"))) continue;
      let m: { id?: unknown; dockerImage?: unknown };
      try {
        m = JSON.parse(readFileSync(mf, "utf8")) as typeof m;
      } catch {
        continue;
      }
      if (m.id !== manifestId) continue;
      if (dockerImage === undefined || m.dockerImage === dockerImage) return dir;
      fallback ??= dir;
    }
  }
  return fallback;
}

/** packages/catalog/apps of this checkout, found by walking up from this code (src or dist). */
export function defaultCatalogDirs(fromDir: string = import.meta.dirname): string[] {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const c = path.join(dir, "packages", "catalog", "apps");
    if (existsSync(path.join(dir, "packages"))) return [c];
    if (path.dirname(dir) === dir) return [];
  }
}

export interface EnsureImageDeps {
  docker: DockerApi;
  registries: RegistryCredentials;
  catalogDirs: readonly string[];
}
export interface EnsureImageCtx {
  log(line: string): void;
  signal?: AbortSignal;
}

// an HTTP 401/403 named as a status, never any "401" in the text (a registry's port may contain it)
const AUTH_ERROR = /unauthorized|authentication required|incorrect username or password|\b(?:HTTP code|status(?: code)?:?) 40[13]\b|denied: requested access|no basic auth credentials/i;
// without saved credentials: the registry wants a login (dockerd retries a loopback registry
// over plain http after the anonymous https attempt is refused, hence the last pattern)
const LOGIN_REQUIRED = /no basic auth credentials|unauthorized|authentication required|HTTP request to an HTTPS server/i;

/** How many build output lines the task log keeps at most (the tail is what explains a failure). */
const MAX_BUILD_LOG_LINES = 2000;

export async function ensureImage(deps: EnsureImageDeps, image: { ref: string; manifestId: string }, ctx: EnsureImageCtx): Promise<"present" | "pulled" | "built"> {
  const { docker } = deps;
  if (await docker.inspectImage(image.ref)) {
    ctx.log(`image ${image.ref} is present`);
    return "present";
  }

  const host = registryHostOf(image.ref);
  const auth = await deps.registries.credentialsFor(host);
  let pullError: Error | null = null;
  ctx.log(`pulling ${image.ref} from ${host}${auth ? ` as ${auth.username}` : ""}`);
  try {
    await docker.pullImage(image.ref, auth, (l) => ctx.log(`pull: ${l}`), ctx.signal);
    if (await docker.inspectImage(image.ref)) return "pulled";
    pullError = new Error("the pull ended but the image is not there");
  } catch (e) {
    pullError = e instanceof Error ? e : new Error(String(e));
  }
  ctx.signal?.throwIfAborted();
  const pullMessage = pullError.message.split("\n")[0]!.slice(0, 500);
  ctx.log(`pull failed: ${pullMessage}`);

  const context = findCatalogContext(deps.catalogDirs, image.manifestId, image.ref);
  if (!context) {
    if (auth && AUTH_ERROR.test(pullMessage)) {
      throw imageError("registry_auth", `the registry ${host} refused the saved credentials of ${auth.username}: ${pullMessage}`);
    }
    if (!auth && LOGIN_REQUIRED.test(pullMessage)) {
      throw imageError("registry_auth", `the registry ${host} requires a login and no credentials are saved for it (add them under Registries): ${pullMessage}`);
    }
    throw imageError("image_not_found", `image ${image.ref} is not on this server, could not be pulled (${pullMessage}) and has no build context`);
  }

  ctx.log(`building ${image.ref} from ${context}`);
  const lines: string[] = [];
  try {
    await docker.buildImage(
      context,
      image.ref,
      { "hearth.managed": "true", "hearth.manifest-id": image.manifestId },
      (l) => {
        lines.push(l);
        if (lines.length <= MAX_BUILD_LOG_LINES) ctx.log(`build: ${l}`);
      },
      ctx.signal,
    );
  } catch (e) {
    ctx.signal?.throwIfAborted();
    if (lines.length > MAX_BUILD_LOG_LINES) for (const l of lines.slice(-50)) ctx.log(`build: ${l}`);
    const msg = (e instanceof Error ? e.message : String(e)).split("\n")[0]!.slice(0, 500);
    throw imageError("build_failed", `building ${image.ref} from the catalog failed: ${msg} (the build log is in the task log)`);
  }
  if (!(await docker.inspectImage(image.ref))) throw imageError("build_failed", `the build of ${image.ref} ended without the image`);
  return "built";
}
