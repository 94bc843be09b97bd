import { sql, type RawBuilder } from 'kysely';
import type { Comparison, FilterNode, Operator } from './ast.js';

/** A SQL expression of an attribute, and whether its column is an integer one (bigint times). */
export interface AttributeSql {
  readonly expr: RawBuilder<unknown>;
  readonly integer?: boolean;
}

/** Everything a comparison needs to know about where its values live. */
export interface FieldSql {
  /** The column of an attribute (e.g. run_name → runs.name). */
  attribute(key: string): AttributeSql;
  /**
   * Membership test: the row's id is (or with `negate`, is not) among the ids whose `c.entity`/`c.key` value
   * satisfies `cond` (given the value column). Style 'in' builds an uncorrelated `id IN (subquery)` (best when the
   * filter drives the query); 'exists' a correlated EXISTS probe (best when an ordered scan drives it).
   */
  member(c: Comparison, cond: (valueColumn: RawBuilder<unknown>) => RawBuilder<unknown>, negate: boolean, style: MemberStyle): RawBuilder<boolean>;
}

export type MemberStyle = 'in' | 'exists';

const SIMPLE: Partial<Record<Operator, string>> = { '=': '=', '!=': '<>', '>': '>', '>=': '>=', '<': '<', '<=': '<=' };

/** Integer columns hold safe integers, so bounds beyond ±2^53 compare the same as the bound itself. */
const INTEGER_LIMIT = 2 ** 53;

/**
 * A comparison of an integer column with a number that is fractional or out of range, rewritten to an
 * integer bound (`x > 1.5` ≡ `x > 1`, `x >= 1.5` ≡ `x >= 2`), so PostgreSQL never sees a fractional or
 * out-of-range bigint parameter and the column's index stays usable.
 */
function integerCondition(col: RawBuilder<unknown>, op: Operator, v: number): RawBuilder<unknown> {
  let bound = v;
  if (!Number.isInteger(v) || Math.abs(v) > INTEGER_LIMIT) {
    if (op === '=') return sql`1 = 0`;
    if (op === '!=') return sql`${col} IS NOT NULL`;
    bound = op === '>' || op === '<=' ? Math.floor(v) : Math.ceil(v);
    bound = Math.min(INTEGER_LIMIT, Math.max(-INTEGER_LIMIT, bound));
  }
  return sql`${col} ${sql.raw(SIMPLE[op]!)} ${bound}`;
}

/**
 * LIKE patterns use `\` as the escape character on every backend (PostgreSQL's default; SQLite needs an
 * ESCAPE clause). A pattern ending in a lone `\` would be an error on PostgreSQL: that `\` stands for itself.
 */
function likePattern(pattern: string): string {
  const trailing = /\\+$/.exec(pattern)?.[0].length ?? 0;
  return trailing % 2 === 1 ? pattern + '\\' : pattern;
}

const ESCAPE = sql.raw(`ESCAPE '\\'`);

/** `<col> <op> <value>` with bound parameters only; operators come from a fixed list. */
export function condition(col: RawBuilder<unknown>, op: Operator, value: Comparison['value'], integer = false): RawBuilder<unknown> {
  const simple = SIMPLE[op];
  if (simple) {
    if (integer && typeof value === 'number') return integerCondition(col, op, value);
    return sql`${col} ${sql.raw(simple)} ${value as string | number}`;
  }
  switch (op) {
    case 'LIKE':
      return sql`${col} LIKE ${likePattern(value as string)} ${ESCAPE}`;
    case 'ILIKE':
      // lower() on both sides is portable (SQLite has no ILIKE). SQLite's lower() folds ASCII letters only.
      return sql`lower(${col}) LIKE lower(${likePattern(value as string)}) ${ESCAPE}`;
    case 'IN':
    case 'NOT IN':
      return sql`${col} ${sql.raw(op)} (${sql.join((value as readonly string[]).map((v) => sql`${v}`))})`;
    case 'IS NULL':
      return sql`${col} IS NULL`;
    case 'IS NOT NULL':
      return sql`${col} IS NOT NULL`;
    default:
      throw new Error(`unreachable operator ${op}`);
  }
}

/**
 * Joins parenthesised terms into a balanced tree of ANDs or ORs, so a filter of thousands of comparisons stays
 * far below SQLite's expression depth limit (1000).
 */
function balanced(parts: readonly RawBuilder<boolean>[], joiner: 'AND' | 'OR'): RawBuilder<boolean> {
  if (parts.length === 1) return parts[0]!;
  const mid = parts.length >> 1;
  return sql<boolean>`(${balanced(parts.slice(0, mid), joiner)} ${sql.raw(joiner)} ${balanced(parts.slice(mid), joiner)})`;
}

/**
 * Compiles a filter AST to one boolean SQL expression.
 *
 * Semantics of metrics, params, tags and datasets (MLflow's): a row lacking the key never matches a
 * comparison, `!=` and NOT IN included; they test "has the key, with a value that ...".
 * `IS NULL` means "has no value": no value logged, or (metrics) a latest value of NaN, which latest_metrics
 * stores as NULL. `IS NOT NULL` is its exact complement.
 *
 * The result is always parenthesised, so it can be ANDed with other conditions as it is.
 */
export function compileFilter(node: FilterNode, f: FieldSql, style: MemberStyle = 'in'): RawBuilder<boolean> {
  if (node.kind !== 'cmp') return balanced(node.items.map((n) => compileFilter(n, f, style)), node.kind === 'and' ? 'AND' : 'OR');
  return sql<boolean>`(${comparison(node, f, style)})`;
}

function comparison(c: Comparison, f: FieldSql, style: MemberStyle): RawBuilder<unknown> {
  if (c.entity === 'attribute') {
    const a = f.attribute(c.key);
    return condition(a.expr, c.op, c.value, a.integer);
  }
  if (c.op === 'IS NULL') return f.member(c, (v) => sql`${v} IS NOT NULL`, true, style);
  if (c.op === 'IS NOT NULL') return f.member(c, (v) => sql`${v} IS NOT NULL`, false, style);
  return f.member(c, (v) => condition(v, c.op, c.value), false, style);
}
