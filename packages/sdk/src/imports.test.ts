import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The SDK runs in training scripts: it must not drag in the server (onnxruntime, the profiler's CSV and Parquet
 * readers, database drivers). This walks the compiled SDK's import graph from its entry point, following relative
 * imports through the compiled files, and checks every package it reaches.
 */

const ALLOWED_PACKAGES = new Set([
  // the API's schemas, whose static types the clients return
  '@sinclair/typebox',
  // MLmodel, the file an MLflow model folder is described by, is YAML
  'yaml',
]);

/** Files under src/platform the SDK may use, each without dependencies. */
const ALLOWED_PLATFORM = new Map([
  ['platform/errors.js', 'the error catalog, no imports: dataset references and MLmodel parsing raise KilnError'],
  ['platform/tags.js', 'key/value maps as the API carries them (tags, params), no imports'],
  ['platform/http/schemas.js', 'the API shapes every capability shares (errors, key/value maps, file listings): TypeBox only'],
]);

/** Server code the SDK must not reach even though it imports no package: it would load the server's workers. */
const FORBIDDEN = [/^registry\/packaging\/onnx-/, /^data\/profile\//, /^data\/profiler/];

const IMPORT = /\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

function importGraph(entry: string): { files: string[]; packages: Map<string, string> } {
  const seen = new Set<string>();
  const packages = new Map<string, string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec));
      else if (!packages.has(spec)) packages.set(spec, file);
    }
  }
  return { files: [...seen], packages };
}

test('the SDK imports only node builtins, TypeBox and yaml, and no server code', () => {
  const srcRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const { files, packages } = importGraph(resolve(srcRoot, 'sdk', 'index.js'));
  const reached = files.map((f) => relative(srcRoot, f).split('\\').join('/'));
  assert.ok(reached.includes('sdk/run.js') && reached.includes('sdk/data.js') && reached.includes('sdk/registry.js'), reached.join(', '));

  const foreign = [...packages].filter(([spec]) => !spec.startsWith('node:') && !ALLOWED_PACKAGES.has(spec)).map(([spec, file]) => `${spec} (from ${relative(srcRoot, file)})`);
  assert.deepEqual(foreign, [], 'packages the SDK must not load');
  const platform = reached.filter((f) => f.startsWith('platform/') && !ALLOWED_PLATFORM.has(f));
  assert.deepEqual(platform, [], 'platform code the SDK must not load');
  const server = reached.filter((f) => FORBIDDEN.some((re) => re.test(f)));
  assert.deepEqual(server, [], 'server code the SDK must not load');
});

test('the import walk sees static, re-exported and dynamic imports', () => {
  const srcRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  // The server's entry reaches what the SDK must not: the walk would notice if the SDK did.
  const { files, packages } = importGraph(resolve(srcRoot, 'server.js'));
  assert.ok(packages.has('fastify') && packages.has('papaparse') && packages.has('hyparquet'), [...packages.keys()].join(', '));
  assert.ok(files.some((f) => f.endsWith('onnx-inspect.js')));
  const sample = "import a from 'x';\nexport { b } from \"y\";\nimport {\n  c,\n  d,\n} from './z.js';\nimport 'side';\nawait import('dyn');\nexport * from './all.js';";
  assert.deepEqual([...sample.matchAll(IMPORT)].map((m) => m[1] ?? m[2] ?? m[3]), ['x', 'y', './z.js', 'side', 'dyn', './all.js']);
});
