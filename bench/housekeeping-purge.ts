/**
 * Benchmark (not a test): does the daily purge hold up a busy server? A table of N old events
 * (default 1,000,000) is purged while a writer records one event every 20 ms, as admin and
 * box do; the writer's latency is measured:
 *   (1) baseline: the writer alone, no purge;
 *   (2) the purge as box runs it (`purgeEventsBefore`: DELETE … LIMIT 1000, each statement
 *       committed on its own);
 *   (3) for comparison, the same rows deleted by one statement.
 * Prints each phase's p50, p99 and max writer latency and the ratios of (2) and (3) to (1),
 * and how long each delete took.
 *
 *   npx tsx bench/housekeeping-purge.ts [rows]
 *
 * Uses a database of its own on the test MariaDB (test/helpers/db.ts: HEARTH_TEST_DB_URL)
 * and drops it at the end.
 */
import { PURGE_BATCH, purgeEventsBefore } from "@hearth/db";
import { migratedDatabase } from "../test/helpers/db";

const ROWS = Number(process.argv[2] ?? 1_000_000);
if (!Number.isInteger(ROWS) || ROWS < 1) throw new Error("rows must be a positive integer");
const DAY = 86_400_000;

const t = await migratedDatabase("hkbench");
const db = t.db;

async function fill(): Promise<void> {
  // the Sequence engine makes the rows in one statement per million
  await t.sql(
    "INSERT INTO `Event` (`action`, `actorId`, `actorName`, `target`, `data`, `createdAt`) SELECT 'app.install', 'box', 'box', CONCAT('app-', seq), JSON_OBJECT('i', seq), ? - INTERVAL (seq MOD 86400) SECOND FROM seq_1_to_" +
      ROWS,
    [new Date(Date.now() - 200 * DAY)],
  );
}

interface Phase {
  p50: number;
  p99: number;
  max: number;
  n: number;
}

/** Runs `work` while a writer inserts an event every 20 ms; the writer's latencies. */
async function withWriter(work: () => Promise<void>): Promise<Phase> {
  const lat: number[] = [];
  let stop = false;
  const writer = (async () => {
    while (!stop) {
      const t0 = performance.now();
      await db.event.create({ data: { action: "bench.write", actorName: "bench", createdAt: new Date() } });
      lat.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  await work();
  stop = true;
  await writer;
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  return { p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1]!, n: lat.length };
}

const fmt = (p: Phase) => `p50 ${p.p50.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms, max ${p.max.toFixed(1)} ms (${p.n} writes)`;
try {
  const cut = new Date(Date.now() - 90 * DAY);
  await fill();
  const baseline = await withWriter(() => new Promise((r) => setTimeout(r, 10_000)));

  let batchedMs = 0;
  let deleted = 0;
  const batched = await withWriter(async () => {
    const t0 = performance.now();
    deleted = await purgeEventsBefore(db, cut);
    batchedMs = performance.now() - t0;
  });
  if (deleted !== ROWS) throw new Error(`the purge deleted ${deleted} of ${ROWS} rows`);

  await fill();
  let singleMs = 0;
  const single = await withWriter(async () => {
    const t0 = performance.now();
    await t.sql("DELETE FROM `Event` WHERE `createdAt` < ?", [cut]);
    singleMs = performance.now() - t0;
  });

  console.log(`purge of ${ROWS} events while a writer records one every 20 ms`);
  console.log(`  (1) writer alone:                     ${fmt(baseline)}`);
  console.log(`  (2) batched purge (${PURGE_BATCH}/statement):   ${fmt(batched)}; purge took ${(batchedMs / 1000).toFixed(1)} s`);
  console.log(`  (3) one DELETE statement:             ${fmt(single)}; delete took ${(singleMs / 1000).toFixed(1)} s`);
  console.log(
    `  writer max latency: (2)/(1) = ${(batched.max / baseline.max).toFixed(1)}x, (3)/(1) = ${(single.max / baseline.max).toFixed(1)}x; p99: (2)/(1) = ${(batched.p99 / baseline.p99).toFixed(1)}x, (3)/(1) = ${(single.p99 / baseline.p99).toFixed(1)}x`,
  );
} finally {
  await t.drop();
}
