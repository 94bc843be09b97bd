import { KilnError } from '../errors.js';

export type TokenKind = 'ident' | 'string' | 'dquote' | 'backtick' | 'number' | 'op' | 'lparen' | 'rparen' | 'comma' | 'dot' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Raw text for identifiers, numbers and operators; the unquoted content for quoted tokens. */
  readonly text: string;
  /** 0-based character offset of the token's first character. */
  readonly pos: number;
}

/** Longest filter or order_by clause accepted, in characters. */
export const MAX_FILTER_LENGTH = 64 * 1024;

/** `Invalid <what> at position <pos>: expected <expected> but found <found>`, with the position and expectation in details. */
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
/** Unquoted identifiers: letters, digits, `_ . / : -` (so `metrics.train/loss` and `tags.mlflow.runName` need no quotes). */
const IDENT_PART = /[\p{L}\p{N}\p{M}_./:-]/u;
const NUMBER = /[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/y;
const SPACE = /\s/;
const DIGIT = /[0-9]/;

const QUOTES: Record<string, TokenKind> = { "'": 'string', '"': 'dquote', '`': 'backtick' };
const PUNCT: Record<string, TokenKind> = { '(': 'lparen', ')': 'rparen', ',': 'comma', '.': 'dot' };
/** Comparison operators, longest first; `<>` and `==` are accepted as spellings of `!=` and `=`. */
const OPERATORS: readonly [string, string][] = [
  ['!=', '!='],
  ['>=', '>='],
  ['<=', '<='],
  ['<>', '!='],
  ['==', '='],
  ['=', '='],
  ['>', '>'],
  ['<', '<'],
];

/**
 * Splits a filter or order_by clause into tokens. Quoted strings and identifiers escape their quote by doubling
 * it (`'it''s'`). `what` names the input in messages ("filter", "order_by clause").
 */
export function tokenize(src: string, what: string): Token[] {
  if (src.length > MAX_FILTER_LENGTH) throw new SearchSyntaxError(what, MAX_FILTER_LENGTH, `at most ${MAX_FILTER_LENGTH} characters`, `${src.length} characters`);
  const out: Token[] = [];
  const n = src.length;
  let i = 0;
  while (i < n) {
    const c = src[i]!;
    const start = i;
    if (SPACE.test(c)) {
      i++;
      continue;
    }
    const quoteKind = QUOTES[c];
    if (quoteKind) {
      let text = '';
      i++;
      for (;;) {
        if (i >= n) throw new SearchSyntaxError(what, start, `a closing ${c} for the quote opened here`, 'the end of the input (unterminated string)');
        const d = src[i]!;
        if (d === c) {
          if (src[i + 1] !== c) break;
          i++; // a doubled quote stands for one quote character
        }
        text += d;
        i++;
      }
      i++;
      out.push({ kind: quoteKind, text, pos: start });
      continue;
    }
    const next = src[i + 1] ?? '';
    if (DIGIT.test(c) || ((c === '-' || c === '+') && (DIGIT.test(next) || next === '.')) || (c === '.' && DIGIT.test(next))) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(src);
      // A number directly followed by letters is not a number (`1abc`): that falls through to an error below.
      const after = m ? src[i + m[0].length] : undefined;
      if (m && (after === undefined || !IDENT_PART.test(after) || after === '-')) {
        out.push({ kind: 'number', text: m[0], pos: start });
        i += m[0].length;
        continue;
      }
    }
    if (IDENT_START.test(c)) {
      i++;
      while (i < n && IDENT_PART.test(src[i]!)) i++;
      out.push({ kind: 'ident', text: src.slice(start, i), pos: start });
      continue;
    }
    const op = OPERATORS.find(([spelling]) => src.startsWith(spelling, i));
    if (op) {
      out.push({ kind: 'op', text: op[1], pos: start });
      i += op[0].length;
      continue;
    }
    const punct = PUNCT[c];
    if (!punct) throw new SearchSyntaxError(what, start, 'an identifier, an operator, a value or a parenthesis', `'${c}'`);
    out.push({ kind: punct, text: c, pos: start });
    i++;
  }
  out.push({ kind: 'eof', text: '', pos: n });
  return out;
}
