import { createRequire } from "node:module";
import type { Connection } from "mariadb";

/**
 * Schema drift check: what prisma/schema.prisma says the database must look like (read with
 * Prisma's own schema parser, @prisma/prisma-schema-wasm) against what information_schema
 * says a migrated database looks like. Tables, columns (type, nullability, default,
 * auto_increment), primary keys, unique and plain indexes, and foreign keys are compared.
 * Used by the drift test so hand-written migration SQL cannot silently differ from the schema.
 */
export interface ColumnShape {
  type: string;
  nullable: boolean;
  default: string | null;
  autoIncrement: boolean;
}
export interface IndexShape {
  unique: boolean;
  columns: string[];
}
export interface ForeignKeyShape {
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
  onUpdate: string;
}
export interface TableShape {
  columns: Record<string, ColumnShape>;
  indexes: Record<string, IndexShape>;
  foreignKeys: Record<string, ForeignKeyShape>;
}
export type SchemaShape = Record<string, TableShape>;

interface DmmfField {
  name: string;
  dbName?: string | null;
  kind: "scalar" | "enum" | "object";
  isList: boolean;
  isRequired: boolean;
  isId: boolean;
  isUnique: boolean;
  hasDefaultValue: boolean;
  type: string;
  nativeType: [string, string[]] | null;
  default?: unknown;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
  relationOnUpdate?: string;
}
interface DmmfModel {
  name: string;
  dbName: string | null;
  fields: DmmfField[];
}
interface DmmfIndex {
  model: string;
  type: "id" | "unique" | "normal" | "fulltext";
  name?: string | null;
  dbName?: string | null;
  fields: { name: string }[];
}
interface Dmmf {
  datamodel: {
    models: DmmfModel[];
    enums: { name: string; values: { name: string; dbName: string | null }[] }[];
    indexes: DmmfIndex[];
  };
}

export function readDmmf(schemaText: string): Dmmf {
  const require = createRequire(import.meta.url);
  const wasm = require("@prisma/prisma-schema-wasm") as { get_dmmf(params: string): string };
  return JSON.parse(wasm.get_dmmf(JSON.stringify({ prismaSchema: schemaText }))) as Dmmf;
}

const REFERENTIAL_ACTION: Record<string, string> = {
  Cascade: "CASCADE",
  Restrict: "RESTRICT",
  NoAction: "NO ACTION",
  SetNull: "SET NULL",
  SetDefault: "SET DEFAULT",
};

