/**
 * PostgreSQL array literals built in one pass, for statements that take a whole column as one parameter
 * (`unnest($1::float8[], …)`). The driver's own conversion quotes and regex-escapes every element, which on a
 * 1000-point batch costs more than the rest of the request's preparation.
 */

/** `{1.5,-2,NULL,Infinity}`: numbers as JavaScript prints them (which PostgreSQL reads back exactly), null as NULL. */
export function numberArrayLiteral(values: readonly (number | null)[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i];
    out += v === null || v === undefined ? 'NULL' : String(v);
  }
  return out + '}';
}

const NEEDS_ESCAPE = /[\\"]/;

/** `{"a","b \"c\""}`: every element double-quoted, with backslashes and double quotes escaped. */
export function textArrayLiteral(values: readonly string[]): string {
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ',';
    const v = values[i]!;
    out += NEEDS_ESCAPE.test(v) ? `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : `"${v}"`;
  }
  return out + '}';
}
