/**
 * Suggestions for the runs filter box (the grammar of docs/search.md): given the text and the caret, which
 * token is being typed and what could complete it — entity prefixes, then the experiment's keys after
 * `metrics.` / `params.` / `tags.`, attribute names, operators after a field, AND / OR after a value.
 * Pure: no DOM, unit-tested.
 */

import type { ExperimentKeys } from '../../../src/tracking/schemas.js';

/** An experiment's metric, param and tag keys (`GET /api/v1/experiments/{id}/keys`). */
export type KeyLists = ExperimentKeys;

export type SuggestionKind = 'entity' | 'key' | 'attribute' | 'operator' | 'keyword';

export interface Candidate {
  /** Shown in the list. */
  readonly label: string;
  /** Replaces text[from, to). */
  readonly insert: string;
  readonly kind: SuggestionKind;
}

export interface Suggestions {
  /** The token being typed: text[from, to). */
  readonly from: number;
  readonly to: number;
  readonly token: string;
  readonly candidates: Candidate[];
}

export const ATTRIBUTES = ['run_id', 'run_name', 'user_id', 'status', 'artifact_uri', 'lifecycle_stage', 'start_time', 'end_time'] as const;
const DATASET_KEYS = ['name', 'digest', 'context'];
const ENTITIES = ['metrics', 'params', 'tags', 'attributes', 'datasets'] as const;
const ALIASES: Record<string, (typeof ENTITIES)[number]> = {
  metric: 'metrics',
  metrics: 'metrics',
  param: 'params',
  params: 'params',
  parameter: 'params',
  parameters: 'params',
  tag: 'tags',
  tags: 'tags',
  attribute: 'attributes',
  attributes: 'attributes',
  attr: 'attributes',
  run: 'attributes',
  dataset: 'datasets',
  datasets: 'datasets',
};
const OPERATORS = ['=', '!=', '>', '>=', '<', '<=', 'LIKE', 'ILIKE', 'IN', 'NOT IN', 'IS NULL', 'IS NOT NULL'];
const METRIC_OPERATORS = ['=', '!=', '>', '>=', '<', '<=', 'IS NULL', 'IS NOT NULL'];
const STRING_OPERATORS = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN', 'IS NULL', 'IS NOT NULL'];
const MAX = 50;

/** Characters of an unquoted identifier (as the server's lexer reads them). */
const IDENT = /[\p{L}\p{N}\p{M}_./:-]/u;
const PLAIN_KEY = /^[\p{L}_][\p{L}\p{N}\p{M}_./:-]*$/u;