function sqlString(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/** MariaDB's COLUMN_TYPE for a Prisma field on the mysql connector. */
function columnTypeOf(f: DmmfField, enums: Dmmf["datamodel"]["enums"]): string {
  if (f.kind === "enum") {
    const e = enums.find((x) => x.name === f.type);
    if (!e) throw new Error(`unknown enum ${f.type}`);
    return `enum(${e.values.map((v) => sqlString(v.dbName ?? v.name)).join(",")})`;
  }
  if (f.nativeType) {
    const [name, args] = f.nativeType;
    const a = args.length ? `(${args.join(",")})` : "";
    switch (name) {
      case "VarChar":
        return `varchar${a}`;
      case "Char":
        return `char${a}`;
      case "Text":
        return "text";
      case "MediumText":
        return "mediumtext";
      case "LongText":
        return "longtext";
      case "DateTime":
        return `datetime${a}`;
      case "UnsignedInt":
        return "int(10) unsigned";
      case "TinyInt":
        return "tinyint(4)";
      default:
        throw new Error(`drift check does not know native type @db.${name} yet`);
    }
  }
  switch (f.type) {
    case "String":
      return "varchar(191)";
    case "Int":
      return "int(11)";
    case "BigInt":
      return "bigint(20)";
    case "Boolean":
      return "tinyint(1)";
    case "DateTime":
      return "datetime(3)";
    case "Float":
      return "double";
    case "Json":
      return "longtext"; // MariaDB's JSON is LONGTEXT with a json_valid() check
    case "Bytes":
      return "longblob";
    default:
      throw new Error(`drift check does not know Prisma type ${f.type}`);
  }
}

/** MariaDB's COLUMN_DEFAULT text for a Prisma default (null = no default). */
function columnDefaultOf(f: DmmfField, nullable: boolean): string | null {
  if (!f.hasDefaultValue) return nullable ? "NULL" : null;
  const d = f.default;
  if (d && typeof d === "object" && "name" in d) {
    const fn = (d as { name: string }).name;
    if (fn === "now") {
      const precision = f.nativeType?.[1]?.[0] ?? "3";
      return `current_timestamp(${precision})`;
    }
    if (fn === "autoincrement") return nullable ? "NULL" : null;
    throw new Error(`drift check does not know default ${fn}()`);
  }
  if (typeof d === "boolean") return d ? "1" : "0";
  if (typeof d === "number") return String(d);
  if (typeof d === "string") return f.type === "Int" || f.type === "BigInt" ? d : sqlString(d);
  throw new Error(`drift check does not know default ${JSON.stringify(d)}`);
}

export function expectedShape(schemaText: string): SchemaShape {
  const { datamodel } = readDmmf(schemaText);
  const shape: SchemaShape = {};
  const tableOf = (model: string) => {
    const m = datamodel.models.find((x) => x.name === model);
    if (!m) throw new Error(`unknown model ${model}`);
    return m.dbName ?? m.name;
  };
  const columnOf = (model: string, field: string) => {
    const m = datamodel.models.find((x) => x.name === model)!;
    const f = m.fields.find((x) => x.name === field)!;
    return f.dbName ?? f.name;
  };
  for (const m of datamodel.models) {
    const table = m.dbName ?? m.name;
    const t: TableShape = { columns: {}, indexes: {}, foreignKeys: {} };
    for (const f of m.fields) {
      if (f.kind === "object") {
        if (f.relationFromFields && f.relationFromFields.length > 0) {
          const cols = f.relationFromFields.map((x) => columnOf(m.name, x));
          t.foreignKeys[`${m.name}_${f.relationFromFields.join("_")}_fkey`] = {
            columns: cols,
            refTable: tableOf(f.type),
            refColumns: (f.relationToFields ?? []).map((x) => columnOf(f.type, x)),
            onDelete: REFERENTIAL_ACTION[f.relationOnDelete ?? (f.isRequired ? "Restrict" : "SetNull")]!,
            onUpdate: REFERENTIAL_ACTION[f.relationOnUpdate ?? "Cascade"]!,
          };
        }
        continue;
      }
      if (f.isList) throw new Error(`scalar lists are not supported on mysql (${m.name}.${f.name})`);
      const nullable = !f.isRequired;
      t.columns[f.dbName ?? f.name] = {
        type: columnTypeOf(f, datamodel.enums),
        nullable,
        default: columnDefaultOf(f, nullable),
        autoIncrement: (f.default as { name?: string } | undefined)?.name === "autoincrement",
      };
    }
    for (const ix of datamodel.indexes.filter((i) => i.model === m.name)) {
      const fields = ix.fields.map((x) => x.name);
      const columns = fields.map((x) => columnOf(m.name, x));
      if (ix.type === "id") t.indexes.PRIMARY = { unique: true, columns };
      else if (ix.type === "unique") t.indexes[ix.dbName ?? `${m.name}_${fields.join("_")}_key`] = { unique: true, columns };
      else if (ix.type === "normal") t.indexes[ix.dbName ?? `${m.name}_${fields.join("_")}_idx`] = { unique: false, columns };
      else throw new Error(`drift check does not know ${ix.type} indexes`);
    }
    shape[table] = t;
  }
  return shape;
}

type Conn = Connection;

export async function actualShape(conn: Conn, database: string, opts: { ignoreTables?: string[] } = {}): Promise<SchemaShape> {
  const ignore = new Set(opts.ignoreTables ?? ["_prisma_migrations"]);
  const shape: SchemaShape = {};
  const tables: { TABLE_NAME: string }[] = await conn.query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'", [database]);
  for (const { TABLE_NAME } of tables) {
    if (!ignore.has(TABLE_NAME)) shape[TABLE_NAME] = { columns: {}, indexes: {}, foreignKeys: {} };
  }
  const cols: { TABLE_NAME: string; COLUMN_NAME: string; COLUMN_TYPE: string; IS_NULLABLE: string; COLUMN_DEFAULT: string | null; EXTRA: string }[] = await conn.query(
    "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION",
    [database],
  );
  for (const c of cols) {
    const t = shape[c.TABLE_NAME];
    if (!t) continue;
    t.columns[c.COLUMN_NAME] = {
      type: c.COLUMN_TYPE,
      nullable: c.IS_NULLABLE === "YES",
      default: c.COLUMN_DEFAULT,
      autoIncrement: /auto_increment/i.test(c.EXTRA),
    };
  }
  const stats: { TABLE_NAME: string; INDEX_NAME: string; NON_UNIQUE: number | bigint; COLUMN_NAME: string }[] = await conn.query(
    "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    [database],
  );
  for (const s of stats) {
    const t = shape[s.TABLE_NAME];
    if (!t) continue;
    const ix = (t.indexes[s.INDEX_NAME] ??= { unique: Number(s.NON_UNIQUE) === 0, columns: [] });
    ix.columns.push(s.COLUMN_NAME);
  }
  const fks: { TABLE_NAME: string; CONSTRAINT_NAME: string; COLUMN_NAME: string; REFERENCED_TABLE_NAME: string; REFERENCED_COLUMN_NAME: string; DELETE_RULE: string; UPDATE_RULE: string }[] =
    await conn.query(
      `SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE
       FROM information_schema.KEY_COLUMN_USAGE k
       JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
       WHERE k.TABLE_SCHEMA = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION`,
      [database],
    );
  for (const f of fks) {
    const t = shape[f.TABLE_NAME];
    if (!t) continue;
    const fk = (t.foreignKeys[f.CONSTRAINT_NAME] ??= {
      columns: [],
      refTable: f.REFERENCED_TABLE_NAME,
      refColumns: [],
      onDelete: f.DELETE_RULE,
      onUpdate: f.UPDATE_RULE,
    });
    fk.columns.push(f.COLUMN_NAME);
    fk.refColumns.push(f.REFERENCED_COLUMN_NAME);
  }
  return shape;
}

/** Human-readable differences; empty when the database matches the schema. */
export function diffShapes(expected: SchemaShape, actual: SchemaShape): string[] {
  const out: string[] = [];
  const keys = (a: object, b: object) => [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const table of keys(expected, actual)) {
    const e = expected[table];
    const a = actual[table];
    if (!e) {
      out.push(`table ${table}: in the database but not in schema.prisma`);
      continue;
    }
    if (!a) {
      out.push(`table ${table}: in schema.prisma but not in the database`);
      continue;
    }
    for (const kind of ["columns", "indexes", "foreignKeys"] as const) {
      const ek = e[kind] as Record<string, unknown>;
      const ak = a[kind] as Record<string, unknown>;
      for (const name of keys(ek, ak)) {
        const ev = ek[name];
        const av = ak[name];
        if (ev === undefined) out.push(`${table}: ${kind} ${name} is in the database but not in schema.prisma: ${JSON.stringify(av)}`);
        else if (av === undefined) out.push(`${table}: ${kind} ${name} is in schema.prisma but not in the database: ${JSON.stringify(ev)}`);
        else if (JSON.stringify(ev) !== JSON.stringify(av)) out.push(`${table}: ${kind} ${name} differs: schema.prisma ${JSON.stringify(ev)} vs database ${JSON.stringify(av)}`);
      }
    }
  }
  return out;
}
