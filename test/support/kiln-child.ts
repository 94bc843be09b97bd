/**
 * A Kiln server in a process of its own, like `kiln server`, but with the event log's and the capabilities' options
 * set (only createServer takes them: tests shorten timeouts, leases and retry delays with them), for tests that
 * kill -9 the server.
 *
 *   node dist/test/support/kiln-child.js '{"storeUri":…,"artifactsUri":…,"home":…,"events":{…},"capabilities":{…}}'
 *
 * Prints `listening on <url>` on stdout once it serves. SIGTERM closes it cleanly and exits 0.
 */
import { loadConfig } from '../../src/platform/config.js';
import { createServer, type CreateServerOptions } from '../../src/server.js';

interface ChildOptions {
  readonly storeUri: string;
  readonly artifactsUri: string;
  readonly home: string;
  readonly logLevel?: string;
  readonly events?: CreateServerOptions['events'];
  readonly capabilities?: CreateServerOptions['capabilities'];
}

const opts = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const config = loadConfig({ host: '127.0.0.1', port: 0, storeUri: opts.storeUri, artifactsUri: opts.artifactsUri, home: opts.home, logLevel: opts.logLevel ?? 'error' }, {});
const server = await createServer(config, { events: opts.events, capabilities: opts.capabilities });
const url = await server.listen();
process.stdout.write(`listening on ${url}\n`);
process.on('SIGTERM', () => {
  void server.close().then(() => process.exit(0));
});
