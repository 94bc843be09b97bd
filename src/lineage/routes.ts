import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ErrorBody } from '../platform/http/schemas.js';
import type { LineageService } from './service.js';
import { MAX_DEPTH } from './service.js';

export interface LineageRouteDeps {
  readonly lineage: LineageService;
}

const Node = Type.Object(
  {
    id: Type.String({ description: 'models:/<name>/<version>, runs:/<run id>, datasets:/<name>/<version> or dataset-digest:<digest>' }),
    kind: Type.Union([Type.Literal('dataset_version'), Type.Literal('external_dataset'), Type.Literal('run'), Type.Literal('model_version')]),
    label: Type.String(),
    attributes: Type.Record(Type.String(), Type.Unknown()),
  },
  { $id: 'LineageNode' },
);
const Edge = Type.Object(
  {
    from: Type.String(),
    to: Type.String(),
    relation: Type.Union([Type.Literal('used-by'), Type.Literal('parent-of'), Type.Literal('registered-from')]),
    attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { $id: 'LineageEdge' },
);
const Graph = Type.Object(
  { root: Type.String(), direction: Type.String(), depth: Type.Integer(), nodes: Type.Array(Node), edges: Type.Array(Edge), truncated: Type.Boolean() },
  { $id: 'LineageGraph' },
);

/** The lineage graph under /api/v1. */
export const lineageRoutes: FastifyPluginAsync<LineageRouteDeps> = async (root, deps) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/lineage',
    {
      schema: {
        tags: ['lineage'],
        summary: 'The lineage graph around a node: dataset versions → runs → model versions (up = where it came from, down = what it fed)',
        querystring: Type.Object({
          node: Type.String({ description: 'models:/weather/3, models:/weather@champion, runs:/<run id>, datasets:/weather/2' }),
          direction: Type.Optional(Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('both')], { default: 'up' })),
          depth: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DEPTH, default: 3 })),
        }),
        response: { 200: Graph, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const g = await deps.lineage.graph(req.query.node, { direction: req.query.direction, depth: req.query.depth });
      return { ...g, nodes: [...g.nodes], edges: [...g.edges] };
    },
  );
};
