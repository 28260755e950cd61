import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The check behind boundary.test.ts: packages/db's repositories are the only code that talks
 * to Prisma. No file outside packages/db imports @prisma/* or calls a model
 * (`db.app.findMany(…)`) or raw SQL (`$queryRaw`) itself; it may use `$transaction` to pass
 * a transaction to repository functions. Tests, benchmarks and test tools (test/, bench/,
 * *.test.ts) set up and check rows directly and are not held to this.
 */
export const ROOT = path.resolve(import.meta.dirname, "../../..");
export const SCOPES = ["apps", "packages", "setup"];
const SKIP_DIRS = new Set(["node_modules", "generated", "dist", ".next", "test-results"]);

export function sourceFilesIn(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP_DIRS.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFilesIn(p));
    else if (/\.(ts|tsx|mts|mjs|js)$/.test(e.name) && !/\.test\.tsx?$/.test(e.name)) out.push(p);
  }
  return out;
}

export const models = [...readFileSync(path.join(ROOT, "prisma/schema.prisma"), "utf8").matchAll(/^model\s+(\w+)/gm)].map((m) => m[1]![0]!.toLowerCase() + m[1]!.slice(1));
const OPS =
  "findUnique|findUniqueOrThrow|findFirst|findFirstOrThrow|findMany|create|createMany|createManyAndReturn|update|updateMany|updateManyAndReturn|upsert|delete|deleteMany|count|aggregate|groupBy";
const MODEL_CALL = new RegExp(`\\.\\s*(${models.join("|")})\\s*\\.\\s*(${OPS})\\s*\\(`, "g");
const RAW_SQL = /\.\s*\$(queryRaw|executeRaw|queryRawUnsafe|executeRawUnsafe)\b/g;
const PRISMA_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)["']@prisma\/[^"']+["']/g;

/** Every Prisma use in `src`, as "line: text" (exported for its own test below). */
export function prismaUses(src: string): string[] {
  const hits: string[] = [];
  const code = src.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, " ")).replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  for (const re of [MODEL_CALL, RAW_SQL, PRISMA_IMPORT]) {
    for (const m of code.matchAll(re)) hits.push(`${code.slice(0, m.index).split("\n").length}: ${m[0].replace(/\s+/g, " ")}`);
  }
  return hits;
}

/** Every direct Prisma use outside packages/db under `root`, as "file:line: text". */
export function prismaOffenders(root: string = ROOT): string[] {
  const offenders: string[] = [];
  for (const scope of SCOPES) {
    for (const f of sourceFilesIn(path.join(root, scope))) {
      const rel = path.relative(root, f);
      if (rel.startsWith(`packages${path.sep}db${path.sep}`)) continue;
      for (const hit of prismaUses(readFileSync(f, "utf8"))) offenders.push(`${rel}:${hit}`);
    }
  }
  return offenders;
}
