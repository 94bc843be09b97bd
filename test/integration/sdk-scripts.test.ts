import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Kiln } from '@kiln-mlops/sdk';
import { STORE_BACKENDS, tempDir } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';

const exec = promisify(execFile);
const SDK_URL = pathToFileURL(resolve('packages/sdk/dist/index.js')).href;

/** Runs a training script in its own Node process, as a user would: what it prints, and how it exited. */
async function script(dir: string, body: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = join(dir, `script-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, `import { Kiln } from ${JSON.stringify(SDK_URL)};\n${body}`);
  try {
    const { stdout, stderr } = await exec(process.execPath, [file], { env, cwd: dir });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

for (const backend of STORE_BACKENDS) {
  describe(`SDK scripts on ${backend}`, () => {
    let ts: TestServer;
    let kiln: Kiln;
    let dir: string;
    before(async () => {
      ts = await startTestServer({ store: backend });
      kiln = new Kiln({ trackingUri: ts.url });
      dir = tempDir('kiln-scripts-');
    });
    after(async () => {
      await ts?.stop();
    });

    it('a write the server refuses, not awaited, fails the run and is thrown from withRun, never an unhandled rejection', async () => {
      const out = await script(
        dir,
        `const kiln = new Kiln();
let id;
try {
  await kiln.withRun({ experiment: 'refused-writes' }, async (run) => {
    id = run.id;
    run.logParam('lr', 0.1);
    run.logParam('lr', 0.2); // a param cannot change: the server refuses it
    run.logMetric('loss', 0.5, 1);
    run.setTag('after', 'yes');
  });
  console.log(JSON.stringify({ id, thrown: null }));
} catch (e) {
  console.log(JSON.stringify({ id, thrown: e.message, status: e.status }));
}
// end() reports the same way for a run started by hand.
const run = await kiln.startRun({ experiment: 'refused-writes' });
run.setTag('x'.repeat(300), 'a key longer than the server takes');
try {
  await run.end();
  console.log(JSON.stringify({ id: run.id, thrown: null }));
} catch (e) {
  console.log(JSON.stringify({ id: run.id, thrown: e.message, status: e.status }));
}
`,
        { ...process.env, KILN_TRACKING_URI: ts.url },
      );
      assert.equal(out.code, 0, out.stderr);
      assert.doesNotMatch(out.stderr, /unhandled/i);
      const [withRun, byHand] = out.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; thrown: string | null; status?: number });
      assert.ok(withRun && byHand, out.stdout);
      assert.match(withRun.thrown ?? '', /lr/, 'withRun throws the refusal');
      assert.equal(withRun.status, 400);
      const failed = await kiln.client.getRun(withRun.id);
      assert.equal(failed.info.status, 'FAILED');
      assert.deepEqual(failed.data.params, [{ key: 'lr', value: '0.1' }]);
      assert.equal(failed.data.metrics.find((m) => m.key === 'loss')?.value, 0.5, 'the other writes are stored');
      assert.equal(failed.data.tags.find((t) => t.key === 'after')?.value, 'yes');
      assert.ok(byHand.thrown, 'end() throws the refusal');
      assert.equal((await kiln.client.getRun(byHand.id)).info.status, 'FAILED');
    });

    it('names the OS account as the user when $USER, $LOGNAME and $KILN_USER are unset', async () => {
      const env: NodeJS.ProcessEnv = { ...process.env, KILN_TRACKING_URI: ts.url };
      for (const k of ['USER', 'LOGNAME', 'USERNAME', 'KILN_USER']) delete env[k];
      const out = await script(
        dir,
        `const kiln = new Kiln();
const id = await kiln.withRun({ experiment: 'who' }, (run) => run.id);
await kiln.client.registry.createModel('who-model-${backend}');
console.log(id);
`,
        env,
      );
      assert.equal(out.code, 0, out.stderr);
      const account = userInfo().username;
      const logged = await kiln.client.getRun(out.stdout.trim());
      assert.equal(logged.info.userId, account);
      assert.equal(logged.data.tags.find((t) => t.key === 'mlflow.user')?.value, account);
      const [created] = await kiln.client.registry.history(`who-model-${backend}`);
      assert.equal(created?.actor, account, 'registry histories name the account, not anonymous');
    });
  });
}
