import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * Credentials for a Kiln server that uses `--auth on`: an API token, or a user name and password (HTTP basic auth).
 * Resolved in this order: the client's options, `KILN_TOKEN`, `KILN_USERNAME` + `KILN_PASSWORD`,
 * `MLFLOW_TRACKING_TOKEN`, `MLFLOW_TRACKING_USERNAME` + `MLFLOW_TRACKING_PASSWORD`, then the token `kiln login`
 * stored for that server.
 */
export interface Credentials {
  readonly token?: string;
  readonly username?: string;
  readonly password?: string;
}

/** Where `kiln login` keeps tokens: `$KILN_CREDENTIALS`, else `$XDG_CONFIG_HOME/kiln/credentials.json` (default ~/.config). */
export function credentialsPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KILN_CREDENTIALS) return env.KILN_CREDENTIALS;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'kiln', 'credentials.json');
}

interface StoredFile {
  readonly servers: Record<string, { readonly token: string; readonly user?: string; readonly token_id?: string }>;
}

const serverKey = (url: string) => url.replace(/\/+$/, '').toLowerCase();

function readStored(path: string): StoredFile {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (parsed && typeof parsed === 'object' && 'servers' in parsed && typeof parsed.servers === 'object' && parsed.servers !== null) return parsed as StoredFile;
  } catch {
    // No file yet, or not ours: nothing stored.
  }
  return { servers: {} };
}

/** The token `kiln login` stored for a server, if any. */
export function storedToken(serverUrl: string, env: NodeJS.ProcessEnv = process.env): { token: string; user?: string; tokenId?: string } | undefined {
  const entry = readStored(credentialsPath(env)).servers[serverKey(serverUrl)];
  return entry && typeof entry.token === 'string' ? { token: entry.token, user: entry.user, tokenId: entry.token_id } : undefined;
}

/** Stores (or, with undefined, removes) the token for a server; the file is readable by its owner only (0600). */
export function storeToken(serverUrl: string, entry: { token: string; user?: string; tokenId?: string } | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const path = credentialsPath(env);
  const file = readStored(path);
  const servers = { ...file.servers };
  if (entry) servers[serverKey(serverUrl)] = { token: entry.token, user: entry.user, token_id: entry.tokenId };
  else delete servers[serverKey(serverUrl)];
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ servers }, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
  return path;
}

/** The Authorization header for the first credentials found (see Credentials), or undefined. */
export function authorizationHeader(serverUrl: string, given: Credentials = {}, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`, 'utf8').toString('base64')}`;
  if (given.token) return `Bearer ${given.token}`;
  if (given.username !== undefined && given.password !== undefined) return basic(given.username, given.password);
  if (env.KILN_TOKEN) return `Bearer ${env.KILN_TOKEN}`;
  if (env.KILN_USERNAME && env.KILN_PASSWORD !== undefined) return basic(env.KILN_USERNAME, env.KILN_PASSWORD);
  if (env.MLFLOW_TRACKING_TOKEN) return `Bearer ${env.MLFLOW_TRACKING_TOKEN}`;
  if (env.MLFLOW_TRACKING_USERNAME && env.MLFLOW_TRACKING_PASSWORD !== undefined) return basic(env.MLFLOW_TRACKING_USERNAME, env.MLFLOW_TRACKING_PASSWORD);
  const stored = storedToken(serverUrl, env);
  return stored ? `Bearer ${stored.token}` : undefined;
}
