import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { createTokenRequest, eventLogQuery, MAX_DATETIME, setupOwnerRequest } from "./api";
import { addRegistryRequest, appExtraName, configureAppRequest, installFromStoreRequest, portBindings } from "./apps";
import { acmeSettings, addDomainRequest, updateDomainRequest } from "./domains";
import { hearthManifest, tcpPortSpec } from "./manifest";

/**
 * Every limit of a request schema matches the column its value lands in. The columns are
 * read from prisma/schema.prisma; the table below says which schema field lands where.
 * Raising a zod max above its column (or changing a column under a schema) fails here.
 */

// ---- the columns, from schema.prisma ----------------------------------------------------

type Column = { type: "varchar"; length: number } | { type: "int" } | { type: "bigint" } | { type: "datetime" } | { type: "other"; raw: string };

function columnsOf(prisma: string): Map<string, Column> {
  const out = new Map<string, Column>();
  let model: string | null = null;
  for (const line of prisma.split("\n")) {
    const start = /^model\s+(\w+)\s*\{/.exec(line);
    if (start) {
      model = start[1]!;
      continue;
    }
    if (/^\}/.test(line)) {
      model = null;
      continue;
    }
    if (!model) continue;
    const f = /^\s+(\w+)\s+(\w+)(\[\])?\??\s*(.*)$/.exec(line);
    if (!f || f[1]!.startsWith("@@")) continue;
    const [, name, type, , rest] = f;
    const varchar = /@db\.VarChar\((\d+)\)/.exec(rest!);
    let col: Column;
    if (type === "String" && varchar) col = { type: "varchar", length: Number(varchar[1]) };
    else if (type === "Int") col = { type: "int" };
    else if (type === "BigInt") col = { type: "bigint" };
    else if (type === "DateTime") col = { type: "datetime" };
    else col = { type: "other", raw: `${type} ${rest}` };
    out.set(`${model}.${name}`, col);
  }
  return out;
}

const columns = columnsOf(readFileSync(new URL("../../../prisma/schema.prisma", import.meta.url), "utf8"));

// ---- the schemas' limits --------------------------------------------------------------------

type AnySchema = z.ZodType & { _zod: { def: Record<string, unknown> } };

/** The schema under optional/nullable/default/pipe wrappers. */
function leaf(s: z.ZodType): AnySchema {
  let cur = s as AnySchema;
  for (let i = 0; i < 20; i++) {
    const def = cur._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema };
    if (["optional", "nullable", "default", "prefault", "readonly", "nonoptional", "catch"].includes(def.type) && def.innerType) cur = def.innerType;
    else if (def.type === "pipe" && def.in) cur = def.in;
    else return cur;
  }
  throw new Error("schema nested too deeply");
}

function recordParts(s: z.ZodType): { key: AnySchema; value: AnySchema } {
  const r = leaf(s);
  const def = r._zod.def as { type: string; keyType: AnySchema; valueType: AnySchema };
  if (def.type !== "record") throw new Error(`not a record: ${def.type}`);
  return { key: def.keyType, value: def.valueType };
}

const shapeOf = (s: z.ZodType) => (leaf(s) as unknown as { shape: Record<string, z.ZodType> }).shape;

/** schema field → the column its value is written to (or compared with) */
const MAPPING: [string, z.ZodType][] = [
  ["User.username", setupOwnerRequest.shape.username],
  ["User.email", setupOwnerRequest.shape.email],
  ["User.displayName", setupOwnerRequest.shape.displayName],
  ["ApiToken.name", createTokenRequest.shape.name],
  ["ApiToken.expiresAt", createTokenRequest.shape.expiresAt],
  ["Event.action", eventLogQuery.shape.action],
  ["App.storeId", installFromStoreRequest.shape.storeId],
  ["App.version", installFromStoreRequest.shape.version],
  ["App.version", hearthManifest.shape.version],
  ["App.manifestId", hearthManifest.shape.id],
  ["App.subdomain", installFromStoreRequest.shape.subdomain],
  ["App.domain", installFromStoreRequest.shape.domain],
  ["App.subdomain", shapeOf(configureAppRequest).subdomain!],
  ["App.domain", shapeOf(configureAppRequest).domain!],
  ["App.memoryLimit", installFromStoreRequest.shape.memoryLimit],
  ["App.memoryLimit", hearthManifest.shape.memoryLimit],
  ["AppDomain.subdomain", appExtraName.shape.subdomain],
  ["AppDomain.domain", appExtraName.shape.domain],
  ["AppPort.envName", recordParts(portBindings).key],
  ["AppPort.envName", recordParts(hearthManifest.shape.tcpPorts).key],
  ["AppPort.hostPort", recordParts(portBindings).value],
  ["AppPort.containerPort", tcpPortSpec.shape.containerPort],
  ["Domain.domain", addDomainRequest.shape.domain],
  ["Domain.tlsMode", addDomainRequest.shape.tlsMode],
  ["Domain.tlsMode", shapeOf(updateDomainRequest).tlsMode!],
  ["Registry.server", addRegistryRequest.shape.server],
  ["Registry.username", addRegistryRequest.shape.username],
  ["Certificate.directoryUrl", acmeSettings.shape.directoryUrl],
];

const INT32 = { min: -2147483648, max: 2147483647 };
const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };

