// Bundles admin's own server (server.ts: Next's handler + the terminal's WebSocket upgrades)
// into dist/server.mjs with esbuild, as apps/box/build.mjs bundles box: our code and the
// @hearth/* workspaces go in, every npm package (next, ws, Prisma, argon2 …) stays external.
import { readFileSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

const here = import.meta.dirname;
const root = path.resolve(here, "../..");
const manifests = ["apps/admin/package.json", "packages/db/package.json", "packages/contracts/package.json"];
const external = new Set(["@prisma/client"]);
for (const m of manifests) {
  const pkg = JSON.parse(readFileSync(path.join(root, m), "utf8"));
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies })) {
    if (!name.startsWith("@hearth/")) external.add(name);
  }
}
const result = await build({
  entryPoints: [path.join(here, "server.ts")],
  outfile: path.join(here, "dist/server.mjs"),
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node24",
  external: [...external].flatMap((n) => [n, `${n}/*`]),
  sourcemap: true,
  legalComments: "none",
  logLevel: "warning",
  metafile: true,
  banner: { js: "// Hearth admin's server: bundled by apps/admin/build-server.mjs; do not edit." },
});
const inputs = Object.keys(result.metafile.inputs);
const leaked = inputs.filter((p) => p.includes("node_modules/") && !p.includes("node_modules/@hearth/"));
if (leaked.length > 0) {
  console.error(`build-server: npm packages were bundled but must stay external:\n  ${leaked.join("\n  ")}`);
  process.exit(1);
}
console.log(`build-server: dist/server.mjs from ${inputs.length} files`);
