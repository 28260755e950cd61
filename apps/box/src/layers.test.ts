import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { importCycles, importsOf, sourceFiles } from "./lib/imports";

/**
 * box's layer rules (apps/box/README.md): feature folders reach processes, Docker and the
 * machine's paths only through the lower layer (shell.ts, docker/client.ts, paths.ts), no
 * feature folder imports another's service for a type, and there is no import cycle.
 */
const SRC = import.meta.dirname;
const rel = (f: string) => path.relative(SRC, f);
const isTest = (f: string) => /\.test\.tsx?$/.test(f) || rel(f).startsWith(`certs${path.sep}testing${path.sep}`);
const code = sourceFiles(SRC).filter((f) => !isTest(f));

describe("box's lower layer", () => {
  it("has no import cycle", () => {
    expect(importCycles(code).map((c) => c.map(rel).join(" -> "))).toEqual([]);
  });

  it("starts processes only in shell.ts", () => {
    const offenders = code.filter((f) => rel(f) !== "shell.ts" && importsOf(f).some((i) => /^(node:)?child_process$/.test(i.spec))).map(rel);
    expect(offenders).toEqual([]);
  });

  it("makes Docker clients only in docker/client.ts (others may import dockerode's types)", () => {
    const offenders = code.filter((f) => rel(f) !== path.join("docker", "client.ts") && importsOf(f).some((i) => i.spec === "dockerode" && !i.typeOnly)).map(rel);
    expect(offenders).toEqual([]);
  });

  it("takes no type from another folder's service (shared step types live in tasks/, seams with the layer that owns them)", () => {
    const offenders: string[] = [];
    for (const f of code) {
      for (const i of importsOf(f)) {
        if (i.resolved && /\.service\.ts$/.test(i.resolved) && path.dirname(i.resolved) !== path.dirname(f) && path.dirname(f) !== SRC) {
          offenders.push(`${rel(f)} imports ${rel(i.resolved)}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it("names the machine's fixed paths only in paths.ts", () => {
    const fixed = /["'`](\/opt\/hearth|\/var\/lib\/hearth|\/etc\/hearth|\/run\/hearth|\/var\/log\/hearth|\/var\/run\/docker\.sock)/g;
    // paths inside containers, not on the machine
    const inContainers: Record<string, string[]> = { [path.join("addons", "services.ts")]: ['"/etc/hearth'] };
    const offenders = code
      .filter((f) => rel(f) !== "paths.ts")
      .flatMap((f) => [...readFileSync(f, "utf8").matchAll(fixed)].filter((m) => !inContainers[rel(f)]?.includes(m[0])).map((m) => `${rel(f)}: ${m[0]}`));
    expect(offenders).toEqual([]);
  });
});

describe("the import reader these rules stand on", () => {
  it("finds a cycle through type-only and multi-line imports, and none without it", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hearth-imports-"));
    const a = path.join(dir, "a.ts");
    const b = path.join(dir, "b.ts");
    const c = path.join(dir, "c.ts");
    writeFileSync(a, 'import {\n  x,\n  y,\n} from "./b";\nexport const z = x + y;\n');
    writeFileSync(b, 'import type { W } from "./c.ts";\nexport const x = 1, y = 2;\n');
    writeFileSync(c, 'export type W = string;\n// import { z } from "./a";\n');
    expect(importCycles([a, b, c])).toEqual([]);
    writeFileSync(c, 'import type { z } from "./a";\nexport type W = typeof z;\n');
    expect(importCycles([a, b, c])).toEqual([[a, b, c, a]]);
    expect(importsOf(b)).toEqual([{ spec: "./c.ts", typeOnly: true, resolved: c }]);
  });
});
