import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KilnError } from './errors.js';

/**
 * Server configuration. Precedence: CLI flag > environment variable > config file > default.
 * The config file is JSON: `$KILN_CONFIG`, else `<home>/config.json` when it exists.
 */
export interface KilnConfig {
  readonly host: string;
  readonly port: number;
  readonly home: string;
  readonly storeUri: string;
  readonly artifactsUri: string;
  readonly logLevel: string;
  /** Largest request body in bytes for JSON APIs (MLflow's limit is 1,000,000 for log-batch). */
  readonly bodyLimit: number;
  /** Largest artifact upload in bytes. */
  readonly artifactUploadLimit: number;
  readonly dbPoolSize: number;
  /** SQLite: how long a write waits for another process's write lock before answering 503. */
  readonly dbBusyTimeoutMs: number;
  /** PostgreSQL: statement_timeout of every connection (0: none); a query cancelled by it answers 503. */
  readonly dbStatementTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  /** Days the event log keeps events (0: forever). */
  readonly eventRetentionDays: number;
  /** How often the audit log's head is written to the server's log (0: never; /metrics exports it at every scrape). */
  readonly auditHeadIntervalMs: number;
  /** Comma-separated hosts, IP addresses and CIDR ranges webhooks may reach although they are internal (default none). */
  readonly webhookAllowedHosts: string;
  /** A connection must have sent its request headers within this many ms. */
  readonly httpHeadersTimeoutMs: number;
  /** A whole request (headers and body) must have arrived within this many ms (0: no limit). */
  readonly httpRequestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this many ms. */
  readonly httpKeepAliveTimeoutMs: number;
  /** A connection with no traffic either way for this many ms is closed (0: never). */
  readonly httpIdleTimeoutMs: number;
  /** Comma-separated Host names the server answers to besides loopback ones ('*': any). */
  readonly allowedHosts: string;
  /** `on`: every route but the public ones needs an identity. `none`: everyone is trusted (loopback addresses only). */
  readonly auth: 'on' | 'none';
  /** Allows `--auth none` on an address that is not loopback. */
  readonly insecureNoAuth: boolean;
  /** Whether /metrics answers without an identity (otherwise: admins only). */
  readonly metricsPublic: boolean;
  /** How long a web UI session lasts at most, in ms (absolute timeout). */
  readonly sessionTtlMs: number;
  /** A web UI session unused for this many ms ends (idle timeout). */
  readonly sessionIdleTimeoutMs: number;
  /** The file holding the server key that encrypts stored secrets ('' : <home>/secret.key). */
  readonly secretKeyFile: string;
  /** OIDC single sign-on: the provider's issuer URL (its discovery document is `<issuer>/.well-known/openid-configuration`); '' turns SSO off. */
  readonly oidcIssuer: string;
  readonly oidcClientId: string;
  /** '' for a public client (PKCE only). */
  readonly oidcClientSecret: string;
  /** Where the provider sends the browser back; '' derives `<server>/api/v1/auth/sso/callback` from the request. */
  readonly oidcRedirectUrl: string;
  /** Space-separated scopes asked for at sign-in. */
  readonly oidcScopes: string;
  /** The claim that names the Kiln user (falling back to `email`, then `sub`). */
  readonly oidcUsernameClaim: string;
  /** The claim (a dotted path, e.g. `realm_access.roles`) that lists the user's groups. */
  readonly oidcGroupsClaim: string;
  /** `group=project:role,group2=admin,…`: what the provider's groups give in Kiln. */
  readonly oidcRoleMap: string;
  /** The audience bearer JWTs must be issued for; '' means the client id. */
  readonly oidcAudience: string;
  /** The port of the Open Inference Protocol's gRPC service (0: off). */
  readonly grpcPort: number;
  /** Largest inference request body in bytes (OIP, MLflow scoring); larger ones answer 413. */
  readonly inferBodyLimit: number;
  /** Bytes of loaded models a serving process keeps; past it, the least recently used idle model is unloaded. */
  readonly servingMemoryBudget: number;
  /** Where a serving process keeps copies of model files ('' : <home>/serving-cache). */
  readonly servingCacheDir: string;
  /** Days the payload log keeps records (0: forever). */
  readonly payloadRetentionDays: number;
  /** Records the payload log keeps per deployment at most, newest first (0: no limit). */
  readonly payloadMaxRows: number;
  /** Payload records waiting for their write, at most; past it, records are dropped and counted. */
  readonly payloadBufferSize: number;
}

