import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { sql } from 'kysely';
import type { MetadataStore } from '../../src/platform/db/index.js';

/** Checked-in schema snapshots, migration lock and release databases (paths from the repository root, where tests run). */
export const DB_FIXTURES = join(process.cwd(), 'test', 'fixtures', 'db');

export type Dialect = 'sqlite' | 'postgres';

export const snapshotPath = (dialect: Dialect): string => join(DB_FIXTURES, `schema.${dialect}.json`);

/**
 * What a database's schema is, engine by engine, as plain sorted JSON: tables (columns in their physical
 * order, which is part of the schema), keys, indexes, and the names of the applied migrations. The
 * migration tables' structure is included; their timestamps and lock state are not.
 */
export interface SchemaSnapshot {
  readonly dialect: Dialect;
  readonly migrations: string[];
  readonly tables: Record<string, unknown>;
  readonly indexes: Record<string, unknown>;
  readonly sequences?: Record<string, unknown>;
}

export async function introspect(store: MetadataStore): Promise<SchemaSnapshot> {
  const snapshot = store.adapter.engine === 'sqlite' ? await introspectSqlite(store) : await introspectPostgres(store);
  return sortKeys(snapshot) as SchemaSnapshot;
}

async function appliedMigrations(store: MetadataStore): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from kiln_migrations order by name`.execute(store.db);
  return rows.map((r) => r.name);
}

async function introspectSqlite(store: MetadataStore): Promise<SchemaSnapshot> {
  const db = store.db;
  const { rows: objects } = await sql<{ type: string; name: string; tbl_name: string; sql: string | null }>`
    select type, name, tbl_name, sql from sqlite_master where type in ('table', 'index') and name not like 'sqlite_%' order by name`.execute(db);
  const tables: Record<string, unknown> = {};
  const indexes: Record<string, unknown> = {};
  for (const t of objects.filter((o) => o.type === 'table')) {
    const { rows: columns } = await sql<{ name: string; type: string; notnull: number; dflt_value: string | null; pk: number; hidden: number }>`
      select name, type, "notnull", dflt_value, pk, hidden from pragma_table_xinfo(${t.name}) order by cid`.execute(db);
    const { rows: fks } = await sql<{ id: number; seq: number; table: string; from: string; to: string; on_update: string; on_delete: string }>`
      select id, seq, "table", "from", "to", on_update, on_delete from pragma_foreign_key_list(${t.name}) order by id, seq`.execute(db);
    const foreignKeys = new Map<number, { columns: string[]; references: string; referencedColumns: string[]; onUpdate: string; onDelete: string }>();
    for (const fk of fks) {
      const entry = foreignKeys.get(fk.id) ?? { columns: [], references: fk.table, referencedColumns: [], onUpdate: fk.on_update, onDelete: fk.on_delete };
      entry.columns.push(fk.from);
      entry.referencedColumns.push(fk.to);
      foreignKeys.set(fk.id, entry);
    }
    tables[t.name] = {
      columns: columns.map((c) => ({ name: c.name, type: c.type, notNull: c.notnull === 1, default: c.dflt_value, primaryKeyPosition: c.pk, hidden: c.hidden })),
      // Not visible in any pragma, and it decides whether ids can be reused after a delete.
      autoincrement: /\bautoincrement\b/i.test(t.sql ?? ''),
      // Key ids depend on declaration order only; sorting by content keeps the snapshot about what the keys are.
      foreignKeys: [...foreignKeys.values()].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    };
    // index_list covers declared indexes and the ones SQLite makes for PRIMARY KEY and UNIQUE constraints.
    const { rows: list } = await sql<{ name: string; unique: number; origin: string; partial: number }>`
      select name, "unique", origin, partial from pragma_index_list(${t.name})`.execute(db);
    for (const ix of list) {
      const { rows: cols } = await sql<{ name: string | null }>`select name from pragma_index_info(${ix.name}) order by seqno`.execute(db);
      indexes[ix.name] = { table: t.name, columns: cols.map((c) => c.name), unique: ix.unique === 1, origin: ix.origin, partial: ix.partial === 1 };
    }
  }
  return { dialect: 'sqlite', migrations: await appliedMigrations(store), tables, indexes };
}

async function introspectPostgres(store: MetadataStore): Promise<SchemaSnapshot> {
  const db = store.db;
  const { rows: columns } = await sql<{ table_name: string; column_name: string; data_type: string; is_nullable: string; column_default: string | null }>`
    select c.table_name, c.column_name, c.data_type, c.is_nullable, c.column_default
    from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = current_schema() and t.table_type = 'BASE TABLE'
    order by c.table_name, c.ordinal_position`.execute(db);
  const { rows: constraints } = await sql<{ table_name: string; name: string; type: string; definition: string }>`
    select rel.relname as table_name, con.conname as name, con.contype as type, pg_get_constraintdef(con.oid) as definition
    from pg_constraint con
    join pg_class rel on rel.oid = con.conrelid
    join pg_namespace ns on ns.oid = rel.relnamespace
    -- NOT NULL is read from the columns; PostgreSQL 18 also lists it here, which would make the snapshot depend on the version.
    where ns.nspname = current_schema() and con.contype in ('p', 'u', 'f', 'c', 'x')
    order by rel.relname, con.conname`.execute(db);
  const { rows: indexRows } = await sql<{ tablename: string; indexname: string; indexdef: string }>`
    select tablename, indexname, indexdef from pg_indexes where schemaname = current_schema() order by indexname`.execute(db);
  const { rows: sequenceRows } = await sql<{ sequence_name: string; data_type: string; start_value: string; increment: string }>`
    select sequence_name, data_type, start_value, increment from information_schema.sequences
    where sequence_schema = current_schema() order by sequence_name`.execute(db);

  const tables: Record<string, { columns: unknown[]; constraints: Record<string, unknown> }> = {};
  for (const c of columns) {
    const t = (tables[c.table_name] ??= { columns: [], constraints: {} });
    t.columns.push({ name: c.column_name, type: c.data_type, notNull: c.is_nullable === 'NO', default: c.column_default });
  }
  const kinds: Record<string, string> = { p: 'primary key', u: 'unique', f: 'foreign key', c: 'check', x: 'exclusion' };
  for (const k of constraints) {
    const t = tables[k.table_name];
    if (t) t.constraints[k.name] = { type: kinds[k.type] ?? k.type, definition: k.definition };
  }
  const indexes: Record<string, unknown> = {};
  for (const ix of indexRows) indexes[ix.indexname] = { table: ix.tablename, definition: ix.indexdef };
  const sequences: Record<string, unknown> = {};
  for (const s of sequenceRows) sequences[s.sequence_name] = { type: s.data_type, start: s.start_value, increment: s.increment };
  return { dialect: 'postgres', migrations: await appliedMigrations(store), tables, indexes, sequences };
}

/** Objects with their keys sorted (arrays keep their order), so the JSON text is stable. */
function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

export const formatSnapshot = (s: SchemaSnapshot): string => JSON.stringify(s, null, 2) + '\n';

export function readSnapshot(dialect: Dialect): SchemaSnapshot {
  return JSON.parse(readFileSync(snapshotPath(dialect), 'utf8')) as SchemaSnapshot;
}

export function writeSnapshot(s: SchemaSnapshot): void {
  writeFileSync(snapshotPath(s.dialect), formatSnapshot(s));
}

/**
 * Where two snapshots differ, one line per differing path (`tables.runs.columns[3].type: "text" → "bigint"`),
 * so a failure says what changed instead of printing two thousand lines of JSON.
 */
export function describeSchemaDiff(expected: unknown, actual: unknown, path = ''): string[] {
  if (isDeepStrictEqual(expected, actual)) return [];
  const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x);
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
      const p = `${path}[${i}]`;
      if (i >= actual.length) out.push(`${p}: missing (expected ${JSON.stringify(expected[i])})`);
      else if (i >= expected.length) out.push(`${p}: unexpected ${JSON.stringify(actual[i])}`);
      else out.push(...describeSchemaDiff(expected[i], actual[i], p));
    }
    return out;
  }
  if (isObj(expected) && isObj(actual)) {
    const out: string[] = [];
    for (const k of [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort()) {
      const p = path ? `${path}.${k}` : k;
      if (!(k in actual)) out.push(`${p}: missing (expected ${JSON.stringify(expected[k])})`);
      else if (!(k in expected)) out.push(`${p}: unexpected ${JSON.stringify(actual[k])}`);
      else out.push(...describeSchemaDiff(expected[k], actual[k], p));
    }
    return out;
  }
  return [`${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}
