import { test } from 'node:test';
import assert from 'node:assert/strict';
import { edgeLabel, edgePath, fitTransform, layoutLineage, lineageHref, nodeHref, nodeWidth, parseNodeId, truncateLabel, zoomAt, type LineageEdge, type LineageNode } from './lineage-layout.js';

const nodes: LineageNode[] = [
  { id: 'datasets:/weather/2', kind: 'dataset_version', label: 'weather@v2', attributes: { name: 'weather', version: 2 } },
  { id: 'runs:/abc', kind: 'run', label: 'bright-owl', attributes: { run_id: 'abc' } },
  { id: 'models:/rain/3', kind: 'model_version', label: 'rain v3', attributes: { name: 'rain', version: 3 } },
];
const edges: LineageEdge[] = [
  { from: 'datasets:/weather/2', to: 'runs:/abc', relation: 'used-by' },
  { from: 'runs:/abc', to: 'models:/rain/3', relation: 'registered-from' },
  { from: 'runs:/abc', to: 'runs:/missing', relation: 'parent-of' },
];

test('lays the graph out left to right: dataset, then run, then model', () => {
  const l = layoutLineage(nodes, edges);
  assert.equal(l.nodes.length, 3);
  const [d, r, m] = l.nodes;
  assert.ok(d!.x + d!.width < r!.x, 'dataset left of run');
  assert.ok(r!.x + r!.width < m!.x, 'run left of model');
  for (const n of l.nodes) {
    assert.ok(n.x >= 0 && n.y >= 0 && n.x + n.width <= l.width + 0.01 && n.y + n.height <= l.height + 0.01, `${n.id} inside the graph`);
  }
  // the edge to a node outside the graph is dropped; the others have points and a label position
  assert.equal(l.edges.length, 2);
  for (const e of l.edges) {
    assert.ok(e.points.length >= 2);
    assert.ok(Number.isFinite(e.label.x) && Number.isFinite(e.label.y));
  }
  assert.match(edgePath(l.edges[0]!.points), /^M[\d.]+,[\d.]+/);
});

test('an empty graph and a single node lay out', () => {
  assert.deepEqual(layoutLineage([], []).nodes, []);
  const one = layoutLineage([nodes[0]!], []);
  assert.equal(one.nodes.length, 1);
  assert.ok(one.width >= one.nodes[0]!.width);
});

test('node ids map to pages', () => {
  assert.equal(nodeHref('models:/rain/3'), '/models/rain/versions/3');
  assert.equal(nodeHref('models:/team/rain model/12'), '/models/team%2Frain%20model/versions/12');
  assert.equal(nodeHref('datasets:/weather/2'), '/datasets/weather/versions/2');
  assert.equal(nodeHref('runs:/abc123'), '/runs/abc123');
  assert.equal(nodeHref('dataset-digest:abcd'), null);
  assert.equal(nodeHref('nonsense'), null);
  assert.deepEqual(parseNodeId('dataset-digest:abcd'), { kind: 'external_dataset', digest: 'abcd' });
  assert.equal(parseNodeId('models:/rain'), null);
  assert.equal(lineageHref('models:/rain/3', 'up', 2), '/lineage?node=models%3A%2Frain%2F3&direction=up&depth=2');
});

test('fit and zoom transforms', () => {
  const t = fitTransform(1000, 500, 548, 300, 24);
  assert.equal(t.k, 0.5);
  assert.equal(t.x, 24);
  assert.equal(t.y, 25);
  assert.equal(fitTransform(10, 10, 500, 500).k, 1.5, 'small graphs are not blown up');
  const z = zoomAt({ x: 0, y: 0, k: 1 }, 2, 100, 50);
  assert.deepEqual(z, { k: 2, x: -100, y: -50 });
  assert.equal(zoomAt({ x: 0, y: 0, k: 4 }, 2, 0, 0).k, 4, 'clamped');
});

test('labels and widths', () => {
  assert.equal(nodeWidth('x'), 160);
  assert.equal(edgeLabel({ from: 'a', to: 'b', relation: 'used-by', attributes: { context: 'training' } }), 'used-by [training]');
  assert.equal(edgeLabel({ from: 'a', to: 'b', relation: 'parent-of' }), 'parent-of');
  assert.equal(nodeWidth('x'.repeat(200)), 280);
  assert.equal(truncateLabel('short'), 'short');
  assert.ok(truncateLabel('y'.repeat(100)).endsWith('…'));
});
