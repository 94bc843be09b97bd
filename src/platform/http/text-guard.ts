import type { FastifyInstance } from 'fastify';
import { invalid } from '../errors.js';
import { escapeText, isIllFormedText, textProblem } from '../validation.js';

/** Where a value of a request sits, as the error names it. */
type Part = 'body' | 'querystring' | 'params';

const LABEL: Record<Part, string> = { body: 'field', querystring: 'query parameter', params: 'path parameter' };

function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

const child = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

/**
 * The first string (value or object key) in a parsed request part that breaks the text rule (NUL, an unpaired
 * surrogate), with its path such as `tags[0].key`. Walks iteratively, so deeply nested JSON cannot overflow the stack.
 * Only plain JSON values are walked: a raw body (a stream, a Buffer) is not text and is left alone.
 */
export function findIllFormedText(value: unknown): { field: string; problem: string } | undefined {
  return hasIllFormedText(value) ? locate(value) : undefined;
}

/** The fast pass: whether any string breaks the rule, without building paths (almost every request is clean). */
function hasIllFormedText(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (isIllFormedText(v)) return true;
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const e: unknown = v[i];
        if (typeof e === 'string') {
          if (isIllFormedText(e)) return true;
        } else if (typeof e === 'object' && e !== null) stack.push(e);
      }
    } else if (typeof v === 'object' && v !== null && isPlain(v)) {
      for (const key in v) {
        if (isIllFormedText(key)) return true;
        const e = (v as Record<string, unknown>)[key];
        if (typeof e === 'string') {
          if (isIllFormedText(e)) return true;
        } else if (typeof e === 'object' && e !== null) stack.push(e);
      }
    }
  }
  return false;
}

/** The slow pass, once a problem is known to exist: its path. */
function locate(value: unknown): { field: string; problem: string } | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [v, path] = stack.pop()!;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) return { field: path, problem };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${path}[${i}]`]);
    } else if (typeof v === 'object' && v !== null && isPlain(v)) {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i]!;
        const problem = textProblem(key);
        if (problem) return { field: child(path, escapeText(key)), problem: `a key ${problem.replace(/^text /, '')}` };
        stack.push([(v as Record<string, unknown>)[key], child(path, key)]);
      }
    }
  }
  return undefined;
}

function check(part: Part, value: unknown): void {
  const bad = findIllFormedText(value);
  if (!bad) return;
  const where = bad.field === '' ? (part === 'body' ? 'the request body' : `the ${LABEL[part]}s`) : `${LABEL[part]} '${bad.field}'`;
  throw invalid(`Invalid value for ${where}: ${bad.problem}.`, { field: bad.field, location: part });
}

/**
 * One check of every request's text, before any route sees it: the parsed JSON body (values and keys), the query
 * string and the path parameters. NUL and unpaired surrogates are refused with INVALID_PARAMETER_VALUE naming the
 * field, whichever backend would have stored them. Raw uploads (artifacts, dataset blobs) arrive as streams and are
 * not scanned.
 */
export function installTextGuard(app: FastifyInstance): void {
  app.addHook('preValidation', async (req) => {
    // The query and params parsers build objects of their own classes: their own properties are what counts.
    check('params', { ...(req.params as object) });
    check('querystring', { ...(req.query as object) });
    check('body', req.body);
  });
}