export interface ConfigSetting {
  readonly key: keyof KilnConfig;
  readonly env: string;
  readonly flag?: string;
  readonly description: string;
  readonly parse: (raw: string) => string | number | boolean;
}

const int = (name: string) => (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new KilnError('INVALID_PARAMETER_VALUE', `${name} must be a non-negative integer, got '${raw}'`);
  return n;
};
const str = (raw: string) => raw;
const oneOf =
  (name: string, ...values: string[]) =>
  (raw: string) => {
    if (!values.includes(raw)) throw new KilnError('INVALID_PARAMETER_VALUE', `${name} must be ${values.join(' or ')}, got '${raw}'`);
    return raw;
  };
const bool = (name: string) => (raw: string) => {
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new KilnError('INVALID_PARAMETER_VALUE', `${name} must be true or false, got '${raw}'`);
};

/** The one list of settings; the CLI, docs and env parsing all read it. */
export const SETTINGS: readonly ConfigSetting[] = [
  { key: 'host', env: 'KILN_HOST', flag: '--host', description: 'Interface to bind (default 127.0.0.1).', parse: str },
  { key: 'port', env: 'KILN_PORT', flag: '--port', description: 'TCP port (default 5000).', parse: int('port') },
  { key: 'home', env: 'KILN_HOME', description: 'Data folder for the embedded defaults (default ./.kiln).', parse: str },
  {
    key: 'storeUri',
    env: 'KILN_STORE_URI',
    flag: '--store',
    description: 'Metadata store: sqlite:///abs/path/kiln.db (default <home>/kiln.db) or postgresql://user@host:5432/db.',
    parse: str,
  },
  {
    key: 'artifactsUri',
    env: 'KILN_ARTIFACTS_URI',
    flag: '--artifacts',
    description: 'Artifact store: file:///abs/path (default <home>/artifacts) or s3://bucket/prefix.',
    parse: str,
  },
  { key: 'logLevel', env: 'KILN_LOG_LEVEL', flag: '--log-level', description: 'fatal|error|warn|info|debug|trace|silent (default info).', parse: str },
  { key: 'bodyLimit', env: 'KILN_BODY_LIMIT', description: 'Largest JSON request body in bytes (default 1048576).', parse: int('body limit') },
  {
    key: 'artifactUploadLimit',
    env: 'KILN_ARTIFACT_UPLOAD_LIMIT',
    description: 'Largest single artifact upload in bytes (default 5368709120, 5 GiB).',
    parse: int('artifact upload limit'),
  },
  { key: 'dbPoolSize', env: 'KILN_DB_POOL_SIZE', description: 'PostgreSQL connection pool size (default 10).', parse: int('pool size') },
  {
    key: 'dbBusyTimeoutMs',
    env: 'KILN_DB_BUSY_TIMEOUT_MS',
    description: 'SQLite: how long a write waits for another process holding the write lock before it is answered 503 with Retry-After (default 10000).',
    parse: int('busy timeout'),
  },
  {
    key: 'dbStatementTimeoutMs',
    env: 'KILN_DB_STATEMENT_TIMEOUT_MS',
    description: 'PostgreSQL: longest a single query may run before it is cancelled and answered 503; 0 for no limit (default 30000).',
    parse: int('statement timeout'),
  },
  {
    key: 'shutdownTimeoutMs',
    env: 'KILN_SHUTDOWN_TIMEOUT_MS',
    description: 'How long graceful shutdown waits for in-flight requests (default 10000).',
    parse: int('shutdown timeout'),
  },
  {
    key: 'eventRetentionDays',
    env: 'KILN_EVENT_RETENTION_DAYS',
    description: 'Days the event log keeps an event once every active consumer has handled it; 0 keeps them forever (default 30).',
    parse: int('event retention'),
  },
  {
    key: 'auditHeadIntervalMs',
    env: 'KILN_AUDIT_HEAD_INTERVAL_MS',
    description: "How often the audit log's head (seq and hash of the last entry) is written to the server's log, so a cut or rewritten tail shows against it; 0 never (default 60000). /metrics exports it at every scrape.",
    parse: int('audit head interval'),
  },
  { key: 'grpcPort', env: 'KILN_GRPC_PORT', flag: '--grpc-port', description: "Port of the Open Inference Protocol's gRPC service (inference.GRPCInferenceService); 0 keeps it off (default 0).", parse: int('gRPC port') },
  { key: 'inferBodyLimit', env: 'KILN_INFER_BODY_LIMIT', description: 'Largest inference request body in bytes, OIP and MLflow scoring (default 67108864, 64 MiB); larger ones answer 413.', parse: int('inference body limit') },
  {
    key: 'servingMemoryBudget',
    env: 'KILN_SERVING_MEMORY_BUDGET',
    description: 'Bytes of loaded models a serving process keeps (estimated as twice the model files); past it the least recently used idle model is unloaded (default 4294967296, 4 GiB).',
    parse: int('serving memory budget'),
  },
  { key: 'servingCacheDir', env: 'KILN_SERVING_CACHE_DIR', description: "Where a serving process keeps copies of model files, by digest (default <home>/serving-cache).", parse: str },
  { key: 'payloadRetentionDays', env: 'KILN_PAYLOAD_RETENTION_DAYS', description: 'Days the payload log keeps records; 0 keeps them (default 30).', parse: int('payload retention') },
  { key: 'payloadMaxRows', env: 'KILN_PAYLOAD_MAX_ROWS', description: 'Payload records kept per deployment at most, newest first; 0 no limit (default 1000000).', parse: int('payload row limit') },
  { key: 'payloadBufferSize', env: 'KILN_PAYLOAD_BUFFER_SIZE', description: 'Payload records waiting to be written, at most; past it records are dropped and counted in kiln_serving_payload_dropped_total (default 10000).', parse: int('payload buffer size') },
  {
    key: 'webhookAllowedHosts',
    env: 'KILN_WEBHOOK_ALLOWED_HOSTS',
    description: 'Comma-separated host names, IP addresses and CIDR ranges that webhooks may reach although they are loopback, link-local or private (default none).',
    parse: str,
  },
  {
    key: 'allowedHosts',
    env: 'KILN_ALLOWED_HOSTS',
    flag: '--allowed-hosts',
    description:
      'Comma-separated host names the server answers to besides localhost, 127.0.0.1 and [::1]; on a loopback address other Host headers get 403 (DNS rebinding protection). `*` allows any (default none).',
    parse: str,
  },
  {
    key: 'auth',
    env: 'KILN_AUTH',
    flag: '--auth',
    description:
      '`on`: every route except /health, /version, /metrics (see KILN_METRICS_PUBLIC), the UI files and the login endpoints needs an identity (password, API token, session). `none` (default): everyone who reaches the server is trusted; only allowed on a loopback address.',
    parse: oneOf('auth', 'on', 'none'),
  },
  {
    key: 'insecureNoAuth',
    env: 'KILN_INSECURE_NO_AUTH',
    flag: '--insecure-no-auth',
    description: 'Allows `--auth none` on an address that is not loopback: anyone who reaches the server can read, change and delete everything (default false).',
    parse: bool('insecure-no-auth'),
  },
  {
    key: 'metricsPublic',
    env: 'KILN_METRICS_PUBLIC',
    description: 'Whether /metrics answers without an identity when auth is on; false: server admins only (default true).',
    parse: bool('metrics-public'),
  },
  {
    key: 'sessionTtlMs',
    env: 'KILN_SESSION_TTL_MS',
    description: 'How long a web UI session (sign-in with the login page) lasts at most, however active: then the user signs in again (default 43200000, 12 hours).',
    parse: int('session TTL'),
  },
  {
    key: 'sessionIdleTimeoutMs',
    env: 'KILN_SESSION_IDLE_TIMEOUT_MS',
    description: 'A web UI session unused for this long ends; its last use is recorded at most once a minute, so it may end up to a minute late (default 3600000, 1 hour).',
    parse: int('session idle timeout'),
  },
  {
    key: 'secretKeyFile',
    env: 'KILN_SECRET_KEY_FILE',
    description:
      'The server key (32 random bytes, base64) that encrypts stored secrets such as webhook signing secrets; created (0600) on first start when missing. Every replica needs the same file (default <home>/secret.key).',
    parse: str,
  },
  {
    key: 'oidcIssuer',
    env: 'KILN_OIDC_ISSUER',
    description: 'OIDC single sign-on: the identity provider’s issuer URL, whose discovery document is read at the first sign-in; unset: no SSO (default none).',
    parse: str,
  },
  { key: 'oidcClientId', env: 'KILN_OIDC_CLIENT_ID', description: 'OIDC: the client id Kiln is registered with at the provider.', parse: str },
  { key: 'oidcClientSecret', env: 'KILN_OIDC_CLIENT_SECRET', description: 'OIDC: the client secret; unset for a public client (PKCE only).', parse: str },
  {
    key: 'oidcRedirectUrl',
    env: 'KILN_OIDC_REDIRECT_URL',
    description: 'OIDC: the redirect URL registered at the provider (default <server>/api/v1/auth/sso/callback, from the request’s host).',
    parse: str,
  },
  { key: 'oidcScopes', env: 'KILN_OIDC_SCOPES', description: 'OIDC: scopes asked for at sign-in (default "openid profile email groups").', parse: str },
  {
    key: 'oidcUsernameClaim',
    env: 'KILN_OIDC_USERNAME_CLAIM',
    description: 'OIDC: the claim that names the Kiln user; falls back to email, then sub (default preferred_username).',
    parse: str,
  },
  {
    key: 'oidcGroupsClaim',
    env: 'KILN_OIDC_GROUPS_CLAIM',
    description: 'OIDC: the claim listing the user’s groups, a dotted path for nested ones such as realm_access.roles (default groups).',
    parse: str,
  },
  {
    key: 'oidcRoleMap',
    env: 'KILN_OIDC_ROLE_MAP',
    description: 'OIDC: group=project:role or group=admin, comma-separated: a provider group gives a role in a project, or server admin (default none).',
    parse: (raw: string) => {
      parseRoleMap(raw);
      return raw;
    },
  },
  { key: 'oidcAudience', env: 'KILN_OIDC_AUDIENCE', description: 'OIDC: the audience (aud) bearer JWTs from the provider must carry (default the client id).', parse: str },
  {
    key: 'httpHeadersTimeoutMs',
    env: 'KILN_HTTP_HEADERS_TIMEOUT_MS',
    description: 'A connection that has not sent complete request headers within this time is answered 408 and closed: idle and slowloris connections (default 10000).',
    parse: int('headers timeout'),
  },
  {
    key: 'httpRequestTimeoutMs',
    env: 'KILN_HTTP_REQUEST_TIMEOUT_MS',
    description: 'A whole request, headers and body, must arrive within this time (large artifact uploads too); 0 for no limit (default 3600000, 1 hour).',
    parse: int('request timeout'),
  },
  {
    key: 'httpKeepAliveTimeoutMs',
    env: 'KILN_HTTP_KEEP_ALIVE_TIMEOUT_MS',
    description: 'An idle keep-alive connection is closed after this time (default 5000).',
    parse: int('keep-alive timeout'),
  },
  {
    key: 'httpIdleTimeoutMs',
    env: 'KILN_HTTP_IDLE_TIMEOUT_MS',
    description: 'A connection with no traffic in either direction for this time is closed, also mid-request; 0 never (default 60000).',
    parse: int('idle timeout'),
  },
];

