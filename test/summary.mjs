#!/usr/bin/env node
// Summary of a test/run.sh run, computed from vitest's JSON reports.
//
//   node test/summary.mjs DIR PHASE=RC... [--step NAME=RC]... [--time NAME=SECONDS]...
//
// PHASE=RC: a vitest project whose report is DIR/PHASE.json and whose exit code was RC.
// --step NAME=RC: a step that is not a test run (type-check, builds); a failed one counts
// as one failure. --time NAME=SECONDS: printed beside the phase or step.
// Prints a line per phase, then one line alone: `N passed, N failed, N skipped`.
// Exits 1 when anything failed or a phase wrote no report, else 0.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";

const [dir, ...rest] = process.argv.slice(2);
if (!dir) {
  console.error("usage: summary.mjs DIR PHASE=RC... [--step NAME=RC]... [--time NAME=SECONDS]...");
  process.exit(2);
}

const phases = [];
const steps = [];
const times = new Map();
for (let i = 0; i < rest.length; i++) {
  const arg = rest[i];
  const pair = (s) => {
    const at = s.lastIndexOf("=");
    return [s.slice(0, at), s.slice(at + 1)];
  };
  if (arg === "--step") steps.push(pair(rest[++i]));
  else if (arg === "--time") {
    const [name, secs] = pair(rest[++i]);
    times.set(name, Number(secs));
  } else phases.push(pair(arg));
}

const took = (name) => (times.has(name) ? ` in ${times.get(name)}s` : "");
let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];

console.log("\n===== test summary =====");
for (const [name, rc] of steps) {
  const ok = rc === "0";
  console.log(`step ${name}: ${ok ? "ok" : `FAILED (exit ${rc})`}${took(name)}`);
  if (!ok) {
    failed++;
    problems.push(`step ${name} failed`);
  }
}

for (const [name, rc] of phases) {
  const file = path.join(dir, `${name}.json`);
  if (!existsSync(file)) {
    console.log(`${name}: NO REPORT (vitest exit ${rc}; expected ${file})${took(name)}`);
    failed++;
    problems.push(`${name} produced no report`);
    continue;
  }
  let report;
  try {
    report = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    console.log(`${name}: UNREADABLE REPORT ${file}: ${e.message}`);
    failed++;
    problems.push(`${name}'s report is unreadable`);
    continue;
  }
  const p = report.numPassedTests ?? 0;
  let f = report.numFailedTests ?? 0;
  const s = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  // a file that failed to load, or an error outside any test, fails no test but the run
  const brokenFiles = (report.testResults ?? []).filter((t) => t.status === "failed" && !(t.assertionResults ?? []).some((a) => a.status === "failed"));
  let note = "";
  if (brokenFiles.length > 0) {
    f += brokenFiles.length;
    note += `; ${brokenFiles.length} file(s) failed outside tests: ${brokenFiles.map((t) => path.relative(process.cwd(), t.name)).join(", ")}`;
  }
  if (f === 0 && (report.success === false || rc !== "0")) {
    f = 1;
    note += `; vitest exit ${rc}${report.success === false ? ", report says unsuccessful" : ""}`;
  }
  console.log(`${name}: ${p} passed, ${f} failed, ${s} skipped${took(name)}${note}`);
  for (const t of report.testResults ?? []) {
    for (const a of t.assertionResults ?? []) {
      if (a.status !== "failed") continue;
      console.log(`  FAILED ${path.relative(process.cwd(), t.name)} > ${a.fullName}`);
      // the first lines of the first failure: CI shows only the tail of the run, so the reason has to be here
      const why = firstLines(a.failureMessages?.[0] ?? "", 6);
      for (const line of why) console.log(`    ${line}`);
    }
  }
  passed += p;
  failed += f;
  skipped += s;
  if (f > 0) problems.push(`${name} had failures`);
}

if (problems.length > 0) console.log(`problems: ${problems.join("; ")}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 ? 1 : 0);

/** The first n non-empty lines of a failure message, without colour codes, each cut at 300 characters. */
function firstLines(message, n) {
  return stripVTControlCharacters(message)
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "")
    .slice(0, n)
    .map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
}
