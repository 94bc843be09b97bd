import { sql, type RawBuilder } from 'kysely';
import type { Comparison, FilterNode, Operator } from './ast.js';

/** Everything a comparison needs to know about where its values live. */
export interface FieldSql {
  /** A SQL expression of the value for attributes (e.g. runs.name). */
  attribute(key: string): RawBuilder<unknown>;
  /**
   * Membership test: the row id is in the set of ids whose `entity` field satisfies `cond` (given the value
   * column). `style` 'in' builds an uncorrelated `id IN (subquery)` (best when the filter drives the query),
   * 'exists' a correlated `EXISTS` probe by primary key (best when an ordered scan drives it).
   */
  member(c: Comparison, cond: (valueColumn: RawBuilder<unknown>) => RawBuilder<unknown>, negate: boolean, style: MemberStyle): RawBuilder<boolean>;
}

export type MemberStyle = 'in' | 'exists';

const SIMPLE: Partial<Record<Operator, string>> = { '=': '=', '!=': '<>', '>': '>', '>=': '>=', '<': '<', '<=': '<=' };

/** `<col> <op> <value>` with bound parameters only; operators come from a fixed list. */
export function condition(col: RawBuilder<unknown>, op: Operator, value: Comparison['value']): RawBuilder<unknown> {
  const simple = SIMPLE[op];
  if (simple) return sql`${col} ${sql.raw(simple)} ${value as string | number}`;
  switch (op) {
    case 'LIKE':
      return sql`${col} LIKE ${value as string}`;
    case 'ILIKE':
      return sql`lower(${col}) LIKE lower(${value as string})`;
    case 'IN':
      return sql`${col} IN (${sql.join((value as string[]).map((v) => sql`${v}`))})`;
    case 'NOT IN':
      return sql`${col} NOT IN (${sql.join((value as string[]).map((v) => sql`${v}`))})`;
    case 'IS NULL':
      return sql`${col} IS NULL`;
    case 'IS NOT NULL':
      return sql`${col} IS NOT NULL`;
    default:
      throw new Error(`unreachable operator ${op}`);
  }
}

/** Compiles a filter AST to one boolean SQL expression. */
export function compileFilter(node: FilterNode, f: FieldSql, style: MemberStyle = 'in'): RawBuilder<boolean> {
  if (node.kind !== 'cmp') {
    const parts = node.items.map((n) => sql`(${compileFilter(n, f, style)})`);
    return sql<boolean>`${sql.join(parts, sql.raw(node.kind === 'and' ? ' AND ' : ' OR '))}`;
  }
  const c: Comparison = node;
  if (c.entity === 'attribute') return sql<boolean>`${condition(f.attribute(c.key), c.op, c.value)}`;
  if (c.op === 'IS NULL') {
    // No value for the key (for metrics also: a latest value of NaN, stored as NULL).
    return f.member(c, (v) => sql`${v} IS NOT NULL`, true, style);
  }
  if (c.op === 'IS NOT NULL') return f.member(c, (v) => sql`${v} IS NOT NULL`, false, style);
  // A run without the key never matches a comparison, `!=` included (MLflow's semantics).
  return f.member(c, (v) => condition(v, c.op, c.value), false, style);
}
