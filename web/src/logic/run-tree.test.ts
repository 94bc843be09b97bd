import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { treeRows, type TreeRun } from './run-tree.js';

const run = (id: string, parent?: string): TreeRun => ({ run_id: id, tags: parent ? { 'mlflow.parentRunId': parent } : {} });
const show = (runs: TreeRun[], open: string[]) => treeRows(runs, new Set(open)).map((r) => `${'  '.repeat(r.depth)}${runs[r.i]!.run_id}${r.children ? `(${r.children})` : ''}`);

describe('nested runs', () => {
  // page order is the sort order: children may come before or after their parent
  const page = [run('c2', 'p'), run('p'), run('x'), run('c1', 'p'), run('g', 'c1'), run('orphan', 'elsewhere')];

  it('nests children under a parent on the page, collapsed by default, with a count', () => {
    assert.deepEqual(show(page, []), ['p(2)', 'x', 'orphan']);
  });

  it('shows children in page order when expanded, and their children when those are expanded', () => {
    assert.deepEqual(show(page, ['p']), ['p(2)', '  c2', '  c1(1)', 'x', 'orphan']);
    assert.deepEqual(show(page, ['p', 'c1']), ['p(2)', '  c2', '  c1(1)', '    g', 'x', 'orphan']);
    assert.deepEqual(show(page, ['c1']), ['p(2)', 'x', 'orphan'], 'a child of a collapsed parent stays hidden');
  });

  it('keeps runs whose parent is themselves or a cycle at the top level', () => {
    assert.deepEqual(show([run('a', 'a'), run('b', 'c'), run('c', 'b')], []), ['a', 'b', 'c']);
  });
});
