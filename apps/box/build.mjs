// Bundles box into dist/main.mjs with esbuild.
//
// Only our own code goes into the bundle: src/, the @hearth/* workspaces and the generated
// Prisma client (TypeScript under packages/db/src/generated, which imports ".ts" files).
// Every npm dependency stays external and is loaded from node_modules at run time: that
// keeps native/wasm assets where their packages expect them (Prisma's query compiler is
// imported from @prisma/client/runtime/*.wasm-base64.mjs) and the bundle small.
import { readFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

const here = import.meta.dirname;
const root = path.resolve(here, "../..");
const manifests = ["apps/box/package.json", "packages/db/package.json", "packages/contracts/package.json"];

const external = new Set(["@prisma/client"]);
for (const m of manifests) {
  const pkg = JSON.parse(readFileSync(path.join(root, m), "utf8"));
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies })) {
    if (!name.startsWith("@hearth/")) external.add(name);
  }
}
// "pkg" alone would not cover deep imports such as "@prisma/client/runtime/client"
const externalPatterns = [...external].flatMap((n) => [n, `${n}/*`]);

const result = await build({
  entryPoints: [path.join(here, "src/main.ts")],
  outfile: path.join(here, "dist/main.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  external: externalPatterns,
  sourcemap: true,
  legalComments: "none",
  logLevel: "warning",
  metafile: true,
  banner: { js: "// Hearth box: bundled by apps/box/build.mjs; do not edit." },
});

const inputs = Object.keys(result.metafile.inputs);
const leaked = inputs.filter((p) => p.includes("node_modules/") && !p.includes("node_modules/@hearth/"));
if (leaked.length > 0) {
  console.error(`build: npm packages were bundled but must stay external:\n  ${leaked.join("\n  ")}`);
  process.exit(1);
}
console.log(`build: dist/main.mjs from ${inputs.length} files; external: ${[...external].sort().join(", ")}`);