/** A key as the grammar needs it written: bare when it can be, else in backticks (a backtick doubled). */
export function quoteKey(key: string): string {
  return PLAIN_KEY.test(key) ? key : '`' + key.replace(/`/g, '``') + '`';
}

/** A string literal in single quotes (a quote doubled). */
export function quoteValue(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

interface Lexeme {
  readonly kind: 'word' | 'string' | 'op' | 'punct';
  readonly text: string;
}

/** A forgiving tokenizer for the text before the token being typed (unterminated quotes end the input). */
function lex(src: string): Lexeme[] {
  const out: Lexeme[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      let text = '';
      for (;;) {
        if (j >= src.length) break;
        if (src[j] === c) {
          if (src[j + 1] === c) {
            text += c;
            j += 2;
            continue;
          }
          j++;
          break;
        }
        text += src[j];
        j++;
      }
      // A quoted key glued to `entity.` is part of that word.
      const prev = out[out.length - 1];
      if (c !== "'" && prev?.kind === 'word' && prev.text.endsWith('.') && src[i - 1] === '.') out[out.length - 1] = { kind: 'word', text: prev.text + text };
      else out.push({ kind: c === "'" ? 'string' : 'word', text });
      i = j;
    } else if ('<>=!'.includes(c)) {
      let j = i + 1;
      if (src[j] === '=' || (c === '<' && src[j] === '>')) j++;
      out.push({ kind: 'op', text: src.slice(i, j) });
      i = j;
    } else if ('(),'.includes(c)) {
      out.push({ kind: 'punct', text: c });
      i++;
    } else {
      let j = i;
      while (j < src.length && IDENT.test(src[j]!)) j++;
      if (j === i) j++;
      out.push({ kind: 'word', text: src.slice(i, j) });
      i = j;
    }
  }
  return out;
}

type Context = 'field' | 'operator' | 'value' | 'conjunction';

const upper = (s: string) => s.toUpperCase();

/** What the grammar expects at the end of `before` (the text up to the token being typed). */
function contextAfter(before: string): { ctx: Context; field?: string } {
  const toks = lex(before);
  const last = toks[toks.length - 1];
  if (!last) return { ctx: 'field' };
  const u = upper(last.text);
  if (last.kind === 'punct' && last.text === '(') {
    const prev = toks[toks.length - 2];
    return prev && upper(prev.text) === 'IN' ? { ctx: 'value' } : { ctx: 'field' };
  }
  if (last.kind === 'word' && (u === 'AND' || u === 'OR')) return { ctx: 'field' };
  if (last.kind === 'op' || (last.kind === 'word' && ['LIKE', 'ILIKE', 'IN', 'IS', 'NOT'].includes(u)) || (last.kind === 'punct' && last.text === ',')) return { ctx: 'value' };
  if (last.kind === 'word') {
    // A field just typed: an operator comes next; a value (number, NULL) was just typed: AND / OR.
    if (u === 'NULL' || /^[-+.\d]/.test(last.text)) return { ctx: 'conjunction' };
    return { ctx: 'operator', field: last.text };
  }
  return { ctx: 'conjunction' };
}

/** Prefix matches first, then (from two characters on, when allowed) matches anywhere. */
function rank(items: readonly string[], prefix: string, anywhere = true): string[] {
  const p = prefix.toLowerCase();
  const starts: string[] = [];
  const contains: string[] = [];
  for (const it of items) {
    const l = it.toLowerCase();
    if (l.startsWith(p)) starts.push(it);
    else if (anywhere && p.length >= 2 && l.includes(p)) contains.push(it);
  }
  return [...starts, ...contains].slice(0, MAX);
}

/** The token at the caret and its completions. */
export function suggest(text: string, caret: number, keys: KeyLists): Suggestions {
  caret = Math.max(0, Math.min(caret, text.length));
  // The token being typed: identifier characters before the caret, plus an opened (unclosed) key quote.
  let from = caret;
  while (from > 0 && IDENT.test(text[from - 1]!)) from--;
  let quoted = false;
  if (from > 0 && (text[from - 1] === '`' || text[from - 1] === '"') && text[from - 2] === '.') {
    // `metrics.`val lo|  → the token starts at the entity
    from--;
    quoted = true;
    let k = from;
    while (k > 0 && IDENT.test(text[k - 1]!)) k--;
    from = k;
  }
  let to = caret;
  while (to < text.length && IDENT.test(text[to]!)) to++;
  const token = text.slice(from, caret);
  const none: Suggestions = { from, to, token, candidates: [] };
  const { ctx, field } = contextAfter(text.slice(0, from));

  if (ctx === 'value') return none;
  if (ctx === 'conjunction' || (ctx === 'operator' && token !== '' && /^[a-z]/i.test(token) && !quoted)) {
    if (ctx === 'operator') {
      const ops = rank(operatorsFor(field!), token, false).filter((o) => /^[A-Z]/.test(o));
      return { from, to, token, candidates: ops.map((o) => ({ label: o, insert: `${o} `, kind: 'operator' })) };
    }
    return { from, to, token, candidates: rank(['AND', 'OR'], token).map((k) => ({ label: k, insert: `${k} `, kind: 'keyword' })) };
  }
  if (ctx === 'operator') {
    return { from: caret, to: caret, token: '', candidates: operatorsFor(field!).map((o) => ({ label: o, insert: `${o} `, kind: 'operator' })) };
  }

  const dot = token.indexOf('.');
  if (dot < 0) {
    const ents = rank(ENTITIES, token, false).map((e): Candidate => ({ label: `${e}.`, insert: `${e}.`, kind: 'entity' }));
    const attrs = token ? rank(ATTRIBUTES, token, false).map((a): Candidate => ({ label: a, insert: `${a} `, kind: 'attribute' })) : [];
    return { from, to, token, candidates: [...ents, ...attrs] };
  }
  const written = token.slice(0, dot);
  const entity = ALIASES[written.toLowerCase()];
  if (!entity) return none;
  let keyPrefix = token.slice(dot + 1);
  if (keyPrefix.startsWith('`') || keyPrefix.startsWith('"')) keyPrefix = keyPrefix.slice(1).replace(/``/g, '`');
  const pool = entity === 'attributes' ? ATTRIBUTES : entity === 'datasets' ? DATASET_KEYS : keys[entity];
  return {
    from,
    to,
    token,
    candidates: rank(pool, keyPrefix).map((k) => ({ label: `${written}.${k}`, insert: `${written}.${quoteKey(k)} `, kind: entity === 'attributes' ? 'attribute' : 'key' })),
  };
}

function operatorsFor(field: string): string[] {
  const ent = ALIASES[field.slice(0, field.indexOf('.')).toLowerCase()];
  if (ent === 'metrics') return METRIC_OPERATORS;
  if (ent === 'params' || ent === 'tags' || ent === 'datasets') return STRING_OPERATORS;
  if (/(^|\.)(start_time|end_time|created)$/.test(field)) return METRIC_OPERATORS;
  return field.includes('.') || (ATTRIBUTES as readonly string[]).includes(field) ? STRING_OPERATORS : OPERATORS;
}

/** The text with a candidate put in place of the token, and where the caret goes. */
export function applyCandidate(text: string, s: Suggestions, c: Candidate): { text: string; caret: number } {
  const next = text.slice(0, s.from) + c.insert + text.slice(s.to).replace(/^ +/, c.insert.endsWith(' ') ? '' : ' ');
  return { text: next, caret: s.from + c.insert.length };
}
