import { invalid } from '../platform/errors.js';
import type { Policy as PromotionPolicy } from './schemas.js';

/**
 * Promotion policies: the rules a candidate version must pass before an alias (say `production`) moves to it.
 *
 *   {
 *     "rules": ["metrics.val_accuracy >= 0.85", "metrics.val_accuracy >= champion - 0.005", "metrics.latency_ms <= champion * 1.1"],
 *     "require_data_validation": true,
 *     "require_approval": true
 *   }
 *
 * A rule compares two arithmetic expressions (+ - * / and parentheses) over numbers and references:
 * `metrics.<key>` / `params.<key>` of the candidate's run, `champion.metrics.<key>` / `champion.params.<key>` of the
 * version holding the alias now, and `champion` alone: the champion's value of the rule's left-hand reference.
 * As in the run search grammar, the singular `metric.<key>` / `param.<key>` are accepted too.
 * Keys with other characters are written in backticks: metrics.`val acc`.
 */
export type { Policy as PromotionPolicy } from './schemas.js';

export type Ref = { readonly who: 'candidate' | 'champion'; readonly entity: 'metrics' | 'params'; readonly key: string } | { readonly who: 'champion'; readonly entity: 'same' };
export type Expr =
  | { readonly kind: 'num'; readonly value: number }
  | { readonly kind: 'ref'; readonly ref: Ref }
  | { readonly kind: 'neg'; readonly arg: Expr }
  | { readonly kind: 'bin'; readonly op: '+' | '-' | '*' | '/'; readonly left: Expr; readonly right: Expr };
export type CompareOp = '>=' | '<=' | '>' | '<' | '==' | '!=';
export interface Rule {
  readonly text: string;
  readonly left: Expr;
  readonly op: CompareOp;
  readonly right: Expr;
}

export const MAX_RULES = 50;
const MAX_RULE_LENGTH = 1000;

type Token = { t: 'num'; v: number; pos: number } | { t: 'id'; v: string; pos: number } | { t: 'op'; v: string; pos: number } | { t: 'end'; pos: number };