export const S3_ENV_VARIABLES = [
  ['KILN_S3_ENDPOINT', 'S3-compatible endpoint URL (e.g. http://127.0.0.1:9000); path-style addressing is used when set.'],
  ['AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN', 'Credentials (or any other source of the standard AWS chain).'],
  ['AWS_REGION / AWS_DEFAULT_REGION', 'Region (default us-east-1).'],
] as const;

export type ConfigOverrides = Partial<Record<keyof KilnConfig, string | number | boolean | undefined>>;

export function loadConfig(overrides: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): KilnConfig {
  const home = resolve(cwd, String(overrides.home ?? env.KILN_HOME ?? '.kiln'));
  const file = readConfigFile(env.KILN_CONFIG ? resolve(cwd, env.KILN_CONFIG) : resolve(home, 'config.json'), !!env.KILN_CONFIG);
  const values: Record<string, string | number | boolean> = {
    host: '127.0.0.1',
    port: 5000,
    home,
    storeUri: 'sqlite://' + pathToFileURL(resolve(home, 'kiln.db')).pathname,
    artifactsUri: pathToFileURL(resolve(home, 'artifacts')).href,
    logLevel: 'info',
    bodyLimit: 1024 * 1024,
    artifactUploadLimit: 5 * 1024 * 1024 * 1024,
    dbPoolSize: 10,
    dbBusyTimeoutMs: 10_000,
    dbStatementTimeoutMs: 30_000,
    shutdownTimeoutMs: 10_000,
    eventRetentionDays: 30,
    auditHeadIntervalMs: 60_000,
    webhookAllowedHosts: '',
    allowedHosts: '',
    httpHeadersTimeoutMs: 10_000,
    httpRequestTimeoutMs: 3_600_000,
    httpKeepAliveTimeoutMs: 5_000,
    httpIdleTimeoutMs: 60_000,
    auth: 'none',
    insecureNoAuth: false,
    metricsPublic: true,
    sessionTtlMs: 12 * 3_600_000,
    sessionIdleTimeoutMs: 3_600_000,
    secretKeyFile: '',
    oidcIssuer: '',
    oidcClientId: '',
    oidcClientSecret: '',
    oidcRedirectUrl: '',
    oidcScopes: 'openid profile email groups',
    oidcUsernameClaim: 'preferred_username',
    oidcGroupsClaim: 'groups',
    oidcRoleMap: '',
    oidcAudience: '',
    grpcPort: 0,
    inferBodyLimit: 64 * 1024 * 1024,
    servingMemoryBudget: 4 * 1024 * 1024 * 1024,
    servingCacheDir: '',
    payloadRetentionDays: 30,
    payloadMaxRows: 1_000_000,
    payloadBufferSize: 10_000,
  };
  for (const s of SETTINGS) {
    const fromFile = file[s.key];
    if (fromFile !== undefined) values[s.key] = s.parse(String(fromFile));
    const fromEnv = env[s.env];
    if (fromEnv !== undefined && fromEnv !== '') values[s.key] = s.parse(fromEnv);
    const fromFlag = overrides[s.key];
    if (fromFlag !== undefined) values[s.key] = s.parse(String(fromFlag));
  }
  if (values.port === undefined || Number(values.port) > 65535) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `port must be between 0 and 65535, got ${values.port}`);
  }
  return Object.freeze(values as unknown as KilnConfig);
}

