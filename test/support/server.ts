import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig, type ConfigOverrides } from '../../src/platform/config.js';
import { createServer, type CreateServerOptions, type KilnServer } from '../../src/server.js';
import { freshStore, tempDir, type TestStore } from './backends.js';
import { startS3Server } from './s3.js';

export interface TestServer {
  readonly url: string;
  readonly server: KilnServer;
  readonly storeUri: string;
  readonly artifactsUri: string;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  readonly store: 'sqlite' | 'postgres';
  readonly artifacts?: 'local' | 's3';
  readonly bodyLimit?: number;
  /** Serve this existing store (of kind `store`) instead of a fresh one; `stop()` leaves it to its owner. */
  readonly storeUri?: string;
  /** Destinations webhooks may reach although internal (KILN_WEBHOOK_ALLOWED_HOSTS), e.g. '127.0.0.1' for a test receiver. */
  readonly webhookAllowedHosts?: string;
  /** Options of the capabilities (e.g. `{ registry: { inspectionWaitMs: 0 } }`). */
  readonly capabilities?: CreateServerOptions['capabilities'];
  /** `on`: authentication required (default none). */
  readonly auth?: 'on' | 'none';
  /** Further settings (e.g. the OIDC ones). */
  readonly config?: ConfigOverrides;
}

/** scrypt's cost in tests: N = 2^10 instead of OWASP's 2^17 (hashing in ~2 ms, not ~0.5 s). */
export const TEST_SCRYPT = { ln: 10, r: 8, p: 1 } as const;

/** A real Kiln server on a random loopback port over a fresh store (or the given one). */
export async function startTestServer(opts: TestServerOptions): Promise<TestServer> {
  const store: TestStore = opts.storeUri !== undefined ? { uri: opts.storeUri, drop: async () => undefined } : await freshStore(opts.store);
  const dir = tempDir('kiln-art-');
  let s3: Awaited<ReturnType<typeof startS3Server>> | undefined;
  let artifactsUri = pathToFileURL(join(dir, 'artifacts')).href;
  if (opts.artifacts === 's3') {
    s3 = await startS3Server();
    artifactsUri = `s3://${s3.bucket}/kiln`;
    process.env.KILN_S3_ENDPOINT = s3.endpoint;
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    process.env.AWS_REGION = 'us-east-1';
  }
  const config = loadConfig(
    { host: '127.0.0.1', port: 0, storeUri: store.uri, artifactsUri, logLevel: process.env.KILN_TEST_LOG_LEVEL ?? 'silent', bodyLimit: opts.bodyLimit, home: dir, webhookAllowedHosts: opts.webhookAllowedHosts, auth: opts.auth, ...opts.config },
    {},
  );
  const capabilities = { ...opts.capabilities, governance: { scrypt: TEST_SCRYPT, env: {}, ...opts.capabilities?.governance } };
  const server = await createServer(config, { capabilities });
  const url = await server.listen();
  return {
    url,
    server,
    storeUri: store.uri,
    artifactsUri,
    async stop() {
      await server.close();
      await s3?.stop();
      await store.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** JSON request helper returning status and parsed body. */
/** The Authorization header of HTTP basic auth (what MLflow clients send for MLFLOW_TRACKING_USERNAME/PASSWORD). */
export const basicAuth = (user: string, password: string): { authorization: string } => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

export async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const send = () =>
    fetch(base + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  let res: Response;
  try {
    res = await send();
  } catch (e) {
    // A kept-alive socket the server closed (its keep-alive timeout) just as the request went out: the server never
    // read it, so it is sent again once, on a new connection.
    const code = ((e as { cause?: { code?: string } }).cause ?? {}).code;
    if (!(e instanceof TypeError) || !['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE'].includes(String(code))) throw e;
    res = await send();
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}
