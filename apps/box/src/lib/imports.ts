import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

/**
 * A small reader of TypeScript import statements, for the tests that hold box's layer rules
 * (layers.test.ts): which files import which, and import cycles. Type-only imports count:
 * a type cycle is still a cycle between two folders' designs.
 */
export interface ImportRef {
  spec: string;
  typeOnly: boolean;
  /** The imported file, when `spec` is relative and resolves to a file. */
  resolved: string | null;
}

const STATIC = /\b(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?["']([^"']+)["']/g;
const DYNAMIC = /\bimport\(\s*["']([^"']+)["']\s*\)/g;

function stripComments(src: string): string {
  // block comments, then line comments not inside a string (good enough for this codebase's style)
  return src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

export function resolveImport(fromFile: string, spec: string): string | null {
  if (!spec.startsWith(".")) return null;
  const base = path.resolve(path.dirname(fromFile), spec);
  for (const c of [base, `${base}.ts`, `${base}.tsx`, path.join(base, "index.ts")]) {
    if (existsSync(c) && statSync(c).isFile()) return c;
  }
  return null;
}

export function importsOf(file: string, src: string = readFileSync(file, "utf8")): ImportRef[] {
  const code = stripComments(src);
  const out: ImportRef[] = [];
  for (const m of code.matchAll(STATIC)) out.push({ spec: m[3]!, typeOnly: !!m[2], resolved: resolveImport(file, m[3]!) });
  for (const m of code.matchAll(DYNAMIC)) out.push({ spec: m[1]!, typeOnly: false, resolved: resolveImport(file, m[1]!) });
  return out;
}

/** Every .ts/.tsx file below `dir` (skipping node_modules, generated code and dist). */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (["node_modules", "generated", "dist", ".next"].includes(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out.sort();
}

/** The import cycles among `files` (each a list of files, the first repeated at the end); [] when there is none. */
export function importCycles(files: readonly string[]): string[][] {
  const set = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files)
    graph.set(f, [
      ...new Set(
        importsOf(f)
          .map((i) => i.resolved)
          .filter((r): r is string => r !== null && set.has(r)),
      ),
    ]);
  // Tarjan's strongly connected components; each component of 2+ files (or a self-import) holds a cycle
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)!) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || graph.get(v)!.includes(v)) cycles.push(cycleIn(comp, graph));
    }
  };
  for (const f of files) if (!idx.has(f)) visit(f);
  return cycles;
}

/** One concrete cycle inside a strongly connected component (for a readable message). */
function cycleIn(comp: string[], graph: Map<string, string[]>): string[] {
  const inComp = new Set(comp);
  const start = [...comp].sort()[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v)!) {
      if (!inComp.has(w)) continue;
      if (w === start) {
        const pathBack = [v];
        while (pathBack[0] !== start) pathBack.unshift(prev.get(pathBack[0]!)!);
        return [...pathBack, start];
      }
      if (!seen.has(w)) {
        seen.add(w);
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [...comp, comp[0]!];
}
