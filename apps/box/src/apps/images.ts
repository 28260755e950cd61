import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { canonicalImageRef, isHearthImage, type TaskErrorCode } from "@hearth/contracts";
import { findRegistryByServer, openSecret, parseSecretKey, type Db } from "@hearth/db";
import type { DockerApi, RegistryAuth } from "../docker/docker";
import { TaskError } from "../tasks/registry";

/**
 * Making sure an app's image exists locally: present → use it; a Hearth image
 * (`localhost/hearth/…`) missing → build it from the built-in catalog (never pulled); any
 * other image missing → pull it with the credentials saved for its registry (never built).
 * Failures end the task with `image_not_found`, `registry_auth` or `build_failed` (the
 * build's output is in the task log).
 */

// Not (yet) in contracts' TASK_ERROR_CODES; see the report to the lead.
export const IMAGE_ERROR_CODES = { notFound: "image_not_found", auth: "registry_auth", build: "build_failed" } as const;
const imageError = (code: (typeof IMAGE_ERROR_CODES)[keyof typeof IMAGE_ERROR_CODES], message: string) => new TaskError(message, code as unknown as TaskErrorCode);

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

/**
 * The catalog folder whose manifest builds exactly this image (its id and its dockerImage,
 * legacy names read as local ones), or null. A build only ever produces the catalog's own
 * image name: there is no fallback to another version's or another name's folder.
 */
export function findCatalogContext(catalogDirs: readonly string[], manifestId: string, dockerImage: string): string | null {
  const want = canonicalImageRef(dockerImage);
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
      if (m.id === manifestId && typeof m.dockerImage === "string" && canonicalImageRef(m.dockerImage) === want) return dir;
    }
  }
  return null;
}

/**
 * The images a Dockerfile builds FROM (earlier stages' names excluded). Throws when a FROM
 * is not a plain name (a build argument could make it anything).
 */
export function dockerfileFromImages(dockerfile: string): string[] {
  const stages = new Set<string>();
  const out: string[] = [];
  // line continuations joined, comments dropped
  const text = dockerfile.replace(/\\\r?\n/g, " ");
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    const m = /^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$/i.exec(line);
    if (!m) continue;
    const image = m[1]!;
    if (image.includes("$")) throw new Error(`FROM ${image} names its image through a build argument`);
    if (!stages.has(image.toLowerCase())) out.push(image);
    if (m[2]) stages.add(m[2].toLowerCase());
  }
  return out;
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

/**
 * Makes sure an app's image exists locally. Hearth's own images (`localhost/hearth/…`, see
 * @hearth/contracts images.ts; legacy `hearth/…` names read as those) are never pulled:
 * when missing they are built from the catalog folder whose manifest names exactly that
 * image, FROM local Hearth images only (a missing base fails the task; it is never
 * pulled). Any other image is pulled with the credentials saved for its registry and is
 * never built: a catalog build never gets a name the catalog does not give it.
 */
export async function ensureImage(deps: EnsureImageDeps, image: { ref: string; manifestId: string }, ctx: EnsureImageCtx): Promise<"present" | "pulled" | "built"> {
  const { docker } = deps;
  const ref = canonicalImageRef(image.ref);
  if (await docker.inspectImage(ref)) {
    ctx.log(`image ${ref} is present`);
    return "present";
  }
  if (isHearthImage(ref)) return buildHearthImage(deps, { ref, manifestId: image.manifestId }, ctx);

  const host = registryHostOf(ref);
  const auth = await deps.registries.credentialsFor(host);
  let pullError: Error | null = null;
  ctx.log(`pulling ${ref} from ${host}${auth ? ` as ${auth.username}` : ""}`);
  try {
    await docker.pullImage(ref, auth, (l) => ctx.log(`pull: ${l}`), ctx.signal);
    if (await docker.inspectImage(ref)) return "pulled";
    pullError = new Error("the pull ended but the image is not there");
  } catch (e) {
    pullError = e instanceof Error ? e : new Error(String(e));
  }
  ctx.signal?.throwIfAborted();
  const pullMessage = pullError.message.split("\n")[0]!.slice(0, 500);
  ctx.log(`pull failed: ${pullMessage}`);
  if (auth && AUTH_ERROR.test(pullMessage)) {
    throw imageError("registry_auth", `the registry ${host} refused the saved credentials of ${auth.username}: ${pullMessage}`);
  }
  if (!auth && LOGIN_REQUIRED.test(pullMessage)) {
    throw imageError("registry_auth", `the registry ${host} requires a login and no credentials are saved for it (add them under Registries): ${pullMessage}`);
  }
  throw imageError("image_not_found", `image ${ref} is not on this server, could not be pulled (${pullMessage})`);
}

async function buildHearthImage(deps: EnsureImageDeps, image: { ref: string; manifestId: string }, ctx: EnsureImageCtx): Promise<"built"> {
  const { docker } = deps;
  const context = findCatalogContext(deps.catalogDirs, image.manifestId, image.ref);
  if (!context) {
    throw imageError(
      "image_not_found",
      `image ${image.ref} is not on this server and no catalog folder builds it for ${image.manifestId} (Hearth's own images are built on this server, never pulled)`,
    );
  }
  let bases: string[];
  try {
    bases = dockerfileFromImages(readFileSync(path.join(context, "Dockerfile"), "utf8"));
  } catch (e) {
    throw imageError("build_failed", `the catalog's Dockerfile for ${image.ref} cannot be built here: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (bases.length === 0) throw imageError("build_failed", `the catalog's Dockerfile for ${image.ref} has no FROM`);
  for (const base of bases) {
    // a missing FROM image would be pulled by the build: only local Hearth images, present now
    if (base !== "scratch" && !isHearthImage(base)) {
      throw imageError("build_failed", `the catalog's Dockerfile for ${image.ref} builds FROM ${base}, which is not a local Hearth image (Hearth builds never pull)`);
    }
    // the build reads FROM as written: a legacy bare hearth/ name there would go to Docker Hub
    if (base !== "scratch" && base !== canonicalImageRef(base)) {
      throw imageError("build_failed", `the catalog's Dockerfile for ${image.ref} builds FROM ${base}, a Docker Hub name: it must say FROM ${canonicalImageRef(base)}`);
    }
    if (base !== "scratch" && !(await docker.inspectImage(base))) {
      throw imageError("image_not_found", `the base image ${base} of ${image.ref} is missing; build it as root with setup/images/build-all.sh (it is never pulled)`);
    }
  }

  ctx.log(`building ${image.ref} from ${context} (Hearth's own image: built here, never pulled)`);
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
