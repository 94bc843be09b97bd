import { Type, type Static } from '@sinclair/typebox';

/** The lineage graph as the native API sends it; the service builds these shapes directly. */

export const LineageNodeKind = Type.Union([Type.Literal('dataset_version'), Type.Literal('external_dataset'), Type.Literal('run'), Type.Literal('model_version')]);
export type LineageNodeKind = Static<typeof LineageNodeKind>;
export const LineageRelation = Type.Union([Type.Literal('used-by'), Type.Literal('parent-of'), Type.Literal('registered-from')]);
export type LineageRelation = Static<typeof LineageRelation>;
export const LineageDirection = Type.Union([Type.Literal('up'), Type.Literal('down'), Type.Literal('both')]);
export type LineageDirection = Static<typeof LineageDirection>;

export const LineageNode = Type.Object(
  {
    id: Type.String({ description: 'models:/<name>/<version>, runs:/<run id>, datasets:/<name>/<version> or dataset-digest:<digest>' }),
    kind: LineageNodeKind,
    label: Type.String(),
    attributes: Type.Record(Type.String(), Type.Unknown(), { description: 'what the node kind records: status, digest, rows, ...' }),
  },
  { $id: 'LineageNode' },
);
export type LineageNode = Static<typeof LineageNode>;

export const LineageEdge = Type.Object(
  {
    from: Type.String(),
    to: Type.String(),
    relation: LineageRelation,
    attributes: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'used-by: the context and the dataset name the run gave' })),
  },
  { $id: 'LineageEdge' },
);
export type LineageEdge = Static<typeof LineageEdge>;

export const LineageGraph = Type.Object(
  {
    root: Type.String(),
    direction: LineageDirection,
    depth: Type.Integer(),
    nodes: Type.Array(LineageNode),
    edges: Type.Array(LineageEdge),
    truncated: Type.Boolean({ description: 'the walk stopped at the node limit' }),
  },
  { $id: 'LineageGraph' },
);
export type LineageGraph = Static<typeof LineageGraph>;