function limitProblem(column: Column, s: z.ZodType): string | null {
  const l = leaf(s);
  const def = l._zod.def as { type: string; entries?: Record<string, string> };
  // zod 4's public introspection: null when the schema has no such check
  const lim = l as unknown as { maxLength?: number | null; minValue?: number | null; maxValue?: number | null };
  const bag = { maxLength: lim.maxLength ?? undefined, minimum: lim.minValue ?? undefined, maximum: lim.maxValue ?? undefined };
  switch (column.type) {
    case "varchar": {
      if (def.type === "enum") {
        const longest = Math.max(...Object.values(def.entries!).map((v) => String(v).length));
        return longest <= column.length ? null : `an enum value of ${longest} characters is longer than VarChar(${column.length})`;
      }
      if (def.type !== "string") return `expected a string schema, got ${def.type}`;
      if (bag.maxLength === undefined) return `no max length (the column is VarChar(${column.length}))`;
      return bag.maxLength <= column.length ? null : `max ${bag.maxLength} is above VarChar(${column.length})`;
    }
    case "int":
    case "bigint": {
      if (def.type !== "number") return `expected a number schema, got ${def.type}`;
      const range = column.type === "int" ? INT32 : INT64;
      if (bag.maximum === undefined || bag.minimum === undefined) return `no min/max (the column is ${column.type})`;
      if (!Number.isInteger(bag.maximum) || !Number.isInteger(bag.minimum)) return "not an integer range";
      if (BigInt(bag.maximum) > BigInt(range.max) || BigInt(bag.minimum) < BigInt(range.min)) return `range ${bag.minimum}..${bag.maximum} is outside ${column.type}`;
      return null;
    }
    case "datetime": {
      // behaviour: the last instant a DATETIME holds passes (when in the future), one later is refused
      const after = new Date(MAX_DATETIME.getTime() + 1).toISOString();
      const inOffset = "9999-12-31T23:59:59-01:00"; // 10000-01-01T00:59:59Z
      if (s.safeParse(after).success) return `${after} is accepted`;
      if (s.safeParse(inOffset).success) return `${inOffset} is accepted`;
      if (!s.safeParse(MAX_DATETIME.toISOString()).success) return "the last instant a DATETIME holds is refused";
      return null;
    }
    default:
      return `column type ${column.raw} has no limit check`;
  }
}

describe("request schema limits match their columns in schema.prisma", () => {
  it("reads the columns", () => {
    expect(columns.get("App.version")).toEqual({ type: "varchar", length: 64 });
    expect(columns.get("AppPort.hostPort")).toEqual({ type: "int" });
    expect(columns.get("ApiToken.expiresAt")).toEqual({ type: "datetime" });
    expect(columns.size).toBeGreaterThan(100);
  });

  it.each(MAPPING.map(([c, s], i) => [`${i}: ${c}`, c, s] as const))("%s", (_label, column, schema) => {
    const col = columns.get(column);
    expect(col, `${column} is not a column of schema.prisma`).toBeDefined();
    expect(limitProblem(col!, schema)).toBeNull();
  });

  it("the check fails for a schema whose max is above its column", async () => {
    const { z } = await import("zod");
    expect(limitProblem({ type: "varchar", length: 64 }, z.string().max(65))).toMatch(/above VarChar\(64\)/);
    expect(limitProblem({ type: "varchar", length: 64 }, z.string())).toMatch(/no max length/);
    expect(limitProblem({ type: "varchar", length: 8 }, z.enum(["short", "much-too-long"]))).toMatch(/longer than/);
    expect(
      limitProblem(
        { type: "int" },
        z
          .number()
          .int()
          .min(0)
          .max(2 ** 31),
      ),
    ).toMatch(/outside int/);
    expect(limitProblem({ type: "datetime" }, z.iso.datetime({ offset: true }))).toMatch(/is accepted/);
  });
});

describe("the limits the fuzz found", () => {
  it("App.version: a valid semver longer than 64 characters is refused", () => {
    const long = `1.0.0-${"a".repeat(60)}`;
    expect(long.length).toBeGreaterThan(64);
    expect(hearthManifest.shape.version.safeParse(long).success).toBe(false);
    expect(hearthManifest.shape.version.safeParse("1.0.0-beta.1").success).toBe(true);
  });

  it("a registry port must be 1–65535", () => {
    const ok = (server: string) => addRegistryRequest.safeParse({ server, username: "u", password: "p" }).success;
    expect(ok("registry.example.com:5000")).toBe(true);
    expect(ok("registry.example.com")).toBe(true);
    expect(ok("registry.example.com:99999999999999999999")).toBe(false);
    expect(ok("registry.example.com:65536")).toBe(false);
    expect(ok("registry.example.com:0")).toBe(false);
  });

  it("host ports: Hearth's own and well-known ports are refused", () => {
    const ok = (p: number) => portBindings.safeParse({ PORT: p }).success;
    for (const p of [22, 25, 53, 80, 443, 2525, 3000, 3306, 5432, 6379, 1023]) expect(ok(p), String(p)).toBe(false);
    for (const p of [1024, 2222, 17000, 65535]) expect(ok(p), String(p)).toBe(true);
    const r = portBindings.safeParse({ PORT: 3000 });
    expect(r.error?.issues[0]?.message).toMatch(/reserved/);
  });
});
