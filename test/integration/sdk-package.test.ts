import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Kiln } from '@kiln-mlops/sdk';
import { tempDir } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const ROOT = resolve('.');
const SDK = join(ROOT, 'packages', 'sdk');

/** Packages of the server a training script must never receive with the SDK. */
const SERVER_PACKAGES = ['fastify', 'kysely', 'better-sqlite3', 'pg', 'onnxruntime-node', '@aws-sdk/client-s3', 'commander', 'pino', 'papaparse', 'hyparquet', 'kiln-mlops'];

/**
 * The SDK as a user gets it: `npm pack` in packages/sdk, the tarball installed into an empty folder, a plain .mjs
 * script importing `@kiln-mlops/sdk` and logging a run. No network: the SDK's own dependencies (TypeBox, yaml) are
 * packed from the workspace's node_modules and installed beside it with --offline.
 */
describe('the SDK package, packed and installed into an empty folder', () => {
  let ts: TestServer;
  let app: string;
  let packs: string;
  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
    packs = tempDir('kiln-sdk-pack-');
    app = join(packs, 'app');
    mkdirSync(app);
    // The SDK is built (npm run build builds it first): pack it as it is, without running its prepack build again.
    const npmEnv = { ...process.env, npm_config_loglevel: 'error', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
    await run(npm, ['pack', '--ignore-scripts', '--pack-destination', packs], { cwd: SDK, env: npmEnv });
    const deps = Object.keys((JSON.parse(readFileSync(join(SDK, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies);
    await run(npm, ['pack', '--ignore-scripts', '--pack-destination', packs, ...deps.map((d) => join(ROOT, 'node_modules', d))], { cwd: packs, env: npmEnv });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'train', private: true, type: 'module' }));
    const tarballs = readdirSync(packs).filter((f) => f.endsWith('.tgz')).map((f) => join('..', f));
    await run(npm, ['install', '--offline', '--ignore-scripts', '--no-package-lock', ...tarballs], { cwd: app, env: npmEnv });
  });
  after(async () => {
    await ts?.stop();
  });

  it('installs the SDK and its two small dependencies, no server package', () => {
    assert.ok(existsSync(join(app, 'node_modules', '@kiln-mlops', 'sdk', 'dist', 'index.js')));
    const installed = readdirSync(join(app, 'node_modules')).flatMap((d) => (d.startsWith('@') ? readdirSync(join(app, 'node_modules', d)).map((s) => `${d}/${s}`) : [d])).filter((d) => !d.startsWith('.'));
    assert.deepEqual(installed.sort(), ['@kiln-mlops/sdk', '@sinclair/typebox', 'yaml']);
    for (const p of SERVER_PACKAGES) assert.equal(existsSync(join(app, 'node_modules', p)), false, p);
    const files = readdirSync(join(app, 'node_modules', '@kiln-mlops', 'sdk', 'dist'), { recursive: true }).map(String);
    assert.equal(files.some((f) => f.endsWith('.test.js')), false, 'no tests in the tarball');
  });

  it('logs a run from a plain .mjs script that imports @kiln-mlops/sdk', async () => {
    writeFileSync(
      join(app, 'train.mjs'),
      `import { Kiln } from '@kiln-mlops/sdk';
const kiln = new Kiln();
const id = await kiln.withRun({ experiment: 'packed-sdk', params: { lr: 0.01 } }, async (run) => {
  for (let step = 0; step < 10; step++) run.logMetric('loss', 1 / (step + 1), step);
  run.setTag('team', 'vision');
  return run.id;
});
console.log(id);
`,
    );
    const { stdout, stderr } = await run(process.execPath, ['train.mjs'], { cwd: app, env: { ...process.env, KILN_TRACKING_URI: ts.url } });
    const runId = stdout.trim();
    assert.match(runId, /^[0-9a-f]{32}$/, stderr);
    const logged = await new Kiln({ trackingUri: ts.url }).client.getRun(runId);
    assert.equal(logged.info.status, 'FINISHED');
    assert.deepEqual(logged.data.params, [{ key: 'lr', value: '0.01' }]);
    assert.equal(logged.data.tags.find((t) => t.key === 'team')?.value, 'vision');
    assert.equal((await new Kiln({ trackingUri: ts.url }).client.getMetricHistory({ runId, key: 'loss' })).metrics.length, 10);
  });

  it('typechecks a TypeScript script against the installed declarations alone', async () => {
    writeFileSync(
      join(app, 'train.ts'),
      `import { Kiln, type Run, type ModelVersion, type DatasetVersionDetail } from '@kiln-mlops/sdk';
const kiln = new Kiln();
const run: Run = await kiln.client.getRun('x');
const versions: ModelVersion[] = (await kiln.client.registry.listVersions('m')).items.slice();
const dataset: DatasetVersionDetail = await kiln.client.data.get('weather@v1');
export const summary: string = run.info.status + versions.length + dataset.version;
`,
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, typeRoots: [join(ROOT, 'node_modules', '@types')], types: ['node'] },
        files: ['train.ts'],
      }),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: app }).catch((e: { stdout: string; stderr: string }) => e);
    assert.equal(`${result.stdout}${result.stderr}`.trim(), '', 'tsc reports nothing');
    // Every path a declaration names stays inside the package.
    const dts = readdirSync(join(app, 'node_modules', '@kiln-mlops', 'sdk', 'dist'), { recursive: true }).map(String).filter((f) => f.endsWith('.d.ts'));
    for (const f of dts) {
      const text = readFileSync(join(app, 'node_modules', '@kiln-mlops', 'sdk', 'dist', f), 'utf8');
      assert.doesNotMatch(text, /from ['"](\.\.\/){2,}|import\(['"](\.\.\/){2,}/, f);
    }
  });
});
