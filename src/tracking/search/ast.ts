/** The search filter AST. Positions are 0-based character offsets into the filter text. */

export type Entity = 'metric' | 'param' | 'tag' | 'attribute' | 'dataset';

export type Operator = '=' | '!=' | '>' | '>=' | '<' | '<=' | 'LIKE' | 'ILIKE' | 'IN' | 'NOT IN' | 'IS NULL' | 'IS NOT NULL';

export interface Comparison {
  readonly kind: 'cmp';
  readonly entity: Entity;
  /** The key (metrics, params, tags, datasets) or the canonical attribute name. */
  readonly key: string;
  readonly op: Operator;
  /** A number, a string, a list of strings, or undefined for IS [NOT] NULL. */
  readonly value?: number | string | readonly string[];
  readonly pos: number;
}

export interface Logical {
  readonly kind: 'and' | 'or';
  readonly items: readonly FilterNode[];
}

export type FilterNode = Comparison | Logical;

export interface OrderTerm {
  readonly entity: Entity;
  readonly key: string;
  readonly ascending: boolean;
}

/** A compact text form of an AST, for tests and debugging. */
export function show(node: FilterNode): string {
  if (node.kind === 'cmp') {
    const v = node.value === undefined ? '' : Array.isArray(node.value) ? ` (${node.value.map((x) => `'${x}'`).join(', ')})` : typeof node.value === 'string' ? ` '${node.value}'` : ` ${node.value}`;
    return `${node.entity}.${node.key} ${node.op}${v}`;
  }
  return `(${node.items.map(show).join(` ${node.kind.toUpperCase()} `)})`;
}
