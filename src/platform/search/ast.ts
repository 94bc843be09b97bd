/** The search filter AST. Positions are 0-based character offsets into the filter text. */

export type Entity = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';

export type Operator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL';

/** `<entity>.<key> <op> <value>`, or `<entity>.<key> IS [NOT] NULL`. */
export interface Comparison {
  readonly kind: 'cmp';
  readonly entity: Entity;
  /** The key (metrics, params, tags, datasets) or the canonical attribute name (`created` → `start_time`). */
  readonly key: string;
  readonly op: Operator;
  /** A number, a string, a list of strings (IN, NOT IN), or undefined for IS [NOT] NULL. */
  readonly value?: number | string | readonly string[];
  /** Where the identifier starts. */
  readonly pos: number;
  /** Where the operator starts. */
  readonly opPos: number;
}

/** An n-ary AND or OR; `items` holds at least two nodes. */
export interface Logical {
  readonly kind: 'and' | 'or';
  readonly items: readonly FilterNode[];
  /** Where the first item starts. */
  readonly pos: number;
}

export type FilterNode = Comparison | Logical;

export interface OrderTerm {
  readonly entity: Entity;
  readonly key: string;
  readonly ascending: boolean;
}

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * A compact text form of an AST, for tests and debugging: `metric.acc > 0.9`, `param.lr IN ('a', 'b')`,
 * `(a AND b)`, `(a OR (b AND c))`. Strings are quoted as in the filter language.
 */
export function show(node: FilterNode): string {
  if (node.kind === 'cmp') {
    const v = node.value;
    const text = v === undefined ? '' : typeof v === 'number' ? ` ${v}` : typeof v === 'string' ? ` ${quote(v)}` : ` (${v.map(quote).join(', ')})`;
    return `${node.entity}.${node.key} ${node.op}${text}`;
  }
  return `(${node.items.map(show).join(` ${node.kind.toUpperCase()} `)})`;
}

/** The same, for order_by terms: `metric.acc DESC`. */
export function showOrder(term: OrderTerm): string {
  return `${term.entity}.${term.key} ${term.ascending ? 'ASC' : 'DESC'}`;
}
