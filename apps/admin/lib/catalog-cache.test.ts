import { mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { CatalogCache } from "./catalog-cache";

/** The catalog cache on real folders with the real fs.watch (inotify) and mtimes. */
const root = mkdtempSync(path.join(os.tmpdir(), "hearth-catalog-cache-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const manifest = (id: string, title: string, version: string) => ({
  manifestVersion: 1,
  id,
  title,
  version,
  dockerImage: `localhost/hearth/${id}:${version}`,
  httpPort: 8080,
  healthCheckPath: "/",
});

function write(dir: string, folder: string, m: unknown) {
  mkdirSync(path.join(dir, folder), { recursive: true });
  // write-then-rename, as editors and package tools do, and in place (below) as `echo >` does
  const file = path.join(dir, folder, "HearthManifest.json");
  writeFileSync(`${file}.tmp`, typeof m === "string" ? m : JSON.stringify(m));
  renameSync(`${file}.tmp`, file);
}

let n = 0;
function newCatalog() {
  const dir = path.join(root, `c${n++}`);
  write(dir, "notes", manifest("org.example.notes", "Notes", "1.0.0"));
  write(dir, "wiki", manifest("org.example.wiki", "Wiki", "2.0.0"));
  return dir;
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

const caches: CatalogCache[] = [];
afterEach(() => {
  for (const c of caches.splice(0)) c.close();
});
function cache(dir: string, opts: ConstructorParameters<typeof CatalogCache>[1] = {}) {
  const c = new CatalogCache([dir], { debounceMs: 50, ...opts });
  caches.push(c);
  return c;
}

const versions = (s: { apps: { id: string; packages: { manifest: { version: string } }[] }[] }) => Object.fromEntries(s.apps.map((a) => [a.id, a.packages.map((p) => p.manifest.version)]));

describe("the catalog cache", () => {
  it("reads the folders once for many requests, concurrent first requests included", async () => {
    const c = cache(newCatalog());
    const all = await Promise.all(Array.from({ length: 20 }, () => c.get()));
    for (let i = 0; i < 20; i++) await c.get();
    expect(c.reads).toBe(1);
    expect(new Set(all).size).toBe(1);
    expect(versions(all[0]!)).toEqual({ "org.example.notes": ["1.0.0"], "org.example.wiki": ["2.0.0"] });
  });

  it("sees a changed manifest, a new package folder and a removed one through fs.watch", async () => {
    const dir = newCatalog();
    const c = cache(dir, { checkEveryMs: 3_600_000 });
    const first = await c.get();
    write(dir, "notes", manifest("org.example.notes", "Notes", "1.1.0"));
    const s1 = await until(
      () => c.get(),
      (s) => versions(s)["org.example.notes"]?.[0] === "1.1.0",
    );
    expect(versions(s1)["org.example.notes"]).toEqual(["1.1.0"]);
    expect(s1.hash).not.toBe(first.hash);
    // in place, without a rename
    writeFileSync(path.join(dir, "wiki", "HearthManifest.json"), JSON.stringify(manifest("org.example.wiki", "Wiki", "2.1.0")));
    const s2 = await until(
      () => c.get(),
      (s) => versions(s)["org.example.wiki"]?.[0] === "2.1.0",
    );
    expect(versions(s2)["org.example.wiki"]).toEqual(["2.1.0"]);
    write(dir, "pad", manifest("org.example.pad", "Pad", "0.1.0"));
    expect(
      versions(
        await until(
          () => c.get(),
          (s) => "org.example.pad" in versions(s),
        ),
      ),
    ).toHaveProperty("org.example.pad", ["0.1.0"]);
    rmSync(path.join(dir, "notes"), { recursive: true });
    expect(
      versions(
        await until(
          () => c.get(),
          (s) => !("org.example.notes" in versions(s)),
        ),
      ),
    ).not.toHaveProperty("org.example.notes");
  });

  it("a broken manifest is reported with its file and fields, and the last good package is still served", async () => {
    const dir = newCatalog();
    const c = cache(dir, { checkEveryMs: 3_600_000 });
    const good = await c.get();
    write(dir, "notes", { ...manifest("org.example.notes", "Notes", "1.2"), colour: "red" });
    const s = await until(
      () => c.get(),
      (x) => x.problems.length > 0,
    );
    expect(s.problems).toEqual([
      {
        dir: path.join(dir, "notes"),
        message: expect.stringMatching(/^invalid manifest .*notes\/HearthManifest\.json: .*version.*colour|^invalid manifest .*notes\/HearthManifest\.json: .*colour.*version/s),
        kept: "1.0.0",
      },
    ]);
    expect(versions(s)).toEqual(versions(good));
    write(dir, "notes", "{ half a fi");
    const s2 = await until(
      () => c.get(),
      (x) => /not valid JSON/.test(x.problems[0]?.message ?? ""),
    );
    expect(s2.problems).toEqual([{ dir: path.join(dir, "notes"), message: expect.stringMatching(/notes\/HearthManifest\.json is not valid JSON/), kept: "1.0.0" }]);
    expect(versions(s2)).toEqual(versions(good));
    // a broken new folder is skipped (nothing good to keep); fixing the manifest clears the problem
    write(dir, "pad", "[]");
    write(dir, "notes", manifest("org.example.notes", "Notes", "1.3.0"));
    const s3 = await until(
      () => c.get(),
      (x) => versions(x)["org.example.notes"]?.[0] === "1.3.0" && x.problems.length === 1,
    );
    expect(s3.problems).toEqual([{ dir: path.join(dir, "pad"), message: expect.stringMatching(/invalid manifest .*pad/), kept: null }]);
    expect(versions(s3)).toEqual({ "org.example.notes": ["1.3.0"], "org.example.wiki": ["2.0.0"] });
  });

  it("without fs.watch, the mtime check finds the change", async () => {
    const dir = newCatalog();
    const c = cache(dir, { watch: false, checkEveryMs: 100 });
    await c.get();
    const file = path.join(dir, "notes", "HearthManifest.json");
    writeFileSync(file, JSON.stringify(manifest("org.example.notes", "Notes", "3.0.0")));
    utimesSync(file, new Date(), new Date(Date.now() + 2000));
    const s = await until(
      () => c.get(),
      (x) => versions(x)["org.example.notes"]?.[0] === "3.0.0",
    );
    expect(versions(s)["org.example.notes"]).toEqual(["3.0.0"]);
    expect(c.reads).toBe(2);
  });

  it("a catalog folder that appears later is read once the mtime check sees it", async () => {
    const dir = path.join(root, `late${n++}`);
    const c = cache(dir, { checkEveryMs: 100 });
    expect((await c.get()).apps).toEqual([]);
    write(dir, "notes", manifest("org.example.notes", "Notes", "1.0.0"));
    const s = await until(
      () => c.get(),
      (x) => x.apps.length === 1,
    );
    expect(versions(s)).toEqual({ "org.example.notes": ["1.0.0"] });
  });
});
