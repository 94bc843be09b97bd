import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/platform/config.js';
import type { Capability, Platform } from '../../src/platform/capability.js';
import { MODULES } from '../../src/modules.js';
import { from, rule } from '../../src/platform/auth/rules.js';
import { createServer, type KilnServer } from '../../src/server.js';
import { freshStore, tempDir, type TestStore } from '../support/backends.js';
import { call } from '../support/server.js';

/**
 * A capability added as the module list's docs say: one module.ts-shaped value, one more entry in the list. The
 * server creates it after what it depends on, hands it those services, mounts its routes as their own plugin, starts
 * it after every route is registered, and closes it before the capabilities it depends on.
 */
describe('capability modules', () => {
  const calls: string[] = [];
  let store: TestStore;
  let dir: string;
  let server: KilnServer;

  // A capability outside the typed map of services (which only production capabilities extend), hence the cast.
  const notes = {
    name: 'notes',
    dependsOn: ['tracking', 'registry'],
    cli: { commands: ['notes'], load: async () => (program: Command) => void program.command('notes').description('Notes about experiments') },
    async create(platform: Platform, deps: object) {
      const d = deps as unknown as { tracking: { getExperiment(id: string): Promise<{ name: string }> }; registry: object };
      calls.push(`create (deps: ${Object.keys(deps).sort().join(', ')})`);
      return {
        service: { hello: async (id: string) => `hello ${(await d.tracking.getExperiment(id)).name}` } as never,
        routes: async (app: FastifyInstance) => {
          app.get('/notes/:id', { config: { permission: rule.read('experiment', from.params('id')) } }, async (req) => ({ note: `about ${(await d.tracking.getExperiment((req.params as { id: string }).id)).name}` }));
        },
        start: () => void calls.push(`start (store ${platform.store.adapter.engine})`),
        close: async () => void calls.push('close'),
      };
    },
  } as unknown as Capability;

  before(async () => {
    store = await freshStore('sqlite');
    dir = tempDir('kiln-modules-');
    const config = loadConfig({ host: '127.0.0.1', port: 0, storeUri: store.uri, artifactsUri: pathToFileURL(join(dir, 'artifacts')).href, logLevel: 'silent', home: dir }, {});
    server = await createServer(config, { modules: [...MODULES, notes] });
    await server.listen();
  });
  after(async () => {
    await server?.close();
    await store?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the capability with the services it depends on, routes it, starts it', async () => {
    assert.deepEqual(calls, ['create (deps: registry, tracking)', 'start (store sqlite)']);
    const r = await call(server.url!, 'GET', '/api/v1/notes/0');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { note: 'about Default' });
    const service = (server.services as unknown as Record<string, { hello(id: string): Promise<string> }>).notes!;
    assert.equal(await service.hello('0'), 'hello Default');
    // Errors of its routes go through the platform's error handler like every other capability's.
    const missing = await call(server.url!, 'GET', '/api/v1/notes/12345');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
  });

  it('contributes its CLI commands through the same module', async () => {
    const program = new Command();
    for (const m of [...MODULES, notes]) {
      if (!m.cli) continue;
      const before = program.commands.length;
      (await m.cli.load())(program);
      // What a module declares is what the CLI reads to load only the capability a command belongs to.
      assert.deepEqual(program.commands.slice(before).map((c) => c.name()), m.cli.commands, m.name);
    }
    assert.deepEqual(
      program.commands.map((c) => c.name()),
      ['experiments', 'runs', 'data', 'models', 'lineage', 'login', 'logout', 'whoami', 'tokens', 'users', 'admin', 'audit', 'projects', 'groups', 'deployments', 'serve', 'monitors', 'notes'],
    );
  });

  it('closes it on shutdown, before the platform', async () => {
    await server.close();
    assert.equal(calls.at(-1), 'close');
  });

  it('refuses a module list whose dependencies do not hold', async () => {
    const config = loadConfig({ host: '127.0.0.1', port: 0, storeUri: store.uri, artifactsUri: pathToFileURL(join(dir, 'artifacts')).href, logLevel: 'silent', home: dir }, {});
    const withoutRegistry = MODULES.filter((m) => m.name !== 'registry');
    await assert.rejects(createServer(config, { modules: withoutRegistry }), /'lineage' depends on 'registry', which is not in the module list/);
  });
});