function lex(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text.slice(i));
    if (num) {
      out.push({ t: 'num', v: Number(num[0]), pos: i });
      i += num[0].length;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (['>=', '<=', '==', '!='].includes(two)) {
      out.push({ t: 'op', v: two, pos: i });
      i += 2;
      continue;
    }
    if ('<>=+-*/()'.includes(c)) {
      out.push({ t: 'op', v: c === '=' ? '==' : c, pos: i });
      i++;
      continue;
    }
    // References: dotted segments; a segment is a name (a dash or slash inside it must be followed by a letter, so
    // `champion-0.1` is a subtraction) or a `backticked` key.
    if (/[A-Za-z_`]/.test(c)) {
      const start = i;
      let v = '';
      for (;;) {
        if (text[i] === '`') {
          const end = text.indexOf('`', i + 1);
          if (end < 0) throw ruleError(text, i, 'a closing backtick');
          v += text.slice(i + 1, end);
          i = end + 1;
        } else {
          const m = /^[A-Za-z0-9_:]+(?:[-/][A-Za-z_][A-Za-z0-9_:]*)*/.exec(text.slice(i));
          if (!m) throw ruleError(text, i, 'a name');
          v += m[0];
          i += m[0].length;
        }
        if (text[i] === '.' && /[A-Za-z0-9_`]/.test(text[i + 1] ?? '')) {
          v += '.';
          i++;
          continue;
        }
        break;
      }
      out.push({ t: 'id', v, pos: start });
      continue;
    }
    throw ruleError(text, i, 'a number, a reference such as metrics.accuracy, an operator or a parenthesis');
  }
  out.push({ t: 'end', pos: text.length });
  return out;
}

function ruleError(text: string, pos: number, expected: string): Error {
  const found = pos >= text.length ? 'the end of the rule' : `'${text.slice(pos, pos + 12)}'`;
  return invalid(`Invalid promotion rule '${text}': at position ${pos + 1}, expected ${expected}, found ${found}.`, { position: pos + 1, expected });
}

function parseRef(text: string, v: string, pos: number): Ref {
  if (v === 'champion') return { who: 'champion', entity: 'same' };
  const m = /^(champion\.)?(metrics?|params?)\.(.+)$/.exec(v);
  if (!m) throw ruleError(text, pos, "a reference: metrics.<key>, params.<key>, champion.metrics.<key> or champion");
  return { who: m[1] ? 'champion' : 'candidate', entity: m[2]!.startsWith('metric') ? 'metrics' : 'params', key: m[3]! };
}

/** Parses one rule; a malformed rule throws INVALID_PARAMETER_VALUE naming the position and what was expected. */
export function parseRule(text: string): Rule {
  if (typeof text !== 'string' || text.trim() === '') throw invalid('A promotion rule is a non-empty string such as "metrics.val_accuracy >= 0.85".');
  if (text.length > MAX_RULE_LENGTH) throw invalid(`A promotion rule is at most ${MAX_RULE_LENGTH} characters.`);
  const toks = lex(text);
  let i = 0;
  const peek = () => toks[i]!;
  const expr = (depth: number): Expr => {
    if (depth > 20) throw ruleError(text, peek().pos, 'a shallower expression');
    let left = term(depth);
    while (peek().t === 'op' && ['+', '-'].includes((peek() as { v: string }).v)) {
      const op = (toks[i++] as { v: string }).v as '+' | '-';
      left = { kind: 'bin', op, left, right: term(depth) };
    }
    return left;
  };
  const term = (depth: number): Expr => {
    let left = factor(depth);
    while (peek().t === 'op' && ['*', '/'].includes((peek() as { v: string }).v)) {
      const op = (toks[i++] as { v: string }).v as '*' | '/';
      left = { kind: 'bin', op, left, right: factor(depth) };
    }
    return left;
  };
  const factor = (depth: number): Expr => {
    const t = peek();
    if (t.t === 'num') {
      i++;
      return { kind: 'num', value: t.v };
    }
    if (t.t === 'id') {
      i++;
      return { kind: 'ref', ref: parseRef(text, t.v, t.pos) };
    }
    if (t.t === 'op' && t.v === '-') {
      i++;
      return { kind: 'neg', arg: factor(depth + 1) };
    }
    if (t.t === 'op' && t.v === '(') {
      i++;
      const e = expr(depth + 1);
      if (!(peek().t === 'op' && (peek() as { v: string }).v === ')')) throw ruleError(text, peek().pos, "')'");
      i++;
      return e;
    }
    throw ruleError(text, t.pos, 'a number, a reference such as metrics.accuracy, or (');
  };
  const left = expr(0);
  const opTok = peek();
  if (opTok.t !== 'op' || !['>=', '<=', '>', '<', '==', '!='].includes(opTok.v)) throw ruleError(text, opTok.pos, 'a comparison: >=, <=, >, <, == or !=');
  i++;
  const right = expr(0);
  if (peek().t !== 'end') throw ruleError(text, peek().pos, 'the end of the rule');
  if (usesBareChampion(left)) throw ruleError(text, 0, 'a left-hand side that names a metric or param (champion alone stands for the same field of the current holder)');
  if (usesBareChampion(right) && leadRef(left) === undefined) throw ruleError(text, 0, 'a left-hand side with one metric or param reference for `champion` to refer to');
  return { text, left, op: opTok.v as CompareOp, right };
}

function usesBareChampion(e: Expr): boolean {
  if (e.kind === 'ref') return e.ref.entity === 'same';
  if (e.kind === 'neg') return usesBareChampion(e.arg);
  if (e.kind === 'bin') return usesBareChampion(e.left) || usesBareChampion(e.right);
  return false;
}

/** The first candidate reference of an expression: what a bare `champion` stands for. */
function leadRef(e: Expr): { entity: 'metrics' | 'params'; key: string } | undefined {
  if (e.kind === 'ref') return e.ref.entity === 'same' ? undefined : { entity: e.ref.entity, key: e.ref.key };
  if (e.kind === 'neg') return leadRef(e.arg);
  if (e.kind === 'bin') return leadRef(e.left) ?? leadRef(e.right);
  return undefined;
}

/** Whether any rule needs the champion (the current holder of the alias). */
export function mentionsChampion(rule: Rule): boolean {
  const walk = (e: Expr): boolean => (e.kind === 'ref' ? e.ref.who === 'champion' : e.kind === 'neg' ? walk(e.arg) : e.kind === 'bin' ? walk(e.left) || walk(e.right) : false);
  return walk(rule.left) || walk(rule.right);
}

/** Validates a policy document (as a user writes it) and returns it normalised; rules are parsed to check them. */
export function parsePolicy(doc: unknown): PromotionPolicy {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw invalid('A promotion policy is a JSON object: {"rules": [...], "require_data_validation": bool, "require_approval": bool}.');
  const d = doc as Record<string, unknown>;
  const known = new Set(['rules', 'require_data_validation', 'require_approval', 'description']);
  for (const k of Object.keys(d)) if (!known.has(k)) throw invalid(`Unknown promotion policy field '${k}': expected ${[...known].join(', ')}.`);
  const rules = d.rules ?? [];
  if (!Array.isArray(rules) || rules.some((r) => typeof r !== 'string')) throw invalid('policy.rules must be a list of strings.');
  if (rules.length > MAX_RULES) throw invalid(`A policy has at most ${MAX_RULES} rules.`);
  (rules as string[]).forEach((r, idx) => {
    try {
      parseRule(r);
    } catch (e) {
      throw invalid(`policy.rules[${idx}]: ${(e as Error).message}`, (e as { details?: Record<string, unknown> }).details);
    }
  });
  for (const k of ['require_data_validation', 'require_approval'] as const) {
    if (d[k] !== undefined && typeof d[k] !== 'boolean') throw invalid(`policy.${k} must be true or false.`);
  }
  if (d.description !== undefined && (typeof d.description !== 'string' || d.description.length > 5000)) throw invalid('policy.description must be a string of at most 5000 characters.');
  return {
    rules: rules as string[],
    require_data_validation: d.require_data_validation === true,
    require_approval: d.require_approval === true,
    ...(typeof d.description === 'string' ? { description: d.description } : {}),
  };
}

/** The values a rule reads: the candidate's and the champion's run metrics and params. */
export interface RuleContext {
  readonly candidate: { readonly metrics: ReadonlyMap<string, number>; readonly params: ReadonlyMap<string, string> };
  readonly champion?: { readonly version: string; readonly metrics: ReadonlyMap<string, number>; readonly params: ReadonlyMap<string, string> };
}

export interface RuleResult {
  readonly rule: string;
  readonly passed: boolean;
  readonly left?: number;
  readonly right?: number;
  readonly message: string;
}

class Missing extends Error {}

/** Evaluates a rule; a missing value fails the rule with a message saying which. Without a champion, rules that need one pass (first promotion). */
export function evaluateRule(rule: Rule, ctx: RuleContext): RuleResult {
  if (mentionsChampion(rule) && !ctx.champion) return { rule: rule.text, passed: true, message: 'passed: no version holds the alias yet, so there is no champion to compare with' };
  const lead = leadRef(rule.left);
  const value = (e: Expr): number => {
    switch (e.kind) {
      case 'num':
        return e.value;
      case 'neg':
        return -value(e.arg);
      case 'bin': {
        const a = value(e.left);
        const b = value(e.right);
        return e.op === '+' ? a + b : e.op === '-' ? a - b : e.op === '*' ? a * b : a / b;
      }
      case 'ref': {
        const r = e.ref.entity === 'same' ? { who: 'champion' as const, ...lead! } : e.ref;
        const side = r.who === 'champion' ? ctx.champion! : ctx.candidate;
        const who = r.who === 'champion' ? `the champion (version ${ctx.champion!.version})` : 'the candidate';
        if (r.entity === 'metrics') {
          const v = side.metrics.get(r.key);
          if (v === undefined) throw new Missing(`${who} has no metric '${r.key}'`);
          return v;
        }
        const p = side.params.get(r.key);
        if (p === undefined) throw new Missing(`${who} has no param '${r.key}'`);
        const n = Number(p);
        if (p.trim() === '' || !Number.isFinite(n)) throw new Missing(`param '${r.key}' of ${who} is '${p}', not a number`);
        return n;
      }
    }
  };
  let left: number;
  let right: number;
  try {
    left = value(rule.left);
    right = value(rule.right);
  } catch (e) {
    if (e instanceof Missing) return { rule: rule.text, passed: false, message: `failed: ${e.message}` };
    throw e;
  }
  if (Number.isNaN(left) || Number.isNaN(right)) return { rule: rule.text, passed: false, left, right, message: `failed: a value is NaN (${left} ${rule.op} ${right})` };
  const ok = rule.op === '>=' ? left >= right : rule.op === '<=' ? left <= right : rule.op === '>' ? left > right : rule.op === '<' ? left < right : rule.op === '==' ? left === right : left !== right;
  return { rule: rule.text, passed: ok, left, right, message: `${ok ? 'passed' : 'failed'}: ${fmt(left)} ${rule.op} ${fmt(right)}` };
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6))));
