/** Lineage graph logic without the DOM: node ids to pages, dagre layout (left to right), fit and zoom transforms. */
import { Graph, layout } from '@dagrejs/dagre';
import type { LineageDirection, LineageEdge, LineageNode, LineageNodeKind } from '../../../src/lineage/schemas.js';

export type { LineageDirection, LineageEdge, LineageGraph, LineageNode, LineageNodeKind } from '../../../src/lineage/schemas.js';

export interface Point {
  x: number;
  y: number;
}

/** A node as a box: x, y is its top-left corner. */
export interface PlacedNode extends LineageNode {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge extends LineageEdge {
  points: Point[];
  /** Where the relation label goes (its centre). */
  label: Point;
}

export interface LineageLayout {
  nodes: PlacedNode[];
  edges: PlacedEdge[];
  width: number;
  height: number;
}

export const NODE_HEIGHT = 46;
const CHAR_WIDTH = 7.2;
const MIN_WIDTH = 160;
const MAX_WIDTH = 280;

/** Box width for a label (an estimate: monospace-ish glyph width, clamped). */
export function nodeWidth(label: string): number {
  return Math.round(Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, label.length * CHAR_WIDTH + 28)));
}

/** Long labels are cut to fit the widest box. */
export function truncateLabel(label: string, max = Math.floor((MAX_WIDTH - 28) / CHAR_WIDTH)): string {
  return label.length <= max ? label : `${label.slice(0, max - 1)}…`;
}

export const KIND_LABEL: Record<LineageNodeKind, string> = {
  dataset_version: 'dataset version',
  external_dataset: 'external dataset',
  run: 'run',
  model_version: 'model version',
};

/** The text on an edge: its relation, with the dataset input's context when there is one. */
export function edgeLabel(e: LineageEdge): string {
  const ctx = e.attributes?.context;
  return typeof ctx === 'string' && ctx ? `${e.relation} [${ctx}]` : e.relation;
}

/** Lays the graph out left to right with dagre; edges to nodes that are not in the graph are dropped. */
export function layoutLineage(nodes: readonly LineageNode[], edges: readonly LineageEdge[]): LineageLayout {
  const g = new Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: 28, ranksep: 70, edgesep: 12, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: nodeWidth(n.label), height: NODE_HEIGHT });
  const ids = new Set(nodes.map((n) => n.id));
  const kept = edges.filter((e) => ids.has(e.from) && ids.has(e.to) && e.from !== e.to);
  kept.forEach((e, i) => g.setEdge(e.from, e.to, { width: edgeLabel(e).length * 6.5 + 8, height: 14, labelpos: 'c' }, `e${i}`));
  layout(g);
  const placed = nodes.map((n) => {
    const p = g.node(n.id) as { x: number; y: number; width: number; height: number };
    return { ...n, x: p.x - p.width / 2, y: p.y - p.height / 2, width: p.width, height: p.height };
  });
  const placedEdges = kept.map((e, i) => {
    const p = g.edge({ v: e.from, w: e.to, name: `e${i}` }) as { points?: Point[]; x?: number; y?: number };
    const points = (p.points ?? []).map((q) => ({ x: q.x, y: q.y }));
    const mid = points[Math.floor(points.length / 2)] ?? { x: 0, y: 0 };
    return { ...e, points, label: { x: p.x ?? mid.x, y: p.y ?? mid.y } };
  });
  const gl = g.graph() as { width?: number; height?: number };
  return { nodes: placed, edges: placedEdges, width: gl.width ?? 0, height: gl.height ?? 0 };
}

/** An SVG path through the points: straight ends, smoothed corners (quadratic curves through midpoints). */
export function edgePath(points: readonly Point[]): string {
  if (points.length === 0) return '';
  const f = (n: number) => Math.round(n * 10) / 10;
  const first = points[0]!;
  if (points.length < 3) return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${f(p.x)},${f(p.y)}`).join(' ');
  let d = `M${f(first.x)},${f(first.y)}`;
  for (let i = 1; i < points.length - 1; i++) {
    const p = points[i]!;
    const n = points[i + 1]!;
    const mx = i === points.length - 2 ? n.x : (p.x + n.x) / 2;
    const my = i === points.length - 2 ? n.y : (p.y + n.y) / 2;
    d += ` Q${f(p.x)},${f(p.y)} ${f(mx)},${f(my)}`;
  }
  return d;
}

export interface Transform {
  x: number;
  y: number;
  k: number;
}

/** The transform that fits a w×h graph into a viewW×viewH view with padding, never zooming in past 1.5. */
export function fitTransform(w: number, h: number, viewW: number, viewH: number, padding = 24): Transform {
  if (w <= 0 || h <= 0 || viewW <= 0 || viewH <= 0) return { x: 0, y: 0, k: 1 };
  const k = Math.min(1.5, (viewW - 2 * padding) / w, (viewH - 2 * padding) / h);
  const kk = Math.max(0.05, k);
  return { x: (viewW - w * kk) / 2, y: (viewH - h * kk) / 2, k: kk };
}

/** Zooms by `factor` keeping the view point (px, py) fixed; the scale stays within [min, max]. */
export function zoomAt(t: Transform, factor: number, px: number, py: number, min = 0.1, max = 4): Transform {
  const k = Math.min(max, Math.max(min, t.k * factor));
  const r = k / t.k;
  return { k, x: px - (px - t.x) * r, y: py - (py - t.y) * r };
}

export type ParsedNodeId =
  | { kind: 'model_version'; name: string; version: string }
  | { kind: 'dataset_version'; name: string; version: string }
  | { kind: 'run'; runId: string }
  | { kind: 'external_dataset'; digest: string };

/** models:/<name>/<version>, datasets:/<name>/<version>, runs:/<id>, dataset-digest:<digest>; null for anything else. */
export function parseNodeId(id: string): ParsedNodeId | null {
  const versioned = (prefix: string) => {
    const rest = id.slice(prefix.length);
    const i = rest.lastIndexOf('/');
    return i > 0 && i < rest.length - 1 ? { name: rest.slice(0, i), version: rest.slice(i + 1) } : null;
  };
  if (id.startsWith('models:/')) {
    const v = versioned('models:/');
    return v && { kind: 'model_version', ...v };
  }
  if (id.startsWith('datasets:/')) {
    const v = versioned('datasets:/');
    return v && { kind: 'dataset_version', ...v };
  }
  if (id.startsWith('runs:/') && id.length > 6) return { kind: 'run', runId: id.slice(6).replace(/\/.*$/, '') };
  if (id.startsWith('dataset-digest:') && id.length > 15) return { kind: 'external_dataset', digest: id.slice(15) };
  return null;
}

/** The UI page of a node (null when it has none, e.g. a dataset known only by digest). */
export function nodeHref(id: string): string | null {
  const p = parseNodeId(id);
  const enc = encodeURIComponent;
  switch (p?.kind) {
    case 'model_version':
      return `/models/${enc(p.name)}/versions/${enc(p.version)}`;
    case 'dataset_version':
      return `/datasets/${enc(p.name)}/versions/${enc(p.version)}`;
    case 'run':
      return `/runs/${enc(p.runId)}`;
    default:
      return null;
  }
}

/** The lineage page rooted at a node. */
export function lineageHref(node: string, direction: LineageDirection = 'both', depth = 3): string {
  const q = new URLSearchParams({ node, direction, depth: String(depth) });
  return `/lineage?${q.toString()}`;
}
