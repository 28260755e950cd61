/**
 * Benchmark (not a test): what the app log history costs box when the log viewer asks for a
 * page, against the old panel's read (Docker's `tail` of the current container alone),
 * measured in the same run on the same container:
 *
 *   - baseline:   docker logs tail=500 with timestamps (what the old panel read when opened)
 *   - first page: GET /apps/:id/logs?lines=500 on box's endpoint (apps/app-logs.ts): the
 *                 newest 500 lines that are not health checks, from a Docker tail of 2000
 *                 when that is enough (else the history read whole + the container's output)
 *   - older page: the same with before=<the first page's first line>: history + container
 *   - search:     q= that matches one line (everything read)
 *   - archive:    appending the container's whole output to an empty history (once, before box
 *                 removes a container), then again with nothing new (a resumed task)
 *
 * for an empty history and a full one (2 × 4 MiB, the bound), with a container that printed
 * CONTAINER_LINES lines. Median of RUNS, ratio to the baseline of the same run.
 *
 *   npx tsx bench/app-logs.ts [container lines, default 20000]
 *
 * Measured on the shared 2-core machine (one run, `npx tsx bench/app-logs.ts`, 20000 lines):
 *
 *   baseline: docker logs tail=500            17.8 ms  1.00x
 *   first page, empty history                 40.1 ms  2.25x
 *   older page, empty history                359.9 ms  20.21x
 *   search, empty history                    213.3 ms  11.98x
 *   first page, full history (8 MiB)          18.7 ms  1.05x
 *   older page, full history (8 MiB)         244.5 ms  13.73x
 *   search, full history (8 MiB)             332.9 ms  18.69x
 *   archive the container (once)             332.7 ms  18.68x
 *   archive again, nothing new               126.5 ms  7.11x
 *
 * (the machine was busy: an earlier run of the same baseline measured 6.5 ms). Opening the
 * viewer costs about what it did; older pages and searches (on demand) read everything,
 * ~0.2-0.4 s at this size; an archive adds ~0.3 s to a recreate of a container of 20000 lines.
 *
 * Makes one container (hearth-app-logbench-<random>, from the test httpd image) and a temporary
 * folder; removes both at the end.
 */
import { execFileSync } from "node:child_process";
import http from "node:http";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { archiveContainerLogs, streamAppLogs } from "../apps/box/src/apps/app-logs";
import { containerNameOf } from "../apps/box/src/apps/container-spec";
import { DEFAULT_MAX_FILE_BYTES, LogHistory, type LogLine } from "../apps/box/src/apps/log-history";
import { createDocker } from "../apps/box/src/docker/docker";
import { ensureTestImages, TEST_HTTPD_IMAGE } from "../test/helpers/test-images";
import { median } from "./stats";

const CONTAINER_LINES = Number(process.argv[2] ?? 20_000);
const RUNS = 9;
const docker = createDocker();
const appId = `logbench-${randomBytes(4).toString("hex")}`;
const name = containerNameOf(appId);
const tmp = mkdtempSync(path.join(os.tmpdir(), "hearth-logbench-"));

async function time(fn: () => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  await fn(); // warm
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** GET on box's log endpoint; the body's text. */
function get(port: number, urlPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: urlPath }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve(body));
      })
      .on("error", reject);
  });
}

async function main() {
  ensureTestImages();
  const script = `i=1; while [ $i -le ${CONTAINER_LINES} ]; do echo "10.0.0.$((i % 250)) - - \\"GET /page/$i HTTP/1.1\\" 200 512 \\"-\\" \\"Mozilla/5.0\\""; i=$((i+1)); done; echo the needle; exec sleep 3600`;
  execFileSync("docker", ["run", "-d", "--name", name, "--label", "hearth.bench=app-logs", TEST_HTTPD_IMAGE, "/bin/busybox", "sh", "-c", script], { stdio: "ignore" });
  try {
    for (let i = 0; i < 100; i++) {
      if (execFileSync("docker", ["logs", "--tail", "1", name], { encoding: "utf8" }).includes("the needle")) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const empty = new LogHistory(path.join(tmp, "empty"));
    const full = new LogHistory(path.join(tmp, "full"));
    // 2 × 4 MiB of older lines, timestamps before the container's
    const old: LogLine[] = [];
    const line = '10.0.0.9 - - "GET /older HTTP/1.1" 200 512 "-" "Mozilla/5.0 (X11; Linux x86_64)" and some more text to be typical';
    const n = Math.ceil((2 * DEFAULT_MAX_FILE_BYTES) / (line.length + 32));
    for (let i = 0; i < n; i++) old.push({ ts: `2020-01-01T00:00:00.${String(i).padStart(9, "0")}Z`, text: i % 10 === 0 ? `${line} "hearth-health"` : line });
    for (let k = 0; k < 4; k++) await full.append(old.slice((k * n) / 4, ((k + 1) * n) / 4));

    let historyDir = path.join(tmp, "empty");
    const server = http.createServer((req, res) => {
      const url = new URL(req.url!, "http://box");
      void streamAppLogs({ docker, appExists: async () => true, historyDir: () => historyDir }, req, res, appId, url);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    const firstTs = async () => /"ts":"([^"]+)"/.exec(await get(port, `/apps/${appId}/logs?lines=500`))![1]!;

    const baseline = await time(async () => {
      let bytes = 0;
      for await (const c of await docker.logs(name, { tail: 500, timestamps: true })) bytes += (c as Buffer).length;
      return bytes;
    });
    const rows: [string, number][] = [["baseline: docker logs tail=500", baseline]];
    for (const [label, dir] of [
      ["empty history", empty.dir],
      ["full history (8 MiB)", full.dir],
    ] as const) {
      historyDir = dir;
      const before = encodeURIComponent(await firstTs());
      rows.push([`first page, ${label}`, await time(() => get(port, `/apps/${appId}/logs?lines=500`))]);
      rows.push([`older page, ${label}`, await time(() => get(port, `/apps/${appId}/logs?lines=500&before=${before}`))]);
      rows.push([`search, ${label}`, await time(() => get(port, `/apps/${appId}/logs?lines=500&q=the%20needle`))]);
    }
    server.close();
    const fresh = () => new LogHistory(path.join(tmp, `a-${randomBytes(4).toString("hex")}`));
    rows.push(["archive the container (once)", await time(() => archiveContainerLogs(docker, fresh(), name))]);
    const again = fresh();
    await archiveContainerLogs(docker, again, name);
    rows.push(["archive again, nothing new", await time(() => archiveContainerLogs(docker, again, name))]);
    console.log(`app log history, container of ${CONTAINER_LINES} lines, median of ${RUNS}`);
    for (const [what, ms] of rows) console.log(`${what.padEnd(36)} ${ms.toFixed(1).padStart(8)} ms  ${(ms / baseline).toFixed(2)}x`);
  } finally {
    execFileSync("docker", ["rm", "-f", name], { stdio: "ignore" });
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
