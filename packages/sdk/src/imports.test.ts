import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The SDK runs in training scripts: it must not drag in the server (onnxruntime, the profiler's CSV and Parquet
 * readers, database drivers). This walks the compiled SDK's import graph from its entry points, following relative
 * imports through the compiled files (JavaScript and declarations), and checks every package it reaches and that no
 * file lies outside the package.
 */

const ALLOWED_PACKAGES = new Set([
  // the API's schemas, whose static types the clients return
  '@sinclair/typebox',
  // MLmodel, the file an MLflow model folder is described by, is YAML
  'yaml',
]);

const IMPORT = /\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function importGraph(...entries: string[]): { files: string[]; packages: Map<string, string> } {
  const seen = new Set<string>();
  const packages = new Map<string, string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      // A declaration file names its neighbours by their .js path.
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), file.endsWith('.d.ts') ? spec.replace(/\.js$/, '.d.ts') : spec));
      else if (!packages.has(spec)) packages.set(spec, file);
    }
  }
  return { files: [...seen], packages };
}

const dist = dirname(fileURLToPath(import.meta.url));
const ENTRIES = ['index', 'client', 'http'];

test('the SDK imports only node builtins, TypeBox and yaml, and nothing outside its package', () => {
  for (const ext of ['.js', '.d.ts']) {
    const { files, packages } = importGraph(...ENTRIES.map((e) => resolve(dist, e + ext)));
    const reached = files.map((f) => relative(dist, f).split('\\').join('/'));
    assert.ok(reached.includes(`run${ext}`) && reached.includes(`data${ext}`) && reached.includes(`registry${ext}`), reached.join(', '));
    const outside = reached.filter((f) => f.startsWith('../'));
    assert.deepEqual(outside, [], `${ext} files outside the package`);
    const foreign = [...packages].filter(([spec]) => !spec.startsWith('node:') && !ALLOWED_PACKAGES.has(spec)).map(([spec, file]) => `${spec} (from ${relative(dist, file)})`);
    assert.deepEqual(foreign, [], 'packages the SDK must not load');
  }
});

test('the import walk sees static, re-exported and dynamic imports', () => {
  const sample = "import a from 'x';\nexport { b } from \"y\";\nimport {\n  c,\n  d,\n} from './z.js';\nimport 'side';\nawait import('dyn');\nexport * from './all.js';\nexport type * from './types.js';";
  assert.deepEqual([...sample.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]), ['x', 'y', './z.js', 'side', 'dyn', './all.js', './types.js']);
});
