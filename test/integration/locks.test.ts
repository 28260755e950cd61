import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNamedLocks, lockNameOf, type NamedLocks } from "@hearth/db";
import { migratedDatabase } from "../helpers/db";

let t: Awaited<ReturnType<typeof migratedDatabase>>;
let locks: NamedLocks;
beforeAll(async () => {
  t = await migratedDatabase("locks");
  locks = createNamedLocks(t.url, 4);
});
afterAll(async () => {
  await locks.end();
  await t.drop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("named locks", () => {
  it("runs holders of the same name one at a time, other names in parallel", async () => {
    let inside = 0;
    let maxInside = 0;
    const hold = (name: string) =>
      locks.run(name, {}, async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        await sleep(80);
        inside--;
      });
    const started = Date.now();
    await Promise.all([hold("hearth.test:a"), hold("hearth.test:a"), hold("hearth.test:a")]);
    expect(maxInside).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 80 - 10);

    maxInside = 0;
    await Promise.all([hold("hearth.test:b"), hold("hearth.test:c"), hold("hearth.test:d")]);
    expect(maxInside).toBe(3);
  });

  it("releases the lock when the holder throws", async () => {
    await expect(locks.run("hearth.test:e", {}, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(locks.run("hearth.test:e", { waitSeconds: 1 }, async () => "again")).resolves.toBe("again");
  });

  it("gives up after waitSeconds when someone else holds it", async () => {
    let release!: () => void;
    const held = locks.run("hearth.test:f", {}, () => new Promise<void>((r) => (release = r)));
    await sleep(50);
    await expect(locks.run("hearth.test:f", { waitSeconds: 1 }, async () => "never")).rejects.toThrow(/could not take the lock/);
    release();
    await held;
  });

  it("holds several locks at once: a holder of [x, y] excludes holders of x and of y, whatever order they are named in", async () => {
    const id = Math.random().toString(36).slice(2, 8);
    const [x, y] = [`hearth.test:multi-x-${id}`, `hearth.test:multi-y-${id}`];
    const order: string[] = [];
    const hold = (names: string | string[], tag: string, ms: number) =>
      locks.run(names, { waitSeconds: 5 }, async () => {
        order.push(`${tag}+`);
        await sleep(ms);
        order.push(`${tag}-`);
      });
    const both = hold([y, x], "xy", 150);
    await sleep(30);
    await Promise.all([hold(x, "x", 10), hold(y, "y", 10), hold([x, y], "xy2", 10)]);
    await both;
    // nothing started while [x, y] was held
    expect(order.slice(0, 2)).toEqual(["xy+", "xy-"]);
    // and both are free afterwards
    await expect(locks.run([x, y], { waitSeconds: 1 }, async () => "free")).resolves.toBe("free");
  });

  it("shortens long names to MySQL's 64 characters, keeping them distinct", () => {
    const a = lockNameOf(`hearth.login:${"1".repeat(60)}`);
    const b = lockNameOf(`hearth.login:${"1".repeat(59)}2`);
    expect(a.length).toBeLessThanOrEqual(64);
    expect(a).not.toBe(b);
    expect(lockNameOf("short")).toBe("short");
  });
});
