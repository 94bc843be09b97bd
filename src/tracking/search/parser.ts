import { KilnError } from '../../platform/errors.js';
import type { Comparison, Entity, FilterNode, Operator, OrderTerm } from './ast.js';
import { SearchSyntaxError, describeToken, tokenize, type Token } from './lexer.js';

export interface FieldRule {
  readonly type: 'number' | 'string';
  readonly ops: readonly Operator[];
}

/** What a search language accepts: its entities, attributes and the operators of each field. */
export interface Grammar {
  readonly entities: Readonly<Record<string, Entity>>;
  /** Attribute aliases (lower case) → canonical attribute name. */
  readonly attributeAliases: Readonly<Record<string, string>>;
  readonly attributes: Readonly<Record<string, FieldRule>>;
  readonly orderableAttributes: readonly string[];
  /** Rule of a non-attribute field, or undefined when the entity takes no such key. */
  rule(entity: Entity, key: string): FieldRule | undefined;
  /** Human list of the allowed entities, for messages. */
  readonly entityHint: string;
}

const MAX_DEPTH = 100;
const COMPARATORS = '=, !=, >, >=, <, <=, LIKE, ILIKE, IN, NOT IN or IS [NOT] NULL';

class Parser {
  private i = 0;
  private depth = 0;
  constructor(
    private readonly toks: Token[],
    private readonly g: Grammar,
    private readonly what: string,
  ) {}

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }
  private fail(t: Token, expected: string): never {
    throw new SearchSyntaxError(this.what, t.pos, expected, describeToken(t));
  }
  private isWord(t: Token, w: string): boolean {
    return t.kind === 'ident' && t.text.toUpperCase() === w;
  }

  parseFilter(): FilterNode {
    const node = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'eof') this.fail(t, t.kind === 'rparen' ? "no ')' without a matching '('" : "AND, OR or the end of the filter");
    return node;
  }

  private parseOr(): FilterNode {
    const items = [this.parseAnd()];
    while (this.isWord(this.peek(), 'OR')) {
      this.next();
      items.push(this.parseAnd());
    }
    return items.length === 1 ? items[0]! : { kind: 'or', items };
  }

  private parseAnd(): FilterNode {
    const items = [this.parsePrimary()];
    while (this.isWord(this.peek(), 'AND')) {
      this.next();
      items.push(this.parsePrimary());
    }
    return items.length === 1 ? items[0]! : { kind: 'and', items };
  }

  private parsePrimary(): FilterNode {
    const t = this.peek();
    if (t.kind === 'lparen') {
      if (++this.depth > MAX_DEPTH) throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid ${this.what} at position ${t.pos}: parentheses nested deeper than ${MAX_DEPTH}`, { position: t.pos });
      this.next();
      const inner = this.parseOr();
      const close = this.peek();
      if (close.kind !== 'rparen') this.fail(close, "')' to close the '(' at position " + t.pos);
      this.next();
      this.depth--;
      return inner;
    }
    return this.parseComparison();
  }

  /** `<entity>.<key>`, `<entity>."quoted key"`, `` `entity`.`key` `` or a bare attribute. */
  parseIdentifier(): { entity: Entity; key: string; pos: number } {
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
    } else if (t.kind === 'dquote' || t.kind === 'backtick') {
      if (this.peek().kind === 'dot') {
        this.next();
        entityText = t.text;
        const k = this.peek();
        if (k.kind === 'ident') key = this.next().text;
        else key = this.quotedKey();
      } else key = t.text;
    } else {
      this.fail(t, `an identifier such as metrics.<key>, params.<key>, tags.<key> or an attribute (${this.g.entityHint})`);
    }
    if (entityText === undefined) {
      const attr = this.g.attributeAliases[key.toLowerCase()] ?? this.g.attributeAliases[key];
      if (!attr) this.fail(t, `a known attribute (${Object.keys(this.g.attributes).join(', ')}) or <entity>.<key> with entity ${this.g.entityHint}`);
      return { entity: 'attribute', key: attr, pos: t.pos };
    }
    const entity = this.g.entities[entityText.toLowerCase()];
    if (!entity) this.fail(t, `an entity (${this.g.entityHint}) before the dot`);
    if (key === '') this.fail(t, 'a key after the dot');
    if (entity === 'attribute') {
      const attr = this.g.attributeAliases[key.toLowerCase()] ?? this.g.attributeAliases[key];
      if (!attr) this.fail(t, `a known attribute (${Object.keys(this.g.attributes).join(', ')})`);
      return { entity, key: attr, pos: t.pos };
    }
    return { entity, key, pos: t.pos };
  }

  private quotedKey(): string {
    const k = this.next();
    if (k.kind !== 'dquote' && k.kind !== 'backtick') this.fail(k, 'a key after the dot (quote keys with special characters: "key" or `key`)');
    return k.text;
  }

  private ruleOf(entity: Entity, key: string, pos: number): FieldRule {
    const rule = entity === 'attribute' ? this.g.attributes[key] : this.g.rule(entity, key);
    if (!rule) throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid ${this.what} at position ${pos}: ${entity} key '${key}' is not searchable`, { position: pos });
    return rule;
  }

  private parseComparison(): Comparison {
    const id = this.parseIdentifier();
    const rule = this.ruleOf(id.entity, id.key, id.pos);
    const opTok = this.next();
    let op: Operator;
    if (opTok.kind === 'op') op = opTok.text as Operator;
    else if (this.isWord(opTok, 'LIKE')) op = 'LIKE';
    else if (this.isWord(opTok, 'ILIKE')) op = 'ILIKE';
    else if (this.isWord(opTok, 'IN')) op = 'IN';
    else if (this.isWord(opTok, 'NOT')) {
      const inTok = this.next();
      if (!this.isWord(inTok, 'IN')) this.fail(inTok, 'IN after NOT');
      op = 'NOT IN';
    } else if (this.isWord(opTok, 'IS')) {
      let n = this.next();
      op = 'IS NULL';
      if (this.isWord(n, 'NOT')) {
        op = 'IS NOT NULL';
        n = this.next();
      }
      if (!this.isWord(n, 'NULL')) this.fail(n, op === 'IS NULL' ? 'NULL or NOT NULL after IS' : 'NULL after IS NOT');
    } else this.fail(opTok, `a comparison operator (${COMPARATORS})`);
    if (!rule.ops.includes(op)) {
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        `Invalid ${this.what} at position ${opTok.pos}: operator ${op} is not allowed for ${id.entity === 'attribute' ? `attribute '${id.key}'` : `${id.entity}s`}; use one of ${rule.ops.join(', ')}` +
          (id.entity === 'param' || id.entity === 'tag' ? ` (${id.entity}s compare as strings)` : ''),
        { position: opTok.pos, expected: rule.ops.join(', ') },
      );
    }
    if (op === 'IS NULL' || op === 'IS NOT NULL') return { kind: 'cmp', entity: id.entity, key: id.key, op, pos: id.pos };
    if (op === 'IN' || op === 'NOT IN') return { kind: 'cmp', entity: id.entity, key: id.key, op, value: this.parseList(rule), pos: id.pos };
    const v = this.next();
    if (rule.type === 'number') {
      if (v.kind !== 'number') this.fail(v, `a number to compare ${id.entity === 'attribute' ? id.key : `${id.entity}s.${id.key}`} with`);
      const num = Number(v.text);
      if (!Number.isFinite(num)) this.fail(v, 'a finite number');
      return { kind: 'cmp', entity: id.entity, key: id.key, op, value: num, pos: id.pos };
    }
    if (v.kind !== 'string' && v.kind !== 'dquote') this.fail(v, `a quoted string value (${id.entity}s compare as strings, e.g. '0.01')`);
    return { kind: 'cmp', entity: id.entity, key: id.key, op, value: v.text, pos: id.pos };
  }

  private parseList(rule: FieldRule): string[] {
    const open = this.next();
    if (open.kind !== 'lparen') this.fail(open, "'(' to start the list of values");
    const values: string[] = [];
    for (;;) {
      const v = this.next();
      if (v.kind === 'rparen' && values.length === 0) this.fail(v, 'at least one value in the list');
      if (v.kind !== 'string' && v.kind !== 'dquote' && !(rule.type === 'number' && v.kind === 'number')) this.fail(v, 'a quoted string in the list');
      values.push(v.text);
      const sep = this.next();
      if (sep.kind === 'rparen') break;
      if (sep.kind !== 'comma') this.fail(sep, "',' or ')' in the list");
    }
    if (values.length > 10_000) throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid ${this.what}: an IN list may hold at most 10000 values`);
    return values;
  }

  parseOrderTerm(orderable: (entity: Entity, key: string) => boolean): OrderTerm {
    const first = this.peek();
    const id = this.parseIdentifier();
    if (!orderable(id.entity, id.key)) {
      throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid order_by clause: ${id.entity} '${id.key}' cannot be ordered by`, { position: first.pos });
    }
    let ascending = true;
    const d = this.peek();
    if (this.isWord(d, 'ASC') || this.isWord(d, 'DESC')) {
      ascending = this.isWord(d, 'ASC');
      this.next();
    }
    const end = this.peek();
    if (end.kind !== 'eof') this.fail(end, 'ASC, DESC or the end of the order_by clause');
    return { entity: id.entity, key: id.key, ascending };
  }
}

export function parseFilter(filter: string | undefined, g: Grammar): FilterNode | undefined {
  if (filter === undefined || filter.trim() === '') return undefined;
  return new Parser(tokenize(filter, 'filter'), g, 'filter').parseFilter();
}

export function parseOrderBy(items: readonly string[] | undefined, g: Grammar): OrderTerm[] {
  return (items ?? []).map((item) => {
    if (typeof item !== 'string' || item.trim() === '') throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid order_by clause '${String(item)}': it is empty`);
    try {
      const p = new Parser(tokenize(item, 'order_by clause'), g, 'order_by clause');
      return p.parseOrderTerm((entity, key) => (entity === 'attribute' ? g.orderableAttributes.includes(key) : entity !== 'dataset'));
    } catch (e) {
      if (e instanceof KilnError) throw new KilnError('INVALID_PARAMETER_VALUE', `${e.message} (in order_by '${item}')`, e.details ? { ...e.details } : undefined);
      throw e;
    }
  });
}