/** One entry of KILN_OIDC_ROLE_MAP: a provider group and what it gives. */
export type RoleMapEntry = { readonly group: string; readonly admin: true } | { readonly group: string; readonly admin: false; readonly project: string; readonly role: string };

const MAP_ROLES = ['viewer', 'editor', 'maintainer', 'owner'];

/** Parses `group=project:role,group2=admin,…` (spaces around the parts are ignored); INVALID_PARAMETER_VALUE when malformed. */
export function parseRoleMap(raw: string): RoleMapEntry[] {
  const out: RoleMapEntry[] = [];
  for (const part of raw.split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.lastIndexOf('=');
    const group = eq < 0 ? '' : item.slice(0, eq).trim();
    const target = eq < 0 ? '' : item.slice(eq + 1).trim();
    const bad = (why: string) => new KilnError('INVALID_PARAMETER_VALUE', `KILN_OIDC_ROLE_MAP: '${item}' ${why}; expected group=project:role or group=admin.`);
    if (group === '' || target === '') throw bad('is not group=target');
    if (target === 'admin') {
      out.push({ group, admin: true });
      continue;
    }
    const colon = target.lastIndexOf(':');
    const project = colon < 0 ? '' : target.slice(0, colon).trim();
    const role = colon < 0 ? '' : target.slice(colon + 1).trim();
    if (project === '' || !MAP_ROLES.includes(role)) throw bad(`names no project and role (one of ${MAP_ROLES.join(', ')})`);
    out.push({ group, admin: false, project, role });
  }
  return out;
}

function readConfigFile(path: string, required: boolean): Record<string, unknown> {
  if (!existsSync(path)) {
    if (required) throw new KilnError('INVALID_PARAMETER_VALUE', `Config file ${path} does not exist`);
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (e) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `Config file ${path} is not valid: ${(e as Error).message}`);
  }
}
