import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The metadata backends the behavioural suites run against, narrowed by KILN_TEST_BACKENDS
 * (default "sqlite,postgres"). A backend that is asked for but unreachable fails the suite: it is never skipped silently.
 * scripts/run-tests.mjs settles PostgreSQL before the suites start (services.ts): the server at KILN_TEST_PG_URI, else
 * an embedded one whose URI it passes down in KILN_TEST_PG_URI, else it narrows KILN_TEST_BACKENDS and says so.
 */
export const STORE_BACKENDS = (process.env.KILN_TEST_BACKENDS ?? 'sqlite,postgres').split(',').map((s) => s.trim()).filter(Boolean) as ('sqlite' | 'postgres')[];
export const ARTIFACT_BACKENDS = (process.env.KILN_TEST_ARTIFACTS ?? 'local,s3').split(',').map((s) => s.trim()).filter(Boolean) as ('local' | 's3')[];
export const PG_ADMIN_URI = process.env.KILN_TEST_PG_URI ?? 'postgresql://postgres@127.0.0.1:5432/test';

export interface TestStore {
  readonly uri: string;
  drop(): Promise<void>;
}

export function tempDir(prefix = 'kiln-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A fresh, empty metadata store of the given kind. */
export async function freshStore(kind: 'sqlite' | 'postgres'): Promise<TestStore> {
  if (kind === 'sqlite') {
    const dir = tempDir();
    return {
      uri: 'sqlite://' + pathToFileURL(join(dir, 'kiln.db')).pathname,
      async drop() {
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const pg = (await import('pg')).default;
  const name = `kiln_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URI });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(PG_ADMIN_URI);
  u.pathname = `/${name}`;
  return {
    uri: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN_URI });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
