import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Hearth's built-in catalog: one folder per app under packages/catalog/apps/<slug>/ with
 * HearthManifest.json, a Dockerfile (FROM localhost/hearth/base:bookworm), a start script and an icon.
 * The folder is the image's build context; `packages/catalog/build.sh` builds them all.
 */
export const CATALOG_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const CATALOG_APPS_DIR = path.join(CATALOG_DIR, "apps");
export const BASE_IMAGE = "localhost/hearth/base:bookworm";

export interface CatalogApp {
  slug: string;
  /** the app's folder: its Docker build context */
  dir: string;
  /** HearthManifest.json as parsed JSON, not validated (see hearthManifest in @hearth/contracts) */
  manifest: Record<string, unknown>;
}

/** The apps in a catalog folder (one sub-folder with a HearthManifest.json each), by slug. */
export function listCatalogApps(appsDir: string = CATALOG_APPS_DIR): CatalogApp[] {
  return readdirSync(appsDir)
    .filter((slug) => existsSync(path.join(appsDir, slug, "HearthManifest.json")))
    .sort()
    .map((slug) => {
      const dir = path.join(appsDir, slug);
      const manifest = JSON.parse(readFileSync(path.join(dir, "HearthManifest.json"), "utf8")) as Record<string, unknown>;
      return { slug, dir, manifest };
    });
}

/** The first FROM image of a Dockerfile's text (ignoring comments and `--platform=`). */
export function dockerfileBaseImage(dockerfile: string): string | undefined {
  for (const raw of dockerfile.split("\n")) {
    const line = raw.trim();
    const m = /^FROM\s+(?:--\S+\s+)*(\S+)/i.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * What is wrong with a catalog app's folder beyond the manifest schema: the files it must
 * hold, the base image, and an image tag that matches the manifest's version. Empty when fine.
 */
export function catalogAppProblems(app: CatalogApp): string[] {
  const problems: string[] = [];
  const m = app.manifest;
  const file = (name: string) => path.join(app.dir, name);
  const isFile = (name: string) => existsSync(file(name)) && statSync(file(name)).isFile();

  if (!isFile("Dockerfile")) problems.push("no Dockerfile");
  else {
    const base = dockerfileBaseImage(readFileSync(file("Dockerfile"), "utf8"));
    if (base !== BASE_IMAGE) problems.push(`Dockerfile must start FROM ${BASE_IMAGE}, not ${base ?? "nothing"}`);
  }
  if (!isFile("start.sh")) problems.push("no start.sh");
  if (typeof m.icon !== "string" || m.icon === "") problems.push("no icon in the manifest");
  else if (m.icon.includes("/") || !isFile(m.icon)) problems.push(`icon ${m.icon} is not a file in the app's folder`);
  else if (!/\.(svg|png)$/.test(m.icon)) problems.push("icon must be .svg or .png");
  if (typeof m.dockerImage !== "string" || typeof m.version !== "string") problems.push("dockerImage and version must be strings");
  else if (!m.dockerImage.endsWith(`:${m.version}`)) problems.push(`dockerImage ${m.dockerImage} must be tagged with the version ${m.version}`);
  else if (!/^localhost\/hearth\/[a-z0-9]/.test(m.dockerImage)) problems.push(`dockerImage ${m.dockerImage} must be a local Hearth image (localhost/hearth/…: built here, never pulled)`);
  const addons = m.addons as Record<string, unknown> | undefined;
  if (!addons || typeof addons !== "object" || !("localstorage" in addons)) problems.push("catalog apps keep their data in /app/data: addons.localstorage is required");
  return problems;
}
