import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorBody } from '../platform/http/schemas.js';
import { from, rule } from '../platform/auth/rules.js';
import { LineageDirection, LineageGraph } from './schemas.js';
import type { LineageService } from './service.js';
import { MAX_DEPTH } from './service.js';

export interface LineageRouteDeps {
  readonly lineage: LineageService;
}

/** The lineage graph under /api/v1. */
export const lineageRoutes: FastifyPluginAsync<LineageRouteDeps> = async (root, deps) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/lineage',
    {
      // The graph starts from the node named (a run, a model version or a dataset version: its project's viewers
      // may ask) and crosses projects: the nodes the caller may not read are left out, with their edges.
      config: { permission: rule.read('lineage-node', from.query('node')) },
      schema: {
        tags: ['lineage'],
        summary: 'The lineage graph around a node: dataset versions → runs → model versions (up = where it came from, down = what it fed)',
        querystring: Type.Object({
          node: Type.String({ description: 'models:/weather/3, models:/weather@champion, runs:/<run id>, datasets:/weather/2' }),
          direction: Type.Optional(Type.Union(LineageDirection.anyOf, { default: 'up' })),
          depth: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DEPTH, default: 3 })),
        }),
        response: { 200: LineageGraph, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => deps.lineage.graph(req.query.node, { direction: req.query.direction, depth: req.query.depth }),
  );
};
