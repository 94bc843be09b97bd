import type { Command } from 'commander';

// The server, the database layer (Fastify, Kysely, drivers, metrics) and the configuration load only when a command
// below runs: every other command, and `--help`, starts without them.

interface ServerFlags {
  host?: string;
  port?: string;
  store?: string;
  artifacts?: string;
  logLevel?: string;
  allowedHosts?: string;
  auth?: string;
  insecureNoAuth?: boolean;
  grpcPort?: string;
}

/** Starts the server (`all`) or a serving-only replica (`serving`, `kiln serve`) and runs it until SIGINT or SIGTERM. */
export async function runServer(flags: ServerFlags, role: 'all' | 'serving'): Promise<void> {
  const { loadConfig } = await import('../platform/config.js');
  const config = loadConfig({
    host: flags.host,
    port: flags.port,
    storeUri: flags.store,
    artifactsUri: flags.artifacts,
    logLevel: flags.logLevel,
    allowedHosts: flags.allowedHosts,
    auth: flags.auth,
    insecureNoAuth: flags.insecureNoAuth,
    grpcPort: flags.grpcPort,
  });
  const { createServer } = await import('../server.js');
  const server = await createServer(config, { role });
  const url = await server.listen();
  process.stderr.write(role === 'all' ? `Kiln server listening on ${url}\n` : `Kiln serving replica listening on ${url}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      server.logger.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

export function registerServerCommands(program: Command): void {
  program
    .command('server')
    .description('Start the Kiln server (tracking API, MLflow-compatible API, artifact proxy)')
    .option('--host <host>', 'interface to bind [env KILN_HOST] (default 127.0.0.1)')
    .option('--port <port>', 'TCP port [env KILN_PORT] (default 5000)')
    .option('--store <uri>', 'metadata store: sqlite:///abs/path/kiln.db or postgresql://user@host:5432/db [env KILN_STORE_URI] (default ./.kiln/kiln.db)')
    .option('--artifacts <uri>', 'artifact store: file:///abs/path or s3://bucket/prefix [env KILN_ARTIFACTS_URI] (default ./.kiln/artifacts)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent [env KILN_LOG_LEVEL] (default info)')
    .option('--allowed-hosts <names>', 'comma-separated Host names to answer besides localhost, 127.0.0.1, [::1]; others get 403 on a loopback address [env KILN_ALLOWED_HOSTS]')
    .option('--auth <mode>', 'on: every request needs an identity (password, API token); none: trusted callers, loopback addresses only [env KILN_AUTH] (default none)')
    .option('--insecure-no-auth', 'allow --auth none on an address that is not loopback [env KILN_INSECURE_NO_AUTH]')
    .addHelpText('after', '\nWith --auth on and no user yet, KILN_ADMIN_USER and KILN_ADMIN_PASSWORD create the first admin at start.\nS3: KILN_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION.\nSee docs/configuration.md for every setting.')
    .option('--grpc-port <port>', "port of the Open Inference Protocol's gRPC service [env KILN_GRPC_PORT] (default 0: off)")
    .action((flags: ServerFlags) => runServer(flags, 'all'));

  const db = program.command('db').description('Metadata database maintenance');
  db.command('upgrade')
    .description('Apply pending schema migrations (the server also does this at start)')
    .option('--store <uri>', 'metadata store URI [env KILN_STORE_URI]')
    .action(async (flags: { store?: string }) => {
      const { loadConfig } = await import('../platform/config.js');
      const config = loadConfig({ storeUri: flags.store });
      const [{ openStore, migrateToLatest }, { MIGRATIONS }] = await Promise.all([import('../platform/db/index.js'), import('../migrations.js')]);
      const store = await openStore(config.storeUri);
      try {
        const report = await migrateToLatest(store, MIGRATIONS);
        process.stdout.write(
          report.applied.length ? `Applied ${report.applied.join(', ')} to ${store.uri}\n` : `${store.uri} is up to date (${report.current.at(-1) ?? 'empty'})\n`,
        );
      } finally {
        await store.close();
      }
    });
}
