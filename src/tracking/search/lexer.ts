import { KilnError } from '../../platform/errors.js';

export type TokenKind = 'ident' | 'string' | 'dquote' | 'backtick' | 'number' | 'op' | 'lparen' | 'rparen' | 'comma' | 'dot' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Raw text for idents and ops; the unquoted content for strings and quoted identifiers. */
  readonly text: string;
  /** 0-based character offset of the token's first character. */
  readonly pos: number;
}

export const MAX_FILTER_LENGTH = 64 * 1024;

export class SearchSyntaxError extends KilnError {
  constructor(what: string, pos: number, expected: string, found: string) {
    super('INVALID_PARAMETER_VALUE', `Invalid ${what} at position ${pos}: expected ${expected} but found ${found}`, { position: pos, expected });
  }
}

export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'the end of the input';
    case 'string':
      return `the string '${t.text}'`;
    case 'dquote':
      return `"${t.text}"`;
    case 'backtick':
      return `\`${t.text}\``;
    default:
      return `'${t.text}'`;
  }
}

const IDENT_START = /[\p{L}_]/u;
const IDENT_PART = /[\p{L}\p{N}\p{M}_./:-]/u;

/** Splits a filter or order_by clause into tokens; quoted strings support a doubled quote as an escape. */
export function tokenize(src: string, what: string): Token[] {
  if (src.length > MAX_FILTER_LENGTH) throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid ${what}: longer than ${MAX_FILTER_LENGTH} characters`);
  const out: Token[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'" || c === '"' || c === '`') {
      let text = '';
      i++;
      for (;;) {
        if (i >= n) throw new SearchSyntaxError(what, start, `a closing ${c}`, 'the end of the input (unterminated quote)');
        const d = src[i]!;
        if (d === c) {
          if (src[i + 1] === c) {
            text += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        text += d;
        i++;
      }
      out.push({ kind: c === "'" ? 'string' : c === '"' ? 'dquote' : 'backtick', text, pos: start });
      continue;
    }
    const next = src[i + 1] ?? '';
    const startsNumber = /[0-9]/.test(c) || ((c === '-' || c === '+') && /[0-9.]/.test(next)) || (c === '.' && /[0-9]/.test(next));
    if (startsNumber) {
      const m = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(src.slice(i));
      if (m) {
        // A number directly followed by identifier characters is not a number (e.g. 1abc).
        const after = src[i + m[0].length];
        if (after === undefined || !IDENT_PART.test(after) || after === '-' || after === '.') {
          out.push({ kind: 'number', text: m[0], pos: start });
          i += m[0].length;
          continue;
        }
      }
    }
    if (IDENT_START.test(c)) {
      i++;
      while (i < n && IDENT_PART.test(src[i]!)) i++;
      out.push({ kind: 'ident', text: src.slice(start, i), pos: start });
      continue;
    }
    const two = src.slice(i, i + 2);
    if (two === '!=' || two === '>=' || two === '<=' || two === '<>' || two === '==') {
      out.push({ kind: 'op', text: two === '<>' ? '!=' : two === '==' ? '=' : two, pos: start });
      i += 2;
      continue;
    }
    if (c === '=' || c === '>' || c === '<') {
      out.push({ kind: 'op', text: c, pos: start });
      i++;
      continue;
    }
    if (c === '(') out.push({ kind: 'lparen', text: c, pos: start });
    else if (c === ')') out.push({ kind: 'rparen', text: c, pos: start });
    else if (c === ',') out.push({ kind: 'comma', text: c, pos: start });
    else if (c === '.') out.push({ kind: 'dot', text: c, pos: start });
    else throw new SearchSyntaxError(what, start, 'a comparison, a value or a parenthesis', `'${c}'`);
    i++;
  }
  out.push({ kind: 'eof', text: '', pos: n });
  return out;
}
