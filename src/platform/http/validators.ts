import type { FastifyInstance } from 'fastify';
import { Ajv, type Options } from 'ajv';

/**
 * Query strings and path parameters arrive as text, so they are coerced to the schema's types;
 * JSON bodies are not coerced, so `"limit": true` is a 400 rather than silently 1.
 */
export function installValidators(app: FastifyInstance): void {
  const common: Options = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false, allowUnionTypes: true };
  const coercing = new Ajv({ ...common, coerceTypes: 'array' });
  const strictBody = new Ajv({ ...common, coerceTypes: false });
  for (const ajv of [coercing, strictBody]) ajv.addKeyword({ keyword: 'x-kiln', schemaType: 'object' });
  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? strictBody : coercing;
    return ajv.compile(schema);
  });
}
