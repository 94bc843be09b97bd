import { KilnError } from '../errors.js';
import type { Comparison, Entity, FilterNode, Operator, OrderTerm } from './ast.js';
import type { FieldRule, Grammar } from './grammar.js';
import { SearchSyntaxError, describeToken, tokenize, type Token } from './lexer.js';

/** Deepest parenthesis nesting a filter may use. */
export const MAX_FILTER_DEPTH = 100;
/**
 * Most comparisons one filter may hold. Each becomes a membership test of its own in the one SQL query, and the
 * query's cost grows faster than their number: a hundred answer in tens of milliseconds, thousands in seconds.
 */
export const MAX_FILTER_COMPARISONS = 100;
/** Most values an IN list may hold. */
export const MAX_IN_LIST = 10_000;
/** Most order_by items (each value term is a join). */
export const MAX_ORDER_TERMS = 20;

const COMPARATORS = '=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN, IS';

interface Identifier {
  readonly entity: Entity;
  readonly key: string;
  readonly pos: number;
}

const entityLabel = (entity: Entity): string => (entity === 'attribute' ? 'attributes' : `${entity}s`);
const fieldLabel = (id: Identifier): string => (id.entity === 'attribute' ? `attribute '${id.key}'` : `${entityLabel(id.entity)}.${id.key}`);

/** A recursive-descent parser over the tokens of one filter or one order_by item. */
class Parser {
  private i = 0;
  private depth = 0;
  private comparisons = 0;
  private readonly toks: Token[];

  constructor(
    src: string,
    private readonly g: Grammar,
    private readonly what: string,
  ) {
    this.toks = tokenize(src, what);
  }

