import { Ajv, type Options } from 'ajv';
import type { FastifyServerOptions } from 'fastify';

type SchemaController = NonNullable<FastifyServerOptions['schemaController']>;

/**
 * Query strings and path parameters arrive as text, so they are coerced to the schema's types;
 * JSON bodies are not coerced, so `"start_time": true` is a 400 rather than silently 1.
 * Built through the schema controller's factory so that plugins adding shared schemas keep this behaviour.
 */
export const validatorController = {
  compilersFactory: {
    buildValidator(externalSchemas: unknown) {
      const common: Options = { allErrors: false, useDefaults: true, removeAdditional: false, strict: false, allowUnionTypes: true };
      const coercing = new Ajv({ ...common, coerceTypes: 'array' });
      const strictBody = new Ajv({ ...common, coerceTypes: false });
      for (const ajv of [coercing, strictBody]) {
        for (const schema of Object.values((externalSchemas ?? {}) as Record<string, object>)) ajv.addSchema(schema);
      }
      return ({ schema, httpPart }: { schema: object; httpPart?: string }) => (httpPart === 'body' ? strictBody : coercing).compile(schema);
    },
  },
} as unknown as SchemaController;
