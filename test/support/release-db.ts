import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sqliteFileFromUri } from '../../src/platform/db/index.js';
import { freshStore, type TestStore } from './backends.js';
import { DB_FIXTURES } from './schema.js';

/**
 * A writable copy of a database made by a released server (test/fixtures/db/release-<version>.*; see the
 * README there): the SQLite file copied to a temporary directory, or the pg_dump restored into a new database.
 */
export async function restoreRelease(version: string, kind: 'sqlite' | 'postgres'): Promise<TestStore> {
  const store = await freshStore(kind);
  try {
    if (kind === 'sqlite') {
      copyFileSync(join(DB_FIXTURES, `release-${version}.sqlite`), sqliteFileFromUri(store.uri));
    } else {
      await restoreDump(store.uri, readFileSync(join(DB_FIXTURES, `release-${version}.postgres.sql`), 'utf8'));
    }
  } catch (e) {
    await store.drop();
    throw e;
  }
  return store;
}

/**
 * Runs a plain-text pg_dump through the `pg` client (psql may be missing where tests run). Recent pg_dump
 * versions wrap the dump in psql's \restrict / \unrestrict, which only guard psql itself; any other psql
 * command means the dump is not plain SQL, and is refused.
 */
async function restoreDump(uri: string, dump: string): Promise<void> {
  const lines = dump.split('\n');
  const meta = lines.filter((l) => l.startsWith('\\'));
  const unexpected = meta.filter((l) => !/^\\(un)?restrict\s/.test(l));
  if (unexpected.length > 0) throw new Error(`the dump holds psql commands the pg client cannot run: ${unexpected.join('; ')}`);
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: uri });
  await client.connect();
  try {
    // One simple-protocol query runs every statement, in one implicit transaction: all or nothing.
    await client.query(lines.filter((l) => !l.startsWith('\\')).join('\n'));
  } finally {
    await client.end();
  }
}