  private peek(): Token {
    return this.toks[this.i]!;
  }
  private next(): Token {
    const t = this.toks[this.i]!;
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  private fail(t: Token, expected: string, found = describeToken(t)): never {
    throw new SearchSyntaxError(this.what, t.pos, expected, found);
  }
  private isWord(t: Token, w: string): boolean {
    return t.kind === 'ident' && t.text.toUpperCase() === w;
  }

  // filter := or ; or := and (OR and)* ; and := primary (AND primary)* ; primary := '(' or ')' | comparison
  filter(): FilterNode {
    const node = this.or();
    const t = this.peek();
    if (t.kind === 'rparen') this.fail(t, "AND, OR or the end of the filter (this ')' has no matching '(')");
    if (t.kind !== 'eof') this.fail(t, 'AND, OR or the end of the filter');
    return node;
  }

  private or(): FilterNode {
    return this.logical('or', 'OR', () => this.and());
  }

  private and(): FilterNode {
    return this.logical('and', 'AND', () => this.primary());
  }

  private logical(kind: 'and' | 'or', word: string, item: () => FilterNode): FilterNode {
    const pos = this.peek().pos;
    const items = [item()];
    while (this.isWord(this.peek(), word)) {
      this.next();
      items.push(item());
    }
    return items.length === 1 ? items[0]! : { kind, items, pos };
  }

  private primary(): FilterNode {
    const open = this.peek();
    if (open.kind !== 'lparen') return this.comparison();
    if (++this.depth > MAX_FILTER_DEPTH) this.fail(open, `at most ${MAX_FILTER_DEPTH} nested parentheses`, 'deeper nesting');
    this.next();
    const inner = this.or();
    const close = this.peek();
    if (close.kind !== 'rparen') this.fail(close, `AND, OR or ')' to close the '(' at position ${open.pos}`);
    this.next();
    this.depth--;
    return inner;
  }

  /** `<entity>.<key>`, `<entity>."quoted key"`, `` `entity`.`key` ``, or a bare (possibly quoted) attribute. */
  identifier(): Identifier {
    const t = this.next();
    let entityText: string | undefined;
    let key: string;
    if (t.kind === 'ident') {
      const dot = t.text.indexOf('.');
      if (dot === -1) key = t.text;
      else {
        entityText = t.text.slice(0, dot);
        key = t.text.slice(dot + 1);
        if (key === '') key = this.quotedKey();
      }
    } else if ((t.kind === 'dquote' || t.kind === 'backtick') && this.peek().kind === 'dot') {
      this.next();
      entityText = t.text;
      key = this.peek().kind === 'ident' ? this.next().text : this.quotedKey();
    } else if (t.kind === 'dquote' || t.kind === 'backtick') {
      key = t.text;
    } else {
      this.fail(t, `an identifier: <entity>.<key> with entity ${this.g.entityHint}, or an attribute name`);
    }
    if (entityText === undefined) return { entity: 'attribute', key: this.attribute(t, key), pos: t.pos };
    const entity = this.g.entities[entityText.toLowerCase()];
    if (!entity) this.fail(t, `an entity (${this.g.entityHint}) before the dot`, `'${entityText}'`);
    if (key === '') this.fail(t, 'a key after the dot', 'an empty key');
    if (entity === 'attribute') return { entity, key: this.attribute(t, key), pos: t.pos };
    return { entity, key, pos: t.pos };
  }

  private attribute(t: Token, key: string): string {
    const attr = this.g.attributeAliases[key] ?? this.g.attributeAliases[key.toLowerCase()];
    if (!attr) this.fail(t, `an attribute (${Object.keys(this.g.attributes).join(', ')}) or <entity>.<key> with entity ${this.g.entityHint}`, `'${key}'`);
    return attr;
  }

  private quotedKey(): string {
    const k = this.next();
    if (k.kind !== 'dquote' && k.kind !== 'backtick') this.fail(k, 'a key after the dot (quote keys with special characters as "key" or `key`)');
    return k.text;
  }

  private ruleOf(id: Identifier, t: Token): FieldRule {
    const rule = id.entity === 'attribute' ? this.g.attributes[id.key] : this.g.rule(id.entity, id.key);
    if (rule) return rule;
    const keys = this.g.keysOf?.(id.entity);
    this.fail(t, keys ? `a ${entityLabel(id.entity)} key (${keys.join(', ')})` : `a searchable field`, `'${id.key}'`);
  }

  private operator(): Operator {
    const t = this.next();
    if (t.kind === 'op') return t.text as Operator;
    for (const w of ['LIKE', 'ILIKE', 'IN'] as const) if (this.isWord(t, w)) return w;
    if (this.isWord(t, 'NOT')) {
      const inTok = this.next();
      if (!this.isWord(inTok, 'IN')) this.fail(inTok, 'IN after NOT');
      return 'NOT IN';
    }
    if (this.isWord(t, 'IS')) {
      let n = this.next();
      const not = this.isWord(n, 'NOT');
      if (not) n = this.next();
      if (!this.isWord(n, 'NULL')) this.fail(n, not ? 'NULL after IS NOT' : 'NULL or NOT NULL after IS');
      return not ? 'IS NOT NULL' : 'IS NULL';
    }
    this.fail(t, `a comparison operator (${COMPARATORS})`);
  }

  private comparison(): Comparison {
    const idTok = this.peek();
    if (++this.comparisons > MAX_FILTER_COMPARISONS) this.fail(idTok, `at most ${MAX_FILTER_COMPARISONS} comparisons in one filter`, `comparison number ${this.comparisons}`);
    const id = this.identifier();
    const rule = this.ruleOf(id, idTok);
    const opTok = this.peek();
    const op = this.operator();
    if (!rule.ops.includes(op)) {
      const note = id.entity === 'param' || id.entity === 'tag' ? '; params and tags compare as strings' : '';
      this.fail(opTok, `an operator for ${id.entity === 'attribute' ? fieldLabel(id) : entityLabel(id.entity)} (${rule.ops.join(', ')}${note})`, `'${op}'`);
    }
    const base = { kind: 'cmp', entity: id.entity, key: id.key, op, pos: id.pos, opPos: opTok.pos } as const;
    if (op === 'IS NULL' || op === 'IS NOT NULL') return base;
    if (op === 'IN' || op === 'NOT IN') return { ...base, value: this.list(id) };
    const v = this.next();
    if (rule.type === 'number') {
      if (v.kind !== 'number') this.fail(v, `a number to compare ${fieldLabel(id)} with`);
      const num = Number(v.text);
      if (!Number.isFinite(num)) this.fail(v, 'a finite number');
      return { ...base, value: num };
    }
    if (v.kind !== 'string' && v.kind !== 'dquote') this.fail(v, this.stringExpected(id));
    return { ...base, value: v.text };
  }

  private stringExpected(id: Identifier): string {
    if (id.entity === 'param' || id.entity === 'tag') return `a quoted string (params and tags compare as strings, e.g. '0.01')`;
    return `a quoted string to compare ${fieldLabel(id)} with`;
  }

  private list(id: Identifier): string[] {
    const open = this.next();
    if (open.kind !== 'lparen') this.fail(open, "'(' to start the list of values");
    const values: string[] = [];
    for (;;) {
      const v = this.next();
      if (v.kind === 'rparen' && values.length === 0) this.fail(v, 'at least one value in the list');
      if (v.kind !== 'string' && v.kind !== 'dquote') this.fail(v, `${this.stringExpected(id)} in the list`);
      if (values.length === MAX_IN_LIST) this.fail(v, `at most ${MAX_IN_LIST} values in the list`, 'more');
      values.push(v.text);
      const sep = this.next();
      if (sep.kind === 'rparen') return values;
      if (sep.kind !== 'comma') this.fail(sep, "',' or ')' in the list");
    }
  }

  /** `<identifier> [ASC|DESC]` and nothing else. */
  orderTerm(): OrderTerm {
    const first = this.peek();
    const id = this.identifier();
    if (id.entity === 'attribute' ? !this.g.orderableAttributes.includes(id.key) : !this.g.orderableEntities.includes(id.entity)) {
      const entities = [...this.g.orderableEntities.map(entityLabel), 'attributes'].join(', ');
      this.fail(first, `an orderable field: an attribute (${this.g.orderableAttributes.join(', ')})${this.g.orderableEntities.length ? ` or <entity>.<key> with entity ${entities}` : ''}`, `'${fieldLabel(id)}'`);
    }
    let ascending = true;
    const d = this.peek();
    if (this.isWord(d, 'ASC') || this.isWord(d, 'DESC')) {
      ascending = this.isWord(d, 'ASC');
      this.next();
    }
    const end = this.peek();
    if (end.kind !== 'eof') this.fail(end, 'ASC, DESC or the end of the clause');
    return { entity: id.entity, key: id.key, ascending };
  }
}

/** Parses a filter of the given language; an absent, empty or blank filter is no filter (undefined). */
export function parseFilter(filter: string | undefined, g: Grammar): FilterNode | undefined {
  if (filter === undefined || filter === null) return undefined;
  if (typeof filter !== 'string') throw new KilnError('INVALID_PARAMETER_VALUE', 'Invalid filter: expected a string', { expected: 'a string' });
  if (filter.trim() === '') return undefined;
  return new Parser(filter, g, 'filter').filter();
}

/** Parses order_by items (`<identifier> [ASC|DESC]`); messages name the offending item. */
export function parseOrderBy(items: readonly string[] | undefined, g: Grammar): OrderTerm[] {
  if (items === undefined || items === null) return [];
  if (!Array.isArray(items)) throw new KilnError('INVALID_PARAMETER_VALUE', 'Invalid order_by: expected a list of strings', { expected: 'a list of strings' });
  if (items.length > MAX_ORDER_TERMS) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid order_by: at most ${MAX_ORDER_TERMS} items are allowed, found ${items.length}`, { expected: `at most ${MAX_ORDER_TERMS} items` });
  }
  return items.map((item: unknown) => {
    if (typeof item !== 'string' || item.trim() === '') {
      throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid order_by clause ${JSON.stringify(item) ?? String(item)}: expected '<field> [ASC|DESC]'`, { expected: '<field> [ASC|DESC]' });
    }
    return new Parser(item, g, `order_by clause '${item}'`).orderTerm();
  });
}

